"""Which files a KB has, before any is read: the record files, what ``content/`` holds, and every
file kedb refuses to open.

kedb reads and publishes only regular files. A symbolic link can point outside the KB (a
committed ``content/env.txt -> /proc/self/environ`` would publish the build's environment), and
reviewers and the approval gate see the link, not its target: every link is reported (KE014) and
never followed. A named pipe, device or socket would make a reader wait for ever or read a
device: each is reported (KE016) and never opened. The folders are walked with
:func:`os.scandir`, whose entries know their type without a system call per file, so telling
them apart costs nothing on a KB of 10,000 records.

:func:`read_regular` is the last line: every reader opens its file through it, without blocking,
and checks the type on the open file, so a file swapped for a pipe after the walk is still
refused, never waited on.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote

from ..audits import AUDIT_DIR
from ..findings import Finding
from ..gate import GPG_SIGNERS_FILE, SSH_SIGNERS_FILE
from ..program import PROGRAM_FILES
from ..snapshots import KPI_DIR

RECORD_DIR = "known_errors"
CONTENT_DIR = "content"
PLAYBOOK_DIR = "content/playbooks"
ASSET_DIR = "content/assets"
TEMPLATE_DIR = "templates"
RECORD_NAME = re.compile(r"^(KE|WA|PRB)-(\d{4,})(?:-[a-z0-9][a-z0-9-]*)?\.md$")


class NotRegularFile(OSError):
    """The path is a pipe, device, socket or folder: kedb does not read it."""


def read_regular(path: str | Path, limit: int = -1) -> bytes:
    """The bytes of ``path`` (at most ``limit``) if it is a regular file; :class:`NotRegularFile`
    otherwise, OSError if it is missing or unreadable.

    Opened without blocking and checked on the open file, so a named pipe put there is never
    waited on, and nothing can swap the file between the check and the read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(f"{path} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit)
    finally:
        os.close(fd)


Stamp = tuple[int, int, int, int, int, int]  # file type and mode, device, inode, size, modification and change times (ns)


def stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_mode, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def file_stamp(path: str | Path, follow_links: bool = False) -> Stamp | None:
    """What tells a file from the same path changed in any way, short of reading it: its type and mode, device, inode,
    size, modification and change times (a change time cannot be set back but by the system's clock, so a file put
    back with its old size and modification time still differs). Of a link itself unless ``follow_links``; None when
    there is nothing at ``path``. One home for what kedb's in-process memories compare (the loader's record files,
    ``mkdocs serve``'s watched files, the kept history and approval report)."""
    try:
        return stamp_of(os.stat(path) if follow_links else os.lstat(path))
    except OSError:
        return None


def symlink_finding(rel: str) -> Finding:
    return Finding(
        rel,
        1,
        "KE014",
        f"'{rel}' is a symbolic link; kedb reads only real files (a link can point outside the KB, and reviewers and the "
        "approval gate see the link, not what it points to): replace it with the file itself",
    )


def special_finding(rel: str) -> Finding:
    return Finding(
        rel,
        1,
        "KE016",
        f"'{rel}' is not a regular file (a named pipe, device or socket); kedb never opens it (reading it could wait for ever): remove it",
    )


def refused_finding(rel: str, root: Path | None = None) -> Finding:
    """KE014 for a link, KE016 for anything else that is not a regular file or folder."""
    if root is None or os.path.islink(root / rel):
        return symlink_finding(rel)
    return special_finding(rel)


class _Folder(NamedTuple):
    rel: str  # posix, relative to the KB root
    files: list[str]  # regular files (names), sorted
    links: list[str]  # symbolic links to anything (names), sorted
    special: list[str]  # pipes, devices, sockets (names), sorted


def _walk(root: Path, top: str) -> Iterator[_Folder]:
    """Each folder under ``root/top`` (``top`` first, then its sub-folders in name order), never
    following a link. Nothing when ``top`` is missing or not a folder."""
    stack = [top]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(root / rel) as it:
                entries = list(it)
        except (NotADirectoryError, FileNotFoundError):
            continue
        files: list[str] = []
        links: list[str] = []
        special: list[str] = []
        dirs: list[str] = []
        for e in entries:
            if e.is_symlink():
                links.append(e.name)
            elif e.is_dir(follow_symlinks=False):
                dirs.append(e.name)
            elif e.is_file(follow_symlinks=False):
                files.append(e.name)
            else:
                special.append(e.name)
        yield _Folder(rel, sorted(files), sorted(links), sorted(special))
        stack.extend(f"{rel}/{d}" for d in sorted(dirs, reverse=True))


def refused_top(root: Path, top: str) -> Finding | None:
    """KE014/KE016 when the folder ``top`` itself is a link or not a folder."""
    path = root / top
    if path.is_symlink():
        return symlink_finding(top)
    if path.exists() and not path.is_dir():
        return special_finding(top) if not path.is_file() else None
    return None


def record_files(root: Path) -> tuple[list[str], list[Finding]]:
    """Record paths (relative, posix, sorted) and findings for stray files, links and special files."""
    rels: list[str] = []
    stray: list[Finding] = []
    top = refused_top(root, RECORD_DIR)
    if top is not None:
        return rels, [top]
    for folder in _walk(root, RECORD_DIR):
        stray.extend(symlink_finding(f"{folder.rel}/{n}") for n in folder.links)
        stray.extend(special_finding(f"{folder.rel}/{n}") for n in folder.special)
        if "/." in folder.rel:  # a hidden folder is not read; only its links and special files are reported
            continue
        for fn in folder.files:
            lower = fn.lower()
            if not lower.endswith((".md", ".markdown")) or lower in ("readme.md", "index.md"):
                continue
            rel = f"{folder.rel}/{fn}"
            if RECORD_NAME.match(fn):
                rels.append(rel)
            else:
                stray.append(Finding(rel, 1, "KE012", f"'{fn}' is not named like a record (KE-NNNN-slug.md, WA-…, PRB-…); it is ignored"))
    rels.sort()
    return rels, stray


# What content/assets/ may publish: each type is recognised by its first bytes as well as its name,
# so an HTML page named x.png is not published. SVG is not among them: it can carry script.
ASSET_TYPES: dict[str, Callable[[bytes], bool]] = {
    ".png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    ".jpg": lambda head: head.startswith(b"\xff\xd8\xff"),
    ".jpeg": lambda head: head.startswith(b"\xff\xd8\xff"),
    ".gif": lambda head: head[:6] in (b"GIF87a", b"GIF89a"),
    ".webp": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
    ".pdf": lambda head: head.startswith(b"%PDF-"),
}
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".webp")  # the assets a page shows; a PDF is linked
_ASSET_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")  # a URL that needs no escaping
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class ContentFiles(NamedTuple):
    """The files under ``content/`` that the loader does not read itself."""

    assets: tuple[str, ...]  # content/assets/ files kedb may publish (posix, relative to the KB root)
    stray: tuple[str, ...]  # files kedb neither reads nor publishes
    refused: tuple[str, ...]  # symbolic links (files or folders) and special files: never followed or opened
    findings: tuple[Finding, ...]  # KE014 for each link, KE016 for each special file, KE015 for each stray file

    def readable(self, folder: str, *, files_too: bool = False) -> bool:
        """No refused entry on the way to ``folder`` (nor, with ``files_too``, inside it)."""
        return not any(
            folder == bad or folder.startswith(bad + "/") or (files_too and bad.startswith(folder + "/")) for bad in self.refused
        )


