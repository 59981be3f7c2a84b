"""The approval gate's decisions one by one, with the answer written out: the rules of
``kedb.core.gate`` and the verdicts of ``kedb.git.approvals`` (``make mutation`` measures the
gate by these and by the real-git scenarios of tests/test_gate_bypasses.py)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from kbtest import FIXTURES, copy_kb, git
from kedb.core import gate
from kedb.core.gate import State

HIGH = lambda ke: ke == "KE-0009"  # noqa: E731 - the one high-impact known error of these tests
LOW = lambda ke: False  # noqa: E731


# ---------------------------------------------------------------- what a record is, in one version
@pytest.mark.parametrize(
    ("path", "record"),
    [
        ("known_errors/KE-0001-outlook.md", True),
        ("known_errors/mail/WA-0002.md", True),
        ("known_errors/PRB-12345-x.md", True),
        ("known_errors/KE-001-short.md", False),
        ("known_errors/KE-0001-Upper.md", False),
        ("known_errors/README.md", False),
        ("known_errors/KE-0001-x.md.bak", False),
        ("content/roles.yml", False),
        ("KE-0001-x.md", False),
        ("hatch_build.py", False),
        ("docs/known_errors/KE-0001-x.md", False),
    ],
)
def test_record_paths(path: str, record: bool) -> None:
    assert gate.is_record_path(path) is record


def test_maintainer_paths_are_every_path_but_records() -> None:
    paths = ["known_errors/KE-0001-a.md", "Makefile", "known_errors/notes.txt", ".ci/run", "Makefile", "hatch_build.py"]
    assert gate.maintainer_paths(paths) == [".ci/run", "Makefile", "hatch_build.py", "known_errors/notes.txt"]


@pytest.mark.parametrize(
    ("record_id", "kind"),
    [
        ("KE-0001", "known-error"),
        ("WA-0002", "workaround"),
        ("PRB-12345", "problem"),
        ("KE-0001-outlook", "known-error"),  # a file's stem: only the prefix counts
        ("ke-0001", ""),
        ("KB-0001", ""),
        ("KE0001", ""),
    ],
)
def test_kind_of(record_id: str, kind: str) -> None:
    assert gate.kind_of(record_id) == kind


def _high(impact: object, priority: object, tags: object) -> bool:
    return impact == "high" or priority == "P1" or bool(tags)


@pytest.mark.parametrize(
    ("rid", "fields", "expected"),
    [
        ("KE-0001", {"status": "published", "service": "mail", "impact": "low", "priority": "P1"}, State("known-error", "published", "mail", True)),
        ("KE-0001", {"status": "retired", "service": "mail", "risk_tags": ["legal"]}, State("known-error", "retired", "mail", True)),
        ("KE-0001", {"status": "published", "risk_tags": "legal"}, State("known-error", "published", None, False)),
        ("PRB-0001", {"status": "investigating", "impact": "high", "priority": "P1"}, State("problem", "investigating", None, True)),
        ("PRB-0001", {"status": "closed", "impact": "low", "risk_tags": ["security"]}, State("problem", "closed", None, False)),
        ("WA-0001", {"status": "published", "impact": "high", "applies_to": ["KE-0009", 7]}, State("workaround", "published", None, False, ("KE-0009", "7"))),
        ("WA-0001", {"status": 3, "service": 4, "applies_to": "KE-0009"}, State("workaround", "3", "4", False, ())),
        # applies_to is a workaround's link: on another kind it links nothing
        ("KE-0001", {"status": "published", "applies_to": ["KE-0009"]}, State("known-error", "published", None, False, ())),
        ("PRB-0001", {"status": "closed", "applies_to": ["KE-0009"]}, State("problem", "closed", None, False, ())),
        # no status or service: None, not the text "None"
        ("KE-0001", {"impact": "high"}, State("known-error", None, None, True)),
    ],
)  # fmt: skip
def test_state_from_front_matter(rid: str, fields: dict[str, object], expected: State) -> None:
    assert gate.state_from_fields(rid, fields, _high) == expected


@pytest.mark.parametrize(
    ("state", "ke_high", "gated"),
    [
        (State("known-error", "published", "m", True), LOW, True),
        (State("known-error", "retired", "m", True), LOW, True),
        (State("known-error", "in-review", "m", True), LOW, False),
        (State("known-error", "draft", "m", True), LOW, False),
        (State("known-error", "published", "m", False), HIGH, False),
        (State("workaround", "published", "m", False, ("KE-0001", "KE-0009")), HIGH, True),
        (State("workaround", "published", "m", False, ("KE-0001",)), HIGH, False),
        (State("workaround", "in-review", "m", False, ("KE-0009",)), HIGH, False),
        (State("problem", "candidate", "m", True), LOW, False),
        (State("problem", "investigating", "m", True), LOW, True),
        (State("problem", "fix-approved", "m", True), LOW, True),
        (State("problem", "closed", "m", True), LOW, True),
        (State("problem", "investigating", "m", False), HIGH, False),
        (None, HIGH, False),
    ],
)
def test_gated(state: State | None, ke_high, gated: bool) -> None:  # type: ignore[no-untyped-def]
    assert gate.gated(state, ke_high) is gated


LIVE_HIGH = State("known-error", "published", "mail", True)
LIVE_LOW = State("known-error", "published", "mail", False)


@pytest.mark.parametrize(
    ("before", "after", "needed"),
    [
        (LIVE_HIGH, LIVE_LOW, True),  # a downgrade
        (LIVE_LOW, LIVE_HIGH, True),
        (LIVE_HIGH, None, True),  # a deletion
        (None, LIVE_HIGH, True),
        (LIVE_LOW, LIVE_LOW, False),
        (State("known-error", "draft", "mail", True), State("known-error", "in-review", "mail", True), False),
        (None, None, False),
    ],
)
def test_a_change_is_gated_before_or_after(before: State | None, after: State | None, needed: bool) -> None:
    assert gate.needs_approval(before, after, LOW) is needed


def test_approving_services_old_and_new() -> None:
    moved = State("known-error", "published", "printing", True)
    assert gate.approving_services(LIVE_HIGH, moved) == ("mail", "printing")
    assert gate.approving_services(LIVE_HIGH, LIVE_LOW) == ("mail",)
    assert gate.approving_services(None, moved) == ("printing",)
    assert gate.approving_services(State("known-error", "published", None, True), None) == ()


# ---------------------------------------------------------------- one verdict
@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The base KB's policy with a second approver (Carol) and a maintainer (Ann)."""
    from kedb.core.load.loader import load

    root = copy_kb(FIXTURES / "base", tmp_path_factory.mktemp("two") / "kb")
    roles = root / "content" / "roles.yml"
    text = roles.read_text(encoding="utf-8").replace("approvers: [bob.approver]", "approvers: [bob.approver, carol.approver, ghost.handle]")
    text = text.replace(
        "maintainers:",
        "  - handle: carol.approver\n    name: Carol Approver\n    email: carol@example.com\n    roles: [approver]\nmaintainers:",
    )
    text = text.replace("approvers: []", "approvers: [ann.owner]")
    roles.write_text(text, encoding="utf-8")
    kb, _ = load(root, use_cache=False)
    assert "carol.approver" in kb.program.people
    return kb.program


