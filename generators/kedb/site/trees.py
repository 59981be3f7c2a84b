"""What a site tree holds: the record pages kedb wrote into it, so that the next build into the same tree keeps them.

``kedb build`` stages each site in a tree and swaps it into ``site/``; the tree it replaces is kept beside the site
(``.site.spare``, :mod:`kedb.build.run`) and is where the next build is staged. On this machine's file system,
making the 10,000 folders and files of a site of 10,000 records and deleting the old ones cost 5 to 12 s of system
time per build, most of an edit build. With this manifest a build moves the record pages it can keep out of MkDocs'
way (as ``mkdocs serve`` does, :meth:`kedb.site.plugin.KedbPlugin.on_pre_build`) and writes only the others.

A page is kept only when all of these hold (:func:`kept`):

* the manifest was written by this user for a tree of the same edition (sealed, :func:`kedb.core.load.cache.read_kept`),
  and is filed under the tree's own folder (device and inode, which a rename keeps);
* the file is still the one kedb wrote: a regular file with the same stamp (:func:`kedb.core.load.files.stamp_of`:
  type and mode, device, inode, size, modification and change times; a change time cannot be set back by anyone but
  the system's clock, so an edit of the page is seen);
* it was written from the same page-cache entry the build wants now (the key holds every input of the page,
  :mod:`kedb.site.cache`).

Everything else in the tree is removed, by MkDocs' own cleaning and by :meth:`~kedb.site.plugin.KedbPlugin._unstash`.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from ..core.load import cache as sealed
from ..core.load.files import Stamp, stamp_of
from .cache import CACHE_DIR

FORMAT = b"kedb-site-tree 2"  # 2: the stamp of kedb.core.load.files (type and mode, device too)
KEEP = 4  # manifests kept: those of the published site, the spare and a little more; the oldest go first

Manifest = dict[str, object]  # "edition": str, "pages": {path in the tree: (what it was written from, Stamp)}


def inside(path: str, tree: str) -> str:
    """``os.path.relpath(path, tree)`` for a path MkDocs or this module joined onto ``tree``, from the strings alone
    (``relpath`` asks the system for the working directory twice a call: 0.1 s for the 10,000 pages of a build). Any
    other pair of paths (relative, not normalised, not under ``tree``) is given to ``relpath``: the same answer."""
    base = os.path.normpath(tree)
    rest = path[len(base) + 1 :]
    if rest and os.path.isabs(tree) and path.startswith(base + os.sep) and not path.startswith("//") and os.path.normpath(path) == path:
        return rest
    return os.path.relpath(path, tree)


def _where(root: Path, tree: str) -> Path | None:
    """The manifest file of the tree folder ``tree`` (None when the folder is not there)."""
    try:
        st = os.stat(tree)
    except OSError:
        return None
    return Path(root) / CACHE_DIR / "trees" / f"{st.st_dev}-{st.st_ino}"


def _manifest(root: Path, tree: str, edition: str) -> Manifest | None:
    where = _where(root, tree)
    found = sealed.read_kept(where, FORMAT, dict) if where is not None else None
    if not found or found.get("edition") != edition or not isinstance(found.get("pages"), dict):
        return None
    return found


def vouched(root: Path, tree: str, edition: str) -> bool:
    """Whether a manifest of this edition lists pages of ``tree``: only then is a build worth staging in it. Without
    one (a page cache removed, another edition) MkDocs would delete the tree's pages one by one while the build
    waits, 2.3 s at 10,000 records, to write them all again."""
    found = _manifest(root, tree, edition)
    return found is not None and bool(found["pages"])


def kept(root: Path, tree: str, edition: str) -> dict[str, str]:
    """The record pages of ``tree`` that kedb wrote and that nobody changed since: their paths (under ``tree``, as
    MkDocs names them) and what each was written from. Empty when there is no manifest for this tree and edition."""
    found = _manifest(root, tree, edition)
    if found is None:
        return {}
    out = {}
    pages: dict[str, tuple[str, Stamp]] = found["pages"]  # type: ignore[assignment]
    for rel, (what, stamp) in pages.items():
        path = os.path.join(tree, rel)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and stamp_of(st) == tuple(stamp):
            out[path] = what
    return out


def record(root: Path, tree: str, edition: str, pages: Mapping[str, str]) -> None:
    """Keep the manifest of ``tree``: each page of ``pages`` (its path under ``tree`` -> what it was written from)
    as it is now. A page that is not a regular file is left out (it is written again next time). Manifests of trees
    long gone are deleted; a manifest that cannot be written costs the next build its time, nothing else."""
    where = _where(root, tree)
    if where is None:
        return
    listed: dict[str, tuple[str, Stamp]] = {}
    for path, what in pages.items():
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            listed[inside(path, tree)] = (what, stamp_of(st))
    sealed.write_kept(where, FORMAT, {"edition": edition, "pages": listed})
    with contextlib.suppress(OSError):
        others = sorted((p for p in where.parent.iterdir() if p.name != ".gitignore"), key=lambda p: p.stat().st_mtime_ns)
        for old in others[:-KEEP]:
            old.unlink(missing_ok=True)