def _read_by_loader(rel: str) -> bool:
    folder, _, name = rel.rpartition("/")
    if folder == CONTENT_DIR:
        return name in PROGRAM_FILES or rel in (SSH_SIGNERS_FILE, GPG_SIGNERS_FILE)
    if folder == PLAYBOOK_DIR:
        return name.endswith(".md")
    return (folder in (KPI_DIR, AUDIT_DIR) or folder.startswith(KPI_DIR + "/")) and name.endswith(".yml")


def _refused_asset(path: Path, rel: str) -> str | None:
    """Why the file ``rel`` of content/assets/ is not published, or None when it is."""
    name = rel.rsplit("/", 1)[-1]
    ext = os.path.splitext(name)[1].lower()
    kinds = ", ".join(ASSET_TYPES)
    if ext not in ASSET_TYPES:
        return (
            f"content/assets/ publishes only {kinds} files; an SVG or HTML file could run script in the reader's browser "
            "(save it as PNG or PDF)"
        )
    if not all(_ASSET_NAME.match(part) for part in rel[len(ASSET_DIR) + 1 :].split("/")):
        return "its path has characters other than letters, digits, '-', '_' and '.'; rename it"
    try:
        head = read_regular(path, 16)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if not ASSET_TYPES[ext](head):
        return f"its bytes are not a {ext[1:].upper()} file, whatever its name says"
    return None


