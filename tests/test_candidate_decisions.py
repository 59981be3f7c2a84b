"""The candidate decision log (content/decisions.yml): `kedb candidates --reject/--reinstate/--missed`, the
signatures held back until they grow, the check rules (KE701, KE101, KE711–KE713), mean time to root cause,
the KPI page and the proof brief per edition, and the file as a reviewed change in a real git repository."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from conftest import MakeKB
from kbtest import AS_OF, git, init_repo, kedb
from kedb.build.context import make
from kedb.core.decisions import DecisionsFile
from kedb.core.load.loader import load
from kedb.site import pages, urls

RULES = """signature_fields: [service, category, symptom, error_codes]
rules:
  - {id: five-in-10d, name: Five in ten days at two customers, min_tickets: 5, window_days: 10, min_distinct: 2, distinct_by: customers}
"""
QUEUE = "printing:queue:stuck:(none)"  # five tickets at ACME, GLOBEX and INITECH (only ACME is a tenant here)
CAL = "m365-mail:calendar:duplicates:(none)"  # five tickets at ACME only: a decision on it is ACME's
REASON = "The queue tickets are three customers' own print servers, not one fault."
HEADER = ["id", "opened_at", "customer", "ci", "caller", "service", "category", "symptom", "text", "type"]


def export(path: Path, rows: list[tuple[str, ...]]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows([HEADER, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def queue_rows(prefix: str, days: list[int]) -> list[tuple[str, ...]]:
    c = ["ACME", "GLOBEX", "INITECH"]
    return [
        (f"{prefix}{i}", f"2026-03-{d:02d} 09:00", c[i % 3], "", "", "printing", "Queue", "Stuck", "", "incident")
        for i, d in enumerate(days)
    ]


@pytest.fixture
def kb(make_kb: MakeKB, tmp_path: Path) -> Path:
    root = make_kb({"content/recurrence.yml": RULES, "content/kedb.yml": _two_tenants(make_kb)})
    rows = queue_rows("A", [1, 3, 5, 7, 10])
    rows += [(f"C{i}", f"2026-03-0{1 + i} 11:00", "ACME", "", "", "m365-mail", "Calendar", "Duplicates", "", "incident") for i in range(5)]
    rows += [
        (f"G{i}", f"2026-03-0{1 + i} 11:00", "GLOBEX", "", "", "m365-mail", "Calendar", "Duplicates", "", "incident") for i in range(2)
    ]
    res = kedb("--root", str(root), "tickets", "import", str(export(tmp_path / "t.csv", rows)), "--source", "csv")
    assert res.exit_code == 0, res.output
    return root


def _two_tenants(make_kb: MakeKB) -> str:
    text = (make_kb() / "content" / "kedb.yml").read_text(encoding="utf-8")
    return text.replace("tenants: [{id: ACME, name: Acme}]", "tenants: [{id: ACME, name: Acme}, {id: GLOBEX, name: Globex}]")


def cands(root: Path, *args: str, code: int = 0) -> str:
    res = kedb("--root", str(root), "candidates", *args)
    assert res.exit_code == code, res.output
    return res.output


def flat(out: str) -> str:
    return " ".join(out.split())


def proposed(out: str) -> dict[str, int]:
    return {s: int(n) for s, n in re.findall(r"^  (\S+)\n    rule \S+: (\d+) tickets", out, re.M)}


def log(root: Path) -> list[dict[str, object]]:
    return yaml.safe_load((root / "content" / "decisions.yml").read_text(encoding="utf-8"))["decisions"]


def reject(root: Path, sig: str = QUEUE, *extra: str, code: int = 0) -> str:
    return cands(root, "--reject", sig, "--reason", REASON, "--by", "bob.approver", "--as-of", "2026-03-12", *extra, code=code)


def check(root: Path, as_of: str = AS_OF) -> set[tuple[str, str]]:
    r = kedb("--root", str(root), "check", "--as-of", as_of, "--format", "json")
    return {(f["code"], f["message"]) for f in json.loads(r.output)["findings"]}


# ---------------------------------------------------------------- rejecting, holding back, coming back
def test_a_rejection_is_logged_and_holds_the_signature_back(kb: Path, tmp_path: Path) -> None:
    assert proposed(cands(kb)) == {QUEUE: 5, CAL: 7}
    out = reject(kb)
    assert "wrote content/decisions.yml: rejected printing:queue:stuck:(none) (2026-03-12, by bob.approver)" in out
    assert log(kb) == [
        {
            "kind": "rejected",
            "signature": QUEUE,
            "decided_on": yaml.safe_load("2026-03-12"),
            "by": "bob.approver",
            "reason": REASON,
            "rule": "five-in-10d",
            "volume": 5,
            "window_days": 10,
        }
    ]  # GLOBEX and INITECH are customers, but INITECH is no tenant: the decision is for all tenants
    assert check(kb) == set()
    out = cands(kb)
    assert proposed(out) == {CAL: 7}
    assert "rejected in content/decisions.yml, not proposed again: 1" in out
    assert (
        f"rejected on 2026-03-12 by bob.approver: {REASON} (5 tickets in the window of rule five-in-10d then, 5 now; proposed again at 10)"
        in flat(out)
    )
    # the same rejection twice is refused before anything is written
    before = (kb / "content" / "decisions.yml").read_bytes()
    assert "is already rejected (2026-03-12, by bob.approver); it is proposed again at 10 tickets" in flat(reject(kb, code=2))
    assert (kb / "content" / "decisions.yml").read_bytes() == before

    # four more tickets in the window: nine, still held back; a fifth makes ten, twice the volume: proposed again
    more = tmp_path / "more.csv"
    assert (
        kedb(
            "--root", str(kb), "tickets", "import", str(export(more, queue_rows("B", [6, 7, 8, 9]))), "--source", "csv", "--append"
        ).exit_code
        == 0
    )
    assert QUEUE not in proposed(cands(kb)) and "9 now; proposed again at 10" in flat(cands(kb))
    export(more, queue_rows("D", [10]))
    assert kedb("--root", str(kb), "tickets", "import", str(more), "--source", "csv", "--append").exit_code == 0
    out = cands(kb)
    assert proposed(out)[QUEUE] == 10
    assert (
        f"rejected before, on 2026-03-12 by bob.approver: {REASON} (5 tickets in the window of rule five-in-10d then, 10 now; proposed again at 10, reached)"
        in flat(out)
    )
    # at the review it is rejected again, at its new volume: a second entry, and the check agrees
    reject(kb)
    assert [d["volume"] for d in log(kb)] == [5, 10] and check(kb) == set()
    # the factor is a setting: at 3× the first rejection would have held it back at ten tickets
    path = kb / "content" / "decisions.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("regrowth_factor: 2", "regrowth_factor: 3"), encoding="utf-8")
    assert (
        "KE711",
        f"'{QUEUE}' is already rejected (2026-03-12, 5 tickets); it is rejected again only once proposed again, at 15 tickets or more, or after a reinstatement",
    ) in check(kb)


def test_the_candidate_figures_are_those_of_the_decision_day(kb: Path) -> None:
    """--as-of reads the tickets opened by the end of that day: on 2026-03-08 the queue had four tickets, no candidate."""
    assert QUEUE not in proposed(cands(kb, "--as-of", "2026-03-08"))
    out = cands(kb, "--reject", QUEUE, "--reason", REASON, "--by", "ann.owner", "--as-of", "2026-03-08", code=2)
    assert "'printing:queue:stuck:(none)' is not a problem candidate as of 2026-03-08" in flat(out)
    assert not (kb / "content" / "decisions.yml").exists()
    # the key records carry (no empty parts) names it too, when it is the only candidate with that key
    cands(kb, "--reject", "printing:queue:stuck", "--reason", REASON, "--by", "ann.owner", "--as-of", "2026-03-10")
    assert log(kb)[0]["signature"] == QUEUE


def test_a_decision_scoped_to_one_tenant(kb: Path) -> None:
    """The calendar tickets come from ACME and GLOBEX, both tenants: the rejection is theirs (as a draft's tenants would be)."""
    cands(kb, "--reject", CAL, "--reason", "Users double-click Send in a slow client.", "--by", "ann.owner", "--as-of", "2026-03-12")
    assert log(kb)[0]["tenants"] == ["ACME", "GLOBEX"]


# ---------------------------------------------------------------- who, when, why: refused without them
def test_who_when_and_why_are_required(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    no_day = cands(kb, "--reject", QUEUE, "--reason", REASON, "--by", "ann.owner", code=2)
    assert "say the day of the decision: --as-of YYYY-MM-DD (or set SOURCE_DATE_EPOCH)" in no_day
    assert "needs --reason" in cands(kb, "--reject", QUEUE, "--reason", "  ", "--as-of", "2026-03-12", code=2)
    assert "'carol' is not a person in content/roles.yml" in flat(reject_by(kb, "carol", code=2))
    assert "after today" in flat(cands(kb, "--reject", QUEUE, "--reason", REASON, "--by", "ann.owner", "--as-of", "2999-01-01", code=2))
    assert "one decision at a time" in cands(kb, "--reject", QUEUE, "--missed", "PRB-0001", "--reason", "x", code=2)
    assert "takes no --write" in cands(kb, "--reject", QUEUE, "--write", "--reason", "x", code=2)
    assert not (kb / "content" / "decisions.yml").exists()
    # SOURCE_DATE_EPOCH gives the day when --as-of is not given
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1773360000")  # 2026-03-13
    reject_by(kb, "ann.owner", as_of=None)
    assert str(log(kb)[0]["decided_on"]) == "2026-03-13"
    # a day before the last decision would put the log out of order: KE712, nothing written
    before = (kb / "content" / "decisions.yml").read_bytes()
    out = cands(kb, "--reject", CAL, "--reason", REASON, "--by", "ann.owner", "--as-of", "2026-03-11", code=1)
    assert "KE712 decided on 2026-03-11, before the decision above it (2026-03-13)" in flat(out) and "nothing was written" in out
    assert (kb / "content" / "decisions.yml").read_bytes() == before


def reject_by(root: Path, by: str, *, code: int = 0, as_of: str | None = "2026-03-12") -> str:
    return cands(root, "--reject", QUEUE, "--reason", REASON, "--by", by, *(["--as-of", as_of] if as_of else []), code=code)


def test_the_decider_comes_from_git(kb: Path) -> None:
    init_repo(kb)
    git(kb, "config", "user.name", "Somebody Else")
    git(kb, "config", "user.email", "somebody@example.com")
    out = cands(kb, "--reject", QUEUE, "--reason", REASON, "--as-of", "2026-03-12", code=2)
    assert "git's user (Somebody Else <somebody@example.com>) is not a person in content/roles.yml: pass --by HANDLE" in flat(out)
    git(kb, "config", "user.email", "bob.approver@example.com")  # found by e-mail, whatever the name
    cands(kb, "--reject", QUEUE, "--reason", REASON, "--as-of", "2026-03-12")
    assert log(kb)[0]["by"] == "bob.approver"


# ---------------------------------------------------------------- drafts, covered signatures, overrides, misses
def test_rejecting_a_drafted_candidate_withdraws_the_draft(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1773360000")  # 2026-03-13
    cands(kb, "--write", "--service", "printing")
    draft = next((kb / "known_errors").glob("PRB-*-recurring-printing-queue-stuck*.md"))
    rid = draft.name[:8]
    assert QUEUE not in proposed(cands(kb))  # the draft, an open problem, covers it
    out = reject(kb)
    assert f"deleted the candidate draft known_errors/{draft.name} (git keeps it)" in out and not draft.exists()
    assert log(kb)[0]["problem"] == rid
    assert check(kb, "2026-03-20") == set()  # (the other draft is due for review by the usual as-of day)
    assert "rejected in content/decisions.yml, not proposed again: 1" in cands(kb)
    # a signature a known error covers is no candidate: rejecting it is refused
    out = cands(
        kb, "--reject", "m365-mail:outlook:credential-prompt", "--reason", "x", "--by", "ann.owner", "--as-of", "2026-03-12", code=2
    )
    assert "is not a problem candidate" in flat(out)


def test_a_signature_a_problem_under_investigation_covers_cannot_be_rejected(kb: Path, make_kb: MakeKB, tmp_path: Path) -> None:
    rows = [
        (
            f"E{i}",
            f"2026-03-0{1 + i} 12:00",
            ["ACME", "GLOBEX"][i % 2],
            "",
            "",
            "m365-mail",
            "Outlook",
            "Credential prompt",
            "0x8004010F",
            "incident",
        )
        for i in range(5)
    ]
    assert kedb("--root", str(kb), "tickets", "import", str(export(tmp_path / "e.csv", rows)), "--source", "csv", "--append").exit_code == 0
    out = cands(
        kb,
        "--reject",
        "m365-mail:outlook:credential-prompt:0x8004010f",
        "--reason",
        "x",
        "--by",
        "ann.owner",
        "--as-of",
        "2026-03-12",
        code=2,
    )
    assert "is covered by KE-0001, a known error: it is not a candidate to reject" in flat(out)


def test_reinstating_and_logging_a_miss(kb: Path) -> None:
    reject(kb)
    out = cands(
        kb, "--reinstate", QUEUE, "--reason", "A vendor confirmed one driver bug after all.", "--by", "ann.owner", "--as-of", "2026-03-14"
    )
    assert "reinstated printing:queue:stuck:(none)" in out
    assert QUEUE in proposed(cands(kb))  # an override proposes it again at once
    assert "has no standing rejection" in cands(
        kb, "--reinstate", QUEUE, "--reason", "x", "--by", "ann.owner", "--as-of", "2026-03-14", code=2
    )
    cands(
        kb,
        "--missed",
        "PRB-0001",
        "--reason",
        "Raised from a customer complaint: the tickets were logged under three categories.",
        "--by",
        "ann.owner",
        "--as-of",
        "2026-03-15",
    )
    assert [(d["kind"], d.get("problem")) for d in log(kb)] == [("rejected", None), ("reinstated", None), ("missed", "PRB-0001")]
    assert "already logged as missed" in flat(
        cands(kb, "--missed", "PRB-0001", "--reason", "x", "--by", "ann.owner", "--as-of", "2026-03-15", code=1)
    )
    assert "not a problem record" in cands(
        kb, "--missed", "PRB-0042", "--reason", "x", "--by", "ann.owner", "--as-of", "2026-03-15", code=2
    )
    assert check(kb) == set()


def test_an_entry_is_appended_and_hostile_text_stays_text(kb: Path) -> None:
    path = kb / "content" / "decisions.yml"
    kept = "# our own comment, kept\nregrowth_factor: 2.5\ndecisions:\n  - {kind: missed, problem: PRB-0001, decided_on: 2026-03-01, by: ann.owner, reason: by hand}\n"
    path.write_text(kept, encoding="utf-8")
    # a terminal colour sequence is refused, nothing written
    out = cands(kb, "--reject", QUEUE, "--reason", "red \x1b[31malert\x1b[0m", "--by", "ann.owner", "--as-of", "2026-03-12", code=2)
    assert "the reason holds control characters (red \\x1b[31malert\\x1b[0m)" in out and path.read_text(encoding="utf-8") == kept
    # quotes, a colon and lines that look like YAML stay text, on one line
    hostile = 'Quotes " and \\ and a: colon\n  - kind: reinstated\n    by: mallory\n# not a comment'
    cands(kb, "--reject", QUEUE, "--reason", hostile, "--by", "ann.owner", "--as-of", "2026-03-12")
    text = path.read_text(encoding="utf-8")
    assert text.startswith(kept + "  - kind: rejected\n")
    kb_, _ = load(kb)
    assert kb_.program.decisions is not None and len(kb_.program.decisions.decisions) == 2
    assert kb_.program.decisions.decisions[1].reason == " ".join(hostile.split())
    # a log that cannot take an entry at its end is written out whole, and read back before it replaces the file
    path.write_text("decisions: []\nregrowth_factor: 3\n", encoding="utf-8")
    cands(kb, "--reject", CAL, "--reason", "x y z", "--by", "ann.owner", "--as-of", "2026-03-12")
    back = DecisionsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert back.regrowth_factor == 3 and [d.signature for d in back.decisions] == [CAL]


# ---------------------------------------------------------------- the check
BROKEN = """regrowth_factor: 2
decisions:
  - {kind: rejected, signature: "a:b", decided_on: 2026-03-10, by: nobody, reason: r, rule: no-such-rule, volume: 5, window_days: 10, tenants: [NOPE]}
  - {kind: rejected, signature: "a:b", decided_on: 2026-03-09, by: ann.owner, reason: r, rule: five-in-10d, volume: 6, window_days: 10}
  - {kind: rejected, signature: "c", decided_on: 2026-12-01, by: ann.owner, reason: r}
  - {kind: reinstated, signature: "d", decided_on: 2026-12-01, by: ann.owner, reason: r}
  - {kind: missed, problem: PRB-0099, decided_on: 2026-12-01, by: ann.owner, reason: r}
"""


def test_check_reports_people_duplicates_dates_and_missing_fields(kb: Path) -> None:
    (kb / "content" / "decisions.yml").write_text(BROKEN, encoding="utf-8")
    found = check(kb)
    assert {
        ("KE701", "decided by 'nobody' is not a person in content/roles.yml"),
        ("KE701", "tenant 'NOPE' is not in content/kedb.yml"),
        ("KE701", "rule 'no-such-rule' is not in content/recurrence.yml"),
        ("KE701", "problem 'PRB-0099' is not a record in known_errors/"),
        (
            "KE712",
            "decided on 2026-03-09, before the decision above it (2026-03-10): the log keeps decisions in the order they were made; add a new one at the end",
        ),
        (
            "KE711",
            "'a:b' is already rejected (2026-03-10, 5 tickets); it is rejected again only once proposed again, at 10 tickets or more, or after a reinstatement",
        ),
        ("KE712", f"decided on 2026-12-01, after today ({AS_OF}): date a decision the day it is made"),
        ("KE101", "required field 'volume' is missing in 'decisions[3]' (a rejected decision needs it)"),
        ("KE711", "'d' has no standing rejection above to reinstate"),
    } <= found
    # an unreadable log stops the listing: the rejected signatures would silently come back
    (kb / "content" / "decisions.yml").write_text("decisions:\n  - {kind: maybe}\n", encoding="utf-8")
    out = cands(kb, code=1)
    assert "content/decisions.yml:2: KE103" in out and "content/decisions.yml cannot be read: fix it first" in out
    (kb / "content" / "decisions.yml").write_text(
        'decisions:\n  - {kind: rejected, signature: "A B", decided_on: 2026-03-01, by: ann.owner, reason: r}\n'
    )
    assert any(c == "KE106" and "a signature as `kedb candidates` shows it" in m for c, m in check(kb))


# ---------------------------------------------------------------- mean time to root cause
def test_a_problem_closed_as_not_a_problem_needs_no_root_cause_and_never_counts(kb: Path) -> None:
    prb = kb / "known_errors" / "PRB-0001-credential-prompts.md"
    ke = kb / "known_errors" / "KE-0001-outlook-prompts.md"
    prb.write_text(prb.read_text().replace("status: investigating", "status: closed\nclosed_on: 2026-03-20"), encoding="utf-8")
    assert ("KE302", "status 'closed' needs 'root_cause'") in check(kb)  # without a rejection, closing needs a root cause
    entry = '  - {kind: rejected, signature: "m365-mail:outlook:credential-prompt", decided_on: 2026-03-20, by: ann.owner, '
    entry += "reason: Not a fault, rule: five-in-10d, volume: 5, window_days: 10, problem: PRB-0001}\n"
    (kb / "content" / "decisions.yml").write_text("decisions:\n" + entry, encoding="utf-8")
    assert not {c for c, _ in check(kb)} & {"KE302", "KE713"}, check(kb)
    # with an invented root-cause date it would count into mean time to root cause: refused
    prb.write_text(prb.read_text().replace("closed_on:", "root_cause_identified: 2026-03-19\nclosed_on:"), encoding="utf-8")
    assert (
        "KE713",
        "PRB-0001 is rejected here but has root_cause_identified 2026-03-19: remove it (and root_cause), or it counts into mean time to root cause",
    ) in check(kb)
    prb.write_text(prb.read_text().replace("root_cause_identified: 2026-03-19\n", ""), encoding="utf-8")
    kpi = kedb("--root", str(kb), "kpi", "--period", "2026-03")
    assert kpi.exit_code == 0, kpi.output
    assert "0 problem records reached root cause in 2026-03" in flat(kpi.output)
    site = pages.build(make(kb, as_of=date.fromisoformat(AS_OF)), pages.Options())
    prbs = site.page(urls.PRB_INDEX)
    assert prbs and prbs.html and "Mean time to root cause" not in prbs.html
    # an open problem named by a rejection contradicts it
    prb.write_text(prb.read_text().replace("status: closed", "status: investigating"), encoding="utf-8")
    assert any(c == "KE713" and "still 'investigating'" in m for c, m in check(kb))
    assert ke.exists()


# ---------------------------------------------------------------- the KPI page and the proof brief, per edition
LOGGED = """regrowth_factor: 2
decisions:
  - kind: rejected
    signature: "printing:queue:stuck:(none)"
    decided_on: 2026-03-12
    by: bob.approver
    reason: "Three print servers, three causes; see KE-0001 for the one we know."
    rule: five-in-10d
    volume: 5
    window_days: 10
  - kind: rejected
    signature: "m365-mail:calendar:duplicates:(none)"
    decided_on: 2026-04-02
    by: ann.owner
    reason: "GLOBEX users double-click Send."
    rule: five-in-10d
    volume: 7
    window_days: 10
    tenants: [GLOBEX]
  - kind: missed
    problem: PRB-0001
    decided_on: 2026-04-03
    by: ann.owner
    reason: "Raised by hand from a complaint."
"""
TRIGGER = (
    "opened: 2026-03-01\ntrigger:\n  rule: five-in-10d\n  signature: m365-mail:outlook:credential-prompt\n  tickets: 5\n  window_days: 10"
)


def _kpi_page(root: Path, audience: str = "internal", tenant: str | None = None) -> str:
    page = pages.build(make(root, audience=audience, tenant=tenant, as_of=date.fromisoformat(AS_OF)), pages.Options()).page(urls.KPIS)
    assert page is not None and page.html is not None
    return " ".join(page.html.split())


def test_the_kpi_page_shows_the_rate_and_the_log_per_edition(make_kb: MakeKB) -> None:
    root = make_kb({"content/recurrence.yml": RULES})
    assert "candidate-decisions" not in _kpi_page(root)  # no log kept: no section
    (root / "content" / "kedb.yml").write_text(_two_tenants(make_kb), encoding="utf-8")
    (root / "content" / "decisions.yml").write_text(LOGGED, encoding="utf-8")
    page = _kpi_page(root)
    # two rejections, no problem drafted from a rule (PRB-0001 has no trigger): 2 of 2; the miss is not in the rate
    assert (
        "False-positive rate (candidates rejected / candidates decided): <strong>100 %</strong>. 2 candidates decided from 2026-03 to 2026-04: 2 rejected as false positives"
        in page
    )
    assert "<td>2026-03</td><td>1</td><td>1</td><td>100 %</td>" in page
    assert "<td>Bob Approver</td>" in page and "<td>Ann Owner</td>" in page and "missed (false negative)" in page
    assert "<code>printing:queue:stuck:(none)</code>" in page and "GLOBEX users double-click Send." in page
    assert "see KE-0001 for the one we know" in page and "<code>PRB-0001</code>" in page
    # a problem drafted from a rule counts as proposed, in the month it opened
    prb = root / "known_errors" / "PRB-0001-credential-prompts.md"
    prb.write_text(prb.read_text(encoding="utf-8").replace("opened: 2026-03-01", TRIGGER), encoding="utf-8")
    (root / "content" / "decisions.yml").write_text(LOGGED.split("  - kind: missed")[0], encoding="utf-8")
    page = _kpi_page(root)
    assert "<strong>66.7 %</strong>. 3 candidates decided from 2026-03 to 2026-04: 2 rejected as false positives" in page
    assert "1 drafted as a problem record (PRB-0001)" in page and "<td>2026-03</td><td>2</td><td>1</td><td>50 %</td>" in page
    # ACME's edition: not GLOBEX's decision; the rate counts what the edition shows
    acme = _kpi_page(root, tenant="ACME")
    assert (
        "GLOBEX users" not in acme
        and "printing:queue:stuck" in acme
        and "2 candidates decided from 2026-03: 1 rejected as a false positive" in acme
    )
    # public editions show neither the rate nor the log (no names, no customers' faults)
    for tenant in (None, "ACME"):
        public = _kpi_page(root, "public", tenant)
        assert "candidate-decisions" not in public and "Bob Approver" not in public and "False-positive" not in public


def test_a_hidden_record_is_withheld_from_the_log(make_kb: MakeKB) -> None:
    """KE-0001 scoped to ACME: GLOBEX's edition shows the decision (it is for all tenants) without that record's id."""
    root = make_kb({"content/recurrence.yml": RULES, "content/decisions.yml": LOGGED.split('  - kind: rejected\n    signature: "m365')[0]})
    (root / "content" / "kedb.yml").write_text(_two_tenants(make_kb), encoding="utf-8")
    ke = root / "known_errors" / "KE-0001-outlook-prompts.md"
    ke.write_text(
        ke.read_text(encoding="utf-8").replace("data_sensitivity: internal", "data_sensitivity: internal\ntenants: [ACME]"),
        encoding="utf-8",
    )
    assert "see KE-0001 for the one we know" in _kpi_page(root, tenant="ACME")
    globex = _kpi_page(root, tenant="GLOBEX")
    assert "see a record not in this edition for the one we know" in globex and "KE-0001" not in globex


def test_the_proof_brief_has_the_section(make_kb: MakeKB, tmp_path: Path) -> None:
    from pypdf import PdfReader

    from kedb.renderers import get

    root = make_kb({"content/recurrence.yml": RULES, "content/kedb.yml": _two_tenants(make_kb), "content/decisions.yml": LOGGED})

    def text(audience: str) -> str:
        ctx = make(root, audience=audience, as_of=date.fromisoformat(AS_OF))
        pdf = get("pdf")(ctx, tmp_path / audience)
        return " ".join(" ".join(p.extract_text() for p in PdfReader(str(pdf)).pages).split())

    internal = text("internal")
    assert "Problem candidates: false positives and overrides" in internal
    assert "False-positive rate 100 % (candidates rejected / candidates decided). 2 candidates decided from 2026-03 to 2026-04" in internal
    assert "Bob Approver" in internal and "Decision log" in internal
    public = text("public")
    assert "False-positive rate" not in public and "Bob Approver" not in public


# ---------------------------------------------------------------- a reviewed file in a real git repository
def test_the_log_is_a_reviewed_change_on_main(kb: Path) -> None:
    """The decision is written into the working tree only; committed, it is a maintainer change like
    any file in content/: without an Approved-by of a maintainer it is reported (KE814), with one it passes."""
    init_repo(kb)
    reject(kb)
    status = git(kb, "status", "--porcelain").splitlines()
    assert status == ["?? content/decisions.yml"]  # nothing else touched, nothing committed by kedb
    git(kb, "add", "content/decisions.yml")
    git(kb, "commit", "-q", "-m", "Reject printing:queue:stuck as a false positive")
    r = kedb("--root", str(kb), "check", "--approvals", "--as-of", AS_OF, "--format", "json")
    assert ("KE814", "content/decisions.yml") in {(f["code"], f["path"]) for f in json.loads(r.output)["findings"]}
    cands(kb, "--reinstate", QUEUE, "--reason", "Vendor bug confirmed.", "--by", "ann.owner", "--as-of", "2026-03-14")
    git(kb, "add", "content/decisions.yml")
    bob = {"GIT_AUTHOR_NAME": "Bob Approver", "GIT_AUTHOR_EMAIL": "bob.approver@example.com"}  # a maintainer approves another's change
    git(kb, "commit", "-q", "-m", "Reinstate printing:queue:stuck\n\nApproved-by: Ann Owner <ann.owner@example.com>", env=bob)
    r = kedb("--root", str(kb), "check", "--approvals", "--as-of", AS_OF, "--format", "json")
    flagged = [f for f in json.loads(r.output)["findings"] if f["path"] == "content/decisions.yml"]
    assert len(flagged) == 1, flagged  # only the first, unapproved commit
    diff = git(kb, "show", "HEAD", "--", "content/decisions.yml")
    assert "+  - kind: reinstated" in diff and "-  - kind: rejected" not in diff  # the merge request shows the lines added
    # the committed log is what the build reads
    page = _kpi_page(kb)
    assert "reinstated (manual override)" in page and "Vendor bug confirmed." in page


def test_a_draft_that_cannot_be_deleted_leaves_the_log_as_it_was(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1773360000")  # 2026-03-13
    cands(kb, "--write", "--service", "printing")
    draft = next((kb / "known_errors").glob("PRB-*-recurring-printing-queue-stuck*.md"))
    real_unlink = Path.unlink

    def refuse(self: Path, missing_ok: bool = False) -> None:
        if self.name == draft.name:
            raise PermissionError(13, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse)
    out = reject(kb, code=2)
    assert "cannot delete the candidate draft (Permission denied): content/decisions.yml is as it was" in out
    assert draft.exists() and not (kb / "content" / "decisions.yml").exists()
    assert not list((kb / "content").glob(".decisions.yml*"))  # no temporary file left behind


def test_a_signature_proposed_again_is_measured_on_the_rule_it_was_rejected_under(make_kb: MakeKB, tmp_path: Path) -> None:
    """Rejected under the second rule; it comes back meeting the first rule too: the new rejection keeps the second
    rule and its window, so the two volumes compare (else the check would call it a repeat)."""
    rules = RULES.replace("rules:\n", "rules:\n  - {id: three-in-2d-assets, name: Three in two days on three assets, "
                          "min_tickets: 3, window_days: 2, min_distinct: 3, distinct_by: assets}\n")  # fmt: skip
    root = make_kb({"content/recurrence.yml": rules})
    assert (
        kedb(
            "--root", str(root), "tickets", "import", str(export(tmp_path / "a.csv", queue_rows("A", [1, 3, 5, 7, 10]))), "--source", "csv"
        ).exit_code
        == 0
    )
    reject(root)
    burst = [
        (f"B{i}", f"2026-03-{11 + i // 3:02d} 10:0{i}", "GLOBEX", f"PC-{i}", "", "printing", "Queue", "Stuck", "", "incident")
        for i in range(6)
    ]
    assert (
        kedb("--root", str(root), "tickets", "import", str(export(tmp_path / "b.csv", burst)), "--source", "csv", "--append").exit_code == 0
    )
    out = cands(root)
    assert re.search(r"^  printing:queue:stuck:\(none\)\n    rule three-in-2d-assets: ", out, re.M)  # its first rule now
    assert "then, 10 now; proposed again at 10, reached" in flat(out)
    cands(root, "--reject", QUEUE, "--reason", REASON, "--by", "ann.owner", "--as-of", "2026-03-13")
    assert [(d["rule"], d["volume"]) for d in log(root)] == [("five-in-10d", 5), ("five-in-10d", 10)]
    assert check(root) == set()
