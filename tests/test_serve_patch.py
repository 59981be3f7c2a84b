"""A record edit under ``mkdocs serve`` served without MkDocs' whole build (issue #23, :mod:`kedb.site.serving`).

The KB is served as ``mkdocs serve`` builds it (one plugin instance across rebuilds). After each edit of the
incremental series (``test_incremental.EDITS``), the rebuild runs as the server runs it: the plugin's record-edit path
first, MkDocs' whole build when that declines. The served folder is then compared file by file with a clean
``mkdocs build`` of the same files by a separate set of plugin instances. Record edits (a title, symptoms, a status, a
link added and removed) must take the record-edit path; a record deleted, a template changed and a theme override added
must not.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig

from kbtest import FIXTURES, git
from kedb.site import serving
from test_incremental import EDITS, KE1, KE2_FILE, edit, tree
from test_incremental import kb as kb  # the fixture, used by served_kb

RECORD_EDITS = {"title", "symptoms", "status", "link added", "link removed"}


@pytest.fixture
def own_plugins() -> Iterator[None]:
    """Plugin instances of this test's own: MkDocs keeps one instance per plugin for the whole process."""
    cache = MkDocsConfig.plugins.plugin_cache  # type: ignore[attr-defined]
    saved = dict(cache)
    cache.clear()
    try:
        yield
    finally:
        cache.clear()
        cache.update(saved)


def _load(kb: Path, site: Path, command: str) -> MkDocsConfig:
    config = load_config(config_file=str(kb / "mkdocs.yml"), site_dir=str(site))
    config.plugins.on_startup(command=command, dirty=False)
    return config


def serve_build(kb: Path, site: Path) -> Any:
    """One whole build as `mkdocs serve` runs it; returns the kedb plugin."""
    config = _load(kb, site, "serve")
    mkdocs_build(config)
    return config.plugins["kedb"]


def clean_build(kb: Path, site: Path) -> dict[str, str]:
    """``mkdocs build`` of the KB by plugin instances that share nothing with the served ones."""
    cache = MkDocsConfig.plugins.plugin_cache  # type: ignore[attr-defined]
    saved = dict(cache)
    cache.clear()
    try:
        shutil.rmtree(kb / ".kedb" / "cache", ignore_errors=True)  # nothing from the served builds either
        mkdocs_build(_load(kb, site, "build"))
    finally:
        cache.clear()
        cache.update(saved)
    return tree(site)


def rebuild(kb: Path, site: Path, plugin: Any) -> bool:
    """A rebuild as the server runs it (KedbPlugin.on_serve): the record-edit path, else MkDocs' whole build. Returns
    whether the record-edit path served it."""
    if plugin._rebuild():
        return True
    assert serve_build(kb, site) is plugin
    return False


@pytest.fixture
def served_kb(kb: Path) -> Path:
    shutil.copy(FIXTURES.parent.parent / "templates" / "site" / "mkdocs.yml", kb / "mkdocs.yml")  # as `kedb init` writes it
    return kb


def test_record_edits_are_served_as_a_whole_build_serves_them(served_kb: Path, tmp_path: Path, own_plugins: None) -> None:
    kb, served = served_kb, tmp_path / "served"
    plugin = serve_build(kb, served)
    for n, (name, change) in enumerate(EDITS):
        change(kb)
        assert rebuild(kb, served, plugin) is (name in RECORD_EDITS), name
        clean = clean_build(kb, tmp_path / f"clean-{n}")
        diff = sorted(k for k in clean.keys() | tree(served).keys() if clean.get(k) != tree(served).get(k))
        assert not diff, f"{name}: the served site differs from a clean build in {diff[:10]}"


