"""The record index of the site: kedb's search index (:mod:`kedb.search.index`) and what results show.

``search/kedb/`` holds the index every search reads (``meta.json``, ``t-*.json`` term shards,
``n-*.json`` ids and titles) and, for the site only, ``d-<n>.json``: display data of
:data:`CHUNK` records each, ``[location, title, text, tags]`` (HTML-escaped). The worker
lists a query's results from the titles first and adds their text and tags when these small
files are in.

``templates/site/assets/search-worker.js`` answers Material's search box from it (and from
Material's own, now small, index of the other pages), so agents use the usual search UI.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from ..build.context import BuildInfo
from ..search import index
from .search import Doc

CHUNK = 32  # records per display file: a query's top results fetch a few small files
DIR = index.DIR


def build(entries: Iterable[Doc], info: BuildInfo, remember: bool = False) -> dict[str, bytes]:
    """Every file of ``search/kedb/``, by path under the site (deterministic bytes). ``meta.json``
    names the edition, so ``kedb search --site`` can refuse to answer for another one. ``remember``: see
    :func:`kedb.search.index.files`."""
    docs = list(entries)
    extra = {"chunk": CHUNK, "edition": index.edition(info.audience, info.tenant)}
    out = index.files([d.entry for d in docs], extra=extra, remember=remember)
    for n in range(math.ceil(len(docs) / CHUNK)):
        chunk = docs[n * CHUNK : (n + 1) * CHUNK]
        out[f"{DIR}/d-{n}.json"] = _dump([[d.location, d.title, d.text, d.tags] for d in chunk])
    return dict(sorted(out.items()))


def _dump(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
