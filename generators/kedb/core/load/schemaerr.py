"""Turn pydantic validation errors into findings a problem owner understands."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from .yamlstrict import Parsed

_PATTERNS = {
    r"^KE-\d{4,}$": "a known-error id like KE-0042",
    r"^WA-\d{4,}$": "a workaround id like WA-0011",
    r"^PRB-\d{4,}$": "a problem id like PRB-0007",
    r"^(KE|WA|PRB)-\d{4,}$": "a record id like KE-0042, WA-0011 or PRB-0007",
    r"^[a-z0-9][a-z0-9._-]*$": "lower-case letters, digits, '.', '_' or '-' (like 'm365-identity')",
    r"^[A-Za-z0-9][A-Za-z0-9_-]*$": "letters, digits, '_' or '-' (like 'ACME')",
    r"^[A-Za-z0-9][A-Za-z0-9_.#:-]*$": "a ticket id like INC0012345",
    r"^[a-z0-9][a-z0-9._-]*(:[a-z0-9][a-z0-9._-]*)*$": "lower-case parts separated by ':' (like 'm365-mail:outlook:0x8004010f')",
    r"^([a-z0-9][a-z0-9._-]*|\(none\))(:([a-z0-9][a-z0-9._-]*|\(none\)))*$": "a signature as `kedb candidates` shows it "
    "(like 'printing:scanner:(none):scan-to-email-fails')",
    r"^\d{4}-(0[1-9]|1[0-2])$": "a month like 2026-08",
    r"^C-\d{2,}$": "a control id like C-01",
    r"^R-\d{2,}$": "a risk id like R-01",
    r"^\d+(\.\d+)?[mhd]$": "a duration like 30m, 4h or 2d (minutes, hours, days)",
    r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$": "a time of day like 08:00",
}


def _field_names(model: type[BaseModel]) -> set[str]:
    names: set[str] = set()
    stack: list[type[BaseModel]] = [model]
    seen: set[type[BaseModel]] = set()
    while stack:
        m = stack.pop()
        if m in seen:
            continue
        seen.add(m)
        for name, info in m.model_fields.items():
            names.add(info.alias or name)
            for arg in _model_args(info.annotation):
                stack.append(arg)
    return names


def _model_args(tp: Any) -> Iterator[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        yield tp
        return
    for arg in getattr(tp, "__args__", ()) or ():
        yield from _model_args(arg)
    meta = getattr(tp, "__metadata__", None)
    if meta is not None:
        yield from _model_args(getattr(tp, "__origin__", None))


def _show(value: Any) -> str:
    if value is None:
        return "empty"
    if value is True or value is False:
        return "true/false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    text = str(value)
    return f"'{text[:60]}…'" if len(text) > 60 else f"'{text}'"


def _where(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p + 1}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "the front-matter"


def _data_loc(loc: tuple[Any, ...], data: Any) -> tuple[str | int, ...]:
    """The error location as a path into the data, without pydantic's internal parts
    (such as ``function-after[...]``); a last part that is not in the data (a missing field) stays."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if (isinstance(node, dict) and part in node) or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            node = node[part]
            out.append(part)
        elif i == len(loc) - 1:
            out.append(part)
    return tuple(out)


def findings(exc: ValidationError, parsed: Parsed, model: type[BaseModel]) -> list[tuple[str, int, str]]:
    """(code, line, message) for every error, with the line of the offending key or value."""
    out: list[tuple[str, int, str]] = []
    names: set[str] | None = None
    for err in exc.errors(include_url=False):
        loc = _data_loc(err["loc"], parsed.data)
        typ = err["type"]
        ctx = err.get("ctx") or {}
        value = err.get("input")
        field = _where(loc)
        line = parsed.line_of(loc)
        if typ == "missing":
            name = loc[-1] if loc else "?"
            code, msg = "KE101", f"required field '{name}' is missing" + (f" in '{_where(loc[:-1])}'" if len(loc) > 1 else "")
        elif typ == "extra_forbidden":
            names = names if names is not None else _field_names(model)
            close = difflib.get_close_matches(str(loc[-1]) if loc else "", sorted(names), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            code, msg = "KE102", f"unknown field '{field}'{hint}"
        elif typ in ("literal_error", "enum"):
            code, msg = "KE103", f"{_show(value)} is not allowed for '{field}'; allowed values: {ctx.get('expected', '')}"
        elif typ.startswith("date") or typ.startswith("datetime"):
            code, msg = "KE105", f"'{field}' is {_show(value)}, which is not a real date; write YYYY-MM-DD"
        elif typ == "string_pattern_mismatch":
            want = _PATTERNS.get(str(ctx.get("pattern")), f"the format {ctx.get('pattern')}")
            code, msg = "KE106", f"'{field}' is {_show(value)}; it must be {want}"
        elif typ in ("too_short", "string_too_short"):
            n = ctx.get("min_length")
            what = f"at least {n} entr{'y' if n == 1 else 'ies'}" if typ == "too_short" else f"at least {n} characters"
            code, msg = "KE106", f"'{field}' needs {what}"
        elif typ in ("too_long", "string_too_long"):
            n = ctx.get("max_length")
            what = f"at most {n} entries" if typ == "too_long" else f"at most {n} characters"
            code, msg = "KE106", f"'{field}' allows {what}"
        elif typ in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            bound = next(iter(ctx.values()), "")
            rel = {"greater_than_equal": "at least", "greater_than": "more than", "less_than_equal": "at most", "less_than": "less than"}[
                typ
            ]
            code, msg = "KE106", f"'{field}' is {_show(value)}; it must be {rel} {bound}"
        elif typ in ("bool_type", "bool_parsing"):
            code, msg = "KE104", f"'{field}' is {_show(value)}; write true or false"
        elif typ in ("int_parsing", "int_type", "float_parsing", "float_type", "int_from_float"):
            code, msg = "KE104", f"'{field}' is {_show(value)}; it must be a number"
        elif typ in ("list_type", "tuple_type", "set_type"):
            code, msg = "KE104", f"'{field}' is {_show(value)}; it must be a list (lines starting with '- ', or [a, b])"
        elif typ in ("dict_type", "model_type", "model_attributes_type"):
            code, msg = "KE104", f"'{field}' is {_show(value)}; it must be a mapping of 'key: value' lines"
        elif typ == "string_type":
            hint = " (quote it if you mean the text)" if value is True or value is False else ""
            code, msg = "KE104", f"'{field}' is {_show(value)}; it must be text{hint}"
        else:
            code, msg = "KE104", f"'{field}': {err['msg']}"
        out.append((code, line, msg))
    return out
