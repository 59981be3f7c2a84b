"""History.by_commit: one entry per commit, with every version it made (the changelog, feeds and artefacts list these)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from kedb.core.trail import History, Person, RecordHistory, Version

ANN = Person("Ann Owner", "ann@example.org")


def _v(rid: str, number: int, commit: str, day: int, seq: int, subject: str) -> Version:
    return Version(
        number=number,
        commit=commit,
        date=datetime(2026, 3, day, tzinfo=UTC),
        author=ANN,
        authors=(ANN,),
        subject=subject,
        note=f"why {subject}",
        approved_by=(),
        reviewed_by=(),
        merge_request=None,
        change="added" if number == 1 else "modified",
        path=f"known_errors/{rid}-x.md",
        old_path=None,
        blob="0" * 40,
        seq=seq,
    )


def _history() -> History:
    bulk = [_v(f"KE-{n:04d}", 1, "a" * 40, 1, 0, "Import") for n in range(1, 46)]  # one commit, 45 records
    later = _v("KE-0002", 2, "b" * 40, 2, 1, "Reword the reply")
    same_day = _v("KE-0003", 2, "c" * 40, 2, 2, "Fix a step")
    records = {v.path.split("/")[1][:7]: [v] for v in bulk}
    records["KE-0002"].append(later)
    records["KE-0003"].append(same_day)
    return History("HEAD", "c" * 40, None, True, False, {rid: RecordHistory(rid, tuple(vs)) for rid, vs in records.items()})


def test_a_commit_touching_many_records_is_one_entry_newest_first() -> None:
    commits = _history().by_commit()
    assert [c.subject for c in commits] == ["Fix a step", "Reword the reply", "Import"]
    bulk = commits[-1]
    assert len(bulk.versions) == 45 and bulk.record_ids[:2] == ("KE-0001", "KE-0002") and bulk.note == "why Import"
    assert commits[0].record_ids == ("KE-0003",) and commits[0].short == "c" * 10


def test_the_limit_counts_commits_not_versions() -> None:
    assert [c.subject for c in _history().by_commit(2)] == ["Fix a step", "Reword the reply"]


def test_the_last_answer_is_kept_while_the_versions_are_the_same_objects() -> None:
    """``mkdocs serve`` reads the history again for each rebuild: the same committed versions in a new history give the
    kept answer; a record whose versions changed (another tuple), or another set of records, gives a new one, as made
    from scratch."""
    first = _history()
    commits = first.by_commit()
    again = dataclasses.replace(first, records={rid: dataclasses.replace(h, uncommitted=None) for rid, h in first.records.items()})
    kept = again.by_commit()
    assert kept == commits and all(a is b for a, b in zip(kept, commits, strict=True)), "the same entries, not made again"
    h = first.records["KE-0002"]
    renamed = dataclasses.replace(h.versions[-1], subject="Reword the reply again")
    changed = dataclasses.replace(first, records={**first.records, "KE-0002": dataclasses.replace(h, versions=(*h.versions[:-1], renamed))})
    assert [c.subject for c in changed.by_commit()] == ["Fix a step", "Reword the reply again", "Import"]
    assert changed.by_commit() == changed._by_commit()
    fewer = dataclasses.replace(first, records={rid: h for rid, h in first.records.items() if rid != "KE-0003"})
    assert [c.subject for c in fewer.by_commit()] == ["Reword the reply", "Import"]
    assert first.by_commit(1) == commits[:1]
