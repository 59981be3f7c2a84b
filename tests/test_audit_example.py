"""The example KB's flow audits (content/audits/) are what the documented commands compute, nothing hand-written.

If this fails after a change to the audit code, content/progression.yml or the synthetic export,
regenerate them with the commands in the README ("Flow audit") and commit them.
"""

from __future__ import annotations

from pathlib import Path

from kbtest import REPO, import_example_export, kedb
from kedb.core.audits import FIGURES, compare
from kedb.core.load.loader import load

DAYS = ("2026-08-31", "2026-09-28", "2026-10-26")  # the baseline month's end, week 4 and week 8 of content/kpis.yml
REFRESH = (
    "content/audits/ is out of date: run `python benchmarks/synth_tickets.py --tickets 12000 --kb . --out .kedb/example-export.csv`, "
    "`kedb tickets import .kedb/example-export.csv --source servicenow` and `kedb tickets audit --as-of D --write` for each date"
)


def test_example_audits_are_the_checkpoints_and_show_the_program_working() -> None:
    kb, _ = load(REPO)
    assert [a.as_of.isoformat() for a in kb.audits] == list(DAYS)
    cp = kb.program.kpis.checkpoints  # type: ignore[union-attr]
    assert (DAYS[1], DAYS[2]) == (cp.week4.isoformat(), cp.week8.isoformat()) and DAYS[0].startswith(cp.baseline)
    snap = next(s for s in kb.kpi_snapshots if s.period == cp.baseline)
    for a in kb.audits:
        assert [f.id for f in a.figures] == list(FIGURES)
        assert a.source == snap.source  # the same export as the KPI snapshots
        assert a.policy_sha256 == kb.program.sources["progression.yml"].sha256
    cmp = compare(kb.audits[0], kb.audits[-1])
    verdicts = {m.id: m.verdict for m in cmp.figures}
    assert verdicts["progression_sla"] == verdicts["bounce_rate"] == verdicts["reopen_rate"] == verdicts["sla_breached"] == "better"


def test_example_audits_are_reproduced_byte_for_byte(example_kb: Path, tmp_path: Path) -> None:
    import_example_export(example_kb, tmp_path)
    for day in DAYS:
        res = kedb("--root", str(example_kb), "tickets", "audit", "--as-of", day, "--write")
        assert res.exit_code == 0, res.output
        made = (example_kb / "content" / "audits" / f"{day}.yml").read_text(encoding="utf-8")
        assert made == (REPO / "content" / "audits" / f"{day}.yml").read_text(encoding="utf-8"), REFRESH
