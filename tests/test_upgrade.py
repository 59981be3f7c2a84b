"""``kedb upgrade`` (issue #21, item 3): a KB written for an earlier kedb is told what changed and
rewritten on request; ``kedb check`` names the version a KB was written for when it cannot read a
file. The base fixture predates the flow audit (no content/progression.yml) and records no version."""

from __future__ import annotations

from pathlib import Path

from kbtest import kedb
from kedb import __version__
from kedb.authoring.upgrade import MIGRATIONS, plan, recorded_version


def test_a_kb_from_before_the_flow_audit_is_listed_then_upgraded(base_kb: Path) -> None:
    assert not (base_kb / "content" / "progression.yml").exists() and recorded_version(base_kb) is None
    before = {p: p.read_bytes() for p in base_kb.rglob("*") if p.is_file()}
    dry = kedb("--root", str(base_kb), "upgrade")
    assert dry.exit_code == 1, dry.output
    assert "The KB was written for an unrecorded kedb version; this is kedb" in dry.output
    assert "content/progression.yml: the flow audit's progression policy" in dry.output
    assert "Dry run: nothing was written." in dry.output
    assert {p: p.read_bytes() for p in base_kb.rglob("*") if p.is_file()} == before

    done = kedb("--root", str(base_kb), "upgrade", "--write")
    assert done.exit_code == 0, done.output
    assert "  wrote content/kedb.yml\n  wrote content/progression.yml\n" in done.output
    assert done.output.rstrip().endswith("0 errors, 0 warnings")
    assert recorded_version(base_kb) == __version__
    assert kedb("--root", str(base_kb), "check", "--strict").exit_code == 0
    again = kedb("--root", str(base_kb), "upgrade")
    assert (again.exit_code, again.output) == (0, f"The KB is written for kedb {__version__}, this version: nothing to upgrade.\n")


def test_a_recorded_version_that_only_needs_its_number_raised(base_kb: Path) -> None:
    (base_kb / "content" / "progression.yml").write_bytes(Path(__file__).parents[1].joinpath("content/progression.yml").read_bytes())
    settings = base_kb / "content" / "kedb.yml"
    settings.write_text(settings.read_text(encoding="utf-8") + 'kedb_version: "0.0.9"  # written by hand\n', encoding="utf-8")
    p = plan(base_kb)
    assert p.since == "0.0.9" and p.steps == ()
    res = kedb("--root", str(base_kb), "upgrade", "--write")
    assert res.exit_code == 0 and "no file needs rewriting" in res.output, res.output
    assert settings.read_text(encoding="utf-8").count("kedb_version:") == 1 and recorded_version(base_kb) == __version__


def test_a_kb_written_for_a_newer_kedb_is_not_downgraded(base_kb: Path) -> None:
    settings = base_kb / "content" / "kedb.yml"
    settings.write_text(settings.read_text(encoding="utf-8") + "kedb_version: 99.0.0\n", encoding="utf-8")
    res = kedb("--root", str(base_kb), "upgrade", "--write")
    assert res.exit_code == 2 and "written for kedb 99.0.0, newer than this kedb" in res.output
    assert not (base_kb / "content" / "progression.yml").exists()


def test_check_names_the_version_when_it_cannot_read_a_file(base_kb: Path) -> None:
    settings = base_kb / "content" / "kedb.yml"
    settings.write_text(settings.read_text(encoding="utf-8") + "kedb_version: 0.0.9\nretired_setting: true\n", encoding="utf-8")
    res = kedb("--root", str(base_kb), "check")
    assert res.exit_code == 1
    assert f"kedb: note: the KB was last upgraded for kedb 0.0.9; this is kedb {__version__}: `kedb upgrade` lists" in res.stderr


def test_every_migration_names_a_released_version_in_order() -> None:
    versions = [tuple(int(x) for x in m.version.split(".")) for m in MIGRATIONS]
    assert versions == sorted(versions) and all(v <= tuple(int(x) for x in __version__.split(".")) for v in versions)
