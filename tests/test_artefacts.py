"""The four downloadable artefacts, read back with real readers (python-docx, openpyxl,
python-pptx, pypdf, poppler, LibreOffice), built from the example KB in a real git repository
with two commits: the import (before the approval gate) and an approved change to a
high-impact record, plus a KPI snapshot for the week-4 month.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml

from kbtest import AS_OF, REPO, git, require_tool
from kedb.build import context
from kedb.build.facts import kpi_rows
from kedb.renderers import ARTEFACTS, file_name, get

SNAPSHOT = {
    "period": "2026-09",
    "window_days": 30,
    "source": {"system": "csv", "tickets": 1200},
    "values": [
        {"id": "repeat_ticket_rate", "value": 15.2, "unit": "percent", "numerator": 152, "denominator": 1000, "basis": "1000 incidents"},
        {"id": "mean_time_to_root_cause", "value": 14, "unit": "days", "basis": "5 problems"},
        {"id": "problem_fix_success_rate", "value": None, "unit": "percent", "basis": "no verification window ended"},
    ],
}
APPROVER = "Marek Novak"  # an approver of remote-access in content/roles.yml


def _commit(root: Path, message: str, when: str) -> str:
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, env=env)
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("artefacts") / "kb"
    for part in ("content", "known_errors", "templates"):
        shutil.copytree(REPO / part, root / part)
    settings = root / "content" / "kedb.yml"
    text = re.sub(r"(?m)^approvals_since:.*\n", "", settings.read_text(encoding="utf-8"))
    settings.write_text(text + "approvals_since: 2026-10-01\n", encoding="utf-8")
    (root / "content" / "kpi").mkdir(exist_ok=True)
    for old in (root / "content" / "kpi").glob("*.yml"):
        old.unlink()
    (root / "content" / "kpi" / "2026-09.yml").write_text(yaml.safe_dump(SNAPSHOT, sort_keys=False), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    first = _commit(root, "Import the KB", "2026-09-01T10:00:00+00:00")
    ke = next((root / "known_errors").glob("KE-0009-*.md"))
    ke.write_text(ke.read_text(encoding="utf-8").rstrip("\n") + "\n\nChecked again after the certificate renewal.\n", encoding="utf-8")
    second = _commit(root, f"KE-0009: note the renewal check\n\nRe-checked after renewal.\n\nApproved-by: {APPROVER} <marek.novak@northwind-msp.example>",
                     "2026-11-02T09:30:00+00:00")  # fmt: skip
    ctx = context.make(root, as_of=date.fromisoformat(AS_OF))
    out = root / "site" / "downloads"
    paths = {name: get(name)(ctx, out) for name in ARTEFACTS}
    return {"root": root, "ctx": ctx, "paths": paths, "first": first, "second": second}


def _published_kes(ctx: context.BuildContext) -> list[str]:
    return [r.id for r in ctx.kb.known_errors if r.meta.status == "published"]


# ---------------------------------------------------------------- DOCX
def test_runbook_has_word_structure_and_every_published_known_error(repo: dict) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    ctx, path = repo["ctx"], repo["paths"]["docx"]
    assert path.name == file_name("docx") == "implementation-runbook.docx"
    doc = Document(str(path))
    heads = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith("Heading")]
    h1 = [t for s, t in heads if s == "Heading 1"]
    for section in ("Roles and owners", "Triggers", "Playbooks", "Published known errors", "Escalation paths", "The 30-day rhythm",
                    "Change notes"):  # fmt: skip
        assert section in h1
    h2 = [t for s, t in heads if s == "Heading 2"]
    for kid in _published_kes(ctx):
        assert any(t.startswith(kid + " ") for t in h2), kid
    body = doc.element.body
    assert any("TOC \\o" in (t.text or "") for t in body.iter(qn("w:instrText"))), "no TOC field"
    # numbered steps: List Number paragraphs, each list restarting at 1 through its own numbering instance
    numbered = [p for p in doc.paragraphs if p.style.name == "List Number"]
    num_ids = {p._p.pPr.numPr.numId.val for p in numbered if p._p.pPr is not None and p._p.pPr.numPr is not None}
    assert len(numbered) > 50 and len(num_ids) > 20
    numbering = doc.part.numbering_part.element
    restarts = {
        n.get(qn("w:numId")) for n in numbering.findall(qn("w:num")) if n.find(f"{qn('w:lvlOverride')}/{qn('w:startOverride')}") is not None
    }
    assert {str(i) for i in num_ids} <= restarts
    texts = "\n".join(p.text for p in doc.paragraphs)
    assert "dsregcmd /refreshprt" in texts  # WA-0001 step
    assert "Rename OneAuth.bak and IdentityCache.bak back" in texts  # WA-0001 rollback
    # tables: header rows repeat on each page
    assert len(doc.tables) > 20
    for t in doc.tables:
        assert t.rows[0]._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
    # page number field in the footer; styles from templates/reference.docx
    footer = doc.sections[0].footer._element
    assert any("PAGE" in (t.text or "") for t in footer.iter(qn("w:instrText")))
    names = {s.name for s in doc.styles}
    assert {"Code Block", "KEDB Table", "TOC 1"} <= names
    # change notes: both commits of KE-0009, the second with its approval
    notes = doc.tables[-1]
    rows = [[c.text for c in r.cells] for r in notes.rows]
    ke9 = [r for r in rows if r[0] == "KE-0009"]
    assert [r[2] for r in ke9] == [repo["second"][:10], repo["first"][:10]]
    assert ke9[0][5] == f"approved: {APPROVER}" and ke9[1][5] == "before the approval gate"
    assert "Re-checked after renewal." in ke9[0][4]


# ---------------------------------------------------------------- XLSX
def test_register_has_tracker_formulas_validation_formats_and_chart(repo: dict) -> None:
    from openpyxl import load_workbook

    ctx, path = repo["ctx"], repo["paths"]["xlsx"]
    wb = load_workbook(path)
    assert wb.sheetnames == ["KPI tracker", "Risks and controls", "Known errors", "Aged-ticket audit", "About"]  # the example's audits
    kpi = wb["KPI tracker"]
    header = [c.value for c in kpi[1]]
    col = {h: i for i, h in enumerate(header)}
    rows = {r[0].value: r for r in kpi.iter_rows(min_row=2, max_row=1 + len(ctx.kb.program.kpis.kpis))}
    defs = {k.id: k for k in ctx.kb.program.kpis.kpis}
    for v in SNAPSHOT["values"]:
        r = rows[v["id"]]
        assert r[col["Baseline"]].value == defs[v["id"]].baseline
        assert r[col["Week 4"]].value == v["value"]  # the snapshot's figure, None when it could not be computed
        assert r[col["Week 8"]].value is None
    assert "not measured yet: run `kedb kpi --period 2026-10 --write`" in rows["repeat_ticket_rate"][col["Notes"]].value
    assert rows["reopen_rate"][col["Week 4"]].value is None
    assert rows["repeat_ticket_rate"][col["Week 4 vs baseline"]].value.startswith("=IF(")
    assert rows["repeat_ticket_rate"][col["Status"]].value.startswith("=IF(")
    for ws in (kpi, wb["Risks and controls"], wb["Known errors"]):
        assert ws.freeze_panes == "C2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        assert ws.conditional_formatting, ws.title
    assert len(kpi._charts) == 1
    risks = wb["Risks and controls"]
    lists = {dv.formula1 for dv in risks.data_validations.dataValidation}
    assert '"open,mitigating,accepted,closed"' in lists and '"planned,operating,needs-improvement"' in lists
    kes = wb["Known errors"]
    assert '"draft,in-review,published,retired"' in {dv.formula1 for dv in kes.data_validations.dataValidation}
    ids = [r[0].value for r in kes.iter_rows(min_row=2)]
    assert ids == [r.id for r in ctx.kb.known_errors]
    n_controls = sum(max(1, len(r.controls)) for r in ctx.kb.program.risks.risks)
    assert risks.max_row == 1 + n_controls


# ---------------------------------------------------------------- PPTX
def test_brief_has_the_slides_and_native_charts(repo: dict) -> None:
    from pptx import Presentation

    prs = Presentation(str(repo["paths"]["pptx"]))
    titles = [s.shapes.title.text for s in prs.slides]
    assert titles == [
        "Northwind MSP known-error database", "The problem", "KPI movement against baseline", "KPI baseline, checkpoints and targets",
        "Aged-ticket audit", "Top recurring problems and their fix status", "Approvals pending and risks", "The next 30 days", "Where these figures come from",
    ]  # fmt: skip
    charts = [sh.chart for s in prs.slides for sh in s.shapes if sh.has_chart]
    assert len(charts) == 3  # KPI movement, the aged-ticket audit, recurring problems
    kpi_chart = charts[0]
    series = {s.name: list(s.values) for s in kpi_chart.plots[0].series}
    rows = kpi_rows(repo["ctx"])
    names = [r.kpi.id for r in rows]
    baseline = rows[names.index("repeat_ticket_rate")].baseline
    assert baseline  # from content/kpis.yml
    assert series["Week 4"][names.index("repeat_ticket_rate")] == pytest.approx(15.2 / baseline * 100, abs=0.1)
    assert series["Week 8"][names.index("repeat_ticket_rate")] is None
    layouts = {s.slide_layout.name for s in prs.slides}
    assert layouts <= {lay.name for lay in prs.slide_layouts} and "Title Slide" in layouts
    master_names = {sh.name for sh in prs.slide_master.shapes}
    assert "Brand band" in master_names  # the master from templates/master.pptx


# ---------------------------------------------------------------- PDF
def test_proof_brief_has_commit_hashes_trail_and_embedded_fonts(repo: dict) -> None:
    from pypdf import PdfReader

    ctx, path = repo["ctx"], repo["paths"]["pdf"]
    reader = PdfReader(str(path))
    text = "\n".join(p.extract_text() for p in reader.pages)
    flat = re.sub(r"\s+", "", text)
    assert ctx.info.commit in flat and repo["second"] in flat and repo["first"] in flat
    for rec in ctx.kb.records.values():
        assert rec.source.sha256 in flat, rec.id
        assert hashlib.sha256((repo["root"] / rec.source.path).read_bytes()).hexdigest() == rec.source.sha256
    assert f"approved:{APPROVER.replace(' ', '')}" in flat
    assert "beforetheapprovalgate" in flat
    assert "KPIbaselineandmovement" in flat and "Controlsinplace" in flat
    assert reader.metadata.creation_date.date().isoformat() == ctx.info.date.date().isoformat() == "2026-11-02"
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts


# ---------------------------------------------------------------- properties
def test_same_commit_same_bytes(repo: dict, tmp_path: Path) -> None:
    ctx = context.make(repo["root"], as_of=date.fromisoformat(AS_OF))
    again = {name: get(name)(ctx, tmp_path / "again") for name in ARTEFACTS}
    for name in ARTEFACTS:
        a, b = repo["paths"][name].read_bytes(), again[name].read_bytes()
        assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest(), name


def test_office_zip_members_have_fixed_timestamps(repo: dict) -> None:
    import zipfile

    for name in ("docx", "xlsx", "pptx"):
        with zipfile.ZipFile(repo["paths"][name]) as z:
            infos = z.infolist()
            assert infos[0].filename == "[Content_Types].xml"
            assert {i.date_time for i in infos} == {(2026, 11, 2, 9, 30, 0)}, name


def _flat(text: str) -> str:
    """Extracted text with every run of white space one space (lines wrap where the layout says)."""
    return re.sub(r"\s+", " ", text).strip()


def test_libreoffice_converts_office_artefacts(repo: dict, tmp_path: Path) -> None:
    """LibreOffice opens the runbook, the register and the deck, and what it prints holds their text."""
    from docx import Document
    from openpyxl import load_workbook
    from pptx import Presentation
    from pypdf import PdfReader

    unchecked = "that LibreOffice opens the runbook, register and deck and prints their text"
    soffice = require_tool("soffice", unchecked, "libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui")
    pdftoppm = require_tool("pdftoppm", unchecked, "poppler-utils")
    paths = {n: repo["paths"][n] for n in ("docx", "xlsx", "pptx")}
    profile = (tmp_path / "lo-profile").as_uri()
    out = tmp_path / "pdf"
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(out),
                    *map(str, paths.values())], check=True, capture_output=True, timeout=300)  # fmt: skip
    pages: dict[str, list[str]] = {}
    for name, f in paths.items():
        pdf = out / (f.stem + ".pdf")
        assert pdf.is_file(), f"LibreOffice wrote no PDF for {f.name}"
        pages[name] = [_flat(page.extract_text()) for page in PdfReader(str(pdf)).pages]
        png = tmp_path / f.stem
        subprocess.run([pdftoppm, "-r", "30", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(png)], check=True)
        assert png.with_suffix(".png").stat().st_size > 500

    # The runbook: every heading, down to the workaround sections the contents do not list, and a
    # workaround step and its rollback (the page footers LibreOffice adds are taken out first).
    runbook = re.sub(r"Page \d+ of \d+ ?", "", " ".join(pages["docx"]))
    headings = [_flat(p.text) for p in Document(str(paths["docx"])).paragraphs if p.style.name in ("Heading 1", "Heading 2", "Heading 3")]
    assert len(headings) > 50 and [h for h in headings if h not in runbook] == []
    assert "dsregcmd /refreshprt" in runbook and "Rename OneAuth.bak and IdentityCache.bak back" in runbook
    # The register: every sheet is printed, with the ids of its first column (KPIs, risks, known errors, audit figures).
    register = " ".join(pages["xlsx"])
    for ws in load_workbook(paths["xlsx"]).worksheets:
        ids = [c.value for c in ws["A"][1:] if isinstance(c.value, str) and " " not in c.value]
        assert ids and [i for i in ids if i not in register] == [], ws.title
    # The deck: one page per slide, each with its slide's title.
    slides = Presentation(str(paths["pptx"])).slides
    titles = [_flat(s.shapes.title.text) if s.shapes.title is not None else None for s in slides]
    assert len(pages["pptx"]) == len(titles) and None not in titles
    assert [(i, t) for i, t in enumerate(titles) if t not in pages["pptx"][i]] == []
