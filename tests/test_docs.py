"""The README documents every field and rule (generated from the models and the registry)."""

from __future__ import annotations

from kbtest import REPO
from kedb.authoring.docs import refresh
from kedb.authoring.schema import file_kinds
from kedb.core.findings import RULES


def test_readme_reference_is_current() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert refresh(readme) == readme, "README is out of date: run `.venv/bin/kedb reference README.md`"


def test_every_field_and_rule_is_documented() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, model in file_kinds().items():
        for field, info in model.model_fields.items():
            assert f"| `{info.alias or field}` |" in readme, f"{name}.{field} is undocumented"
            assert info.description, f"{name}.{field} has no description"
    for code, rule in RULES.items():
        assert f"| `{code}` | `{rule.name}` |" in readme, f"rule {code} is undocumented"
