"""The real ServiceNow event log beside the repository, read with nothing but the ``csv`` module.

The real-data tests compare kedb's figures with counts made from this plain reading, so it
stays deliberately simple and shares no code with kedb's importer.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime

from kbtest import shared_data

SAMPLE = shared_data("servicenow-incident-log", "incident_event_log_sample.csv")
SAMPLE_HOW = "the shared data folder belongs at ../shared/data next to the clone, or set KEDB_SHARED_DATA to where it is"


def when(text: str) -> datetime | None:
    """The log's day-first timestamps; ``?`` is missing."""
    return None if text == "?" else datetime.strptime(text, "%d-%m-%Y %H:%M")


def history() -> dict[str, list[dict[str, str]]]:
    """Each incident's rows in time order (`sys_updated_at`, then `sys_mod_count`, then file order)."""
    by: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    with open(SAMPLE, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            by[row["number"]].append((i, row))
    return {
        n: [r for _, r in sorted(rs, key=lambda ir: (when(ir[1]["sys_updated_at"]), int(ir[1]["sys_mod_count"]), ir[0]))]  # type: ignore[arg-type]
        for n, rs in by.items()
    }
