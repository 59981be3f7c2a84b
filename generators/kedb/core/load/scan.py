"""Text scans over a whole file: secrets, personal data, unsafe Markdown, control characters, size.

Each scan first runs one regular expression over the whole text (the common case is no match)
and only then works out line numbers, so a 10,000-record KB is scanned in a fraction of a second.

Secrets (KE401) are recognised by a table of shapes (tokens with a known prefix, private key
blocks, connection strings, cloud credentials by name and shape: AWS key ids and secret access
keys, Azure storage keys and SAS signatures, Google service-account keys and API keys) and by a
keyword followed by a value that looks real (``password: …``, ``DB_PASSWORD=…``).

Why not detect-secrets (issue #15; version 1.5.0 from PyPI, measured on the 10,000-record KB of
``benchmarks/synth.make_kb``: 10,021 files, 18 MB, on a 2-core machine that was busy, best of runs):

* cost: this module's whole scan (secrets, e-mail addresses, phone numbers) takes 0.41 s, 0.49 s
  with the cloud rules added here. detect-secrets' ``SecretsCollection.scan_file`` takes 178 s
  with the 8 plugins that match our rules (AWS, Azure storage, private key, keyword, basic auth,
  JWT, GitHub, Slack; verification off) and 370 s with its default plugins; its plugins' patterns
  alone, line by line, take 0.5 s (AWS), 0.3 s (Azure storage), 1.0 s (private key) and 23 s
  (keyword);
* coverage: it misses this issue's case, ``export AWS_SECRET_ACCESS_KEY=…`` (its AWS pattern
  wants the value in quotes), the YAML form ``AWS_SECRET_ACCESS_KEY: …`` and SAS ``sig=``;
* false positives: its default plugins report 9 "high entropy" strings in the example KB (the
  SHA-256 digests in content/kpi/ and content/audits/), where ``kedb check`` must report none;
* conduct: it imports ``requests``, and its AWS plugin verifies a key it finds against AWS unless
  that filter is turned off; a checker never sends a credential it found anywhere.

So the rules stay here, borrowing its shapes (the 40-character AWS secret, PEM headers), each
with a sample in tests/test_guards.py and a one-pass prefilter.
"""

from __future__ import annotations

import bisect
import fnmatch
import html
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

Issue = tuple[str, int, str]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# In a parsed value: the same, and a carriage return (the text has none, its line ends are
# normalised first; a value gets one from a "\r" escape). Tabs and newlines are text.
_CONTROL_VALUE = re.compile(r"[\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

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
    (
        # PEM (RSA, EC, DSA, OPENSSH, ENCRYPTED, SSH2 ENCRYPTED), PGP's key block, PuTTY's key file
        re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-\d+:"),
        "a private key",
        lambda text, low: "PRIVATE KEY" in text or "PuTTY-User-Key-File" in text,
    ),
    (
        # By name and by shape: 40 characters of base64 after the name, as an environment variable
        # (`export AWS_SECRET_ACCESS_KEY=…`, `$env:…`), a credentials file, YAML, JSON
        # (`"SecretAccessKey": "…"`) or `aws configure set aws_secret_access_key …`.
        re.compile(
            r"(?i)(?:aws[ _-]?secret(?:[ _-]?access)?|secret[ _-]?access)[ _-]?key[\"']?(?:[ \t]*[:=][ \t]*|[ \t]+)[\"']?"
            r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        "an AWS secret access key",
        lambda text, low: "secret" in low,
    ),
    (
        # The signature of an Azure shared access signature (SAS) URL or token: HMAC-SHA256, base64, URL-encoded.
        re.compile(r"(?<![A-Za-z0-9_])sig=[A-Za-z0-9%+/]{30,}"),
        "an Azure SAS signature",
        lambda text, low: "sig=" in text,
    ),
    (
        # A Google Cloud service-account key file (JSON): its "private_key" value.
        re.compile(r'"private_key"\s*:\s*"[^"\n]{20,}'),
        "a Google Cloud service-account key",
        lambda text, low: '"private_key"' in text and "service_account" in text,
    ),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"), "a Google API key", lambda text, low: "AIza" in text),
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
# The word may end a longer name (`DB_PASSWORD=…`, `AZURE_CLIENT_SECRET=…`), not a longer word.
_ASSIGN = re.compile(
    r"(?i)(?<![A-Za-z0-9])(password|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|access[_-]?key|token|pin)\b"
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
        close = re.search(r"^---[ ]*$", text[3:], re.M)
        fm_end = close.start() + 3 if close else len(text)
    for m in _CONTROL.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        key = _KEY.match(text, start) if m.start() < fm_end else None
        where = f"in field '{key.group(1)}'" if key else "in the text"
        issues.append(("KE108", line_of(m.start()), f"control character U+{ord(m.group()):04X} {where}; remove it"))
    return _CONTROL.sub("", text), issues[:20]


def value_controls(data: Any, lines: Mapping[tuple[str | int, ...], int], first_line: int) -> list[Issue]:
    """Report control characters in the parsed values of a YAML text, and remove them (in place).

    :func:`control_chars` judges the text as written, so it cannot see what an escape in a
    double-quoted value decodes to: ``"\\e[31m"`` (ESC, a terminal colour), ``"\\x0b"``,
    ``"\\u202e"`` (a right-to-left override that reverses what a reader sees). Each is reported
    at the line of its key or list item; a key that holds one is reported and left, so the
    schema reports it as unknown. Only a text with a backslash can hold such an escape."""
    issues: list[Issue] = []

    def line_of(path: tuple[str | int, ...]) -> int:
        while path and path not in lines:
            path = path[:-1]
        return lines.get(path, first_line)

    def report(path: tuple[str | int, ...], value: str, what: str) -> None:
        found = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(_CONTROL_VALUE.findall(value)))
        plural = "s" * (", " in found)
        issues.append(("KE108", line_of(path), f"control character{plural} {found} {what} (written as an escape); remove it"))

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in list(items):
            at = (*path, k)
            if isinstance(k, str) and _CONTROL_VALUE.search(k):
                report(at, k, f"in the name of field '{k}'")
            if isinstance(v, str):
                if _CONTROL_VALUE.search(v):
                    report(at, v, f"in field '{_field_name(at)}'")
                    node[k] = _CONTROL_VALUE.sub("", v)
            elif isinstance(v, (dict, list)):
                walk(v, at)

    if isinstance(data, (dict, list)):
        walk(data, ())
    elif isinstance(data, str) and _CONTROL_VALUE.search(data):
        report((), data, "in the text")
    return issues[:20]


def _field_name(path: tuple[str | int, ...]) -> str:
    """``fix.change_ref``, ``symptoms[2]``: where a value sits, as an author finds it."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


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
        ln = line_of(m.start())
        if ln in secret_lines:  # one finding per line: a rule above has named what it is
            continue
        yield (
            "KE401",
            ln,
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
