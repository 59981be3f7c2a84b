"""Read an export's shape: CSV dialect and header, or JSON flattened to a CSV DuckDB can stream.

CSV files are read by DuckDB directly (see :mod:`kedb.tickets.importer`); this module only
looks at the first bytes to find the encoding (BOM), Excel's ``sep=`` line, the delimiter and
the header. JSON exports are flattened here (nested objects become dotted column names such as
``fields.status.name``) into a temporary CSV, so both go through one reader.

Row numbers in messages are those a spreadsheet shows: the header is row 1 (blank lines count);
for JSON, ``record N`` is the N-th ticket object.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import FindingsError
from .mapping import TicketMapping

DELIMITERS = (",", ";", "\t", "|")
_FIELD_MAX = 2**31 - 1  # the csv module's limit for a field while rows are located (its default is 128 KiB)
_PEEK = 1 << 20


@dataclass(frozen=True)
class Input:
    """What DuckDB reads and how; ``unit`` is ``row`` for CSV and ``record`` for JSON."""

    path: Path  # the file DuckDB reads: the export, or a temporary CSV made from JSON
    display: str  # the export's name in messages
    header: tuple[str, ...]
    delimiter: str
    encoding: str  # DuckDB's name: utf-8, utf-16, latin-1
    skip: int  # lines before the header (Excel's `sep=;` line)
    unit: str
    temporary: bool = False
    numbers: tuple[int, ...] = ()  # JSON lines: the file line of each record

    def place(self, row: int) -> str:
        return f"{self.display}: {self.unit} {row}"

    def ordinal_rows(self, ordinals: Iterable[int]) -> dict[int, int]:
        """Row number of the k-th data row DuckDB returned (only on the error path: a plain scan)."""
        wanted = sorted(set(ordinals))
        if not wanted:
            return {}
        if self.unit != "row":
            return {k: self.numbers[k - 1] if self.numbers else k for k in wanted}
        out: dict[int, int] = {}
        enc = {"utf-8": "utf-8-sig", "utf-16": "utf-16", "latin-1": "latin-1"}[self.encoding]
        with open(self.path, encoding=enc, newline="") as fh, any_field_size():
            for _ in range(self.skip):
                fh.readline()
            reader = csv.reader(fh, delimiter=self.delimiter, quotechar='"', doublequote=True, strict=False)
            row, k, i = self.skip, 0, 0
            for rec in reader:
                row += 1
                if row == self.skip + 1 or not rec:  # header, or a blank line
                    continue
                k += 1
                if k == wanted[i]:
                    out[k] = row
                    i += 1
                    if i == len(wanted):
                        break
        return out


@contextmanager
def any_field_size() -> Iterator[None]:
    """Let Python's csv module read fields of any length meanwhile: a ticket's description can be longer than its
    default limit of 128 KiB, and a row DuckDB read must not make a message about it fail."""
    old = csv.field_size_limit(_FIELD_MAX)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _encoding(head: bytes, declared: str) -> tuple[str, int]:
    """DuckDB encoding name and BOM length."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", 2
    return declared, 0


def _unique(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, int] = {}
    out: list[str] = []
    for i, raw in enumerate(names, 1):
        name = raw.strip().strip("\ufeff") or f"column_{i}"
        n = seen.get(name.lower(), 0) + 1
        seen[name.lower()] = n
        out.append(name if n == 1 else f"{name} ({n})")
    return tuple(out)


def _lines(text: str) -> io.StringIO:
    """The file's first bytes as lines for the csv module: CR, LF and CRLF all end a line (files that end their rows
    with CR alone exist, and DuckDB reads them)."""
    return io.StringIO(text, newline=None)


