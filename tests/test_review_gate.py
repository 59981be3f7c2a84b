"""The review tells the approver what the gate will require (issue #14, items 4 and 7).

Each scenario is a real git repository in a temp dir: ``main`` holds the base KB, a branch
``mr`` holds the merge request, and ``kedb review --base main`` is read as the approver reads
it. Who must approve comes from :mod:`kedb.core.gate` and the base's ``content/roles.yml``.
CODEOWNERS is checked with a small matcher that follows each platform's documented rule (the
last matching line wins; in GitLab, within each section, with the owners of every matching
section required).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from kbtest import git, init_repo, kedb
from kedb.check.run import run
from kedb.git.basediff import compare
from kedb.git.review import make, to_json, to_markdown

KE1 = "known_errors/KE-0001-outlook-prompts.md"
WA1 = "known_errors/WA-0001-clear-cached-credentials.md"
PRB1 = "known_errors/PRB-0001-credential-prompts.md"
ROLES = "content/roles.yml"
BOB = "Bob Approver (@bapprover)"
PAT = "Pat Printer (@pprinter)"
DANA = "Dana Smith (@dsmith)"
CAROL = {"GIT_AUTHOR_NAME": "Carol Writer", "GIT_AUTHOR_EMAIL": "carol@example.com"}

PEOPLE = """\
  - handle: pat.printer
    name: Pat Printer
    email: pat@example.com
    username: pprinter
    roles: [approver]
  - handle: dana.smith
    name: Dana Smith
    email: dana@example.com
    username: dsmith
    roles: [incident-lead]
