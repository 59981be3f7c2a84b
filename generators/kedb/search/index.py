"""The static search index: built once, read in pieces (by the browser, ``kedb search`` and MCP).

With 10,000 records a single index file is megabytes, and the first result would wait for it.
This index is split so that a query reads only what it needs (``search/kedb/`` in the site):

- ``meta.json``: the record count, the first term of each shard (``shards``), the rules
  (:func:`kedb.search.rules.tables`) and which retired record each successor replaces
  (``successors``: ``[doc, successor doc]``);
- ``t-<n>.json``: the terms in order, cut into shards of about :data:`SHARD_BYTES`:
  ``{term: [gap, weight, gap, weight...]}``; a record's number is the sum of the gaps so far, and
  its weight (times ``SCALE``, an integer) already combines the field weights, the record's kind
  and its status. A term is in the last shard whose first term is not after it, so the terms
  that start with a prefix (a code typed in part, a typo's neighbours) are in a run of shards,
  and a small KB has a single one: a pasted log needs few fetches however many words it has;
- ``n-<n>.json``: ``[url, id, status, title]`` (and the successor's id after a retired record's
  title) of 1,000 records each: what a result shows before the site's display files are in.

Terms are ordered as JavaScript compares strings (by UTF-16 code unit, :func:`order`), so the
browser finds a term's shard with the same binary search.
"""

from __future__ import annotations

import bisect
import json
import math
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from . import rules

if TYPE_CHECKING:  # documents reads the KB (pydantic models): kedb search --site needs none of it
    from .documents import Entry

NAMES = 1_000  # records per n-<n>.json
SHARD_BYTES = 48_000  # a shard is cut after the term that takes it past this size
DIR = "search/kedb"
VERSION = 5


def order(term: str) -> bytes:
    """The sort key of terms: UTF-16 code units, as JavaScript's ``<`` compares strings."""
    return term.encode("utf-16-be")


def postings(entries: list[Entry]) -> dict[str, dict[int, float]]:
    """term -> {record number: weight} over every field of every entry."""
    df = _frequencies(entries)
    out: dict[str, dict[int, float]] = {}
    for i, e in enumerate(entries):
        for t, w in weights(e, df).items():
            out.setdefault(t, {})[i] = w
    return out


def _frequencies(entries: list[Entry]) -> Counter[str]:
    """term -> how many entries have it in any field."""
    df: Counter[str] = Counter()
    for e in entries:
        df.update({t for c in e.terms.values() for t in c})
    return df


def _body_only(e: Entry) -> list[str]:
    """The terms an entry has in its body and in no other field."""
    body = e.terms.get("body")
    if not body:
        return []
    elsewhere = {t for name, c in e.terms.items() if name != "body" for t in c}
    return [t for t in body if t not in elsewhere]


def weights(e: Entry, df: Counter[str]) -> dict[str, float]:
    """One entry's weight for each of its terms: BM25-saturated counts times the field's weight, summed over fields,
    times the boost of its kind and status. Of the terms only its body has, the rarest :data:`rules.BODY_TERMS`
    (by ``df``, the entries that have each term) are kept."""
    per_field = e.terms
    body = per_field.get("body")
    if body:
        only = _body_only(e)
        if len(only) > rules.BODY_TERMS:
            dropped = set(sorted(only, key=lambda t: (df[t], t))[rules.BODY_TERMS :])
            per_field = {**per_field, "body": {t: n for t, n in body.items() if t not in dropped}}
    boost = rules.KIND_BOOST.get(e.kind, 1.0) * rules.STATUS_BOOST.get(e.status, 1.0)
    summed: dict[str, float] = {}
    for name, counts in per_field.items():
        field_boost = rules.FIELDS[name]
        for t, tf in counts.items():
            summed[t] = summed.get(t, 0.0) + field_boost * tf * (rules.K1 + 1) / (tf + rules.K1)
    return {t: w * boost for t, w in summed.items()}


def shard_files(post: dict[str, dict[int, float]]) -> list[dict[str, list[int]]]:
    """The shards in order: ``{term: [gap, weight, ...]}``, each ending with the term that takes
    it past :data:`SHARD_BYTES`."""
    terms = sorted(post, key=order)
    flats = {t: _flat(post[t]) for t in terms}
    return _cut(terms, flats, {t: _size(t, flats[t]) for t in terms})


def _flat(docs: dict[int, float]) -> list[int]:
    """A term's postings as stored: ``[gap, weight, gap, weight...]`` in record order."""
    flat: list[int] = []
    last = 0
    for doc, w in sorted(docs.items()):
        flat += [doc - last, max(1, round(w * rules.SCALE))]
        last = doc
    return flat


def _size(term: str, flat: list[int]) -> int:
    return len(_dump({term: flat}))


def _cut(terms: list[str], flats: dict[str, list[int]], sizes: dict[str, int]) -> list[dict[str, list[int]]]:
    shards: list[dict[str, list[int]]] = [{}]
    size = 0
    for t in terms:
        if size > SHARD_BYTES:
            shards.append({})
            size = 0
        shards[-1][t] = flats[t]
        size += sizes[t]
    return shards if shards[0] else []


