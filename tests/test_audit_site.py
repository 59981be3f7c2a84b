"""The aged-ticket audit page of the site: internal edition only, at-risk ids only without a tenant.

Built with `kedb build --only site` from the minimal KB with the example's stored audits laid
over it, in a real git repository; the HTML is read back as a desk lead would see it.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from kbtest import REPO, git, kedb
from kedb.core.load.loader import load


@pytest.fixture
def root(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(REPO / "tests" / "fixtures" / "base", kb)
    shutil.copytree(REPO / "content" / "audits", kb / "content" / "audits")
    git(kb, "init", "-q", "-b", "main")
    git(kb, "add", "-A")
    git(kb, "commit", "-q", "-m", "KB with audits")
    return kb


def site(root: Path, *args: str) -> Path:
    res = kedb("--root", str(root), "build", "--only", "site", "--as-of", "2026-11-22", *args)
    assert res.exit_code == 0, res.output
    return root / "site"


def text_of(page: Path) -> str:
    body = page.read_text(encoding="utf-8")
    article = body[body.index("<article") : body.index("</article>")]
    inline = re.sub(r"</?span[^>]*>", "", article)  # a date's no-wrap span is inside the text, not a break in it
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", inline)))


def test_internal_site_has_the_audit_page_with_movement_and_at_risk_tickets(root: Path) -> None:
    out = site(root)
    text = text_of(out / "audit" / "index.html")
    audits = load(root)[0].audits
    first, latest = audits[0], audits[-1]
    assert f"as of the end of {latest.as_of}" in text and f"Movement since the first stored audit ({first.as_of})" in text
    prog = latest.figure("progression_sla")
    assert prog is not None and f"{round(prog.value, 1):g} %" in text  # one decimal, as every output (kedb.core.present)
    assert prog.basis in text  # how it was computed, word for word
    for t in latest.at_risk:
        assert t.id in text
    assert "Progression by stage" in text and "Open tickets by age" in text
    assert "<svg" in (out / "audit" / "index.html").read_text(encoding="utf-8")
    home = (out / "index.html").read_text(encoding="utf-8")
    assert "Aged-ticket audit" in home  # in the navigation


def test_public_site_has_no_audit_page_and_tenant_site_no_ticket_ids(root: Path) -> None:
    ids = [t.id for t in load(root)[0].audits[-1].at_risk]
    public = site(root, "--audience", "public")
    assert not (public / "audit").exists()
    assert all(tid not in p.read_text(encoding="utf-8", errors="ignore") for p in public.rglob("*.*") for tid in ids)
    assert "Aged-ticket audit" not in (public / "index.html").read_text(encoding="utf-8")
    tenant = site(root, "--tenant", "ACME")
    text = text_of(tenant / "audit" / "index.html")
    assert "Ticket ids are left out of tenant editions" in text and not any(tid in text for tid in ids)


def test_no_audit_no_page(root: Path) -> None:
    shutil.rmtree(root / "content" / "audits")
    out = site(root)
    assert not (out / "audit").exists()
    assert "Aged-ticket audit" not in (out / "index.html").read_text(encoding="utf-8")
