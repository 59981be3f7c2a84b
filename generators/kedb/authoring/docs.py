"""The field and rule reference, generated from the models and the rule registry.

The README embeds both between marker lines; ``kedb reference README.md`` refreshes
them and a test fails when the README is out of date, so no field or rule goes undocumented.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..core.errors import UsageError
from ..core.findings import rule_table_markdown
from .schema import file_kinds

BEGIN_FIELDS, END_FIELDS = (
    "<!-- BEGIN FIELD REFERENCE (generated: kedb reference README.md) -->",
    "<!-- END FIELD REFERENCE -->",
)
BEGIN_RULES, END_RULES = "<!-- BEGIN RULE REFERENCE (generated: kedb reference README.md) -->", "<!-- END RULE REFERENCE -->"

_FILES = {
    "known-error": "`known_errors/KE-NNNN-slug.md` front-matter",
    "workaround": "`known_errors/WA-NNNN-slug.md` front-matter",
    "problem": "`known_errors/PRB-NNNN-slug.md` front-matter",
    "playbook": "`content/playbooks/*.md` front-matter",
}


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"mapping ({name})" if "enum" not in defs.get(name, {}) else "text"
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


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(heading: str, d: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    out = [f"#### {heading}", "", "| Field | Type | Required | Meaning |", "|---|---|---|---|"]
    required = set(d.get("required", []))
    for name, prop in d.get("properties", {}).items():
        typ, desc = _cell(_type(prop, defs)), _cell(str(prop.get("description", "")))
        out.append(f"| `{name}` | {typ} | {'yes' if name in required else 'no'} | {desc} |")
    out.append("")
    return out


def _model_section(title: str, model: type[BaseModel], seen: set[str]) -> list[str]:
    schema = model.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    out = _table(title, schema, defs)
    for dname, d in sorted(defs.items()):
        if dname not in seen and "properties" in d:
            seen.add(dname)
            out += _table(f"{title}: `{dname}`", d, defs)
    return out


def field_reference() -> str:
    lines: list[str] = []
    seen: set[str] = set()
    for name, model in file_kinds().items():
        where = _FILES.get(name, f"`content/{name}.yml`")
        lines += _model_section(f"{where}", model, seen)
    return "\n".join(lines).rstrip() + "\n"


def _replace(text: str, begin: str, end: str, body: str) -> str:
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    block = f"{begin}\n\n{body.rstrip()}\n\n{end}"
    if not pattern.search(text):
        raise UsageError(f"the marker line {begin!r} is not in the file: copy both marker lines from kedb's README")
    return pattern.sub(lambda _: block, text)


def refresh(readme: str) -> str:
    readme = _replace(readme, BEGIN_FIELDS, END_FIELDS, field_reference())
    return _replace(readme, BEGIN_RULES, END_RULES, rule_table_markdown())


def refresh_file(path: Path) -> bool:
    """Rewrite the reference in ``path``; False when it was already up to date."""
    text = path.read_text(encoding="utf-8")
    new = refresh(text)
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True
