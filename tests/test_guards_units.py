"""The guards' small decisions, one by one, with the answer written out (see tests/test_guards.py
for the end-to-end checks and ``make mutation`` for what these tests are measured by)."""

from __future__ import annotations

from pathlib import Path

import pytest


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
REL = 'rel="noopener noreferrer"'  # nh3 (Ammonia) adds it to every link of a record body


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
        # HTML ignores "/>" on an element that is not void, as the browser does: <em/> opens an em,
        # and <script/> opens a script whose content (dropped with it) runs to </script> or the end
        ("<p><em/>x</p>", "<p><em>x</em></p>"),
        ("<p><i/>x</p>", "<p><em>x</em></p>"),
        ("<p><script/>x</p>", "<p></p>"),
        ("<p><img src='https://x.example/a.png' alt='diagram'/></p>", f'<p><a href="https://x.example/a.png" {REL}>[diagram]</a></p>'),
        ("<p><img src='javascript:alert(1)'/></p>", "<p>[image]</p>"),
        ("<p><custom/>x</p>", "<p>x</p>"),
        ("<p><hr/>x</p>", "<p></p><hr>x<p></p>"),  # <hr> ends the paragraph; the stray </p> opens an empty one
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


# ---------------------------------------------------------------- the sanitiser, tag by tag
def _link(rid: str) -> str | None:
    return {"KE-0001": "../KE-0001/", "WA-0002": "../../workarounds/WA-0002/"}.get(rid)


def _row(cells: str) -> str:
    return f"<table><tr>{cells}</tr></table>"


