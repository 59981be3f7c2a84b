"""Incremental site builds (issue #23): the page cache (:mod:`kedb.site.cache`) never changes a byte.

A KB goes through a series of edits (a title, symptoms, a status, a link added and removed, a
record deleted, a template changed, a theme override added). After each, ``kedb build --only
site`` runs with the cache the previous builds left, and its site is compared file by file with
the site of a clean build (the cache removed). The same series runs once more with the workers
(:mod:`kedb.core.forkpool`) doing the rendering of the pages that miss. A damaged, foreign or
non-regular cache entry is ignored and replaced.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kbtest import AS_OF, FIXTURES, copy_kb, init_repo, kedb, settled
from kedb.core import forkpool
from kedb.site import cache as sitecache
from kedb.site import chrome, pages

KE2 = """---
id: KE-0002
title: Teams shows a blank window after an update
status: published
service: m365-mail
owner: ann.owner
created: 2026-03-02
review_by: 2027-03-01
tags: [teams]
data_sensitivity: public
symptoms:
  - Teams opens to a blank white window
symptom_signature: m365-mail:teams:blank-window
impact: low
urgency: low
priority: P3
no_workaround_reason: None known yet; see KE-0001 for a related prompt.
fix:
  status: none
---

## Symptoms

A blank window after the monthly update.

## Cause

Unknown.

## Workaround

None yet.

## Permanent fix

None yet.

## Reply to customer

