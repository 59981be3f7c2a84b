"""The field and rule reference, as data, generated from the models and the rule registry.

One home for "what may a KB's files hold": the site's *Writing records* pages
(:mod:`kedb.site.writing`) show it, ``kedb schema`` writes it as JSON Schema, and a test checks
that every field has a description and every rule a summary, so nothing goes undocumented.
Text here keeps the models' own Markdown code spans (`` `value` ``); each output renders them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from .findings import RULES, Rule
from .program import PROGRAM_FILES, Playbook
from .records import KnownError, Problem, RecordBase, Workaround

RECORD_MODELS: tuple[type[RecordBase], ...] = (KnownError, Workaround, Problem)
_FILES = {
    "known-error": "known_errors/KE-NNNN-slug.md",
    "workaround": "known_errors/WA-NNNN-slug.md",
    "problem": "known_errors/PRB-NNNN-slug.md",
    "playbook": "content/playbooks/*.md",
}


def file_kinds() -> dict[str, type[BaseModel]]:
    """Schema name → model, for every kind of file a KB holds."""
    kinds: dict[str, type[BaseModel]] = {"known-error": KnownError, "workaround": Workaround, "problem": Problem, "playbook": Playbook}
    for name, model in PROGRAM_FILES.items():
        kinds[name.removesuffix(".yml")] = model
    return kinds


def file_of(kind: str) -> str:
    """Where a file of this kind lives in the KB (a pattern for records and playbooks)."""
    return _FILES.get(kind, f"content/{kind}.yml")


@dataclass(frozen=True)
class FieldRow:
    name: str
    type: str  # in words, with code spans: "one of `low`, `medium`, `high`"
    required: bool
    meaning: str


@dataclass(frozen=True)
class FieldTable:
    kind: str  # the file kind (a key of file_kinds())
    file: str  # where the file lives
    part: str | None  # a nested mapping's model name; None for the file's top level
    rows: tuple[FieldRow, ...]

    @property
    def anchor(self) -> str:
        return self.kind + (f"-{self.part.strip('_').lower()}" if self.part else "")

    @property
    def front_matter(self) -> bool:
        return self.file.endswith(".md")


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"mapping ({name.strip('_')})" if "enum" not in defs.get(name, {}) else "text"
    if "anyOf" in prop:
        parts = [_type(p, defs) for p in prop["anyOf"] if p.get("type") != "null"]
        return " or ".join(parts) + (" or null" if any(p.get("type") == "null" for p in prop["anyOf"]) else "")
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    t = prop.get("type")
    if t == "array":
        return "list of " + _type(prop.get("items", {}), defs)
    if t == "object":
        return "mapping"
    if t == "string" and prop.get("format") == "date":
        return "date"
    return {"string": "text", "integer": "integer", "number": "number", "boolean": "true/false"}.get(str(t), str(t))


def _rows(d: dict[str, Any], defs: dict[str, Any]) -> tuple[FieldRow, ...]:
    required = set(d.get("required", []))
    return tuple(
        FieldRow(name, _type(prop, defs), name in required, " ".join(str(prop.get("description", "")).split()))
        for name, prop in d.get("properties", {}).items()
    )


def field_tables() -> list[FieldTable]:
    """One table per file kind, then one per mapping nested in it (each mapping once, where it first appears)."""
    return list(_field_tables())


@functools.cache
def _field_tables() -> tuple[FieldTable, ...]:  # the models' schemas: the same all the process long (serve rebuilds)
    tables: list[FieldTable] = []
    seen: set[str] = set()
    for kind, model in file_kinds().items():
        schema = model.model_json_schema(by_alias=True)
        defs = schema.get("$defs", {})
        tables.append(FieldTable(kind, file_of(kind), None, _rows(schema, defs)))
        for name, d in sorted(defs.items()):
            if name not in seen and "properties" in d:
                seen.add(name)
                tables.append(FieldTable(kind, file_of(kind), name, _rows(d, defs)))
    return tuple(tables)


@dataclass(frozen=True)
class RecordKind:
    kind: str
    prefix: str
    file: str
    sections: tuple[str, ...]  # required body sections, in order
    statuses: tuple[str, ...]  # the lifecycle, in order


def record_kinds() -> list[RecordKind]:
    """The three record kinds: id prefix, file name, required sections and lifecycle."""
    return list(_record_kinds())


@functools.cache
def _record_kinds() -> tuple[RecordKind, ...]:
    out = []
    for model in RECORD_MODELS:
        status = model.model_json_schema()["properties"]["status"]
        out.append(RecordKind(model.kind, model.prefix, file_of(model.kind), model.sections, tuple(status["enum"])))
    return tuple(out)


# The rule families, by the first digit of the code.
RULE_FAMILIES: dict[str, str] = {
    "0": "Reading the file",
    "1": "Fields and sections",
    "2": "Ids, links and references",
    "3": "Lifecycle and completeness",
    "4": "Secrets and personal data",
    "5": "Content that could run or hide",
    "6": "Size limits",
    "7": "Program data",
    "8": "Changes and approvals (with --base or --approvals)",
    "9": "The site engine",
}


@dataclass(frozen=True)
class RuleFamily:
    digit: str
    title: str
    rules: tuple[Rule, ...]

    @property
    def anchor(self) -> str:
        return f"ke{self.digit}xx"


def rule_families() -> list[RuleFamily]:
    """Every rule, in code order, grouped by family."""
    ordered = sorted(RULES.values(), key=lambda r: r.code)
    return [
        RuleFamily(d, title, tuple(r for r in ordered if r.code[2] == d))
        for d, title in RULE_FAMILIES.items()
        if any(r.code[2] == d for r in ordered)
    ]