def test_two_record_edits_in_a_row_and_nothing_saved(served_kb: Path, tmp_path: Path, own_plugins: None) -> None:
    """Edits served one after another by the record-edit path build on each other; a rebuild with nothing saved since
    (another watched path, say) takes MkDocs' whole build."""
    kb, served = served_kb, tmp_path / "served"
    plugin = serve_build(kb, served)
    ke1 = served / "known-errors" / "KE-0001" / "index.html"
    ke2 = served / "known-errors" / "KE-0002" / "index.html"
    os.utime(ke2, (1_000_000, 1_000_000))
    edit(kb, KE1, lambda t: t.replace("title: Outlook prompts", "title: Outlook asks"))
    assert plugin._rebuild()
    assert "Outlook asks" in ke1.read_text(encoding="utf-8")
    assert ke2.stat().st_mtime == 1_000_000, "a page the edit does not touch is not written"
    edit(kb, KE1, lambda t: t.replace("title: Outlook asks", "title: Outlook asks again"))
    assert plugin._rebuild()
    assert "Outlook asks again" in ke1.read_text(encoding="utf-8")
    assert tree(served) == clean_build(kb, tmp_path / "clean")
    assert not plugin._rebuild(), "nothing saved: MkDocs' whole build"


def test_an_edit_that_fails_the_check_takes_the_whole_build(served_kb: Path, tmp_path: Path, own_plugins: None) -> None:
    """The check's findings are on every served page: a record edit that brings an error is not served on its own, and
    the whole build that follows reuses the context the record-edit path made (the check is not run twice)."""
    kb, served = served_kb, tmp_path / "served"
    plugin = serve_build(kb, served)
    edit(kb, KE2_FILE, lambda t: t.replace("status: published", "status: nonsense"))
    assert not plugin._rebuild()
    made = plugin.ahead[1]
    assert serve_build(kb, served) is plugin and plugin.ctx is made
    assert "kedb-check-banner" in (served / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda kb: (kb / "known_errors" / "notes.txt").write_text("x", encoding="utf-8"), id="another file added"),
        pytest.param(lambda kb: (kb / "content" / "kedb.yml").touch(), id="program data saved"),
        pytest.param(lambda kb: (kb / "mkdocs.yml").write_text((kb / "mkdocs.yml").read_text() + "\n"), id="mkdocs.yml saved"),
        pytest.param(lambda kb: os.rename(kb / KE2_FILE, kb / "known_errors" / "KE-0002-renamed.md"), id="record renamed"),
        pytest.param(lambda kb: _commit(kb, "2030-01-02T03:04:05+00:00"), id="a commit since (the sitemap's dates)"),
    ],
)
def test_anything_but_a_record_changed_in_place_takes_the_whole_build(
    served_kb: Path, tmp_path: Path, own_plugins: None, change: Any
) -> None:
    kb, served = served_kb, tmp_path / "served"
    plugin = serve_build(kb, served)
    edit(kb, KE1, lambda t: t.replace("title: Outlook prompts", "title: Outlook asks"))
    change(kb)
    assert not plugin._rebuild()
    assert serve_build(kb, served) is plugin
    assert tree(served) == clean_build(kb, tmp_path / "clean")