maintainers: [ann.owner]
"""
BILLING = "  - {id: billing, description: Money., handling: Finance checks replies., approver_role: primary-owner}\n"


def edit(root: Path, rel: str, old: str, new: str) -> None:
    p = root / rel
    text = p.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, env=CAROL)


def high(root: Path, rel: str = KE1) -> None:
    """Make the known error P1 (impact high, as the triage matrix has it)."""
    edit(root, rel, "impact: medium", "impact: high")
    edit(root, rel, "priority: P2", "priority: P1")


@pytest.fixture
def repo(base_kb: Path) -> Path:
    """The base KB with an approver for printing, an incident lead and a billing tag, on ``main``."""
    edit(base_kb, ROLES, "maintainers: [ann.owner]\n", PEOPLE)
    edit(base_kb, ROLES, "approvers: []", "approvers: [pat.printer]")
    (base_kb / "content/triage.yml").write_text((base_kb / "content/triage.yml").read_text(encoding="utf-8") + BILLING, encoding="utf-8")
    return init_repo(base_kb)


def branch(root: Path) -> None:
    git(root, "checkout", "-q", "-b", "mr")


def review(root: Path) -> tuple[str, dict]:
    md = kedb("--root", str(root), "review", "--base", "main")
    assert md.exit_code == 0, md.output
    js = kedb("--root", str(root), "review", "--base", "main", "--format", "json")
    assert js.exit_code == 0 and not md.stderr and not js.stderr, md.stderr + js.stderr
    return md.stdout, json.loads(js.stdout)


def record(data: dict, rid: str) -> dict:
    (found,) = [r for r in data["records"] if r["id"] == rid]
    return found


# ---------------------------------------------------------------- who approves: the base's people
def test_a_merge_request_that_appoints_an_approver_gets_the_base_approvers(repo: Path) -> None:
    high(repo)
    commit(repo, "KE-0001 is P1")
    branch(repo)
    people = "  - handle: mallory\n    name: Mallory Newcomer\n    username: mallory\n    roles: [approver]\nmaintainers: [mallory]\n"
    edit(repo, ROLES, "maintainers: [ann.owner]\n", people)
    edit(repo, ROLES, "approvers: [bob.approver]", "approvers: [mallory]")
    edit(repo, KE1, "A stale cached credential.", "Nothing to worry about.")
    commit(repo, "Appoint Mallory and rewrite the cause")
    md, data = review(repo)
    assert f"- **KE-0001** (m365-mail): one of {BOB}, who must not be an author of this change" in md
    assert "Mallory" not in md.split("### KE-0001")[0]  # named nowhere as an approver or maintainer
    assert "a maintainer: Ann Owner (@aowner)" in md
    assert "- `content/roles.yml` (M)" in md
    assert "This merge request changes content/roles.yml: its approvers and maintainers count only after it merges." in md
    ke = record(data, "KE-0001")
    assert ke["approval"] == {"needed": True, "services": ["m365-mail"], "approvers": {"m365-mail": [BOB]}}
    assert {"status": "M", "path": ROLES} in data["maintainer_files"]
    assert data["maintainers"] == ["Ann Owner (@aowner)"] and data["people_from"] == "base"


def test_a_brand_new_kb_names_people_from_its_head(base_kb: Path, tmp_path: Path) -> None:
    root = tmp_path / "new"
    root.mkdir()
    (root / "README.md").write_text("A KB to come.\n", encoding="utf-8")
    init_repo(root)
    branch(root)
    for part in ("content", "known_errors"):
        shutil.copytree(base_kb / part, root / part)
    high(root)
    commit(root, "The first records")
    md, data = review(root)
    assert data["people_from"] == "head" and record(data, "KE-0001")["approval"]["approvers"] == {"m365-mail": [BOB]}
    assert "People are named from content/roles.yml of this merge request (`main` has no content/ yet)." in md
    assert {"status": "A", "path": ROLES} in data["maintainer_files"]


def test_the_policy_is_the_target_branch_as_it_is_now(repo: Path) -> None:
    high(repo)
    commit(repo, "KE-0001 is P1")
    branch(repo)
    edit(repo, KE1, "A stale cached credential.", "A stale token.")
    commit(repo, "KE-0001: cause")
    git(repo, "checkout", "-q", "main")
    edit(repo, ROLES, "approvers: [bob.approver]", "approvers: [pat.printer]")  # after the branch point
    commit(repo, "Pat approves mail now")
    tip = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "mr")
    md, data = review(repo)
    assert f"- **KE-0001** (m365-mail): one of {PAT}, who must not be an author of this change" in md
    assert f"People are named from content/roles.yml of `main` at `{tip[:10]}` (the policy in force before this change)." in md
    assert not data["maintainer_files"]  # main's own change is not this merge request's


# ---------------------------------------------------------------- every other path: a maintainer
def test_every_path_outside_the_records_is_a_maintainer_change(repo: Path) -> None:
    (repo / "Makefile").write_text("test:\n\tpytest\n", encoding="utf-8")
    commit(repo, "Makefile")
    branch(repo)
    (repo / "Makefile").write_text("test:\n\ttrue\n", encoding="utf-8")
    files = {
        "hatch_build.py": "print('hi')\n",
        "hatch.toml": "",
        "setup.py": "",
        "pyproject.toml": "[project]\n",
        ".pre-commit-hooks.yaml": "[]\n",
        ".ci/run.sh": "true\n",
        "tests/test_x.py": "",
        "known_errors/README.md": "Not a record.\n",
        "anything-at-the-root.txt": "x\n",
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text, encoding="utf-8")
    edit(repo, KE1, "tags: [outlook]", "tags: [outlook, mfa]")
    commit(repo, "Build files and a tag")
    md, data = review(repo)
    listed = {f["path"] for f in data["maintainer_files"]}
    assert listed == {"Makefile", *files}
    assert "- `hatch_build.py` (A)" in md and "- `Makefile` (M)" in md and "- `known_errors/README.md` (A)" in md
    assert "- **Maintainer changes** (10 files, listed below): a maintainer: Ann Owner (@aowner)" in md
    assert KE1 not in listed and not record(data, "KE-0001")["approval"]["needed"]  # a P2 record: not gated


# ---------------------------------------------------------------- which record changes are gated
def test_a_workaround_of_a_p1_known_error_needs_the_service_approvers(repo: Path) -> None:
    high(repo)
    commit(repo, "KE-0001 is P1")
    branch(repo)
    edit(repo, WA1, "1. Close Outlook.", "1. Close Outlook and Teams.")
    commit(repo, "WA-0001: close Teams too")
    md, data = review(repo)
    assert f"- **WA-0001** (m365-mail): one of {BOB}, who must not be an author of this change" in md
    assert (
        "- **WA-0001**: steps of a published workaround changed: agents follow the new steps as soon as this merges; "
        f"is it re-verified? — the approvers of m365-mail must agree (one of {BOB})"
    ) in md
    wa = record(data, "WA-0001")
    assert wa["approval"]["needed"] and wa["high_impact"] and wa["risks"][0]["approvers"] == [BOB]


def test_the_same_step_change_on_a_p2_known_error_is_not_gated(repo: Path) -> None:
    branch(repo)
    edit(repo, WA1, "1. Close Outlook.", "1. Close Outlook and Teams.")
    commit(repo, "WA-0001: close Teams too")
    md, data = review(repo)
    assert "- Not gated" not in md  # nothing is gated, so the approvals list says so in one line
    assert "- None: no live high-impact record and no file outside the records changes." in md
    assert "the merge request's reviewer decides" in md
    assert record(data, "WA-0001")["approval"] == {"needed": False, "services": ["m365-mail"], "approvers": {"m365-mail": [BOB]}}


@pytest.mark.parametrize(
    ("setup", "change", "needed"),
    [
        # a high-impact problem is gated from investigating on, not as a candidate
        ((PRB1, "impact: medium", "impact: high"), (PRB1, "Twelve tickets", "Thirteen tickets"), True),
        ((PRB1, "status: investigating", "status: candidate"), (PRB1, "Twelve tickets", "Thirteen tickets"), False),
        # a retired high-impact record stays gated
        ((KE1, "status: published", "status: retired\nretired_reason: Fixed by the tenant move."), (KE1, "None yet.", "Moved."), True),
        # a draft is not gated, whatever its priority
        ((KE1, "status: published", "status: draft"), (KE1, "None yet.", "Soon."), False),
    ],
    ids=["problem-investigating", "problem-candidate", "retired", "draft"],
)
def test_the_gate_rules_through_the_review(repo: Path, setup: tuple[str, str, str], change: tuple[str, str, str], needed: bool) -> None:
    high(repo)
    edit(repo, *setup)
    commit(repo, "base")
    branch(repo)
    edit(repo, *change)
    commit(repo, "change")
    _, data = review(repo)
    rid = re.match(r"(?:KE|WA|PRB)-\d+", Path(change[0]).name).group(0)  # type: ignore[union-attr]
    assert record(data, rid)["approval"]["needed"] is needed


def test_deleting_a_gated_record_is_gated(repo: Path) -> None:
    high(repo)
    commit(repo, "KE-0001 is P1")
    branch(repo)
    git(repo, "rm", "-q", KE1)  # the links left behind are the check's business (KE203), not the review's
    commit(repo, "Delete KE-0001")
    md, data = review(repo)
    assert f"- **KE-0001** (m365-mail): one of {BOB}" in md
    assert f"- **KE-0001**: a record under the approval gate is deleted — the approvers of m365-mail must agree (one of {BOB})" in md
    assert record(data, "KE-0001")["approval"]["needed"]


# ---------------------------------------------------------------- downgrades are risks
def test_a_downgrade_with_a_body_change_is_gated_and_listed_as_a_risk(repo: Path) -> None:
    high(repo)
    commit(repo, "KE-0001 is P1")
    branch(repo)
    edit(repo, KE1, "priority: P1", "priority: P2")
    edit(repo, KE1, "impact: high", "impact: medium")
    edit(repo, KE1, "A stale cached credential.", "Users typing the wrong password.")
    commit(repo, "KE-0001: not so bad after all")
    md, data = review(repo)
    assert f"- **KE-0001** (m365-mail): one of {BOB}, who must not be an author of this change" in md
    assert (
        f"- **KE-0001**: priority lowered from P1 to P2: the record leaves the approval gate — the approvers of m365-mail must agree (one of {BOB})"
    ) in md
    assert "- **KE-0001**: impact lowered from high to medium: the record leaves the approval gate" in md
    risks = [r["risk"] for r in record(data, "KE-0001")["risks"]]
    assert "priority lowered from P1 to P2: the record leaves the approval gate" in risks


def test_removing_a_risk_tag_is_a_downgrade(repo: Path) -> None:
    edit(repo, KE1, "tags: [outlook]", "tags: [outlook]\nrisk_tags: [security]")
    commit(repo, "KE-0001 is a security matter")
    branch(repo)
    edit(repo, KE1, "risk_tags: [security]\n", "")
    commit(repo, "KE-0001: not a security matter")
    md, _ = review(repo)
    assert (
        f"- **KE-0001**: risk tag(s) removed: security: the record leaves the approval gate — the approvers of m365-mail must agree (one of {BOB})"
        in md
    )


def test_taking_a_record_back_to_review_leaves_the_gate(repo: Path) -> None:
    high(repo)
    commit(repo, "KE-0001 is P1")
    branch(repo)
    edit(repo, KE1, "status: published", "status: in-review")
    commit(repo, "KE-0001: rework")
    md, _ = review(repo)
    assert (
        f"- **KE-0001**: status goes from published to in-review: the record leaves the approval gate — "
        f"the approvers of m365-mail must agree (one of {BOB})"
    ) in md


# ---------------------------------------------------------------- a record that changes service
def test_a_service_move_needs_an_approver_of_both_services(repo: Path) -> None:
    high(repo)
    commit(repo, "KE-0001 is P1")
    branch(repo)
    edit(repo, KE1, "service: m365-mail", "service: printing")
    commit(repo, "KE-0001 belongs to printing")
    md, data = review(repo)
    assert (
        f"- **KE-0001** (moved from m365-mail to printing): an approver of m365-mail (one of {BOB}) "
        f"and an approver of printing (one of {PAT}), neither of them an author of this change"
    ) in md
    assert record(data, "KE-0001")["approval"] == {
        "needed": True,
        "services": ["m365-mail", "printing"],
        "approvers": {"m365-mail": [BOB], "printing": [PAT]},
    }


# ---------------------------------------------------------------- customer replies
def test_a_reply_change_on_a_p1_record_needs_the_incident_lead(repo: Path) -> None:
    high(repo)
    commit(repo, "KE-0001 is P1")
    branch(repo)
    edit(repo, KE1, "Outlook will stop asking shortly.", "Outlook will stop asking within the hour.")
    commit(repo, "KE-0001: new reply")
    md, data = review(repo)
    line = f"customer reply text changed on a P1 or risk-tagged record — needs approval by the incident lead: {DANA}"
    assert f"- **KE-0001**: {line}" in md
    assert f"- **KE-0001**, customer reply text changed on a P1 or risk-tagged record: needs approval by the incident lead: {DANA}" in md
    (reply,) = [r for r in record(data, "KE-0001")["risks"] if r["risk"].startswith("customer reply")]
    assert reply["approvers"] == [DANA]


def test_a_reply_change_names_each_risk_tags_role_and_says_when_nobody_holds_it(repo: Path) -> None:
    edit(repo, KE1, "tags: [outlook]", "tags: [outlook]\nrisk_tags: [billing, security]")
    commit(repo, "KE-0001: billing and security")
    branch(repo)
    edit(repo, ROLES, "roles: [incident-lead]", "roles: []")  # the head cannot remove the base's incident lead...
    edit(repo, KE1, "Outlook will stop asking shortly.", "We will credit your account.")
    commit(repo, "KE-0001: new reply")
    md, _ = review(repo)
    assert f"needs approval by the primary owner: Ann Owner (@aowner); and by the incident lead: {DANA}" in md
    git(repo, "checkout", "-q", "main")
    edit(repo, ROLES, "roles: [incident-lead]", "roles: []")  # ...but the policy on main can
    commit(repo, "Dana leaves")
    git(repo, "checkout", "-q", "mr")
    git(repo, "rebase", "-q", "main", env=CAROL)
    md, _ = review(repo)
    assert "and by the incident lead, and **nobody holds the incident-lead role: give it to someone in content/roles.yml" in md


# ---------------------------------------------------------------- an added record is shown whole
def test_an_added_record_shows_every_field_section_and_finding(repo: Path) -> None:
    branch(repo)
    text = (repo / KE1).read_text(encoding="utf-8").replace("KE-0001", "KE-0002").replace("status: published", "status: draft")
    text = text.replace("problem: PRB-0001\n", "").replace("workarounds: [WA-0001]\n", "").replace("priority: P2", "priority: P3")
    text = text.replace("Outlook prompts for credentials again and again", "Teams shows a blank window")
    (repo / "known_errors/KE-0002-teams-blank.md").write_text(text, encoding="utf-8")
    commit(repo, "KE-0002")
    md, data = review(repo)
    section = md.split("### KE-0002 — Teams shows a blank window", 1)[1]
    assert "| field | value |" in section
    for row in (
        "| `id` | KE-0002 |",
        "| `status` | draft |",
        "| `priority` | P3 |",
        "| `urgency` | medium |",
        '| `error_codes` | ["0x8004010F"] |',
    ):
        assert row in section, row
    for title, body in (("Symptoms", "Outlook asks for the password every few minutes."), ("Reply to customer", "We are clearing")):
        assert f"**{title}**\n\n```text\n{body}" in section
    assert "```diff" not in section
    ke = record(data, "KE-0002")
    assert {f["field"] for f in ke["fields"]} >= {"id", "symptoms", "symptom_signature", "fix", "review_by"}
    assert [s["title"] for s in ke["sections"]] == ["Symptoms", "Cause", "Workaround", "Permanent fix", "Reply to customer"]
    assert not ke["approval"]["needed"]

    kb = run(repo).kb  # the findings the check raises, as `kedb check` runs the rules
    rv = make(compare(kb, "main"), kb, run(repo).findings)
    md = to_markdown(rv)
    assert "- `KE306` priority-mismatch (warning), line 17: " in md.split("### KE-0002", 1)[1]
    (finding,) = [f for f in record(json.loads(to_json(rv)), "KE-0002")["findings"] if f["code"] == "KE306"]
    assert finding["severity"] == "warning"


# ---------------------------------------------------------------- CODEOWNERS
def _glob(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS pattern as both platforms document it (the gitignore subset they share)."""
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    p = pattern.lstrip("/")
    rx = ""
    i = 0
    while i < len(p):
        if p.startswith("**/", i):
            rx, i = rx + "(?:.*/)?", i + 3
        elif p.startswith("**", i):
            rx, i = rx + ".*", i + 2
        elif p[i] == "*":
            rx, i = rx + "[^/]*", i + 1
        else:
            rx, i = rx + re.escape(p[i]), i + 1
    rx = rx.rstrip("/") if p.endswith("/") else rx
    return re.compile(("^" if anchored else "^(?:.*/)?") + rx + "(?:/.*)?$")


