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
    analysed: list[dict[str, dict[str, int]]] = []
    df: Counter[str] = Counter()
    for e in entries:
        per_field = dict(e.terms)  # a copy: the body's counter is replaced below, not changed
        analysed.append(per_field)
        df.update({t for c in per_field.values() for t in c})
    out: dict[str, dict[int, float]] = {}
    for i, (e, per_field) in enumerate(zip(entries, analysed, strict=True)):
        body = per_field.get("body")
        if body:
            elsewhere = {t for name, c in per_field.items() if name != "body" for t in c}
            only = sorted((t for t in body if t not in elsewhere), key=lambda t: (df[t], t))
            keep = elsewhere | set(only[: rules.BODY_TERMS])
            per_field["body"] = {t: n for t, n in body.items() if t in keep}
        boost = rules.KIND_BOOST.get(e.kind, 1.0) * rules.STATUS_BOOST.get(e.status, 1.0)
        weights: dict[str, float] = {}
        for name, counts in per_field.items():
            field_boost = rules.FIELDS[name]
            for t, tf in counts.items():
                weights[t] = weights.get(t, 0.0) + field_boost * tf * (rules.K1 + 1) / (tf + rules.K1)
        for t, w in weights.items():
            out.setdefault(t, {})[i] = w * boost
    return out


def shard_files(post: dict[str, dict[int, float]]) -> list[dict[str, list[int]]]:
    """The shards in order: ``{term: [gap, weight, ...]}``, each ending with the term that takes
    it past :data:`SHARD_BYTES`."""
    shards: list[dict[str, list[int]]] = [{}]
    size = 0
    for t in sorted(post, key=order):
        flat: list[int] = []
        last = 0
        for doc, w in sorted(post[t].items()):
            flat += [doc - last, max(1, round(w * rules.SCALE))]
            last = doc
        if size > SHARD_BYTES:
            shards.append({})
            size = 0
        shards[-1][t] = flat
        size += len(_dump({t: flat}))
    return shards if shards[0] else []


def edition(audience: str, tenant: str | None) -> dict[str, str | None]:
    """How ``meta.json`` names the edition an index was built for."""
    return {"audience": audience, "tenant": tenant}


def name_row(e: Entry) -> list[str]:
    row = [e.url, e.id, e.status, e.title]
    return [*row, e.successor] if e.successor else row


def files(entries: Iterable[Entry], extra: dict[str, object] | None = None) -> dict[str, bytes]:
    """Every file of the index, by path under the site (deterministic bytes); ``extra`` goes into
    ``meta.json`` as it is (the site's display settings)."""
    items = list(entries)
    shards = shard_files(postings(items))
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
