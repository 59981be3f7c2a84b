"""What an import understood of an export's header: the column behind each field, the columns it
did not read, and for each field it did not find, a column that looks like a misspelling of it.

Real exports misspell and repeat headers (ServiceNow's full incident log says ``ident_state`` for
``incident_state`` and has ``category`` twice). kedb still reads only the columns its mapping
names, but it says what it did: a near miss is named with the ``--map`` lines that would use it,
and a repeated column says which copy was read.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .mapping import Resolved

NEAR = 0.8  # difflib's similarity (2 × matching characters / both lengths) from which a column is a near miss
_COPY = re.compile(r"^(?P<base>.*) \((?P<n>\d+)\)$")  # the reader names a repeated column `Name (2)`


def _squeeze(name: str) -> str:
    """A name without case, spaces or punctuation: ``Incident State`` and ``incident_state`` are one name."""
    return re.sub(r"[^0-9a-z]+", "", name.lower())


def _yaml(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", text) else json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class Missing:
    """A field the mapping names that the header does not have."""

    field: str
    looked_for: tuple[str, ...]
    near: str | None = None  # a column the import did not read that looks like one of `looked_for`
    how: str = ""  # why it looks like it

    @property
    def map_line(self) -> str:
        """The ``--map`` file that reads ``near`` as this field (it extends the built-in mapping of --source)."""
        return f"fields: {{{self.field}: {_yaml(self.near or '')}}}"

    def text(self) -> str:
        looked = ", ".join(f"`{c}`" for c in self.looked_for) or "nothing"
        if self.near is None:
            return f"{self.field}: not found (looked for {looked})"
        return (
            f"{self.field}: not found (looked for {looked}); did you mean `{self.near}`? ({self.how}; "
            f"--map example: a file holding `{self.map_line}`, passed as --map FILE)"
        )


@dataclass(frozen=True)
class Header:
    """The header as the import understood it."""

    columns: tuple[str, ...]  # every column, as named (a repeated name gets ` (2)`)
    used: dict[str, tuple[str, ...]]  # field -> columns read
    unused: tuple[str, ...]  # columns no field reads
    missing: tuple[Missing, ...]  # fields the mapping names but the header lacks
    copies: dict[str, tuple[str, ...]]  # column -> its later copies under the same name (not read)

    def copies_of(self, column: str) -> tuple[str, ...]:
        return self.copies.get(column, ())


def _copies(header: Sequence[str]) -> dict[str, tuple[str, ...]]:
    by_name = {h.lower(): h for h in header}
    out: dict[str, list[str]] = {}
    for h in header:
        m = _COPY.match(h)
        if m and m.group("base").lower() in by_name:
            out.setdefault(by_name[m.group("base").lower()], []).append(h)
    return {k: tuple(v) for k, v in out.items()}


def _near(looked_for: Sequence[str], unused: Sequence[str], copies: dict[str, tuple[str, ...]]) -> tuple[str | None, str]:
    """The unused column that best looks like one of ``looked_for``, and why."""
    squeezed = {_squeeze(u): u for u in reversed(unused)}
    for want in looked_for:
        if _squeeze(want) in squeezed:
            return squeezed[_squeeze(want)], "the same name apart from case, spaces and punctuation"
    for want in looked_for:
        for col, extra in copies.items():
            if _squeeze(col) == _squeeze(want):
                return extra[0], f"a second column named `{col}`"
    best: tuple[float, str] | None = None
    for want in looked_for:
        for u in unused:
            ratio = difflib.SequenceMatcher(None, _squeeze(want), _squeeze(u)).ratio()
            if ratio >= NEAR and (best is None or ratio > best[0]):
                best = (ratio, u)
    if best is None:
        return None, ""
    return best[1], "a similar spelling"


def understand(res: Resolved, header: Sequence[str]) -> Header:
    """The header against the mapping: what was read, what was not, and near misses for what is missing."""
    read = {c for cols in res.columns.values() for c in cols}
    unused = tuple(h for h in header if h not in read)
    copies = _copies(header)
    missing = []
    for name in res.absent:
        looked = tuple(res.mapping.fields[name].columns)
        near, how = _near(looked, unused, copies)
        missing.append(Missing(name, looked, near, how))
    return Header(tuple(header), dict(res.columns), unused, tuple(missing), copies)