def owners(text: str, path: str) -> set[str]:
    """Who owns ``path``: the last matching line; with GitLab sections, the last match of each
    section, every matching section's owners being required."""
    sections: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("[", "^[")):
            current = line
            continue
        pattern, *who = line.split()
        if _glob(pattern).match(path):
            sections[current] = who
    return {o for who in sections.values() for o in who}


@pytest.mark.parametrize("platform", ["gitlab", "github"])
def test_codeowners_gives_everything_to_maintainers_and_records_to_approvers(repo: Path, platform: str) -> None:
    r = kedb("--root", str(repo), "codeowners", "--platform", platform)
    assert r.exit_code == 0, r.output
    text = (repo / ("CODEOWNERS" if platform == "gitlab" else ".github/CODEOWNERS")).read_text(encoding="utf-8")
    rules = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert rules[0] == "* @aowner"
    assert not any(ln.startswith(("[", "^[")) for ln in rules)  # one GitLab section: last match wins for every path
    assert owners(text, KE1) == {"@bapprover"}
    assert owners(text, "known_errors/KE-0042-not-listed-yet.md") == {"@bapprover", "@pprinter"}
    assert owners(text, "known_errors/sub/WA-0042-nested.md") == {"@bapprover", "@pprinter"}
    for path in ("known_errors/README.md", "hatch_build.py", "Makefile", "content/roles.yml", ".ci/x.sh", "tests/a.py", "new/thing.txt"):
        assert owners(text, path) == {"@aowner"}, path
    assert rules.index(f"/{KE1} @bapprover") > rules.index("* @aowner")


