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

import bisect
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
    "": None,
    "~": None,
    "null": None,
    "Null": None,
    "NULL": None,
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
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
    """Parse ``text`` strictly. Never raises for bad input: problems go to ``Parsed.issues``.

    Plain front-matter takes a fast path (:func:`parse_simple`); anything it does not handle
    exactly as libyaml would goes through libyaml's event stream (:func:`parse_events`)."""
    simple = parse_simple(text, line_offset)
    return simple if simple is not None else parse_events(text, line_offset)


# ---------------------------------------------------------------- the fast path
# Front-matter is nearly always the same few shapes: ``key: value`` lines, nested mappings,
# ``- item`` lists (of values or of mappings), one-line ``[a, b]`` lists, quoted values and
# ``|``/``|-`` blocks. ``parse_simple`` reads exactly those, line by line, in about a third of
# the time of libyaml's event stream (whose cost is the Python objects it makes per event).
# It gives up (returns None) on anything else, and on anything libyaml would report, so every
# finding still comes from the event builder. tests/test_perf_equivalence.py holds it to the
# same data, the same lines and no issues on generated and real input.

_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,99}")
# A plain value may not start with these (YAML indicators; quotes, '[' and '|' are read apart).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")


class _GiveUp(Exception):
    """The text is outside the fast path's shapes: libyaml reads it instead."""


def parse_simple(text: str, line_offset: int = 0) -> Parsed | None:
    """Parse the common shapes of front-matter without libyaml, or return None.

    When it returns a result, that result is the one :func:`parse_events` gives (same data and
    types, same lines, in the same order) and it has no issues."""
    # Printable characters and newlines only: no tabs, CR, BOM, control or separator characters,
    # which YAML treats specially. A final newline, so '|' blocks end the way libyaml ends them.
    if not text.endswith("\n") or not text.replace("\n", "").isprintable():
        return None
    try:
        return _Simple(text.split("\n"), 1 + line_offset).document()
    except _GiveUp:
        return None


_keys_seen: set[str] = set()  # keys that matched _SIMPLE_KEY (the same few dozen in every file)


def _simple_key(key: str) -> bool:
    if key in _keys_seen:
        return True
    if _SIMPLE_KEY.fullmatch(key) is None:
        return False
    if len(_keys_seen) < 4096:
        _keys_seen.add(key)
    return True


