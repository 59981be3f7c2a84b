"""The example KB's KPI snapshots (content/kpi/) are what the documented commands compute, nothing hand-written.

If this fails after a change to the known errors, problems or the ticket code, regenerate the
snapshots with the commands in the README ("Ticket exports, candidates and KPIs") and commit them.
"""

from __future__ import annotations

from pathlib import Path

from kbtest import REPO, import_example_export, kedb
from kedb.core.load.loader import load
from kedb.core.program import KPI_IDS
from kedb.core.records import Problem
from kedb.core.snapshots import VOLUME_IDS
from kedb.tickets.kpi import checkpoint_periods

REFRESH = (
    "content/kpi/ is out of date: run `python benchmarks/synth_tickets.py --tickets 12000 --kb . --out .kedb/example-export.csv`, "
    "`kedb tickets import .kedb/example-export.csv --source servicenow` and `kedb kpi --period P --write` for each checkpoint month"
)


def test_example_snapshots_cover_the_checkpoints_and_agree_with_the_records() -> None:
    kb, _ = load(REPO)
    periods = checkpoint_periods(kb)
    assert periods == ["2026-08", "2026-09", "2026-10"]
    assert [s.period for s in kb.kpi_snapshots] == periods
    problems = [r.meta for r in kb.problems if isinstance(r.meta, Problem)]
    for snap in kb.kpi_snapshots:
        assert {v.id for v in snap.values} == set(KPI_IDS) | set(VOLUME_IDS)
        reached = [p for p in problems if p.root_cause_identified and p.root_cause_identified.strftime("%Y-%m") == snap.period]
        days = [(p.root_cause_identified - p.opened).days for p in reached if p.root_cause_identified]
        assert snap.value("mean_time_to_root_cause").value == (round(sum(days) / len(days), 2) if days else None)  # type: ignore[union-attr]
        assert snap.source.tickets == 12000 and snap.source.system == "servicenow"
    base, week8 = kb.kpi_snapshots[0], kb.kpi_snapshots[-1]
    assert week8.value("repeat_ticket_rate").value < base.value("repeat_ticket_rate").value  # type: ignore[union-attr,operator]


def test_example_snapshots_are_reproduced_byte_for_byte(example_kb: Path, tmp_path: Path) -> None:
    import_example_export(example_kb, tmp_path)
    for period in ("2026-08", "2026-09", "2026-10"):
        res = kedb("--root", str(example_kb), "kpi", "--period", period, "--write")
        assert res.exit_code == 0, res.output
        made = (example_kb / "content" / "kpi" / f"{period}.yml").read_text(encoding="utf-8")
        assert made == (REPO / "content" / "kpi" / f"{period}.yml").read_text(encoding="utf-8"), REFRESH
    cands = kedb("--root", str(example_kb), "candidates")
    assert "proposed problem candidates: 4" in cands.output
    assert "m365-identity:sign-in:aadsts50076 → KE-0001, PRB-0005" in cands.output