def _tbody(cells: str) -> str:
    return f"<table><tbody><tr>{cells}</tr></tbody></table>"


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ('<p onclick="x()">a</p>', "<p>a</p>"),
        ('<a href="https://x.example" title="T" onmouseover="y">l</a>', f'<a href="https://x.example" title="T" {REL}>l</a>'),
        ('<a href="#step-2">l</a>', f'<a href="#step-2" {REL}>l</a>'),
        ('<a href="mailto:desk@example.com">m</a><a href="http://x.example/">h</a>',
         f'<a href="mailto:desk@example.com" {REL}>m</a><a href="http://x.example/" {REL}>h</a>'),
        ('<a href="ftp://x.example/f">f</a><a href="data:text/html,x">d</a><a href="vbscript:x">v</a>', f"<a {REL}>f</a><a {REL}>d</a><a {REL}>v</a>"),
        ('<a href="javascript:alert(1)" title="t">l</a>', f'<a title="t" {REL}>l</a>'),
        ('<a href="page.html">l</a><a href="//evil.example/x">m</a><a href="">n</a>', f"<a {REL}>l</a><a {REL}>m</a><a {REL}>n</a>"),
        ('<a href="https://x.example/?a=1&amp;copy=2">l</a>', f'<a href="https://x.example/?a=1&amp;copy=2" {REL}>l</a>'),  # not "©=2"
        ('<a href=" https://x.example ">l</a>', f'<a href="https://x.example" {REL}>l</a>'),
        ("<a title='\"><script>alert(1)</script>'>l</a>", f'<a title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" {REL}>l</a>'),
        ('<p title="t" lang="en" id="i" class="c" data-x="1">p</p>', "<p>p</p>"),  # none of Ammonia's default attributes
        ('<a href="https://x.example/?a=1&amp;b=&quot;2&quot;">l</a>', f'<a href="https://x.example/?a=1&amp;b=&quot;2&quot;" {REL}>l</a>'),
        ('<code class="language-powershell">Get-Item</code>', '<code class="language-powershell">Get-Item</code>'),
        ('<code class="x onload=y">c</code>', "<code>c</code>"),
        ('<code title="t">c</code>', "<code>c</code>"),
        # the parser adds the <tbody> a browser adds, and drops a cell outside a table (keeping its text)
        ('<table><tr><th style="text-align: right">h</th><td style="text-align:center;">d</td></tr></table>',
         '<table><tbody><tr><th style="text-align: right">h</th><td style="text-align: center">d</td></tr></tbody></table>'),
        ('<td style="color: red">d</td>', "d"),
        (_row('<td style="color: red">d</td>'), _tbody("<td>d</td>")),
        (_row('<td align="left">d</td><td align="justify">e</td>'), _tbody('<td style="text-align: left">d</td><td>e</td>')),
        (_row('<th align="center">h</th>'), _tbody('<th style="text-align: center">h</th>')),
        (_row('<td style="text-align: left" align="right">d</td>'), _tbody('<td style="text-align: left">d</td>')),  # one style
        ('<p style="text-align: left">p</p>', "<p>p</p>"),
        ("<h1>T</h1><h2>U</h2><b>b</b><i>i</i>", "<h3>T</h3><h3>U</h3><strong>b</strong><em>i</em>"),
        ("<div><span>text</span></div>", "text"),
        ("<p>a<style>p{}</style>b<iframe src=x>c</iframe>d</p>", "<p>abd</p>"),
        ("<p>x<svg><script>alert(1)</script></svg>y</p>", "<p>xy</p>"),
        # elements closed and reopened as a browser's HTML parser does
        ("<ul><li>one<li>two</ul>", "<ul><li>one</li><li>two</li></ul>"),
        ("<p><em>a</p>b", "<p><em>a</em></p><em>b</em>"),
        ("</p>stray<p>ok", "<p></p>stray<p>ok</p>"),
        ("<p>x</em>y</p>", "<p>xy</p>"),
        ("<img alt='a \"q\"' src='https://x.example/i.png'>", f'<a href="https://x.example/i.png" {REL}>[a &quot;q&quot;]</a>'),
        ("<img alt='<script>alert(1)</script>' src='https://x.example/i.png'>",
         f'<a href="https://x.example/i.png" {REL}>[&lt;script&gt;alert(1)&lt;/script&gt;]</a>'),
        ("<img alt='' src='#top'>", f'<a href="#top" {REL}>[image]</a>'),
        ("<img src='page.png' alt='a'><img src='//evil.example/p.png'>", "[a][image]"),
        ("<a href='https://x.example'><img src='https://x.example/i.png' alt='i'></a>", f'<a href="https://x.example" {REL}>[i]</a>'),
        ("<a href='#a'><code>c</code><img src='https://x.example/i.png' alt='i'></a>", f'<a href="#a" {REL}><code>c</code>[i]</a>'),
        ("<p><a href='#a'>a</a><img src='https://x.example/i.png' alt='i'><a href='#b'><img src='https://x.example/j.png' alt='j'></a></p>",
         f'<p><a href="#a" {REL}>a</a><a href="https://x.example/i.png" {REL}>[i]</a><a href="#b" {REL}>[j]</a></p>'),
        ("<code><img src=' https://x.example/i.png ' alt='i'></code>", f'<code><a href="https://x.example/i.png" {REL}>[i]</a></code>'),
        ("<p>1 &lt; 2 &amp; <b>3</b></p>", "<p>1 &lt; 2 &amp; <strong>3</strong></p>"),
        ("<p>bell\x07here</p>", "<p>bellhere</p>"),
        ("<p>see KE-0001 and WA-0002, not KE-0999 or XKE-0001</p>",
         '<p>see <a href="../KE-0001/">KE-0001</a> and <a href="../../workarounds/WA-0002/">WA-0002</a>, not KE-0999 or XKE-0001</p>'),
        ("<p><code>KE-0001</code> <a href='#x'>KE-0001</a></p>", f'<p><code>KE-0001</code> <a href="#x" {REL}>KE-0001</a></p>'),
        ("<pre>KE-0001</pre>", "<pre>KE-0001</pre>"),
        ("<pre><code>KE-0001</code> KE-0001</pre> KE-0001", '<pre><code>KE-0001</code> KE-0001</pre> <a href="../KE-0001/">KE-0001</a>'),
        ("<p><a title='KE-0001' href='#KE-0001'>x</a> <b>KE-0001</b></p>",
         f'<p><a title="KE-0001" href="#KE-0001" {REL}>x</a> <strong><a href="../KE-0001/">KE-0001</a></strong></p>'),
        ("<p>no ids here</p>", "<p>no ids here</p>"),
        ("<hr><br></br>", "<hr><br><br>"),  # HTML reads </br> as <br>
        ("<p>a<!-- <script>alert(1)</script> -->b</p>", "<p>ab</p>"),
        ("<h3>T</h3><h6>U</h6><blockquote>q</blockquote><del>d</del><sub>s</sub><sup>t</sup>",
         "<h3>T</h3><h6>U</h6><blockquote>q</blockquote><del>d</del><sub>s</sub><sup>t</sup>"),
        ("<p>x<template>t</template><noscript>n</noscript><math>m</math><object>o</object><embed src=x>y</p>", "<p>xy</p>"),
        ("<kbd>Ctrl</kbd>+<kbd>C</kbd>", "<kbd>Ctrl</kbd>+<kbd>C</kbd>"),
    ],
)  # fmt: skip
def test_the_sanitiser_keeps_only_what_is_listed(fragment: str, expected: str) -> None:
    from kedb.site.text import sanitise

    assert sanitise(fragment, _link) == expected


