"""Same commit, same bytes, for the Office formats.

DOCX, XLSX and PPTX are zip files. The libraries that write them stamp each member with the
wall-clock time, and openpyxl also writes "now" into ``docProps/core.xml``. :func:`normalise`
rewrites the package in place: members in a fixed order (``[Content_Types].xml`` first, as
Office writes it, then by name), each with the build date as its timestamp and the same
permissions, and the core-properties dates set to the build date.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

_CORE = "docProps/core.xml"
_DATES = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")
_PRINTED = re.compile(rb"<cp:lastPrinted>[^<]*</cp:lastPrinted>")


def zip_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    """A zip timestamp (local fields, no zone) from an aware datetime; zip cannot go before 1980."""
    utc = when.astimezone(UTC)
    if utc.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second - utc.second % 2)


def w3cdtf(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _order(name: str) -> tuple[int, str]:
    if name == "[Content_Types].xml":
        return (0, name)
    if name.startswith("_rels/"):
        return (1, name)
    return (2, name)


def normalise(path: Path, when: datetime) -> Path:
    """Rewrite the OOXML package at ``path`` so it depends only on its content and ``when``."""
    data = normalise_bytes(path.read_bytes(), when)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def normalise_bytes(package: bytes, when: datetime) -> bytes:
    """The same for a package in memory; embedded packages (a chart's workbook in a deck) are normalised too."""
    with zipfile.ZipFile(io.BytesIO(package)) as src:
        members = {info.filename: src.read(info) for info in src.infolist()}
    for name, blob in members.items():
        if name.endswith((".xlsx", ".docx", ".pptx")) and blob[:2] == b"PK":
            members[name] = normalise_bytes(blob, when)
    core = members.get(_CORE)
    if core is not None:
        stamp = w3cdtf(when).encode()
        core = _DATES.sub(lambda m: m.group(1) + stamp + m.group(3), core)
        members[_CORE] = _PRINTED.sub(b"", core)
    ts = zip_time(when)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in sorted(members, key=_order):
            info = zipfile.ZipInfo(name, date_time=ts)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0o600 << 16
            dst.writestr(info, members[name], compresslevel=6)
    return out.getvalue()