BOB = "Bob Approver <bob.approver@example.com>"
ANN = "Ann Owner <ann.owner@example.com>"
CAROL = "Carol Approver <carol@example.com>"
MALLORY = "Mallory <m@example.com>"
MAIL = {"approvers of m365-mail": ["bob.approver", "carol.approver", "ghost.handle"]}
NEEDS = "needs approvers of m365-mail: one of Bob Approver, Carol Approver, ghost.handle"


@pytest.mark.parametrize(
    ("approved_by", "authors", "verdict", "shown", "message"),
    [
        ((), (ANN,), "missing", (), f"no Approved-by: trailer; {NEEDS}"),
        (("  ",), (ANN,), "missing", (), f"no Approved-by: trailer; {NEEDS}"),
        ((BOB,), (ANN,), "approved", ("Bob Approver",), "approved by Bob Approver"),
        (("bapprover",), (ANN,), "approved", ("Bob Approver",), "approved by Bob Approver"),
        (("bob.approver@example.com",), (ANN,), "approved", ("Bob Approver",), "approved by Bob Approver"),  # a bare e-mail
        (("@bapprover",), (ANN,), "approved", ("Bob Approver",), "approved by Bob Approver"),
        ((BOB, CAROL), (ANN,), "approved", ("Bob Approver", "Carol Approver"), "approved by Bob Approver, Carol Approver"),
        ((BOB, BOB), (ANN,), "approved", ("Bob Approver",), "approved by Bob Approver"),
        ((BOB,), (ANN, BOB), "self-approved", ("Bob Approver",), f"approved only by an author of the change (Bob Approver); {NEEDS}"),
        ((MALLORY, BOB), (BOB,), "self-approved", ("Bob Approver",), f"approved only by an author of the change (Bob Approver); {NEEDS}"),
        ((ANN,), (BOB,), "unauthorised", (ANN,), f"{ANN} may not approve this change; {NEEDS}"),
        ((ANN, MALLORY), (BOB,), "unauthorised", (ANN, MALLORY), f"{ANN}, {MALLORY} may not approve this change; {NEEDS}"),
        ((BOB,), ("Bob Approver <bob@home.example>",), "self-approved", ("Bob Approver",),
         f"approved only by an author of the change (Bob Approver); {NEEDS}"),  # his name under another address
    ],
)  # fmt: skip
def test_one_verdict(program, approved_by, authors, verdict, shown, message) -> None:  # type: ignore[no-untyped-def]
    from kedb.core.trail import VIOLATIONS
    from kedb.git.approvals import decide

    d = decide(program, MAIL, approved_by, authors)
    assert (d.status, d.approvers, d.message) == (verdict, shown, message)
    assert (d.status in VIOLATIONS) is (verdict != "approved")


def test_a_moved_record_needs_both_services(program) -> None:  # type: ignore[no-untyped-def]
    from kedb.git.approvals import decide

    groups = {"approvers of m365-mail": ["bob.approver"], "approvers of printing": ["ann.owner"]}
    assert decide(program, groups, (BOB, ANN), (CAROL,)).status == "approved"
    half = decide(program, groups, (BOB,), (CAROL,))
    assert (half.status, half.message) == (
        "unauthorised",
        "approved by Bob Approver, but still needs approvers of printing: one of Ann Owner",
    )
    neither = decide(program, groups, (MALLORY,), (CAROL,))
    assert (neither.status, neither.message) == (
        "unauthorised",
        f"{MALLORY} may not approve this change; needs approvers of m365-mail: one of Bob Approver; approvers of printing: one of Ann Owner",
    )
    nobody = decide(program, {"approvers of x": []}, (BOB,), (ANN,))
    assert (nobody.status, nobody.message) == (
        "unauthorised",
        f"{BOB} may not approve this change; needs approvers of x: one of (nobody is named)",
    )


def test_an_author_kedb_cannot_identify_is_a_note(program) -> None:  # type: ignore[no-untyped-def]
    from kedb.git.approvals import decide

    d = decide(program, MAIL, (BOB,), (ANN, "Dev Laptop <root@localhost>"))
    assert d.status == "approved"
    assert d.notes == (
        "cannot tell whether Dev Laptop <root@localhost> is an approver or an author: Dev Laptop <root@localhost> is not a person in content/roles.yml",
    )
    assert decide(program, MAIL, (BOB,), (ANN,)).notes == ()


class _Sig:
    def __init__(self, status: str, signer: str) -> None:
        self.status, self.signer = status, signer

    @property
    def good(self) -> bool:
        return self.status == "G"

    def describe(self) -> str:
        return f"<{self.status} {self.signer}>"


@pytest.mark.parametrize(
    ("signature", "verdict", "message"),
    [
        (None, "unsigned", f"Approved-by: Bob Approver, but the commit is not signed; in signed mode an approval counts only on a commit signed by the platform's merge key or by the approver ({NEEDS})"),
        (_Sig("G", "platform"), "approved", "approved by Bob Approver"),
        (_Sig("G", "bob.approver@example.com"), "approved", "approved by Bob Approver"),
        (_Sig("G", "ann.owner@example.com"), "unsigned", f"Approved-by: Bob Approver, but the commit is <G ann.owner@example.com>; in signed mode an approval counts only on a commit signed by the platform's merge key or by the approver ({NEEDS})"),
        (_Sig("U", "platform"), "unsigned", f"Approved-by: Bob Approver, but the commit is <U platform>; in signed mode an approval counts only on a commit signed by the platform's merge key or by the approver ({NEEDS})"),
        (_Sig("B", "bob.approver@example.com"), "unsigned", f"Approved-by: Bob Approver, but the commit is <B bob.approver@example.com>; in signed mode an approval counts only on a commit signed by the platform's merge key or by the approver ({NEEDS})"),
    ],
)  # fmt: skip
def test_signed_mode(program, signature, verdict: str, message: str) -> None:  # type: ignore[no-untyped-def]
    from kedb.git.approvals import decide

    d = decide(program, MAIL, (BOB,), (ANN,), signature=signature, signed=True, platform_signers=("platform",))
    assert (d.status, d.message) == (verdict, message)
    # The same signature changes nothing in trailers mode.
    assert decide(program, MAIL, (BOB,), (ANN,), signature=signature, signed=False).status == "approved"


def test_a_self_approval_stays_one_when_signed(program) -> None:  # type: ignore[no-untyped-def]
    from kedb.git.approvals import decide

    d = decide(program, MAIL, (BOB,), (BOB,), signature=_Sig("G", "platform"), signed=True, platform_signers=("platform",))
    assert d.status == "self-approved"


# ---------------------------------------------------------------- one version, with its policy
def _version(approved_by=(), day: str = "2026-07-01", mode: str = "100644", blob: str | None = "b" * 40):  # type: ignore[no-untyped-def]
    from kedb.core.trail import Person, Version

    ann = Person("Ann Owner", "ann.owner@example.com")
    when = datetime.fromisoformat(f"{day}T12:00:00+00:00")
    return Version(
        3,
        "c" * 40,
        when,
        ann,
        (ann,),
        "Update",
        "",
        tuple(approved_by),
        (),
        None,
        "modified",
        "known_errors/KE-0001-x.md",
        None,
        blob,
        mode,
    )


def _judged(program, before, after, gate_since=date(2026, 1, 1), approved_by=(), day="2026-07-01", record="KE-0001"):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from kedb.git.approvals import Policy, _Judged

    settings = program.settings.model_copy(update={"approvals_since": gate_since})
    policy = Policy(replace(program, settings=settings))
    return _Judged(record, _version(approved_by, day), before, after, policy)