def test_record_links_are_escaped_and_optional() -> None:
    from kedb.site.text import sanitise

    assert sanitise("<p>KE-0001</p>", lambda _id: '"><script>') == '<p><a href="&quot;&gt;&lt;script&gt;">KE-0001</a></p>'
    assert sanitise("<p>KE-0001</p>") == "<p>KE-0001</p>"


@pytest.mark.parametrize(
    ("tag", "name", "value", "kept"),
    [
        ("a", "href", "javascript:alert(1)", None),
        ("a", "href", "page.html", None),
        ("a", "href", " https://x.example ", "https://x.example"),
        ("img", "src", "&#106;avascript:alert(1)", None),
        ("img", "src", " #top ", "#top"),
        ("code", "class", "language-sh", "language-sh"),
        ("code", "class", "language-sh x", None),
        ("td", "style", "color: red", None),
        ("th", "style", " text-align:right; ", "text-align: right"),
        ("td", "align", "justify", None),
        ("td", "align", "center", "center"),
        ("a", "title", "t", "t"),
    ],
)
def test_each_attribute_nh3_keeps_is_judged_again(tag: str, name: str, value: str, kept: str | None) -> None:
    """The attribute filter on its own (nh3 also checks links: either check alone must hold)."""
    from kedb.site.text import _attribute, _relative

    assert _attribute(tag, name, value) == kept
    assert _relative("#x") == "#x" and _relative(" #x") == " #x"
    assert _relative("page.html") is None and _relative("//evil.example/x") is None and _relative("") is None


def test_a_tag_the_post_step_does_not_recognise_stays_text() -> None:
    """nh3 never writes one (every value is quoted); if it did, no record link may land inside it."""
    from kedb.site.text import _finish

    out = _finish('<a title="KE-0001 onmouseover=alert(1)" x>KE-0001</a> <img src="#t" alt="a">', _link)
    assert out == (
        '&lt;a title="<a href="../KE-0001/">KE-0001</a> onmouseover=alert(1)" x><a href="../KE-0001/">KE-0001</a></a> '
        '<a href="#t" rel="noopener noreferrer">[a]</a>'
    )
    assert "<a title" not in out and _finish("KE-0001 and KE-0999", _link) == '<a href="../KE-0001/">KE-0001</a> and KE-0999'
    assert _finish("<code>KE-0001", _link) == "<code>KE-0001"  # text after an unclosed code is still not linked


def test_html_text_is_inert_in_attributes_too() -> None:
    from markupsafe import Markup

    from kedb.site.text import html_text

    out = html_text("a\"b'c<d>&e\x00f\x1f")
    assert isinstance(out, Markup) and str(out) == "a&quot;b&#x27;c&lt;d&gt;&amp;ef"
    assert str(html_text(42)) == "42"


