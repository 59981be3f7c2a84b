"""Text scans over a whole file: secrets, personal data, unsafe Markdown, control characters, size.

Each scan first runs one regular expression over the whole text (the common case is no match)
and only then works out line numbers, so a 10,000-record KB is scanned in a fraction of a second.
"""

from __future__ import annotations

import bisect
import fnmatch
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Issue = tuple[str, int, str]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

_KEY = re.compile(r"[ ]*(?:- )?([A-Za-z_][A-Za-z0-9_-]*):")
# (pattern, what it is, prefilter). The prefilter is a necessary condition for a match that is far
# cheaper than the pattern: a one-character test (memchr), a substring or a literal-led regex over
# the lower-cased text. Python's re cannot skip ahead on \b or (?i), and a substring search for a
# short lower-case word costs as much as a one-character test over a hundred texts (a needle of
# rare characters, such as upper-case ones, lets the search skip ahead), so the tests are chosen by
# what they cost (``low``: the lower-cased text).
_Prefilter = Callable[[str, str], bool]
_GH = re.compile(r"gh[posu]_|github_pat_")
_SECRET_PATTERNS: list[tuple[re.Pattern[str], str, _Prefilter]] = [
    (re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"), "a private key", lambda text, low: "PRIVATE KEY" in text),
    (
        re.compile(r"\b(?:ghp|gho|ghs|ghu)_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{30,}"),
        "a GitHub token",
        lambda text, low: _GH.search(low) is not None,
    ),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "a GitLab token", lambda text, low: "glpat-" in low),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), "a Slack token", lambda text, low: "xox" in low),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key", lambda text, low: "AKIA" in text or "ASIA" in text),
    (
        re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
        "a JSON web token",
        lambda text, low: "eyJ" in text,
    ),
    (re.compile(r"\bsk-[A-Za-z0-9]{20,}"), "an API secret key", lambda text, low: "sk-" in low),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{20,}=*"), "a bearer token", lambda text, low: "bearer" in low),
    (
        re.compile(r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)=[^;\s]{8,}"),
        "a storage or bus key",
        lambda text, low: "=" in text and ("accountkey=" in low or "sharedaccess" in low),
    ),
    (
        re.compile(r"(?i)(?:server|data source|host)=[^;\n]+;[^\n]*?\b(?:password|pwd)=[^;\s]+"),
        "a connection string with a password",
        lambda text, low: "=" in text and ("pwd=" in low or "password=" in low),
    ),
    (
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@`'\"]+:[^/\s@`'\"]+@"),
        "a URL with a user name and password",
        lambda text, low: "@" in text and "://" in text,
    ),
    (re.compile(r"(?i)\bcurl\b[^\n]*?\s(?:-u|--user)(?:\s+|=)\S+"), "`curl -u` with credentials", lambda text, low: "curl" in low),
]
_ASSIGN_WORDS = (
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "api_key",
    "api-key",
    "apikey",
    "access_key",
    "access-key",
    "accesskey",
    "token",
    "pin",
)
# The words by a common start, so one search finds several (none of these starts overlaps itself).
_ASSIGN_BY_START: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (start, tuple(w for w in _ASSIGN_WORDS if w.startswith(start))) for start in ("pass", "pwd", "secret", "api", "access", "token", "pin")
)
assert sorted(w for _, ws in _ASSIGN_BY_START for w in ws) == sorted(_ASSIGN_WORDS)
# `password: hunter2`, `client_secret = "abc…"`: a value that looks like a secret, not a placeholder.
_ASSIGN = re.compile(
    r"(?i)\b(password|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|access[_-]?key|token|pin)\b"
    r"\s*[:=]\s*[\"']?([^\s\"'`,;]{6,})"
)
_WORDS = re.compile(r"^[a-z]+(?:[-_][a-z]+)*$")  # `your-password`, `expired`: words, not secrets
_ERROR_CODE = re.compile(r"^(?:AADSTS\d+|0x[0-9A-Fa-f]+|KB\d+|[A-Z]+_[A-Z_]+)$")
_PLACEHOLDER = re.compile(r"^(?:[A-Z][A-Z0-9_-]*|\{[^}]*\}|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_]+%|\*+|x+|\.+)$")

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Phone numbers: international (+44 …), national with a parenthesised or plain leading 0. Each
# pattern starts with a literal so `re` can skip ahead; the character before is checked by hand.
_PHONES = (
    re.compile(r"\+\d{1,3}[ .-]?(?:\(0\))?[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){1,4}(?![\w-]|\.\w)"),
    re.compile(r"\(0\d{1,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w-]|\.\w)"),
    re.compile(r"0\d{2,4}[ -]\d{3,4}[ -]\d{3,4}(?![\w-]|\.\w)"),
)


