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

from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # libyaml is the fast path; the pure-Python parser gives the same events.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path_ = tuple[str | int, ...]

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_TRUE = frozenset(("true", "True", "TRUE"))
_FALSE = frozenset(("false", "False", "FALSE"))


@dataclass(slots=True)
class Parsed:
    """The data, the line of every key/item (by path), and the problems found."""

    data: Any = None
    lines: dict[Path_, int] = field(default_factory=dict)
    issues: list[tuple[str, int, str]] = field(default_factory=list)  # (code, line, message)

    def line_of(self, path: Path_, default: int = 1) -> int:
        """Line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), default)


def _resolve(ev: yaml.ScalarEvent) -> Any:
    if not ev.style:  # plain scalar
        v = ev.value
        if v in _NULLS:
            return None
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    return ev.value


_EXPECT_KEY = object()  # the mapping waits for a key
_REJECTED = object()  # the key was refused: skip its value


class _Frame:
    __slots__ = ("attached", "container", "key", "key_line", "path")

    def __init__(self, container: Any, path: Path_, attached: bool) -> None:
        self.container = container
        self.path = path
        self.key: Any = _EXPECT_KEY
        self.key_line = 0
        self.attached = attached


def parse(text: str, line_offset: int = 0) -> Parsed:
    """Parse ``text`` strictly. Never raises for bad input: problems go to ``Parsed.issues``."""
    out = Parsed()
    issues = out.issues
    # Tabs in indentation give libyaml's cryptic "cannot start any token"; say it plainly.
    for i, raw in enumerate(text.split("\n")):
        stripped = raw.lstrip(" \t")
        if stripped and "\t" in raw[: len(raw) - len(stripped)]:
            issues.append(("KE011", i + 1 + line_offset, "tab used for indentation; indent with spaces"))
    if issues:
        return out

    stack: list[_Frame] = []
    documents = 0
    skip_depth = 0  # > 0 while inside a value that is being skipped
    have_root = False
    lines = out.lines

    try:
        for ev in yaml.parse(text, Loader=_Loader):
            cls = type(ev)
            if cls is yaml.ScalarEvent or cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent or cls is yaml.AliasEvent:
                line = ev.start_mark.line + 1 + line_offset
                is_start = cls is not yaml.ScalarEvent and cls is not yaml.AliasEvent
                if skip_depth:
                    if is_start:
                        skip_depth += 1
                    continue
                anchor = ev.anchor
                if cls is yaml.AliasEvent:
                    issues.append(("KE007", line, f"alias '*{anchor}' is not allowed; write the value out"))
                else:
                    if anchor is not None:
                        issues.append(("KE007", line, f"anchor '&{anchor}' is not allowed; write values out"))
                    if ev.tag is not None:
                        issues.append(("KE006", line, f"YAML tag '{ev.tag}' is not allowed; write a plain value"))
                frame = stack[-1] if stack else None
                if frame is not None and type(frame.container) is dict and frame.key is _EXPECT_KEY:
                    # this node is a key
                    if cls is yaml.ScalarEvent:
                        key = ev.value
                        if key == "<<" and not ev.style:
                            issues.append(("KE008", line, "merge key '<<' is not allowed; write the keys out"))
                            frame.key = _REJECTED
                        else:
                            frame.key, frame.key_line = key, line
                    else:
                        if is_start:
                            issues.append(("KE004", line, "a key must be plain text, not a list or mapping"))
                            skip_depth = 1
                        frame.key = _REJECTED
                    continue
                # this node is a value
                attach = True
                key: Any = None
                if frame is not None and type(frame.container) is dict:
                    key = frame.key
                    frame.key = _EXPECT_KEY
                    if key is _REJECTED:
                        if is_start:
                            skip_depth = 1
                        continue
                    if key in frame.container:
                        first = lines.get((*frame.path, key), frame.key_line)
                        issues.append(("KE005", frame.key_line, f"key '{key}' appears twice (first on line {first}); keep one"))
                        attach = False
                    else:
                        lines[(*frame.path, key)] = frame.key_line
                    path = (*frame.path, key)
                elif frame is not None:
                    path = (*frame.path, len(frame.container))
                    lines[path] = line
                else:
                    path = ()
                    if have_root:
                        continue
                    have_root = True
                    lines[()] = line
                attach = attach and (frame is None or frame.attached)
                if cls is yaml.ScalarEvent:
                    value: Any = _resolve(ev)
                elif cls is yaml.AliasEvent:
                    value = None
                elif cls is yaml.MappingStartEvent:
                    value = {}
                else:
                    value = []
                if attach:
                    if frame is None:
                        out.data = value
                    elif type(frame.container) is dict:
                        frame.container[key] = value
                    else:
                        frame.container.append(value)
                elif frame is not None and type(frame.container) is list:
                    frame.container.append(value)
                if is_start:
                    if cls is yaml.MappingStartEvent and path not in lines:
                        lines[path] = line
                    stack.append(_Frame(value, path, attach))
            elif cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
                if skip_depth:
                    skip_depth -= 1
                    continue
                stack.pop()
            elif cls is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    line = ev.start_mark.line + 1 + line_offset
                    issues.append(("KE009", line, "a second YAML document starts here; a file holds one document"))
                    break
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        eline = (mark.line + 1 + line_offset) if mark is not None else 1 + line_offset
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        msg = f"YAML cannot be read: {problem}" + (f" ({context})" if context else "")
        if "mapping values are not allowed" in str(problem):
            msg += "; a value containing ': ' must be quoted"
        issues.append(("KE004", eline, msg))
    return out
