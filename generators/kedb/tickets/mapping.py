"""Mappings: which export column feeds which ticket field, per source.

The built-in mappings are YAML files next to this module (``mappings/<source>.yml``) in the
same format as a ``--map`` file, so they double as examples. A ``--map`` file either stands
alone (``--source csv``) or adjusts a built-in one: its ``fields`` replace the built-in entry
of the same name, its ``statuses`` are added, and any other key it sets wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from ..core.errors import FindingsError, UsageError
from ..core.records import ShortText, Strict_
from ..core.sources import GENERIC, MAPPINGS_DIR, SOURCES, Source
from .fields import FIELDS, REQUIRED

FieldName = Literal[tuple(FIELDS)]  # type: ignore[valid-type]


def _spec(value: object) -> object:
    """A field is a column name, a list of alternative column names, or a mapping."""
    if isinstance(value, str):
        return {"columns": [value]}
    if isinstance(value, list):
        return {"columns": value}
    return value


class FieldSpec(Strict_):
    """Where one ticket field comes from."""

    columns: Annotated[list[ShortText], Field(min_length=1)] = Field(
        description="Column names (JSON: dotted paths), tried in order: the first one the export has is used. For `text`, every one present is read."
    )
    values: dict[str, str] = Field(
        default_factory=dict, description="Source value → value to use, compared case-insensitively (e.g. Zendesk `urgent` → `P1`)."
    )
    negate: bool = Field(default=False, description="For true/false fields: the column says the opposite (ServiceNow `made_sla`).")
    subtract: Annotated[int, Field(ge=0)] = Field(
        default=0, description="For counts: subtract this much, not below zero (Zendesk `Group stations` − 1 = reassignments)."
    )


class TicketMapping(Strict_):
    """A ticket mapping file (``kedb tickets import --map FILE``)."""

    format: Literal["auto", "csv", "json"] = Field(
        default="auto", description="`csv`, `json` (a list, `records` inside an object, or one object per line), or `auto` (by file name)."
    )
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] | None = Field(
        default=None, description="CSV field delimiter; detected from the header line when not given (`,` `;` tab `|`)."
    )
    encoding: Literal["utf-8", "utf-16", "latin-1"] = Field(
        default="utf-8", description="Text encoding of a CSV file (a UTF-8 or UTF-16 BOM is recognised)."
    )
    dates: Literal["iso", "day-first", "month-first"] = Field(
        default="iso",
        description="How to read dates that are not ISO 8601 (`31-01-2026 09:00` is day-first). ISO dates are always accepted.",
    )
    date_formats: list[ShortText] = Field(default_factory=list, description="Extra strptime formats, tried first (e.g. `%d.%m.%Y %H:%M`).")
    missing: list[str] = Field(
        default_factory=lambda: ["", "?", "NULL", "null", "N/A", "n/a", "-"], description="Cell values that mean “no value”."
    )
    true_values: list[str] = Field(
        default_factory=lambda: ["true", "yes", "y", "1", "t"], description="Values read as true (case-insensitive)."
    )
    false_values: list[str] = Field(
        default_factory=lambda: ["false", "no", "n", "0", "f"], description="Values read as false (case-insensitive)."
    )
    records: ShortText | None = Field(
        default=None, description="JSON only: dotted path to the list of tickets (e.g. `tickets`, `data.getTicketList.tickets`)."
    )
    fields: dict[FieldName, Annotated[FieldSpec, BeforeValidator(_spec)]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="Ticket field → column(s); see the field list."
    )
    statuses: dict[str, Literal["new", "open", "pending", "resolved", "closed", "cancelled"]] = Field(
        default_factory=dict, description="Status name (case-insensitive) → `new`, `open`, `pending`, `resolved`, `closed` or `cancelled`."
    )
    request_types: list[str] = Field(
        default_factory=list, description="`type` values that are service requests, not incidents (case-insensitive)."
    )
    extends: Source | None = Field(default=None, description="Start from this built-in mapping and change only what this file sets.")  # type: ignore[valid-type]


def _read(path: Path, rel: str) -> TicketMapping:
    from ..core.load.datafile import read_data_file

    res = read_data_file(path, rel, TicketMapping)
    if res.issues:
        raise FindingsError("\n".join(f"{rel}:{line}: {code} {msg}" for code, line, msg in res.issues))
    assert isinstance(res.model, TicketMapping)
    return res.model


def builtin(source: str) -> TicketMapping:
    if source not in SOURCES:
        raise UsageError(f"unknown source '{source}'; choose one of: {', '.join(SOURCES)}")
    return _read(MAPPINGS_DIR / f"{source}.yml", f"(built-in mapping) {source}.yml")


def merge(base: TicketMapping, over: TicketMapping) -> TicketMapping:
    data: dict[str, Any] = base.model_dump()
    for key in over.model_fields_set:
        value = getattr(over, key)
        if key == "fields":
            data["fields"] = {**base.fields, **value}
        elif key == "statuses":
            data["statuses"] = {**base.statuses, **value}
        else:
            data[key] = value.model_dump() if hasattr(value, "model_dump") else value
    data["extends"] = None
    return TicketMapping.model_validate(data)


def resolve(source: str, map_file: Path | None) -> TicketMapping:
    """The mapping for ``--source`` and an optional ``--map`` file."""
    if map_file is None:
        return builtin(source)
    if not map_file.is_file():
        raise UsageError(f"mapping file {map_file} does not exist")
    own = _read(map_file, str(map_file))
    base_name = own.extends or (source if source != GENERIC else None)
    mapping = merge(builtin(base_name), own) if base_name else own
    missing = [f for f in REQUIRED if f not in mapping.fields]
    if missing:
        raise FindingsError(f"{map_file}: the mapping has no column for {', '.join(missing)} (under `fields:`)")
    return mapping


@dataclass(frozen=True)
class Resolved:
    """A mapping applied to one export's header: the column actually used for each field."""

    mapping: TicketMapping
    columns: dict[str, tuple[str, ...]]  # field -> columns used (one, or several for `text`)
    absent: tuple[str, ...]  # fields the mapping names but the export does not have
    salt: str = ""  # for the one-way hashes of people's names in this store

    def has(self, field: str) -> bool:
        return field in self.columns


def apply(mapping: TicketMapping, header: Sequence[str], where: str, salt: str = "") -> Resolved:
    """Pick the column for each field from ``header``; a missing required column is an error."""
    lower = {h.lower(): h for h in reversed(header)}
    used: dict[str, tuple[str, ...]] = {}
    absent: list[str] = []
    for name, spec in mapping.fields.items():
        present = [lower[c.lower()] for c in spec.columns if c.lower() in lower]
        if not present:
            absent.append(name)
        elif name == "text":
            used[name] = tuple(dict.fromkeys(present))
        else:
            used[name] = (present[0],)
    for name in REQUIRED:
        if name not in used:
            cols = mapping.fields[name].columns if name in mapping.fields else []
            raise FindingsError(
                f"{where}: row 1: no column for the ticket {name} (looked for {', '.join(repr(c) for c in cols) or 'nothing'}); "
                f"the header has: {', '.join(header[:25])}{' …' if len(header) > 25 else ''}. Is --source right, or does it need --map?"
            )
    return Resolved(mapping, used, tuple(absent), salt)
