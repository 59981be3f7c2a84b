"""The strict YAML reader, and a property test: no input escapes as an exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kedb.core.load.loader import read_markdown
from kedb.core.load.scan import Allow
from kedb.core.load.yamlstrict import parse
from kedb.core.records import KnownError


def codes(text: str) -> list[tuple[str, int]]:
    return [(c, line) for c, line, _ in parse(text).issues]


def test_yaml_11_surprises_stay_text() -> None:
    p = parse("a: NO\nb: 0755\nc: 12:30\nd: yes\ne: 1e3\nf: true\ng: ~\nh:\ni: 'true'\n")
    assert p.data == {"a": "NO", "b": "0755", "c": "12:30", "d": "yes", "e": "1e3", "f": True, "g": None, "h": None, "i": "true"}
    assert p.issues == []


def test_refused_constructs_with_lines() -> None:
    assert codes("a: 1\nb: 2\na: 3\n") == [("KE005", 3)]
    assert codes("a: !!python/object/apply:os.system [ls]\n") == [("KE006", 1)]
    assert codes("a: !custom x\n") == [("KE006", 1)]
    assert codes("a: &x 1\nb: *x\n") == [("KE007", 1), ("KE007", 2)]
    assert codes("a:\n  <<: {b: 1}\n  c: 2\n") == [("KE008", 2)]
    assert codes("a: 1\n---\nb: 2\n") == [("KE009", 2)]
    assert codes("a:\n\t- x\n") == [("KE011", 2)]
    assert codes("? [a, b]\n: c\n") == [("KE004", 1)]
    assert codes("a: b: c\n")[0][0] == "KE004"


def test_line_offset_and_nested_lines() -> None:
    p = parse("fix:\n  status: none\nlist:\n  - a\n  - b\n", line_offset=1)
    assert p.lines[("fix", "status")] == 3
    assert p.lines[("list", 1)] == 6
    assert p.line_of(("fix", "nope")) == 2


def test_duplicate_in_nested_mapping_keeps_first() -> None:
    p = parse("a:\n  x: 1\n  x: [2]\nb: 2\n")
    assert p.data == {"a": {"x": "1"}, "b": "2"}
    assert codes("a:\n  x: 1\n  x: [2]\nb: 2\n") == [("KE005", 3)]


_yamlish = st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#\t \n?,%@`~0123456789.<=/\\\x01\u00e9\u4e2d\ufeff\r")), max_size=200)
_keys = st.sampled_from(["id", "title", "status", "symptoms", "fix", "created", "review_by", "tags", "<<", "x"])
_values = st.one_of(
    _yamlish, st.sampled_from(["KE-0001", "2026-02-30", "NO", "[a, b]", "{status: x}", "- a\n- b", "", "~", "!!python/object x"])
)
_front = st.lists(st.tuples(_keys, _values), max_size=8).map(lambda kv: "\n".join(f"{k}: {v}" for k, v in kv))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(front=st.one_of(_front, _yamlish), body=_yamlish, opener=st.sampled_from(["---\n", "---\r\n", "\ufeff---\n", "", "---"]))
def test_no_input_escapes_as_an_exception(tmp_path: Path, front: str, body: str, opener: str) -> None:
    path = tmp_path / "KE-0001-x.md"
    path.write_bytes((opener + front + "\n---\n" + body).encode("utf-8", "surrogatepass"))
    res = read_markdown(path, "known_errors/KE-0001-x.md", KnownError, Allow(), 65536, 600, KnownError.sections)
    for code, line, message in res.issues:
        assert code != "KE000", message
        assert isinstance(line, int) and line >= 1
        assert message
    refused = {"KE001", "KE002", "KE003", "KE004", "KE006", "KE007", "KE008", "KE009", "KE010", "KE011"}
    if any(code in refused for code, _, _ in res.issues):
        assert res.model is None, "a file with refused YAML must not produce a record"


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "KE-0001-x.md"
        path.write_bytes(raw)
        res = read_markdown(path, "known_errors/KE-0001-x.md", KnownError, Allow(), 65536, 600, KnownError.sections)
        assert all(code != "KE000" and line >= 1 for code, line, _ in res.issues)


def test_text_after_a_flow_root_is_a_syntax_error_not_a_second_document() -> None:
    # libyaml asks for a '<document start>' here too, but no '...' ended the document: KE004
    parsed = parse("[a]\nb: 1\n", 0)
    assert [(code, line) for code, line, _ in parsed.issues] == [("KE004", 2)]
    assert "document start" in parsed.issues[0][2]
