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
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kbtest import AS_OF, FIXTURES, copy_kb, init_repo, kedb
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


def entries(root: Path) -> dict[str, tuple[str, int, int]]:
    """``edition/kind/key`` -> where the cache's index says the entry is (pack, offset, length)."""
    base = root / sitecache.CACHE_DIR
    out = {}
    for folder in sorted(p for p in base.glob("*/*") if p.is_dir()):
        edition, kind = folder.parent.name, folder.name
        store = sitecache.Store.open(root, edition, kind)
        assert store is not None
        out.update({f"{edition}/{kind}/{key}": where for key, where in store.index().items()})
    return out


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
    """Entries damaged, forged, filed under another key, or in a pack that is not a regular file are misses: the
    build renders those pages again, its site is the clean one, and the cache it leaves is whole again."""
    clean = incremental_equals_clean(kb)
    base = kb / sitecache.CACHE_DIR / "internal"
    page = sitecache.Store.open(kb, "internal", "page")
    chrome_store = sitecache.Store.open(kb, "internal", "chrome")
    assert page is not None and chrome_store is not None
    pages_at, chromes_at = sorted(page.index().items()), sorted(chrome_store.index().items())
    assert len(pages_at) == 4 and len(chromes_at) == 4
    assert sorted(p.name for p in (base / "page").iterdir()) == ["index", pages_at[0][1][0]], "one pack after a clean build"

    def poke(where: tuple[str, int, int], kind: str, change: Callable[[bytearray], None]) -> None:
        path = base / kind / where[0]
        blob = bytearray(path.read_bytes())
        entry = blob[where[1] : where[1] + where[2]]
        change(entry)
        blob[where[1] : where[1] + where[2]] = entry
        path.write_bytes(bytes(blob))

    # Damaged: one byte of a page flipped (the seal no longer verifies).
    poke(pages_at[0][1], "page", lambda e: e.__setitem__(-20, e[-20] ^ 0x20))
    # Forged: a finished page changed, its seal left as it was.
    poke(chromes_at[0][1], "chrome", lambda e: e.__setitem__(slice(-7, None), b"<hr>\n\n\n"[:7]))
    # Filed under another key: the index says one entry is where another is (the key inside does not match).
    index = base / "page" / sitecache.INDEX
    raw = index.read_bytes()
    assert pages_at[1][0].encode() in raw
    head = len(raw) - len(raw.split(b"kedb-site-cache 1\n", 1)[1])
    body = raw[head:].replace(
        f"{pages_at[1][0]} {pages_at[1][1][0]} {pages_at[1][1][1]}".encode(),
        f"{pages_at[1][0]} {pages_at[2][1][0]} {pages_at[2][1][1]}".encode(),
    )
    index.write_bytes(raw[:head] + body)  # the index's own seal no longer verifies: every entry is found by its header
    assert build(kb) == clean
    # Not a regular file: the chrome pack swapped for a named pipe (never opened for reading: that would block).
    pack = base / "chrome" / chromes_at[0][1][0]
    pack.unlink()
    os.mkfifo(pack)
    assert build(kb) == clean
    assert not os.path.lexists(pack), "a pack the index listed and no entry of which is used is deleted"
    assert incremental_equals_clean(kb) == clean
    again = sitecache.Store.open(kb, "internal", "chrome")
    assert again is not None and len(again.index()) == 4
    assert all(again.get(key) is not None for key in again.index()), "the cache is whole again"


