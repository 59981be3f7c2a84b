"""A new ticket source is one mapping file: no Python changes.

The package is copied to a temporary folder, ``tickets/mappings/freshservice.yml`` is added to
the copy (a small mapping for Freshservice's CSV ticket export), and the copied kedb is run in a
separate process: the import accepts ``--source freshservice``, the month's KPI snapshot records
``system: freshservice`` and reads back, ``content/progression.yml`` may list Freshservice
statuses, and ``kedb check`` passes. The installed kedb, without the file, refuses the source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kbtest import REPO, copy_kb, write_csv

FRESHSERVICE = """\
# Freshservice: Tickets > Export (CSV).
fields:
  id: Ticket Id
  opened_at: Created Date
  updated_at: Last Updated Time
  status: Status
  type: Type
  priority:
    columns: [Priority]
    values: {urgent: P1, high: P2, medium: P3, low: P3}
  customer: Department
  service: Category
  category: Sub-Category
  symptom: Item
  assignment_group: Group
  resolved_at: Resolved Time
  text: [Subject, Description]
statuses:
  open: open
  pending: pending
  waiting on customer: pending
  waiting on third party: pending
  resolved: resolved
  closed: closed
"""
HEADER = ["Ticket Id", "Created Date", "Last Updated Time", "Status", "Type", "Priority", "Department", "Category", "Sub-Category"]
HEADER += ["Item", "Group", "Resolved Time", "Subject", "Description"]


def run(pythonpath: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "KEDB_NO_CACHE": "1"}
    code = "import sys; from kedb.cli.main import main; sys.argv[0] = 'kedb'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120)


def test_a_mapping_file_is_the_whole_change_for_a_new_source(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(REPO / "generators" / "kedb", src / "kedb", ignore=shutil.ignore_patterns("__pycache__"))
    (src / "kedb" / "tickets" / "mappings" / "freshservice.yml").write_text(FRESHSERVICE, encoding="utf-8")

    kb = tmp_path / "kb"
    for part in ("content", "known_errors", "templates"):
        copy_kb(REPO / part, kb / part)
    shutil.rmtree(kb / "content" / "kpi")
    progression = kb / "content" / "progression.yml"
    text = progression.read_text(encoding="utf-8")
    assert "\nstatuses:\n" in text
    progression.write_text(
        text.replace("\nstatuses:\n", "\nstatuses:\n  freshservice:\n    Waiting on Third Party: awaiting-vendor\n"), encoding="utf-8"
    )
    opened = ["2026-08-03 09:00:00", "2026-08-03 12:00:00"], ["2026-08-04 10:00:00", "2026-08-05 10:00:00"]
    rows = [
        ["1001", *opened[0], "Resolved", "Incident", "High", "Finance", "Printing", "Spooler", "Queue stuck", "Desk", opened[0][1]],
        ["1002", *opened[1], "Waiting on Customer", "Incident", "Low", "Sales", "Mail", "Outlook", "Prompt", "Desk", ""],
    ]
    rows[0] += ["Print queue stuck", "Event ID 7031"]
    rows[1] += ["Password prompt", "0x8004010f"]
    export = write_csv(tmp_path / "freshservice.csv", HEADER, rows)

    helped = run(src, "tickets", "import", "--help")
    assert helped.returncode == 0 and "freshservice" in helped.stdout

    imported = run(src, "--root", str(kb), "tickets", "import", str(export), "--source", "freshservice")
    assert imported.returncode == 0, imported.stderr
    kpi = run(src, "--root", str(kb), "kpi", "--period", "2026-08", "--write")
    assert kpi.returncode == 0, kpi.stderr
    snapshot = (kb / "content" / "kpi" / "2026-08.yml").read_text(encoding="utf-8")
    assert 'system: "freshservice"' in snapshot and "tickets: 2" in snapshot
    checked = run(src, "--root", str(kb), "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The same steps with the package as it ships: the source does not exist, and the stored
    # snapshot naming it is a finding, not a crash.
    shipped = REPO / "generators"
    refused = run(shipped, "--root", str(kb), "tickets", "import", str(export), "--source", "freshservice")
    assert refused.returncode == 2 and "freshservice" in refused.stderr
    unknown = run(shipped, "--root", str(kb), "check")
    assert unknown.returncode == 1 and "content/kpi/2026-08.yml" in unknown.stdout
