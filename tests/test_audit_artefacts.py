"""The flow audit where people look: the register's sheet, the deck's slide and the proof brief's section.

Built from the minimal KB with the example's stored audits laid over it, read back with
openpyxl, python-pptx and pypdf. The at-risk ticket ids appear only in the internal, all-tenant
register; the deck and the brief give counts only; a KB without audits gets none of this (the
golden dumps in test_artefacts_golden.py hold that).
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from conftest import MakeKB
from kbtest import AS_OF, REPO, git
from kedb.build import context
from kedb.core.load.loader import load
from kedb.renderers import get

AUDITS = sorted((REPO / "content" / "audits").glob("*.yml"))
# The register's audit: one table per sheet (figures, progression by stage, age profile, tickets at risk).
AUDIT_SHEETS = ("Aged-ticket audit", "Audit by stage", "Audit by age", "Tickets at risk")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb = tmp_path_factory.mktemp("audit-artefacts") / "kb"
    shutil.copytree(REPO / "tests" / "fixtures" / "base", kb)
    shutil.copytree(REPO / "content" / "audits", kb / "content" / "audits")
    git(kb, "init", "-q", "-b", "main")
    git(kb, "add", "-A")
    git(
        kb,
        "commit",
        "-q",
        "-m",
        "KB with audits",
        env={"GIT_AUTHOR_DATE": "2026-11-02T09:30:00+00:00", "GIT_COMMITTER_DATE": "2026-11-02T09:30:00+00:00"},
    )
    return kb


def build(root: Path, name: str, out: Path, **kw: str) -> Path:
    ctx = context.make(root, as_of=date.fromisoformat(AS_OF), **kw)  # type: ignore[arg-type]
    return get(name)(ctx, out)


def at_risk_ids(root: Path) -> list[str]:
    latest = load(root)[0].audits[-1]
    assert latest.at_risk, "the example's latest audit lists tickets at risk"
    return [t.id for t in latest.at_risk]


def sheet_text(path: Path) -> tuple[list[str], str]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    sheets = [n for n in wb.sheetnames if n in AUDIT_SHEETS]
    rows = [" | ".join("" if c.value is None else str(c.value) for c in row) for n in sheets for row in wb[n].iter_rows()]
    return wb.sheetnames, "\n".join(rows)


def test_register_has_the_audit_sheet_with_formulas_and_the_at_risk_tickets(root: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = build(root, "xlsx", tmp_path)
    names, text = sheet_text(path)
    assert names[names.index("Aged-ticket audit") :] == [*AUDIT_SHEETS, "About"]
    ws = load_workbook(path)["Aged-ticket audit"]
    header = [c.value for c in ws[1]]
    assert header[4 : 4 + len(AUDITS)] == [f"As of {p.stem}" for p in AUDITS]
    rows = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=12)}
    latest = load(root)[0].audits[-1]
    assert rows["progression_sla"][3 + len(AUDITS)] == latest.figure("progression_sla").value  # type: ignore[union-attr]
    assert rows["progression_sla"][3] == "higher" and rows["reopen_rate"][3] == "lower"
    movement = rows["reopen_rate"][4 + len(AUDITS)]
    assert isinstance(movement, str) and movement.startswith("=IF(AND(ISNUMBER(")
    assert ws.freeze_panes == "C2" and ws.auto_filter.ref.startswith("A1:")
    for tid in at_risk_ids(root):
        assert tid in text
    assert "% moved on in time" in text and "Open tickets by age" in text
    for name in AUDIT_SHEETS:  # each table on its own sheet, under its own frozen header
        assert load_workbook(path)[name].freeze_panes == "B2" or name == "Aged-ticket audit"


@pytest.mark.parametrize("edition", [{"audience": "public"}, {"tenant": "ACME"}])
def test_public_and_tenant_registers_leave_the_ticket_ids_out(root: Path, tmp_path: Path, edition: dict[str, str]) -> None:
    _, text = sheet_text(build(root, "xlsx", tmp_path, **edition))
    assert "left out of public and tenant editions" in text
    assert not any(tid in text for tid in at_risk_ids(root))
    assert "Progression SLA" in text  # the aggregates stay


def test_deck_has_the_audit_slide_and_no_ticket_ids(root: Path, tmp_path: Path) -> None:
    from pptx import Presentation

    prs = Presentation(str(build(root, "pptx", tmp_path)))
    (slide,) = [s for s in prs.slides if s.shapes.title.text == "Aged-ticket audit"]
    (table,) = [sh.table for sh in slide.shapes if sh.has_table]
    first, latest = AUDITS[0].stem, AUDITS[-1].stem
    assert [c.text for c in table.rows[0].cells] == ["Figure", first, latest, "Change", "Verdict"]
    rows = {r.cells[0].text: [c.text for c in r.cells] for r in list(table.rows)[1:]}
    assert rows["Progression SLA (status periods moved on in time)"][4] == "better"
    (chart,) = [sh.chart for sh in slide.shapes if sh.has_chart]
    assert [s.name for s in chart.plots[0].series] == [f"As of {first}", f"As of {latest}"]
    text = "\n".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)
    assert not any(tid in text for tid in at_risk_ids(root))


def test_proof_brief_has_the_audit_section_and_no_ticket_ids(root: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(str(build(root, "pdf", tmp_path))).pages)
    flat = re.sub(r"\s+", "", text)
    assert "Aged-tick" in text and "Howeachfigureasof" in flat and "Progressionbystage" in flat
    assert not any(tid in flat for tid in at_risk_ids(root))


def test_a_kb_without_audits_gets_no_audit_sheet(make_kb: MakeKB, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    kb = make_kb()
    assert "Aged-ticket audit" not in load_workbook(build(kb, "xlsx", tmp_path)).sheetnames