@pytest.mark.parametrize(
    ("before", "after", "gate_since", "approved_by", "day", "verdict", "message"),
    [
        (LIVE_LOW, LIVE_LOW, None, (), "2026-07-01", "not-required", "not a change to a live high-impact record"),
        (LIVE_HIGH, LIVE_LOW, None, (), "2026-07-01", "before-gate", "the approval gate had not started (no approvals_since in content/kedb.yml)"),
        (State("known-error", "published", "m365-mail", True), LIVE_LOW, date(2026, 1, 1), (), "2026-07-01", "missing", "no Approved-by: trailer; needs approvers of m365-mail: one of Bob Approver, Carol Approver, ghost.handle; approvers of mail: one of (nobody is named)"),
        (None, State("known-error", "published", "m365-mail", True), date(2026, 7, 1), (BOB,), "2026-07-01", "approved", "approved by Bob Approver"),
        (None, State("known-error", "published", "m365-mail", True), date(2026, 7, 2), (), "2026-07-01", "before-gate", "landed before the approval gate started (2026-07-02)"),
        (None, State("known-error", "published", None, True), date(2026, 1, 1), (BOB,), "2026-07-01", "unauthorised", f"{BOB} may not approve this change; needs approvers: one of (nobody is named)"),
    ],
)  # fmt: skip
def test_one_version(program, before, after, gate_since, approved_by, day, verdict, message) -> None:  # type: ignore[no-untyped-def]
    from kedb.git.approvals import judge_version

    a = judge_version(_judged(program, before, after, gate_since, approved_by, day), LOW, {})
    assert (a.status, a.message) == (verdict, message)


def test_an_unreadable_version_never_passes(program) -> None:  # type: ignore[no-untyped-def]
    from kedb.git.approvals import Policy, Unreadable, _Judged, judge_version

    why = Unreadable("its front-matter is not valid YAML (x)")
    a = judge_version(_judged(program, LIVE_LOW, why, approved_by=(BOB,)), LOW, {})
    assert (a.status, a.message) == (
        "unreadable",
        "kedb cannot read this version: its front-matter is not valid YAML (x); a version the gate cannot judge never passes",
    )
    b = judge_version(_judged(program, why, LIVE_LOW), LOW, {})
    assert b.status == "unreadable" and "the version before it" in b.message
    early = judge_version(_judged(program, None, why, gate_since=date(2026, 8, 1)), LOW, {})
    assert early.status == "before-gate"
    broken = _Judged("KE-0001", _version(), None, LIVE_HIGH, Policy(None, "content/roles.yml is not valid YAML (y)"))
    c = judge_version(broken, LOW, {})
    assert (c.status, c.message) == (
        "unreadable",
        "the approval policy in force before this change cannot be read: content/roles.yml is not valid YAML (y)",
    )
    bootstrap = judge_version(_Judged("KE-0001", _version(), None, LIVE_HIGH, Policy(None)), LOW, {})
    assert bootstrap.status == "before-gate" and "no approval policy was in force yet" in bootstrap.message


def test_the_state_shown_is_gated_or_not(program) -> None:  # type: ignore[no-untyped-def]
    from kedb.git.approvals import judge_version

    wa = State("workaround", "published", "m365-mail", False, ("KE-0009",))
    a = judge_version(_judged(program, wa, wa, record="WA-0001"), HIGH, {})
    assert a.status == "missing" and a.state.high_impact and a.state.status == "published"
    deleted = judge_version(_judged(program, LIVE_HIGH, None), LOW, {})
    assert deleted.status == "missing" and deleted.state.status == "published"


# ---------------------------------------------------------------- reading front-matter and blobs
@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("no front-matter at all\n", "its front-matter cannot be read"),
        ("---\nid: KE-0001\nstatus: [published\n---\n", "its front-matter is not valid YAML"),
        ("---\n- a list\n---\n", "its front-matter is not a mapping of fields"),
        ("---\nid: KE-0001\nstatus: published\n", "its front-matter cannot be read"),
        ("---\n---\nbody\n", "its front-matter is not a mapping of fields"),  # empty
    ],
)
def test_unreadable_front_matter(text: str, why: str) -> None:
    from kedb.git.approvals import Unreadable, _fields

    got = _fields(text)
    assert isinstance(got, Unreadable) and got.startswith(why)


def test_fields_are_only_those_the_gate_reads() -> None:
    from kedb.git.approvals import _fields

    got = _fields("---\nid: KE-0001\nstatus: published\npriority: P1\ntitle: T\n---\nbody\n")
    reply = gate.reply_digest("body\n")
    assert got == {"status": "published", "service": None, "impact": None, "priority": "P1", "risk_tags": None, "applies_to": None} | {
        gate.REPLY_FIELD: reply
    }