_FENCE = re.compile(r"^[ ]{0,3}(```+|~~~+)", re.M)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_HTML_COMMENT = re.compile(r"<!--")
_RAW_HTML = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<![A-Za-z]|<\?")
_AUTOLINK = re.compile(r"<(?:https?|mailto|ftp):[^<>\s]*>")
_UNSAFE_SCHEME = re.compile(
    r"(?im)\b(?:javascript|vbscript|livescript)\s*:|\]\(\s*<?\s*data\s*:|^[ \t]*\[[^\]\n]+\]:[ \t]*<?[ \t]*data\s*:|<\s*data\s*:"
)
_EVENT_ATTR = re.compile(r"(?i)\{[^}\n]*\bon[a-z]+\s*=")
_INCLUDE = re.compile(r"--8<--|\{%-?\s*include\b|\{\{[^}]*\binclude\b")


@dataclass(frozen=True, slots=True)
class Allow:
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()  # digits only
    any_contact: bool = False  # e-mail addresses and phone numbers are expected in this file


class Lines:
    """Offset → 1-based line for one text, computed only when a scan hits."""

    def __init__(self, text: str, first_line: int = 1) -> None:
        self._text = text
        self._first = first_line
        self._starts: list[int] | None = None

    def __call__(self, offset: int) -> int:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in re.finditer("\n", self._text)]
        return bisect.bisect_right(self._starts, offset) - 1 + self._first


# Bytes that are never a control character: printable ASCII, tab and line ends.
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"


def plain_ascii(raw: bytes) -> bool:
    """True if ``raw`` is ASCII without control characters (the common case), so
    :func:`control_chars` has nothing to find. One C-speed pass over the bytes."""
    return not raw.translate(None, _PLAIN_ASCII)


def control_chars(text: str) -> tuple[str, list[Issue]]:
    """Report control characters and return the text with them removed."""
    if not _CONTROL.search(text):
        return text, []
    line_of = Lines(text)
    issues: list[Issue] = []
    fm_end = -1  # offset where the front-matter ends, if the text has one
    if text.startswith("---"):
        close = re.search(r"^(?:---|\.\.\.)[ ]*$", text[3:], re.M)
        fm_end = close.start() + 3 if close else len(text)
    for m in _CONTROL.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        key = _KEY.match(text, start) if m.start() < fm_end else None
        where = f"in field '{key.group(1)}'" if key else "in the text"
        issues.append(("KE108", line_of(m.start()), f"control character U+{ord(m.group()):04X} {where}; remove it"))
    return _CONTROL.sub("", text), issues[:20]


def secrets(text: str, allow: Allow, first_line: int = 1) -> Iterator[Issue]:
    """Credentials and personal data anywhere in the file."""
    line_of = Lines(text, first_line)
    low = text.lower()
    secret_lines: set[int] = set()
    for pattern, what, prefilter in _SECRET_PATTERNS:
        if not prefilter(text, low):
            continue
        for m in pattern.finditer(text):
            ln = line_of(m.start())
            if ln not in secret_lines:
                secret_lines.add(ln)
                yield ("KE401", ln, f"this looks like {what}; never put credentials in the KB")
    for m in _assignments(text, low):
        value = m.group(2)
        if _PLACEHOLDER.match(value) or not _looks_secret(value):
            continue
        yield (
            "KE401",
            line_of(m.start()),
            f"'{m.group(1)}' is followed by what looks like a real value; use a placeholder such as `YOUR-{m.group(1).upper()}`",
        )
    if allow.any_contact:
        return
    if "@" in text:
        for m in _EMAIL.finditer(text):
            addr = m.group().lower()
            if not any(fnmatch.fnmatchcase(addr, pat.lower()) for pat in allow.emails):
                yield (
                    "KE402",
                    line_of(m.start()),
                    f"e-mail address '{m.group()}' is personal data; remove it or add it to allowlist.emails in content/kedb.yml",
                )
    for m in _phones(text):
        digits = re.sub(r"\D", "", m.group())
        if len(digits) < 9 or any(digits[-9:] == a[-9:] for a in allow.phones):
            continue
        yield (
            "KE403",
            line_of(m.start()),
            f"phone number '{m.group().strip()}' is personal data; remove it or add it to allowlist.phones in content/kedb.yml",
        )


