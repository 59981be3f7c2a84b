"""SQL expressions shared by the import, the candidates and the KPIs (DuckDB dialect).

Everything that turns export text into values lives here, once: what counts as missing,
how dates, numbers and true/false are read, how a signature part is normalised and which
error codes are extracted from free text.
"""

from __future__ import annotations

from collections.abc import Iterable

from .fields import SCORE_MAX, SCORE_MIN
from .mapping import FieldSpec, TicketMapping

ISO_NAIVE = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%d",
)
ISO_TZ = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S %z")
NAMED_MONTH = ("%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%d/%b/%y %H:%M", "%d %b %Y %H:%M", "%d %b %Y %H:%M:%S")
DAY_FIRST = (
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
)
MONTH_FIRST = (
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m-%d-%Y %H:%M",
    "%m-%d-%Y %H:%M:%S",
    "%m/%d/%Y",
    "%m-%d-%Y",
)
DATE_HINT = {
    "iso": "ISO 8601 (2026-01-31 09:00)",
    "day-first": "day-first (31-01-2026 09:00) or ISO 8601",
    "month-first": "month-first (01/31/2026 09:00) or ISO 8601",
}


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def lits(items: Iterable[str]) -> str:
    return "[" + ", ".join(lit(i) for i in items) + "]"


def stripped(v: str) -> str:
    """``nullif(trim(v), '')``: the text without the spaces at its ends, NULL when nothing is left; cheaper.

    DuckDB's ``trim`` copies every string it is given, which on an event log's every cell costs more than the
    test that makes it unneeded. ``trim`` removes only Unicode space separators (category Zs) and the only ASCII one
    is the space itself, so a text of ASCII characters only (as many bytes as characters) that neither starts nor
    ends with a space is its own trim and passes as it is; every other text is trimmed. Same value either way."""
    return f"(CASE WHEN starts_with({v}, ' ') OR ends_with({v}, ' ') OR strlen({v}) <> length({v}) THEN nullif(trim({v}), '') ELSE nullif({v}, '') END)"


def cleaned(v: str, missing: list[str]) -> str:
    """Trimmed text, NULL when empty or one of the mapping's missing markers.

    Lists of values are the arms of a simple ``CASE``, never ``IN (…)`` or ``list_contains``: DuckDB turns those
    into a join, and a join gives up file order, which the import's parallel first pass needs
    (:func:`kedb.tickets.importer.in_file_order`)."""
    s = stripped(v)
    return f"(CASE {s} {_whens(missing, 'NULL')} ELSE {s} END)" if missing else s


def translated(v: str, spec: FieldSpec) -> str:
    if not spec.values:
        return v
    cases = " ".join(f"WHEN {lit(k.lower())} THEN {lit(val)}" for k, val in spec.values.items())
    return f"(CASE lower({v}) {cases} ELSE {v} END)"


def date_formats(mapping: TicketMapping) -> tuple[list[str], list[str]]:
    """(formats giving a plain timestamp, formats with a UTC offset), in the order tried."""
    style = {"iso": (), "day-first": DAY_FIRST, "month-first": MONTH_FIRST}[mapping.dates]
    own = list(mapping.date_formats)
    naive = [f for f in own if "%z" not in f] + list(style) + list(ISO_NAIVE) + list(NAMED_MONTH)
    tz = [f for f in own if "%z" in f] + list(ISO_TZ)
    return list(dict.fromkeys(naive)), list(dict.fromkeys(tz))


def timestamp(v: str, mapping: TicketMapping) -> str:
    """A timestamp: local time as written, or converted to UTC when the text has an offset."""
    naive, tz = date_formats(mapping)
    return f"coalesce(try_strptime({v}, {lits(naive)}), timezone('UTC', try_strptime({v}, {lits(tz)})))"


def integer(v: str, subtract: int = 0) -> str:
    d = f"try_cast({v} AS DOUBLE)"
    value = f"CASE WHEN {d} >= 0 AND {d} = round({d}) THEN CAST({d} AS BIGINT) END"
    return f"greatest(({value}) - {subtract}, 0)" if subtract else f"({value})"


def number(v: str) -> str:
    d = f"try_cast(replace({v}, ',', '.') AS DOUBLE)"
    return f"(CASE WHEN {d} >= 0 THEN {d} END)"


def score(v: str) -> str:
    """A satisfaction rating on the 1–5 scale (decimals allowed: an average of several answers); NULL otherwise."""
    d = f"try_cast(replace({v}, ',', '.') AS DOUBLE)"
    return f"(CASE WHEN {d} >= {SCORE_MIN} AND {d} <= {SCORE_MAX} THEN {d} END)"


