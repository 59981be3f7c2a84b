"""Wrap npm's ``porter2`` (the English Snowball stemmer) for the site's search worker.

``templates/site/assets/porter2.js`` is made by this script and kept in the repository (the site
works offline and ``kedb build`` needs no npm). To refresh it::

    npm pack porter2@1.1.0 && tar xzf porter2-1.1.0.tgz
    .venv/bin/python tests/vendor_porter2.py package/dist/index.js package/LICENSE > templates/site/assets/porter2.js

The package (MIT licence, eilvelia) implements Snowball's English (Porter2) algorithm; it gives
the same stems as PyPI's ``snowballstemmer`` 2.x, which kedb uses at index time
(``tests/test_search_browser.py`` checks it word for word in the browser; on 239,817 distinct
words gathered from the machine's documentation, the one difference was a word starting with a
character outside the Basic Multilingual Plane). It replaced npm's ``snowball-stemmers``, whose
machine-translated classes spent 200-350 ms stemming the other pages' words when the worker
started (most of the time to the first result at 10,000 records); this one is about 20 times faster.
The module's source is kept unchanged inside a function that gives it its ``exports``.
"""

from __future__ import annotations

import sys
from pathlib import Path

VERSION = "1.1.0"


def wrap(source: str, licence: str) -> str:
    head = (
        f"/* porter2.js: npm's porter2 {VERSION} (https://github.com/eilvelia/porter2.js), Snowball's English\n"
        "   (Porter2) stemmer. Wrapped by tests/vendor_porter2.py: the module is unchanged inside a\n"
        "   function that gives it its exports. In a worker: importScripts() it, then porter2.stem(word).\n\n"
        + "\n".join(("   " + line).rstrip() for line in licence.strip().splitlines())
        + "\n*/\n"
    )
    return head + "var porter2 = (function (exports) {\n" + source.rstrip() + "\nreturn exports;\n})({});\n"


if __name__ == "__main__":
    sys.stdout.write(wrap(Path(sys.argv[1]).read_text(encoding="utf-8"), Path(sys.argv[2]).read_text(encoding="utf-8")))
