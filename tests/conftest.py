"""Shared fixtures. ``make_kb``: a throw-away copy of the minimal valid KB with files laid over it."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest

from kbtest import base_kb, example_kb  # noqa: F401 - fixtures shared by every test module

BASE_KB = Path(__file__).resolve().parent / "fixtures" / "base"

MakeKB = Callable[..., Path]


def overlay(root: Path, files: Mapping[str, str | bytes] | None = None, delete: Iterable[str] = ()) -> Path:
    """Write ``files`` (relative path -> text or bytes) into ``root``, then delete ``delete``."""
    for rel, content in (files or {}).items():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Bytes are written as they are, so a test controls BOMs, CRLF and invalid UTF-8.
        dest.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    for rel in delete:
        target = root / rel
        assert target.is_file(), f"cannot delete {rel}: it is not a file of the KB"
        target.unlink()
    return root


@pytest.fixture
def make_kb(tmp_path: Path) -> MakeKB:
    """``make_kb(files={...}, delete=[...])`` -> the root of a copy of tests/fixtures/base with those changes.

    Calling it again in the same test applies more changes to the same copy.
    """

    def make(files: Mapping[str, str | bytes] | None = None, delete: Iterable[str] = ()) -> Path:
        root = tmp_path / "made_kb"
        if not root.exists():
            shutil.copytree(BASE_KB, root)
        return overlay(root, files, delete)

    return make
