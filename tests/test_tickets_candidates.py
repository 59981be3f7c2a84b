"""`kedb candidates`: windows, distinct counts, coverage by known errors and open problems, and the drafts."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import yaml

from conftest import MakeKB
from kbtest import kedb

RULES = """signature_fields: [service, category, symptom, error_codes]
rules:
  - {id: five-in-10d-3-customers, name: Five in ten days at three customers, min_tickets: 5, window_days: 10, min_distinct: 3, distinct_by: customers}
  - {id: three-in-2d-3-assets, name: Three in two days on three assets, min_tickets: 3, window_days: 2, min_distinct: 3, distinct_by: assets}
"""


def export(path: Path, rows: list[tuple[str, ...]]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "opened_at", "customer", "ci", "caller", "service", "category", "symptom", "text", "type"])
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def run(root: Path, *args: str) -> str:
    res = kedb("--root", str(root), "candidates", *args)
    assert res.exit_code == 0, res.output
    return res.output


def flat(out: str) -> str:
    """The output with its line wrapping undone."""
    return " ".join(out.split())


def proposed(out: str) -> dict[str, tuple[str, int]]:
    return {s: (r, int(n)) for s, r, n in re.findall(r"^  (\S+)\n    rule (\S+): (\d+) tickets", out, re.M)}


@pytest.fixture
def kb(make_kb: MakeKB, tmp_path: Path) -> Path:
    root = make_kb({"content/recurrence.yml": RULES})
    c = ["ACME", "GLOBEX", "INITECH", "ACME", "GLOBEX"]
    rows = [
        # five tickets in ten days (day 1 to day 10, inclusive) at three customers: meets the first rule
        *[(f"A{i}", f"2026-03-{1 + i * 9 // 4:02d} 09:00", c[i], "", "", "printing", "Queue", "Stuck", "", "incident") for i in range(5)],
        # five tickets over eleven days: never five inside ten days
        *[
            (f"B{i}", f"2026-03-{1 + i * 10 // 4:02d} 10:00", c[i], "", "", "printing", "Scanner", "Blank", "", "incident")
            for i in range(4)
        ],
        ("B4", "2026-03-12 10:00", "GLOBEX", "", "", "printing", "Scanner", "Blank", "", "incident"),
        # five in ten days but one customer only
        *[(f"C{i}", f"2026-03-0{1 + i} 11:00", "ACME", "", "", "m365-mail", "Calendar", "Duplicates", "", "incident") for i in range(5)],
        # three assets in two days: the second rule
        *[
            (
                f"D{i}",
                f"2026-03-2{i} 08:00",
                "INITECH",
                f"PC-{i}",
                "",
                "windows-endpoint",
                "Update",
                "",
                "fails with 0x800f0922",
                "incident",
            )
            for i in range(3)
        ],
        # covered by KE-0001 (m365-mail:outlook:credential-prompt) through its open problem and itself
        *[
            (f"E{i}", f"2026-03-0{1 + i} 12:00", c[i], "", "", "m365-mail", "Outlook", "Credential prompt", "0x8004010F", "incident")
            for i in range(5)
        ],
        # service requests never recur into a problem
        *[(f"R{i}", f"2026-03-0{1 + i} 13:00", c[i], "", "", "printing", "Toner", "Order", "", "service request") for i in range(5)],
    ]
    res = kedb("--root", str(root), "tickets", "import", str(export(tmp_path / "t.csv", rows)), "--source", "csv")
    assert res.exit_code == 0, res.output
    return root


def test_windows_distinct_counts_and_requests(kb: Path) -> None:
    out = run(kb)
    # every signature field the export has is shown, an empty one as (none)
    assert proposed(out) == {
        "printing:queue:stuck:(none)": ("five-in-10d-3-customers", 5),
        "windows-endpoint:update:(none):0x800f0922": ("three-in-2d-3-assets", 3),
    }
    assert "3 customers" in flat(out) and "3 assets" in flat(out)
    assert "attached to existing records: 1" in out
    assert "m365-mail:outlook:credential-prompt:0x8004010f → KE-0001, PRB-0001: 5 tickets in 10 days" in out
    assert "23 tickets, 5 signatures" in out  # the five requests are left out


def test_coverage_follows_the_records(kb: Path) -> None:
    ke = kb / "known_errors" / "KE-0001-outlook-prompts.md"
    prb = kb / "known_errors" / "PRB-0001-credential-prompts.md"
    sig = "m365-mail:outlook:credential-prompt:0x8004010f"
    # a more specific known error does not cover a more general signature, and a closed problem covers nothing
    ke.write_text(ke.read_text().replace("credential-prompt\n", "credential-prompt:0x8004010f:extra\n"))
    closed = "status: closed\nroot_cause_identified: 2026-03-10\nroot_cause: A stale token.\nfix_proposal: Clear it.\nclosed_on: 2026-04-01"
    prb.write_text(prb.read_text().replace("status: investigating", closed))
    assert kedb("--root", str(kb), "check", "--as-of", "2026-11-22").exit_code == 0  # both records are valid, so both are read
    assert sig in proposed(run(kb))
    ke.write_text(ke.read_text().replace("credential-prompt:0x8004010f:extra\n", "credential-prompt\n"))
    out = run(kb)
    assert sig not in proposed(out) and f"{sig} → KE-0001:" in out  # the known error alone covers it now
    assert list(proposed(run(kb, "--since", "2026-03-15"))) == ["windows-endpoint:update:(none):0x800f0922"]


def test_drafts_pass_check_and_name_only_ids(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1793700000")  # 2026-11-03
    nosvc = kedb("--root", str(kb), "candidates", "--write")
    assert nosvc.exit_code == 2 and "--service" in nosvc.output  # windows-endpoint is not a service of this KB
    assert not list((kb / "known_errors").glob("PRB-0002*"))
    res = kedb("--root", str(kb), "candidates", "--write", "--service", "m365-mail")
    assert res.exit_code == 0, res.output
    drafts = sorted((kb / "known_errors").glob("PRB-*-recurring-*.md"))
    assert [d.name[:8] for d in drafts] == ["PRB-0002", "PRB-0003"]
    fronts = {
        yaml.safe_load(d.read_text().split("---")[1])["trigger"]["signature"]: yaml.safe_load(d.read_text().split("---")[1]) for d in drafts
    }
    q = fronts["printing:queue:stuck"]
    assert q["service"] == "printing" and q["owner"] == "ann.owner" and q["tickets"] == ["A0", "A1", "A2", "A3", "A4"]
    assert q["trigger"] == {
        "rule": "five-in-10d-3-customers",
        "signature": "printing:queue:stuck",
        "tickets": 5,
        "window_days": 10,
        "distinct_customers": 3,
        "distinct_assets": 0,
        "first_seen": q["trigger"]["first_seen"],
        "last_seen": q["trigger"]["last_seen"],
    }
    assert (q["trigger"]["first_seen"].isoformat(), q["trigger"]["last_seen"].isoformat()) == ("2026-03-01", "2026-03-10")
    assert q["tenants"] == [] and q["created"].isoformat() == "2026-11-03"  # GLOBEX and INITECH are not tenants here
    d = fronts["windows-endpoint:update:0x800f0922"]
    assert d["service"] == "m365-mail" and d["tenants"] == [] and d["trigger"]["distinct_assets"] == 3
    check = kedb("--root", str(kb), "check", "--as-of", "2026-11-22")
    assert check.exit_code == 0, check.output
    assert "proposed problem candidates: 0" in run(kb)


def test_write_is_refused_while_the_kb_has_errors(kb: Path) -> None:
    (kb / "known_errors" / "KE-0009-broken.md").write_text("---\nid: KE-0009\n---\n")
    res = kedb("--root", str(kb), "candidates", "--write", "--service", "printing")
    assert res.exit_code == 1 and "fix them first" in res.output
    assert not list((kb / "known_errors").glob("PRB-0002*"))


def test_candidates_say_what_they_rest_on_and_what_to_do_next(kb: Path) -> None:
    out = flat(run(kb))
    # the signature fields of content/recurrence.yml the export has (here: all four) and how an empty one reads
    assert "from service, category, symptom, error_codes" in out and "An empty part is shown as (none)." in out
    # the window's real dates, its ticket ids and the next step with the ids the drafts will get
    assert "rule five-in-10d-3-customers: 5 tickets opened 2026-03-01 to 2026-03-10" in out
    assert "tickets: A0, A1, A2, A3, A4" in out and "tickets: D0, D1, D2" in out
    assert "next: `kedb candidates --write` drafts PRB-0002 to PRB-0003 (status candidate)" in out


def test_an_empty_field_keeps_two_signatures_apart(make_kb: MakeKB, tmp_path: Path) -> None:
    """(category Printer, symptom empty) and (category empty, symptom Printer) are two signatures; and a field the
    export lacks altogether is named as such."""
    root = make_kb(
        {
            "content/recurrence.yml": "signature_fields: [service, category, symptom, error_codes]\nrules:\n"
            "  - {id: three, name: Three in ten days, min_tickets: 3, window_days: 10}\n"
        }
    )
    rows = [(f"P{i}", f"2026-03-0{1 + i} 09:00", "printing", "Printer", "") for i in range(3)]
    rows += [(f"Q{i}", f"2026-03-0{1 + i} 10:00", "printing", "", "Printer") for i in range(3)]
    # no customer column: the rule's one distinct customer is met (an export without customers is one customer)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows([("id", "opened_at", "service", "category", "symptom"), *rows])
    (tmp_path / "t.csv").write_text(buf.getvalue(), encoding="utf-8")
    assert kedb("--root", str(root), "tickets", "import", str(tmp_path / "t.csv"), "--source", "csv").exit_code == 0
    out = run(root)
    assert proposed(out) == {"printing:printer:(none)": ("three", 3), "printing:(none):printer": ("three", 3)}
    assert "(not in this export, so empty on every ticket: error_codes)" in flat(out)
    assert "tickets: P0, P1, P2" in out and "tickets: Q0, Q1, Q2" in out
