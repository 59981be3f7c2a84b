"""One review policy everywhere: a closed problem or a retired record is never overdue.

In a copy of the example KB, the closed problem PRB-0001 and the published known error KE-0001
both get a ``review_by`` in the past. KE-0001 must show as overdue in every place that shows it
(KE305, its page, the home page, the artefacts' list of what is due); PRB-0001 in none of them.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from kbtest import REPO, git
from kedb.build import context, facts
from kedb.core.records import needs_review, review_overdue

AS_OF = date(2026, 11, 22)
PAST = "2026-10-01"
WHEN = "2026-11-02T09:30:00+00:00"


def _set_review_by(path: Path, day: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^review_by: .*$", f"review_by: {day}", text, count=1, flags=re.M), encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[context.BuildContext, Path]:
    from kedb.site.render import render

    base = tmp_path_factory.mktemp("review")
    root = base / "kb"
    for part in ("content", "known_errors", "templates"):
        shutil.copytree(REPO / part, root / part)
    _set_review_by(next((root / "known_errors").glob("PRB-0001-*.md")), PAST)
    _set_review_by(next((root / "known_errors").glob("KE-0001-*.md")), PAST)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "KB", env={"GIT_AUTHOR_DATE": WHEN, "GIT_COMMITTER_DATE": WHEN})
    ctx = context.make(root, as_of=AS_OF)
    site = render(replace(ctx, downloads_dir=None), base / "site")
    return ctx, site


def test_the_policy() -> None:
    class M:
        def __init__(self, status: str | None) -> None:
            self.review_by = date(2026, 1, 1)
            if status is not None:
                self.status = status

    assert [needs_review(M(s)) for s in ("draft", "published", "investigating", "closed", "retired")] == [True, True, True, False, False]
    assert review_overdue(M(None), AS_OF)  # a playbook has no status: reviewed until it is replaced
    assert not review_overdue(M("closed"), AS_OF) and review_overdue(M("published"), AS_OF)


def test_the_check_warns_only_for_the_live_record(built: tuple[context.BuildContext, Path]) -> None:
    ctx, _ = built
    stale = [Path(f.path).name for f in ctx.report.findings if f.code == "KE305"]
    assert any(n.startswith("KE-0001-") for n in stale) and not any(n.startswith("PRB-0001-") for n in stale)


def test_pages_show_overdue_only_for_the_live_record(built: tuple[context.BuildContext, Path]) -> None:
    _, site = built
    ke = (site / "known-errors" / "KE-0001" / "index.html").read_text(encoding="utf-8")
    prb = (site / "problems" / "PRB-0001" / "index.html").read_text(encoding="utf-8")
    assert "(overdue)" in ke and "(overdue)" not in prb
    home = (site / "index.html").read_text(encoding="utf-8")
    past = home.split("Past their review date", 1)[1].split("</table>", 1)[0]
    assert "KE-0001" in past and "PRB-0001" not in past


def test_the_artefacts_list_only_the_live_record_as_due(built: tuple[context.BuildContext, Path]) -> None:
    ctx, _ = built
    early = replace(ctx, info=replace(ctx.info, date=ctx.info.date - timedelta(days=60)))  # 2026-10-01 falls in the next 30 days
    due = " ".join(what for _, what, _ in facts.due_within(early))
    assert "KE-0001" in due and "PRB-0001" not in due
