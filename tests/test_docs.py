"""The field and rule reference: every field and rule described, and shown to problem owners in
the internal site's *Writing records* pages (generated from the models and the registry)."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from kbtest import REPO
from kedb.build.context import make
from kedb.core.findings import RULES
from kedb.core.reference import field_tables, file_kinds, record_kinds, rule_families
from kedb.site import pages, urls
from kedb.site.text import code_spans


def test_every_field_and_rule_is_described() -> None:
    for name, model in file_kinds().items():
        for field, info in model.model_fields.items():
            assert info.description, f"{name}.{field} has no description"
    for code, rule in RULES.items():
        assert rule.summary.strip(), f"rule {code} has no summary"
    assert [r.code for fam in rule_families() for r in fam.rules] == sorted(RULES), "a rule is in no family, or in two"


def _writing(root: Path, audience: str = "internal", tenant: str | None = None) -> pages.Site:
    return pages.build(make(root, audience=audience, tenant=tenant), pages.Options())


def test_the_internal_site_documents_every_field_and_rule(base_kb: Path) -> None:
    site = _writing(base_kb)
    fields = site.page(urls.WRITING_FIELDS)
    rules = site.page(urls.WRITING_RULES)
    assert fields and fields.html and rules and rules.html
    tables = field_tables()
    for name, model in file_kinds().items():
        for field, info in model.model_fields.items():
            assert f'<code class="kedb-nowrap">{info.alias or field}</code>' in fields.html, f"{name}.{field} is not on the Fields page"
    for t in tables:
        assert f'id="{t.anchor}"' in fields.html
    assert len({t.anchor for t in tables}) == len(tables), "two tables share an anchor"
    for code, rule in RULES.items():
        assert f'<tr id="{code}">' in rules.html and f'<code class="kedb-nowrap">{rule.name}</code>' in rules.html
    # a description's code spans become <code>, and its HTML characters stay text
    assert "<code>draft</code>" in fields.html and "<code>!!python/...</code>" in rules.html
    assert "<!--" not in rules.html.replace("<!-- ", "")  # nothing a summary holds opens a comment
    index = site.page(urls.WRITING)
    assert index and index.html
    for kind in record_kinds():
        assert kind.file in index.html and " → ".join(kind.statuses) in html.unescape(index.html)
        for section in kind.sections:
            assert f"## {section}" in index.html
    assert "kedb new known-error --service m365-mail" in index.html  # the KB's own first service
    assert {"Writing records": [urls.WRITING, urls.WRITING_FIELDS, urls.WRITING_RULES]} in site.nav
    assert all(p.meta.get("search") == {"exclude": True} for p in (fields, rules, index)), "reference pages would crowd record search"


@pytest.mark.parametrize(("audience", "tenant"), [("public", None), ("public", "ACME")])
def test_customer_facing_editions_have_no_writing_pages(base_kb: Path, audience: str, tenant: str | None) -> None:
    site = _writing(base_kb, audience, tenant)
    assert not any(p.src.startswith("writing/") for p in site.pages)
    assert not any("Writing records" in entry for entry in site.nav)


def test_code_spans_escape_everything_else() -> None:
    assert str(code_spans("use `<b>` & <i>x</i>")) == "use <code>&lt;b&gt;</code> &amp; &lt;i&gt;x&lt;/i&gt;"
    assert str(code_spans("a `b` c `d")) == "a <code>b</code> c `d"  # an unmatched backtick stays one
    assert str(code_spans("``")) == "<code></code>"


def test_readme_starts_with_adoption_and_points_to_the_reference() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    headings = [line for line in readme.splitlines() if line.startswith("## ")]
    assert headings[0] == "## Start your own KB"
    assert "| `KE301` |" not in readme and "| `symptom_signature` |" not in readme, "the reference lives in the site now"
    assert "writing/fields/" in readme and "writing/rules/" in readme
