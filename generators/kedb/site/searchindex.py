"""A static search index for records, built for size: loaded in pieces, never whole.

Material's own search (lunr) builds its index in the browser from one JSON file; with 10,000
records that file is megabytes and the first result comes seconds after the page loads.
This index is built once, at build time, and split so that a query fetches only what it
needs (``search/kedb/``):

- ``meta.json``: the tokenizer (separator, stop words), the record count, the shards present;
- ``t-<hex>.json``: one shard per two-letter term prefix (three letters where two would make a
  big file): ``{term: [gap, weight, gap, weight...]}``; a record's number is the sum of the gaps
  so far, and its weight (x10, an integer) already combines the field boosts (title, codes,
  symptoms, tags, text) and the record's boost;
- ``n-<n>.json``: location and title of 1,000 records each, ``[location, title]``: few files,
  fetched once when the worker starts, so a query's results are listed as soon as its term
  shards are in (one round of fetches);
- ``d-<n>.json``: display data of 32 records each: ``[location, title, text, tags]``; the
  worker lists the results first and adds their text and tags when these files are in.

A query term matches the terms it starts (``0x8007`` finds ``0x80070005``), except a
two-letter query term, which matches only itself (``id`` in "Event ID 7031").

``templates/site/assets/search-worker.js`` answers Material's search box from it (and from
Material's own, now small, index of the other pages), so agents use the usual search UI.
The tokenizer is defined here once and shipped in ``meta.json``, so index and queries agree.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from .search import FIELDS, SEPARATOR, Doc

# lunr's English stop words (what Material's search drops), so results feel the same.
STOP_WORDS: tuple[str, ...] = tuple(
    (  # noqa: SIM905 - one line per letter range reads better than 120 quoted words
        "a able about across after all almost also am among an and any are as at be because been but by can cannot could "
        "dear did do does either else ever every for from get got had has have he her hers him his how however i if in into "
        "is it its just least let like likely may me might most must my neither no nor not of off often on only or other our "
        "own rather said say says she should since so some than that the their them then there these they this tis to too "
        "twas us wants was we were what when where which while who whom why will with would yet you your"
    ).split()
)
_STOP = frozenset(STOP_WORDS)
_SPLIT = re.compile(SEPARATOR)
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
K1 = 1.2
WEIGHT_SCALE = 10  # weights are stored as round(weight * 10)
CHUNK = 32  # records per display file: a query's top results fetch a few small files
NAMES = 1_000  # records per title file (n-<n>.json): every query needs them, so they are prefetched
SHARD_BYTES = 48_000  # a two-letter shard bigger than this is split by the third letter
DIR = "search/kedb"


def _edge(c: str) -> bool:
    """Punctuation or a symbol (Unicode P* or S*: ``.``, ``…``, ``»``, ``©``), as ``\\p{P}\\p{S}`` in JavaScript."""
    return c in _ASCII_PUNCT if c.isascii() else unicodedata.category(c)[0] in "PS"


def _trim(t: str) -> str:
    start, end = 0, len(t)
    while start < end and _edge(t[start]):
        start += 1
    while end > start and _edge(t[end - 1]):
        end -= 1
    return t[start:end]


def tokens(text: str) -> list[str]:
    """Lower-case terms of ``text``: split on the separator, punctuation and symbols trimmed at
    both ends (a summary's closing ``…`` too), stop words and one-letter terms dropped
    (search-worker.js does the same to queries)."""
    out = []
    for raw in _SPLIT.split(text.lower()):
        t = _trim(raw) if raw and (_edge(raw[0]) or _edge(raw[-1])) else raw
        if len(t) > 1 and t not in _STOP:
            out.append(t)
    return out


def _hex(text: str) -> str:
    return text.encode("utf-8").hex()


@dataclass
class Index:
    docs: list[Doc] = field(default_factory=list)

    def add(self, doc: Doc) -> None:
        self.docs.append(doc)

    def files(self) -> dict[str, bytes]:
        """Every file of the index, by path under the site (deterministic bytes)."""
        postings: dict[str, dict[int, float]] = {}
        for i, d in enumerate(self.docs):
            per_term: dict[str, float] = {}
            for name, text in d.fields.items():
                boost = FIELDS.get(name, {"boost": 1.0})["boost"] / 10
                counts: dict[str, int] = {}
                for t in tokens(text):
                    counts[t] = counts.get(t, 0) + 1
                for t, tf in counts.items():
                    per_term[t] = per_term.get(t, 0.0) + boost * tf * (K1 + 1) / (tf + K1)
            for t, w in per_term.items():
                postings.setdefault(t, {})[i] = w * d.boost
        groups: dict[str, dict[str, list[int]]] = {}
        for t in sorted(postings):
            flat: list[int] = []
            last = 0
            for doc, w in sorted(postings[t].items()):
                flat += [doc - last, max(1, round(w * WEIGHT_SCALE))]  # doc ids as gaps, weights as integers: a third smaller
                last = doc
            groups.setdefault(t[:2], {})[t] = flat
        # Shards by two-letter prefix; a big one (``pr``: printer, prompt, problem...) is split by
        # the third letter, keeping the two-letter terms themselves in the two-letter shard.
        shards: dict[str, dict[str, list[int]]] = {}
        for prefix, terms in groups.items():
            if len(_dump(terms)) <= SHARD_BYTES:
                shards[_hex(prefix)] = terms
                continue
            for t, flat in terms.items():
                shards.setdefault(_hex(t[:3]), {})[t] = flat
        out: dict[str, bytes] = {}
        for key, terms in shards.items():
            out[f"{DIR}/t-{key}.json"] = _dump(terms)
        for n in range(math.ceil(len(self.docs) / CHUNK)):
            chunk = self.docs[n * CHUNK : (n + 1) * CHUNK]
            out[f"{DIR}/d-{n}.json"] = _dump([[d.location, d.title, d.text, d.tags] for d in chunk])
        for n in range(math.ceil(len(self.docs) / NAMES)):
            out[f"{DIR}/n-{n}.json"] = _dump([[d.location, d.title] for d in self.docs[n * NAMES : (n + 1) * NAMES]])
        meta = {
            "version": 3,
            "docs": len(self.docs),
            "chunk": CHUNK,
            "names": NAMES,
            "separator": SEPARATOR,
            "stop": list(STOP_WORDS),
            "k1": K1,
            "scale": WEIGHT_SCALE,
            "fields": {k: v["boost"] for k, v in FIELDS.items()},
            "shards": sorted(shards),
        }
        out[f"{DIR}/meta.json"] = _dump(meta)
        return dict(sorted(out.items()))


def _dump(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build(entries: Iterable[Doc]) -> dict[str, bytes]:
    idx = Index()
    for d in entries:
        idx.add(d)
    return idx.files()
