"""The speed-ups in reading a KB change nothing that is reported.

* ``yamlstrict.parse_simple`` (the fast path for plain front-matter) gives exactly what the
  libyaml event builder gives (data, types, key lines and their order, no issues) whenever it
  answers at all; it is fed generated documents, plain front-matter from Hypothesis (every one
  of which it must read, counted), mutated documents, YAML-ish noise on its own and put into
  front-matter (a counted share of which it reads), and every real file in the repository.
* Loading a KB full of errors gives the same findings, records and sources serially, with worker
  processes, without the fast path, and with and without the per-file cache.
* The site's relative links (``kedb.site.urls.relpath``) are those ``posixpath.relpath`` gives, for
  any two paths, including those it answers by asking the system (absolute, ``..``, empty); so are the
  paths of pages under a site tree (``kedb.site.trees.inside``), for any two paths, rooted or not.
* A page's front-matter as MkDocs reads it for a page kedb rendered (``kedb.site.plugin._copied``) is what
  ``copy.deepcopy`` gives, and shares no list or dict with the page kedb keeps.
"""

from __future__ import annotations

import copy
import posixpath
import random
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kedb.check.run import run
from kedb.core.kb import KB
from kedb.core.load import cache, frontmatter, loader, yamlstrict
from kedb.core.load.yamlstrict import parse, parse_events, parse_simple
from kedb.search import documents, index, rules
from kedb.site.plugin import _copied
from kedb.site.trees import inside
from kedb.site.urls import relpath

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from synth import make_kb  # noqa: E402


def same_as_libyaml(text: str, line_offset: int = 0) -> bool:
    """Assert the fast path agrees with libyaml on ``text``; True if it answered."""
    fast = parse_simple(text, line_offset)
    if fast is None:
        return False
    slow = parse_events(text, line_offset)
    assert slow.issues == [], f"fast path accepted what libyaml reports: {slow.issues}\n{text}"
    assert repr(fast.data) == repr(slow.data), f"data differs\n{text}\nfast: {fast.data!r}\nslow: {slow.data!r}"
    assert list(fast.lines.items()) == list(slow.lines.items()), f"lines differ\n{text}"
    assert fast.first_line == slow.first_line and fast.issues == []
    return True


# ---------------------------------------------------------------- generated documents
# Mostly the shapes front-matter has (so the fast path answers and is checked), with a dash of
# everything YAML treats specially (so the fast path has to notice and give up).
_CLEAN = [
    "a", "b c", "KE-0001", "2026-02-30", "NO", "yes", "true", "False", "null", "~", "Null", "0755", "12:30", "1e3", "a:b",
    "a#b", "C#", "a,b", "a[b]", "a{b}", "a'b", "a  b", "é", "中文", "…", "http://x/y", "C:\\temp", "a=b", "x.y", "0x800f0922",
    "'q'", "'it''s'", "''", "'a: b'", "'a, b'", '"d"', '""', '"a: b"', '"it\'s"', "Microsoft 365 Apps", "user's desktop",
]  # fmt: skip
_NASTY = [
    "a: b", "a :b", "x:", "a #b", "-a", "- a", "-", "?a", "? a", ":a", ",a", "a, b", "[a]", "{a}", "#c", "&x", "*x", "!x",
    "!!str x", "|", "|-", ">", "%x", "@x", "`x`", "a`b", "'a", '"a\\tb"', '"a"b"', "'a' 'b'", "'''", "a\u00a0b", "\ufeffx",
    "a\tb", "---", "...", "<<", "a b: c", "a\rb", "a\u2028b", "a\x85b", "x" * 1100, "a\x01b", "\ud800",
]  # fmt: skip
_KEYS = ["id", "title", "a", "b", "fix", "status", "x-y", "_k", "true", "null", "review_by", "K9"]
_NASTY_KEYS = ["1a", "a b", "<<", "'q'", "é", "k" * 120, "? a", "a:", "-", "[a]", "k" * 1100]


