"""Issue #20 item 4: the register's per-tenant sheet, and a tenant judged against its own baseline month."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from kedb.build import context, facts
from kedb.core import standing
from kedb.renderers import xlsx

SHEET = "KPIs by tenant"


def _tenants_in(path: Path) -> set[str]:
    ws = load_workbook(path)[SHEET]
    return {row[0] for row in ws.iter_rows(min_row=2, values_only=True) if row[0]}


def test_internal_edition_has_every_tenant_and_a_tenant_edition_only_its_own(example_kb: Path, tmp_path: Path) -> None:
    internal = xlsx.render(context.make(example_kb), tmp_path / "internal")
    assert _tenants_in(internal) == {"ACME", "GLOBEX", "INITECH"}
    acme = xlsx.render(context.make(example_kb, tenant="ACME"), tmp_path / "acme")
    assert _tenants_in(acme) == {"ACME"}
    public = xlsx.render(context.make(example_kb, audience="public"), tmp_path / "public")
    assert SHEET not in load_workbook(public).sheetnames


def test_a_tenant_is_judged_against_its_own_baseline_month(example_kb: Path) -> None:
    ctx = context.make(example_kb, tenant="GLOBEX")
    own = next(s for s in ctx.kb.kpi_snapshots if s.period == "2026-08")
    rows = {r.kpi.id: r for r in facts.kpi_rows(ctx)}
    repeat = rows["repeat_ticket_rate"]
    assert repeat.baseline == own.value("repeat_ticket_rate").value  # type: ignore[union-attr]
    assert repeat.baseline != repeat.kpi.baseline  # the desk's 20.04 % is not GLOBEX's start
    assert repeat.standing == standing.judge(repeat.kpi, repeat.checkpoints, repeat.baseline, repeat.latest, repeat.latest_period).word
    sheet = next(t for t in facts.tenant_kpis(ctx) if t.tenant == "GLOBEX")
    assert {r.kpi.id: r.baseline for r in sheet.rows} == {k: r.baseline for k, r in rows.items()}