def boolean(v: str, mapping: TicketMapping, negate: bool) -> str:
    yes, no = ("false", "true") if negate else ("true", "false")
    whens = _whens([x.lower() for x in mapping.true_values], yes) + " " + _whens([x.lower() for x in mapping.false_values], no)
    return f"(CASE lower({v}) {whens} END)" if whens.strip() else "CAST(NULL AS BOOLEAN)"


def _whens(values: Iterable[str], then: str) -> str:
    """``WHEN 'a' THEN x WHEN 'b' THEN x …``: a value list as the arms of a simple ``CASE`` (see :func:`cleaned`)."""
    return " ".join(f"WHEN {lit(x)} THEN {then}" for x in dict.fromkeys(values))


def status_class(v: str, mapping: TicketMapping) -> str:
    if not mapping.statuses:
        return "CAST(NULL AS VARCHAR)"
    cases = " ".join(f"WHEN {lit(k.lower())} THEN {lit(c)}" for k, c in mapping.statuses.items())
    return f"(CASE lower({v}) {cases} END)"


def in_list(v: str, values: Iterable[str]) -> str:
    whens = _whens([x.lower() for x in values], "true")
    return f"coalesce(CASE lower({v}) {whens} END, false)" if whens else "false"


def hashed(v: str, salt: str) -> str:
    """A one-way key for a person's name (the same for a caller and for who updated a row, so the two
    can be compared): distinct counts work, the name is not stored. (DuckDB's ``md5`` is cheaper than its
    ``md5_number_upper``, which matters on an event log's every row.)"""
    return f"left(md5({lit(salt)} || {v}), 16)"


# ---------------------------------------------------------------- signatures
PART_MAX = 48
SIGNATURE_MAX = 200


def norm(v: str) -> str:
    """A signature part: ASCII, lower case, runs of other characters → ``-``, at most 48 characters.

    ``Outlook – Profile`` and ``outlook profile`` both become ``outlook-profile``.
    """
    s = f"regexp_replace(lower(strip_accents({v})), '[^a-z0-9.]+', '-', 'g')"
    s = f"regexp_replace(left(regexp_replace({s}, '^[-.]+', ''), {PART_MAX}), '[-.]+$', '')"
    return f"nullif({s}, '')"


# Error codes, by kind, in the order they appear in a signature. Each kind is sorted and
# de-duplicated, so the same codes give the same signature whatever order the text had.
CODE_KINDS: tuple[tuple[str, str, str, str], ...] = (
    # (name, cheap pre-test on the text, RE2 pattern, DuckDB lambda turning one match into its normal form)
    ("kb", "contains(lower({t}), 'kb')", r"(?i)\bKB[0-9]{6,7}\b", "lower(x)"),
    (
        "event-id",
        "contains(lower({t}), 'event')",
        r"(?i)\bevent\s*id\s*[:#]?\s*[0-9]{1,5}\b",
        "'event-id-' || CAST(CAST(regexp_extract(x, '[0-9]+$') AS INTEGER) AS VARCHAR)",
    ),
    ("aadsts", "contains(lower({t}), 'aadsts')", r"(?i)\bAADSTS[0-9]{4,7}\b", "lower(x)"),
    ("hresult", "contains(lower({t}), '0x')", r"(?i)\b0x[0-9a-f]{8}\b", "lower(x)"),
    (
        "chromium",
        "(contains({t}, 'ERR_') OR contains({t}, 'DNS_PROBE_'))",
        r"\b(?:NET::)?ERR_[A-Z0-9_]{3,}\b|\bDNS_PROBE_[A-Z_]{3,}\b",
        "regexp_replace(replace(replace(lower(x), 'net::', ''), '_', '-'), '^err-cert-', 'net-err-cert-')",
    ),
)


def codes(text: str) -> str:
    """``:``-joined normal forms of the error codes in ``text`` (NULL when there are none).

    Each pattern runs only on texts that contain its literal part: most tickets carry no code.
    """
    lists = [
        f"CASE WHEN {test.replace('{t}', text)} THEN list_sort(list_distinct(list_transform(regexp_extract_all({text}, {lit(pat)}), "
        f"lambda x: {fn}))) ELSE [] END"
        for _, test, pat, fn in CODE_KINDS
    ]
    return f"nullif(array_to_string(list_concat({', '.join(lists)}), ':'), '')"


def signature(parts: Iterable[str]) -> str:
    """Join normalised parts with ``:`` (missing parts are skipped), at most 200 characters."""
    joined = f"concat_ws(':', {', '.join(parts)})"
    return f"nullif(regexp_replace(left({joined}, {SIGNATURE_MAX}), '[-.:]+$', ''), '')"