# ---------------------------------------------------------------- more of the sanitiser
@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("<p><svg><g>a</g>LEAK</svg>after</p>", "<p>after</p>"),  # nested dropped content stays dropped to its end
        ("<p><svg><g/>LEAK</svg>after</p>", "<p>after</p>"),  # a self-closed element inside it changes nothing
        ("<em><svg><em/></svg>x</em>", "<em><em>x</em></em>"),  # an HTML tag such as <em> ends the svg, as in a browser
        ("<p><svg/>x</p>", "<p>x</p>"),
        (_row('<td align="right">r</td>'), _tbody('<td style="text-align: right">r</td>')),
        ("<p>say \"hi\" it's &amp; 1 &lt; 2</p>", "<p>say \"hi\" it's &amp; 1 &lt; 2</p>"),
        ("<p>a<br/>b</p>", "<p>a<br>b</p>"),
    ],
)  # fmt: skip
def test_the_sanitiser_on_nesting_and_text(fragment: str, expected: str) -> None:
    from kedb.site.text import sanitise

    assert sanitise(fragment) == expected


# ---------------------------------------------------------------- unsafe Markdown, case by case
HTML_ERR = "is not allowed; use Markdown (or put it in a code span)"


def _html(tag: str) -> str:
    return f"raw HTML '{tag}' {HTML_ERR}"


LINK_ERR = "only http(s) and mailto links are allowed"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("plain text only", []),
        ("text - with dash & amp : colon { brace", []),
        ("script: a data: b", []),
        ("<!-- hidden --> text", [("KE505", 10, "HTML comment hides text from reviewers and readers; remove it")]),
        ("<!-- c --> <b>x</b>", [("KE505", 10, "HTML comment hides text from reviewers and readers; remove it")]),
        ("line\n<!--\nhidden\n-->", [("KE505", 11, "HTML comment hides text from reviewers and readers; remove it")]),
        ("a <b>bold</b> b", [("KE501", 10, _html("<b>")), ("KE501", 10, _html("</b>"))]),
        ("see <https://x.example> and <mailto:a@b.example>", []),
        ("[x](javascript:alert(1))", [("KE502", 10, f"unsafe link 'javascript:'; {LINK_ERR}")]),
        ("one\n[x](java&#115;cript:alert(1))", [("KE502", 11, f"unsafe link 'javascript:'; {LINK_ERR}")]),
        ("[x](data:text/html;base64,AAAA)", [("KE502", 10, f"unsafe link '](data:'; {LINK_ERR}")]),
        ("[x](vbscript:msgbox)", [("KE502", 10, f"unsafe link 'vbscript:'; {LINK_ERR}")]),
        ('one\n{: onclick="x()" }', [("KE503", 11, "an on*= attribute in an attribute list would run script; remove it")]),
        ('--8<-- "other.md"', [("KE504", 10, "include directive '--8<--' would pull another file into the page; remove it")]),
        ("{% include 'x.md' %}", [("KE504", 10, "include directive '{% include' would pull another file into the page; remove it")]),
        ("`<b>in code</b>` and `javascript:x`", []),
        ("```\n<script>x</script>\n```\nafter <i>x</i>", [("KE501", 13, _html("<i>")), ("KE501", 13, _html("</i>"))]),
        ("~~~\n<b>x</b>\n~~~~\n<u>y</u>", [("KE501", 13, _html("<u>")), ("KE501", 13, _html("</u>"))]),
        ("````\n```\n<b>still code</b>\n````\n<s>z</s>", [("KE501", 14, _html("<s>")), ("KE501", 14, _html("</s>"))]),
        ("```\n<b>x</b>\n~~~\n<b>still</b>\n```\n", []),
        ("``` py\nx = '<b>'\n```", []),
    ],
)  # fmt: skip
def test_unsafe_markdown(body: str, expected: list[tuple[str, int, str]]) -> None:
    from kedb.core.load.scan import unsafe_markdown

    assert list(unsafe_markdown(body, 10)) == expected


def test_code_is_blanked_to_the_same_shape() -> None:
    from kedb.core.load.scan import _blank_code

    assert _blank_code("a `b` c\n```py\nx\n```\nd") == "a     c\n     \n \n   \nd"
    assert _blank_code("no code here") == "no code here"
    assert _blank_code("~~~\n<x>\n~~~\ny `<z>` w") == "   \n   \n   \ny       w"


