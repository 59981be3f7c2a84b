"""What every rule module needs: a finding at a key of a file, and KE703 for repeated ids."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..core.findings import Finding
from ..core.kb import Source

KeyPath = tuple[str | int, ...]


def at(src: Source, path: KeyPath, code: str, msg: str) -> Finding:
    """A finding on the line of ``path`` in ``src`` (its first line when the key is absent)."""
    return Finding(src.path, src.line_of(*path), code, msg)


def repeated_ids(src: Source, entries: Iterable[tuple[KeyPath, str]], what: str) -> Iterator[Finding]:
    """KE703 at each repeated entry; ``entries`` are (path of the id, id)."""
    first: dict[str, KeyPath] = {}
    for path, ident in entries:
        if ident in first:
            yield at(src, path, "KE703", f"{what} '{ident}' is already defined on line {src.line_of(*first[ident])}")
        else:
            first[ident] = path