def test_many_old_versions_are_read_by_the_workers_with_the_same_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above PARALLEL_AT the blobs' fields are read by the forked workers: the same fields, each under its own blob
    id, readable or not, as reading them one after another here."""
    from kedb.core import forkpool
    from kedb.git import approvals

    texts = [
        "---\nid: KE-0001\nstatus: published\npriority: P1\nrisk_tags: [payroll]\n---\n## Customer reply\nHello\n",
        "---\nid: KE-0002\nstatus: draft\nimpact: {users: 3}\n---\nbody\n",  # libyaml's path
        "---\nid: KE-0003\nstatus: [published\n---\n",
        "---\n- a list\n---\n",
        "no front-matter at all\n",
        "---\nid: KE-0004\nstatus: retired\napplies_to: [a, b]\n---\n",
    ] * 7
    raw = {f"{i:040x}": f"{t}\n{'x' * i}\n".encode() for i, t in enumerate(texts)}
    alone = {sha: approvals._fields(data.decode()) for sha, data in raw.items()}
    used: list[int] = []
    real = forkpool.chunked_map
    monkeypatch.setattr(forkpool, "chunked_map", lambda fn, items: used.append(len(items)) or real(fn, items))
    monkeypatch.setattr(approvals, "PARALLEL_AT", 10)
    assert forkpool.can_fork(), "this test needs a process that may fork"
    assert approvals._parsed(raw) == alone and used == [len(raw)]
    assert approvals._RAW == {}, "the blobs are not kept after the workers are done"
    monkeypatch.setattr(approvals, "PARALLEL_AT", 1000)
    assert approvals._parsed(raw) == alone and used == [len(raw)]  # few: read here


def test_blobs_git_cannot_return_are_none(tmp_path: Path) -> None:
    from kedb.git.approvals import _read_blobs

    root = _committed_kb(tmp_path)
    good = git(root, "rev-parse", "HEAD:known_errors/KE-0001-outlook-prompts.md").strip()
    got = _read_blobs(root, ["0" * 40, good, "not-hex"])
    assert got["0" * 40] is None and got["not-hex"] is None and got[good].startswith(b"---\nid: KE-0001")


def _committed_kb(tmp_path: Path) -> Path:
    """The base KB as a repository of one commit."""
    root = copy_kb(FIXTURES / "base", tmp_path / "kb")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "KB")
    return root


# ---------------------------------------------------------------- the gate date
def _landing(day: str = "2026-07-01"):  # type: ignore[no-untyped-def]
    from kedb.core.trail import Landing, Person

    ann = Person("Ann Owner", "ann.owner@example.com")
    return Landing("d" * 40, 5, datetime.fromisoformat(f"{day}T23:30:00-05:00"), ann, (ann,), "Gate", (), ("content/kedb.yml",), (), ())


@pytest.mark.parametrize(
    ("old", "new", "moved"),
    [
        (None, None, None),
        (None, date(2026, 7, 1), None),
        (None, date(2026, 7, 2), None),  # "tomorrow" in another time zone
        (None, date(2026, 7, 3), "approvals_since is set to 2026-07-03, after the day it was set (2026-07-01): every change until then would escape the gate"),
        (date(2026, 6, 1), date(2026, 6, 1), None),
        (date(2026, 7, 9), date(2026, 7, 9), None),  # another policy file changed: the date did not move now
        (date(2026, 6, 1), date(2026, 5, 1), None),
        (date(2026, 6, 1), None, "approvals_since (2026-06-01) removed: the approval gate stops"),
        (date(2026, 6, 1), date(2026, 6, 2), "approvals_since moved later, from 2026-06-01 to 2026-06-02: changes in between would escape the gate"),
    ],
)  # fmt: skip
def test_the_gate_date_never_moves_later(program, old, new, moved) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from kedb.git.approvals import Policy, gate_moves

    def policy(since: date | None) -> Policy:
        return Policy(replace(program, settings=program.settings.model_copy(update={"approvals_since": since})))

    x = _landing()
    got = gate_moves(x, policy(old), policy(new))
    assert (got.message if got else None) == moved
    assert got is None or (got.status == "gate-moved" and got.violation and got.landing is x and got.approvers == ())


def test_a_maintainer_change_needs_a_maintainer(program) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from kedb.git.approvals import Policy, judge_landing

    policy = Policy(program)
    x = _landing()
    assert judge_landing(x, policy, {}).message == "no Approved-by: trailer; needs maintainers: one of Ann Owner"
    assert judge_landing(replace(x, approved_by=(BOB,)), policy, {}).status == "unauthorised"
    assert judge_landing(replace(x, approved_by=(ANN,)), policy, {}).status == "self-approved"
    by_bob = replace(x, approved_by=(ANN,), authors=(x.author.__class__("Bob Approver", "bob.approver@example.com"),))
    assert judge_landing(by_bob, policy, {}).status == "approved"
    assert judge_landing(x, Policy(None), {}).status == "before-gate"
    early = Policy(replace(program, settings=program.settings.model_copy(update={"approvals_since": date(2026, 8, 1)})))
    assert judge_landing(x, early, {}).status == "before-gate"


def test_old_versions_are_read_once_and_kept_by_blob_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fields of old versions are kept in .kedb/cache by blob id: a second run reads nothing
    from git and judges the same; a damaged cache file is read again from git."""
    import kedb.git.approvals as approvals
    from kedb.core.load.loader import load
    from kedb.git import history

    root = _committed_kb(tmp_path)
    rel = "known_errors/KE-0001-outlook-prompts.md"
    text = (root / rel).read_text(encoding="utf-8")
    (root / rel).write_text(text.replace("priority: P2", "priority: P1"), encoding="utf-8")
    git(root, "commit", "-q", "-am", "P1")
    (root / rel).write_text(text, encoding="utf-8")
    git(root, "commit", "-q", "-am", "P2 again")
    kb, h = load(root, use_cache=False)[0], history.read(root)
    first = [(a.record, a.version.number, a.status) for a in approvals.verify(kb, h).items]
    assert ("KE-0001", 2, "missing") in first and ("KE-0001", 3, "missing") in first  # the P1 version, and leaving it
    asked: list[list[str]] = []
    real = approvals._read_blobs
    monkeypatch.setattr(approvals, "_read_blobs", lambda r, blobs: asked.append(list(blobs)) or real(r, blobs))
    report = root / ".kedb" / "cache" / approvals._ReportCache.NAME
    report.unlink()  # the head's whole report is kept too: without it, the versions are judged again
    assert [(a.record, a.version.number, a.status) for a in approvals.verify(kb, h).items] == first
    versions = {v.blob for v in h.of("KE-0001").versions}
    assert not versions & {b for call in asked for b in call}, "every old version came from the cache"
    (root / ".kedb" / "cache" / approvals._FieldStore.NAME).write_bytes(b"\x00garbage")
    report.unlink()
    assert [(a.record, a.version.number, a.status) for a in approvals.verify(kb, h).items] == first
    assert versions & {b for call in asked for b in call}, "a damaged cache is read again from git"


# ---------------------------------------------------------------- reading the policy in force
def test_a_policy_file_that_cannot_be_read_says_why() -> None:
    from kedb.core.program import RolesFile, SettingsFile
    from kedb.git.approvals import _PolicyError, _validate

    with pytest.raises(_PolicyError) as missing:
        _validate(RolesFile, None, "content/roles.yml")
    assert str(missing.value) == "git cannot return content/roles.yml"
    with pytest.raises(_PolicyError) as bad_yaml:
        _validate(SettingsFile, b"name: [x\n", "content/kedb.yml")
    assert str(bad_yaml.value).startswith("content/kedb.yml is not valid YAML (while parsing a flow sequence")
    with pytest.raises(_PolicyError) as invalid:
        _validate(SettingsFile, b"name: KB\norganisation: O\napprovals_since: someday\n", "content/kedb.yml")
    assert str(invalid.value) == "content/kedb.yml does not validate (approvals_since: not a date in YYYY-MM-DD form)"
    with pytest.raises(_PolicyError) as nested:
        _validate(SettingsFile, b"name: KB\norganisation: O\nhigh_impact: {impacts: [high, huge]}\n", "content/kedb.yml")
    assert str(nested.value) == "content/kedb.yml does not validate (high_impact.impacts.1: Input should be 'low', 'medium' or 'high')"
    with pytest.raises(_PolicyError) as not_mapping:
        _validate(SettingsFile, b"- a\n", "content/kedb.yml")
    assert str(not_mapping.value).startswith("content/kedb.yml does not validate (: ")
    ok = _validate(SettingsFile, "\ufeffname: KB\r\norganisation: Ö\r\n".encode(), "content/kedb.yml")
    assert (ok.name, ok.organisation) == ("KB", "Ö")


