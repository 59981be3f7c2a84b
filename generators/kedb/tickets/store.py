"""The local ticket store: ``.kedb/tickets.duckdb`` (git-ignored), one DuckDB file.

DuckDB because exports are large and columnar work is what the KPIs need: it streams a CSV
of millions of rows with bounded memory (spilling to ``.kedb/tmp``), reads every
dialect kedb meets, records unreadable rows with their row numbers, and runs the window
queries behind repeats and recurrence in one pass. The store is rebuilt in a temporary file
and moved into place, so a failed or interrupted import leaves the previous store untouched,
and one import at a time holds ``.kedb/import.lock`` (:func:`import_lock`).

Tables (schema version 3):

* ``tickets`` — one row per ticket, its latest state: id, timestamps (``done_at``: resolved;
  in an event log without ``resolved_at``, when the log shows it entering resolved or closed;
  else closed), counts, SLA flag, priority, customer, the tenant (normalised), hashed caller,
  problem id, knowledge flag, satisfaction rating and the normalised signature parts
  (``service_n`` … ``ci_n``, ``codes``). No subject, description or raw category text is stored.
* ``events`` — one row per export row (per update in an event log): ticket id, ``step``
  (1, 2, … in time order), ``ts``, ``status`` and its ``class``, ``assignment_group``,
  hashed ``updated_by_key`` and ``export_row`` (1 = the export's first ticket row). Time in
  each status is ``lead(ts) OVER (PARTITION BY id ORDER BY step) - ts``.
* ``imports`` — one row per import: source, file name, SHA-256, rows, tickets, which
  column fed which field.
* ``meta`` — ``schema_version`` and the salt of the one-way person hashes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..core.errors import EnvironmentProblem
from ..core.snapshots import SnapshotSource
from .sqlexpr import lit

STORE_DIR = ".kedb"
STORE_NAME = "tickets.duckdb"
LOCK_NAME = "import.lock"
SCHEMA_VERSION = "3"


def default_memory_limit(ram: int | None) -> str:
    """DuckDB's memory limit for a machine with ``ram`` bytes of memory (None: unknown): a quarter of it, at least
    500 MB and at most 1.5 GB. Above the limit DuckDB spills to ``.kedb/tmp/``.

    At 1 GB, the import of the 4.5-million-row event log (``benchmarks/README.md``) spilled while it sorted the rows
    per ticket beside its first pass's table (that statement took 4.9 s instead of 4.1) and was 0.4-1.9 s slower in
    each of seven alternating pairs; at 1.5 GB its peak is 1.40-1.46 GB, as with a limit of 2 GB. On a small machine
    (a 2 GB CI runner) a quarter of its memory leaves room for everything else, and the import spills instead."""
    if not ram or ram <= 0:
        return "1500MB"
    return f"{min(1500, max(500, ram // 4 // 1_000_000))}MB"


def _ram() -> int | None:
    """The machine's memory in bytes, or its control group's limit when lower (a container's); None if unknown."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system, or it does not say
        return None
    try:
        cap = Path("/sys/fs/cgroup/memory.max").read_text(encoding="ascii").strip()  # cgroup v2; "max" when unlimited
    except (OSError, ValueError):
        return ram
    return min(ram, int(cap)) if cap.isdigit() else ram


MEMORY_LIMIT = os.environ.get("KEDB_DUCKDB_MEMORY") or default_memory_limit(_ram())


def store_path(root: Path) -> Path:
    return Path(root) / STORE_DIR / STORE_NAME


def connect(path: Path, *, read_only: bool = False) -> Any:
    """A DuckDB connection with kedb's settings: UTC, bounded memory, spill folder in .kedb/tmp."""
    import duckdb  # imported here so commands that do not touch tickets start fast

    con = duckdb.connect(str(path), read_only=read_only)
    tmp = path.parent / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = {lit(MEMORY_LIMIT)}")
    con.execute(f"SET temp_directory = {lit(tmp.as_posix())}")
    con.execute("SET enable_progress_bar_print = false")  # progress is the CLI's to show (kedb.tickets.progress)
    return con


@contextmanager
def import_lock(root: Path) -> Iterator[None]:
    """Hold ``.kedb/import.lock`` while an import runs; a second import meanwhile fails at once.

    Two imports at once both build the same temporary store and the last to finish wins, so
    the first would report what the store no longer holds. ``flock`` is released by the system
    when its process ends, however it ends, so a killed import leaves no stale lock. The file
    says who holds it (pid and start time) and is left in place: deleting it would let a third
    import lock a new file while the second still holds the old one."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock (Windows): imports are not serialised there
        yield
        return
    path = Path(root) / STORE_DIR / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EnvironmentProblem(f"another import is running ({_holder(fd)}); wait for it, or remove {path} if it died") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {datetime.now().isoformat(timespec='seconds')}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    """`pid N since HH:MM` from a lock file (its holder may not have written it yet)."""
    try:
        pid, started = os.pread(fd, 200, 0).decode().split()
        since = datetime.fromisoformat(started)
    except (OSError, ValueError):
        return "its process has not said which yet"
    when = since.strftime("%H:%M" if since.date() == date.today() else "%Y-%m-%d %H:%M")
    return f"pid {pid} since {when}"


@dataclass(frozen=True)
class StoreInfo:
    """What the store holds, for messages and the snapshot's ``source``."""

    path: Path
    system: str
    tickets: int
    first: date | None
    last: date | None
    export_sha256: str
    files: tuple[str, ...]
    columns: dict[str, list[str]]
    event_log: bool

    def snapshot_source(self) -> SnapshotSource:
        """Where stored aggregates (KPI snapshots, audits) say their tickets came from."""
        return SnapshotSource(
            system=self.system,  # type: ignore[arg-type]
            tickets=self.tickets,
            first=self.first,
            last=self.last,
            export_sha256=self.export_sha256,
        )


@contextmanager
def open_store(root: Path) -> Iterator[tuple[Any, StoreInfo]]:
    """Open the store read-only; a missing or outdated store is an environment problem (exit 2)."""
    path = store_path(root)
    if not path.is_file():
        raise EnvironmentProblem(f"no imported tickets in {path.parent}: run `kedb tickets import FILE --source …` first")
    con = connect(path, read_only=True)
    try:
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if not version or version[0] != SCHEMA_VERSION:
            raise EnvironmentProblem(f"{path} was written by another kedb version: import the export again")
        yield con, info(con, path)
    finally:
        con.close()


def info(con: Any, path: Path) -> StoreInfo:
    rows = con.execute("SELECT source, file, sha256, columns, event_log FROM imports ORDER BY no").fetchall()
    n, first, last = con.execute("SELECT count(*), min(opened_at)::DATE, max(opened_at)::DATE FROM tickets").fetchone()
    shas = [r[2] for r in rows]
    if len(shas) == 1:
        digest = shas[0]
    else:  # several imports: a hash of their hashes, in import order
        import hashlib

        digest = hashlib.sha256("\n".join(shas).encode()).hexdigest()
    return StoreInfo(
        path=path,
        system=rows[-1][0],
        tickets=n,
        first=first,
        last=last,
        export_sha256=digest,
        files=tuple(r[1] for r in rows),
        columns=json.loads(rows[-1][3]),
        event_log=any(r[4] for r in rows),
    )
