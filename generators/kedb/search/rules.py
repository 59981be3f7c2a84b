"""The rules of search, as data: how text becomes terms, and what each kind of match is worth.

Everything a query or a record is turned into passes through :func:`analyse`. Its tables (stop
words, the code shapes, the weights, the typo rules) are defined here once; :func:`tables`
hands them to the index's ``meta.json``, where ``search-worker.js`` reads them, so the browser
applies the very same numbers. What cannot be shipped as data is the stemmer: Python uses
``snowballstemmer`` (Snowball's English algorithm, the 2.x series) and the worker the same
algorithm from npm's ``porter2`` (``templates/site/assets/porter2.js``, see tests/vendor_porter2.py); the
two agree word for word (``tests/test_search_browser.py`` checks it on every word of the example
KB and its variants).

A term is one of two kinds:

- a **code**: anything with an ASCII digit (``80070005``, ``aadsts50076``, ``7031``) or an
  identifier joined by underscores (``err_ssl_protocol_error``), kept as it is written, lower
  case, with ``0x`` dropped and underscores removed. ``AADSTS50076`` and ``KB5034441`` give their
  number as a code too, so ``50076`` alone finds them, and ``0x00000709`` gives ``709``. Codes are never stemmed or corrected,
  and they match by prefix (``0x8007`` finds ``0x80070005``);
- a **word**: letters only, two or more, not a stop word, stemmed (``prompting``, ``prompts``
  and ``prompted`` are all ``prompt``).

A query also tries its neighbouring tokens joined (two to five of them): ``aadsts 50076``,
``kb 5034441``, ``err ssl protocol error`` and ``KE 0001`` are then the codes the records
carry (an error code of several tokens, ``Event ID 7031``, is also indexed joined).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

# lunr's English stop words (what Material's search drops), and the words of a ticket's
# greeting and framing, which say nothing about the fault.
STOP_WORDS: tuple[str, ...] = tuple(
    (  # noqa: SIM905 - one string reads better than 150 quoted words
        "a able about across after all almost also am among an and any are as at be because been but by can cannot could "
        "dear did do does either else ever every for from get got had has have he her hers him his how however i if in into "
        "is it its just least let like likely may me might most must my neither no nor not of off often on only or other our "
        "own rather said say says she should since so some than that the their them then there these they this tis to too "
        "twas us wants was we were what when where which while who whom why will with would yet you your "
        "hi hello thanks thank please regards kind"
    ).split()
)

# Weights of the record fields (index time). Codes and symptoms are what agents paste and must
# outweigh generic words of a title; the body's cause and workaround count, but little.
FIELDS: dict[str, float] = {
    "codes": 8.0,  # the record's id and error codes
    "symptoms": 4.0,  # the phrasings agents use
    "title": 2.5,
    "tags": 1.5,  # service name and tags
    "summary": 1.0,  # the Symptoms section of a known error, a workaround's steps, a problem's statement
    "body": 0.3,  # cause, workaround, permanent fix, rollback, root cause: rarest terms only (see BODY_TERMS)
}
BODY_TERMS = 60  # terms of a record found only in its body: the rarest this many are indexed (the size budget)
KIND_BOOST: dict[str, float] = {"known-error": 1.0, "workaround": 0.6, "problem": 0.5}
# A live record comes before one in review, a draft or a retired one, unless they match much better.
STATUS_BOOST: dict[str, float] = {"published": 1.0, "in-review": 0.55, "draft": 0.45, "retired": 0.3}
STATUS_MARK: dict[str, str] = {"retired": "[Retired] ", "draft": "[Draft] ", "in-review": "[In review] "}
SUCCESSOR_MARK = " → use "  # after a retired record's title, before its successor's id
K1 = 1.2  # BM25 term-frequency saturation
SCALE = 10  # index weights are stored as integers: round(weight * SCALE)

# Query time.
PREFIX = 0.7  # a term that only starts with the query term (the last one typed, or a code)
FUZZY = (0.6, 0.45)  # a term one, or two, edits away from a query word
FUZZY_MIN = (5, 9)  # a query word of at least 5 letters may be one edit off; from 9 letters, two
FUZZY_SAME = 2  # a correction keeps the first two letters (the index is sharded by them)
FUZZY_TRIM = 4  # ...and may drop a misspelt ending the stemmer could not strip ('invoicng' is 'invoic'+'ng')
FUZZY_MAX_WORDS = 8  # typos are corrected in typed queries; a long paste is matched as written
MAX_WORDS = 40  # of a long paste, the rarest this many known words count (all its codes always do)
JOIN = (2, 5)  # neighbouring tokens joined into one code: from two to five
MIN_CODE = 3  # shorter numbers (a "1" or "05" of a date) are not codes
MIN_PREFIX_CODE = 4  # a code matches longer codes by prefix from this length
SUCCESSOR_MARGIN = 1e-9  # a successor placed just above the retired record it replaces


@dataclass(frozen=True)
class Term:
    """One term of an analysed text: ``key`` is what the index holds, ``surface`` what was written."""

    key: str
    surface: str
    code: bool


_TOKEN = re.compile(r"[^\W]+")  # letters, digits and '_' (JavaScript: /[\p{L}\p{N}_]+/gu)
_HEX = re.compile(r"0x[0-9a-f]+")
_DIGIT = re.compile(r"[0-9]")
_DIGITS = re.compile(r"[0-9]+")
_NUMBERED = re.compile(r"([a-z]+)([0-9]{4,})")
_STOP = frozenset(STOP_WORDS)


# Snowball's English stemmer: PyStemmer (Snowball's own C library, 2.2.x; imported in 1 ms) where it
# is installed, else the pure-Python snowballstemmer 2.x (its package imports every language: 26 ms
# of a `kedb search`). They give the same stems (tests/test_search_engine.py compares them).
try:
    import Stemmer

    _STEM: Callable[[str], str] = Stemmer.Stemmer("english").stemWord
except ImportError:  # pragma: no cover - PyStemmer is a dependency where it builds (CPython)
    import snowballstemmer

    _STEM = snowballstemmer.stemmer("english").stemWord


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    return str(_STEM(word))


def tokens(text: str) -> list[str]:
    """The raw tokens of ``text``: runs of letters, digits and underscores, lower case."""
    return _TOKEN.findall(text.lower())


def _plain(tok: str, out: list[Term]) -> None:
    if _HEX.fullmatch(tok):
        if len(tok) - 2 >= MIN_CODE:
            out.append(Term(tok[2:], tok, True))
        short = tok[2:].lstrip("0")
        if len(short) >= MIN_CODE and len(short) < len(tok) - 2:  # 0x00000709 is also 709
            out.append(Term(short, tok, True))
    elif _DIGIT.search(tok):
        if _DIGITS.fullmatch(tok):
            if len(tok) >= MIN_CODE:
                out.append(Term(tok, tok, True))
            return
        if len(tok) >= MIN_CODE:
            out.append(Term(tok, tok, True))
        m = _NUMBERED.fullmatch(tok)
        if m:
            out.append(Term(m.group(2), tok, True))
    elif len(tok) > 1 and tok not in _STOP:
        out.append(Term(stem(tok), tok, False))


@lru_cache(maxsize=1 << 18)
def _token(tok: str) -> tuple[Term, ...]:
    """The terms of one token. A KB's texts repeat their words thousands of times, so each distinct
    token is analysed once (10,000 records: 1.8 million tokens, a few tens of thousands distinct)."""
    out: list[Term] = []
    if "_" in tok:
        parts = [p for p in tok.split("_") if p]
        if len(parts) > 1:
            out.append(Term("".join(parts), tok, True))
        for p in parts:
            _plain(p, out)
    else:
        _plain(tok, out)
    return tuple(out)


def analyse(text: str) -> list[Term]:
    """The terms of ``text`` in the order written (repeats kept: the index counts them)."""
    return [term for tok in tokens(text) for term in _token(tok)]


@lru_cache(maxsize=1 << 18)
def _token_keys(tok: str) -> tuple[str, ...]:
    return tuple(t.key for t in _token(tok))


def keys(text: str) -> list[str]:
    """The index keys of :func:`analyse`'s terms: what the index counts."""
    return [k for tok in tokens(text) for k in _token_keys(tok)]