@pytest.mark.parametrize(
    ("text", "clean", "issues"),
    [
        ("no control here", "no control here", []),
        ("---\nid: K\x01E\ntitle: x\n...\nbody \x02 here\n", "---\nid: KE\ntitle: x\n...\nbody  here\n",
         [("KE108", 2, "control character U+0001 in field 'id'; remove it"), ("KE108", 5, "control character U+0002 in the text; remove it")]),
        ("---\nid: KE\x07\n---\n\x0b", "---\nid: KE\n---\n",
         [("KE108", 2, "control character U+0007 in field 'id'; remove it"), ("KE108", 4, "control character U+000B in the text; remove it")]),
        ("---\ntags:\n  - a\x01\n", "---\ntags:\n  - a\n", [("KE108", 3, "control character U+0001 in the text; remove it")]),
        ("---\nsymptoms:\n  - key: v\x01\n", "---\nsymptoms:\n  - key: v\n", [("KE108", 3, "control character U+0001 in field 'key'; remove it")]),
        ("no fm \x01", "no fm ", [("KE108", 1, "control character U+0001 in the text; remove it")]),
        ("id: x\x01", "id: x", [("KE108", 1, "control character U+0001 in the text; remove it")]),
        ("a\u202eb", "ab", [("KE108", 1, "control character U+202E in the text; remove it")]),
    ],
)  # fmt: skip
def test_control_characters(text: str, clean: str, issues: list[tuple[str, int, str]]) -> None:
    from kedb.core.load.scan import control_chars

    assert control_chars(text) == (clean, issues)


def test_control_characters_are_listed_twenty_at_most() -> None:
    from kedb.core.load.scan import control_chars

    text, issues = control_chars("\x01\n" * 25)
    assert text == "\n" * 25 and len(issues) == 20 and issues[-1][1] == 20


# ---------------------------------------------------------------- the secret scan's bookkeeping
def _ke401(text: str, first_line: int = 1) -> list[tuple[int, str]]:
    from kedb.core.load.scan import Allow, secrets

    return [(line, msg) for code, line, msg in secrets(text, Allow(), first_line) if code == "KE401"]


def test_secret_lines_count_from_the_first_line_given() -> None:
    assert [ln for ln, _ in _ke401("a\nkey AKIA" + "ABCDEFGHIJKLMNOP\n", first_line=7)] == [8]


def test_one_finding_per_line_when_two_rules_match_it() -> None:
    line = "AKIA" + "ABCDEFGHIJKLMNOP and " + "ghp_" + "a1B2c3D4e5F6g7H8i9J0a1B2c3D4e5F6g7H8"
    assert [ln for ln, _ in _ke401(f"x\n{line}\ny\n")] == [2]


def test_a_line_already_named_does_not_end_the_assignment_scan() -> None:
    # line 1: a key pattern and an assignment on one line (one finding); line 2: an assignment
    text = "password: ghp_" + "a1B2c3D4e5F6g7H8i9J0a1B2c3D4e5F6g7H8\ntoken: hunter22x\n"
    assert [ln for ln, _ in _ke401(text)] == [1, 2]


def test_escaped_controls_in_a_document_that_is_one_text() -> None:
    from kedb.core.load.scan import value_controls
    from kedb.core.load.yamlstrict import parse

    parsed = parse('\n"\\e[31m red"\n', 4)  # the text's first line is line 5
    assert parsed.data == "\x1b[31m red"
    assert value_controls(parsed.data, parsed.lines, parsed.first_line) == [
        ("KE108", 6, "control character U+001B in the text (written as an escape); remove it")
    ]


def test_escaped_controls_are_listed_twenty_at_most() -> None:
    from kedb.core.load.scan import value_controls
    from kedb.core.load.yamlstrict import parse

    parsed = parse("".join(f'k{i}: "a\\e"\n' for i in range(25)), 0)
    issues = value_controls(parsed.data, parsed.lines, parsed.first_line)
    assert len(issues) == 20 and issues[-1][1] == 20 and all(v == "a" for v in parsed.data.values())


