"""The search engine: the reference scorer, reading the index of :mod:`kedb.search.index`.

``search-worker.js`` does the same, step for step, in the browser; ``kedb search`` and the MCP
server use this one. Both read the same files, and a test runs a query set through both.

A query is analysed (:func:`kedb.search.rules.analyse`); each of its terms matches index terms
in one of four ways, each worth a factor of the term's weight:

- exactly (1.0);
- by prefix (:data:`~kedb.search.rules.PREFIX`): a code of four or more characters, and the
  last term of the query (the one still being typed);
- with a typo (:data:`~kedb.search.rules.FUZZY`): a word the index does not hold, of five
  letters or more, one edit away from an index word with the same first two letters (two edits
  from nine letters; :func:`~kedb.search.rules.typo_distance`), in a query of at most eight words;
- joined with its neighbours (``aadsts 50076``, ``err ssl protocol error``): exactly.

A record's score is the sum over query terms of its best match, each worth ``idf x factor x
weight`` (the weight already holds the fields, the kind and the status of the record), times
``(1 + share of the query's known terms it matched)²``. A long paste counts all its codes and
its rarest :data:`~kedb.search.rules.MAX_WORDS` words. Then a retired record never outranks
the successor it names: the successor is placed just above it. Ties go to the record listed
first.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import EnvironmentProblem
from . import rules
from .index import DIR, VERSION, order

if TYPE_CHECKING:
    from ..build.context import BuildContext

KIND_OF = {"KE": "known-error", "WA": "workaround", "PRB": "problem"}


@dataclass(frozen=True)
class Hit:
    """One result: the record, its score and the query's codes and terms it matched."""

    id: str
    title: str
    status: str
    kind: str
    url: str
    score: float
    matched: tuple[str, ...]
    successor: str | None


@dataclass
class _QueryTerm:
    term: rules.Term
    expansions: dict[str, float]  # index term -> factor
    join: bool = False


