"""``kedb build`` end to end on a real git repository: staging, atomic replacement, reports."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kbtest import AS_OF, broken_docx_template, gone, init_repo, kedb

ARTEFACTS = ("implementation-runbook.docx", "kpi-and-risk-register.xlsx", "exec-brief.pptx", "proof-brief.pdf")


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_artefacts_built_into_site_downloads_and_kept_for_mkdocs(base_kb: Path) -> None:
    init_repo(base_kb)
    r = kedb("--root", str(base_kb), "build", "--only", "docx,xlsx,pptx,pdf", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output
    for name in ARTEFACTS:
        out = base_kb / "site" / "downloads" / name
        assert out.is_file() and out.stat().st_size > 1000, name
        assert sha(out) == sha(base_kb / ".kedb" / "downloads" / "internal" / name), "mkdocs links the same files kedb build wrote"
        assert f"site/downloads/{name}" in r.stdout
    assert "approvals: 0 record versions needed one" in r.stdout
    assert all(f"kedb: {n}: done in" in r.stderr for n in ("docx", "xlsx", "pptx", "pdf")), "one quiet line per output off a terminal"
    assert not list(base_kb.glob(".site.staging-*")), "the staging folder is removed"
    gone(base_kb, ".site.trash-*")  # the old site, deleted by a detached process


def test_a_failed_check_changes_nothing(base_kb: Path) -> None:
    init_repo(base_kb)
    assert kedb("--root", str(base_kb), "build", "--only", "pdf", "--as-of", AS_OF).exit_code == 0
    before = sha(base_kb / "site/downloads/proof-brief.pdf")
    rec = base_kb / "known_errors/KE-0001-outlook-prompts.md"
    rec.write_text(rec.read_text(encoding="utf-8").replace("priority: P2", "priority: P9"), encoding="utf-8")
    r = kedb("--root", str(base_kb), "build", "--only", "pdf", "--as-of", AS_OF)
    assert r.exit_code == 1 and "KE103" in r.stderr and "nothing was built" in r.stderr
    assert sha(base_kb / "site/downloads/proof-brief.pdf") == before


def test_a_broken_template_is_a_clear_error_not_a_traceback(base_kb: Path) -> None:
    broken_docx_template(base_kb)
    r = kedb("--root", str(base_kb), "build", "--only", "docx", "--as-of", AS_OF)
    assert r.exit_code == 2, r.output
    assert "building docx failed" in r.stderr and "templates/" in r.stderr and "Traceback" not in r.stderr
    assert not (base_kb / "site" / "downloads" / "implementation-runbook.docx").exists()
