"""Strict YAML: one document, plain data, every key's line kept.

Built on libyaml's event stream (the fastest safe path in PyYAML: about half the time of
``yaml.load`` with ``CSafeLoader`` here) and a small builder that refuses what makes YAML
treacherous in a knowledge base edited by many hands:

* duplicate keys (YAML keeps one silently), explicit tags (``!!python/object``), anchors and
  aliases, merge keys (``<<``), a second document;
* YAML 1.1 implicit typing: only ``true``/``false`` and ``null``/``~``/empty are resolved;
  every other plain scalar stays the text that was written (``NO``, ``0755``, ``12:30``).
  The typed model converts text where it expects a number or a date, so the field decides.

Lines are 1-based and absolute in the file (``line_offset`` is added).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # libyaml is the fast path; the pure-Python parser gives the same events.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]



@dataclass(slots=True)
class Parsed:
    """The data, the line of every key/item (by path), and the problems found."""

    data: Any = None
    lines: dict[Path_, int] = field(default_factory=dict)
    issues: list[tuple[str, int, str]] = field(default_factory=list)  # (code, line, message)
    first_line: int = 1  # file line of the first line of the YAML text

    def line_of(self, path: Path_, default: int = 1) -> int:
        """Line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), default)


_SPECIAL: dict[str, Any] = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
}
_TAB_INDENT = re.compile(r"^[ ]*\t", re.M)

_EXPECT_KEY = object()  # the mapping waits for a key
_REJECTED = object()  # the key was refused: skip its value


class _Frame:
    __slots__ = ("attached", "container", "is_map", "key", "key_line", "path")

    def __init__(self, container: Any, path: Path_, attached: bool) -> None:
        self.container = container
        self.is_map = type(container) is dict
        self.path = path
        self.key: Any = _EXPECT_KEY
        self.key_line = 0
        self.attached = attached


def parse(text: str, line_offset: int = 0) -> Parsed:
    """Parse ``text`` strictly. Never raises for bad input: problems go to ``Parsed.issues``."""
    out = Parsed(first_line=1 + line_offset)
    issues = out.issues
    # Tabs in indentation give libyaml's cryptic "cannot start any token"; say it plainly.
    if "\t" in text:
        for m in _TAB_INDENT.finditer(text):
            issues.append(("KE011", text.count("\n", 0, m.start()) + 1 + line_offset, "tab used for indentation; indent with spaces"))
        if issues:
            return out

    stack: list[_Frame] = []
    top: _Frame | None = None
    documents = 0
    skip_depth = 0  # > 0 while inside a value that is being skipped
    have_root = False
    lines = out.lines
    off = 1 + line_offset
    Scalar, MapStart, SeqStart, Alias = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent, yaml.AliasEvent
    MapEnd, SeqEnd, DocStart = yaml.MappingEndEvent, yaml.SequenceEndEvent, yaml.DocumentStartEvent

    try:
        for ev in yaml.parse(text, Loader=_Loader):
            cls = ev.__class__
            if cls is MapEnd or cls is SeqEnd:
                if skip_depth:
                    skip_depth -= 1
                    continue
                stack.pop()
                top = stack[-1] if stack else None
                continue
            is_scalar = cls is Scalar
            if not (is_scalar or cls is MapStart or cls is SeqStart or cls is Alias):
                if cls is DocStart:
                    documents += 1
                    if documents > 1:
                        issues.append(("KE009", ev.start_mark.line + off, "a second YAML document starts here; a file holds one document"))
                        break
                continue
            is_start = not is_scalar and cls is not Alias
            if skip_depth:
                if is_start:
                    skip_depth += 1
                continue
            line = ev.start_mark.line + off
            if ev.anchor is not None:
                what = f"alias '*{ev.anchor}'" if cls is Alias else f"anchor '&{ev.anchor}'"
                issues.append(("KE007", line, f"{what} is not allowed; write the value out"))
            if cls is not Alias and ev.tag is not None:
                issues.append(("KE006", line, f"YAML tag '{ev.tag}' is not allowed; write a plain value"))
            if top is not None and top.is_map:
                key = top.key
                if key is _EXPECT_KEY:  # this node is a key
                    if is_scalar:
                        if ev.value == "<<" and not ev.style:
                            issues.append(("KE008", line, "merge key '<<' is not allowed; write the keys out"))
                            top.key = _REJECTED
                        else:
                            top.key, top.key_line = ev.value, line
                    else:
                        if is_start:
                            issues.append(("KE004", line, "a key must be plain text, not a list or mapping"))
                            skip_depth = 1
                        top.key = _REJECTED
                    continue
                top.key = _EXPECT_KEY
                if key is _REJECTED:
                    if is_start:
                        skip_depth = 1
                    continue
                path = (*top.path, key)
                attach = top.attached
                if key in top.container:
                    first = lines.get(path, top.key_line)
                    issues.append(("KE005", top.key_line, f"key '{key}' appears twice (first on line {first}); keep one"))
                    attach = False
                else:
                    lines[path] = top.key_line
            elif top is not None:
                path = (*top.path, len(top.container))
                lines[path] = line
                attach = top.attached
            else:
                if have_root:
                    continue
                have_root = True
                path = ()
                lines[()] = line
                attach = True
            if is_scalar:
                value: Any = _SPECIAL.get(ev.value, ev.value) if not ev.style and ev.value in _SPECIAL else ev.value
            elif cls is Alias:
                value = None
            elif cls is MapStart:
                value = {}
            else:
                value = []
            if top is None:
                out.data = value
            elif top.is_map:
                if attach:
                    top.container[key] = value
            else:
                top.container.append(value)
            if is_start:
                top = _Frame(value, path, attach)
                stack.append(top)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        eline = (mark.line + off) if mark is not None else off
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        msg = f"YAML cannot be read: {problem}" + (f" ({context})" if context else "")
        if "mapping values are not allowed" in str(problem):
            msg += "; a value containing ': ' must be quoted"
        issues.append(("KE004", eline, msg))
    return out