class Kept:
    """The index's postings and shards as the last :func:`files` with ``remember`` made them, and how to make them again
    for entries of which a few changed (``mkdocs serve``, which builds again in one process).

    An entry that is the very same object as before is unchanged (entries and their terms are never changed). For the
    others, the document frequencies are updated, and the weights made again for them and for every entry whose kept
    body terms could change with those frequencies (those with more body-only terms than kept, one of which changed
    frequency). The shards are cut again from the terms in order, each term's stored postings and size kept until
    they change. The files are those :func:`files` makes from scratch, byte for byte (a Hypothesis test)."""

    LIMIT = 500  # entries changed: past this, made from scratch

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = list(entries)
        self.df = _frequencies(self.entries)
        self.weights = [weights(e, self.df) for e in self.entries]
        self.post: dict[str, dict[int, float]] = {}
        for i, w in enumerate(self.weights):
            for t, v in w.items():
                self.post.setdefault(t, {})[i] = v
        self.rare: dict[str, set[int]] = {}  # term -> entries whose kept body terms depend on its frequency
        for i, e in enumerate(self.entries):
            self._note_rare(i, e, add=True)
        self.terms = sorted(self.post, key=order)
        self.keys = [order(t) for t in self.terms]
        self.flats = {t: _flat(self.post[t]) for t in self.terms}
        self.sizes = {t: _size(t, self.flats[t]) for t in self.terms}

    def _note_rare(self, i: int, e: Entry, add: bool) -> None:
        only = _body_only(e)
        if len(only) <= rules.BODY_TERMS:
            return
        for t in only:
            if add:
                self.rare.setdefault(t, set()).add(i)
            else:
                self.rare[t].discard(i)

    def update(self, entries: list[Entry]) -> bool:
        """Take the postings to those of ``entries``; False (nothing changed) when they are better made from scratch."""
        if len(entries) != len(self.entries):
            return False
        changed = [i for i, (a, b) in enumerate(zip(self.entries, entries, strict=True)) if a is not b]
        if len(changed) > self.LIMIT:
            return False
        moved: set[str] = set()  # terms whose frequency changed
        for i in changed:
            before = {t for c in self.entries[i].terms.values() for t in c}
            after = {t for c in entries[i].terms.values() for t in c}
            for t in before - after:
                self.df[t] -= 1
                if not self.df[t]:
                    del self.df[t]
            for t in after - before:
                self.df[t] += 1
            moved |= before ^ after
            self._note_rare(i, self.entries[i], add=False)
            self._note_rare(i, entries[i], add=True)
            self.entries[i] = entries[i]
        redo = set(changed).union(*(self.rare.get(t, ()) for t in moved))
        touched: set[str] = set()
        for i in sorted(redo):
            old, new = self.weights[i], weights(self.entries[i], self.df)
            for t in old.keys() - new.keys():
                del self.post[t][i]
                touched.add(t)
            for t, v in new.items():
                if old.get(t) != v:
                    self.post.setdefault(t, {})[i] = v
                    touched.add(t)
            self.weights[i] = new
        for t in touched:
            if self.post.get(t):
                if t not in self.flats:
                    at = bisect.bisect_left(self.keys, order(t))
                    self.terms.insert(at, t)
                    self.keys.insert(at, order(t))
                self.flats[t] = _flat(self.post[t])
                self.sizes[t] = _size(t, self.flats[t])
                continue
            self.post.pop(t, None)
            if t in self.flats:
                at = bisect.bisect_left(self.keys, order(t))
                del self.terms[at], self.keys[at], self.flats[t], self.sizes[t]
        return True

    def shards(self) -> list[dict[str, list[int]]]:
        return _cut(self.terms, self.flats, self.sizes)


_KEPT: list[Kept] = []  # the last index made with remember (one: a serve process builds one edition)


def _shards(items: list[Entry], remember: bool) -> list[dict[str, list[int]]]:
    if not remember:
        return shard_files(postings(items))
    kept = _KEPT[0] if _KEPT else None
    if kept is None or not kept.update(items):
        kept = Kept(items)
        _KEPT[:] = [kept]
    return kept.shards()


def edition(audience: str, tenant: str | None) -> dict[str, str | None]:
    """How ``meta.json`` names the edition an index was built for."""
    return {"audience": audience, "tenant": tenant}


def name_row(e: Entry) -> list[str]:
    row = [e.url, e.id, e.status, e.title]
    return [*row, e.successor] if e.successor else row


def files(entries: Iterable[Entry], extra: dict[str, object] | None = None, remember: bool = False) -> dict[str, bytes]:
    """Every file of the index, by path under the site (deterministic bytes); ``extra`` goes into
    ``meta.json`` as it is (the site's display settings). With ``remember`` (``mkdocs serve``), the postings are kept
    in the process and the next call's made from them (:class:`Kept`): the same bytes."""
    items = list(entries)
    shards = _shards(items, remember)
    number = {e.id: i for i, e in enumerate(items)}
    out: dict[str, bytes] = {f"{DIR}/t-{n}.json": _dump(terms) for n, terms in enumerate(shards)}
    for n in range(math.ceil(len(items) / NAMES)):
        out[f"{DIR}/n-{n}.json"] = _dump([name_row(e) for e in items[n * NAMES : (n + 1) * NAMES]])
    meta = {
        "version": VERSION,
        "docs": len(items),
        "names": NAMES,
        "shards": [next(iter(terms)) for terms in shards],
        "successors": [[i, number[e.successor]] for i, e in enumerate(items) if e.successor in number],
        "rules": rules.tables(),
        **(extra or {}),
    }
    out[f"{DIR}/meta.json"] = _dump(meta)
    return dict(sorted(out.items()))


def _dump(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