def open_csv(path: Path, mapping: TicketMapping) -> Input:
    with open(path, "rb") as fh:
        head = fh.read(_PEEK)
    if not head.strip():
        raise FindingsError(f"{path.name}: row 1: the file is empty (no header row)")
    encoding, bom = _encoding(head, mapping.encoding)
    pyenc = {"utf-8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1"}[encoding]
    try:
        text = (head if encoding == "utf-16" else head[bom:]).decode(pyenc, errors="strict" if len(head) < _PEEK else "ignore")
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        raise FindingsError(
            f"{path.name}: row {line}: the file is not {encoding} text (byte {exc.start + 1}); "
            "set `encoding: latin-1` (or utf-16) in a --map file"
        ) from None
    text = text.lstrip("\ufeff")
    skip = 0
    first = text.split("\n", 1)[0].strip("\r")
    delimiter = mapping.delimiter
    if first.lower().startswith("sep=") and len(first) == 5:
        delimiter, skip = delimiter or first[4], 1
        text = text.split("\n", 1)[1] if "\n" in text else ""
    try:
        if delimiter is None:
            best = (0, ",")
            for cand in DELIMITERS:
                row = next(csv.reader(_lines(text), delimiter=cand), [])
                if len(row) > best[0]:
                    best = (len(row), cand)
            delimiter = best[1]
        header = next(csv.reader(_lines(text), delimiter=delimiter), [])
    except csv.Error as exc:  # a header cell beyond the csv module's field size limit, say
        raise FindingsError(f"{path.name}: row {skip + 1}: the header row cannot be read ({exc})") from None
    if not [h for h in header if h.strip()]:
        raise FindingsError(f"{path.name}: row {skip + 1}: the header row is empty")
    return Input(path, path.name, _unique(header), delimiter, encoding, skip, "row")


# ---------------------------------------------------------------- JSON
def _flatten(obj: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(obj, dict):
        for key, value in obj.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(obj, list):
        if all(not isinstance(v, dict | list) for v in obj):
            out[prefix] = "; ".join(_scalar(v) for v in obj if v is not None)
        else:
            for i, value in enumerate(obj):
                _flatten(value, f"{prefix}.{i}", out)
    else:
        out[prefix] = _scalar(obj)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _records(path: Path, mapping: TicketMapping) -> tuple[list[Any], str, tuple[int, ...]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FindingsError(f"{path.name}: the file is not UTF-8 text (byte {exc.start + 1})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as whole:
        lines = [(i, ln) for i, ln in enumerate(text.splitlines(), 1) if ln.strip()]
        if len(lines) < 2:
            raise FindingsError(f"{path.name}: line {whole.lineno}: not JSON ({whole.msg})") from None
        out = []
        for i, ln in lines:  # one object per line (NDJSON), as Zendesk's JSON export writes
            try:
                out.append(json.loads(ln))
            except json.JSONDecodeError as exc:
                raise FindingsError(f"{path.name}: line {i}: not JSON ({exc.msg})") from None
        return out, "line", tuple(i for i, _ in lines)
    if isinstance(data, list):
        return data, "record", ()
    if isinstance(data, dict):
        paths = [mapping.records] if mapping.records else []
        paths += ["records", "result", "tickets", "issues", "data.getTicketList.tickets"]
        for dotted in paths:
            node: Any = data
            for part in dotted.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, list):
                return node, "record", ()
        raise FindingsError(f"{path.name}: no list of tickets found (looked for {', '.join(paths)}); set `records:` in a --map file")
    raise FindingsError(f"{path.name}: the JSON is neither a list of tickets nor an object holding one")


def _rows(records: list[Any], display: str, unit: str, numbers: tuple[int, ...]) -> Iterator[dict[str, str]]:
    for i, rec in enumerate(records, 1):
        if not isinstance(rec, dict):
            raise FindingsError(
                f"{display}: {unit} {numbers[i - 1] if numbers else i}: expected a ticket object, found {type(rec).__name__}"
            )
        flat: dict[str, str] = {}
        _flatten(rec, "", flat)
        yield flat


def open_json(path: Path, mapping: TicketMapping, tmp_dir: Path) -> Input:
    records, unit, numbers = _records(path, mapping)
    if not records:
        raise FindingsError(f"{path.name}: the export holds no tickets")
    rows = list(_rows(records, path.name, unit, numbers))
    header = list(dict.fromkeys(k for r in rows for k in r))
    tmp_dir.mkdir(parents=True, exist_ok=True)
    out = tmp_dir / f"{path.stem}.flat.csv"
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for r in rows:
            writer.writerow([r.get(h, "") for h in header])
    return Input(out, path.name, _unique(header), ",", "utf-8", 0, unit, temporary=True, numbers=numbers)


def open_export(path: Path, mapping: TicketMapping, tmp_dir: Path) -> Input:
    fmt = mapping.format
    if fmt == "auto":
        fmt = "json" if path.suffix.lower() in (".json", ".ndjson", ".jsonl") else "csv"
    return open_json(path, mapping, tmp_dir) if fmt == "json" else open_csv(path, mapping)
