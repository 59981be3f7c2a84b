"""Where each record of a CSV export starts in the file, found while the file is hashed.

The second pass of an event-log import needs the descriptive columns of each ticket's latest row
only: a fifth of the rows of a typical log. Parsing the whole file again for them cost a third of
the import. With the byte offset of every record, the import instead copies the latest rows into
small CSV files of their own (each row prefixed with its row number) and DuckDB parses only those
(:func:`write_rows`, used by :mod:`kedb.tickets.collapse`).

A record ends at a line feed outside quotes: one preceded by an even number of ``"`` in the file
(RFC 4180 quoting, where ``""`` inside a quoted field keeps the count even). This holds byte for
byte in UTF-8 and Latin-1, whose multi-byte characters never contain those two bytes; UTF-16 gets
no index. The index is only a way to find rows faster, never the truth about them: the caller
checks that it has exactly as many records as DuckDB read rows (a blank line or a lone carriage
return as a line break make it differ), and that every copied row has the key of the row it stands
for, and otherwise reads the export again as before.
"""

from __future__ import annotations

import bisect
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

BLOCK = 1 << 22  # bytes hashed and indexed at a time: 4 MiB
WINDOW = 1 << 23  # bytes of the export read at a time to copy rows: 8 MiB
_LF, _QUOTE = 10, 34


@dataclass(frozen=True)
class Scan:
    """The export's SHA-256 and, when asked for, where each record starts."""

    sha256: str
    starts: np.ndarray | None  # byte offset of each record (the `sep=` line and the header included), in file order


def scan(path: Path, index: bool) -> Scan:
    """Hash ``path`` and, with ``index``, find its records' starts (one read of the file; NumPy and hashlib release the
    GIL, so this runs in a thread beside DuckDB's first pass). Memory: 8 bytes per record, plus one block's worth."""
    h = hashlib.sha256()
    ends: list[np.ndarray] = []
    quotes = 0  # quotes before the current block: odd means the block starts inside a quoted field
    size = 0
    hits = np.empty(BLOCK, np.bool_)  # reused: a fresh 4 MiB array per block costs the kernel a page fault per page
    with open(path, "rb", buffering=0) as fh:
        while block := fh.read(BLOCK):
            h.update(block)
            if index:
                data = np.frombuffer(block, np.uint8)
                lf = np.flatnonzero(np.equal(data, _LF, out=hits[: len(data)]))
                q = np.flatnonzero(np.equal(data, _QUOTE, out=hits[: len(data)]))
                before = np.searchsorted(q, lf) + quotes  # quotes before each line feed
                ends.append(lf[(before & 1) == 0] + size)
                quotes += len(q)
            size += len(block)
    if not index:
        return Scan(h.hexdigest(), None)
    starts = np.concatenate([np.zeros(1, np.int64), *(e + 1 for e in ends)]).astype(np.int64)
    if starts[-1] == size and len(starts) > 1:  # the file ends with a line break: no record starts there
        starts = starts[:-1]
    return Scan(h.hexdigest(), np.append(starts, np.int64(size)))


def records(found: Scan) -> int:
    """How many records the index found (the `sep=` line and the header among them); -1 without an index."""
    return -1 if found.starts is None else len(found.starts) - 1


def read_records(path: Path, found: Scan, numbers: Iterable[int]) -> dict[int, bytes]:
    """The bytes of each record of ``numbers`` (0 for the file's first, the header or the `sep=` line), line break
    included: a few rows read where they are, for messages about them, rather than by parsing the file up to them."""
    assert found.starts is not None
    out: dict[int, bytes] = {}
    with open(path, "rb", buffering=0) as fh:
        for n in sorted(set(numbers)):
            a, b = int(found.starts[n]), int(found.starts[n + 1])
            out[n] = bytes(_read(fh.fileno(), bytearray(b - a), a))
    return out


def write_rows(source: Path, found: Scan, header_record: int, rows: Iterable[int], out: Path, delimiter: str, name: str) -> None:
    """Write to ``out`` the header (record ``header_record``) and the data rows ``rows`` (1 for the first row after
    the header, ascending), each as its bytes in ``source`` prefixed by its number and ``delimiter``: a first column
    called ``name``. ``out`` must not exist.

    The file is read a window at a time into one reused buffer, and each row is a view of it: a fresh buffer per
    window, or a copy per row, costs more than the parse this saves."""
    assert found.starts is not None
    starts = found.starts
    sep = delimiter.encode()
    wanted = np.asarray(rows, dtype=np.int64) + header_record
    first = starts[wanted].tolist()
    last = starts[wanted + 1].tolist()
    prefixes = [b"%d%b" % (n, sep) for n in (wanted - header_record).tolist()]
    buf = bytearray(WINDOW)
    # Created, never opened if it exists: a file or link left in its place is not written through.
    with open(source, "rb", buffering=0) as fh, open(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as dst:
        fd = fh.fileno()
        head = bytes(_read(fd, bytearray(int(starts[header_record + 1] - starts[header_record])), int(starts[header_record])))
        dst.write(name.encode() + sep + head.removeprefix(b"\xef\xbb\xbf"))
        i, n = 0, len(first)
        while i < n:
            a = first[i]
            j = max(bisect.bisect_right(last, a + WINDOW, i), i + 1)  # the rows that end within the window (at least one)
            b = last[j - 1]
            if b - a > len(buf):
                buf = bytearray(b - a)
            view = _read(fd, buf, a, b - a)
            parts: list[bytes | memoryview] = [b""] * (2 * (j - i))
            parts[0::2] = prefixes[i:j]
            parts[1::2] = [view[s - a : e - a] for s, e in zip(first[i:j], last[i:j], strict=True)]
            dst.write(b"".join(parts))
            del parts, view  # the buffer may be replaced by a larger one only once no view of it is left
            i = j


def _read(fd: int, buf: bytearray, offset: int, size: int | None = None) -> memoryview:
    """``size`` bytes (all of ``buf`` by default) of the file at ``offset``, read into ``buf``."""
    size = len(buf) if size is None else size
    view = memoryview(buf)[:size]
    got = 0
    while got < size:
        n = os.preadv(fd, [view[got:]], offset + got)
        if n <= 0:
            raise OSError(f"the export changed while it was read (it ended at byte {offset + got})")
        got += n
    return view
