"""The page cache: record pages reused between builds (issue #23).

Two steps of a site build cost time per record page: rendering its HTML from the template
(:meth:`kedb.site.pages.Builder.record_pages`) and putting that HTML through Material's theme
(:mod:`kedb.site.chrome`). Both results are kept in ``.kedb/cache/site/<edition>/`` and reused
when nothing that can change them has changed. An entry's name is its key: the SHA-256 of every
input that can change the page's output. *When in doubt, an input is in the key*: a key that
changes too often costs a render; one that misses an input publishes a stale page.

The **page key** (``page/``: the rendered :class:`~kedb.site.pages.Page` and its search document):

* everything global (:func:`_global_digest`): kedb's version and the SHA-256 of its source
  files, Python's and every installed distribution's version (Jinja, markdown-it, MkDocs,
  Material, ...), every file of the site templates (the KB's ``templates/site/`` and kedb's
  own), the build information (commit, date, audience, tenant, partial history; not the
  fingerprint of all sources, which changes with every edit, nor whether the working tree has
  uncommitted changes, which turns on with the first edit: kedb's record templates show neither,
  only the home page does), the site options (URL style, site URL and name, downloads folder), the program
  data (each ``content/`` file's hash), the playbooks and the assets a page may link, the check's
  findings on files that are not records, and every record id of the edition with its file (a
  record's words link any record id they name, so adding or deleting a record renders every page
  again);
* the record itself and its neighbourhood: every record within two links of it, either way
  (its problem, workarounds, known errors, successor, and what links to it; then theirs: the
  known errors that share its problem are listed on its page), each as the context holds it
  (path, text after the edition's withholding, validated front-matter) with the check's findings
  on its file; the record's own versions and the approval verdict of each, as the context holds
  them (an edition keeps only its own records' versions and words).

The two-link neighbourhood is what kedb's own record templates read. A KB whose
``templates/site/`` changes a template (any file that differs from kedb's own) may read anything,
so there every record page's key covers every record, all history and all approvals, and
whether the working tree has uncommitted changes.

The **theme key** (``chrome/``: the finished page as Material's theme writes it) is the page key
plus the MkDocs configuration after every plugin's ``on_config`` (each setting, each plugin and
its settings), the files of every theme folder outside the installed MkDocs and Material packages
(kedb's ``overrides/`` and the KB's, a ``custom_dir``), the navigation and the list of pages.
It is used only where a cached page gives the same bytes as MkDocs' own loop: when kedb is the
only plugin that changes finished pages (:func:`kedb.site.chrome.only_ours`).

Entries are kept in pack files (:class:`Store`: creating one file per entry cost seconds), each entry
sealed (:func:`kedb.core.load.cache.seal`, with this user's key kept outside the repository) and
carrying its key: an entry that is damaged, written by another user or machine, or filed under
another key is ignored, and so is a pack or index that is not a regular file (it is never opened
for reading). A killed build leaves whole entries and at most one cut-off entry, which no read
takes. Editions never share an entry: the edition is in every key and names the folder. After a
build, the index lists only the entries it used and packs none of them is in are deleted, so the
cache holds one site per edition (and, until they are rewritten, some unused bytes).
``KEDB_NO_CACHE=1`` turns the cache off, as it does the record cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import pickle
import re
import secrets
import stat
import struct
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import material
import mkdocs

from ..build.context import BuildContext
from ..core import memo
from ..core.background import delete_detached
from ..core.load import cache as sealed
from ..core.load.files import NotRegularFile, read_regular
from ..core.resources import shipped_templates, template_dirs
from ..core.trail import Version

CACHE_DIR = ".kedb/cache/site"
FORMAT = "kedb-site-cache 1"
PAGE, CHROME = "page", "chrome"
LINK_FIELDS = ("problem", "workarounds", "applies_to", "known_errors", "superseded_by")
# MkDocs settings that no page shows: where the site is written (kedb build stages it in a new folder each time).
UNKEYED = ("site_dir",)
_NAME = re.compile(r"^[0-9a-f]{64}$")


def digest(*parts: Any) -> str:
    """SHA-256 over ``parts``, each length-prefixed (bytes as they are, anything else as its ``str``)."""
    h = hashlib.sha256()
    for p in parts:
        b = p if isinstance(p, bytes) else str(p).encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()


# ------------------------------------------------------------------ the store
class Store:
    """The entries of one kind (``page`` or ``chrome``) for one edition, kept in pack files.

    One file per entry cost more than the rest of a cold build's cache work: creating 20,000 files took 7-17 s on
    the build machine (0.3 s for the same bytes in one file). So each process that writes entries during a build
    appends them to a pack file of its own (``pack-<build>-<pid>``: the build's workers write theirs at the same
    time, nothing shared), and ``index`` maps each key to its pack, offset and length. A pack entry is a header
    (:data:`_ENTRY`: the key and the length) and the sealed bytes; :meth:`prune`, at the end of a build, finds the
    entries of the packs the index does not list yet by reading their headers, writes the index of the entries the
    build used, deletes the packs none of them is in, and rewrites the rest into one pack when they hold more bytes
    of unused entries than of used ones. A killed build leaves whole entries and at most one cut-off entry at a
    pack's end, which no read takes. Every read checks the entry's seal and the key inside it, so an entry that was
    damaged, forged, or filed under another key is a miss; a pack or index that is not a regular file is never read."""

    def __init__(self, root: Path, edition: str, kind: str, key: bytes, remember: bool = False) -> None:
        self.base = Path(root) / sealed.CACHE_DIR
        self.dir = Path(root) / CACHE_DIR / edition / kind
        self._key = key
        self.used: set[str] = set()
        self._build = secrets.token_hex(6)  # this build's packs are pack-<build>-<pid>
        self._index: dict[str, tuple[str, int, int]] | None = None  # key -> (pack, offset of the sealed bytes, length)
        self._indexed: dict[str, tuple[str, int, int]] = {}  # the index as read from its file
        self._packs = 0  # packs this process opened for writing
        self._read: dict[str, int | None] = {}  # pack -> open descriptor (None: not a regular file)
        self._pack: tuple[int, int, str] | None = None  # (pid, descriptor, name) of the pack this process appends to
        self.remember = remember  # objects kept in the process between builds: see open

    @classmethod
    def open(cls, root: Path, edition: str, kind: str, remember: bool = False) -> Store | None:
        """The store, or None when caching is off or this user's key can be neither read nor made. With ``remember``
        (``mkdocs serve``, which rebuilds in one process), the objects :meth:`load` and :meth:`save` handle are also
        kept in the process, by key, from one build to the next (those the last build used): reading 10,000 record
        pages again from the packs took 0.7 s of each rebuild. A key names what its entry holds, so an object kept
        under it is the one the entry would give."""
        if not sealed.enabled() or not re.fullmatch(r"[A-Za-z0-9._-]+", edition) or edition.startswith("."):
            return None
        try:
            return cls(root, edition, kind, sealed.sealing_key(), remember)
        except OSError:
            return None

    def index(self) -> dict[str, tuple[str, int, int]]:
        """Key -> (pack, offset, length) of every entry the last build kept (its index), read once."""
        if self._index is None:
            self._index = {}
            try:
                payload = sealed.unseal(self._key, read_regular(self.dir / INDEX))
            except (OSError, NotRegularFile):
                payload = None
            head = f"{FORMAT}\n".encode()
            if payload is not None and payload.startswith(head):
                for line in payload[len(head) :].decode("ascii", "replace").splitlines():
                    parts = line.split(" ")
                    if len(parts) == 4 and _NAME.match(parts[0]) and _PACK.match(parts[1]) and parts[2].isdigit() and parts[3].isdigit():
                        self._index[parts[0]] = (parts[1], int(parts[2]), int(parts[3]))
            self._indexed = dict(self._index)
        return self._index

    def get(self, key: str) -> bytes | None:
        """The payload stored under ``key``; None when missing, not in a regular file, damaged or foreign."""
        where = self.index().get(key)
        if where is None:
            return None
        pack, offset, length = where
        fd = self._reader(pack)
        try:
            blob = os.pread(fd, length, offset) if fd is not None else b""
        except OSError:
            return None
        payload = sealed.unseal(self._key, blob)
        head = f"{FORMAT}\n{key}\n".encode()
        if payload is None or not payload.startswith(head):
            return None
        self.used.add(key)
        return payload[len(head) :]

    def _reader(self, pack: str) -> int | None:
        if pack not in self._read:
            self._read[pack] = _open_regular(self.dir / pack)
        return self._read[pack]

    def put(self, key: str, data: bytes) -> None:
        """Append ``data`` under ``key`` to this process's pack; a failure only means a miss next time."""
        self.used.add(key)
        blob = sealed.seal(self._key, f"{FORMAT}\n{key}\n".encode() + data)
        try:
            _, fd, name = self._writer()
            offset = os.lseek(fd, 0, os.SEEK_END) + _ENTRY.size
            _write_all(fd, _ENTRY.pack(_MAGIC, bytes.fromhex(key), len(blob)) + blob)
        except OSError:
            return
        self.index()[key] = (name, offset, len(blob))

    def _writer(self) -> tuple[int, int, str]:
        if self._pack is None or self._pack[0] != os.getpid():  # a forked worker writes a pack of its own
            self.dir.mkdir(parents=True, exist_ok=True)
            ignore = self.base / ".gitignore"
            if not ignore.exists():  # the cache never ends up in a commit
                sealed.write_atomic(ignore, b"# written by kedb: the cache is local to this machine\n*\n")
            self._packs += 1
            name = f"pack-{self._build}-{os.getpid()}-{self._packs}"
            fd = os.open(self.dir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | _NOFOLLOW, 0o644)
            self._pack = (os.getpid(), fd, name)
        return self._pack

    def load(self, key: str) -> Any:
        """The object stored under ``key`` (only bytes this user sealed are unpickled), or None."""
        held = _HELD.get(str(self.dir), {}) if self.remember else {}
        if key in held:
            self.used.add(key)
            return held[key]
        data = self.get(key)
        if data is None:
            return None
        try:
            value = pickle.loads(data)
        except Exception:  # pragma: no cover - verified bytes are ones kedb wrote
            return None
        self.hold(key, value)
        return value

    def save(self, key: str, value: Any) -> None:
        self.put(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        self.hold(key, value)

    def hold(self, key: str, value: Any) -> None:
        """With ``remember``, keep ``value`` in this process as what ``key`` holds (read or saved here, or saved by a
        worker process)."""
        if self.remember:
            _HELD.setdefault(str(self.dir), {})[key] = value

    def prune(self) -> None:
        """Keep the entries this build used (``used``; a worker's reads and writes are added by the caller) and
        nothing else: see the class docstring. Files of an older kind of cache (one file per entry) are deleted by a
        detached process (:func:`kedb.core.background.delete_detached`)."""
        if self.remember:  # the objects kept in the process: those of this build
            held = _HELD.get(str(self.dir), {})
            memo.keep(_HELD, str(self.dir), {key: held[key] for key in self.used if key in held}, _HELD_STORES)
        self._close_writer()
        try:
            names = os.listdir(self.dir)
        except OSError:
            return
        index = self.index()
        listed = {where[0] for where in (*index.values(), *self._indexed.values())}  # a key written again moved
        packs = [n for n in names if _PACK.match(n)]
        for name in packs:  # packs written since the index was: this build's workers' (or a concurrent build's)
            if name not in listed or name.startswith(f"pack-{self._build}-"):
                for key, where in _scan(self.dir / name, name):
                    index[key] = where
        kept = {key: index[key] for key in sorted(self.used) if key in index}
        live: dict[str, int] = {}
        for name, _, length in kept.values():
            live[name] = live.get(name, 0) + length + _ENTRY.size
        sizes = {n: _size(self.dir / n) for n in packs}
        if len(live) > _MAX_PACKS or sum(sizes.get(n, 0) for n in live) > 2 * sum(live.values()) + _COMPACT_SLACK:
            kept = self._compact(kept)
            live = {where[0]: 1 for where in kept.values()}
        self._close_readers()
        try:
            if kept != self._indexed or not (self.dir / INDEX).is_file():
                lines = "".join(f"{k} {n} {o} {length}\n" for k, (n, o, length) in kept.items())
                sealed.write_atomic(self.dir / INDEX, sealed.seal(self._key, f"{FORMAT}\n{lines}".encode("ascii")))
        except OSError:
            return
        self._index, self._indexed = kept, dict(kept)
        ours = f"pack-{self._build}-"
        for name in packs:
            if name not in live and (name in listed or name.startswith(ours) or _old(self.dir / name)):
                with contextlib.suppress(OSError):
                    os.unlink(self.dir / name)  # another build's pack being written now is left alone
        delete_detached(self.dir / n for n in names if n != INDEX and not _PACK.match(n) and not n.startswith("."))

    def _compact(self, kept: dict[str, tuple[str, int, int]]) -> dict[str, tuple[str, int, int]]:
        """The used entries rewritten into one new pack of this process (their packs are deleted after)."""
        moved: dict[str, tuple[str, int, int]] = {}
        for key, (name, offset, length) in kept.items():
            fd = self._reader(name)
            try:
                blob = os.pread(fd, length, offset) if fd is not None else b""
                if len(blob) != length:
                    continue
                _, out, new = self._writer()
                at = os.lseek(out, 0, os.SEEK_END) + _ENTRY.size
                _write_all(out, _ENTRY.pack(_MAGIC, bytes.fromhex(key), length) + blob)
            except OSError:
                return kept
            moved[key] = (new, at, length)
        self._close_writer()
        return moved

    def _close_readers(self) -> None:
        for fd in self._read.values():
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._read = {}

    def _close_writer(self) -> None:
        if self._pack is not None and self._pack[0] == os.getpid():
            with contextlib.suppress(OSError):
                os.close(self._pack[1])
        self._pack = None


INDEX = "index"
_PACK = re.compile(r"^pack-[0-9a-f]{12}-[0-9]+-[0-9]+$")
_MAGIC = b"kpe1"
_ENTRY = struct.Struct(">4s32sQ")  # an entry's header: magic, key, length of the sealed bytes that follow
_COMPACT_SLACK = 1 << 20  # bytes of unused entries always tolerated
_MAX_PACKS = 32  # packs with used entries; beyond this (many builds of a few pages each) they are rewritten into one
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_STALE_PACK = 3600.0  # seconds; a pack no index lists and nobody wrote for this long is left over from a killed build


_HELD: dict[str, dict[str, Any]] = {}  # store folder -> key -> object, for stores opened to remember (Store.open)
_HELD_STORES = 4  # a process that serves one KB has one or two


def _open_regular(path: Path) -> int | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _scan(path: Path, name: str) -> list[tuple[str, tuple[str, int, int]]]:
    """(key, (pack, offset, length)) of each whole entry of a pack, read from the headers; stops at anything else."""
    fd = _open_regular(path)
    if fd is None:
        return []
    out = []
    try:
        size = os.fstat(fd).st_size
        at = 0
        while at + _ENTRY.size <= size:
            magic, key, length = _ENTRY.unpack(os.pread(fd, _ENTRY.size, at))
            if magic != _MAGIC or at + _ENTRY.size + length > size:
                break
            out.append((key.hex(), (name, at + _ENTRY.size, length)))
            at += _ENTRY.size + length
    except OSError:
        pass
    finally:
        os.close(fd)
    return out


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _old(path: Path) -> bool:
    try:
        return time.time() - path.lstat().st_mtime > _STALE_PACK
    except OSError:
        return False


# ------------------------------------------------------------------ keys
_VERSIONS: str | None = None


def versions() -> str:
    """kedb's context (version, source files, Python, PyYAML) and every installed distribution's version."""
    global _VERSIONS
    if _VERSIONS is None:
        dists = sorted({f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()})
        _VERSIONS = digest(sealed.context("site"), sys.version, *dists)
    return _VERSIONS


def files_digest(dirs: Iterable[Path]) -> str:
    """Every file under ``dirs``: its folder's place in the list, its path and its bytes."""
    h = hashlib.sha256()
    for i, d in enumerate(dirs):
        h.update(f"dir {i} {d}\0".encode())
        for dirpath, dirnames, filenames in os.walk(d):
            dirnames.sort()
            for fn in sorted(filenames):
                path = os.path.join(dirpath, fn)
                h.update(os.path.relpath(path, d).encode("utf-8", "surrogatepass") + b"\0")
                try:
                    h.update(hashlib.sha256(read_regular(Path(path))).digest())
                except (OSError, NotRegularFile):
                    h.update(b"unreadable")
    return h.hexdigest()


def _own_templates_changed(root: Path) -> bool:
    """Whether the KB's ``templates/site/`` has a template that is not kedb's own (then a record page may read anything)."""
    try:
        shipped = shipped_templates() / "site"
    except Exception:
        return (Path(root) / "templates" / "site").is_dir()
    return differs_from(Path(root) / "templates" / "site", shipped, lambda rel: rel.endswith(".j2"))


def differs_from(own: Path, shipped: Path, counts: Callable[[str], bool]) -> bool:
    """Whether the folder ``own`` has a file (its path relative to ``own``, ``/``-separated, for which ``counts`` holds)
    that is not byte for byte the file of the same path under ``shipped``; a file that is not regular differs."""
    if not own.is_dir() or own.resolve() == shipped.resolve():
        return False
    for dirpath, _, filenames in os.walk(own):
        for fn in filenames:
            path = Path(dirpath) / fn
            rel = path.relative_to(own).as_posix()
            if not counts(rel):
                continue
            try:
                if read_regular(path) != read_regular(shipped / rel):
                    return True
            except (OSError, NotRegularFile):
                return True
    return False


def own_theme_dirs(config: Any) -> list[str]:
    """The theme folders of a MkDocs configuration outside the installed MkDocs and Material packages (kedb's
    overrides, the KB's, a ``custom_dir``), in the theme's order."""
    packages = [os.path.realpath(os.path.dirname(m.__file__ or "")) for m in (mkdocs, material)]
    return [d for d in config.theme.dirs if not any(os.path.realpath(d).startswith(p + os.sep) for p in packages)]


def _global_digest(ctx: BuildContext, opts: Any, assets: Iterable[str]) -> str:
    kb, info = ctx.kb, ctx.info
    record_paths = {r.source.path for r in kb.records.values()}
    return digest(
        FORMAT,
        versions(),
        files_digest(template_dirs(kb.root, "site")),
        info.commit,
        info.date.isoformat(),
        info.audience,
        info.tenant,
        info.partial_history,
        info.kedb_version,
        repr(opts),
        *sorted(f"{p}\0{s.sha256}" for p, s in kb.program.sources.items()),
        *(f"playbook\0{p.source.path}\0{p.source.sha256}\0{p.source.text}" for p in kb.playbooks),
        *sorted(assets),
        *sorted(repr(f) for f in ctx.report.findings if f.path not in record_paths),
        *(f"record\0{rid}\0{r.source.path}" for rid, r in kb.records.items()),
    )


def _record_digest(rec: Any, findings: Mapping[str, list[str]]) -> str:
    meta = rec.meta.model_dump_json() if hasattr(rec.meta, "model_dump_json") else repr(rec.meta)
    return digest(rec.id, rec.kind, rec.source.path, rec.source.sha256, rec.source.text, meta, *findings.get(rec.source.path, ()))


def links(meta: Any) -> list[str]:
    """The record ids a record's front-matter names."""
    out: list[str] = []
    for name in LINK_FIELDS:
        value = getattr(meta, name, None)
        if isinstance(value, str) and value:
            out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(str(v) for v in value if v)
    return out


class _Inputs:
    """What the last :func:`page_keys` of a KB made each part of a key from, by record (``remember``): each part is made
    again only when what it is made from is not the same (the same objects, for the frozen records, versions and
    approvals of a KB read again in one process)."""

    def __init__(self) -> None:
        self.own: dict[str, tuple[Any, Any, tuple[str, ...], str]] = {}  # rid -> (meta, source, findings, digest)
        self.links: dict[str, list[str]] = {}  # rid -> the ids its front-matter names (links(meta), with own)
        # rid -> (versions, uncommitted change, approvals, no history at all, text)
        self.trails: dict[str, tuple[Any, Any, tuple[Any, ...] | None, bool, str]] = {}
        # rid -> (global digest, trail text, the ids around it, their digests, key)
        self.keys: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...], str]] = {}