def test_an_assignment_finding_names_the_keyword_and_a_placeholder() -> None:
    assert _ke401("password: hunter22") == [
        (1, "'password' is followed by what looks like a real value; use a placeholder such as `YOUR-PASSWORD`")
    ]
    assert _ke401("\nClient_Secret = s3cr3tValue") == [
        (2, "'Client_Secret' is followed by what looks like a real value; use a placeholder such as `YOUR-CLIENT_SECRET`")
    ]


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("password: YOUR-PASSWORD\ntoken: hunter22x\n", [2]),  # a placeholder first does not end the scan
        ("password: hunter22\npassword: other33\n", [1, 2]),  # every occurrence of a keyword
        ("token = abc123\nsecret: def456\npin: 987654", [1, 2, 3]),  # the last line, without a newline
        ("ends with the word password", []),
        ("ends with password ", []),
        ("password", []),
        ("password: secretvalueX", [1]),  # a trailing capital is not punctuation
        ("password: ÄÖÜÄÖÜ", []),  # letters only, one case
        ("password: äöüäöüÄ", [1]),  # mixed case
    ],
)
def test_assignments_found_wherever_they_are(text: str, lines: list[int]) -> None:
    assert [ln for ln, _ in _ke401(text)] == lines


@pytest.mark.parametrize(
    ("number", "flagged"),
    [
        ("+44 20 7946 0958", True),
        ("(020) 794 609", True),
        ("+31 6 1234 56", True),
        ("+31 6 1234 5", False),
    ],  # 9 digits are enough, 8 are not
)
def test_phone_numbers_from_nine_digits(number: str, flagged: bool) -> None:
    from kedb.core.load.scan import Allow, secrets

    found = [i for i in secrets(f"Call {number} today.", Allow()) if i[0] == "KE403"]
    assert bool(found) is flagged, found


def test_an_allowed_phone_number_does_not_hide_the_next() -> None:
    from kedb.core.load.scan import Allow, secrets

    allow = Allow(phones=("442079460000",))
    found = [i for i in secrets("Desk +44 20 7946 0000, or Ann on +44 20 7946 0958.", allow) if i[0] == "KE403"]
    assert [msg.split("'")[1] for _, _, msg in found] == ["+44 20 7946 0958"]


def test_void_and_self_closed_tags_at_the_top_level() -> None:
    from kedb.site.text import sanitise

    assert sanitise("<br/>text<hr/>") == "<br>text<hr>"
    assert sanitise("<em/>x") == "<em>x</em>"  # "/>" on a non-void element is ignored, as in a browser


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<span class="' + "a" * 44 + '">x', ("KE501", 1, "raw HTML '<span class=\"" + "a" * 27 + "' " + HTML_ERR)),
        ("[a very long reference label here]: data:text/html,x", ("KE502", 1, f"unsafe link '[a very long reference label h'; {LINK_ERR}")),
        ("{{ config.extra.a_very_long_name include }}",
         ("KE504", 1, "include directive '{{ config.extra.a_ve' would pull another file into the page; remove it")),
    ],
)  # fmt: skip
def test_long_matches_are_shortened_in_the_message(body: str, expected: tuple[str, int, str]) -> None:
    from kedb.core.load.scan import unsafe_markdown

    assert list(unsafe_markdown(body, 1)) == [expected]


def test_the_readers_messages_exactly() -> None:
    from kedb.core.load.yamlstrict import parse, parse_events

    [(_, _, msg)] = parse_events("id: KE-0001\ntitle: Fails: here\n").issues
    assert msg in (
        "YAML cannot be read: mapping values are not allowed in this context; a value containing ': ' must be quoted",
        "YAML cannot be read: mapping values are not allowed here; a value containing ': ' must be quoted",
    )
    [(code, line, msg)] = parse_events("id: a\x07b\n", line_offset=3).issues  # an error without a place: the first line
    assert (code, line) == ("KE004", 4) and msg.startswith("YAML cannot be read: unacceptable character #x0007")
    assert parse("").line_of(("x",)) == 1