def _pick(rng: random.Random, clean: list[str], nasty: list[str], p_nasty: float) -> str:
    return rng.choice(nasty if rng.random() < p_nasty else clean)


def gen_document(rng: random.Random, p_nasty: float = 0.03) -> str:
    """YAML text from a random tree, laid out in the ways people write front-matter (and some not)."""
    step = rng.choice([2, 2, 2, 4, 1, 3])
    out: list[str] = []

    def word(in_flow: bool = False) -> str:
        w = _pick(rng, _CLEAN, _NASTY, p_nasty)
        return w.replace(",", "").replace(":", "") if in_flow and rng.random() < 0.9 else w

    def key(taken: set[str]) -> str:
        k = _pick(rng, _KEYS, _NASTY_KEYS, p_nasty)
        while k in taken and rng.random() > p_nasty:  # mostly no duplicate keys (those go to libyaml)
            k += rng.choice("abc_-9")
        taken.add(k)
        return k

    def noise() -> None:
        r = rng.random()
        if r < 0.03:
            out.append("")
        elif r < 0.05:
            out.append(" " * rng.randint(0, 6) + "# comment")
        elif r < 0.06:
            out.append(" " * rng.randint(0, 6))

    def scalar(indent: int) -> str:
        r = rng.random()
        if r < 0.65:
            return word()
        if r < 0.85:
            sep = rng.choice([", ", ", ", ",", " , "])
            tail = rng.choice([" ", ","]) if rng.random() < p_nasty else ""
            return "[" + sep.join(word(True) for _ in range(rng.randint(0, 4))) + "]" + tail
        if r < 0.87:
            return ""
        body = indent + rng.choice([step, step, step, 1, 0, 3])
        lines = [
            rng.choice(["line", "  more", "", "# not a comment", "- x", "k: v", "  ", " ", "a: 'b'"]) for _ in range(rng.randint(1, 4))
        ]
        lines = [(" " * body + ln) if ln.strip() else ln for ln in lines]
        header = rng.choice(["|", "|-", "|+", ">", "|2", ">-"]) if rng.random() < 0.5 else rng.choice(["|", "|-"])
        return header + "\n" + "\n".join(lines)

    def pair(indent: int, key: str, depth: int, item_head: bool) -> None:
        head = " " * indent + key + ":"
        start = len(out)
        r = rng.random() if depth > 0 else 0.0
        if r > 0.7:  # nested mapping
            out.append(head + (rng.choice([" ", " # c"]) if rng.random() < p_nasty else ""))
            mapping(indent + step, depth - 1, False)
        elif r > 0.45:  # list of values or of mappings
            out.append(head)
            sequence(indent if rng.random() < 0.3 else indent + step, depth - 1)
        else:
            text = scalar(indent)
            gap = rng.choice([" ", " ", " ", "  "]) if text else ""
            out.append(head + gap + text + rng.choice(["", "", "", "", " "]))
        if item_head:  # the first key of a mapping that starts on a '- ' line
            out[start] = out[start][: indent - 2] + "- " + out[start][indent:]

    def mapping(indent: int, depth: int, item_head: bool) -> None:
        taken: set[str] = set()
        for n in range(rng.randint(1, 4)):
            if n:
                noise()
            pair(indent, key(taken), depth, item_head and n == 0)

    def sequence(indent: int, depth: int) -> None:
        for _ in range(rng.randint(1, 4)):
            noise()
            if depth > 0 and rng.random() < 0.3:
                mapping(indent + rng.choice([2, 2, 2, 3]), depth - 1, True)
            else:
                out.append(" " * indent + "-" + rng.choice([" ", " ", " ", "  "]) + (scalar(indent) or "x"))

    mapping(0, rng.randint(0, 3), False)
    return "\n".join(out) + rng.choice(["\n"] * 8 + ["\n\n", "\n# end\n", ""])