def joined(text: str) -> list[Term]:
    """Neighbouring tokens joined, two to five at a time: the codes a query may have split."""
    toks = [t.replace("_", "") for t in tokens(text)]
    out = []
    for i in range(len(toks)):
        for n in range(JOIN[0], JOIN[1] + 1):
            if i + n > len(toks):
                break
            window = toks[i : i + n]
            if any(not t for t in window):
                continue
            out.append(Term("".join(window), " ".join(window), True))
    return out


def compact(text: str) -> str | None:
    """An error code of several tokens as one (``Event ID 7031`` → ``eventid7031``), or None."""
    toks = [t.replace("_", "") for t in tokens(text)]
    toks = [t for t in toks if t]
    return "".join(toks) if len(toks) > 1 else None


def is_word(term: str) -> bool:
    """Letters only: what a typo may be corrected to."""
    return not _DIGIT.search(term)


def fuzzy_edits(surface: str) -> int:
    """How many edits a query word may be off: 0, 1 or 2 (by its length as written)."""
    n = len(surface)
    return 2 if n >= FUZZY_MIN[1] else 1 if n >= FUZZY_MIN[0] else 0


def typo_distance(key: str, surface: str, term: str, limit: int) -> int:
    """Edits from a query word (its stem ``key``, as written ``surface``) to an index ``term``: to
    the stem, or to the word without up to :data:`FUZZY_TRIM` last letters, five letters kept (a
    misspelt ending the stemmer could not strip: 'authenticaton'), at least 1; ``limit + 1``
    when more than ``limit``."""
    d = distance(key, term, limit)
    for t in range(1, FUZZY_TRIM + 1):
        head = surface[:-t]
        if len(head) >= FUZZY_MIN[0]:
            d = min(d, distance(head, term, limit))
    return max(d, 1)


def distance(a: str, b: str, limit: int) -> int:
    """Edits from ``a`` to ``b`` (insert, delete, replace, swap two neighbours), or ``limit + 1``
    when more than ``limit`` (search-worker.js has the same function)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        low = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            low = min(low, v)
        if low > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[len(b)] if prev[len(b)] <= limit else limit + 1


def tables() -> dict[str, object]:
    """The rules the browser applies, for ``meta.json``."""
    return {
        "stop": list(STOP_WORDS),
        "prefix": PREFIX,
        "fuzzy": list(FUZZY),
        "fuzzy_min": list(FUZZY_MIN),
        "fuzzy_same": FUZZY_SAME,
        "fuzzy_trim": FUZZY_TRIM,
        "fuzzy_max_words": FUZZY_MAX_WORDS,
        "max_words": MAX_WORDS,
        "join": list(JOIN),
        "min_code": MIN_CODE,
        "min_prefix_code": MIN_PREFIX_CODE,
        "successor_margin": SUCCESSOR_MARGIN,
        "status_mark": STATUS_MARK,
        "successor_mark": SUCCESSOR_MARK,
        "fields": FIELDS,
        "k1": K1,
        "scale": SCALE,
    }