# ---------------------------------------------------------------- sizes, and what may stand before a phone number
def test_file_and_line_size_limits() -> None:
    from kedb.core.load.scan import size

    assert list(size(100, "x", 100, 10)) == []  # at the limit is fine
    assert list(size(101, "x", 100, 10)) == [
        ("KE601", 1, "file is 101 bytes; the limit is 100 bytes (0.0976562 KiB): split it or move detail to a linked record")
    ]
    [(_, _, big)] = size(2048 * 1024 + 1, "x", 2048 * 1024, 10)
    assert big.startswith("file is 2,097,153 bytes; the limit is 2,097,152 bytes (2048 KiB)")
    assert list(size(10, "a" * 10, 100, 10)) == []
    assert list(size(10, "a" * 10 + "\n" + "b" * 10, 100, 10)) == []  # long text, no long line
    assert list(size(10, "a" * 11, 100, 10)) == [("KE602", 1, "line is 11 characters; the limit is 10")]
    many = "\n".join(["short", *["b" * 11] * 7])
    assert [ln for _, ln, _ in size(10, many, 100, 10)] == [2, 3, 4, 5, 6]  # the first five long lines


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("+44 20 7946 0958 at the start", True),
        ("call +44 20 7946 0958", True),
        ("x+44 20 7946 0958", False),  # part of a word or an id
        ("id_+44 20 7946 0958", False),
        ("/+44 20 7946 0958", False),
        ("a.+44 20 7946 0958", False),
        ("v-+44 20 7946 0958", False),
        ("X+44 20 7946 0958", False),
    ],
)
def test_what_may_stand_before_a_phone_number(text: str, flagged: bool) -> None:
    from kedb.core.load.scan import Allow, secrets

    assert bool([i for i in secrets(text, Allow()) if i[0] == "KE403"]) is flagged


def test_three_assignments_of_one_keyword() -> None:
    assert [ln for ln, _ in _ke401("token: abc123\ntoken: def456\ntoken: ghi789\n")] == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "data"),
    [("a: |\n  XX\n  b\n", {"a": "XX\nb\n"}), ("a: |\n  x\n  \n  y\n", {"a": "x\n\ny\n"}), ("a: |-\n  x\n", {"a": "x"})],
)
def test_literal_blocks_read_by_the_fast_path(text: str, data: dict[str, str]) -> None:
    from kedb.core.load.yamlstrict import parse_events, parse_simple

    fast = parse_simple(text, 0)
    assert fast is not None and fast.data == data == parse_events(text, 0).data


@pytest.mark.parametrize(("text", "data"), [("a: |", {"a": ""}), ("b: 1\na: |-", {"b": "1", "a": ""}), ("a: |\n", {"a": ""})])
def test_a_block_header_on_the_last_line(text: str, data: dict[str, str]) -> None:
    from kedb.core.load.yamlstrict import parse

    parsed = parse(text)
    assert (parsed.data, parsed.issues) == (data, [])


# ---------------------------------------------------------------- the event reader, document by document
COMPLEX_KEY = "a key must be plain text, not a list or mapping"