def test_editions_never_share_entries(kb: Path) -> None:
    build(kb)
    r = kedb("--root", str(kb), "build", "--only", "site", "--audience", "public", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output + r.stderr
    base = kb / sitecache.CACHE_DIR
    internal = {k.split("/", 1)[1] for k in entries(kb) if k.startswith("internal/")}
    public = {k.split("/", 1)[1] for k in entries(kb) if k.startswith("public/")}
    assert internal and public and not internal & public
    assert sorted(p.name for p in base.iterdir() if p.is_dir()) == ["internal", "public", "trees"]  # trees: kedb.site.trees


def test_no_cache_is_written_when_turned_off(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEDB_NO_CACHE", "1")
    build(kb)
    assert not (kb / sitecache.CACHE_DIR).exists()


# ------------------------------------------------------------------ the pack store itself
def _store(root: Path, kind: str = "page") -> sitecache.Store:
    store = sitecache.Store.open(root, "internal", kind)
    assert store is not None
    return store


def _key(n: int) -> str:
    return sitecache.digest("entry", n)


def test_store_keeps_what_a_build_used_and_reads_it_back(tmp_path: Path) -> None:
    first = _store(tmp_path)
    for n in range(5):
        first.put(_key(n), f"page {n}".encode())
    first.prune()
    packs = [p.name for p in first.dir.iterdir() if p.name.startswith("pack-")]
    assert len(packs) == 1, "one build, one process: one pack"
    second = _store(tmp_path)
    assert [second.get(_key(n)) for n in range(5)] == [f"page {n}".encode() for n in range(5)]
    assert second.get(_key(9)) is None
    second.used = {_key(0), _key(1)}  # the next build used two of them
    second.prune()
    assert set(_store(tmp_path).index()) == {_key(0), _key(1)}


def test_a_store_that_remembers_gives_the_last_builds_objects_without_reading_them(tmp_path: Path) -> None:
    """``mkdocs serve`` opens the page store to remember: what a build loaded, saved or held (and used) is given to the next
    build of the process as it is, without reading the packs; what the build did not use is forgotten; a store that
    does not remember (``kedb build``, ``mkdocs build``) reads the packs every time."""
    first = sitecache.Store.open(tmp_path, "internal", "page", remember=True)
    assert first is not None
    pages = {n: ("page", n, ["its", "parts"]) for n in range(3)}
    for n, value in pages.items():
        if n == 1:  # saved by a worker process: the builder holds what the worker sent back
            _store(tmp_path).save(_key(n), value)
            first.hold(_key(n), value)
        else:
            first.save(_key(n), value)
    first.used = {_key(0), _key(1)}
    first.prune()
    for pack in first.dir.glob("pack-*"):
        pack.unlink()  # nothing left to read
    second = sitecache.Store.open(tmp_path, "internal", "page", remember=True)
    assert second is not None
    assert second.load(_key(0)) is pages[0] and second.load(_key(1)) is pages[1], "the same objects, not read again"
    assert second.load(_key(2)) is None, "not used by the last build: forgotten"
    assert second.used == {_key(0), _key(1)}, "what it gives counts as used, as what it reads does"
    assert _store(tmp_path).load(_key(0)) is None, "a store that does not remember reads the packs"


def test_store_a_killed_build_leaves_whole_entries(tmp_path: Path) -> None:
    """A build killed while appending: the cut-off entry at the pack's end is no entry; the whole ones are found by
    their headers (no index lists them yet) and kept when the next build uses them."""
    killed = _store(tmp_path)
    for n in range(3):
        killed.put(_key(n), b"x" * 1000)
    pack = next(p for p in killed.dir.iterdir() if p.name.startswith("pack-"))
    with open(pack, "r+b") as fh:
        fh.truncate(pack.stat().st_size - 10)
    assert not (killed.dir / sitecache.INDEX).exists()
    after = _store(tmp_path)
    after.used = {_key(0), _key(1), _key(2)}
    after.prune()
    again = _store(tmp_path)
    assert set(again.index()) == {_key(0), _key(1)}
    assert again.get(_key(0)) == b"x" * 1000 and again.get(_key(2)) is None


def test_store_leaves_a_pack_another_build_is_writing(tmp_path: Path) -> None:
    ours = _store(tmp_path)
    ours.put(_key(0), b"ours")
    theirs = _store(tmp_path)  # a concurrent build of the same edition, still writing
    theirs.put(_key(1), b"theirs")
    ours.prune()
    their_pack = theirs.dir / theirs.index()[_key(1)][0]
    assert their_pack.is_file(), "a young pack no index lists belongs to a build still at work"
    old = time.time() - 2 * 3600
    os.utime(their_pack, (old, old))
    _store(tmp_path).prune()  # a later build that uses nothing: the old stray pack goes, and so does ours
    assert not their_pack.exists()
    assert [p.name for p in ours.dir.iterdir() if p.name.startswith("pack-")] == []


def test_store_rewrites_packs_mostly_unused(tmp_path: Path) -> None:
    big = _store(tmp_path)
    for n in range(200):
        big.put(_key(n), bytes([n]) * 20_000)
    big.prune()
    later = _store(tmp_path)
    later.used = {_key(n) for n in range(10)}  # 10 of 200 entries still used: the pack is mostly dead bytes
    for n in range(10):
        assert later.get(_key(n)) == bytes([n]) * 20_000
    later.prune()
    packs = [p for p in later.dir.iterdir() if p.name.startswith("pack-")]
    assert len(packs) == 1 and packs[0].stat().st_size < 11 * 20_300
    assert [_store(tmp_path).get(_key(n)) for n in range(10)] == [bytes([n]) * 20_000 for n in range(10)]


def test_store_gathers_many_small_packs_into_one(tmp_path: Path) -> None:
    """Builds that each render one page (one edit each) leave a pack each; past a few dozen they are rewritten into one."""
    for n in range(40):
        store = _store(tmp_path)
        for m in range(n):
            assert store.get(_key(m)) == f"page {m}".encode(), (n, m)
        store.put(_key(n), f"page {n}".encode())
        store.prune()
    packs = [p for p in store.dir.iterdir() if p.name.startswith("pack-")]
    assert 1 <= len(packs) <= 33
    assert [_store(tmp_path).get(_key(n)) for n in range(40)] == [f"page {n}".encode() for n in range(40)]


def test_store_never_follows_a_link(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.put(_key(0), b"page")
    store.prune()
    pack = store.dir / store.index()[_key(0)][0]
    elsewhere = tmp_path / "elsewhere"
    pack.rename(elsewhere)
    pack.symlink_to(elsewhere)
    assert _store(tmp_path).get(_key(0)) is None, "a pack that is a symbolic link is not read"


# ------------------------------------------------------------------ mkdocs serve: unchanged record pages stay
def _serve_build(kb: Path, site: Path, command: str = "serve") -> Any:
    """One build as `mkdocs serve` runs it: the config loaded again, the plugin instance kept (it has on_startup)."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    config = load_config(config_file=str(kb / "mkdocs.yml"), site_dir=str(site))
    config.plugins.on_startup(command=command, dirty=False)
    mkdocs_build(config)
    return config.plugins["kedb"]


def test_serve_rebuilds_rewrite_only_the_record_pages_that_changed(kb: Path, tmp_path: Path) -> None:
    """Under `mkdocs serve` MkDocs empties the site folder before each rebuild; the kedb plugin moves its record pages
    aside first and back after, and writes again only those whose cache entry changed. Each rebuild's site is the
    site a clean build writes, file for file: an edited record's page is new, a deleted record's page is gone."""
    served = tmp_path / "served"
    shutil.copy(FIXTURES.parent.parent / "templates" / "site" / "mkdocs.yml", kb / "mkdocs.yml")  # as `kedb init` writes it
    try:
        plugin = _serve_build(kb, served)
        pages = list(served.glob("*/*-*/index.html"))
        assert len(pages) == 4
        for p in pages:  # a page written again has a new time
            os.utime(p, (1_000_000, 1_000_000))
        edit(kb, KE1, lambda t: t.replace("title: Outlook prompts", "title: Outlook asks"))
        assert _serve_build(kb, served) is plugin, "mkdocs serve keeps the plugin instance"
        ke1 = served / "known-errors" / "KE-0001" / "index.html"
        assert "Outlook asks" in ke1.read_text(encoding="utf-8")
        kept = [p for p in pages if p.exists() and p.stat().st_mtime == 1_000_000]
        # KE-0001's workaround and problem show its title: written again; KE-0002 links nothing: left as it was.
        assert kept == [served / "known-errors" / "KE-0002" / "index.html"], kept
        _serve_build(kb, tmp_path / "clean", command="build")
        assert tree(served) == tree(tmp_path / "clean")
        lost = served / "workarounds" / "WA-0001" / "index.html"
        lost.unlink()  # a page gone from the served folder is written again, though nothing changed
        _serve_build(kb, served)
        assert lost.is_file()
        (kb / KE2_FILE).unlink()
        _serve_build(kb, served)
        assert not (served / "known-errors" / "KE-0002").exists(), "neither the deleted record's page nor its folder"
        _serve_build(kb, tmp_path / "clean2", command="build")
        assert tree(served) == tree(tmp_path / "clean2")
        assert not list(tmp_path.glob("*.kedb-pages-*")), "nothing is left aside"
    finally:
        _serve_build(kb, tmp_path / "reset", command="build")  # the plugin instance is shared by the whole process


def test_kedb_build_and_mkdocs_build_share_the_page_cache(kb: Path, tmp_path: Path) -> None:
    """`kedb build` tells the plugin where the KB is; `mkdocs build` reads it from mkdocs.yml. Either way the pages are
    the same, so they share the cache's entries: neither renders again what the other kept, nor prunes it."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    shutil.copy(FIXTURES.parent.parent / "templates" / "site" / "mkdocs.yml", kb / "mkdocs.yml")
    first = build(kb)
    kept = entries(kb)
    config = load_config(config_file=str(kb / "mkdocs.yml"), site_dir=str(tmp_path / "mkdocs-site"))
    config.plugins.on_startup(command="build", dirty=False)
    mkdocs_build(config)
    assert entries(kb) == kept, "mkdocs build found every page in the cache kedb build left"
    assert build(kb) == first and entries(kb) == kept


def test_serve_switched_to_the_public_edition_keeps_no_internal_page(kb: Path, tmp_path: Path) -> None:
    """A served internal site, then mkdocs.yml switched to the public edition while `mkdocs serve` runs: the pages set
    aside during the rebuild are the internal edition's, and none of them stays in the public site."""
    served = tmp_path / "served"
    config = kb / "mkdocs.yml"
    shutil.copy(FIXTURES.parent.parent / "templates" / "site" / "mkdocs.yml", config)
    try:
        _serve_build(kb, served)
        internal = {p.relative_to(served).as_posix() for p in served.glob("*/*-*/index.html")}
        config.write_text(config.read_text(encoding="utf-8").replace("audience: internal", "audience: public"), encoding="utf-8")
        _serve_build(kb, served)
        _serve_build(kb, tmp_path / "clean", command="build")
        assert tree(served) == tree(tmp_path / "clean")
        public = {p.relative_to(served).as_posix() for p in served.glob("*/*-*/index.html")}
        assert public < internal, "the public edition shows fewer records, and no page of the others is left"
    finally:
        _serve_build(kb, tmp_path / "reset", command="build")


@pytest.mark.parametrize("remember", [False, True], ids=["each made", "kept in the process"])
def test_a_page_key_follows_its_records_history_and_verdicts(kb: Path, remember: bool) -> None:
    """The page key holds each version by its commit and path, and each approval's verdict whole: a verdict that
    changes while the head and the files do not (what verifies signatures here changed, say) changes the key of
    that record's page and of the pages that show it, and no other. Keys kept in the process (``mkdocs serve``) are
    the keys made afresh, after each of those changes and back."""
    import dataclasses
    from datetime import date

    from kedb.build.context import make

    ctx = make(kb, as_of=date.fromisoformat(AS_OF))
    assert ctx.history is not None and ctx.approvals is not None
    opts, assets = pages.Options(), pages.publishable_assets(kb)

    def page_keys(c: Any, o: Any, a: Any) -> dict[str, str]:
        made = sitecache.page_keys(c, o, a, remember=remember)
        assert made == sitecache.page_keys(c, o, a), "the keys made afresh"
        return made

    keys = page_keys(ctx, opts, assets)
    assert page_keys(ctx, opts, assets) == keys
    trail = ctx.approvals.trail("KE-0002")
    assert trail, "the fixture's KE-0002 has a version to judge"
    judged = dataclasses.replace(trail[-1], message=trail[-1].message + " (judged again)")
    items = tuple(judged if a is trail[-1] else a for a in ctx.approvals.items)
    again = page_keys(dataclasses.replace(ctx, approvals=dataclasses.replace(ctx.approvals, items=items)), opts, assets)
    assert {rid for rid in keys if again[rid] != keys[rid]} == {"KE-0002"}  # KE-0002 links nothing, nothing links it
    assert page_keys(ctx, opts, assets) == keys
    h = ctx.history.of("KE-0001")
    moved = dataclasses.replace(h, versions=(*h.versions[:-1], dataclasses.replace(h.versions[-1], blob="0" * 40)))
    history = dataclasses.replace(ctx.history, records={**ctx.history.records, "KE-0001": moved})
    changed = page_keys(dataclasses.replace(ctx, history=history), opts, assets)
    assert "KE-0001" in {rid for rid in keys if changed[rid] != keys[rid]} <= {"KE-0001", "WA-0001", "PRB-0001"}
    # A commit's words withheld by an edition (kedb.build.context.edition_trail) change the key on their own.
    quiet = dataclasses.replace(h, versions=(*h.versions[:-1], dataclasses.replace(h.versions[-1], subject="Changed", note="")))
    withheld = dataclasses.replace(ctx.history, records={**ctx.history.records, "KE-0001": quiet})
    assert page_keys(dataclasses.replace(ctx, history=withheld), opts, assets)["KE-0001"] != keys["KE-0001"]
    assert page_keys(ctx, opts, assets) == keys
    dirty = dataclasses.replace(h, uncommitted=object())  # a change in the working tree, the same versions
    assert (
        page_keys(
            dataclasses.replace(ctx, history=dataclasses.replace(ctx.history, records={**ctx.history.records, "KE-0001": dirty})),
            opts,
            assets,
        )["KE-0001"]
        != keys["KE-0001"]
    )
    assert page_keys(dataclasses.replace(ctx, info=dataclasses.replace(ctx.info, audience="public")), opts, assets) != keys
    assert page_keys(ctx, opts, assets) == keys


def _inodes(site: Path) -> dict[str, tuple[int, int]]:
    """Each page below the top of ``site``: its file's inode and modification time (a page written again has another)."""
    return {
        p.relative_to(site).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in site.rglob("index.html")
        if "/" in p.relative_to(site).as_posix()
    }


def test_kedb_build_stages_in_the_tree_it_replaced_and_keeps_its_unchanged_record_pages(kb: Path) -> None:
    """The site a swap replaced waits as ``.site.spare``; the build after the next is staged in it, keeping the record
    pages its manifest vouches for (the same files, by inode) and writing the rest; the result is a clean build's."""
    build(kb)
    first = _inodes(kb / "site")
    build(kb)
    spare = kb / ".site.spare"
    assert spare.is_dir() and (spare / ".gitignore").is_file()  # the site of the first build, kept out of git
    edit(kb, KE1, lambda t: t.replace("title: Outlook prompts", "title: Outlook asks"))
    build(kb)  # staged in the spare: the first build's tree
    now = _inodes(kb / "site")
    kept = {p for p in first.keys() & now.keys() if first[p] == now[p]}
    # KE-0001's title shows on its page and on those of its workaround and problem; KE-0002 links nothing
    assert kept == {p for p in now if "KE-0002" in p}, kept
    incremental_equals_clean(kb)  # staged in the spare again; then a clean build, which must be equal


def test_a_spare_someone_changed_gives_a_clean_build(kb: Path) -> None:
    """A page edited in the spare, a file and a link planted at its top and in a record folder, a link in place of a
    page: none of it reaches the site, which is a clean build's."""
    build(kb)
    build(kb)
    spare = kb / ".site.spare"
    page = next(spare.rglob("KE-0001*/index.html"))
    page.write_text(page.read_text(encoding="utf-8").replace("Outlook", "Outl00k"), encoding="utf-8")
    (spare / ".htaccess").write_text("Options +Indexes\n", encoding="utf-8")
    (spare / "etc").symlink_to("/etc")
    kept_folder = next(spare.rglob("WA-0001*/index.html")).parent.parent  # its pages are kept: the folder is pruned
    (kept_folder / "passwd").symlink_to("/etc/passwd")
    (kept_folder / "config").symlink_to("/etc", target_is_directory=True)
    other = next(p for p in spare.rglob("index.html") if "KE-0002" in str(p))
    other.unlink()
    other.symlink_to("/etc/hostname")
    site = build(kb)  # staged in the spare
    assert not any("Outl00k" in (kb / "site" / p).read_text(encoding="utf-8", errors="replace") for p in site if p.endswith(".html"))
    links = [p for p in (kb / "site").rglob("*") if p.is_symlink()]
    assert not links and not (kb / "site" / ".htaccess").exists()
    shutil.rmtree(kb / ".site.spare")
    shutil.rmtree(kb / sitecache.CACHE_DIR)
    assert build(kb) == site  # a clean build


def test_a_spare_no_manifest_vouches_for_is_discarded_not_built_in(kb: Path) -> None:
    """With the cache removed (or another edition) no page of the spare can be kept: the build is staged in a new
    folder and the spare goes to a detached deleter, rather than MkDocs deleting its pages while the build waits."""
    build(kb)
    clean = build(kb)
    spare = kb / ".site.spare"
    planted = spare / "planted.html"
    planted.write_text("<p>planted</p>", encoding="utf-8")
    held = os.open(spare, os.O_RDONLY | os.O_DIRECTORY)  # its inode stays taken while open
    try:
        was = os.fstat(held).st_ino
        shutil.rmtree(kb / sitecache.CACHE_DIR)
        assert build(kb) == clean
        assert was not in ((kb / "site").stat().st_ino, spare.stat().st_ino)  # neither the site nor the new spare
        for _ in range(200):  # the detached deleter
            if os.fstat(held).st_nlink == 0:
                break
            time.sleep(0.05)
        assert os.fstat(held).st_nlink == 0 and not list(kb.glob(".site.trash-*"))
    finally:
        os.close(held)


def test_a_spare_that_is_a_link_is_never_built_in_and_is_replaced(kb: Path, tmp_path: Path) -> None:
    """``.site.spare`` as a link to a folder of someone else's pages: the build is not staged there (nothing in it is
    published, nothing in it is deleted), and the link gives way to a real spare."""
    build(kb)
    clean = build(kb)
    shutil.rmtree(kb / ".site.spare")
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(kb / "site", elsewhere)
    planted = next(elsewhere.rglob("KE-0001*/index.html"))
    planted.write_text("<p>planted</p>", encoding="utf-8")
    (kb / ".site.spare").symlink_to(elsewhere, target_is_directory=True)
    assert build(kb) == clean
    assert planted.read_text(encoding="utf-8") == "<p>planted</p>" and tree(elsewhere).keys() == clean.keys()
    assert not (kb / ".site.spare").is_symlink() and (kb / ".site.spare").is_dir()
    assert build(kb) == clean  # and the next build takes that real spare


def test_a_public_build_staged_in_an_internal_tree_keeps_none_of_its_pages(kb: Path) -> None:
    build(kb)
    build(kb)  # the spare is now an internal site
    internal = tree(kb / ".site.spare")
    r = kedb("--root", str(kb), "build", "--only", "site", "--audience", "public", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output + r.stderr
    public = tree(kb / "site")
    shutil.rmtree(kb / ".site.spare")
    shutil.rmtree(kb / sitecache.CACHE_DIR)
    r = kedb("--root", str(kb), "build", "--only", "site", "--audience", "public", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output + r.stderr
    assert tree(kb / "site") == public and public != internal