def test_the_matcher_follows_gitlab_sections() -> None:
    # The structure the CODEOWNERS writer avoids: a catch-all outside the records' section makes a
    # record need a maintainer as well.
    sectioned = "* @aowner\n[Known errors]\n/known_errors/ @bapprover\n"
    assert owners(sectioned, KE1) == {"@aowner", "@bapprover"}
    assert owners("* @aowner\n/known_errors/ @bapprover\n", KE1) == {"@bapprover"}


# ---------------------------------------------------------------- the review in a terminal
def test_the_text_review_says_the_same_without_markdown(repo: Path) -> None:
    high(repo)
    commit(repo, "KE-0001 is P1")
    branch(repo)
    edit(repo, KE1, "A stale cached credential.", "Nothing to worry about.")
    edit(repo, KE1, "priority: P1", "priority: P2")
    edit(repo, KE1, "impact: high", "impact: medium")
    (repo / "Makefile").write_text("all:\n\ttrue\n", encoding="utf-8")
    commit(repo, "Lower KE-0001 and rewrite its cause")
    res = kedb("--root", str(repo), "review", "--base", "main", "--format", "text")
    assert res.exit_code == 0, res.output
    text = res.stdout
    for mark in ("**", "<details>", "|---|", "```", "### "):
        assert mark not in text, (mark, text)
    assert text.startswith("kedb review: compared with main (merge base ")
    assert f"  KE-0001 (m365-mail): one of {BOB}, who must not be an author of this change" in text
    assert "Risks\n  KE-0001: priority lowered from P1 to P2: the record leaves the approval gate — the approvers" in text
    assert "  Changed fields\n" in text and "    priority  P1 → P2" in text
    assert "  Cause (changed)\n    @@" in text and "    -A stale cached credential." in text and "    +Nothing to worry about." in text
    assert "Maintainer changes (files outside the records)\n  A  Makefile" in text


def test_the_review_defaults_to_markdown_in_a_file_and_a_pipe(repo: Path, tmp_path: Path) -> None:
    branch(repo)
    edit(repo, KE1, "A stale cached credential.", "Nothing to worry about.")
    commit(repo, "Rewrite the cause")
    out = tmp_path / "review.md"
    assert kedb("--root", str(repo), "review", "--base", "main", "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("## kedb review")
    assert kedb("--root", str(repo), "review", "--base", "main").stdout.startswith("## kedb review")  # not a terminal
