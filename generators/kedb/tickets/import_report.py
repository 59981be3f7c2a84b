"""What ``kedb tickets import`` says it understood, as text lines (the CLI prints them).

After every import: each field with the column it came from (and a repeated column's copies
that were not read), the columns not read, every field the export lacks with a near miss in
the header where there is one, and the figures the store cannot give, each with what it needs.
"""

from __future__ import annotations

import textwrap

from . import needs
from .importer import ImportResult

WIDTH = 110


def _wrap(text: str, indent: int = 2) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=" " * indent, subsequent_indent=" " * (indent + 2), break_on_hyphens=False)


def _fill(items: list[str], indent: int = 2, sep: str = ";", first: str = "") -> list[str]:
    """``first`` and ``items`` joined by ``sep`` into lines of at most WIDTH characters, never breaking inside an item
    (a column name may hold spaces)."""
    lines: list[str] = []
    line = first
    for item in items:
        if line and line != first and len(line) + 2 + len(item) > WIDTH - indent:
            lines.append(" " * indent + line + sep)
            line = item
        else:
            line = f"{line}{sep} {item}" if line and line != first else f"{line}{item}"
    if line:
        lines.append(" " * indent + line)
    return lines


def _figures(ids: list[str], names: dict[str, str]) -> str:
    return ", ".join(f"{i} ({names[i]})" if names.get(i, i) != i else i for i in ids)


def tenant_text(per: tuple[tuple[str, int], ...]) -> str:
    """``tickets per tenant of content/kedb.yml (kedb kpi --tenant): ACME 4,012, …; 12 name no tenant …``."""
    named = [f"{t} {n:,}" for t, n in per if t not in ("", "-")]
    text = "tickets per tenant of content/kedb.yml (kedb kpi --tenant): " + (", ".join(named) or "none")
    other = dict(per)
    if other.get(""):
        text += (
            f"; {other['']:,} name no tenant by its id or name (a --map file maps another spelling: "
            '`fields: {tenant: {columns: [...], values: {"Their name": TENANT_ID}}}`)'
        )
    if other.get("-"):
        text += f"; {other['-']:,} have no tenant value"
    return text


def report(r: ImportResult, store: str) -> list[str]:
    shape = "an event log, collapsed to each ticket's latest state" if r.event_log else "one row per ticket"
    out = [
        f"imported {r.tickets:,} tickets from {r.file} ({r.source}, {r.rows:,} rows: {shape})",
        f"opened {r.first} to {r.last}; store {store} holds {r.store_tickets:,} tickets",
        "fields read (field ← column):",
    ]
    h = r.header
    pairs = []
    for f, cols in r.columns.items():
        pair = f"{f} ← {' + '.join(cols)}"
        copies = [c for col in cols for c in h.copies_of(col)]
        if copies:
            pair += f" (the header repeats it: {', '.join(f'`{c}`' for c in copies)} not read)"
        pairs.append(pair)
    out += _fill(pairs)
    if r.tenants:
        out += _wrap(tenant_text(r.tenants), 0)
    if h.unused:
        out += _fill(list(h.unused), 0, ",", f"columns not read ({len(h.unused)}): ")
    if h.missing:
        out.append("not in this export:")
        for m in h.missing:
            out += _wrap(m.text())
    if r.lost:
        out.append("figures this store cannot give (n/a in every KPI snapshot and audit):")
        by_need: dict[str, list[str]] = {}
        for f in r.lost:
            by_need.setdefault(needs.needs_text(f), []).append(f)
        for need, ids in by_need.items():
            kind = " and ".join(dict.fromkeys(needs.NEEDS[i][0] for i in ids))
            configured = [i for i in ids if i in r.configured.kpis]
            mark = f"; {len(configured)} of them in content/kpis.yml" if configured and len(ids) > 1 else ""
            mark = "; a KPI of content/kpis.yml" if configured and len(ids) == 1 else mark
            out += _wrap(f"{_figures(ids, r.configured.names)} ({kind}{mark}): need{'s' * (len(ids) == 1)} {need}")
    weaker = [f"without {f}: {text}" for f, text in needs.WEAKER.items() if f in r.absent and (f != "updated_at" or r.event_log)]
    if weaker:
        out.append("less exact:")
        for w in weaker:
            out += _wrap(w)
    lost_kpis = [k for k in r.configured.kpis if k in r.lost and k not in needs.OPTIONAL]
    if lost_kpis:
        out += _wrap(
            f"kedb tickets import --strict would refuse this export: {len(lost_kpis)} KPI{'s' * (len(lost_kpis) != 1)} of "
            "content/kpis.yml cannot be computed from it",
            0,
        )
    return out
