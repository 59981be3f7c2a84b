"""The guards' small decisions, one by one, with the answer written out (see tests/test_guards.py
for the end-to-end checks and ``make mutation`` for what these tests are measured by)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kbtest import FIXTURES

# ---------------------------------------------------------------- approvals: a version's state from its text
RECORD = """---
id: KE-0001
title: A record
status: {status}
service: m365-mail
{extra}---

## Symptoms

Text.
"""


@pytest.fixture(scope="module")
def program():  # type: ignore[no-untyped-def]
    from kedb.core.load.loader import load

    kb, _ = load(FIXTURES / "base")
    return kb.program


@pytest.mark.parametrize(
    ("extra", "high"),
    [
        ("impact: low\npriority: P3\n", False),
        ("impact: high\npriority: P3\n", True),
        ("impact: low\npriority: P1\n", True),
        ("impact: low\npriority: P3\nrisk_tags: [security]\n", True),
        ("impact: low\npriority: P3\nrisk_tags: []\n", False),
        ("impact: low\npriority: P3\nrisk_tags: security\n", False),  # not a list: the schema refuses it, the gate ignores it
    ],
)
def test_the_state_of_a_version_is_read_from_its_own_text(program, extra: str, high: bool) -> None:  # type: ignore[no-untyped-def]
    from kedb.core.trail import VersionState
    from kedb.git.approvals import _state

    assert _state(RECORD.format(status="published", extra=extra), program) == VersionState("published", "m365-mail", high)


@pytest.mark.parametrize(
    "text",
    [
        "no front-matter at all\n",
        "---\nid: KE-0001\nstatus: [published\n---\n",  # YAML that cannot be read
        "---\n- a list\n- not a mapping\n---\n",
        "---\nid: KE-0001\nstatus: published\n",  # never closed
    ],
)
def test_an_unreadable_version_is_neither_published_nor_high_impact(program, text: str) -> None:  # type: ignore[no-untyped-def]
    from kedb.core.trail import VersionState
    from kedb.git.approvals import _state

    assert _state(text, program) == VersionState(None, None, False)


def test_a_version_without_a_status_has_none(program) -> None:  # type: ignore[no-untyped-def]
    from kedb.git.approvals import _state

    state = _state("---\nid: KE-0001\nservice: m365-mail\nimpact: high\n---\n", program)
    assert (state.status, state.service, state.high_impact) == (None, "m365-mail", True)


# ---------------------------------------------------------------- secret-looking values after a keyword
@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ("password: hunter2", True),  # a digit
        ("password: horse$battery", True),  # a symbol
        ("client_secret = MixedCaseValue", True),  # mixed case
        ("password: changeme", False),  # one plain word
        ("password: your-password", False),  # words joined by a dash
        ("password: correct-horse!", False),  # words, and the closing mark is punctuation
        ("password: expired.", False),  # a word and a full stop
        ("token: expired)", False),
        ("token: AADSTS50076", False),  # an error code
        ("pin: 0x80070005", False),
        ("password: KB5034441", False),
        ("password: YOUR-PASSWORD", False),  # placeholders
        ("api_key: ${API_KEY}", False),
        ("secret: ******", False),
        ("secret: abc", False),  # too short to be one
    ],
)
def test_a_value_after_a_secret_keyword(line: str, flagged: bool) -> None:
    from kedb.core.load.scan import Allow, secrets

    found = [i for i in secrets(f"intro\n{line}\n", Allow()) if i[0] == "KE401"]
    assert bool(found) is flagged, found
    if flagged:
        assert found[0][1] == 2 and "placeholder" in found[0][2]


# ---------------------------------------------------------------- links and HTML in record bodies
@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://learn.example.com/kb/123", "https://learn.example.com/kb/123"),
        ("  http://x.example  ", "http://x.example"),
        ("mailto:servicedesk@example.com", "mailto:servicedesk@example.com"),
        ("#rollback", "#rollback"),
        ("javascript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("&#106;avascript:alert(1)", None),
        ("\x01javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("vbscript:msgbox", None),
        ("ht\ttps://x.example", "ht\ttps://x.example"),  # white space inside a scheme is ignored for the test only
        ("//evil.example/x", None),
        ("", None),
    ],
)
def test_safe_href(url: str, kept: str | None) -> None:
    from kedb.site.text import safe_href

    assert safe_href(url) == kept


def test_control_characters_are_removed_from_a_kept_link() -> None:
    from kedb.site.text import safe_href

    assert safe_href("https://x.example/\x07a") == "https://x.example/a"


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("<p>a<br/>b</p>", "<p>a<br>b</p>"),
        ("<p>a<br>b</p>", "<p>a<br>b</p>"),
        ("<p><em/>x</p>", "<p><em></em>x</p>"),  # a self-closed allowed tag is closed at once
        ("<p><i/>x</p>", "<p><em></em>x</p>"),
        ("<p><script/>x</p>", "<p></p>"),  # as in a browser, the slash does not close a script: what follows is dropped
        ("<p><img src='https://x.example/a.png' alt='diagram'/></p>", '<p><a href="https://x.example/a.png">[diagram]</a></p>'),
        ("<p><img src='javascript:alert(1)'/></p>", "<p>[image]</p>"),
        ("<p><custom/>x</p>", "<p>x</p>"),
        ("<p><hr/>x</p>", "<p><hr>x</p>"),
        ("<script>alert(1)<br/></script><p>after</p>", "<p>after</p>"),
    ],
)
def test_self_closing_tags(fragment: str, expected: str) -> None:
    from kedb.site.text import sanitise

    assert sanitise(fragment) == expected


# ---------------------------------------------------------------- text for XML-based documents
@pytest.mark.parametrize(
    ("value", "expected"), [(None, ""), (5, "5"), ("a\x01b\x0bc\x1f", "abc"), ("tab\tand\nline", "tab\tand\nline"), ("\ufffe!", "!")]
)
def test_clean(value: object, expected: str) -> None:
    from kedb.renderers._md import clean

    assert clean(value) == expected


# ---------------------------------------------------------------- the strict YAML reader's own words
def test_unreadable_yaml_is_one_finding_on_its_line_with_a_hint() -> None:
    from kedb.core.load.yamlstrict import parse_events

    parsed = parse_events("id: KE-0001\ntitle: Fails: here\n", line_offset=1)
    [(code, line, msg)] = parsed.issues
    assert (code, line) == ("KE004", 3)
    assert msg.startswith("YAML cannot be read: mapping values are not allowed") and msg.endswith(
        "; a value containing ': ' must be quoted"
    )


def test_unreadable_yaml_names_what_libyaml_was_reading() -> None:
    from kedb.core.load.yamlstrict import parse_events

    parsed = parse_events("tags: [a, b\nowner: x\n")
    assert len(parsed.issues) == 1
    code, line, msg = parsed.issues[0]
    assert code == "KE004" and line == 2
    assert msg.startswith("YAML cannot be read: ") and "(while parsing a flow sequence)" in msg
    assert "must be quoted" not in msg


def test_the_line_of_a_key_or_its_nearest_ancestor() -> None:
    from kedb.core.load.yamlstrict import parse

    parsed = parse("id: KE-0001\nfix:\n  status: none\nsymptoms:\n  - one\n  - two\n", line_offset=1)
    assert parsed.line_of(("fix", "status")) == 4
    assert parsed.line_of(("fix", "change_ref")) == 3  # absent: the line of `fix`
    assert parsed.line_of(("symptoms", 1)) == 7
    assert parsed.line_of(("nothing", "here")) == 2  # the document's first line
    assert parsed.line_of((), 99) == 2
    empty = parse("", line_offset=0)
    assert empty.line_of(("x",), 42) == 42


def test_a_text_of_only_a_tab_indent_error(tmp_path: Path) -> None:
    from kedb.core.load.yamlstrict import parse_events

    parsed = parse_events("fix:\n\tstatus: none\n", line_offset=4)
    assert parsed.issues == [("KE011", 6, "tab used for indentation; indent with spaces")]
    assert parsed.data is None