class _Simple:
    """The lines that are not blank or comments (``at``: index in ``raw``; ``ind``: indent;
    ``cont``: text after the indent, without trailing spaces), read by position ``p``."""

    __slots__ = ("at", "cont", "ind", "lines", "n", "off", "raw")

    def __init__(self, raw: list[str], off: int) -> None:
        self.raw = raw
        self.off = off
        self.lines: dict[Path_, int] = {}
        at: list[int] = []
        ind: list[int] = []
        cont: list[str] = []
        for i, ln in enumerate(raw):
            s = ln.lstrip(" ")
            if s and s[0] != "#":
                at.append(i)
                ind.append(len(ln) - len(s))
                cont.append(s if s[-1] != " " else s.rstrip(" "))
        self.at, self.ind, self.cont, self.n = at, ind, cont, len(at)

    def document(self) -> Parsed:
        if not self.n or self.ind[0] != 0:
            raise _GiveUp
        self.lines[()] = self.at[0] + self.off
        data, p = self.mapping(0, 0, ())
        if p != self.n:
            raise _GiveUp
        return Parsed(data, self.lines, [], self.off)

    def mapping(self, p: int, indent: int, path: Path_) -> tuple[dict[str, Any], int]:
        at, ind, cont, n, lines, off = self.at, self.ind, self.cont, self.n, self.lines, self.off
        out: dict[str, Any] = {}
        while p < n:
            k = ind[p]
            if k < indent:
                break
            c = cont[p]
            colon = c.find(":")
            if k > indent or colon <= 0:
                raise _GiveUp
            key = c[:colon]
            if key in out or not _simple_key(key):
                raise _GiveUp
            kpath = (*path, key)
            line = lines[kpath] = at[p] + off
            if colon + 1 == len(c):  # a nested block, or an empty value
                p += 1
                if p < n and (ind[p] > indent or (ind[p] == indent and cont[p][:2] == "- ")):
                    if cont[p][:1] == "-":
                        out[key], p = self.sequence(p, ind[p], kpath)
                    else:
                        out[key], p = self.mapping(p, ind[p], kpath)
                else:
                    out[key] = None
                continue
            if c[colon + 1] != " ":
                raise _GiveUp
            rest = c[colon + 2 :].lstrip(" ")
            c0 = rest[0]
            if c0 not in _INDICATORS and rest[-1] != ":" and ": " not in rest and " #" not in rest:
                out[key] = _SPECIAL.get(rest, rest)
                p += 1
            elif c0 == "|":
                out[key], p = self.literal(p, indent, rest)
                continue
            else:
                out[key] = self.value(rest, kpath, line)
                p += 1
            if p < n and ind[p] > indent:  # a value continued on the next line
                raise _GiveUp
        return out, p

    def sequence(self, p: int, indent: int, path: Path_) -> tuple[list[Any], int]:
        at, ind, cont, n, lines, off = self.at, self.ind, self.cont, self.n, self.lines, self.off
        out: list[Any] = []
        while p < n:
            k = ind[p]
            if k < indent:
                break
            c = cont[p]
            if k > indent or c == "-":
                raise _GiveUp
            if c[:2] != "- ":
                break  # a key of the mapping this list sits in (at the same indent)
            ipath = (*path, len(out))
            line = lines[ipath] = at[p] + off
            rest = c[2:].lstrip(" ")
            if rest[0] in "-|>":
                raise _GiveUp
            colon = rest.find(":")
            if colon > 0 and (colon + 1 == len(rest) or rest[colon + 1] == " ") and _simple_key(rest[:colon]):
                col = indent + len(c) - len(rest)  # a mapping that starts on the item's line
                ind[p], cont[p] = col, rest
                item, p = self.mapping(p, col, ipath)
                out.append(item)
                continue
            out.append(self.value(rest, ipath, line))
            p += 1
            if p < n and ind[p] > indent:
                raise _GiveUp
        return out, p

    def literal(self, p: int, indent: int, header: str) -> tuple[str, int]:
        """A ``|`` (keep one final newline) or ``|-`` (no final newline) block under a key at ``indent``."""
        if header not in ("|", "|-"):
            raise _GiveUp
        raw = self.raw
        j = self.at[p] + 1
        first = raw[j] if j < len(raw) else ""
        body_indent = len(first) - len(first.lstrip(" "))
        if body_indent <= indent or body_indent == len(first):  # empty, or starts with a blank line
            raise _GiveUp
        parts: list[str] = []
        while j < len(raw):
            ln = raw[j]
            if not ln.strip(" "):
                if len(ln) > body_indent:
                    raise _GiveUp
                parts.append("")
            elif len(ln) - len(ln.lstrip(" ")) >= body_indent:
                parts.append(ln[body_indent:])
            else:
                break
            j += 1
        while parts and not parts[-1]:
            parts.pop()
        return "\n".join(parts) + ("\n" if header == "|" else ""), bisect.bisect_left(self.at, j)

    def value(self, s: str, path: Path_, line: int) -> Any:
        """A one-line value: a plain or quoted scalar, or a ``[a, b]`` list of them."""
        if s[0] != "[":
            return _scalar(s, False)
        if s[-1] != "]":
            raise _GiveUp
        inner = s[1:-1]
        if "[" in inner or "]" in inner or "{" in inner or "}" in inner or "#" in inner:
            raise _GiveUp
        items: list[Any] = []
        if not inner.strip(" "):
            return items
        lines = self.lines
        for part in inner.split(","):
            lines[(*path, len(items))] = line
            items.append(_scalar(part.strip(" "), True))
        return items


def _scalar(s: str, in_flow: bool) -> Any:
    if not s:
        raise _GiveUp
    c0 = s[0]
    if c0 == "'":
        inner = s[1:-1]
        if len(s) < 2 or s[-1] != "'" or "'" in inner.replace("''", ""):
            raise _GiveUp
        return inner.replace("''", "'")
    if c0 == '"':
        inner = s[1:-1]
        if len(s) < 2 or s[-1] != '"' or '"' in inner or "\\" in inner:
            raise _GiveUp
        return inner
    if c0 in _INDICATORS or s[-1] == ":" or ": " in s or " #" in s or (in_flow and ":" in s):
        raise _GiveUp
    return _SPECIAL.get(s, s)


# ---------------------------------------------------------------- libyaml's event stream
def parse_events(text: str, line_offset: int = 0) -> Parsed:
    """Parse ``text`` strictly from libyaml's events: every input, every finding."""
    out = Parsed(first_line=1 + line_offset)
    # Tabs in indentation give libyaml's cryptic "cannot start any token"; say it plainly.
    if "\t" in text:
        for m in _TAB_INDENT.finditer(text):
            out.issues.append(("KE011", text.count("\n", 0, m.start()) + 1 + line_offset, "tab used for indentation; indent with spaces"))
        if out.issues:
            return out
    builder = _EventBuilder(out, 1 + line_offset)
    try:
        for ev in yaml.parse(text, Loader=_Loader):
            if builder.feed(ev):
                break
    except yaml.YAMLError as exc:
        out.issues.append(_yaml_error(exc, 1 + line_offset, builder.ended))
    return out


