"""Cut the English stemmer out of npm's ``snowball-stemmers`` for the site's search worker.

``templates/site/assets/snowball-english.js`` is made by this script and kept in the repository
(the site works offline and ``kedb build`` needs no npm). To refresh it::

    npm pack snowball-stemmers@0.6.0 && tar xzf snowball-stemmers-0.6.0.tgz
    .venv/bin/python tests/vendor_snowball.py package/snowball-stemmers.js > templates/site/assets/snowball-english.js

The package (ISC licence, Oleg Mazko) is a JavaScript port of the Snowball stemmers; its English
stemmer gives the same stems as PyPI's ``snowballstemmer`` 2.x, which kedb uses at index time
(``tests/test_search_browser.py`` checks it word for word in the browser). The cut keeps the
shared runtime (everything before the first language) and the English class, unchanged, and
replaces the factory at the end by one for English only.
"""

from __future__ import annotations

import sys
from pathlib import Path

VERSION = "0.6.0"
HEAD = f"""/* snowball-english.js: the English (Porter2) stemmer of npm's snowball-stemmers {VERSION}
   (https://github.com/mazko/jssnowball, ISC licence, (c) Oleg Mazko), a port of the Snowball
   stemmers (https://snowballstem.org/, BSD licence). Cut by tests/vendor_snowball.py: the
   shared runtime and the English class are unchanged; the factory knows English only.
   In a worker: importScripts() it, then snowballFactory.newStemmer('english').stem(word). */
"""
TAIL = """
    function newStemmer(lng) {
        if (String(lng).toLowerCase() !== 'english') throw new Error('only English is included');
        var stemmer = new englishStemmer();
        return {
            stem: function stem(word) {
                stemmer.setCurrent(word);
                stemmer.stem();
                return stemmer.getCurrent();
            }
        };
    }

    function algorithms() {
        return ['english'];
    }
});
"""


def cut(source: str) -> str:
    lines = source.splitlines()
    first_language = next(i for i, line in enumerate(lines) if line.startswith("    var arabicStemmer = function"))
    start = next(i for i, line in enumerate(lines) if line.startswith("    var englishStemmer = function"))
    end = next(i for i in range(start, len(lines)) if lines[i] == "    }(SnowballStemmer);")
    return HEAD + "\n".join(lines[:first_language] + lines[start : end + 1]) + "\n" + TAIL


if __name__ == "__main__":
    sys.stdout.write(cut(Path(sys.argv[1]).read_text(encoding="utf-8")))
