"""Split a Markdown file into front-matter and body, and the body into ``## `` sections.

Only a ``---`` line closes the front-matter. A ``...`` line is YAML's document end, not a fence:
it stays in the YAML, where anything after it is reported (KE009), so that no field written after
it can fall silently into the body. A record shows its body only section by section, so text
before the first ``## `` heading is reported too (KE109, :func:`lead`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

_FENCE = re.compile(r"^(```|~~~)")
_H2 = re.compile(r"^##\s+(.+?)\s*#*\s*$")
_H2_M = re.compile(r"^##[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
_CLOSE = re.compile(r"^---[ ]*$", re.M)
_DOC_END = re.compile(r"^\.\.\.[ ]*$", re.M)


class Section(NamedTuple):
    title: str
    line: int  # line of the heading, 1-based in the file
    text: str  # the section's Markdown, without its heading, stripped


@dataclass(frozen=True, slots=True)
class Split:
    front: str  # YAML text between the fences
    front_line: int  # file line of the first YAML line
    body: str
    body_line: int  # file line of the first body line
    issue: tuple[str, int, str] | None = None
    body_start: int = 0  # offset of the body in the text


def decode(raw: bytes) -> tuple[str, tuple[str, int, str] | None]:
    """UTF-8 text with BOM removed and line endings normalised to ``\\n``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return "", ("KE001", line, f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; save the file as UTF-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, None


def split(text: str) -> Split:
    """Separate ``---`` fenced front-matter from the body. The text is already normalised."""
    if not (text.startswith("---\n") or text.rstrip(" ") == "---" or re.match(r"---[ ]*\n", text)):
        first = text.split("\n", 1)[0]
        hint = " (found a blank line first)" if not first.strip() else ""
        return Split("", 1, text, 1, ("KE002", 1, f"the file must start with a '---' line{hint}"))
    start = text.index("\n") + 1 if "\n" in text else len(text)
    close = _CLOSE.search(text, start)  # the first '---' line (trailing spaces allowed)
    if close is not None:
        pos, end = close.start(), close.end()
        body_start = end + 1 if end < len(text) else len(text)
        return Split(text[start:pos], 2, text[body_start:], 3 + text.count("\n", start, pos), None, body_start)
    # Line of the end of the text, counted the way an editor shows it (a final newline opens no line).
    line = 2 + text.count("\n", start) + (0 if text.endswith("\n") or start >= len(text) else 1)
    message = "the front-matter opened on line 1 is never closed with '---'"
    doc_end = _DOC_END.search(text, start)
    if doc_end is not None:
        at = 1 + text.count("\n", 0, doc_end.start())
        message += f" (the '...' on line {at} ends a YAML document, not the front-matter)"
    return Split(text[start:], 2, "", line, ("KE003", 1, message), len(text))


def sections(body: str, body_line: int) -> dict[str, Section]:
    """``## Heading`` sections of the body by lower-cased title (headings inside code fences are ignored)."""
    out: dict[str, Section] = {}
    if "```" not in body and "~~~" not in body:
        # Headings are found with str.find: a regex anchored at line starts (^ with re.M) is
        # tried at every character, which is most of the cost on a long body.
        starts = [0] if body.startswith("##") else []
        j = body.find("\n##")
        while j != -1:
            starts.append(j + 1)
            j = body.find("\n##", j + 3)
        heads = [h for i in starts if (h := _H2_M.match(body, i)) is not None]
        line, counted = body_line, 0
        for k, h in enumerate(heads):
            end = heads[k + 1].start() if k + 1 < len(heads) else len(body)
            title = h.group(1)
            line += body.count("\n", counted, h.start())
            counted = h.start()
            out.setdefault(title.lower(), Section(title, line, body[h.end() : end].strip()))
        return out
    current: tuple[str, int] | None = None
    buf: list[str] = []
    in_fence = False
    fence = ""

    def flush() -> None:
        if current is not None:
            title, ln = current
            out.setdefault(title.lower(), Section(title, ln, "\n".join(buf).strip()))

    for i, line in enumerate(body.split("\n")):
        m = _FENCE.match(line.lstrip())
        if m:
            if not in_fence:
                in_fence, fence = True, m.group(1)
            elif line.lstrip().startswith(fence):
                in_fence = False
        if not in_fence:
            h = _H2.match(line)
            if h:
                flush()
                current = (h.group(1), body_line + i)
                buf = []
                continue
        if current is not None:
            buf.append(line)
    flush()
    return out


def lead(body: str, body_line: int) -> int | None:
    """The file line where text starts before the body's first ``## `` heading, or None.

    A record is shown section by section (the site, the runbook, the registers), so such text
    would be in no output. Blank lines do not count; a code fence or a ``#`` heading does."""
    text = body.lstrip()
    if not text:
        return None
    start = body.rfind("\n", 0, len(body) - len(text)) + 1  # the start of its first line
    if _H2_M.match(body, start):
        return None
    return body_line + body.count("\n", 0, start)
