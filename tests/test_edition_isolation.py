"""Editions are isolated in every output (issue #15, items 1 and 4).

One KB with public, internal, confidential and tenant-scoped records, a public known error
linking a hidden workaround and a hidden problem, a commit that changes a public and a
confidential record together (its words must appear nowhere), and a KPI snapshot naming a
hidden problem. Its editions are built one after the other in the same working tree, through
``kedb build`` and ``mkdocs build``; after each build every output file is scanned (HTML, JSON,
XML, decompressed ``.gz``, the XML inside the DOCX, XLSX and PPTX, ``pdftotext`` of the PDF) for
what the edition must not show, and for what it must (so the scan is not vacuous). The editions
are built through each site engine kedb drives: MkDocs and Zensical.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from kbtest import AS_OF, FIXTURES, REPO, copy_kb, git, init_repo, kedb, require_tool
from kedb.build.context import NEUTRAL_SUBJECT, edition_trail
from kedb.core.trail import Approval, ApprovalReport, History, Person, RecordHistory, Version, VersionState

OTHER_TENANT = ("GLOBEX", "Globex Quuxcorp")
WITHHELD_WORDS = ("SUBJLEAK7781", "NOTELEAK5512", "!4242")  # the mixed commit's subject, note and merge request
VISIBLE_NOTE = "VISIBLENOTE3141"  # a commit that touched public records only
EDITIONS = [("internal", None), ("public", None), ("internal", "ACME"), ("public", "ACME")]
ARTEFACTS = ("implementation-runbook.docx", "kpi-and-risk-register.xlsx", "exec-brief.pptx", "proof-brief.pdf")


def _record(
    kind: str,
    rid: str,
    title: str,
    sensitivity: str,
    extra: str,
    body: str,
    tags: str = "[]",
    tenants: str = "[]",
    status: str = "published",
) -> str:
    return (
        f"---\nid: {rid}\ntitle: {title}\nstatus: {status}\nservice: m365-mail\nowner: ann.owner\n"
        f"created: 2026-03-01\nreview_by: 2027-03-01\ntags: {tags}\ndata_sensitivity: {sensitivity}\ntenants: {tenants}\n{extra}---\n\n{body}"
    )


def _ke(rid: str, title: str, sensitivity: str, tags: str, tenants: str = "[]", links: str = "workarounds: []\n") -> str:
    extra = (
        f"symptoms:\n  - {title} again\nsymptom_signature: m365-mail:{rid.lower()}\nimpact: medium\nurgency: medium\n"
        f"priority: P2\n{links}"
        + ("" if "workarounds: [W" in links else "no_workaround_reason: None found yet.\n")
        + "fix:\n  status: none\n"
    )
    body = "## Symptoms\n\nIt happens.\n\n## Cause\n\nUnknown.\n\n## Workaround\n\nNone.\n\n## Permanent fix\n\nNone yet.\n\n## Reply to customer\n\nWe are on it.\n"
    return _record("known-error", rid, title, sensitivity, extra, body, tags, tenants)


def _make_kb(root: Path) -> dict[str, dict]:
    """The KB; returns each record's front-matter by id."""
    copy_kb(FIXTURES / "base", root)
    settings = root / "content" / "kedb.yml"
    settings.write_text(
        settings.read_text().replace(
            "tenants: [{id: ACME, name: Acme}]", f"tenants: [{{id: ACME, name: Acme}}, {{id: {OTHER_TENANT[0]}, name: {OTHER_TENANT[1]}}}]"
        )
    )
    ke = root / "known_errors"
    # The base records become public; the known error also links a confidential workaround and
    # its problem (PRB-0001, internal and investigating) is hidden from the public editions.
    text = (ke / "KE-0001-outlook-prompts.md").read_text()
    text = text.replace("data_sensitivity: internal", "data_sensitivity: public").replace(
        "workarounds: [WA-0001]", "workarounds: [WA-0001, WA-0002]"
    )
    # Its words name records other editions hide: a confidential one, another tenant's, an internal one.
    text = text.replace("## Cause\n\n", "## Cause\n\nSee also KE-0002, KE-0003 and KE-0005 (the same look).\n\n", 1)
    text = text.replace(
        "  - Outlook keeps asking for my password\n", "  - Outlook keeps asking for my password\n  - Looks like KE-0005 at first\n", 1
    )
    (ke / "KE-0001-outlook-prompts.md").write_text(text)
    wa = (ke / "WA-0001-clear-cached-credentials.md").read_text().replace("applies_to:", "data_sensitivity: public\napplies_to:")
    (ke / "WA-0001-clear-cached-credentials.md").write_text(wa)
    steps = "## Steps\n\n1. Do it.\n"
    (ke / "WA-0002-quasar-reset.md").write_text(
        _record(
            "workaround",
            "WA-0002",
            "Quasarwidget token reset",
            "confidential",
            "applies_to: [KE-0001]\nrisk: low\nverified_by: ann.owner\nverified_on: 2026-03-05\n",
            steps,
            "[quasartag]",
        )
    )
    (ke / "KE-0002-zephyrine-vault.md").write_text(
        _ke("KE-0002", "Zephyrine vault key rotation fails", "confidential", "[zephyrtag]", links="problem: PRB-0002\nworkarounds: []\n")
    )
    (ke / "KE-0003-globex-printers.md").write_text(
        _ke("KE-0003", "Marmalux printers stall for one customer", "public", "[marmaluxtag]", f"[{OTHER_TENANT[0]}]")
    )
    (ke / "KE-0004-acme-vpn.md").write_text(_ke("KE-0004", "Vantablu VPN drops for Acme", "public", "[vantablutag]", "[ACME]"))
    (ke / "KE-0005-internal-only.md").write_text(_ke("KE-0005", "Obsidrax internal relay queue", "internal", "[obsidraxtag]"))
    (ke / "PRB-0002-zephyrine-problem.md").write_text(
        _record(
            "problem", "PRB-0002", "Zephyrine vault problem", "confidential",
            "opened: 2026-07-01\nroot_cause_identified: 2026-07-15\nroot_cause: Vault keys expire.\nimpact: medium\nknown_errors: [KE-0002]\n",
            "## Problem statement\n\nVault keys.\n", "[zephyrtag]", status="root-cause-identified",
        )
    )  # fmt: skip
    kpi = (REPO / "content" / "kpi" / "2026-08.yml").read_text().replace("PRB-0003", "PRB-0002")
    (root / "content" / "kpi").mkdir()
    (root / "content" / "kpi" / "2026-08.yml").write_text(kpi)
    (root / ".gitignore").write_text("/site/\n/.kedb/\n")
    settings_mk = (REPO / "mkdocs.yml").read_text()
    (root / "mkdocs.yml").write_text(settings_mk.replace("audience: internal", "audience: public"))
    return {p.name.split("-")[0] + "-" + p.name.split("-")[1]: yaml.safe_load(p.read_text().split("---", 2)[1]) for p in ke.glob("*.md")}