_MUTATIONS = [*" \n:-#'\"[]{},|>&*!?%@`~\t\\ab0é", "\u2028", "\x85", "\ufeff", "\r", "  ", "- ", ": "]


def mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        pos = rng.randint(0, len(chars))
        ch = rng.choice(_MUTATIONS)
        op = rng.random()
        if op < 0.4 or pos == len(chars):
            chars.insert(pos, ch)
        elif op < 0.7:
            del chars[pos]
        else:
            chars[pos] = ch
    return "".join(chars)


def test_fast_path_agrees_on_generated_documents() -> None:
    answered = 0
    for seed in range(3000):
        rng = random.Random(seed)
        answered += same_as_libyaml(gen_document(rng), rng.randint(0, 3))
    assert answered > 900, answered  # a good share of what the generator makes is read by the fast path


def test_fast_path_agrees_on_mutated_documents() -> None:
    answered = 0
    for seed in range(3000):
        rng = random.Random(10_000 + seed)
        answered += same_as_libyaml(mutate(rng, gen_document(rng, 0.0)))
    assert answered > 200, answered


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32), p_nasty=st.sampled_from([0.0, 0.05, 0.3]), mutated=st.booleans())
def test_fast_path_agrees_on_random_seeds(seed: int, p_nasty: float, mutated: bool) -> None:
    rng = random.Random(seed)
    text = gen_document(rng, p_nasty)
    same_as_libyaml(mutate(rng, text) if mutated else text)


# Plain front-matter, the shapes the fast path is for: keys, plain and quoted values, one-line
# [a, b] lists, nested mappings, lists of values or of mappings, '|' and '|-' blocks, comments.
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _chars(first: str, rest: str, most: int) -> st.SearchStrategy[str]:
    """Text of one character of ``first`` and up to ``most`` of ``rest``."""
    return st.builds(str.__add__, st.sampled_from(first), st.text(st.sampled_from(rest), max_size=most))


_key = _chars(_ALNUM[:52] + "_", _ALNUM + "_-", 14)
_word = _chars(_ALNUM + "é中", _ALNUM + " ._/()+=,'é中-", 24)
_flow_word = _chars(_ALNUM + "é", _ALNUM + " ._/()+=é-", 12).map(str.rstrip)
_plain = st.one_of(_word, st.sampled_from(_CLEAN))


def _quoted(alphabet: str) -> st.SearchStrategy[str]:
    text = st.text(st.sampled_from(alphabet), max_size=12)
    return st.one_of(text.map(lambda t: "'" + t.replace("'", "''") + "'"), text.map(lambda t: '"' + t.replace('"', "") + '"'))