@pytest.mark.parametrize(
    ("text", "data", "issues"),
    [
        ("a: 1\nb: 2\na: 3\n", {"a": "1", "b": "2"}, [("KE005", 3, "key 'a' appears twice (first on line 1); keep one")]),
        ("top:\n  x: 1\n  x: 2\nnext: 3\n", {"top": {"x": "1"}, "next": "3"}, [("KE005", 3, "key 'x' appears twice (first on line 2); keep one")]),
        ("? [k1, k2]\n: v\nafter: 1\n", {"after": "1"}, [("KE004", 1, COMPLEX_KEY)]),
        ("outer:\n  ? {k: [1, 2]}\n  : {v: [3, {w: 4}]}\n  sib: 5\nlast: 6\n", {"outer": {"sib": "5"}, "last": "6"}, [("KE004", 2, COMPLEX_KEY)]),
        ("base: &b {x: 1}\n<<: *b\nz: 2\n", {"base": {"x": "1"}, "z": "2"},
         [("KE007", 1, "anchor '&b' is not allowed; write the value out"), ("KE008", 2, "merge key '<<' is not allowed; write the keys out"),
          ("KE007", 2, "alias '*b' is not allowed; write the value out")]),
        ("a:\n  <<: {m: [1, {n: 2}]}\n  c: 3\nd: 4\n", {"a": {"c": "3"}, "d": "4"}, [("KE008", 2, "merge key '<<' is not allowed; write the keys out")]),
        ("a: 1\n---\nb: 2\n", {"a": "1"}, [("KE009", 2, "a second YAML document starts here; a file holds one document")]),
        ("\n\tb: 1\n", None, [("KE011", 2, "tab used for indentation; indent with spaces")]),
        ("x: !!str 5\n", {"x": "5"}, [("KE006", 1, "YAML tag 'tag:yaml.org,2002:str' is not allowed; write a plain value")]),
        ("a: &x [1, 2]\nb: *x\n", {"a": ["1", "2"], "b": None},
         [("KE007", 1, "anchor '&x' is not allowed; write the value out"), ("KE007", 2, "alias '*x' is not allowed; write the value out")]),
        ("a: ~\nb: null\nc: 'null'\nd: true\ne: yes\n", {"a": None, "b": None, "c": "null", "d": True, "e": "yes"}, []),
    ],
)  # fmt: skip
def test_the_event_reader(text: str, data: object, issues: list[tuple[str, int, str]]) -> None:
    from kedb.core.load.yamlstrict import parse_events

    parsed = parse_events(text, 0)
    assert (parsed.data, parsed.issues) == (data, issues)


def test_a_line_at_the_limit_beside_a_longer_one() -> None:
    from kedb.core.load.scan import size

    assert [ln for _, ln, _ in size(10, "a" * 10 + "\n" + "b" * 11, 100, 10)] == [2]


@pytest.mark.parametrize(
    "text",
    ["key: Xylophone\n", "a: [XX]\n", "a: [a #b]\n", "a:\n  -\n  - b\n", "a: [a:b]\n", "a:\n  - : x\n", ": x\n", "a:\n  - k: v\n",
     "a: [b, 'c''d']\n", "a: valX \n"],
)  # fmt: skip
def test_the_fast_path_answers_as_libyaml_or_not_at_all(text: str) -> None:
    from kedb.core.load.yamlstrict import parse_events, parse_simple

    fast, events = parse_simple(text, 0), parse_events(text, 0)
    if fast is not None:
        assert (fast.data, fast.lines, fast.issues) == (events.data, events.lines, events.issues)


def test_the_fast_path_reads_these_itself() -> None:
    from kedb.core.load.yamlstrict import parse_simple

    assert parse_simple("key: Xylophone\n", 0).data == {"key": "Xylophone"}  # type: ignore[union-attr]
    assert parse_simple("a: [XX]\n", 0).data == {"a": ["XX"]}  # type: ignore[union-attr]
    assert parse_simple("a:\n  - Xylophone\n", 0).data == {"a": ["Xylophone"]}  # type: ignore[union-attr]


# ---------------------------------------------------------------- the fast path declines what libyaml refuses
@pytest.mark.parametrize(
    ("text", "near"),
    [
        ("a: [a:?]\n", "a: [a, b]\n"),  # in a flow list libyaml refuses ':' before '?' (not ':' before a letter)
        ("a: [b, x:?y]\n", "a: [b, x-?y]\n"),
        ("a:\n  - k: v\n   - z\n", "a:\n  - k: v\n  - z\n"),  # an item indented between the list and the item's mapping
    ],
)
def test_the_fast_path_declines_what_libyaml_refuses(text: str, near: str) -> None:
    import yaml

    from kedb.core.load.yamlstrict import parse, parse_simple

    with pytest.raises(yaml.YAMLError):
        yaml.load(text, Loader=yaml.CSafeLoader)
    assert parse_simple(text, 0) is None
    assert [code for code, _, _ in parse(text).issues] == ["KE004"]
    fast = parse_simple(near, 0)  # the same shape without the fault: the fast path reads it, as libyaml does
    assert fast is not None and fast.data == yaml.load(near, Loader=yaml.CSafeLoader) and fast.issues == []