def _yaml_error(exc: yaml.YAMLError, off: int, ended: int | None = None) -> tuple[str, int, str]:
    """libyaml's complaint as a KE004 finding on its line, with a hint for the common case.

    Text after a ``...`` line (``ended``: its line) is a second document that libyaml refuses for
    want of its ``---``: that is KE009, said plainly."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    eline = (mark.line + off) if mark is not None else off
    problem = getattr(exc, "problem", None) or str(exc)
    if ended is not None and "<document start>" in str(problem):
        return ("KE009", eline, f"text after the '...' on line {ended} is not read: '...' ends the YAML document; remove that line")
    context = getattr(exc, "context", None)
    msg = f"YAML cannot be read: {problem}" + (f" ({context})" if context else "")
    if "mapping values are not allowed" in str(problem):
        msg += "; a value containing ': ' must be quoted"
    return ("KE004", eline, msg)


_Scalar, _MapStart, _SeqStart, _Alias = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent, yaml.AliasEvent
_MapEnd, _SeqEnd, _DocStart = yaml.MappingEndEvent, yaml.SequenceEndEvent, yaml.DocumentStartEvent
_DocEnd = yaml.DocumentEndEvent


class _EventBuilder:
    """Builds the data of one document from libyaml's events, noting every key's line and
    refusing what strict YAML refuses (anchors, tags, merge keys, complex keys, repeated keys,
    a second document). A refused node is skipped with everything inside it."""

    def __init__(self, out: Parsed, off: int) -> None:
        self.out = out
        self.off = off  # line number of the text's first line
        self.stack: list[_Frame] = []
        self.top: _Frame | None = None
        self.documents = 0
        self.skip_depth = 0  # > 0 while inside a value that is being skipped
        self.have_root = False
        self.ended: int | None = None  # line of an explicit document end ('...')

    def feed(self, ev: Any) -> bool:
        """Take one event; True when reading must stop."""
        cls = ev.__class__
        if cls is _MapEnd or cls is _SeqEnd:
            if self.skip_depth:
                self.skip_depth -= 1
            else:
                self.stack.pop()
                self.top = self.stack[-1] if self.stack else None
            return False
        is_scalar = cls is _Scalar
        if not (is_scalar or cls is _MapStart or cls is _SeqStart or cls is _Alias):
            if cls is _DocStart:
                self.documents += 1
                if self.documents > 1:
                    self.out.issues.append(
                        ("KE009", ev.start_mark.line + self.off, "a second YAML document starts here; a file holds one document")
                    )
                    return True
            elif cls is _DocEnd and ev.explicit:
                self.ended = ev.start_mark.line + self.off
            return False
        is_start = not is_scalar and cls is not _Alias
        if self.skip_depth:
            if is_start:
                self.skip_depth += 1
            return False
        line = ev.start_mark.line + self.off
        if ev.anchor is not None:
            what = f"alias '*{ev.anchor}'" if cls is _Alias else f"anchor '&{ev.anchor}'"
            self.out.issues.append(("KE007", line, f"{what} is not allowed; write the value out"))
        if cls is not _Alias and ev.tag is not None:
            self.out.issues.append(("KE006", line, f"YAML tag '{ev.tag}' is not allowed; write a plain value"))
        top = self.top
        key: Any = None
        if top is not None and top.is_map:
            if top.key is _EXPECT_KEY:
                self._key(ev, top, line, is_scalar, is_start)
                return False
            key = top.key
            placed = self._map_entry(top, is_start)
            if placed is None:
                return False
            path, attach = placed
        elif top is not None:
            path = (*top.path, len(top.container))
            self.out.lines[path] = line
            attach = top.attached
        else:
            if self.have_root:
                return False
            self.have_root = True
            path = ()
            self.out.lines[()] = line
            attach = True
        self._add(ev, cls, is_start, path, attach, key)
        return False

    def _key(self, ev: Any, top: _Frame, line: int, is_scalar: bool, is_start: bool) -> None:
        """This node is a mapping key: plain text only, and never ``<<``."""
        if is_scalar:
            if ev.value == "<<" and not ev.style:
                self.out.issues.append(("KE008", line, "merge key '<<' is not allowed; write the keys out"))
                top.key = _REJECTED
            else:
                top.key, top.key_line = ev.value, line
            return
        if is_start:
            self.out.issues.append(("KE004", line, "a key must be plain text, not a list or mapping"))
            self.skip_depth = 1
        top.key = _REJECTED

    def _map_entry(self, top: _Frame, is_start: bool) -> tuple[Path_, bool] | None:
        """The path of a mapping value and whether it is kept (None: its key was refused)."""
        key = top.key
        top.key = _EXPECT_KEY
        if key is _REJECTED:
            if is_start:
                self.skip_depth = 1
            return None
        path = (*top.path, key)
        attach = top.attached
        lines = self.out.lines
        if key in top.container:
            first = lines.get(path, top.key_line)
            self.out.issues.append(("KE005", top.key_line, f"key '{key}' appears twice (first on line {first}); keep one"))
            attach = False
        else:
            lines[path] = top.key_line
        return path, attach

    def _add(self, ev: Any, cls: type, is_start: bool, path: Path_, attach: bool, key: Any) -> None:
        """Put the node's value in its parent and, for a collection, open it."""
        if cls is _Scalar:
            value: Any = _SPECIAL.get(ev.value, ev.value) if not ev.style and ev.value in _SPECIAL else ev.value
        elif cls is _Alias:
            value = None
        elif cls is _MapStart:
            value = {}
        else:
            value = []
        top = self.top
        if top is None:
            self.out.data = value
        elif top.is_map:
            if attach:
                top.container[key] = value
        else:
            top.container.append(value)
        if is_start:
            self.top = _Frame(value, path, attach)
            self.stack.append(self.top)
