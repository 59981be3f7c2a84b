"""Per-file results of reading records, kept between runs in ``.kedb/cache/``.

What is kept for each record file is what reading it produced *before validation* (the parsed
front-matter, the line of every key, the issues of the file, YAML and text scans), keyed by

* the file's path in the KB (the kind of record and the file-name rule depend on it),
* the SHA-256 of its bytes (any edit is a miss),
* a context: kedb's version and the SHA-256 of its source files, Python's, PyYAML's and libyaml's
  versions, and the settings that change per-file results (allowlist, size limits).

Validation always runs again (the models are not cached), so a warm run skips reading YAML and
scanning text, nothing else. A cache file that does not verify, does not load, or was written for
another context is ignored and rewritten; one that cannot be written is skipped. Writes go to a
temporary file that replaces the old one, so a reader never sees half a file. Something that is not a
regular file in a cache file's place (a FIFO would block ``kedb check`` forever) is never read: it
is ignored with a note (logged; the CLI prints it) and replaced when the cache is written.

The file is authenticated with a key kept outside the repository (``$XDG_CACHE_HOME/kedb`` or
``~/.cache/kedb``): a cache file committed to a repository, or copied from another machine, does not
verify, so it cannot make ``kedb check`` in CI trust results it did not compute. Only verified bytes
are unmarshalled. ``KEDB_NO_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import hmac
import logging
import marshal
import os
import pickle
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from ... import __version__
from .. import memo
from ..resources import PACKAGE_DIR
from .files import NotRegularFile, file_stamp, read_regular

CACHE_DIR = ".kedb/cache"
_T = TypeVar("_T")
FILE_NAME = "records.bin"
ENV_OFF = "KEDB_NO_CACHE"
_MAGIC = b"kedb-record-cache 1\n"
_KEY_FILE = "cache.key"
_MAC_SIZE = 32

Entry = tuple[str, bytes]  # (sha256 of the file's bytes, what reading it produced, marshalled)

_log = logging.getLogger(__name__)
_noted: set[str] = set()  # the non-regular files already noted: one note per file and process


def enabled() -> bool:
    return os.environ.get(ENV_OFF, "").strip() in ("", "0")


@functools.cache
def source_digest() -> str:
    """SHA-256 over kedb's own source files: any change to kedb's code is a new context (computed once per process)."""
    h = hashlib.sha256()
    pkg = PACKAGE_DIR
    found = False
    for dirpath, dirnames, filenames in os.walk(pkg):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for fn in sorted(filenames):
            if fn.endswith(".py"):
                path = os.path.join(dirpath, fn)
                h.update(os.path.relpath(path, pkg).encode() + b"\0")
                with open(path, "rb") as fh:
                    h.update(fh.read())
                found = True
    if not found:  # pragma: no cover - kedb installed without its sources
        raise OSError("kedb's source files are not there to fingerprint")
    return h.hexdigest()


def _libyaml_version() -> str:
    try:
        from yaml import _yaml  # type: ignore[attr-defined]

        return str(_yaml.get_version_string())
    except Exception:  # pragma: no cover - PyYAML without libyaml
        return "none"


def context(settings: Any) -> str:
    """The context of a cache file: everything besides a file's path and bytes that its results depend on."""
    parts = (
        _MAGIC,
        __version__,
        source_digest(),
        sys.version,
        sys.implementation.cache_tag,
        marshal.version,
        yaml.__version__,
        _libyaml_version(),
        repr(settings),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _read_regular(path: Path, shown: str) -> bytes:
    """The bytes of ``path`` if it is a regular file (:func:`.files.read_regular`); OSError if it is
    missing, unreadable or not a regular file, which is noted once, naming it ``shown``."""
    try:
        return read_regular(path)
    except NotRegularFile:
        if str(path) not in _noted:
            _noted.add(str(path))
            _log.warning("ignored %s: not a regular file", shown)
        raise


def _key_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kedb" / _KEY_FILE


def _key() -> bytes:
    """This user's secret for authenticating cache files (made on first use)."""
    path = _key_path()
    try:
        key = _read_regular(path, str(path))
        if len(key) == 32:
            return key
    except OSError:
        pass
    key = os.urandom(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, key, mode=0o600)
    return key


def _mac(key: bytes, payload: bytes | memoryview) -> bytes:
    return hashlib.blake2b(payload, key=key, digest_size=_MAC_SIZE, person=b"kedb-cache").digest()


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to a new file next to ``path`` (unique to this process), then rename it over
    ``path``: readers see the old file or the new one, never part of one."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_SEALED = b"kedb-sealed 1\n"


def sealing_key() -> bytes:
    """This user's secret for cache files (:func:`seal`); OSError when it can be neither read nor made."""
    return _key()


def seal(key: bytes, payload: bytes) -> bytes:
    """``payload`` with a header and the keyed MAC that :func:`unseal` checks."""
    return _SEALED + _mac(key, payload) + payload


def unseal(key: bytes, blob: bytes) -> bytes | None:
    """The payload of ``blob`` when :func:`seal` made it with ``key``; None when damaged or foreign."""
    head = len(_SEALED) + _MAC_SIZE
    if len(blob) < head or not blob.startswith(_SEALED):
        return None
    payload = blob[head:]
    return payload if hmac.compare_digest(blob[len(_SEALED) : head], _mac(key, payload)) else None


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it (see :func:`_write_atomic`)."""
    _write_atomic(path, data)


def write_sealed(path: Path, payload: bytes) -> None:
    """Write ``payload`` under ``.kedb/cache/`` sealed with this user's key (see :func:`read_sealed`).
    OSError when it cannot be written; the caller treats a cache as optional."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        _write_atomic(ignore, b"# written by kedb: the cache is local to this machine\n*\n")
    _write_atomic(path, seal(_key(), payload))


def read_sealed(path: Path, shown: str) -> bytes | None:
    """The payload of a file :func:`write_sealed` wrote as this user, or None (missing, not a
    regular file, damaged, or written by anyone else: a cache file can change what kedb decides,
    so one it did not write itself is never believed)."""
    try:
        blob = _read_regular(path, shown)
        key = _key()
    except OSError:
        return None
    return unseal(key, blob)


def read_kept(path: Path, key: bytes, kind: type[_T], remember: bool = False) -> _T | None:
    """The ``kind`` of object :func:`write_kept` kept in ``path`` for ``key``, or None: the cache is off, the
    file is missing, damaged, written by anyone else (see :func:`read_sealed`), kept for another key, or
    holds something else.

    Only bytes sealed with this user's key are unpickled. The garbage collector is paused while they
    are: a history of 20,000 commits is hundreds of thousands of objects, and it halves the time.

    With ``remember`` (for objects nobody changes: the history, the approval report), the object is also kept in this
    process with the file's device, inode, size and times, and given again while the file is the same one, unchanged:
    ``mkdocs serve`` rebuilds in one process, and reading the two again took 0.8 s of each rebuild at 10,000 records."""
    if not enabled():
        return None
    stamp = _stamp(path) if remember else None
    held = _REMEMBERED.get(str(path)) if stamp is not None else None
    if held is not None and held[0] == stamp and held[1] == key and isinstance(held[2], kind):
        return held[2]
    payload = read_sealed(path, f"{CACHE_DIR}/{path.name}")
    if payload is None or not payload.startswith(key + b"\n"):
        return None
    paused = gc.isenabled()
    gc.disable()
    try:
        value = pickle.loads(payload[len(key) + 1 :])
    except Exception:  # a damaged entry: computed again
        return None
    finally:
        if paused:
            gc.enable()
    if not isinstance(value, kind):
        return None
    if stamp is not None:  # the stamp taken before the read: a file replaced meanwhile is read again next time
        _remember(path, stamp, key, value)
    return value


def write_kept(path: Path, key: bytes, value: Any, remember: bool = False) -> None:
    """Keep ``value`` in ``path`` for ``key`` (sealed, replacing what was there); with ``remember``, in this process
    too (see :func:`read_kept`). A cache that cannot be written only costs time: nothing is raised."""
    _REMEMBERED.pop(str(path), None)
    if enabled():
        with contextlib.suppress(OSError, ValueError, pickle.PicklingError):
            write_sealed(path, key + b"\n" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            stamp = _stamp(path) if remember else None
            if stamp is not None:
                _remember(path, stamp, key, value)


_REMEMBERED: dict[str, tuple[tuple[int, ...], bytes, Any]] = {}  # path -> (its stamp, key, object): see read_kept
_REMEMBER_AT_MOST = 8  # files: a test process reads many KBs one after another


def _remember(path: Path, stamp: tuple[int, ...], key: bytes, value: Any) -> None:
    memo.keep(_REMEMBERED, str(path), (stamp, key, value), _REMEMBER_AT_MOST)


def _stamp(path: Path) -> tuple[int, ...] | None:
    """The file :func:`read_sealed` reads at ``path`` (a link is followed, as the read follows it); None when there is
    none (:func:`kedb.core.load.files.file_stamp`)."""
    return file_stamp(path, follow_links=True)


class Store:
    """The cache of one KB for one context. ``entries``: path -> (sha256, result) from the last run."""

    def __init__(self, root: Path, context: str) -> None:
        self.dir = Path(root) / CACHE_DIR
        self.path = self.dir / FILE_NAME
        self.context = context
        self.entries: dict[str, Entry] = {}
        self._key: bytes | None = None

    @classmethod
    def open(cls, root: Path, settings: Any) -> Store | None:
        """The cache for ``root``, with what it holds for this context; None if caching is off or impossible."""
        if not enabled():
            return None
        try:
            store = cls(root, context(settings))
            store._key = _key()
        except OSError:
            return None
        store.entries = store._read()
        return store

    def _read(self) -> dict[str, Entry]:
        assert self._key is not None
        try:
            blob = _read_regular(self.path, f"{CACHE_DIR}/{FILE_NAME}")
        except OSError:
            return {}
        head = len(_MAGIC) + _MAC_SIZE
        if len(blob) < head or not blob.startswith(_MAGIC):
            return {}
        payload = memoryview(blob)[head:]
        if not hmac.compare_digest(blob[len(_MAGIC) : head], _mac(self._key, payload)):
            return {}  # not written by this user on this machine, or damaged
        try:
            ctx, entries = marshal.loads(payload)
        except Exception:  # pragma: no cover - verified bytes are ones we wrote
            return {}
        if ctx != self.context or not isinstance(entries, dict):
            return {}
        return entries

    def save(self, entries: Mapping[str, Entry]) -> None:
        """Replace the cache with ``entries``; failures only mean there is no cache next time."""
        assert self._key is not None
        try:
            payload = marshal.dumps((self.context, dict(entries)))
            self.dir.mkdir(parents=True, exist_ok=True)
            ignore = self.dir / ".gitignore"
            if not ignore.exists():  # the cache never ends up in a commit, .kedb/ ignored or not
                _write_atomic(ignore, b"# written by kedb: the cache is local to this machine\n*\n")
            _write_atomic(self.path, _MAGIC + _mac(self._key, payload) + payload)
        except (OSError, ValueError):
            pass
        self.entries = dict(entries)