def _commit(kb: Path, when: str) -> None:
    """A commit of KE-0002 (not the edited record), dated ``when``: the build's date moves, and every page's with it."""
    edit(kb, KE2_FILE, lambda t: t.replace("Teams shows a blank window", "Teams shows an empty window"))
    git(kb, "commit", "-q", "-am", "KE-0002: reword the title", env={"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})


def test_a_record_replaced_by_a_link_takes_the_whole_build(tmp_path: Path) -> None:
    """Stamps are taken without following links: a record file replaced by a link to another file is a change of kind."""
    folder = tmp_path / "known_errors"
    folder.mkdir()
    rec, other = folder / "KE-1.md", tmp_path / "elsewhere.md"
    rec.write_text("a", encoding="utf-8")
    other.write_text("b", encoding="utf-8")
    before = serving.stamps([str(folder)])
    rec.write_text("c", encoding="utf-8")
    assert serving.record_edits(before, serving.stamps([str(folder)]), str(folder)) == {str(rec)}
    rec.unlink()
    rec.symlink_to(other)
    assert serving.record_edits(before, serving.stamps([str(folder)]), str(folder)) is None


class _Server:
    """What MkDocs' live-reload server has for a watcher to ask for a rebuild."""

    def __init__(self) -> None:
        self._rebuild_cond = threading.Condition()
        self._want_rebuild = False

    def asked(self, within: float) -> bool:
        with self._rebuild_cond:
            return self._rebuild_cond.wait_for(lambda: self._want_rebuild, timeout=within)


def test_records_are_watched_with_file_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record saved asks the server for a rebuild at once (no poll); a record only read (the build reads them) does
    not; ``KEDB_SERVE_POLL=1``, or a server without MkDocs' rebuild signal, leaves the folder to MkDocs' polling."""
    folder = tmp_path / "known_errors" / "svc"
    folder.mkdir(parents=True)
    rec = folder / "KE-1.md"
    rec.write_text("a", encoding="utf-8")
    server = _Server()
    observer = serving.watch_records(server, str(tmp_path / "known_errors"))
    assert observer is not None
    try:
        rec.read_text(encoding="utf-8")
        assert not server.asked(within=0.5), "reading a record is no change"
        rec.write_text("b", encoding="utf-8")
        assert server.asked(within=5)
    finally:
        observer.stop()
    assert serving.watch_records(object(), str(tmp_path)) is None
    monkeypatch.setenv(serving.POLL_ENV, "1")
    assert serving.watch_records(_Server(), str(tmp_path)) is None


HOSTILE = "</title><script>alert(1)</script> & \"q\" 's' <img src=x onerror=alert(2)>"


def test_a_hostile_title_served_on_its_own_is_escaped_as_a_whole_build_escapes_it(
    served_kb: Path, tmp_path: Path, own_plugins: None
) -> None:
    """Markup in a title, saved under serve: the record-edit path writes the record page, its neighbours, the indexes and
    the Tags page as a clean build does (escaped; no script or image tag from the title anywhere)."""
    kb, served = served_kb, tmp_path / "served"
    plugin = serve_build(kb, served)
    quoted = HOSTILE.replace("'", "''")
    edit(kb, KE1, lambda t: t.replace("title: Outlook prompts for credentials again and again", f"title: '{quoted}'"))
    assert plugin._rebuild()
    site = tree(served)
    assert site == clean_build(kb, tmp_path / "clean")
    for page in ("known-errors/KE-0001/index.html", "known-errors/index.html", "tags/index.html"):
        text = (served / page).read_text(encoding="utf-8")
        assert "&lt;/title&gt;&lt;script&gt;" in text and "<script>alert(1)" not in text and "<img src=x" not in text, page


def test_a_record_replaced_by_a_link_under_serve_takes_the_whole_build(served_kb: Path, tmp_path: Path, own_plugins: None) -> None:
    """A record file swapped for a link to a file outside the KB is no record edit: MkDocs' whole build runs, whose check
    refuses the link (the served pages then show the finding), and nothing of the target is served."""
    kb, served = served_kb, tmp_path / "served"
    plugin = serve_build(kb, served)
    secret = tmp_path / "outside.md"
    secret.write_text((kb / KE2_FILE).read_text(encoding="utf-8").replace("Teams shows", "SECRET-OUTSIDE Teams shows"), encoding="utf-8")
    (kb / KE2_FILE).unlink()
    (kb / KE2_FILE).symlink_to(secret)
    assert not plugin._rebuild()
    assert serve_build(kb, served) is plugin
    assert "kedb-check-banner" in (served / "index.html").read_text(encoding="utf-8")
    assert not any("SECRET-OUTSIDE" in p.read_text(encoding="utf-8", errors="replace") for p in served.rglob("*") if p.is_file())


def test_a_public_edition_served_right_after_the_internal_one(served_kb: Path, tmp_path: Path, own_plugins: None) -> None:
    """mkdocs.yml switched to the public edition while serving (a whole build), then a record edit: the record-edit path
    builds on the public edition's kept state only, and the served site is a clean public build, with no internal page."""
    kb, served = served_kb, tmp_path / "served"
    plugin = serve_build(kb, served)
    internal = {p.relative_to(served).as_posix() for p in served.glob("*/*-*/index.html")}
    config = kb / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("audience: internal", "audience: public"), encoding="utf-8")
    assert not plugin._rebuild()
    assert serve_build(kb, served) is plugin
    edit(kb, KE1, lambda t: t.replace("title: Outlook prompts", "title: Outlook asks"))
    assert plugin._rebuild()
    assert tree(served) == clean_build(kb, tmp_path / "clean")
    public = {p.relative_to(served).as_posix() for p in served.glob("*/*-*/index.html")}
    assert public < internal
