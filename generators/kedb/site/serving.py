"""Under ``mkdocs serve``: a saved record file rebuilt without MkDocs' build of the whole site (issue #23).

A rebuild under ``mkdocs serve`` ran MkDocs' whole build for any saved file: its set-up, the tags plugin over every
record page, every page through the theme (from the page cache when unchanged) — about 3 s of each rebuild at
10,000 records whatever the edit. MkDocs' part of the site depends only on its configuration (``mkdocs.yml``,
``content/``, the theme's folders) and on the pages and files kedb hands it. So when the files saved since the last
build are records alone (``known_errors/**.md``, changed in place: none added, removed or renamed), the kedb plugin
makes its site again as a build does (the check, the context, every page and file from :func:`kedb.site.pages.build`)
and compares it with the last one (:func:`plan`). Where the two differ only in ways the kept MkDocs state can take —
record pages (their tags too), pages kept out of search (the indexes, home, changelog), the Tags page, kedb's own
files (search shards, catalogue, feeds) — it puts the changed pages through the same reading steps and the theme as
the build does and writes them and the changed files into the served folder (:class:`KedbPlugin._patch
<kedb.site.plugin.KedbPlugin>`). Anything else takes MkDocs' whole build, as before: a template, ``content/``,
``mkdocs.yml``, a record added, removed or renamed, a change to the navigation, the assets, a page that is in the
search index, check errors that come or go (every served page shows them), another plugin. The context and site made
for such an edit are handed to that build (``KedbPlugin.ahead``) when no file changed since.

The served site is then the one a whole build makes, byte for byte (``tests/test_serve_patch.py`` compares them after a
series of edits). The browser reloads once, as after any build.

``known_errors/`` is watched with the system's file events (:func:`watch_records`) rather than by MkDocs' polling.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from watchdog.events import (
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from ..core.load.files import Stamp, file_stamp, stamp_of
from .pages import Page, Site

POLL_ENV = "KEDB_SERVE_POLL"  # 1: watch known_errors/ as MkDocs watches the rest (polling), not with the system's events


def stamps(paths: Iterable[str]) -> dict[str, Stamp]:
    """Every file under ``paths`` (files or folders; links not followed) -> its stamp. A path that is not there is
    left out, so one that appears later is a change."""
    out: dict[str, Stamp] = {}
    for path in paths:
        st = file_stamp(path)
        if st is None:
            continue
        if stat.S_ISDIR(st[0]):
            _walk(path, out)
        else:
            out[path] = st
    return out


def _walk(folder: str, out: dict[str, Stamp]) -> None:
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    _walk(entry.path, out)
                    continue
                try:
                    out[entry.path] = stamp_of(entry.stat(follow_symlinks=False))
                except OSError:
                    continue
    except OSError:
        out[folder] = (-1, 0, 0, 0, 0, 0)  # unreadable: a change whenever it becomes readable


def record_edits(before: Mapping[str, Stamp], after: Mapping[str, Stamp], records: str) -> set[str] | None:
    """The files changed between two :func:`stamps`, when they are all record files of the folder ``records`` changed in
    place (regular ``*.md`` files before and after); None when anything else changed, or nothing did."""
    if before.keys() != after.keys():
        return None
    changed = {path for path, st in after.items() if before[path] != st}
    prefix = os.path.join(records, "")
    for path in changed:
        kinds = (before[path][0], after[path][0])
        if not path.startswith(prefix) or not path.endswith(".md") or not all(stat.S_ISREG(k) for k in kinds):
            return None
    return changed or None


def searched(meta: Mapping[str, Any]) -> bool:
    """Whether a page with this front-matter is in MkDocs' search index (``search: exclude`` keeps it out)."""
    opts = meta.get("search")
    return not (isinstance(opts, Mapping) and opts.get("exclude") is True)


@dataclass
class Plan:
    """What a record edit changes in the served site (:func:`plan`)."""

    pages: list[Page] = field(default_factory=list)  # the new pages to put through the theme, in the site's order
    retag: bool = False  # a record page's tags or title changed: the Tags page lists them
    write: dict[str, bytes] = field(default_factory=dict)  # kedb's files (search shards, catalogue, feeds) to write
    delete: list[str] = field(default_factory=list)  # kedb's files no longer made


def plan(old: Site, new: Site, owned: Iterable[str], tags_src: str) -> Plan | None:
    """How to take the served site from the build of ``old`` to that of ``new`` with the pages MkDocs read for the
    last build; None when only MkDocs' whole build can (see the module docstring). ``owned`` are the record pages kedb
    writes itself (:func:`kedb.site.chrome.owns_records`); ``tags_src`` is the Tags page, which Material's tags plugin
    fills from the record pages' titles and tags."""
    if new.nav != old.nav or new.assets != old.assets or new.logo != old.logo or new.artefacts != old.artefacts:
        return None
    if len(new.pages) != len(old.pages) or any(o.src != n.src for o, n in zip(old.pages, new.pages, strict=True)):
        return None
    owned = set(owned)
    out = Plan()
    for o, n in zip(old.pages, new.pages, strict=True):
        if o == n:
            continue
        if n.src in owned:
            out.retag = out.retag or o.meta != n.meta
        elif n.html is None or o.meta != n.meta or searched(n.meta) or searched(o.meta) or n.src == tags_src:
            return None  # a Markdown page, a new title in the navigation, a page in MkDocs' search index
        out.pages.append(n)
    out.write = {src: data for src, data in new.files.items() if old.files.get(src) != data}
    out.delete = sorted(old.files.keys() - new.files.keys())
    return out


class _Saved(FileSystemEventHandler):
    """A file saved under the watched folder: the server rebuilds, as after any change MkDocs sees."""

    def __init__(self, server: Any) -> None:
        self.server = server

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in _CHANGES:
            return
        with self.server._rebuild_cond:
            self.server._want_rebuild = True
            self.server._rebuild_cond.notify_all()


_CHANGES = frozenset({EVENT_TYPE_CREATED, EVENT_TYPE_MODIFIED, EVENT_TYPE_DELETED, EVENT_TYPE_MOVED, EVENT_TYPE_CLOSED})


def watch_records(server: Any, folder: str) -> BaseObserver | None:
    """Watch ``folder`` (``known_errors/``) with the system's file events (inotify on Linux, FSEvents on macOS) and
    have ``server`` (MkDocs' live-reload server) rebuild on a change, as its own watching does. MkDocs polls every
    watched file twice a second: at 10,000 records each poll was 0.1 s of the one core Python runs on, taken from the
    rebuild, and a save waited for the next poll. Returns the observer (to stop at shutdown), or None where the server
    must poll the folder itself: ``KEDB_SERVE_POLL=1`` (a file system whose events do not reach this machine: a network
    share, some container mounts), a server without MkDocs' rebuild signal, or events that cannot be had here."""
    if os.environ.get(POLL_ENV) == "1" or not all(hasattr(server, a) for a in ("_rebuild_cond", "_want_rebuild")):
        return None
    observer = Observer()
    try:
        observer.schedule(_Saved(server), folder, recursive=True)
        observer.start()
    except Exception as e:  # no inotify, its limit reached: polled as before
        log.info("kedb: watching %s by polling (%s)", folder, e)
        with contextlib.suppress(Exception):
            observer.stop()
        return None
    return observer


log = logging.getLogger("mkdocs.plugins.kedb")