We are looking into it.
"""


def tree(site: Path) -> dict[str, str]:
    """Every file of ``site`` and the SHA-256 of its bytes."""
    out = {}
    for dirpath, _, filenames in os.walk(site):
        for fn in filenames:
            path = Path(dirpath) / fn
            out[path.relative_to(site).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def build(root: Path) -> dict[str, str]:
    r = kedb("--root", str(root), "build", "--only", "site", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output + r.stderr
    return tree(root / "site")


def entries(root: Path) -> dict[str, float]:
    base = root / sitecache.CACHE_DIR
    return {p.relative_to(base).as_posix(): p.stat().st_mtime_ns for p in base.rglob("*") if p.is_file()}


def incremental_equals_clean(root: Path) -> dict[str, str]:
    """An incremental build, then a clean one (the cache moved aside and put back after); their sites must be equal."""
    incremental = build(root)
    cache = root / sitecache.CACHE_DIR
    aside = root / ".kedb" / "cache-aside"
    if cache.exists():
        shutil.move(cache, aside)
    try:
        clean = build(root)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if aside.exists():
            shutil.move(aside, cache)
    diff = sorted(k for k in incremental.keys() | clean.keys() if incremental.get(k) != clean.get(k))
    assert not diff, f"incremental build differs from a clean build in {diff[:10]}"
    return incremental


def edit(root: Path, rel: str, change: Callable[[str], str]) -> None:
    path = root / rel
    before = path.read_text(encoding="utf-8")
    after = change(before)
    assert after != before, rel
    path.write_text(after, encoding="utf-8")


KE1 = "known_errors/KE-0001-outlook-prompts.md"
WA1 = "known_errors/WA-0001-clear-cached-credentials.md"
PRB1 = "known_errors/PRB-0001-credential-prompts.md"
KE2_FILE = "known_errors/KE-0002-teams-blank-window.md"

EDITS: list[tuple[str, Callable[[Path], None]]] = [
    ("title", lambda kb: edit(kb, KE1, lambda t: t.replace("title: Outlook prompts", "title: Outlook asks"))),
    ("symptoms", lambda kb: edit(kb, KE2_FILE, lambda t: t.replace("blank white window", "blank grey window\n  - Teams freezes"))),
    ("status", lambda kb: edit(kb, PRB1, lambda t: t.replace("status: investigating", "status: candidate"))),
    ("link added", lambda kb: link(kb, True)),
    ("link removed", lambda kb: link(kb, False)),
    ("record deleted", lambda kb: (kb / KE2_FILE).unlink()),
    (
        "template changed",
        lambda kb: _write(
            kb / "templates/site/workaround.html.j2",
            (FIXTURES.parent.parent / "templates/site/workaround.html.j2").read_text().replace("<ul>", '<ul class="mine">', 1),
        ),
    ),
    ("theme override added", lambda kb: _write(kb / "templates/overrides/partials/copyright.html", "<small>Our own footer</small>\n")),
]


def link(kb: Path, add: bool) -> None:
    """WA-0001 applies to KE-0002 too (both ways), or no longer."""
    one, both = "applies_to: [KE-0001]", "applies_to: [KE-0001, KE-0002]"
    none, wa = "no_workaround_reason: None known yet; see KE-0001 for a related prompt.", "workarounds: [WA-0001]"
    edit(kb, WA1, lambda t: t.replace(one, both) if add else t.replace(both, one))
    edit(kb, KE2_FILE, lambda t: t.replace(none, wa) if add else t.replace(wa, none))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    root = copy_kb(FIXTURES / "base", tmp_path / "kb")
    (root / KE2_FILE).write_text(KE2, encoding="utf-8")
    return init_repo(root)


def run_series(kb: Path) -> None:
    first = incremental_equals_clean(kb)
    before = entries(kb)
    assert any(k.startswith("internal/page/") for k in before) and any(k.startswith("internal/chrome/") for k in before)
    # Nothing changed: every entry is reused, none written again.
    assert incremental_equals_clean(kb) == first
    assert entries(kb) == before
    for name, change in EDITS:
        previous = entries(kb)
        change(kb)
        site = incremental_equals_clean(kb)
        assert site != first, name
        first = site
        if name == "symptoms":  # KE-0002 links nothing and nothing links it: the other record pages are reused
            kept = {k for k in entries(kb) if previous.get(k) == entries(kb)[k]}
            assert len({k for k in kept if k.startswith("internal/page/")}) >= 3, name


def test_incremental_builds_equal_clean_builds(kb: Path) -> None:
    run_series(kb)


def test_incremental_builds_equal_clean_builds_in_workers(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same, with the pages that miss rendered (and put through the theme) by forked workers."""
    if not forkpool.can_fork():
        pytest.skip("this process cannot fork workers")
    monkeypatch.setattr(pages, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(chrome, "THRESHOLD", 1)
    run_series(kb)


def test_a_damaged_entry_is_ignored(kb: Path) -> None:
    clean = incremental_equals_clean(kb)
    base = kb / sitecache.CACHE_DIR / "internal"
    for kind in ("page", "chrome"):  # the entries of earlier builds are deleted by a detached process
        settled(lambda k=kind: len(list((base / k).iterdir())) == 4)
    page_entries = sorted((base / "page").iterdir())
    chrome_entries = sorted((base / "chrome").iterdir())
    assert len(page_entries) == 4 and len(chrome_entries) == 4
    # Damaged: one byte of the page flipped (the seal no longer verifies).
    blob = bytearray(page_entries[0].read_bytes())
    blob[-20] ^= 0x20
    page_entries[0].write_bytes(bytes(blob))
    # Foreign: another entry's sealed bytes under this name (the key inside does not match the name).
    page_entries[1].write_bytes(page_entries[2].read_bytes())
    # Forged: a page with a valid header but no seal of this user's key.
    text = chrome_entries[0].read_bytes()
    chrome_entries[0].write_bytes(re.sub(rb"</body>", b"<script>alert(1)</script></body>", text))
    # Not a regular file: a named pipe (never opened for reading: that would block) and a folder.
    chrome_entries[1].unlink()
    os.mkfifo(chrome_entries[1])
    chrome_entries[2].unlink()
    chrome_entries[2].mkdir()
    assert build(kb) == clean
    for p in (page_entries[0], page_entries[1], chrome_entries[0], chrome_entries[1], chrome_entries[2]):
        assert p.is_file() and not p.is_symlink()
    assert incremental_equals_clean(kb) == clean


def test_editions_never_share_entries(kb: Path) -> None:
    build(kb)
    r = kedb("--root", str(kb), "build", "--only", "site", "--audience", "public", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output + r.stderr
    base = kb / sitecache.CACHE_DIR
    internal = {p.name for p in (base / "internal").rglob("*") if p.is_file()}
    public = {p.name for p in (base / "public").rglob("*") if p.is_file()}
    assert internal and public and not internal & public


def test_no_cache_is_written_when_turned_off(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEDB_NO_CACHE", "1")
    build(kb)
    assert not (kb / sitecache.CACHE_DIR).exists()