_INPUTS: dict[str, _Inputs] = {}  # KB root -> the inputs of its last page keys (page_keys' remember)
_INPUTS_AT_MOST = 2


def page_keys(ctx: BuildContext, opts: Any, assets: Iterable[str], remember: bool = False) -> dict[str, str]:
    """Record id -> the key of its page (see the module docstring); ``assets``: the files of
    ``content/assets/`` a page may link (:func:`kedb.site.pages.publishable_assets`).

    With ``remember`` (``mkdocs serve``, which builds again in one process), each record's digest, history text and key
    are kept in the process with what they were made from, and made again only when that differs (:class:`_Inputs`):
    the same keys, without hashing 10,000 records again when one changed (0.35 s of each rebuild)."""
    kb = ctx.kb
    was = _INPUTS.pop(str(kb.root), None) if remember else None
    now = _Inputs()
    findings: dict[str, list[str]] = {}
    for f in sorted(ctx.report.findings, key=repr):
        findings.setdefault(f.path, []).append(repr(f))
    own = {rid: _own_digest(r, findings, was, now) for rid, r in kb.records.items()}
    base = _global_digest(ctx, opts, assets)
    if remember:
        memo.keep(_INPUTS, str(kb.root), now, _INPUTS_AT_MOST)
    if _own_templates_changed(kb.root):
        everything = digest(
            "wide",
            ctx.info.dirty,
            *own.items(),
            repr(ctx.history.records if ctx.history else None),
            repr(ctx.approvals.items if ctx.approvals else None),
        )
        return {rid: digest(base, rid, everything) for rid in own}
    near: dict[str, set[str]] = {rid: set() for rid in own}
    for rid in kb.records:
        for other in now.links[rid]:
            near[rid].add(other)
            near.setdefault(other, set()).add(rid)
    keys = {}
    for rid in own:
        hood = {rid} | near[rid]
        for n in list(hood):
            hood |= near.get(n, set())
        trail = _trail_text(ctx, rid, was, now)
        ids = tuple(sorted(hood))
        owns = tuple(own.get(n, "absent") for n in ids)
        held = was.keys.get(rid) if was is not None else None
        if held is not None and held[0] == base and held[1] == trail and held[2] == ids and held[3] == owns:
            key = held[4]
        else:
            key = digest(base, rid, trail, *(f"{n}\0{d}" for n, d in zip(ids, owns, strict=True)))
        now.keys[rid] = (base, trail, ids, owns, key)
        keys[rid] = key
    return keys