_flow = st.lists(st.one_of(_flow_word, _quoted("ab :&*!|>'\"-é")), max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")
_one_line = st.one_of(_plain, _plain, _quoted("ab :,#[]{}&*!|>'\"-é"), _flow)
_text_line = _chars(_ALNUM + "#-:'中", _ALNUM + " #:'-中", 30)


@st.composite
def _block(draw: st.DrawFn, indent: int, depth: int) -> list[str]:
    """A mapping at ``indent``: its lines."""
    out: list[str] = []
    pad = " " * indent
    for key in draw(st.lists(_key, min_size=1, max_size=4, unique=True)):
        if draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from(["", pad + "# a comment", "# a comment"])))
        shape = draw(st.sampled_from(["line"] * 4 + ["empty", "literal"] + (["map", "list", "items"] if depth else [])))
        if shape == "line":
            out.append(f"{pad}{key}: {draw(_one_line)}")
        elif shape == "empty":
            out.append(f"{pad}{key}:")
        elif shape == "literal":
            out.append(f"{pad}{key}: {draw(st.sampled_from(['|', '|-']))}")
            body = [draw(_text_line), *draw(st.lists(st.one_of(_text_line, st.just("")), max_size=3))]  # not starting blank
            out += [f"{pad}  {ln}" if ln else "" for ln in body]
        elif shape == "map":
            out.append(f"{pad}{key}:")
            out += draw(_block(indent + 2, depth - 1))
        elif shape == "list":
            out.append(f"{pad}{key}:")
            item_pad = pad + draw(st.sampled_from(["", "  "]))
            out += [f"{item_pad}- {v}" for v in draw(st.lists(_one_line, min_size=1, max_size=3))]
        else:  # a list of mappings, each starting on its '- ' line
            out.append(f"{pad}{key}:")
            for _ in range(draw(st.integers(1, 3))):
                lines = draw(_block(indent + 4, depth - 1))
                first = next(i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#"))  # the first key
                out += [*lines[:first], f"{pad}  - {lines[first].lstrip()}", *lines[first + 1 :]]
    return out


plain_front_matter = _block(0, 2).map(lambda lines: "\n".join(lines) + "\n")


def test_fast_path_reads_plain_front_matter_as_libyaml_does() -> None:
    """Every generated document is read by the fast path (the count proves it), and the same as libyaml reads it."""
    seen: Counter[str] = Counter()

    @settings(max_examples=250, deadline=None)
    @given(text=plain_front_matter, offset=st.integers(0, 3))
    def check(text: str, offset: int) -> None:
        seen["inputs"] += 1
        seen["answered"] += same_as_libyaml(text, offset)

    check()
    assert seen["inputs"] >= 250 and seen["answered"] == seen["inputs"], seen


_yamlish = st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#\t \n?,%@`~0123456789.<=/\\\x01\u00e9\u4e2d\ufeff\r")), max_size=200)


def test_fast_path_agrees_on_noise() -> None:
    """Noise on its own (which the fast path mostly refuses) and noise put into plain front-matter: as a
    value, a list item or a line of its own. Part of the latter is still plain: the fast path reads
    it, and the count proves that a good share was compared with libyaml."""
    seen: Counter[str] = Counter()

    @settings(max_examples=300, deadline=None)
    @given(text=_yamlish, doc=plain_front_matter, where=st.sampled_from(["value", "item", "line"]), at=st.integers(0, 10**6))
    def check(text: str, doc: str, where: str, at: int) -> None:
        same_as_libyaml(text)  # noise alone: the fast path mostly refuses it, and never raises
        same_as_libyaml(text + "\n")
        lines = doc.splitlines()
        one_line = text.replace("\n", " ").replace("\r", " ")
        if where == "value":
            lines.append(f"noise_key: {one_line}")
        elif where == "item":
            lines += ["noise_list:", f"  - {one_line}"]
        else:
            lines.insert(at % len(lines), text)
        seen["inputs"] += 1
        seen["answered"] += same_as_libyaml("\n".join(lines) + "\n")

    check()
    assert seen["inputs"] >= 300 and seen["answered"] >= seen["inputs"] // 5, seen


def test_fast_path_agrees_on_every_real_file() -> None:
    """Every front-matter and data file in the repository, and every invalid fixture."""
    answered = total = 0
    paths = [
        p for p in sorted(REPO.glob("known_errors/*.md")) + sorted(REPO.glob("content/**/*")) + sorted(REPO.glob("tests/fixtures/**/*"))
    ]
    for p in paths:
        if not p.is_file() or p.suffix not in (".md", ".yml", ".yaml"):
            continue
        text, err = frontmatter.decode(p.read_bytes())
        if err:
            continue
        if p.suffix == ".md":
            sp = frontmatter.split(text)
            if sp.issue:
                continue
            yaml_text, offset = sp.front, sp.front_line - 1
        else:
            yaml_text, offset = text, 0
        total += 1
        answered += same_as_libyaml(yaml_text, offset)
        full = parse(yaml_text, offset)
        slow = parse_events(yaml_text, offset)
        assert (repr(full.data), list(full.lines.items()), full.issues) == (repr(slow.data), list(slow.lines.items()), slow.issues), p
    assert total > 100 and answered > 50, (total, answered)


def test_fast_path_takes_the_example_records() -> None:
    """A speed guard, not a correctness one: the bundled records nearly all take the fast path."""
    slow = []
    paths = sorted(REPO.glob("known_errors/*.md"))
    for p in paths:
        sp = frontmatter.split(frontmatter.decode(p.read_bytes())[0])
        if parse_simple(sp.front, sp.front_line - 1) is None:
            slow.append(p.name)
    assert len(slow) <= len(paths) // 10, f"read by libyaml's event stream (slower): {slow}"


def test_refused_shapes_go_to_libyaml() -> None:
    for text in [
        "a: 1\na: 2\n",  # duplicate key: libyaml's builder reports it
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "<<: {a: 1}\n",
        "a: b: c\n",
        "a:\n\t- x\n",
        "a: 'multi\n  line'\n",
        "a: plain\n  continued\n",
        "a: >\n  folded\n",
        "a: 1\n---\nb: 2\n",
        "a: 1",  # no final newline
        "a: x # comment\n",
    ]:
        assert parse_simple(text) is None, text


# ---------------------------------------------------------------- whole KBs with errors
def _snapshot(kb: KB, findings: list[Any]) -> tuple[Any, ...]:
    records = {rid: (type(r.meta).__name__, r.meta.model_dump(mode="json"), tuple(r.source)) for rid, r in kb.records.items()}
    return (
        [(f.path, f.line, f.code, f.message) for f in findings],
        records,
        dict(kb.seen_ids),
        [(r.meta.model_dump(mode="json"), tuple(r.source)) for r in kb.playbooks],
    )


@pytest.fixture(scope="module")
def dirty_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 synthetic records, half of them broken in one or two ways (benchmarks/synth.py)."""
    return make_kb(tmp_path_factory.mktemp("equiv") / "dirty", 400, dirty=0.5)


def test_dirty_kb_has_many_kinds_of_findings(dirty_kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV_OFF, "1")
    codes = {f.code for f in run(dirty_kb).findings}
    assert len(codes) >= 25, sorted(codes)
    assert "KE000" not in codes


def test_serial_parallel_and_slow_path_agree(dirty_kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV_OFF, "1")
    serial = _snapshot(*loader.load(dirty_kb, workers=1))
    parallel = _snapshot(*loader.load(dirty_kb, workers=2))
    assert serial == parallel
    monkeypatch.setattr(yamlstrict, "parse_simple", lambda text, line_offset=0: None)
    assert _snapshot(*loader.load(dirty_kb, workers=1)) == serial


def test_cached_and_uncached_agree(dirty_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = Path(shutil.copytree(dirty_kb, tmp_path / "kb"))
    uncached = _snapshot(*loader.load(root, workers=1, use_cache=False))
    assert not (root / cache.CACHE_DIR).exists()
    cold = _snapshot(*loader.load(root, workers=2))
    assert (root / cache.CACHE_DIR / cache.FILE_NAME).is_file()
    warm = _snapshot(*loader.load(root, workers=2))
    warm_serial = _snapshot(*loader.load(root, workers=1))
    assert uncached == cold == warm == warm_serial
    # Break some more files: they are read again, the others come from the cache.
    rng = random.Random(3)
    for p in rng.sample(sorted((root / "known_errors").iterdir()), 40):
        p.write_bytes(p.read_bytes().replace(b"status: published", b"status: publishd").replace(b"## Cause", b"## Caus"))
    assert _snapshot(*loader.load(root, workers=2)) == _snapshot(*loader.load(root, workers=1, use_cache=False))


def _relpath_or_error(fn: Any, path: str, start: str) -> str | tuple[str, str]:
    try:
        return str(fn(path, start))
    except ValueError as e:
        return ("error", str(e))


_SEGMENT = st.sampled_from(["a", "b", "known-errors", "KE-0001", "index.html", "x.md", ".", "..", ""])


@settings(max_examples=2000, deadline=None)
@given(st.lists(_SEGMENT, max_size=5).map("/".join), st.lists(_SEGMENT, max_size=5).map("/".join))
def test_site_relpath_is_posix_relpath(path: str, start: str) -> None:
    assert _relpath_or_error(relpath, path, start) == _relpath_or_error(posixpath.relpath, path, start)


@settings(max_examples=2000, deadline=None)
@given(
    st.sampled_from(["", "/", "/srv", "/srv/"]).flatmap(lambda a: st.lists(_SEGMENT, max_size=5).map(lambda p: a + "/".join(p))),
    st.sampled_from(["", "/", "/srv", "/srv/"]).flatmap(lambda a: st.lists(_SEGMENT, max_size=3).map(lambda p: a + "/".join(p))),
)
def test_a_page_path_inside_a_tree_is_os_relpath(path: str, tree: str) -> None:
    assert _relpath_or_error(inside, path, tree) == _relpath_or_error(posixpath.relpath, path, tree)


_META = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8) | st.dates(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4) | st.tuples(inner, inner),
    max_leaves=20,
)


def _containers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *(c for v in value.values() for c in _containers(v))]
    if isinstance(value, (list, tuple)):
        return (
            [value, *(c for v in value for c in _containers(v))] if isinstance(value, list) else [c for v in value for c in _containers(v)]
        )
    return []


@settings(max_examples=1000, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _META, max_size=5))
def test_front_matter_is_copied_as_deepcopy_copies_it(meta: dict[str, Any]) -> None:
    copied = _copied(meta)
    assert copied == copy.deepcopy(meta) and type(copied) is dict
    mine = {id(c) for c in _containers(copied)}
    assert not mine & {id(c) for c in _containers(meta)}, "a list or dict is shared with the page kedb keeps"
    assert all(type(a) is type(b) for a, b in zip(_containers(copied), _containers(meta), strict=True))


# ------------------------------------------------------------------ the search index kept in the process (mkdocs serve)
_WORDS = ["printer", "spooler", "vpn", "tunnel", "token", "expired", "outlook", "mailbox", "driver", "queue", "policy", "dns"]
_text = st.lists(st.sampled_from(_WORDS), max_size=8).map(" ".join)
_entry = st.builds(
    lambda n, kind, status, title, symptoms, body: documents.Entry(
        f"KE-{n}", kind, status, title, f"r/{n}/", fields={"codes": f"KE-{n}", "title": title, "symptoms": symptoms, "body": body}
    ),
    st.integers(0, 9),
    st.sampled_from(["known-error", "workaround", "problem"]),
    st.sampled_from(["published", "draft", "retired"]),
    _text,
    _text,
    _text,
)


@settings(max_examples=150, deadline=None)
@given(
    first=st.lists(_entry, min_size=1, max_size=12),
    rounds=st.lists(st.lists(st.tuples(st.integers(0, 11), _entry | st.none()), max_size=4), min_size=1, max_size=4),
    body_terms=st.integers(1, 4),
)
def test_a_kept_search_index_gives_the_bytes_of_one_made_from_scratch(
    first: list[Any], rounds: list[list[tuple[int, Any]]], body_terms: int
) -> None:
    """``mkdocs serve`` keeps the index's postings (kedb.search.index.Kept) and updates them for the entries that changed
    (a new object: changed text, or the same text again). After each round of changes, its files are those made from
    scratch. Few body terms are kept, so a frequency that moves changes which body terms other entries keep."""
    saved = rules.BODY_TERMS
    rules.BODY_TERMS = body_terms
    try:
        index._KEPT.clear()
        entries = list(first)
        assert index.files(entries, remember=True) == index.files(entries)
        for changes in rounds:
            for at, new in changes:
                i = at % len(entries)
                old = entries[i]
                entries[i] = (
                    new if new is not None else documents.Entry(old.id, old.kind, old.status, old.title, old.url, fields=dict(old.fields))
                )
            assert index.files(entries, remember=True) == index.files(entries)
    finally:
        rules.BODY_TERMS = saved
        index._KEPT.clear()
