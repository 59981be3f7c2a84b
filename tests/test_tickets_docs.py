"""The README's ticket section documents every mapping key, ticket field and KPI, and its example mapping works."""

from __future__ import annotations

import re

import pytest

from kbtest import REPO
from kedb.core.load.yamlstrict import parse
from kedb.core.program import KPI_IDS
from kedb.core.snapshots import DESK_IDS, VOLUME_IDS
from kedb.tickets.fields import FIELDS
from kedb.tickets.mapping import SOURCES, TicketMapping, builtin


def section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Ticket exports, candidates and KPIs")
    return text[start : text.index("\n## ", start + 10)]


def test_every_mapping_key_ticket_field_and_kpi_is_documented() -> None:
    doc = section()
    missing = [k for k in TicketMapping.model_fields if not re.search(rf"^{k}:", doc, re.M)]
    assert not missing, f"mapping keys not in the README's example mapping: {missing}"
    assert [f for f in FIELDS if f"`{f}`" not in doc] == []
    assert [k for k in (*KPI_IDS, *VOLUME_IDS, *DESK_IDS) if f"`{k}`" not in doc] == []
    # The import command lists every source it accepts, and only those.
    listed = re.search(r"--source (\w+) +# or ([\w, ]+) \(", doc)
    assert listed, "the section's `kedb tickets import ... --source` line is gone"
    assert sorted([listed.group(1), *listed.group(2).split(", ")]) == sorted(SOURCES)


def test_the_example_mapping_in_the_readme_is_valid() -> None:
    block = re.search(r"```yaml\n(# mapping\.yml.*?)```", section(), re.S)
    assert block
    parsed = parse(block.group(1))
    assert parsed.issues == []
    m = TicketMapping.model_validate(parsed.data)
    assert m.extends == "servicenow" and m.fields["sla_breached"].negate and m.fields["reassignment_count"].subtract == 1


@pytest.mark.parametrize("source", SOURCES)
def test_builtin_mappings_load_and_name_the_required_fields(source: str) -> None:
    m = builtin(source)
    assert {"id", "opened_at", "status", "text"} <= set(m.fields)
    assert set(m.statuses.values()) >= {"resolved", "closed"} or source == "csv"
