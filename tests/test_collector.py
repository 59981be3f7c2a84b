"""Rare cyclic collections during a build (``kedb.core.collector``), and the thresholds put back after."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from kbtest import AS_OF, FIXTURES, copy_kb, init_repo, kedb
from kedb.core import collector


@pytest.fixture(autouse=True)
def _thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_rarely_raises_the_thresholds_and_puts_them_back_even_on_an_error() -> None:
    gc.set_threshold(700, 10, 10)
    with pytest.raises(RuntimeError), collector.rarely():
        assert gc.get_threshold() == collector.THRESHOLDS
        raise RuntimeError("a build that fails")
    assert gc.get_threshold() == (700, 10, 10)


def test_thresholds_set_higher_by_the_caller_are_kept() -> None:
    gc.set_threshold(500_000, 5, 1_000)
    with collector.rarely():
        assert gc.get_threshold() == (500_000, 50, 1_000)
    assert gc.get_threshold() == (500_000, 5, 1_000)


def test_a_build_and_a_failed_build_leave_the_thresholds_as_they_were(tmp_path: Path) -> None:
    gc.set_threshold(700, 10, 10)
    kb = init_repo(copy_kb(FIXTURES / "base", tmp_path / "kb"))
    seen: list[tuple[int, ...]] = []
    real = collector.stop
    collector.stop = lambda old: (seen.append(gc.get_threshold()), real(old))[1]  # type: ignore[assignment]
    try:
        assert kedb("--root", str(kb), "build", "--only", "site", "--as-of", AS_OF).exit_code == 0
        assert gc.get_threshold() == (700, 10, 10)
        (kb / "known_errors" / "KE-0001-outlook-prompts.md").write_text("---\nid: [\n", encoding="utf-8")
        assert kedb("--root", str(kb), "build", "--only", "site", "--as-of", AS_OF).exit_code == 1
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        collector.stop = real  # type: ignore[assignment]
    assert len(seen) >= 2 and set(seen) == {collector.THRESHOLDS}  # both builds ran with rare collections
