"""A customer reply on a P1 or risk-tagged known error needs its role's approval on main (issue #20, item 9).

The scenarios run the real git: a problem owner changes the ``## Reply to customer`` section of a
known error, merges or commits it with ``Approved-by:`` trailers, and ``kedb check --approvals``
must answer "KE819" (reply-approval-missing) unless a holder of each role that approves the reply
(the incident lead for P1, each risk tag's ``approver_role`` in ``content/triage.yml``), in the
policy in force before the change, approved it and did not write it. The hostile cases are the
ones a colleague would try to slip a new reply past the incident lead: another spelling of the
heading, a second reply section, the reply moved into a code fence or under another heading.
The rule's units (:func:`kedb.core.gate.reply_roles`, :func:`~kedb.core.gate.reply_approvers`,
:func:`~kedb.core.gate.reply_digest`) are tested at the end, each condition with a case that
fails when it is inverted.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from kbtest import AS_OF, git, init_repo, kedb, require_tool
from kedb.core import gate
from kedb.core.gate import Reply, State
from kedb.core.program import RiskTagDef

KE1 = "known_errors/KE-0001-outlook-prompts.md"
KE2 = "known_errors/KE-0002-teams-blank.md"
WA1 = "known_errors/WA-0001-clear-cached-credentials.md"
PRB1 = "known_errors/PRB-0001-credential-prompts.md"
ROLES = "content/roles.yml"
TRIAGE = "content/triage.yml"
CAROL = {"GIT_AUTHOR_NAME": "Carol Writer", "GIT_AUTHOR_EMAIL": "carol@example.com"}
LENA_AUTHOR = {"GIT_AUTHOR_NAME": "Lena Lead", "GIT_AUTHOR_EMAIL": "lena@example.com"}
BOB = "Bob Approver <bob.approver@example.com>"
LENA = "Lena Lead <lena@example.com>"
LEO = "Leo Lead <leo@example.com>"
SUE = "Sue Secure <sue@example.com>"
IVY = "Ivy Both <ivy@example.com>"
ANN = "Ann Owner <ann.owner@example.com>"
LEADS = "one of Ivy Both, Lena Lead, Leo Lead"
REPLY = "We are clearing the saved sign-in on your PC; Outlook will stop asking shortly."
PEOPLE = """\
  - handle: carol.writer
    name: Carol Writer
    email: carol@example.com
  - handle: lena.lead
    name: Lena Lead
    email: lena@example.com
    username: llead
    roles: [incident-lead]
  - handle: leo.lead
    name: Leo Lead
    email: leo@example.com
    roles: [incident-lead]
  - handle: sue.secure
    name: Sue Secure
    email: sue@example.com
    roles: [security-officer]
  - handle: ivy.both
    name: Ivy Both
    email: ivy@example.com
    roles: [approver, incident-lead]
maintainers:"""
SECURITY_OFFICER = """\
    responsibilities: [Approves risky customer replies]
  - id: security-officer
    name: Security officer
    responsibilities: [Approves replies on security matters]
