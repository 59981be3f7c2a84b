"""Every way past the approval gate that issue #14 reproduced, tried again on a real repository.

Each scenario builds the history an adversarial problem owner would (branches, merges, trailers,
signed and forged commits, symlinks) with the real git and asserts the rule code and message
``kedb check --approvals`` gives. The codes named here in quotes ("KE810" …) are the fixtures of
the rules that need history (``test_rules.test_every_rule_has_a_fixture`` looks for them).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from kbtest import AS_OF, git, init_repo, kedb, require_tool

KE1 = "known_errors/KE-0001-outlook-prompts.md"
WA1 = "known_errors/WA-0001-clear-cached-credentials.md"
PRB1 = "known_errors/PRB-0001-credential-prompts.md"
CAROL = {"GIT_AUTHOR_NAME": "Carol Writer", "GIT_AUTHOR_EMAIL": "carol@example.com"}
ANN = {"GIT_AUTHOR_NAME": "Ann Owner", "GIT_AUTHOR_EMAIL": "ann.owner@example.com"}
BOB = "Bob Approver <bob.approver@example.com>"
ANN_T = "Ann Owner <ann.owner@example.com>"


def edit(root: Path, rel: str, old: str, new: str) -> None:
    p = root / rel
    text = p.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


def commit(root: Path, message: str, env: dict[str, str] | None = None, sign: list[str] | None = None) -> str:
    git(root, "add", "-A")
    git(root, *(sign or []), "commit", "-q", *(["-S"] if sign else []), "-m", message, env=dict(env or CAROL))
    return git(root, "rev-parse", "HEAD").strip()


def merge(root: Path, branch: str, message: str) -> str:
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "-m", message, branch, env=CAROL)
    return git(root, "rev-parse", "HEAD").strip()


def findings(root: Path) -> list[dict[str, object]]:
    r = kedb("--root", str(root), "check", "--approvals", "--as-of", AS_OF, "--format", "json")
    assert r.exit_code in (0, 1), r.output + r.stderr
    return [f for f in json.loads(r.output)["findings"] if str(f["code"]).startswith("KE8")]


def codes(root: Path) -> set[tuple[str, str]]:
    """(code, path) of every finding of the gate."""
    return {(str(f["code"]), str(f["path"])) for f in findings(root)}


def message(root: Path, code: str, path: str) -> str:
    found = [str(f["message"]) for f in findings(root) if f["code"] == code and f["path"] == path]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def repo(base_kb: Path) -> Path:
    """The base KB, where Carol writes records, with KE-0001 made high-impact (a security risk
    tag) in an approved change."""
    carol = "  - handle: carol.writer\n    name: Carol Writer\n    email: carol@example.com\nmaintainers:"
    edit(base_kb, "content/roles.yml", "maintainers:", carol)
    root = init_repo(base_kb)
    edit(root, KE1, "tags: [outlook]", "tags: [outlook]\nrisk_tags: [security]")
    commit(root, f"KE-0001: security risk\n\nApproved-by: {BOB}")
    assert codes(root) == set()
    return root


# ---------------------------------------------------------------- 1. self-granted policy
def test_a_merge_request_cannot_appoint_its_own_approver(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "mr")
    edit(repo, "content/roles.yml", "approvers: [bob.approver]", "approvers: [bob.approver, dave.helper]")
    edit(
        repo,
        "content/roles.yml",
        "maintainers:",
        "  - handle: dave.helper\n    name: Dave Helper\n    email: dave@example.com\n    roles: [approver]\nmaintainers:",
    )
    edit(repo, KE1, "Outlook keeps asking for my password", "Outlook keeps asking for my password after sleep")
    commit(repo, "Dave approves mail now; KE-0001 symptom")
    merge(repo, "mr", "Merge branch 'mr'\n\nApproved-by: Dave Helper <dave@example.com>")
    found = codes(repo)
    assert ("KE811", KE1) in found and ("KE814", "content/roles.yml") in found
    assert "Dave Helper <dave@example.com> may not approve this change" in message(repo, "KE811", KE1)
    assert "needs maintainers: one of Ann Owner" in message(repo, "KE814", "content/roles.yml")


def test_approvals_stay_valid_when_the_approver_leaves(repo: Path) -> None:
    edit(repo, KE1, "Outlook keeps asking for my password", "Outlook keeps asking for my password after sleep")
    commit(repo, f"KE-0001: symptom\n\nApproved-by: {BOB}")
    edit(repo, "content/roles.yml", "approvers: [bob.approver]", "approvers: [ann.owner]")
    commit(repo, f"Bob leaves the approvers\n\nApproved-by: {ANN_T}")  # written by Carol, approved by a maintainer
    assert codes(repo) == set()


def test_a_gate_date_in_the_future_is_an_error_at_once(repo: Path) -> None:
    edit(repo, "content/kedb.yml", "name: Test KB", "name: Test KB\napprovals_since: 2099-01-01")
    r = kedb("--root", str(repo), "check", "--as-of", AS_OF, "--format", "json")
    (f,) = [f for f in json.loads(r.output)["findings"] if f["code"] == "KE815"]
    assert f["path"] == "content/kedb.yml" and f["line"] == 2 and "approvals_since 2099-01-01 is in the future" in f["message"]


def test_removing_the_gate_or_the_policy_is_an_error(repo: Path) -> None:
    edit(repo, "content/kedb.yml", "approvals_since: 2026-01-01", "")
    commit(repo, f"No more gate\n\nApproved-by: {ANN_T}")
    edit(repo, KE1, "Outlook keeps asking for my password", "Outlook asks once a day")
    commit(repo, "KE-0001: nobody is watching")
    found = codes(repo)
    assert found == {("KE815", "content/kedb.yml"), ("KE818", "content/kedb.yml")}
    assert "approvals_since (2026-01-01) removed: the approval gate stops" in message(repo, "KE815", "content/kedb.yml")


def test_deleting_the_roles_stops_nothing(repo: Path) -> None:
    (repo / "content" / "roles.yml").unlink()
    commit(repo, f"Roles gone\n\nApproved-by: {ANN_T}")
    assert ("KE815", "content/kedb.yml") in codes(repo)
    assert "content/roles.yml or content/kedb.yml was removed: the approval gate stops" in message(repo, "KE815", "content/kedb.yml")


# ---------------------------------------------------------------- 2. downgrades
def test_a_downgrade_with_a_rewrite_needs_an_approval(repo: Path) -> None:
    edit(repo, KE1, "tags: [outlook]\nrisk_tags: [security]", "tags: [outlook]")
    edit(repo, KE1, "Outlook keeps asking for my password", "Outlook asks once a day")
    commit(repo, "KE-0001: not a security matter after all")
    assert codes(repo) == {("KE810", KE1)}
    assert "KE-0001 version 3" in message(repo, "KE810", KE1)


def test_a_downgrade_split_over_two_merges_is_caught_at_the_first(repo: Path) -> None:
    edit(repo, KE1, "tags: [outlook]\nrisk_tags: [security]", "tags: [outlook]")
    commit(repo, "KE-0001: drop the tag")
    edit(repo, KE1, "Outlook keeps asking for my password", "Outlook asks once a day")
    commit(repo, "KE-0001: rewrite, now that nobody must approve")
    (f,) = findings(repo)
    assert f["code"] == "KE810" and "version 3" in str(f["message"]) and "drop the tag" in str(f["message"])


def test_a_downgrade_after_a_stricter_policy_is_judged_by_it(repo: Path) -> None:
    """A record the old rules did not call high-impact is by the new ones: lowering it next needs
    an approval, so the version before the change is read again with the policy in force."""
    edit(repo, KE1, "tags: [outlook]\nrisk_tags: [security]", "tags: [outlook]")
    commit(repo, f"KE-0001: not a security matter\n\nApproved-by: {BOB}")
    edit(repo, "content/kedb.yml", "name: Test KB", "name: Test KB\nhigh_impact: {impacts: [high, medium]}")
    commit(repo, f"Medium impact is high impact now\n\nApproved-by: {ANN_T}")
    edit(repo, KE1, "impact: medium", "impact: low")
    commit(repo, "KE-0001: low impact after all")
    assert codes(repo) == {("KE810", KE1)}
    assert "KE-0001 version 4" in message(repo, "KE810", KE1)


# ---------------------------------------------------------------- 3. kinds that were never gated
def test_the_workaround_of_a_high_impact_known_error_is_gated(repo: Path) -> None:
    edit(repo, WA1, "1. Close Outlook.", "1. Close Outlook and disable the antivirus.")
    commit(repo, "WA-0001: faster steps")
    assert codes(repo) == {("KE810", WA1)}


def test_a_high_impact_problem_is_gated_from_investigating(repo: Path) -> None:
    edit(repo, PRB1, "impact: medium", "impact: high")
    commit(repo, f"PRB-0001: high impact\n\nApproved-by: {BOB}")
    edit(repo, PRB1, "impact: high", "impact: high\nroot_cause: The user's fault.")
    commit(repo, "PRB-0001: root cause")
    assert codes(repo) == {("KE810", PRB1)}
    assert "PRB-0001 version 3" in message(repo, "KE810", PRB1)


def test_a_retired_record_stays_gated(repo: Path) -> None:
    edit(repo, KE1, "status: published", "status: retired\nretired_reason: Fixed by the tenant policy change")
    commit(repo, f"KE-0001: retire\n\nApproved-by: {BOB}")
    edit(repo, KE1, "Outlook keeps asking for my password", "Outlook never asked for anything")
    commit(repo, "KE-0001: rewrite the retired record")
    assert codes(repo) == {("KE810", KE1)}


def test_a_move_to_another_service_needs_an_approver_of_both(repo: Path) -> None:
    edit(repo, "content/roles.yml", "approvers: []", "approvers: [ann.owner]")
    commit(repo, f"Ann approves printing\n\nApproved-by: {ANN_T}")
    edit(repo, KE1, "service: m365-mail", "service: printing")
    commit(repo, f"KE-0001 is a printing matter\n\nApproved-by: {ANN_T}")
    assert codes(repo) == {("KE811", KE1)}
    assert message(repo, "KE811", KE1).endswith("approved by Ann Owner, but still needs approvers of m365-mail: one of Bob Approver")
    git(repo, "commit", "-q", "--amend", "-m", f"KE-0001 is a printing matter\n\nApproved-by: {ANN_T}\nApproved-by: {BOB}", env=CAROL)
    assert codes(repo) == set()


# ---------------------------------------------------------------- 5. rewriting the trail, unreadable versions
def test_deleting_a_record_keeps_its_violations_and_is_judged_itself(repo: Path) -> None:
    edit(repo, KE1, "Outlook keeps asking for my password", "Outlook asks once a day")
    commit(repo, "KE-0001: quietly")  # a violation
    git(repo, "rm", "-q", KE1)
    edit(repo, WA1, "applies_to: [KE-0001]", "applies_to: [KE-0002]")
    edit(repo, PRB1, "known_errors: [KE-0001]", "known_errors: []")
    commit(repo, "Remove KE-0001 and its evidence")
    msgs = sorted(str(f["message"]) for f in findings(repo) if f["path"] == KE1 and f["code"] == "KE810")
    assert len(msgs) == 2 and "version 3 " in msgs[0] and "version 4 " in msgs[1]


def test_a_symlinked_record_is_refused_and_never_judged_as_approved(repo: Path) -> None:
    link = repo / "known_errors" / "KE-0002-the-same.md"
    os.symlink("KE-0001-outlook-prompts.md", link)
    r = kedb("--root", str(repo), "check", "--as-of", AS_OF, "--format", "json")
    assert [f["path"] for f in json.loads(r.output)["findings"] if f["code"] == "KE014"] == ["known_errors/KE-0002-the-same.md"]
    commit(repo, f"KE-0002 (a link)\n\nApproved-by: {BOB}")
    assert ("KE813", "known_errors/KE-0002-the-same.md") in codes(repo)
    assert "stored as a symlink" in message(repo, "KE813", "known_errors/KE-0002-the-same.md")


def test_a_symlinked_folder_or_program_file_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, repo / "known_errors" / "more")
    (repo / "content" / "services.yml").rename(tmp_path / "services.yml")
    os.symlink(tmp_path / "services.yml", repo / "content" / "services.yml")
    r = kedb("--root", str(repo), "check", "--as-of", AS_OF, "--format", "json")
    assert {f["path"] for f in json.loads(r.output)["findings"] if f["code"] == "KE014"} == {"known_errors/more", "content/services.yml"}


def test_a_version_kedb_cannot_read_never_passes(repo: Path) -> None:
    good = (repo / KE1).read_text(encoding="utf-8")
    (repo / KE1).write_text(good.replace("status: published", "status: [published"), encoding="utf-8")
    commit(repo, f"KE-0001: oops\n\nApproved-by: {BOB}")
    (repo / KE1).write_text(good, encoding="utf-8")
    commit(repo, f"KE-0001: fixed\n\nApproved-by: {BOB}")
    found = sorted(str(f["message"]) for f in findings(repo) if f["code"] == "KE813")
    assert len(found) == 2
    assert "version 3 " in found[0] and "kedb cannot read this version: its front-matter is not valid YAML" in found[0]
    assert "version 4 " in found[1] and "the version before it" in found[1]


# ---------------------------------------------------------------- 6. changes to everything else
def test_changes_outside_records_need_a_maintainer(repo: Path) -> None:
    (repo / "hatch_build.py").write_text("print('runs at pip install')\n", encoding="utf-8")
    commit(repo, "Build hook")
    assert codes(repo) == {("KE814", "hatch_build.py")}
    assert "needs maintainers: one of Ann Owner" in message(repo, "KE814", "hatch_build.py")
    (repo / "Makefile").write_text("all:\n\ttrue\n", encoding="utf-8")
    commit(repo, f"Makefile\n\nApproved-by: {ANN_T}")  # written by Carol: approved
    (repo / ".ci").mkdir()
    (repo / ".ci" / "run").write_text("make test\n", encoding="utf-8")
    commit(repo, f"CI\n\nApproved-by: {ANN_T}", ANN)  # written by Ann herself
    found = codes(repo)
    assert found == {("KE814", "hatch_build.py"), ("KE814", ".ci/run")}
    assert "approved only by an author of the change (Ann Owner)" in message(repo, "KE814", ".ci/run")


# ---------------------------------------------------------------- 7. identities
def test_a_co_author_anywhere_in_a_squash_message_is_an_author(repo: Path) -> None:
    edit(repo, KE1, "Outlook keeps asking for my password", "Outlook asks once a day")
    squash = f"KE-0001: two changes (#12)\n\n* first\n\nCo-authored-by: {BOB}\n\n* second\n\nApproved-by: {BOB}"
    commit(repo, squash)
    assert codes(repo) == {("KE812", KE1)}


def test_an_author_kedb_cannot_identify_is_a_warning(repo: Path) -> None:
    edit(repo, KE1, "Outlook keeps asking for my password", "Outlook asks once a day")
    commit(repo, "KE-0001: wording\n\nApproved-by: bob.approver@example.com\nCo-authored-by: B. A. <ba@home.example>")
    (f,) = findings(repo)
    assert f["code"] == "KE816" and f["severity"] == "warning"
    assert "cannot tell whether B. A. <ba@home.example> is an approver or an author" in str(f["message"])
    assert f["path"] == KE1 and "version 3 " in str(f["message"])


def test_the_report_says_what_trailers_prove(repo: Path) -> None:
    r = kedb("--root", str(repo), "check", "--approvals", "--as-of", AS_OF)
    assert "trailers prove an approval only if main accepts changes through the platform alone" in r.stderr


# ---------------------------------------------------------------- 3/4. signed evidence
def _ssh_key(where: Path, name: str) -> tuple[Path, str]:
    key = where / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    keytype, blob = Path(f"{key}.pub").read_text().split()[:2]
    return key, f"{keytype} {blob}"


@pytest.fixture
def signed(repo: Path, tmp_path: Path) -> tuple[Path, dict[str, list[str]]]:
    """The repo switched to signed evidence (a maintainer change approved in trailers mode), with
    keys for the platform, Bob and Ann; returns the git arguments that sign as each."""
    require_tool("ssh-keygen", "signed approvals", "openssh-client")
    keys = tmp_path / "keys"
    keys.mkdir()
    sign: dict[str, list[str]] = {}
    lines = []
    for who, principal in (("platform", "platform@example.com"), ("bob", "bob.approver@example.com"), ("ann", "ann.owner@example.com")):
        key, pub = _ssh_key(keys, who)
        lines.append(f"{principal} {pub}")
        sign[who] = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
    _, stranger = _ssh_key(keys, "mallory")
    sign["mallory"] = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={keys / 'mallory'}"]
    (repo / "content" / "allowed_signers").write_text("\n".join(lines) + "\n", encoding="utf-8")
    edit(repo, "content/kedb.yml", "name: Test KB", "name: Test KB\napproval_evidence: signed\nplatform_signers: [platform@example.com]")
    commit(repo, f"Approvals must be signed\n\nApproved-by: {ANN_T}")
    assert codes(repo) == set() and stranger
    return repo, sign


def _change(root: Path, n: int) -> None:
    edit(root, KE1, "Outlook keeps asking for my password", f"Outlook keeps asking for my password ({n})")


def test_signed_mode_a_forged_unsigned_trailer(signed: tuple[Path, dict[str, list[str]]]) -> None:
    repo, _ = signed
    _change(repo, 1)
    commit(repo, f"KE-0001: direct push\n\nApproved-by: {BOB}")
    assert codes(repo) == {("KE817", KE1)}
    assert "Approved-by: Bob Approver, but the commit is not signed" in message(repo, "KE817", KE1)


def test_signed_mode_a_key_that_is_not_allowed(signed: tuple[Path, dict[str, list[str]]]) -> None:
    repo, sign = signed
    _change(repo, 2)
    commit(repo, f"KE-0001: signed by a stranger\n\nApproved-by: {BOB}", sign=sign["mallory"])
    assert codes(repo) == {("KE817", KE1)}


def test_signed_mode_an_allowed_key_counts_only_for_its_holder(signed: tuple[Path, dict[str, list[str]]]) -> None:
    repo, sign = signed
    _change(repo, 3)
    commit(repo, f"KE-0001: Ann signs for Bob\n\nApproved-by: {BOB}", sign=sign["ann"])
    assert codes(repo) == {("KE817", KE1)}
    assert "signed by ann.owner@example.com" in message(repo, "KE817", KE1)


def test_signed_mode_valid_approvals(signed: tuple[Path, dict[str, list[str]]]) -> None:
    repo, sign = signed
    _change(repo, 4)
    commit(repo, f"KE-0001: merged in the platform\n\nApproved-by: {BOB}", sign=sign["platform"])
    _change(repo, 5)
    commit(repo, f"KE-0001: merged by Bob himself\n\nApproved-by: {BOB}", sign=sign["bob"])
    (repo / "Makefile").write_text("all:\n", encoding="utf-8")
    commit(repo, f"Makefile\n\nApproved-by: {ANN_T}", sign=sign["platform"])
    assert codes(repo) == set()
    (repo / "Makefile").write_text("all:\n\ttrue\n", encoding="utf-8")
    commit(repo, f"Makefile, pushed\n\nApproved-by: {ANN_T}")
    assert codes(repo) == {("KE817", "Makefile")}


# ---------------------------------------------------------------- git's replace objects
def test_a_replace_ref_cannot_swap_an_unapproved_commit_for_an_approved_one(repo: Path) -> None:
    """`git replace X Y` makes git show Y wherever X is asked for (log, cat-file, signatures): a
    colleague with a replace ref in the checked clone could make an unapproved commit read as
    approved. kedb reads git with replace objects off, so the commit is judged as it is."""
    edit(repo, KE1, "Outlook keeps asking for my password", "Outlook asks once a day")
    unapproved = commit(repo, "KE-0001: reworded")
    approved = git(
        repo, "commit-tree", f"{unapproved}^{{tree}}", "-p", f"{unapproved}^", "-m", f"KE-0001: reworded\n\nApproved-by: {BOB}"
    ).strip()
    git(repo, "replace", unapproved, approved)
    assert f"Approved-by: {BOB}" in git(repo, "log", "-1", "--format=%B"), "git itself follows the replace ref"
    assert codes(repo) == {("KE810", KE1)}