def _commit_history(root: Path) -> None:
    init_repo(root)
    ke = root / "known_errors"
    for name in ("KE-0001-outlook-prompts.md", "KE-0002-zephyrine-vault.md"):
        (ke / name).write_text((ke / name).read_text().replace("None yet.", "None yet; a vendor case is open."))
    git(
        root,
        "commit",
        "-q",
        "-a",
        "-m",
        f"Rotate keys {WITHHELD_WORDS[0]}\n\nWhy: {WITHHELD_WORDS[1]} zephyrine.\n\nMerge-request: {WITHHELD_WORDS[2]}\n",
    )
    k1 = ke / "KE-0001-outlook-prompts.md"  # shown in every edition
    k1.write_text(k1.read_text().replace("None yet; a vendor case is open.", "None yet; a vendor case is open since March."))
    git(root, "commit", "-q", "-a", "-m", f"Reply wording {VISIBLE_NOTE}")


def _hidden(meta: dict[str, dict], audience: str, tenant: str | None) -> set[str]:
    """The edition rules of the README, applied to the front-matter as written (not by kedb)."""
    out = set()
    for rid, fm in meta.items():
        s, tenants = fm.get("data_sensitivity", "internal"), fm.get("tenants") or []
        if (
            s == "confidential"
            or (audience == "public" and (s != "public" or fm["status"] not in ("published", "retired")))
            or (tenant and tenants and tenant not in tenants)
            or (audience == "public" and tenants and not tenant)
        ):
            out.add(rid)
    return out


