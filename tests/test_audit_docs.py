"""The README's "Flow audit" section names every figure, rule and example stage, and how the example audits were made."""

from __future__ import annotations

from pathlib import Path

from kbtest import REPO
from kedb.core.audits import FIGURES
from kedb.core.findings import RULES
from kedb.core.load.loader import load


def section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Flow audit")
    return text[start : text.index("\n## ", start + 10)]


def test_every_figure_rule_and_stage_is_documented() -> None:
    doc = section()
    assert [f for f in FIGURES if f"`{f}`" not in doc] == []
    assert [c for c in RULES if c.startswith("KE72") and c not in doc] == []
    policy = load(REPO)[0].program.progression
    assert policy is not None
    assert [s.id for s in policy.stages if f"`{s.id}`" not in doc] == []


def test_the_example_audits_commands_are_in_the_readme() -> None:
    doc = section()
    for audit in load(REPO)[0].audits:
        assert f"kedb tickets audit --as-of {audit.as_of} --write" in doc
    assert "kedb tickets import .kedb/example-export.csv --source servicenow" in doc


def test_kedb_schema_includes_the_progression_policy(tmp_path: Path) -> None:
    import json

    from kbtest import kedb

    res = kedb("--root", str(REPO), "schema", "--out", str(tmp_path))
    assert res.exit_code == 0, res.output
    schema = json.loads((tmp_path / "progression.schema.json").read_text(encoding="utf-8"))
    assert {"stages", "defaults"} <= set(schema["required"]) and schema["additionalProperties"] is False
    assert "chases" not in schema["required"] and schema["$defs"]["Chases"].get("required", []) == []  # the update intervals by default
    assert "50 (watch), 80 (at risk), 90 (critical) and 100" in schema["properties"]["sla_thresholds"]["description"]
    stage = schema["$defs"]["Stage"]
    assert "class" in stage["properties"] and all(p.get("description") for p in stage["properties"].values())
    triage = json.loads((tmp_path / "triage.schema.json").read_text(encoding="utf-8"))
    assert triage["properties"]["intake_fields"]["description"] and "intake_fields" not in triage["required"]
