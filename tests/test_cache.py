"""The per-file cache in .kedb/cache/: used when it may be, ignored when it must be, never wrong."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from kedb.check.run import run
from kedb.core.load import cache, loader

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CACHE_FILE = Path(cache.CACHE_DIR) / cache.FILE_NAME
KE1 = "known_errors/KE-0001-outlook-prompts.md"


@pytest.fixture(autouse=True)
def _own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test has its own cache key (as if on its own machine) and the cache on."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(cache.ENV_OFF, raising=False)


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    root = shutil.copytree(FIXTURES / "base", tmp_path / "kb")
    ke1 = next((root / "known_errors").glob("KE-0001-*.md"))
    assert ke1.relative_to(root).as_posix() == KE1
    return root


def findings(root: Path) -> list[tuple[str, int, str, str]]:
    return [(f.path, f.line, f.code, f.message) for f in run(root).findings]


def uncached(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, str, str]]:
    with monkeypatch.context() as m:
        m.setenv(cache.ENV_OFF, "1")
        return findings(root)


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record which files are read and scanned (cache misses)."""
    seen: list[str] = []
    real = loader._scan_record

    def spy(item: Any) -> Any:
        seen.append(item[1])
        return real(item)

    monkeypatch.setattr(loader, "_scan_record", spy)
    return seen