class Engine:
    """Search over the index files of one edition, read through ``read`` (a name under ``search/kedb/``)."""

    def __init__(self, read: Callable[[str], bytes]) -> None:
        self._read = read
        meta = json.loads(read("meta.json"))
        if meta.get("version") != VERSION:
            raise EnvironmentProblem(f"the search index is of another kedb version ({meta.get('version')}); build the site again")
        self.docs: int = meta["docs"]
        self._names_per_file: int = meta["names"]
        self._firsts: list[bytes] = [order(t) for t in meta["shards"]]  # each shard's first term
        self._successors: list[tuple[int, int]] = [(a, b) for a, b in meta["successors"]]
        self.edition: dict[str, str | None] = meta.get("edition") or {}
        self._shards: dict[int, dict[str, list[int]]] = {}  # as stored: gaps and weights
        self._decoded: dict[str, list[tuple[int, float]]] = {}
        self._names: dict[int, list[list[str]]] = {}

    # ------------------------------------------------------------ construction
    @classmethod
    def from_site(cls, site_dir: Path) -> Engine:
        """The engine over the index a build wrote into ``site_dir`` (one edition)."""
        folder = Path(site_dir) / DIR
        if not (folder / "meta.json").is_file():
            raise EnvironmentProblem(f"{site_dir} has no kedb search index ({DIR}/meta.json); run `kedb build --only site` first")

        def read(name: str) -> bytes:
            return (folder / name).read_bytes()

        return cls(read)

    @classmethod
    def from_context(cls, ctx: BuildContext) -> Engine:
        """The engine over an index built in memory from the records of ``ctx``'s edition."""
        from . import documents, index

        built = index.files(documents.entries(ctx), extra={"edition": index.edition(ctx.info.audience, ctx.info.tenant)})
        prefix = DIR + "/"

        def read(name: str) -> bytes:
            return built[prefix + name]

        return cls(read)

    # ------------------------------------------------------------ index access
    def _shard(self, n: int) -> dict[str, list[int]]:
        """A shard's terms as stored; a term's postings are decoded when first asked for
        (a shard of common words lists thousands of records per term)."""
        if not 0 <= n < len(self._firsts):
            return {}
        got = self._shards.get(n)
        if got is None:
            got = self._shards[n] = json.loads(self._read(f"t-{n}.json"))
        return got

    def _shard_of(self, term: str) -> int:
        """The shard that holds ``term`` if any: the last whose first term is not after it (-1: none)."""
        return bisect_right(self._firsts, order(term)) - 1

    def _run(self, prefix: str) -> range:
        """The shards that may hold terms starting with ``prefix``."""
        return range(max(0, self._shard_of(prefix)), self._shard_of(prefix + "\uffff") + 1)

    def _postings(self, term: str) -> list[tuple[int, float]]:
        """``[(record number, weight)]`` of ``term``: the stored gaps summed, the weights unscaled."""
        post = self._decoded.get(term)
        if post is None:
            flat = self._shard(self._shard_of(term)).get(term, [])
            post = self._decoded[term] = list(zip(accumulate(flat[0::2]), [w / rules.SCALE for w in flat[1::2]], strict=True))
        return post

    def _df(self, term: str) -> int:
        return len(self._shard(self._shard_of(term)).get(term, ())) // 2

    def _starting(self, prefix: str) -> list[str]:
        out: list[str] = []
        for n in self._run(prefix):
            out += [t for t in self._shard(n) if t.startswith(prefix)]
        return sorted(out)

    def _row(self, doc: int) -> list[str]:
        n = doc // self._names_per_file
        if n not in self._names:
            self._names[n] = json.loads(self._read(f"n-{n}.json"))
        return self._names[n][doc % self._names_per_file]

    # ------------------------------------------------------------ the query
    def _terms(self, text: str) -> list[_QueryTerm]:
        analysed = rules.analyse(text)
        distinct: dict[str, rules.Term] = {}
        for t in analysed:
            distinct.setdefault(t.key, t)
        last = analysed[-1].key if analysed else None
        written = set(distinct)
        words = [t for t in distinct.values() if not t.code]
        if len(words) > rules.MAX_WORDS:
            # The rarest words the index knows (and the one being typed); codes are all kept.
            known = sorted((t for t in words if self._df(t.key)), key=lambda t: (self._df(t.key), list(distinct).index(t.key)))
            keep = {t.key for t in known[: rules.MAX_WORDS]} | {last}
            distinct = {k: t for k, t in distinct.items() if t.code or k in keep}
        fuzzy_ok = len(words) <= rules.FUZZY_MAX_WORDS
        out: list[_QueryTerm] = []
        for key, t in distinct.items():
            exp: dict[str, float] = {}
            if self._df(key):
                exp[key] = 1.0
            if (t.code and len(key) >= rules.MIN_PREFIX_CODE) or key == last:
                for other in self._starting(key):
                    if other != key:
                        exp.setdefault(other, rules.PREFIX)
            edits = rules.fuzzy_edits(t.surface)
            if not t.code and fuzzy_ok and edits and key not in exp:
                for n in self._run(key[: rules.FUZZY_SAME]):
                    for other in self._shard(n):
                        if other[: rules.FUZZY_SAME] != key[: rules.FUZZY_SAME] or not rules.is_word(other):
                            continue
                        d = rules.typo_distance(key, t.surface, other, edits)
                        if d <= edits and other != key and exp.get(other, 0.0) < rules.FUZZY[d - 1]:
                            exp[other] = rules.FUZZY[d - 1]
            out.append(_QueryTerm(t, dict(sorted(exp.items()))))
        for j in rules.joined(text):
            if j.key not in written and self._df(j.key) and not any(q.join and q.term.key == j.key for q in out):
                out.append(_QueryTerm(j, {j.key: 1.0}, join=True))
        return out

    def _idf(self, df: int) -> float:
        return math.log(1 + (self.docs - df + 0.5) / (df + 0.5))

    def search(self, text: str, limit: int = 10) -> tuple[list[Hit], int]:
        """The best ``limit`` records for ``text``, and how many records matched at all."""
        terms = self._terms(text)
        score: dict[int, float] = {}
        count: dict[int, int] = {}
        matched: dict[int, list[int]] = {}
        known = sum(1 for q in terms if not q.join and q.expansions)
        for qi, q in enumerate(terms):
            best: dict[int, float] = {}
            for term, factor in q.expansions.items():
                post = self._postings(term)
                weight = self._idf(len(post)) * factor
                get = best.get
                for doc, w in post:
                    s = weight * w
                    if s > get(doc, 0.0):
                        best[doc] = s
            for doc in sorted(best):
                score[doc] = score.get(doc, 0.0) + best[doc]
                matched.setdefault(doc, []).append(qi)
                if not q.join:
                    count[doc] = count.get(doc, 0) + 1
        final: dict[int, float] = {}
        for doc, s in score.items():
            share = count.get(doc, 0) / known if known else 0.0
            f = 1 + share
            final[doc] = s * f * f
        for old, new in self._successors:
            if old in final and final.get(new, 0.0) < final[old]:
                final[new] = final[old] * (1 + rules.SUCCESSOR_MARGIN)
                matched[new] = sorted(set(matched.get(new, [])) | set(matched[old]))
        ranked = sorted(final, key=lambda d: (-final[d], d))[: max(0, limit)]
        return [self._hit(d, final[d], [terms[i].term.surface for i in matched.get(d, [])]) for d in ranked], len(final)

    def _hit(self, doc: int, score: float, matched: list[str]) -> Hit:
        row = self._row(doc)
        url, rid, status, title = row[:4]
        return Hit(
            id=rid,
            title=title,
            status=status,
            kind=KIND_OF.get(rid.split("-", 1)[0], "record"),
            url=url,
            score=round(score, 4),
            matched=tuple(dict.fromkeys(matched)),
            successor=row[4] if len(row) > 4 else None,
        )

    def describe(self) -> dict[str, Any]:
        """What the engine reads: the number of records and index shards."""
        return {"records": self.docs, "shards": len(self._firsts)}