"""


def edit(root: Path, rel: str, old: str, new: str) -> None:
    p = root / rel
    text = p.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


def commit(root: Path, message: str, env: dict[str, str] | None = None, sign: list[str] | None = None) -> str:
    git(root, "add", "-A")
    git(root, *(sign or []), "commit", "-q", *(["-S"] if sign else []), "-m", message, env=dict(env or CAROL))
    return git(root, "rev-parse", "HEAD").strip()


def amend(root: Path, message: str, env: dict[str, str] | None = None) -> None:
    git(root, "commit", "-q", "--amend", "-m", message, env=dict(env or CAROL))


def findings(root: Path) -> list[dict[str, object]]:
    r = kedb("--root", str(root), "check", "--approvals", "--as-of", AS_OF, "--format", "json")
    assert r.exit_code in (0, 1), r.output + r.stderr
    return [f for f in json.loads(r.output)["findings"] if str(f["code"]).startswith("KE8")]


def codes(root: Path) -> set[tuple[str, str]]:
    return {(str(f["code"]), str(f["path"])) for f in findings(root)}


def message(root: Path, code: str, path: str) -> str:
    found = [str(f["message"]) for f in findings(root) if f["code"] == code and f["path"] == path]
    assert len(found) == 1, found
    return found[0]


def new_reply(root: Path, text: str = "We have reset your mailbox; sign in again.", rel: str = KE1) -> None:
    edit(root, rel, REPLY, text)


@pytest.fixture
def repo(base_kb: Path) -> Path:
    """The base KB with incident leads (Lena, Leo, and Ivy, who also approves m365-mail), a
    security officer (Sue) who approves replies of the security tag, and KE-0001 made P1 in an
    approved change that does not touch its reply."""
    edit(base_kb, ROLES, "maintainers:", PEOPLE)
    edit(base_kb, ROLES, "    responsibilities: [Approves risky customer replies]\n", SECURITY_OFFICER)
    edit(base_kb, ROLES, "approvers: [bob.approver]", "approvers: [bob.approver, ivy.both]")
    edit(base_kb, TRIAGE, "approver_role: incident-lead", "approver_role: security-officer")
    root = init_repo(base_kb)
    edit(root, KE1, "impact: medium", "impact: high")
    edit(root, KE1, "priority: P2", "priority: P1")
    commit(root, f"KE-0001 is P1\n\nApproved-by: {BOB}")
    assert codes(root) == set(), "raising the priority is no change to the reply"
    return root


def p2_security(root: Path) -> None:
    """KE-0001 back to P2 with the security tag, in an approved change that keeps the reply."""
    edit(root, KE1, "impact: high", "impact: medium")
    edit(root, KE1, "priority: P1", "priority: P2")
    edit(root, KE1, "tags: [outlook]", "tags: [outlook]\nrisk_tags: [security]")
    commit(root, f"KE-0001: a security matter, not P1\n\nApproved-by: {BOB}")


# ---------------------------------------------------------------- P1: the incident lead
def test_a_p1_reply_approved_by_an_incident_lead_passes(repo: Path) -> None:
    new_reply(repo)
    commit(repo, f"KE-0001: new reply\n\nApproved-by: {BOB}\nApproved-by: {LENA}")
    assert codes(repo) == set()
    amend(repo, f"KE-0001: new reply\n\nApproved-by: {IVY}")  # one approver may hold both roles
    assert codes(repo) == set()


def test_a_p1_reply_approved_only_by_a_service_approver_fails(repo: Path) -> None:
    new_reply(repo)
    sha = commit(repo, f"KE-0001: new reply\n\nApproved-by: {BOB}")
    r = kedb("--root", str(repo), "check", "--approvals", "--as-of", AS_OF, "--format", "json")
    assert r.exit_code == 1
    (f,) = [f for f in json.loads(r.output)["findings"] if str(f["code"]).startswith("KE8")]
    assert (f["code"], f["rule"], f["severity"], f["path"]) == ("KE819", "reply-approval-missing", "error", KE1)
    assert f["message"] == (
        f"KE-0001 version 3 (commit {sha[:10]}, {f['message'].split(', ')[1]}, 'KE-0001: new reply'): its customer reply "
        f"changed on a P1 or risk-tagged known error; approved by Bob Approver, but still needs the incident-lead role for "
        f"the customer reply: {LEADS}"
    )
    text = kedb("--root", str(repo), "check", "--approvals", "--as-of", AS_OF)
    assert "KE819 reply-approval-missing (error): KE-0001 version 3" in text.output


def test_what_else_the_reply_change_lacks_keeps_its_own_code(repo: Path) -> None:
    new_reply(repo)
    commit(repo, "KE-0001: new reply")
    assert codes(repo) == {("KE810", KE1)}  # nothing approved it: the service approver is missing too
    assert message(repo, "KE810", KE1).endswith(
        f"no Approved-by: trailer; needs approvers of m365-mail: one of Bob Approver, Ivy Both; the incident-lead role for "
        f"the customer reply: {LEADS}"
    )
    amend(repo, f"KE-0001: new reply\n\nApproved-by: {LENA}")
    assert codes(repo) == {("KE811", KE1)}  # the incident lead is no approver of m365-mail
    assert message(repo, "KE811", KE1).endswith(
        "approved by Lena Lead, but still needs approvers of m365-mail: one of Bob Approver, Ivy Both"
    )


def test_the_author_cannot_be_the_only_incident_lead(repo: Path) -> None:
    new_reply(repo)
    commit(repo, f"KE-0001: new reply\n\nApproved-by: {BOB}\nApproved-by: {LENA}", LENA_AUTHOR)
    assert codes(repo) == {("KE812", KE1)}
    assert message(repo, "KE812", KE1).endswith(
        f"approved only by an author of the change (Lena Lead); needs the incident-lead role for the customer reply: {LEADS}"
    )
    amend(repo, f"KE-0001: new reply\n\nApproved-by: {BOB}\nApproved-by: {LENA}\nApproved-by: {LEO}", LENA_AUTHOR)
    assert codes(repo) == set()


def test_a_change_elsewhere_in_the_record_needs_no_incident_lead(repo: Path) -> None:
    edit(repo, KE1, "A stale cached credential.", "A stale cached token.")
    edit(repo, KE1, "Outlook keeps asking for my password", "Outlook keeps asking for my password after sleep")
    edit(repo, KE1, "status: published", "status: retired")
    commit(repo, f"KE-0001: cause, symptom, retired\n\nApproved-by: {BOB}")
    assert codes(repo) == set()


def test_lowering_p1_while_rewriting_the_reply_is_judged_on_before(repo: Path) -> None:
    edit(repo, KE1, "impact: high", "impact: medium")
    edit(repo, KE1, "priority: P1", "priority: P2")
    new_reply(repo)
    commit(repo, f"KE-0001: only P2, and a calmer reply\n\nApproved-by: {BOB}")
    assert codes(repo) == {("KE819", KE1)}
    assert "version 3 " in message(repo, "KE819", KE1)


def test_raising_to_p1_while_rewriting_the_reply_is_judged_on_after(repo: Path) -> None:
    edit(repo, KE1, "impact: high", "impact: medium")
    edit(repo, KE1, "priority: P1", "priority: P2")
    commit(repo, f"KE-0001: only P2\n\nApproved-by: {BOB}")
    new_reply(repo, "A reply written while the record was P2.")
    commit(repo, "KE-0001: a P2 reply needs nobody")
    assert codes(repo) == set()
    edit(repo, KE1, "impact: medium", "impact: high")
    edit(repo, KE1, "priority: P2", "priority: P1")
    edit(repo, KE1, "A reply written while the record was P2.", "Send this to every customer at once.")
    commit(repo, f"KE-0001: P1 again, and a new reply\n\nApproved-by: {BOB}")
    assert codes(repo) == {("KE819", KE1)}
    assert "version 5 " in message(repo, "KE819", KE1)


def test_a_reply_needs_its_role_even_when_the_record_is_not_high_impact(repo: Path) -> None:
    edit(repo, "content/kedb.yml", "name: Test KB", "name: Test KB\nhigh_impact: {impacts: [], priorities: [], any_risk_tag: false}")
    commit(repo, f"Nothing is high-impact any more\n\nApproved-by: {ANN}")
    edit(repo, KE1, "A stale cached credential.", "A stale cached token.")
    commit(repo, "KE-0001: cause")  # no service approver needed now
    assert codes(repo) == set()
    new_reply(repo)
    commit(repo, "KE-0001: new reply")
    assert codes(repo) == {("KE819", KE1)}  # the reply's role is all it lacks
    assert message(repo, "KE819", KE1).endswith(
        f"its customer reply changed on a P1 or risk-tagged known error; no Approved-by: trailer; needs the incident-lead role "
        f"for the customer reply: {LEADS}"
    )
    amend(repo, f"KE-0001: new reply\n\nApproved-by: {LENA}")  # no service approver asked for
    assert codes(repo) == set()


# ---------------------------------------------------------------- risk tags: their approver role
def test_a_security_reply_needs_the_security_approver_role(repo: Path) -> None:
    p2_security(repo)
    new_reply(repo)
    commit(repo, f"KE-0001: new reply\n\nApproved-by: {BOB}\nApproved-by: {LENA}")
    assert codes(repo) == {("KE819", KE1)}  # an incident lead, but security replies are the security officer's
    assert message(repo, "KE819", KE1).endswith(
        "approved by Bob Approver, but still needs the security-officer role for the customer reply: one of Sue Secure"
    )
    amend(repo, f"KE-0001: new reply\n\nApproved-by: {BOB}\nApproved-by: {SUE}")
    assert codes(repo) == set()


def test_a_p1_security_reply_needs_every_role_by_one_or_several_approvers(repo: Path) -> None:
    edit(repo, KE1, "tags: [outlook]", "tags: [outlook]\nrisk_tags: [security]")
    commit(repo, f"KE-0001: security too\n\nApproved-by: {BOB}")
    new_reply(repo)
    commit(repo, f"KE-0001: new reply\n\nApproved-by: {BOB}\nApproved-by: {SUE}")
    assert codes(repo) == {("KE819", KE1)}
    msg = message(repo, "KE819", KE1)
    assert msg.endswith(f"approved by Bob Approver, Sue Secure, but still needs the incident-lead role for the customer reply: {LEADS}")
    amend(repo, f"KE-0001: new reply\n\nApproved-by: {IVY}\nApproved-by: {SUE}")
    assert codes(repo) == set()


def test_a_tag_the_triage_policy_does_not_define_goes_to_the_incident_lead(repo: Path) -> None:
    (repo / TRIAGE).unlink()
    commit(repo, f"No triage policy\n\nApproved-by: {ANN}")
    assert codes(repo) == set()
    p2_security(repo)
    new_reply(repo)
    commit(repo, f"KE-0001: new reply\n\nApproved-by: {BOB}\nApproved-by: {SUE}")
    assert codes(repo) == {("KE819", KE1)}
    assert message(repo, "KE819", KE1).endswith(f"still needs the incident-lead role for the customer reply: {LEADS}")


# ---------------------------------------------------------------- the policy in force before the change
def test_a_merge_request_cannot_appoint_its_own_incident_lead(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "mr")
    edit(repo, ROLES, "  - handle: carol.writer\n", "  - handle: dave.helper\n    name: Dave Helper\n    email: dave@example.com\n"
         "    roles: [incident-lead]\n  - handle: carol.writer\n")  # fmt: skip
    new_reply(repo)
    commit(repo, "Dave leads incidents now; KE-0001 reply")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", f"Merge 'mr'\n\nApproved-by: {BOB}\nApproved-by: Dave Helper <dave@example.com>\n"
        f"Approved-by: {ANN}", "mr", env=CAROL)  # fmt: skip
    assert codes(repo) == {("KE819", KE1)}
    assert message(repo, "KE819", KE1).endswith(f"still needs the incident-lead role for the customer reply: {LEADS}")


def test_the_triage_policy_in_force_before_the_change_decides(repo: Path) -> None:
    p2_security(repo)
    edit(repo, TRIAGE, "approver_role: security-officer", "approver_role: approver")  # Bob could approve it himself
    new_reply(repo)
    commit(repo, f"Security replies go to approvers; KE-0001 reply\n\nApproved-by: {BOB}\nApproved-by: {ANN}")
    assert codes(repo) == {("KE819", KE1)}
    assert "the security-officer role for the customer reply: one of Sue Secure" in message(repo, "KE819", KE1)
    edit(repo, KE1, "We have reset your mailbox; sign in again.", "Sign in again, please.")
    commit(repo, f"KE-0001: shorter reply\n\nApproved-by: {BOB}")  # from now on the new triage policy is in force
    assert codes(repo) == {("KE819", KE1)}, "only the change judged by the old policy"


def test_a_triage_file_the_gate_cannot_read_stops_nothing(repo: Path) -> None:
    edit(repo, TRIAGE, "approver_role: security-officer", "approver_role: security-officer, note: not a field")
    commit(repo, f"Triage: a note\n\nApproved-by: {ANN}")
    assert ("KE815", "content/kedb.yml") in codes(repo)
    assert "content/triage.yml does not validate (risk_tags.0.note: Extra inputs are not permitted)" in message(
        repo, "KE815", "content/kedb.yml"
    )
    edit(repo, KE1, "A stale cached credential.", "A stale cached token.")
    commit(repo, f"KE-0001: cause\n\nApproved-by: {BOB}")
    assert ("KE813", KE1) in codes(repo)
    assert "the approval policy in force before this change cannot be read: content/triage.yml" in message(repo, "KE813", KE1)


# ---------------------------------------------------------------- a reply that starts or stops being sent
def test_publishing_a_p1_draft_publishes_its_reply(repo: Path) -> None:
    text = (repo / KE1).read_text(encoding="utf-8").replace("KE-0001", "KE-0002").replace("status: published", "status: draft")
    text = text.replace("problem: PRB-0001\n", "").replace("workarounds: [WA-0001]\n", "")
    (repo / KE2).write_text(text, encoding="utf-8")
    commit(repo, "KE-0002: a draft")  # a draft's reply reaches nobody
    assert codes(repo) == set()
    edit(repo, KE2, "status: draft", "status: published")
    commit(repo, f"KE-0002: publish\n\nApproved-by: {BOB}")
    assert codes(repo) == {("KE819", KE2)}
    amend(repo, f"KE-0002: publish\n\nApproved-by: {BOB}\nApproved-by: {LEO}")
    assert codes(repo) == set()


def test_deleting_a_p1_record_withdraws_its_reply(repo: Path) -> None:
    git(repo, "rm", "-q", KE1)
    edit(repo, WA1, "applies_to: [KE-0001]", "applies_to: []")
    edit(repo, PRB1, "known_errors: [KE-0001]", "known_errors: []")
    commit(repo, f"Remove KE-0001\n\nApproved-by: {BOB}")
    assert ("KE819", KE1) in codes(repo)


# ---------------------------------------------------------------- hostile headings
ORIGINAL = f"## Reply to customer\n\n{REPLY}"
HOSTILE = {
    "casing and trailing space": (ORIGINAL, "## Reply to Customer \n\nWe have reset your mailbox; sign in again."),
    "closing hashes": (ORIGINAL, "## reply TO customer ##\n\nWe have reset your mailbox; sign in again."),
    "a second reply section after it": (REPLY, f"{REPLY}\n\n## Reply to customer\n\nSend this one instead."),
    "a second reply section before it": ("## Reply to customer", "## Reply to Customer\n\nSend this one instead.\n\n## Reply to customer"),
    "the reply moved into a code fence": (
        f"None yet.\n\n{ORIGINAL}",
        "None yet.\n\n```text\n## Reply to customer\n\nWe have reset your mailbox; sign in again.\n```",
    ),
    "an underlined heading in another section": ("A stale cached credential.", "A stale cached credential.\n\nReply to customer\n-----------------\n\nSend this."),
    "a heading the loader reads as code": ("A stale cached credential.", "A stale cached credential.\n    ```\n### Reply to customer\n\nSend this."),
}  # fmt: skip


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_headings_cannot_dodge_the_check(repo: Path, case: str) -> None:
    old, new = HOSTILE[case]
    edit(repo, KE1, old, new)
    commit(repo, f"KE-0001: {case}\n\nApproved-by: {BOB}")
    assert codes(repo) == {("KE819", KE1)}
    amend(repo, f"KE-0001: {case}\n\nApproved-by: {BOB}\nApproved-by: {LENA}")
    assert codes(repo) == set()


# ---------------------------------------------------------------- signed evidence
def test_signed_mode_applies_to_the_incident_leads_approval(repo: Path, tmp_path: Path) -> None:
    require_tool("ssh-keygen", "signed approvals", "openssh-client")
    keys = tmp_path / "keys"
    keys.mkdir()
    sign: dict[str, list[str]] = {}
    lines = []
    for name, principal in (("platform", "platform@example.com"), ("bob", "bob.approver@example.com")):
        key = keys / name
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
        keytype, blob = Path(f"{key}.pub").read_text().split()[:2]
        lines.append(f"{principal} {keytype} {blob}")
        sign[name] = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
    (repo / "content" / "allowed_signers").write_text("\n".join(lines) + "\n", encoding="utf-8")
    edit(repo, "content/kedb.yml", "name: Test KB", "name: Test KB\napproval_evidence: signed\nplatform_signers: [platform@example.com]")
    commit(repo, f"Approvals must be signed\n\nApproved-by: {ANN}")
    new_reply(repo)
    commit(repo, f"KE-0001: new reply\n\nApproved-by: {BOB}\nApproved-by: {LENA}", sign=sign["bob"])
    assert codes(repo) == {("KE817", KE1)}  # Bob's key counts for Bob only, not for the incident lead
    assert message(repo, "KE817", KE1).startswith("KE-0001 version 3 ")
    assert "Approved-by: Lena Lead, but the commit is signed by bob.approver@example.com" in message(repo, "KE817", KE1)
    git(repo, *sign["platform"], "commit", "-q", "-S", "--amend", "-m", f"KE-0001: new reply\n\nApproved-by: {BOB}\nApproved-by: {LENA}",
        env=CAROL)  # fmt: skip
    assert codes(repo) == set()


# ---------------------------------------------------------------- what the approver reads on the merge request
def review(root: Path) -> tuple[str, dict]:  # type: ignore[type-arg]
    md = kedb("--root", str(root), "review", "--base", "main")
    js = kedb("--root", str(root), "review", "--base", "main", "--format", "json")
    assert md.exit_code == 0 and js.exit_code == 0, md.output + md.stderr
    return md.stdout, json.loads(js.stdout)


def reply_risks(data: dict, rid: str = "KE-0001") -> list[dict]:  # type: ignore[type-arg]
    (rec,) = [r for r in data["records"] if r["id"] == rid]
    return [r for r in rec["risks"] if "customer reply" in r["risk"]]


def test_the_review_tells_the_approver_the_reply_changed_and_who_approves_it(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "mr")
    edit(repo, KE1, ORIGINAL, "## Reply to Customer \n\nWe have reset your mailbox; sign in again.")
    commit(repo, "KE-0001: new reply")
    md, data = review(repo)
    who = "needs approval by the incident lead: Lena Lead (@llead), Leo Lead, Ivy Both"
    assert f"- **KE-0001**, customer reply text changed on a P1 or risk-tagged record: {who}" in md
    assert [r["approvers"] for r in reply_risks(data)] == [["Lena Lead (@llead)", "Leo Lead", "Ivy Both"]]


def test_the_review_says_nothing_of_the_reply_when_it_did_not_change(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "mr")
    edit(repo, KE1, "A stale cached credential.", "A stale cached token.")
    commit(repo, "KE-0001: cause")
    md, data = review(repo)
    assert "customer reply" not in md and reply_risks(data) == []


def test_the_review_of_a_publication_and_a_deletion(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "mr")
    edit(repo, KE1, "status: published", "status: in-review")
    commit(repo, "KE-0001 back to review")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge", "mr", env=CAROL)
    git(repo, "checkout", "-q", "-b", "publish")
    edit(repo, KE1, "status: in-review", "status: published")
    commit(repo, "KE-0001: publish")
    md, _ = review(repo)
    assert "- **KE-0001**, customer reply text published on a P1 or risk-tagged record: needs approval by the incident lead" in md
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-q", "-b", "delete")
    edit(repo, KE1, "status: in-review", "status: published")
    commit(repo, "KE-0001: publish")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge", "delete", env=CAROL)
    git(repo, "checkout", "-q", "-b", "gone")
    git(repo, "rm", "-q", KE1)
    commit(repo, "KE-0001: delete")
    md, _ = review(repo)
    assert "- **KE-0001**, customer reply withdrawn (the record is deleted or no longer published) on a P1 or risk-tagged record" in md


def test_the_review_of_a_new_live_record_with_a_reply(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "mr")
    text = (repo / KE1).read_text(encoding="utf-8").replace("KE-0001", "KE-0002")
    (repo / KE2).write_text(text.replace("problem: PRB-0001\n", "").replace("workarounds: [WA-0001]\n", ""), encoding="utf-8")
    commit(repo, "KE-0002, published at once")
    md, data = review(repo)
    assert "- **KE-0002**, customer reply text of a new record on a P1 or risk-tagged record: needs approval by the incident lead" in md
    assert len(reply_risks(data, "KE-0002")) == 1


# ---------------------------------------------------------------- the rule's units
def test_a_verdict_names_the_groups_no_valid_approval_covers(base_kb: Path) -> None:
    from kedb.core.load.loader import load
    from kedb.git.approvals import decide

    program = load(base_kb, use_cache=False)[0].program
    groups = {"service": ["bob.approver"], "reply": ["ann.owner"]}
    carol = ("Carol Writer <carol@example.com>",)
    assert decide(program, groups, (), carol).lacking == ("service", "reply")
    assert decide(program, groups, (BOB,), carol).lacking == ("reply",)
    assert decide(program, groups, ("Mallory <m@example.com>",), carol).lacking == ("service", "reply")
    assert decide(program, groups, (BOB, ANN), (ANN,)).lacking == ("reply",)
    assert decide(program, groups, (BOB, ANN), carol, signed=True).lacking == ("service", "reply")
    assert decide(program, groups, (BOB, ANN), carol).lacking == ()


SECURITY = RiskTagDef(id="security", description="Security.", handling="Checked.", approver_role="security-officer")
LEGAL = RiskTagDef(id="legal", description="Legal.", handling="Checked.", approver_role="incident-lead")


@pytest.mark.parametrize(
    ("priority", "tags", "roles"),
    [
        ("P1", [], ("incident-lead",)),
        ("P2", [], ()),
        (None, [], ()),
        ("P2", ["security"], ("security-officer",)),
        ("P1", ["security", "legal"], ("incident-lead", "security-officer")),  # each role once, P1's first
        ("P3", ["billing"], ("incident-lead",)),  # a tag the triage policy does not define
        ("P3", ["legal", "security"], ("incident-lead", "security-officer")),
    ],
)
def test_the_roles_that_approve_a_reply(priority: str | None, tags: list[str], roles: tuple[str, ...]) -> None:
    assert gate.reply_roles(priority, tags, (SECURITY, LEGAL)) == roles


def test_the_record_pages_banner_asks_the_same_function() -> None:
    from kedb.core.program import TriageFile
    from kedb.site.views import reply_approvers

    named = [SimpleNamespace(id="incident-lead", name="Incident lead"), SimpleNamespace(id="security-officer", name="Security officer")]
    roles = SimpleNamespace(roles=named)
    triage = TriageFile.model_construct(risk_tags=[SECURITY])
    ctx = SimpleNamespace(kb=SimpleNamespace(program=SimpleNamespace(roles=roles, triage=triage)))
    ke = SimpleNamespace(priority="P1", risk_tags=["security", "billing"])
    assert reply_approvers(ctx, ke) == ["Incident lead", "Security officer"]  # type: ignore[arg-type]
    ke = SimpleNamespace(priority="P2", risk_tags=[])
    assert reply_approvers(ctx, ke) == []  # type: ignore[arg-type]


def _ke(status: str, digest: str, priority: str = "P1", tags: tuple[str, ...] = ()) -> State:
    return State("known-error", status, "mail", True, (), Reply(digest, priority, tags))


@pytest.mark.parametrize(
    ("before", "after", "roles"),
    [
        (_ke("published", "a"), _ke("published", "b"), ("incident-lead",)),
        (_ke("published", "a"), _ke("published", "a"), ()),  # the reply did not change
        (_ke("published", "a", "P1"), _ke("published", "b", "P2"), ("incident-lead",)),  # judged on before
        (_ke("published", "a", "P3"), _ke("published", "b", "P1"), ("incident-lead",)),  # and on after
        (_ke("published", "a", "P1"), _ke("published", "b", "P2", ("security",)), ("incident-lead", "security-officer")),
        (_ke("published", "a", "P2"), _ke("published", "b", "P2"), ()),  # neither P1 nor tagged
        (_ke("draft", "a"), _ke("draft", "b"), ()),  # a draft's reply reaches nobody
        (_ke("draft", "a", "P1"), _ke("published", "a", "P2", ("security",)), ("security-officer",)),  # published: the draft's P1 does not count
        (_ke("published", "a", "P2", ("security",)), _ke("in-review", "a", "P1"), ("security-officer",)),  # withdrawn
        (None, _ke("retired", "a"), ("incident-lead",)),  # added as a live record
        (_ke("published", "a"), None, ("incident-lead",)),  # deleted
        (None, None, ()),
        (State("workaround", "published", "mail", True), State("workaround", "published", "mail", True), ()),
        (State("known-error", "published", "mail", True), _ke("published", "a"), ("incident-lead",)),
    ],
)  # fmt: skip
def test_which_change_needs_the_replys_approvers(before: State | None, after: State | None, roles: tuple[str, ...]) -> None:
    assert gate.reply_approvers(before, after, (SECURITY,)) == roles


def test_a_known_errors_state_carries_its_reply() -> None:
    def high(impact: object, priority: object, tags: object) -> bool:
        return False

    data = {"status": "published", "priority": "P1", "risk_tags": ["security", 7], gate.REPLY_FIELD: "d"}
    assert gate.state_from_fields("KE-0001", data, high).reply == Reply("d", "P1", ("security", "7"))
    assert gate.state_from_fields("KE-0001", {**data, "priority": None, "risk_tags": "x"}, high).reply == Reply("d", None, ())
    assert gate.state_from_fields("KE-0001", {"status": "published"}, high).reply is None  # no digest read
    assert gate.state_from_fields("WA-0001", data, high).reply is None  # only a known error has a reply


BODY = f"## Symptoms\n\nIt fails.\n\n{ORIGINAL}\n\n## Permanent fix\n\nNone yet.\n"


@pytest.mark.parametrize(
    ("body", "same"),
    [
        (BODY, True),
        (BODY.replace("It fails.", "It fails twice."), True),  # another section
        (BODY.replace("None yet.", "Patch in May."), True),  # a section after the reply
        (BODY.replace("## Reply to customer", "## Reply to Customer   "), True),  # the loader reads the same reply
        (BODY.replace("## Reply to customer", "## REPLY TO CUSTOMER #"), True),
        (BODY.replace(REPLY, REPLY + " "), True),  # the section's text is stripped, as the loader strips it
        (BODY.replace(REPLY, "Call us."), False),
        (BODY.replace(f"{ORIGINAL}\n\n", ""), False),  # no reply section
        (BODY.replace(REPLY, ""), False),
        (BODY + "\n## Reply to customer\n\nAnother.\n", False),  # a second one, after
        (BODY.replace("It fails.", "It fails.\n\n**Reply to customer:**\n\nAnother."), False),
        (BODY.replace("It fails.", "It fails.\n\n> ### Reply-to-customers\n\nAnother."), False),
        (BODY.replace("It fails.", "It fails. Please reply to customer within the hour."), True),  # words in a sentence
    ],
)  # fmt: skip
def test_the_reply_digest(body: str, same: bool) -> None:
    assert (gate.reply_digest(body) == gate.reply_digest(BODY)) is same


def test_an_empty_reply_section_is_not_the_same_as_none() -> None:
    empty, none = BODY.replace(REPLY, ""), BODY.replace(f"{ORIGINAL}\n\n", "")
    assert gate.reply_digest(empty) != gate.reply_digest(none)  # removing the heading is a change too


def test_the_reply_digest_reads_the_sections_the_loader_reads() -> None:
    fenced = BODY.replace("It fails.", "It fails.\n\n```\ncode\n```")  # the loader's slower path, with fences
    assert gate.reply_digest(fenced) == gate.reply_digest(BODY)
    assert gate.reply_digest(fenced.replace(REPLY, "Call us.")) != gate.reply_digest(fenced)
    assert gate.reply_digest(fenced.replace("None yet.", "Patch in May.")) == gate.reply_digest(fenced)
