"""Search: one engine for the site's search box, ``kedb search`` and the MCP server.

- :mod:`.rules` — how text becomes terms (codes in any form, stemmed words, stop words) and what
  each kind of match is worth: the tables, defined once and shipped in the index's ``meta.json``;
- :mod:`.documents` — what each record contributes (its fields, in the words agents use);
- :mod:`.index` — the static, sharded index the browser and Python both read;
- :mod:`.engine` — the reference scorer (:class:`~.engine.Engine`, :class:`~.engine.Hit`);
  ``templates/site/assets/search-worker.js`` is the same scorer for the browser.

Decision (issue #16): a hand-written engine, not MiniSearch or lunr. The rules that make agents
find the right record are ours: codes recognised in every spelling (``0x80070005`` and
``80070005``, ``aadsts 50076``, ``err ssl protocol error``), every code of a long paste kept,
live records before drafts and retired ones, a retired record placed under its successor. With
MiniSearch these would be a custom tokenizer and custom scoring in JavaScript only, and
``kedb search`` (Python) would need a second implementation of MiniSearch's ranking to agree with
the browser, which is the parity the issue asks for. So the rules live in Python as data
(:func:`.rules.tables`), the two scorers follow the same steps (Python's ~250 lines; the worker's
analysis, matching and scoring about as many, beside the protocol and the result display),
and ``tests/test_search_browser.py`` runs the query set through both and compares the first three
results. The libraries we do use are the ones for what is not ours to invent: Snowball's English
stemmer (``snowballstemmer`` on PyPI; the same algorithm from npm's ``porter2`` in the browser,
checked word for word; ``snowballstemmer`` is held below 3.0, whose English rules no longer match
any JavaScript port on npm). ``benchmarks/bench_findability.py`` measures the result
against the targets and against plain Material (lunr) on the same 104 queries: top-3 100 % and
top-1 99 % on the example KB (plain Material: 76.9 % and 59.6 %), 100 % and 97.1 % with 10,000
synthetic records mixed in (figures and times in ``benchmarks/README.md``).
"""