def _texts(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` as text: archives and PDFs opened, XML tags also stripped (Office splits text into runs)."""
    pdftotext = require_tool("pdftotext", "the text of the proof brief", "poppler-utils")
    out: dict[str, str] = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(folder).as_posix()
        data = p.read_bytes()
        if p.suffix == ".gz":
            data = gzip.decompress(data)
        if p.suffix in (".docx", ".xlsx", ".pptx"):
            with zipfile.ZipFile(p) as z:
                xml = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith((".xml", ".rels")))
            out[rel] = xml + "\n" + re.sub(r"<[^>]+>", "", xml)
        elif p.suffix == ".pdf":
            text = subprocess.run([pdftotext, str(p), "-"], capture_output=True, text=True, check=True).stdout
            out[rel] = text + "\n" + " ".join(text.split())
        else:
            out[rel] = data.decode("utf-8", "replace")
    return out


def _scan(folders: list[Path], meta: dict[str, dict], audience: str, tenant: str | None) -> tuple[list[str], dict[str, str]]:
    """(what leaked, where; every text scanned)."""
    texts = {f"{folder.name}/{k}": v for folder in folders for k, v in _texts(folder).items()}
    hidden = _hidden(meta, audience, tenant)
    shown_tags = {t for rid, fm in meta.items() if rid not in hidden for t in fm.get("tags") or []}
    needles: dict[str, str] = {w: "change note of a commit that touched a hidden record" for w in WITHHELD_WORDS}
    for rid in hidden:
        fm = meta[rid]
        needles[rid] = f"id of {rid}"
        needles[fm["title"]] = f"title of {rid}"
        needles[fm["title"].split()[0]] = f"title word of {rid}"
        needles.update({t: f"tag of {rid}" for t in fm.get("tags") or [] if t not in shown_tags})
    if tenant:
        needles.update({n: "another tenant" for n in OTHER_TENANT})
    elif audience == "public":  # which customers the MSP serves is not public
        needles.update({n: "a customer's name in the public edition" for n in OTHER_TENANT})
    leaks = [f"{what} ({needle!r}) in {name}" for needle, what in needles.items() for name, text in texts.items() if needle in text]
    return leaks, texts


def _check(root: Path, meta: dict[str, dict], audience: str, tenant: str | None, artefacts: bool = True) -> dict[str, str]:
    edition = audience + (f"-{tenant}" if tenant else "")
    folders = [root / "site"] + ([root / ".kedb" / "downloads" / edition] if (root / ".kedb" / "downloads" / edition).is_dir() else [])
    leaks, texts = _scan(folders, meta, audience, tenant)
    assert leaks == [], f"{edition}: " + "\n".join(leaks)
    visible = set(meta) - _hidden(meta, audience, tenant)
    everything = "\n".join(texts.values())
    assert all(rid in everything for rid in visible), f"{edition}: every visible record is shown"
    assert VISIBLE_NOTE in texts["site/changelog/index.html"], "a commit of visible records keeps its note"
    if artefacts:
        for name in ARTEFACTS:  # the deck lists problems only: it names its edition in its properties
            shows = f"{audience} edition" if name.endswith(".pptx") else "KE-0001"
            assert shows in texts[f"site/downloads/{name}"], f"{edition}: {name} was scanned and is this edition's"
    return texts


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict]]:
    root = tmp_path_factory.mktemp("isolation") / "kb"
    meta = _make_kb(root)
    _commit_history(root)
    res = kedb("--root", str(root), "check")
    assert res.exit_code == 0, res.output
    return root, meta


def _mkdocs(root: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("engine", ["mkdocs", "zensical"])
def test_editions_built_one_after_another_in_one_tree_leak_nothing(kb: tuple[Path, dict[str, dict]], engine: str) -> None:
    """Through MkDocs (the plugin) and through Zensical (kedb build --engine zensical, issue #22):
    Zensical's own files (its search.json of the pages, its sitemap) are scanned with the rest."""
    if engine == "zensical":
        from kedb.site.zensical import available

        if available() is None:
            pytest.fail("Zensical is not installed: `make test` installs it with kedb's test extras")
    root, meta = kb
    shutil.rmtree(root / "site", ignore_errors=True)
    shutil.rmtree(root / ".kedb", ignore_errors=True)
    for audience, tenant in EDITIONS:
        args = ["--root", str(root), "build", "--audience", audience, "--as-of", AS_OF, "--engine", engine]
        args += ["--tenant", tenant] if tenant else []
        r = kedb(*args)
        assert r.exit_code == 0, r.output
        texts = _check(root, meta, audience, tenant)
        marked = (root / "site" / "downloads" / ".kedb-edition").read_text().strip()
        assert marked == audience + (f"-{tenant}" if tenant else "")
        kpis = texts["site/kpis/index.html"]
        if audience == "internal" and not tenant:
            assert "a record not in this edition 14 d" in kpis, "the KPI basis names no hidden problem"


def test_mkdocs_of_another_edition_never_takes_its_artefacts(kb: tuple[Path, dict[str, dict]]) -> None:
    root, meta = kb
    shutil.rmtree(root / "site", ignore_errors=True)
    shutil.rmtree(root / ".kedb", ignore_errors=True)
    assert kedb("--root", str(root), "build", "--as-of", AS_OF).exit_code == 0  # internal, all tenants
    _mkdocs(root)  # mkdocs.yml says audience: public
    texts = _check(root, meta, "public", None, artefacts=False)
    assert not [n for n in ARTEFACTS if (root / "site" / "downloads" / n).exists()], "no artefact of the internal build"
    assert "kedb build --audience public" in texts["site/downloads/index.html"]
    # Once the public edition's artefacts are built at this commit, mkdocs links them.
    assert kedb("--root", str(root), "build", "--audience", "public", "--only", "docx,xlsx,pptx,pdf", "--as-of", AS_OF).exit_code == 0
    _mkdocs(root)
    _check(root, meta, "public", None)
    # An internal artefact built next does not land in the public site.
    public_pdf = (root / "site" / "downloads" / "proof-brief.pdf").read_bytes()
    r = kedb("--root", str(root), "build", "--only", "pdf", "--as-of", AS_OF)
    assert r.exit_code == 0 and "site/ holds the" in r.output
    assert (root / "site" / "downloads" / "proof-brief.pdf").read_bytes() == public_pdf
    _check(root, meta, "public", None)


def test_a_stale_or_foreign_manifest_links_nothing(kb: tuple[Path, dict[str, dict]], tmp_path: Path) -> None:
    from kedb.build.context import make, matching_downloads

    root, _ = kb
    assert kedb("--root", str(root), "build", "--audience", "public", "--only", "pdf", "--as-of", AS_OF).exit_code == 0
    ctx = make(root, audience="public")
    folder = matching_downloads(root, ctx.info)
    assert folder == root / ".kedb" / "downloads" / "public"
    assert matching_downloads(root, make(root, audience="public", tenant="ACME").info) is None, "another edition's folder"
    (folder / "proof-brief.pdf").write_bytes(b"%PDF tampered")
    assert matching_downloads(root, ctx.info) is None, "a file that is not the one built"


def test_edition_trail_withholds_a_mixed_commits_words_in_versions_and_judgements() -> None:
    """The words of a commit that also touched a record the edition does not show are withheld from every copy of
    the version: the record's history and the judgement of it in the approval report. An edition that shows every
    record gets the same objects back (no copy of 35,000 versions at 10,000 records)."""
    who = Person("Ann", "ann@example.org")

    def version(commit: str, rid: str, subject: str) -> Version:
        return Version(
            1, commit, datetime(2026, 1, 5, tzinfo=UTC), who, (who,), subject, f"{subject} note", ("Bob",), (), "!7",
            "added", f"known_errors/{rid}.md", None, "b" * 40,
        )  # fmt: skip

    mixed, own = version("c" * 40, "KE-1", "SUBJLEAK"), version("d" * 40, "KE-3", "Visible")
    hist = History(
        "HEAD", "c" * 40, None, True, False,
        {
            "KE-1": RecordHistory("KE-1", (mixed,)),
            "KE-2": RecordHistory("KE-2", (version("c" * 40, "KE-2", "SUBJLEAK"),)),
            "KE-3": RecordHistory("KE-3", (own,)),
        },
    )  # fmt: skip
    state = VersionState("published", "mail", True)
    report = ApprovalReport(
        tuple(Approval(rid, v, state, ("Bob",), "approved", "ok") for rid, v in (("KE-1", mixed), ("KE-3", own))), None, False
    )
    out, judged = edition_trail(hist, report, {"KE-1", "KE-3"})
    assert judged is not None and set(out.records) == {"KE-1", "KE-3"}
    for v in (out.of("KE-1").versions[0], next(a for a in judged.items if a.record == "KE-1").version):
        assert (v.subject, v.note, v.merge_request) == (NEUTRAL_SUBJECT, "", None)
    assert out.of("KE-3").versions[0] is own and next(a for a in judged.items if a.record == "KE-3").version is own
    everything, same = edition_trail(hist, report, {"KE-1", "KE-2", "KE-3"})
    assert everything is hist and same is report