def _stray_message(rel: str) -> str:
    published = "the site shows only what kedb renders: the playbooks and the content/assets/ files a page shows or links"
    if rel.lower().endswith(".md"):
        return (
            f"'{rel}' is not published ({published}); a hand-written page is a playbook: put it in content/playbooks/ "
            "with front-matter (title, summary, order, owner, review_by)"
        )
    return f"'{rel}' is not published and kedb does not read it ({published}); move it to content/assets/ or out of content/"


def content_files(root: Path) -> ContentFiles:
    """Walk ``content/`` without following links: the publishable assets, the stray files, the refused entries."""
    top = refused_top(root, CONTENT_DIR)
    if top is not None:
        return ContentFiles((), (), (CONTENT_DIR,), (top,))
    assets: list[str] = []
    stray: list[str] = []
    links: list[str] = []
    special: list[str] = []
    notes: list[Finding] = []
    for folder in _walk(root, CONTENT_DIR):
        links.extend(f"{folder.rel}/{n}" for n in folder.links)
        special.extend(f"{folder.rel}/{n}" for n in folder.special)
        if "/." in folder.rel:  # hidden files are neither read nor published; only links and special files matter
            continue
        for fn in folder.files:
            rel = f"{folder.rel}/{fn}"
            if fn.startswith(".") or fn.lower() == "readme.md" or _read_by_loader(rel):
                continue
            if rel.startswith(ASSET_DIR + "/"):
                why = _refused_asset(root / rel, rel)
                if why is None:
                    assets.append(rel)
                    continue
                message = f"'{rel}' is not published: {why}"
            else:
                message = _stray_message(rel)
            stray.append(rel)
            notes.append(Finding(rel, 1, "KE015", message))
    links.sort()
    special.sort()
    findings = (*map(symlink_finding, links), *map(special_finding, special), *notes)
    return ContentFiles(tuple(assets), tuple(stray), tuple(sorted((*links, *special))), findings)


def template_links(root: Path) -> list[Finding]:
    """KE014/KE016 for every link and special file under ``templates/`` (the site and the checks read these files)."""
    top = refused_top(root, TEMPLATE_DIR)
    if top is not None:
        return [top]
    out: list[Finding] = []
    for folder in _walk(root, TEMPLATE_DIR):
        out.extend(symlink_finding(f"{folder.rel}/{n}") for n in folder.links)
        out.extend(special_finding(f"{folder.rel}/{n}") for n in folder.special)
    return out


def local_target(source: str, url: str) -> tuple[str, str] | None:
    """(path in the KB, fragment) that the relative link ``url``, written in the file ``source``, points at;
    None for a link with a scheme or host, a site-absolute or in-page link, or one that leaves the KB."""
    url = url.strip()
    if not url or url.startswith(("#", "/", "\\")) or _SCHEME.match(url):
        return None
    path, _, fragment = url.partition("#")
    path = unquote(path.split("?", 1)[0])
    if not path:
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
    if target == ".." or target.startswith("../"):
        return None
    return target, fragment