def test_warm_run_reads_nothing_and_reports_the_same(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = findings(kb)
    assert (kb / CACHE_FILE).is_file()
    assert (kb / cache.CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*", "the cache ignores itself in git"
    reads = count_reads(monkeypatch)
    assert findings(kb) == cold
    assert reads == []
    assert not [p for p in (kb / cache.CACHE_DIR).iterdir() if p.name.endswith(".tmp")], "no temporary files are left"


def test_an_edit_is_a_miss(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    findings(kb)
    p = kb / KE1
    p.write_text(p.read_text().replace("status: published", "status: publishd") + "\npassword: Hunter2xyz!\n")
    reads = count_reads(monkeypatch)
    got = findings(kb)
    assert reads == [KE1]
    assert got == uncached(kb, monkeypatch)
    assert {(path, code) for path, _, code, _ in got} >= {(KE1, "KE103"), (KE1, "KE401")}


def test_a_rename_is_a_miss(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    findings(kb)
    (kb / KE1).rename(kb / "known_errors/KE-0002-renamed.md")
    got = findings(kb)
    assert got == uncached(kb, monkeypatch)
    assert any(code == "KE201" and path == "known_errors/KE-0002-renamed.md" for path, _, code, _ in got)


def test_settings_that_change_per_file_results_are_part_of_the_key(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = kb / KE1
    p.write_text(p.read_text() + "\nWrite to desk@customer.example or call +44 20 7946 0123 today\n")
    before = findings(kb)
    assert {code for path, _, code, _ in before if path == KE1} >= {"KE402", "KE403"}
    settings = kb / "content/kedb.yml"
    text = settings.read_text()
    assert "emails: [servicedesk@example.com]" in text
    text = text.replace("emails: [servicedesk@example.com]", "emails: [servicedesk@example.com, desk@customer.example]")
    settings.write_text(text.replace('phones: ["+44 20 7946 0000"]', 'phones: ["+44 20 7946 0000", "+44 20 7946 0123"]'))
    after = findings(kb)
    assert after == uncached(kb, monkeypatch)
    assert not {code for path, _, code, _ in after if path == KE1} & {"KE402", "KE403"}
    settings.write_text(settings.read_text() + "limits:\n  max_line_chars: 60\n")
    shorter = findings(kb)
    assert shorter == uncached(kb, monkeypatch)
    assert any(code == "KE602" for _, _, code, _ in shorter)


def test_a_new_kedb_is_a_new_context(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    findings(kb)
    monkeypatch.setattr(cache, "source_digest", lambda: "another version of kedb's code")
    reads = count_reads(monkeypatch)
    findings(kb)
    assert len(reads) == len(list((kb / "known_errors").glob("*.md")))


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"",
        lambda b: b[: len(b) // 2],
        lambda b: b"garbage" * 100,
        lambda b: b[:-1] + bytes([b[-1] ^ 1]),  # one bit of the payload
        lambda b: b[:30] + bytes([b[30] ^ 1]) + b[31:],  # one bit of the MAC
    ],
    ids=["empty", "truncated", "garbage", "payload-bit", "mac-bit"],
)
def test_damaged_cache_is_ignored_and_rewritten(kb: Path, monkeypatch: pytest.MonkeyPatch, damage: Any) -> None:
    cold = findings(kb)
    path = kb / CACHE_FILE
    path.write_bytes(damage(path.read_bytes()))
    reads = count_reads(monkeypatch)
    assert findings(kb) == cold
    assert reads, "the damaged cache was not used"
    reads.clear()
    assert findings(kb) == cold
    assert reads == [], "the cache was written again"


def test_a_cache_from_elsewhere_is_not_trusted(kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache file committed to the repository, or copied from another machine, does not verify:
    it cannot make kedb trust results it did not compute here."""
    p = kb / KE1
    clean = p.read_bytes()
    findings(kb)  # cache written with this machine's key, for the clean file
    forged = (kb / CACHE_FILE).read_bytes()
    p.write_bytes(clean + b"\npassword: Hunter2xyz!\n")
    dirty = findings(kb)
    assert any(code == "KE401" for _, _, code, _ in dirty)
    # Another machine (another key) with a cache that maps the dirty file's hash to a clean result:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-machine"))
    (kb / CACHE_FILE).write_bytes(forged)
    assert findings(kb) == dirty


def test_no_cache_when_turned_off(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.ENV_OFF, "1")
    findings(kb)
    assert not (kb / cache.CACHE_DIR).exists()
    monkeypatch.delenv(cache.ENV_OFF)
    loader.load(kb, use_cache=False)
    assert not (kb / cache.CACHE_DIR).exists()


def test_unwritable_cache_is_no_error(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (kb / ".kedb").mkdir()
    (kb / cache.CACHE_DIR).write_text("a file where the cache folder would be")
    assert findings(kb) == uncached(kb, monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(kb / cache.CACHE_DIR / "x"))  # no key can be made either
    assert findings(kb) == uncached(kb, monkeypatch)


def test_deleted_records_leave_the_cache(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    findings(kb)
    saved: list[dict[str, Any]] = []
    real = cache.Store.save

    def spy(self: cache.Store, entries: Any) -> None:
        saved.append(dict(entries))
        real(self, entries)

    monkeypatch.setattr(cache.Store, "save", spy)
    (kb / KE1).unlink()
    findings(kb)
    assert saved and KE1 not in saved[-1]
    assert len(saved[-1]) == len(list((kb / "known_errors").glob("*.md")))
    saved.clear()
    findings(kb)
    assert saved == [], "nothing changed: nothing written"


def _remembered(root: Path) -> tuple[Any, list[tuple[str, int, str, str]]]:
    report = run(root, remember=True)
    return report.kb, [(f.path, f.line, f.code, f.message) for f in report.findings]


def test_a_process_that_remembers_reads_only_the_files_that_changed(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``mkdocs serve`` checks the KB at every rebuild: what each record file gave is kept in the process while the file
    (type, device, inode, size and times, taken before it was read) is the same. A file changed in any way — its text, or
    its bytes put back to the same size with the old modification time — is read again, and the findings are those of
    a run that remembers nothing."""
    first, _ = _remembered(kb)
    disk = count_reads(monkeypatch)
    hashed: list[str] = []
    real_read = loader.read_regular
    monkeypatch.setattr(loader, "read_regular", lambda path, *a: hashed.append(str(path)) or real_read(path, *a))
    again, _ = _remembered(kb)
    records = [h for h in hashed if "/known_errors/" in h]
    assert disk == [] and records == [], "no record file read, not even to compare with the cache"
    assert all(again.records[rid].meta is first.records[rid].meta for rid in first.records)
    p = kb / KE1
    p.write_text(p.read_text().replace("status: published", "status: publishd"))
    _, got = _remembered(kb)
    assert {(path, code) for path, _, code, _ in got} >= {(KE1, "KE103")}
    assert got == uncached(kb, monkeypatch)
    text, st = p.read_text(), p.stat()
    fixed = text.replace("status: publishd", "status: published")
    p.write_text(fixed[: fixed.rindex("\n", 0, len(text) - 1)] + "\n" * (len(text) - fixed.rindex("\n", 0, len(text) - 1)))
    assert p.stat().st_size == st.st_size and p.stat().st_ino == st.st_ino
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same modification time: only the change time moves
    _, got = _remembered(kb)
    assert not any(code == "KE103" for _, _, code, _ in got), "the fixed file was read again"
    assert got == uncached(kb, monkeypatch)