def _policy_repo(tmp_path: Path, signers: str | None = "alice@example.com ssh-ed25519 AAAA\n") -> tuple[Path, dict[str, str]]:
    root = copy_kb(FIXTURES / "base", tmp_path / "kb")
    if signers is not None:
        (root / "content" / "allowed_signers").write_text(signers, encoding="utf-8")
        (root / "content" / "allowed_signers.asc").write_text("-----BEGIN PGP PUBLIC KEY BLOCK-----\nx\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "KB")
    blobs = {p: git(root, "rev-parse", f"HEAD:{p}").strip() for p in gate.POLICY_FILES if (root / p).exists()}
    return root, blobs


def test_the_policy_in_force_is_read_from_its_blobs(tmp_path: Path) -> None:
    from kedb.git.approvals import Policies

    root, blobs = _policy_repo(tmp_path)
    ref = tuple((p, blobs[p]) for p in gate.POLICY_FILES)
    policy = Policies(root).get(ref)
    assert policy.program is not None and policy.problem is None
    assert policy.program.roles.maintainers == ["ann.owner"] and policy.gate_since == date(2026, 1, 1)
    assert policy.ssh_signers == "alice@example.com ssh-ed25519 AAAA\n"
    assert policy.gpg_keys == "-----BEGIN PGP PUBLIC KEY BLOCK-----\nx\n"
    assert not policy.signed
    without_signers = Policies(root).get(ref[:2])
    assert without_signers.program is not None and (without_signers.ssh_signers, without_signers.gpg_keys) == ("", "")
    for partial in (ref[:1], ref[1:2], ()):
        assert Policies(root).get(partial) == Policies(root).get(()) and Policies(root).get(partial).program is None
    broken = Policies(root).get(((gate.ROLES_FILE, "0" * 40), ref[1]))
    assert (broken.program, broken.problem) == (None, "git cannot return content/roles.yml")
    bad_settings = Policies(root).get((ref[0], (gate.SETTINGS_FILE, blobs[gate.ROLES_FILE])))
    assert bad_settings.program is None and bad_settings.problem.startswith("content/kedb.yml does not validate")


def test_each_policy_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kedb.git.approvals as approvals

    root, blobs = _policy_repo(tmp_path, signers=None)
    ref = tuple((p, blobs[p]) for p in gate.POLICY_FILES if p in blobs)
    asked: list[list[str]] = []
    real = approvals._read_blobs
    monkeypatch.setattr(approvals, "_read_blobs", lambda r, b: asked.append(list(b)) or real(r, b))
    policies = approvals.Policies(root)
    first = policies.get(ref)
    assert policies.get(ref) is first and asked == [sorted(blobs.values())]


def test_the_signed_mode_is_the_policys(tmp_path: Path) -> None:
    from dataclasses import replace

    from kedb.core.kb import Program
    from kedb.core.program import SettingsFile
    from kedb.git.approvals import Policy, _may_count

    settings = SettingsFile(name="KB", organisation="O", approval_evidence="signed", approvals_since=date(2026, 6, 1))
    signed = Policy(Program(settings=settings))
    after, on_the_day, before = (datetime.fromisoformat(f"{d}T12:00:00+00:00") for d in ("2026-07-01", "2026-06-01", "2026-05-31"))
    assert signed.signed and _may_count(signed, (BOB,), after) and _may_count(signed, (BOB,), on_the_day)
    assert not _may_count(signed, (BOB,), before) and not _may_count(signed, (), after)
    no_gate = Policy(Program(settings=settings.model_copy(update={"approvals_since": None})))
    assert not _may_count(no_gate, (BOB,), after)
    trailers = Policy(Program(settings=settings.model_copy(update={"approval_evidence": "trailers"})))
    assert not trailers.signed and not _may_count(trailers, (BOB,), after)
    assert not Policy(None).signed and not Policy(replace(Program(), settings=None)).signed


def test_signatures_are_checked_per_set_of_allowed_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    import kedb.git.signatures as signatures
    from kedb.core.kb import Program
    from kedb.core.program import SettingsFile
    from kedb.git.approvals import Policy, _signatures

    calls: list[tuple[list[str], str | None, str | None]] = []
    monkeypatch.setattr(
        signatures, "verify", lambda root, commits, ssh, gpg: calls.append((list(commits), ssh, gpg)) or {c: ssh for c in commits}
    )
    settings = SettingsFile(name="KB", organisation="O", approval_evidence="signed")
    one = Policy(Program(settings=settings), None, "keys-1", "")
    two = Policy(Program(settings=settings), None, "keys-2", "gpg-2")
    trailers = Policy(Program(settings=settings.model_copy(update={"approval_evidence": "trailers"})), None, "keys-1", "")
    got = _signatures(Path("."), [(one, "c2"), (two, "c3"), (one, "c1"), (trailers, "c4"), (one, "c1")])
    assert sorted(calls) == [(["c1", "c2"], "keys-1", None), (["c3"], "keys-2", "gpg-2")]
    assert got == {"c1": "keys-1", "c2": "keys-1", "c3": "keys-2"}
    assert _signatures(Path("."), [(trailers, "c4")]) == {} and len(calls) == 2


# ---------------------------------------------------------------- a version's state
def test_the_state_a_version_left(program) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from kedb.git.approvals import Policy, Unreadable, _read_state

    fields = {
        "b" * 40: {"status": "published", "service": "m365-mail", "impact": "high", "priority": "P3", "risk_tags": None, "applies_to": None}
    }
    v = _version()
    policy = Policy(program)
    assert _read_state("KE-0001", v, fields, policy) == State("known-error", "published", "m365-mail", True)
    assert _read_state("KE-0001", None, fields, policy) is None
    assert _read_state("KE-0001", replace(v, blob=None), fields, policy) is None
    link = _read_state("KE-0001", replace(v, mode="120000"), fields, policy)
    assert isinstance(link, Unreadable) and link == "it is stored as a symlink, which kedb refuses as a record"
    lost = _read_state("KE-0001", replace(v, blob="c" * 40), fields, policy)
    assert isinstance(lost, Unreadable) and lost == "git cannot return it (missing object)"
    assert _read_state("KE-0001", v, {"b" * 40: Unreadable("why")}, policy) == "why"
    stricter = replace(
        program,
        settings=program.settings.model_copy(update={"high_impact": program.settings.high_impact.model_copy(update={"impacts": []})}),
    )
    assert _read_state("KE-0001", v, fields, Policy(stricter)).own_high_impact is False  # the policy's rules decide
    assert _read_state("KE-0001", v, fields, Policy(None)).own_high_impact is True  # kedb's defaults before any policy


def test_current_versions_come_from_the_loaded_records_by_blob_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kedb.git.approvals as approvals
    from kedb.core.load.loader import load
    from kedb.git import history

    root = _committed_kb(tmp_path)
    rel = "known_errors/KE-0001-outlook-prompts.md"
    text = (root / rel).read_text(encoding="utf-8")
    (root / rel).write_text(text.replace("priority: P2", "priority: P1"), encoding="utf-8")
    git(root, "commit", "-q", "-am", "P1")
    kb, h = load(root, use_cache=False)[0], history.read(root)
    loaded = approvals._loaded_fields(kb, ["KE-9999", *kb.records])  # no such record: the others are still read
    expected = {git(root, "rev-parse", f"HEAD:{r.source.path}").strip() for r in kb.records.values()}
    assert set(loaded) == expected
    ke = kb.records["KE-0001"]
    assert loaded[h.of("KE-0001").versions[-1].blob] == {
        "status": "published", "service": "m365-mail", "impact": "medium", "priority": "P1", "risk_tags": [], "applies_to": None,
        gate.REPLY_FIELD: gate.reply_digest(ke.source.body),
    }  # fmt: skip
    from_git = approvals._fields(text.replace("priority: P2", "priority: P1"))
    assert not isinstance(from_git, approvals.Unreadable)
    assert from_git[gate.REPLY_FIELD] == loaded[h.of("KE-0001").versions[-1].blob][gate.REPLY_FIELD]  # the same reply either way
    (root / "known_errors" / "WA-0001-clear-cached-credentials.md").unlink()  # a file gone since loading: read from git
    here = approvals._loaded_fields(kb, ["WA-0001", *kb.records])
    assert len(here) == len(expected) - 1
    from kedb.core import forkpool  # many records are read by the forked workers: the same fields

    used: list[int] = []
    real = forkpool.chunked_map
    monkeypatch.setattr(forkpool, "chunked_map", lambda fn, items: used.append(len(items)) or real(fn, items))
    monkeypatch.setattr(approvals, "PARALLEL_AT", 1)
    assert approvals._loaded_fields(kb, ["WA-0001", *kb.records]) == here and used == [len(kb.records) + 1]  # WA-0001 asked for twice
    monkeypatch.undo()
    fast = [(a.record, a.version.number, a.state, a.status, a.message) for a in approvals.verify(kb, h).items]
    import os

    os.environ["KEDB_NO_CACHE"] = "1"
    try:
        approvals_loaded = approvals._loaded_fields
        approvals._loaded_fields = lambda kb, ids: {}  # type: ignore[assignment]
        slow = [(a.record, a.version.number, a.state, a.status, a.message) for a in approvals.verify(kb, h).items]
    finally:
        approvals._loaded_fields = approvals_loaded  # type: ignore[assignment]
        del os.environ["KEDB_NO_CACHE"]
    assert fast == slow and ("KE-0001", 2, "missing") in [(*x[:2], x[3]) for x in fast]


# ---------------------------------------------------------------- the field cache, in detail
def test_the_field_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kedb.git.approvals import _STORED, Unreadable, _FieldStore

    store = _FieldStore(tmp_path)
    assert store.on and store.known == {} and store.path == tmp_path / ".kedb" / "cache" / _FieldStore.NAME
    good = {"status": "published", "service": "s", "impact": "high", "priority": "P1", "risk_tags": ["legal"], "applies_to": None}
    good[gate.REPLY_FIELD] = "d" * 32
    assert store.add("a" * 40, good) is good
    why = Unreadable("its front-matter is not a mapping of fields")
    assert store.add("b" * 40, why) is why
    store.save()
    again = _FieldStore(tmp_path)
    assert again.known == {"a" * 40: good, "b" * 40: why} and isinstance(again.known["b" * 40], Unreadable)
    assert not isinstance(again.known["a" * 40], Unreadable)
    again.add("c" * 40, good)
    again.save()
    kept = _FieldStore(tmp_path).known
    assert kept == {"a" * 40: good, "b" * 40: why, "c" * 40: good}, "old entries are kept, reasons too, when new ones are added"
    untouched = store.path.stat().st_mtime_ns
    _FieldStore(tmp_path).save()
    assert store.path.stat().st_mtime_ns == untouched, "nothing new: the file is not rewritten"
    import marshal

    from kedb.core.load.cache import write_sealed

    write_sealed(store.path, marshal.dumps({"fields": ["status"], "blobs": {"d" * 40: ("x",)}}))
    assert _FieldStore(tmp_path).known == {}, "another list of fields: the cache is not used"
    write_sealed(store.path, marshal.dumps(["not", "a", "dict"]))
    assert _FieldStore(tmp_path).known == {}
    write_sealed(store.path, b"\x00garbage")
    assert _FieldStore(tmp_path).known == {}
    write_sealed(store.path, marshal.dumps({"fields": list(_STORED), "blobs": {"d" * 40: ("x",)}}))
    assert _FieldStore(tmp_path).known == {}, "an entry of the wrong length: the cache is not used"
    store.save()
    assert _FieldStore(tmp_path).known == {"a" * 40: good, "b" * 40: why}
    monkeypatch.setenv("KEDB_NO_CACHE", "1")
    assert _FieldStore(tmp_path).known == {}, "off: the cache is not read either"
    off = _FieldStore(tmp_path / "elsewhere")
    off.add("a" * 40, good)
    off.save()
    assert not off.on and not off.path.exists()
    assert sorted(p.name for p in store.path.parent.iterdir()) == [".gitignore", _FieldStore.NAME], "no temporary file left behind"


def test_a_field_cache_kedb_did_not_write_is_never_believed(tmp_path: Path) -> None:
    """A forged cache (committed with git add -f, or restored from a shared CI cache) marking the
    old versions of a live P1 record as drafts would hide two KE810: it is ignored."""
    import marshal

    import kedb.git.approvals as approvals
    from kedb.core.load.loader import load
    from kedb.git import history

    root = copy_kb(FIXTURES / "base", tmp_path / "kb")
    rel = "known_errors/KE-0001-outlook-prompts.md"
    text = (root / rel).read_text(encoding="utf-8").replace("priority: P2", "priority: P1")
    (root / rel).write_text(text, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "KB")
    for n in (1, 2):
        (root / rel).write_text(text.replace("again and again", f"again and again ({n})"), encoding="utf-8")
        git(root, "commit", "-q", "-am", f"change {n}")
    kb, h = load(root, use_cache=False)[0], history.read(root)
    draft = ("draft", "m365-mail", "medium", "P1", [], None)
    forged = {"fields": list(approvals._GATE_FIELDS), "blobs": {v.blob: draft for v in h.of("KE-0001").versions}}
    path = root / ".kedb" / "cache" / approvals._FieldStore.NAME
    path.parent.mkdir(parents=True, exist_ok=True)  # history.read keeps its own cache there
    for content in (marshal.dumps(forged), b"kedb-sealed 1\n" + b"\x00" * 32 + marshal.dumps(forged)):
        path.write_bytes(content)
        verdicts = [a.status for a in approvals.verify(kb, h).items if a.record == "KE-0001"]
        assert verdicts == ["before-gate", "missing", "missing"]


# ---------------------------------------------------------------- reading old versions, in detail
def _repo_with_objects(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "objects"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.md").write_bytes(b"---\nstatus: published\n---\n\nline one\r\nline\x00two\n")
    (root / "b.md").write_bytes(b"")
    (root / "sub").mkdir()
    (root / "sub" / "c.md").write_bytes(b"c\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "objects")
    ids = {name: git(root, "rev-parse", f"HEAD:{name}").strip() for name in ("a.md", "b.md", "sub")}
    ids["commit"] = git(root, "rev-parse", "HEAD").strip()
    return root, ids


def test_blobs_are_read_exactly_and_other_objects_skipped(tmp_path: Path) -> None:
    from kedb.git.approvals import _read_blobs

    root, ids = _repo_with_objects(tmp_path)
    got = _read_blobs(
        root, [ids["sub"], ids["a.md"], ids["commit"], ids["b.md"], ids["a.md"], "0" * 40, ids["a.md"].upper(), ids["a.md"][:39]]
    )
    assert got[ids["a.md"]] == b"---\nstatus: published\n---\n\nline one\r\nline\x00two\n"
    assert got[ids["b.md"]] == b""
    assert got[ids["sub"]] is None and got[ids["commit"]] is None, "a tree or a commit is not a record's version"
    assert got["0" * 40] is None and got[ids["a.md"].upper()] is None and got[ids["a.md"][:39]] is None
    assert list(got) == [ids["sub"], ids["a.md"], ids["commit"], ids["b.md"], "0" * 40, ids["a.md"].upper(), ids["a.md"][:39]]


def test_no_blob_to_read_runs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from kedb.git.approvals import _read_blobs

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("git was run"))
    assert _read_blobs(tmp_path, []) == {}
    assert _read_blobs(tmp_path, ["not-an-id", "Z" * 40]) == {"not-an-id": None, "Z" * 40: None}


@pytest.mark.parametrize(
    ("front", "fields"),
    [
        ("status: published\nservice: m\n", {"status": "published", "service": "m"}),  # the fast path
        ("status: published\nservice: m", {"status": "published", "service": "m"}),  # no final newline
        ("status: &s published\nservice: *s\n", {"status": "published", "service": "published"}),  # libyaml only
        ("status: published\nreview_by: 2027-01-01\npriority: 1\nrisk_tags: [a, 2026-01-02, true]\n",
         {"status": "published", "priority": "1", "risk_tags": ["a", "2026-01-02", True]}),  # as the strict reader reads it
        ("impact: 1.5\napplies_to: [[KE-0001]]\n", {"impact": 1.5, "applies_to": [["KE-0001"]]}),
        ("status: &s published\nimpact: 2026-01-02\nrisk_tags: [2026-01-03]\n",
         {"status": "published", "impact": "2026-01-02", "risk_tags": ["2026-01-03"]}),  # libyaml's dates, as text
    ],
)  # fmt: skip
def test_the_fields_the_gate_reads(front: str, fields: dict[str, object]) -> None:
    from kedb.git.approvals import _GATE_FIELDS, _fields

    got = _fields(f"---\n{front}\n---\nbody\n" if not front.endswith("\n") else f"---\n{front}---\nbody\n")
    assert got == {k: fields.get(k) for k in _GATE_FIELDS} | {gate.REPLY_FIELD: gate.reply_digest("body\n")}


def test_a_yaml_error_names_libyamls_first_line() -> None:
    from kedb.git.approvals import Unreadable, _fields

    got = _fields("---\nstatus: [published\nservice: x\n---\n")
    assert isinstance(got, Unreadable)
    assert got == "its front-matter is not valid YAML (while parsing a flow sequence)"


def test_verdicts_that_name_several_people(program) -> None:  # type: ignore[no-untyped-def]
    from kedb.git.approvals import decide

    both = decide(program, MAIL, (BOB, CAROL), (BOB, CAROL, "Dev <root@localhost>"))
    assert (both.status, both.approvers, both.notes) == ("self-approved", ("Bob Approver", "Carol Approver"), ())
    assert both.message == f"approved only by an author of the change (Bob Approver, Carol Approver); {NEEDS}"
    groups = {"approvers of m365-mail": ["bob.approver", "carol.approver"], "approvers of printing": ["ann.owner"]}
    half = decide(program, groups, (BOB, CAROL), (MALLORY,))
    assert (half.status, half.approvers) == ("unauthorised", ("Bob Approver", "Carol Approver"))
    assert half.message == "approved by Bob Approver, Carol Approver, but still needs approvers of printing: one of Ann Owner"
    unsigned = decide(program, MAIL, (BOB, CAROL), (ANN,), signature=None, signed=True)
    assert (unsigned.status, unsigned.approvers) == ("unsigned", ("Bob Approver", "Carol Approver"))
    assert unsigned.message.startswith("Approved-by: Bob Approver, Carol Approver, but the commit is not signed;")
    nobody = decide(program, MAIL, (ANN, MALLORY), (BOB, "Dev <root@localhost>"))
    assert (nobody.status, nobody.approvers, nobody.notes) == ("unauthorised", (ANN, MALLORY), ()), "notes come with an approval only"
    assert decide(program, MAIL, (), ("Dev <root@localhost>",)).notes == ()


# ---------------------------------------------------------------- reading blobs: the edges
def test_when_git_cannot_read_the_repository_every_blob_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kedb.git.approvals import _read_blobs

    monkeypatch.setenv("GIT_DIR", str(tmp_path / "no-repository"))  # git exits 128
    assert _read_blobs(tmp_path, ["a" * 40, "b" * 64]) == {"a" * 40: None, "b" * 64: None}


def test_blobs_of_a_sha256_repository(tmp_path: Path) -> None:
    from kedb.git.approvals import _read_blobs

    root = tmp_path / "sha256"
    root.mkdir()
    git(root, "init", "-q", "--object-format=sha256", "-b", "main")
    (root / "a.md").write_bytes(b"---\nstatus: published\n---\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one")
    blob = git(root, "rev-parse", "HEAD:a.md").strip()
    assert len(blob) == 64
    assert _read_blobs(root, [blob]) == {blob: b"---\nstatus: published\n---\n"}


def test_an_answer_out_of_step_is_not_believed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If git's answers ever stop matching what was asked, nothing from there on is taken."""
    import subprocess

    import kedb.git.approvals as approvals

    a, b, other = "a" * 40, "b" * 40, "f" * 40
    out = f"{other} blob 3\nabc\n{b} blob 3\nxyz\n".encode()
    monkeypatch.setattr(approvals.subprocess, "run", lambda args, **kw: subprocess.CompletedProcess(args, 0, out, b""))
    assert approvals._read_blobs(tmp_path, [a, b]) == {a: None, b: None}


# ---------------------------------------------------------------- the field cache: what it cannot do costs time only
def test_a_field_cache_that_cannot_be_written_costs_nothing_else(tmp_path: Path) -> None:
    from kedb.git.approvals import _FieldStore

    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / ".kedb").write_text("a file where the cache folder would go\n")
    store = _FieldStore(blocked)
    store.add(
        "a" * 40,
        {
            "status": "published",
            "service": None,
            "impact": None,
            "priority": None,
            "risk_tags": None,
            "applies_to": None,
            gate.REPLY_FIELD: "r",
        },
    )
    store.save()  # OSError, swallowed
    odd = _FieldStore(tmp_path / "odd")
    odd.add(
        "a" * 40,
        {
            "status": object(),
            "service": None,
            "impact": None,
            "priority": None,
            "risk_tags": None,
            "applies_to": None,
            gate.REPLY_FIELD: "r",
        },
    )
    odd.save()  # marshal's ValueError, swallowed
    assert not odd.path.exists()


def test_a_field_cache_that_is_not_a_file_is_named_when_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from kedb.git.approvals import _FieldStore

    (tmp_path / ".kedb" / "cache" / _FieldStore.NAME).mkdir(parents=True)
    with caplog.at_level("WARNING"):
        assert _FieldStore(tmp_path).known == {}
    assert f"ignored .kedb/cache/{_FieldStore.NAME}: not a regular file" in caplog.messages


# ---------------------------------------------------------------- maintainer changes, in detail
def _policy(program, since: date | None):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from kedb.git.approvals import Policy

    return Policy(replace(program, settings=program.settings.model_copy(update={"approvals_since": since})))


def test_a_maintainer_change_verdict_in_full(program) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from kedb.core.trail import ChangeApproval
    from kedb.git.approvals import Policy, judge_landing

    x = _landing()  # 1 July 2026
    bob = x.author.__class__("Bob Approver", "bob.approver@example.com")
    by_bob = replace(x, approved_by=(ANN,), authors=(bob, x.author.__class__("Dev", "root@localhost")))
    assert judge_landing(by_bob, Policy(program), {}) == ChangeApproval(
        by_bob,
        ("Ann Owner",),
        "approved",
        "approved by Ann Owner",
        (
            "cannot tell whether Dev <root@localhost> is an approver or an author: Dev <root@localhost> is not a person in content/roles.yml",
        ),
    )
    assert judge_landing(x, _policy(program, date(2026, 7, 1)), {}).status == "missing", "on the gate's first day, judged"
    assert judge_landing(replace(x, approved_by=(ANN,)), _policy(program, date(2026, 8, 1)), {}) == ChangeApproval(
        replace(x, approved_by=(ANN,)), (), "before-gate", "landed before the approval gate started (2026-08-01)"
    )
    assert (
        judge_landing(x, _policy(program, None), {}).message == "the approval gate had not started (no approvals_since in content/kedb.yml)"
    )
    assert judge_landing(x, Policy(None), {}) == ChangeApproval(
        x, (), "before-gate", "no approval policy was in force yet (content/roles.yml and content/kedb.yml)"
    )
    assert judge_landing(x, Policy(None, "content/roles.yml is not valid YAML (y)"), {}) == ChangeApproval(
        x, (), "unreadable", "the approval policy in force before this change cannot be read: content/roles.yml is not valid YAML (y)"
    )


def test_a_policy_without_roles_has_no_maintainer(program) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from kedb.git.approvals import Policy, judge_landing

    no_roles = Policy(replace(program, roles=None))
    got = judge_landing(replace(_landing(), approved_by=(ANN,)), no_roles, {})
    assert (got.status, got.message) == ("unauthorised", f"{ANN} may not approve this change; needs maintainers: one of (nobody is named)")


@pytest.mark.parametrize(
    ("after_problem", "message"),
    [
        ("content/kedb.yml does not validate (x)", "content/kedb.yml does not validate (x): the approval gate stops"),
        (None, "content/roles.yml or content/kedb.yml was removed: the approval gate stops"),
    ],
)
def test_a_policy_that_stops_being_read_stops_the_gate(program, after_problem: str | None, message: str) -> None:  # type: ignore[no-untyped-def]
    from kedb.core.trail import ChangeApproval
    from kedb.git.approvals import Policy, gate_moves

    x = _landing()
    assert gate_moves(x, Policy(program), Policy(None, after_problem)) == ChangeApproval(x, (), "gate-moved", message)


# ---------------------------------------------------------------- one version: what the verdict carries
def test_a_version_verdict_carries_its_approvers_and_notes(program) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from kedb.git.approvals import judge_version

    mail = State("known-error", "published", "m365-mail", True)
    j = _judged(program, None, mail, approved_by=(BOB,))
    j = replace(j, version=replace(j.version, authors=(*j.version.authors, j.version.author.__class__("Dev", "root@localhost"))))
    a = judge_version(j, LOW, {})
    assert (a.status, a.approvers) == ("approved", ("Bob Approver",))
    assert a.notes == (
        "cannot tell whether Dev <root@localhost> is an approver or an author: Dev <root@localhost> is not a person in content/roles.yml",
    )
    early = judge_version(_judged(program, None, mail, gate_since=date(2026, 8, 1), approved_by=(BOB,)), LOW, {})
    assert (early.status, early.approvers) == ("before-gate", (BOB,)), "the trailers are shown as written"


def test_the_messages_of_a_version_kedb_cannot_read(program) -> None:  # type: ignore[no-untyped-def]
    from kedb.git.approvals import Unreadable, judge_version

    why = Unreadable("git cannot return it (missing object)")
    before = judge_version(_judged(program, why, LIVE_LOW, approved_by=(BOB,)), LOW, {})
    assert before.message == (
        "kedb cannot read the version before it: git cannot return it (missing object); a version the gate cannot judge never passes"
    )
    early = judge_version(_judged(program, None, why, gate_since=date(2026, 8, 1)), LOW, {})
    assert (early.status, early.message) == ("before-gate", "landed before the approval gate started (2026-08-01)")
    no_gate = judge_version(_judged(program, None, why, gate_since=None), LOW, {})
    assert (no_gate.status, no_gate.message) == (
        "before-gate",
        "the approval gate had not started (no approvals_since in content/kedb.yml)",
    )


def test_the_state_shown_is_the_one_the_version_left(program) -> None:  # type: ignore[no-untyped-def]
    from kedb.core.trail import VersionState
    from kedb.git.approvals import Unreadable, judge_version

    draft = State("known-error", "draft", "printing", True)
    assert judge_version(_judged(program, LIVE_HIGH, draft), LOW, {}).state == VersionState("draft", "printing", False)
    assert judge_version(_judged(program, draft, LIVE_HIGH), LOW, {}).state == VersionState("published", "mail", True)
    assert judge_version(_judged(program, LIVE_HIGH, Unreadable("x")), LOW, {}).state == VersionState("published", "mail", True)
    nothing = judge_version(_judged(program, Unreadable("x"), None), LOW, {}).state
    assert nothing == VersionState(None, None, False) and nothing.high_impact is False


# ---------------------------------------------------------------- the whole trail
def _trail_repo(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The base KB with KE-0001 made P1 then changed twice, none of it approved."""
    from kedb.core.load.loader import load
    from kedb.git import history

    root = _committed_kb(tmp_path)
    rel = "known_errors/KE-0001-outlook-prompts.md"
    text = (root / rel).read_text(encoding="utf-8").replace("priority: P2", "priority: P1")
    for n in (1, 2, 3):
        (root / rel).write_text(text.replace("again and again", f"again and again ({n})"), encoding="utf-8")
        git(root, "commit", "-q", "-am", f"change {n}")
    return root, load(root, use_cache=False)[0], history.read(root)


def test_the_report_of_the_whole_trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    import kedb.git.approvals as approvals

    monkeypatch.setenv("KEDB_NO_CACHE", "1")
    _, kb, h = _trail_repo(tmp_path)
    report = approvals.verify(kb, h)
    assert (report.gate_since, report.partial, report.evidence) == (date(2026, 1, 1), False, "trailers")
    assert {a.record for a in report.items} == {"KE-0001", "PRB-0001", "WA-0001"}
    only = approvals.verify(kb, h, only=["KE-0001"])
    assert {a.record for a in only.items} == {"KE-0001"} and [a.status for a in only.items] == [
        "not-required",
        "missing",
        "missing",
        "missing",
    ]
    assert approvals.verify(kb, replace(h, partial=True)).partial is True
    signed = kb.program.settings.model_copy(update={"approval_evidence": "signed"})
    assert approvals.verify(replace(kb, program=replace(kb.program, settings=signed)), h).evidence == "signed"
    bare = approvals.verify(replace(kb, program=replace(kb.program, settings=None)), h)
    assert (bare.gate_since, bare.evidence) == (None, "trailers")
    with pytest.raises(ValueError) as side:
        approvals.verify(kb, replace(h, first_parent=False))
    assert str(side.value) == "approvals are judged on the main line: read the history with first_parent=True"


def test_a_version_whose_object_is_gone_never_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A damaged clone: git cannot return an old version, so its verdict and the next one's say so."""
    import kedb.git.approvals as approvals

    monkeypatch.setenv("KEDB_NO_CACHE", "1")
    root, kb, h = _trail_repo(tmp_path)
    lost = h.of("KE-0001").versions[2].blob
    (root / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    got = {a.version.number: (a.status, a.message) for a in approvals.verify(kb, h, only=["KE-0001"]).items}
    assert got[3] == (
        "unreadable",
        "kedb cannot read this version: git cannot return it (missing object); a version the gate cannot judge never passes",
    )
    assert got[4] == (
        "unreadable",
        "kedb cannot read the version before it: git cannot return it (missing object); a version the gate cannot judge never passes",
    )