def _assignments(text: str, low: str) -> Iterator[re.Match[str]]:
    """`_ASSIGN` matches, found fast: ``str.find`` locates each keyword followed by ':' or '='."""
    n = len(low)
    hit_lines: set[int] = set()
    for start, words in _ASSIGN_BY_START:
        i = low.find(start)
        while i != -1:
            for w in words:
                if low.startswith(w, i):
                    j = i + len(w)
                    while j < n and low[j] == " ":
                        j += 1
                    if j < n and low[j] in ":=":
                        hit_lines.add(low.count("\n", 0, i))
            i = low.find(start, i + len(start))
    if not hit_lines:
        return
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    for i in sorted(hit_lines):
        if i < len(lines):
            yield from _ASSIGN.finditer(text, starts[i], starts[i] + len(lines[i]))


def _phones(text: str) -> Iterator[re.Match[str]]:
    for pattern in _PHONES:
        for m in pattern.finditer(text):
            before = text[m.start() - 1] if m.start() else " "
            if not (before.isalnum() or before in "_.+/-"):
                yield m


def _looks_secret(value: str) -> bool:
    value = value.rstrip(".,;:!?)]}")
    if _WORDS.match(value) or _ERROR_CODE.match(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    mixed = any(c.islower() for c in value) and any(c.isupper() for c in value)
    return has_digit or has_symbol or mixed


def _blank_code(body: str) -> str:
    """The body with fenced blocks and code spans blanked out (same length and newlines)."""
    if "`" not in body and "~~~" not in body:
        return body
    out: list[str] = []
    in_fence = ""
    for line in body.split("\n"):
        m = _FENCE.match(line)
        if in_fence:
            if m and m.group(1)[0] == in_fence[0] and len(m.group(1)) >= len(in_fence):
                in_fence = ""
            out.append(" " * len(line))
            continue
        if m:
            in_fence = m.group(1)
            out.append(" " * len(line))
            continue
        out.append(_CODE_SPAN.sub(lambda s: " " * len(s.group()), line) if "`" in line else line)
    return "\n".join(out)


def unsafe_markdown(body: str, first_line: int) -> Iterator[Issue]:
    """Markdown that could run in a reader's browser or pull in other files."""
    if not any(ch in body for ch in "<:{-&"):
        return
    text = _blank_code(body)
    line_of = Lines(text, first_line)
    comment_lines: set[int] = set()
    for m in _HTML_COMMENT.finditer(text):
        ln = line_of(m.start())
        comment_lines.add(ln)
        yield ("KE505", ln, "HTML comment hides text from reviewers and readers; remove it")
    if "<" in text:
        stripped = _AUTOLINK.sub(lambda s: " " * len(s.group()), text)
        for m in _RAW_HTML.finditer(stripped):
            ln = line_of(m.start())
            if ln not in comment_lines:
                yield ("KE501", ln, f"raw HTML '{m.group()[:40]}' is not allowed; use Markdown (or put it in a code span)")
    # Entities are decoded first: Markdown keeps `javascript&#58;` in an href and the browser decodes it.
    decoded = html.unescape(text) if "&" in text else text
    # Every unsafe scheme is followed by ':' (a one-character test), and includes need '<' or '{'.
    if ":" in decoded:
        low = decoded.lower()
        if "script" in low or "data" in low:
            dline = Lines(decoded, first_line)
            for m in _UNSAFE_SCHEME.finditer(decoded):
                yield ("KE502", dline(m.start()), f"unsafe link '{m.group().strip()[:30]}'; only http(s) and mailto links are allowed")
    has_brace = "{" in text
    for m in _EVENT_ATTR.finditer(text) if has_brace else ():
        yield ("KE503", line_of(m.start()), "an on*= attribute in an attribute list would run script; remove it")
    if ("<" in text and "--8<--" in text) or (has_brace and "include" in text):
        for m in _INCLUDE.finditer(text):
            yield ("KE504", line_of(m.start()), f"include directive '{m.group()[:20]}' would pull another file into the page; remove it")


def size(raw_len: int, text: str, max_bytes: int, max_line: int) -> Iterator[Issue]:
    if raw_len > max_bytes:
        yield (
            "KE601",
            1,
            f"file is {raw_len:,} bytes; the limit is {max_bytes:,} bytes ({max_bytes / 1024:g} KiB): split it or move detail to a linked record",
        )
    if len(text) > max_line and max(map(len, text.split("\n"))) > max_line:
        count = 0
        for i, line in enumerate(text.split("\n")):
            if len(line) > max_line:
                count += 1
                if count <= 5:
                    yield ("KE602", i + 1, f"line is {len(line)} characters; the limit is {max_line}")