def _own_digest(rec: Any, findings: Mapping[str, list[str]], was: _Inputs | None, now: _Inputs) -> str:
    """:func:`_record_digest`, kept in ``now`` with what it was made from and taken from ``was`` when that is the same."""
    mine = tuple(findings.get(rec.source.path, ()))
    held = was.own.get(rec.id) if was is not None else None
    if held is not None and held[0] is rec.meta and held[1] is rec.source and held[2] == mine:
        now.own[rec.id] = held
        now.links[rec.id] = was.links[rec.id]  # type: ignore[union-attr]
        return held[3]
    made = _record_digest(rec, findings)
    now.own[rec.id] = (rec.meta, rec.source, mine, made)
    now.links[rec.id] = links(rec.meta)
    return made


def _same(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> bool:
    """Whether two tuples hold the very same objects (or are both None)."""
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _trail_text(ctx: BuildContext, rid: str, was: _Inputs | None, now: _Inputs) -> str:
    """:func:`trail_text`, kept in ``now`` with what it was made from (the record's versions, its uncommitted change and
    its approvals, each the same object) and taken from ``was`` when that is the same."""
    h = ctx.history.of(rid) if ctx.history is not None else None
    approvals = tuple(ctx.approvals.trail(rid)) if ctx.approvals is not None else None
    versions, uncommitted = (h.versions, h.uncommitted) if h is not None else (None, None)
    held = was.trails.get(rid) if was is not None else None
    if (
        held is not None
        and held[0] is versions
        and held[1] == uncommitted
        and _same(held[2], approvals)
        and held[3] == (ctx.history is None)
    ):
        now.trails[rid] = held
        return held[4]
    made = trail_text(ctx, rid)
    now.trails[rid] = (versions, uncommitted, approvals, ctx.history is None, made)
    return made


def _version(v: Version) -> tuple[Any, ...]:
    """What tells one version of a record from another. The rest of a :class:`~kedb.core.trail.Version` (author,
    date, trailers, the policy before it) is read from its commit, and the head commit is in every page key
    (:func:`_global_digest`), so the commit and the record's path in it stand for it. The words a page prints are
    kept too: an edition withholds a commit's subject, note and merge request when the commit also touched a record
    it does not show (:func:`kedb.build.context.edition_trail`), and a key without them would have to rely on that
    set of records being in the key as well."""
    return (v.commit, v.path, v.old_path, v.blob, v.change, v.mode, v.number, v.seq, v.subject, v.note, v.merge_request)


def trail_text(ctx: BuildContext, rid: str) -> str:
    """A record's history and approvals as the page key holds them: each version by :func:`_version`, each approval
    by its version and verdict (the verdict is kept whole: it also depends on what verifies signatures here).
    A fifth of the cost of their ``repr`` (1.1 s at 10,000 records, in every warm build)."""
    history = (
        (
            (h := ctx.history.of(rid)).uncommitted,
            [_version(v) for v in h.versions],
        )
        if ctx.history is not None
        else "no history"
    )
    trail = (
        [
            (_version(a.version), a.state.status, a.state.service, a.state.high_impact, a.approvers, a.status, a.message, a.notes)
            for a in ctx.approvals.trail(rid)
        ]
        if ctx.approvals is not None
        else "no approvals"
    )
    return repr((history, trail))


def chrome_digest(config: Any, nav: Any, doc_files: Iterable[Any]) -> str:
    """What, besides its page key, a record page through the theme depends on (see the module docstring)."""
    theme_dirs = own_theme_dirs(config)
    settings = []
    for name in sorted(config.keys()):
        if name in UNKEYED:
            continue
        value = config[name]
        if name == "plugins":
            value = [(n, type(p).__module__, type(p).__qualname__, _plain(_keyed(p))) for n, p in value.items()]
        elif name == "theme":
            value = (value.name, list(value.dirs), _plain(dict(value.items())))
        settings.append(f"{name}\0{_plain(value)!r}")
    return digest(
        FORMAT,
        versions(),
        *settings,
        files_digest(Path(d) for d in theme_dirs),
        _nav(nav.items if nav is not None else []),
        *sorted(f.src_uri for f in doc_files),
    )


def _keyed(plugin: Any) -> Any:
    """A plugin's settings that can change a page: all but those its class names in ``unkeyed_options`` (kedb's
    ``root``: where the KB is, which ``kedb build`` sets and ``mkdocs build`` reads from mkdocs.yml, and the page key
    covers what is read there; with it in the key, the two builds of one KB never shared an entry and each pruned the
    other's)."""
    config = getattr(plugin, "config", {})
    unkeyed = getattr(type(plugin), "unkeyed_options", ())
    if unkeyed and isinstance(config, Mapping):
        return {k: v for k, v in config.items() if k not in unkeyed}
    return config


def chrome_keys(page_keys: Mapping[str, str], base: str) -> dict[str, str]:
    """Page source -> the key of the page through the theme."""
    return {src: digest(base, src, key) for src, key in page_keys.items()}


def _nav(items: Iterable[Any]) -> str:
    return repr(
        [(type(i).__name__, getattr(i, "title", None), getattr(i, "url", None), _nav(getattr(i, "children", None) or [])) for i in items]
    )


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data for a key (objects by their type and plain attributes, never an address)."""
    if depth > 8:
        return type(value).__qualname__
    if isinstance(value, Mapping):
        return sorted(((str(k), _plain(v, depth + 1)) for k, v in value.items()), key=lambda kv: kv[0])
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v, depth + 1) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (str, int, float, bool, bytes)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    state = getattr(value, "__dict__", None)
    if isinstance(state, dict):
        return (type(value).__module__, type(value).__qualname__, _plain({k: v for k, v in state.items() if not callable(v)}, depth + 1))
    text = repr(value)
    return (type(value).__qualname__, re.sub(r" at 0x[0-9a-f]+", "", text))
