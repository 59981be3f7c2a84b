"""The four downloadable artefacts, read back with real readers (python-docx, openpyxl,
python-pptx, pypdf, poppler, LibreOffice), built from the bundled example with its demonstration
history (examples/example_history.py): the import before the approval gate, then merge requests
that publish high-impact known errors with an approver's ``Approved-by:`` trailer.

The layout as readers see it (words unbroken, text on the page, page counts) is checked in
test_artefacts_layout.py.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest

from kbtest import require_tool
from kedb.build import context, facts
from kedb.renderers import ARTEFACTS, file_name, get
from test_artefacts_layout import example_history

APPROVER = "Marek Novak"  # the approver of remote-access in content/roles.yml, who approves KE-0009 in the example
INCIDENT_LEAD = "Lena Fischer"  # holds the incident-lead role in content/roles.yml


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = example_history().build(tmp_path_factory.mktemp("artefacts") / "kb")  # type: ignore[attr-defined]
    ctx = context.make(root)
    out = root / "site" / "downloads"
    paths = {name: get(name)(ctx, out) for name in ARTEFACTS}
    log = subprocess.run(["git", "log", "--first-parent", "--format=%H %s"], cwd=root, capture_output=True, text=True, check=True).stdout
    commits = [line.split(" ", 1) for line in log.splitlines()]
    merge = next(sha for sha, subject in commits if "publish-ke-0009" in subject)
    return {"root": root, "ctx": ctx, "paths": paths, "import": commits[-1][0], "merge": merge}


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
    assert h1 == ["Scope", "Roles and owners", "Contacts", "Triggers", "Playbooks", "Go-live checklist", "The next 30 days",
                  "Published known errors", "Escalation paths", "Change notes", "Glossary"]  # fmt: skip
    h2 = [t for s, t in heads if s == "Heading 2"]
    for kid in _published_kes(ctx):
        assert any(t.startswith(kid + " ") for t in h2), kid
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
    # tables: header rows repeat on each page; fixed layout whose widths add up to the text width
    assert len(doc.tables) > 20
    for t in doc.tables:
        assert t.rows[0]._tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
        assert t._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
    # page number field in the footer; styles from templates/reference.docx; headings kept with what follows
    footer = doc.sections[0].footer._element
    assert any("PAGE" in (t.text or "") for t in footer.iter(qn("w:instrText")))
    assert {"Code Block", "KEDB Table", "TOC 1"} <= {s.name for s in doc.styles}
    assert all(doc.styles[f"Heading {n}"].paragraph_format.keep_with_next for n in (1, 2, 3))


def test_runbook_contents_link_every_heading_without_an_update_prompt(repo: dict) -> None:
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(repo["paths"]["docx"]))
    assert doc.settings.element.find(qn("w:updateFields")) is None  # Word opens it without asking to update fields
    body = doc.element.body
    instr = [t.text for t in body.iter(qn("w:instrText"))]
    assert not any("TOC" in (i or "") for i in instr)
    marks = {b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))}
    refs = [re.search(r"PAGEREF (\S+)", i).group(1) for i in instr if i and "PAGEREF" in i]
    links = [h.get(qn("w:anchor")) for h in body.iter(qn("w:hyperlink"))]
    level12 = [p for p in doc.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
    assert len(refs) == len(links) == len(level12) and set(refs) <= marks and set(links) == set(refs)


def test_runbook_has_document_control_raci_contacts_and_names(repo: dict) -> None:
    from docx import Document

    ctx = repo["ctx"]
    doc = Document(str(repo["paths"]["docx"]))
    roles = ctx.kb.program.roles
    control = {r.cells[0].text: r.cells[1].text for r in doc.tables[0].rows[1:]}
    assert {"Document", "Version", "Owner", "Approver", "Distribution", "Classification", "Source"} <= set(control)
    assert ctx.info.short in control["Version"] and "Priya Raman" in control["Owner"] and "Dana Okafor" in control["Approver"]
    raci = next(t for t in doc.tables if [c.text for c in t.rows[0].cells] == ["Service", "R", "A", "C", "I"])
    rows = {r.cells[0].text: [c.text for c in r.cells] for r in raci.rows[1:]}
    assert len(rows) == len(roles.assignments)
    identity = rows[facts.service_name(ctx, "m365-identity")]
    assert identity[1:4] == ["Jo McAllister", "Tom Becker", "Dana Okafor, Marek Novak"]
    playbooks = next(t for t in doc.tables if t.rows[0].cells[0].text == "Playbook")
    assert any("A" in c.text for r in playbooks.rows[1:] for c in r.cells[1:])
    contacts = next(t for t in doc.tables if [c.text for c in t.rows[0].cells][:3] == ["Name", "Roles", "E-mail"])
    assert {r.cells[0].text for r in contacts.rows[1:]} == {p.name for p in roles.people}
    handles = {p.handle for p in roles.people}
    for t in doc.tables:  # people by name: no handle in any table
        for r in t.rows:
            for c in r.cells:
                assert not any(h in c.text.split() for h in handles), (c.text, t.rows[0].cells[0].text)
    checklist = next(t for t in doc.tables if t.rows[0].cells[0].text == "Done")
    gates = [r for r in checklist.rows if r.cells[1].text.startswith("Gate: ")]
    assert len(gates) == len(ctx.kb.program.rhythm.phases) and all(r.cells[0].text == "☐" for r in checklist.rows[1:])


def test_runbook_change_notes_are_one_entry_per_commit(repo: dict) -> None:
    from docx import Document

    ctx = repo["ctx"]
    doc = Document(str(repo["paths"]["docx"]))
    notes = next(t for t in doc.tables if t.rows[0].cells[0].text.startswith("Landed"))
    rows = [[c.text for c in r.cells] for r in notes.rows[1:]]
    commits = [r[0].split("\n")[1] for r in rows]
    assert len(commits) == len(set(commits)) == len(facts.commit_trail(ctx, [r.id for r in ctx.kb.records.values()]))
    ke9 = next(r for r in rows if repo["merge"][:10] in r[0])
    # KE-0009 is P1: its reply changed, so the incident lead approved too (KE819)
    assert "KE-0009" in ke9[3] and re.fullmatch(rf"by {APPROVER}, {INCIDENT_LEAD}: approved( \(\d+\))?", ke9[4])
    assert "northwind/kedb!1" in ke9[2] and not ke9[2].startswith("Merge branch")
    imported = next(r for r in rows if repo["import"][:10] in r[0])
    assert len(imported[3].split("\n")) > 20  # one entry for the import, listing every record it added


# ---------------------------------------------------------------- XLSX
def test_register_prints_on_a4_with_named_fonts_and_formulas(repo: dict) -> None:
    from openpyxl import load_workbook

    ctx, path = repo["ctx"], repo["paths"]["xlsx"]
    wb = load_workbook(path)
    assert wb.sheetnames[:9] == ["KPI tracker", "KPI definitions", "KPI snapshots", "KPIs by tenant", "Volume and backlog", "Risks",
                                 "Risk actions", "Controls", "Framework mapping"]  # fmt: skip
    assert {"Control runs", "Known errors", "Changes by commit", "Aged-ticket audit", "Audit by stage", "Audit by age",
            "Tickets at risk"} <= set(wb.sheetnames) and wb.sheetnames[-1] == "About"  # fmt: skip
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert (ps.orientation, int(ps.paperSize), ps.fitToWidth, ps.fitToHeight) == ("landscape", 9, 1, 0), ws.title  # 9: A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.print_title_rows == "$1:$1", ws.title
        assert ws.freeze_panes and ws.oddFooter.right.text == "Page &P of &N", ws.title
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    assert c.font.name and c.font.sz, (ws.title, c.coordinate)
        header = ws[1]
        assert all(c.font.b and c.font.name == "Calibri" and c.font.sz == 10 for c in header if c.value), ws.title
    kpi = wb["KPI tracker"]
    header = [c.value for c in kpi[1]]
    col = {h: i for i, h in enumerate(header)}
    rows = {r[0].value: r for r in kpi.iter_rows(min_row=2, max_row=1 + len(ctx.kb.program.kpis.kpis))}
    k = {x.name: x for x in ctx.kb.program.kpis.kpis}
    repeat = rows[k["Repeat ticket rate"].name]
    assert repeat[col["Baseline"]].value == k["Repeat ticket rate"].baseline and repeat[col["Week 8"]].value == ctx.kb.kpi_snapshots[-1].value("repeat_ticket_rate").value
    for name in ("Week 4 vs baseline", "Since baseline", "Standing"):
        assert repeat[col[name]].value.startswith("=IF("), name
    assert "not computed" in rows["Problem fix success rate"][col["Notes"]].value or rows["Problem fix success rate"][col["Notes"]].value
    better = [r[col["Better"]].value for r in kpi.iter_rows(min_row=2, max_row=1 + len(k))]
    assert better == sorted(better, key=lambda b: b != "lower")  # one direction after the other
    assert len(kpi._charts) == 2  # one chart per direction, never mixed
    risks = wb["Risks"]
    rh = {c.value: i for i, c in enumerate(risks[1])}
    first = risks[2]
    assert first[rh["Score (L × I)"]].value.startswith("=MATCH(") and first[rh["Next review"]].value.startswith("=IF(ISNUMBER(")
    assert first[rh["Next action"]].value and first[rh["Due"]].value is not None
    assert '"open,mitigating,accepted,closed"' in {dv.formula1 for dv in risks.data_validations.dataValidation}
    kes = wb["Known errors"]
    assert [r[0].value for r in kes.iter_rows(min_row=2)] == [r.id for r in ctx.kb.known_errors]
    changes = wb["Changes by commit"]
    assert changes.max_row - 1 == len(facts.commit_trail(ctx))


def test_register_movement_reads_better_or_worse(repo: dict, tmp_path: Path) -> None:
    """LibreOffice computes the tracker's formulas: the printed sheet says better, on track and missed (escalation
    accuracy short of its absolute floor at week 8), never a bare difference."""
    soffice = require_tool("soffice", "the register's formulas as LibreOffice computes them", "libreoffice-calc-nogui")
    out = tmp_path / "pdf"
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless", "--convert-to", "pdf", "--outdir", str(out),
                    str(repo["paths"]["xlsx"])], check=True, capture_output=True, timeout=300)  # fmt: skip
    text = subprocess.run(["pdftotext", "-layout", "-l", "1", str(out / "kpi-and-risk-register.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    assert text.count("better") >= 6 and "on track" in text and "missed" in text and "#NAME" not in text and "Err:" not in text


# ---------------------------------------------------------------- PPTX
def test_brief_opens_with_the_verdict_and_numbers_its_slides(repo: dict) -> None:
    from pptx import Presentation

    prs = Presentation(str(repo["paths"]["pptx"]))
    titles = [s.shapes.title.text for s in prs.slides]
    assert titles[0] == "Northwind MSP known-error database"
    assert titles[1].startswith("Verdict: ") and titles[2].startswith("The problem")
    assert {"KPI trends: lower is better", "KPI trends: higher is better", "Top risks: actions, owners and dates"} <= set(titles)
    assert titles[-1] == "Where these figures come from" and any(t.startswith("The next 30 days: ") for t in titles)
    verdict = "\n".join(sh.text_frame.text for sh in prs.slides[1].shapes if sh.has_text_frame)
    assert "Decisions asked of you" in verdict and "1. " in verdict
    title_slide = prs.slides[0]
    sizes = [r.font.size.pt for sh in title_slide.placeholders for p in sh.text_frame.paragraphs for r in p.runs if r.font.size]
    assert sizes[0] > max(sizes[1:])  # the title is the largest text on it
    assert not re.search(r"\b[0-9a-f]{10,40}\b", "\n".join(sh.text_frame.text for sh in title_slide.shapes if sh.has_text_frame))
    for n, slide in enumerate(prs.slides, start=1):
        assert slide.has_notes_slide and len(slide.notes_slide.notes_text_frame.text) > 40, n
        numbers = [
            sh for sh in slide.placeholders if sh.placeholder_format.type is not None and "SLIDE_NUMBER" in str(sh.placeholder_format.type)
        ]
        assert (len(numbers) == 1) == (n > 1), n
        if numbers:
            assert numbers[0].text_frame.text == f"{n} / {len(prs.slides)}"
    text = "\n".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)
    text += "\n".join(c.text for s in prs.slides for sh in s.shapes if sh.has_table for r in sh.table.rows for c in r.cells)
    assert not re.search(r"\bbreach\b", text.replace("SLA breach rate", ""))  # a KPI off target is on track or at risk, never "breach"
    assert " 1 customers" not in text


def test_brief_trends_draw_one_kpi_per_chart_over_every_snapshot(repo: dict) -> None:
    from pptx import Presentation

    ctx = repo["ctx"]
    prs = Presentation(str(repo["paths"]["pptx"]))
    snaps = [s.period for s in ctx.kb.kpi_snapshots]
    for slide in prs.slides:
        if not slide.shapes.title.text.startswith("KPI trends"):
            continue
        lower = slide.shapes.title.text.endswith("lower is better")
        for chart in (sh.chart for sh in slide.shapes if sh.has_chart):
            series = [s.name for s in chart.plots[0].series]
            assert len(series) <= 2 and series[1:] in ([], ["Target"])
            assert list(chart.plots[0].categories) == snaps
            kpi = next(k for k in ctx.kb.program.kpis.kpis if k.name == series[0])
            assert kpi.lower_is_better == lower


def test_brief_costs_repeat_work_and_names_risk_owners_and_dates(repo: dict) -> None:
    from pptx import Presentation

    ctx = repo["ctx"]
    prs = Presentation(str(repo["paths"]["pptx"]))
    slides = {s.shapes.title.text: s for s in prs.slides}
    problem = next(s for t, s in slides.items() if t.startswith("The problem"))
    text = "\n".join(sh.text_frame.text for sh in problem.shapes if sh.has_text_frame)
    work = facts.repeat_work(ctx)
    assert work.money(work.cost(work.baseline[1])) in text and work.money(work.saving_at_target) in text
    risks = slides["Top risks: actions, owners and dates"]
    (table,) = [sh.table for sh in risks.shapes if sh.has_table]
    header = [c.text for c in table.rows[0].cells]
    assert header == ["Risk", "Score", "Owner", "Next action", "Action owner", "Due", "Next review"]
    for row in list(table.rows)[1:]:
        cells = [c.text for c in row.cells]
        assert re.match(r"\d \(", cells[1]) and cells[2] and re.match(r"\d{4}-\d\d-\d\d", cells[5]), cells


# ---------------------------------------------------------------- PDF
def test_proof_brief_is_an_evidence_pack(repo: dict) -> None:
    from pypdf import PdfReader

    ctx, path = repo["ctx"], repo["paths"]["pdf"]
    reader = PdfReader(str(path))
    pages = [p.extract_text() for p in reader.pages]
    text = "\n".join(pages)
    flat = re.sub(r"\s+", "", text)
    assert ctx.info.commit in flat and repo["merge"] in flat and repo["import"] in flat
    for rec in ctx.kb.records.values():
        assert rec.source.sha256 in flat, rec.id
        assert hashlib.sha256((repo["root"] / rec.source.path).read_bytes()).hexdigest() == rec.source.sha256
    for name in ("docx", "xlsx", "pptx"):  # the other three artefacts, as built
        assert hashlib.sha256(repo["paths"][name].read_bytes()).hexdigest() in flat, name
    for heading in ("Scopeandperiod", "Producedby", "Attestation", "Resultsataglance", "KPIbaselineandmovement",
                    "Controls:evidence,lastrunandresult", "Exceptions", "Approvaltrailofthepublishedrecords"):  # fmt: skip
        assert heading in flat, heading
    assert f"approved:{APPROVER.replace(' ', '')}" in flat and "beforetheapprovalgate" in flat
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))
    assert "C-10" in flat and "2027-01-15" in flat  # the control that needs improvement, with its remediation date
    assert reader.metadata.creation_date.date().isoformat() == ctx.info.date.date().isoformat() == "2026-11-27"
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts


# ---------------------------------------------------------------- properties
def test_same_commit_same_bytes(repo: dict, tmp_path: Path) -> None:
    ctx = context.make(repo["root"])
    again = {name: get(name)(ctx, tmp_path / "again") for name in ARTEFACTS}
    for name in ARTEFACTS:
        a, b = repo["paths"][name].read_bytes(), again[name].read_bytes()
        assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest(), name


def test_the_proof_brief_alone_hashes_the_same_artefacts(repo: dict, tmp_path: Path) -> None:
    """--only pdf: the brief renders the other three itself to hash them, and gets the bytes a full build writes."""
    ctx = context.make(repo["root"])
    alone = get("pdf")(ctx, tmp_path / "alone")
    assert alone.read_bytes() == repo["paths"]["pdf"].read_bytes()
    assert sorted(p.name for p in (tmp_path / "alone").iterdir()) == [file_name("pdf")]


def test_office_zip_members_have_fixed_timestamps(repo: dict) -> None:
    import zipfile

    for name in ("docx", "xlsx", "pptx"):
        with zipfile.ZipFile(repo["paths"][name]) as z:
            infos = z.infolist()
            assert infos[0].filename == "[Content_Types].xml"
            assert {i.date_time for i in infos} == {(2026, 11, 27, 15, 0, 0)}, name


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

    # The runbook: every heading, down to the workaround sections the contents do not list, and a
    # workaround step and its rollback (the page footers LibreOffice adds are taken out first);
    # the contents show each heading's page number.
    runbook = re.sub(r"Page \d+ of \d+ ?", "", " ".join(pages["docx"]))
    headings = [_flat(p.text) for p in Document(str(paths["docx"])).paragraphs if p.style.name in ("Heading 1", "Heading 2", "Heading 3")]
    assert len(headings) > 50 and [h for h in headings if h not in runbook] == []
    assert "dsregcmd /refreshprt" in runbook and "Rename OneAuth.bak and IdentityCache.bak back" in runbook
    assert re.search(r"Scope\s*\.{5,}\s*\d+", " ".join(pages["docx"][:3]))
    # The register: every sheet is printed, with the ids of its first column.
    register = " ".join(pages["xlsx"])
    for ws in load_workbook(paths["xlsx"]).worksheets:
        ids = [c.value for c in ws["A"][1:] if isinstance(c.value, str) and " " not in c.value]
        assert [i for i in ids if i not in register] == [], ws.title
    # The deck: one page per slide, each with its slide's title.
    slides = Presentation(str(paths["pptx"])).slides
    titles = [_flat(s.shapes.title.text) if s.shapes.title is not None else None for s in slides]
    assert len(pages["pptx"]) == len(titles) and None not in titles
    assert [(i, t) for i, t in enumerate(titles) if t not in pages["pptx"][i]] == []
