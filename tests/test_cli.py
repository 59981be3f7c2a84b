"""Every command and exit code of the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kbtest import AS_OF, git, init_repo, kedb
from kedb.check.run import run
from kedb.core.reference import file_kinds


def test_check_clean_kb_exits_0(base_kb: Path) -> None:
    r = kedb("--root", str(base_kb), "check", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output
    assert "3 records checked: 0 errors, 0 warnings" in r.stdout


def test_check_error_exits_1_with_place_and_code(base_kb: Path) -> None:
    rec = base_kb / "known_errors/KE-0001-outlook-prompts.md"
    rec.write_text(rec.read_text().replace("status: published", "status: live"))
    r = kedb("--root", str(base_kb), "check", "--as-of", AS_OF)
    assert r.exit_code == 1
    assert "known_errors/KE-0001-outlook-prompts.md:4: KE103 invalid-value (error): 'live' is not allowed for 'status'" in r.stdout


def test_warning_fails_only_with_strict(base_kb: Path) -> None:
    late = "2027-06-01"  # after the base records' review_by
    assert kedb("--root", str(base_kb), "check", "--as-of", late).exit_code == 0
    r = kedb("--root", str(base_kb), "check", "--as-of", late, "--strict")
    assert r.exit_code == 1
    assert "KE305 stale-record (warning)" in r.stdout


def test_check_json_and_gitlab_formats(base_kb: Path, tmp_path: Path) -> None:
    rec = base_kb / "known_errors/WA-0001-clear-cached-credentials.md"
    rec.write_text(rec.read_text().replace("risk: low", "risk: high"))
    r = kedb("--root", str(base_kb), "check", "--as-of", AS_OF, "--format", "json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data["errors"] == 1
    assert data["findings"][0] | {"message": ""} == {
        "path": "known_errors/WA-0001-clear-cached-credentials.md",
        "line": 10,
        "code": "KE303",
        "rule": "rollback-missing",
        "severity": "error",
        "message": "",
    }
    out = tmp_path / "gl-code-quality-report.json"
    r = kedb("--root", str(base_kb), "check", "--as-of", AS_OF, "--format", "gitlab", "--output", str(out))
    assert r.exit_code == 1
    items = json.loads(out.read_text())
    assert items[0]["check_name"] == "KE303"
    assert items[0]["location"] == {"path": "known_errors/WA-0001-clear-cached-credentials.md", "lines": {"begin": 10}}
    assert items[0]["severity"] == "major" and len(items[0]["fingerprint"]) == 64


def test_not_a_kb_and_usage_errors_exit_2(tmp_path: Path) -> None:
    r = kedb("--root", str(tmp_path), "check")
    assert r.exit_code == 2 and "is not a kedb repository" in r.stderr
    assert kedb("check", "--format", "xml").exit_code == 2
    assert kedb("check", "--as-of", "yesterday").exit_code == 2
    assert kedb("frobnicate").exit_code == 2


def test_new_records_pass_check(base_kb: Path) -> None:
    root = str(base_kb)
    r = kedb("--root", root, "new", "known-error", "--title", "Printer queue stuck after driver update", "--service", "printing")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == "known_errors/KE-0002-printer-queue-stuck-after-driver-update.md"
    r = kedb(
        "--root",
        root,
        "new",
        "workaround",
        "--title",
        "Restart the spooler and clear the queue",
        "--service",
        "printing",
        "--for",
        "KE-0002",
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().startswith("known_errors/WA-0002-")
    assert "added WA-0002 to KE-0002's workarounds" in r.stderr
    r = kedb(
        "--root", root, "new", "problem", "--title", "Spooler crashes after driver updates", "--service", "printing", "--for", "KE-0002"
    )
    assert r.exit_code == 0, r.output
    report = run(base_kb)
    assert [f.format() for f in report.findings] == []
    ke = report.kb.records["KE-0002"].meta
    assert ke.workarounds == ["WA-0002"] and ke.problem == "PRB-0002" and ke.status == "draft" and ke.owner == "ann.owner"
    assert report.kb.records["WA-0002"].meta.applies_to == ["KE-0002"]


def test_new_takes_ids_on_origin_main_into_account(base_kb: Path, tmp_path: Path) -> None:
    origin = init_repo(base_kb)
    (origin / "known_errors/KE-0007-taken-on-main.md").write_text(
        (origin / "known_errors/KE-0001-outlook-prompts.md").read_text().replace("KE-0001", "KE-0007")
    )
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "Add KE-0007 on main")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    git(clone, "reset", "-q", "--hard", "HEAD~1")  # the branch does not have KE-0007; origin/main does
    assert not (clone / "known_errors/KE-0007-taken-on-main.md").exists()
    r = kedb("--root", str(clone), "new", "known-error", "--title", "Another Outlook symptom", "--service", "m365-mail")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().startswith("known_errors/KE-0008-")


def test_new_rejects_unknown_service_and_bad_link(base_kb: Path) -> None:
    r = kedb("--root", str(base_kb), "new", "known-error", "--title", "Something broke", "--service", "nope")
    assert r.exit_code == 2 and "unknown service 'nope'" in r.stderr and "m365-mail" in r.stderr
    r = kedb("--root", str(base_kb), "new", "workaround", "--title", "Do a thing", "--service", "printing", "--for", "KE-0999")
    assert r.exit_code == 2 and "KE-0999" in r.stderr
    assert not list((base_kb / "known_errors").glob("WA-0002*"))


def test_build_checks_first(base_kb: Path) -> None:
    bad = kedb("--root", str(base_kb), "build", "--only", "docx,nope")
    assert bad.exit_code == 2 and "unknown output(s) nope" in bad.stderr
    rec = base_kb / "known_errors/KE-0001-outlook-prompts.md"
    rec.write_text(rec.read_text().replace("priority: P2", "priority: P9"))
    r = kedb("--root", str(base_kb), "build")
    assert r.exit_code == 1 and "nothing was built" in r.stderr and "KE103" in r.stderr
    assert not (base_kb / "site").exists()


def test_schema_writes_every_kind(base_kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "schema"
    r = kedb("--root", str(base_kb), "schema", "--out", str(out))
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in out.iterdir())
    assert "known-error.schema.json" in names and "roles.schema.json" in names and len(names) == len(file_kinds())
    ke = json.loads((out / "known-error.schema.json").read_text())
    assert {"id", "title", "symptoms", "priority"} <= set(ke["required"])
    assert ke["additionalProperties"] is False


def test_check_no_cache_writes_no_cache(base_kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KEDB_NO_CACHE", raising=False)
    r = kedb("--root", str(base_kb), "check", "--no-cache", "--as-of", "2026-11-22")
    assert r.exit_code == 0, r.output
    assert not (base_kb / ".kedb" / "cache").exists()
    assert kedb("--root", str(base_kb), "check", "--as-of", "2026-11-22").exit_code == 0
    assert (base_kb / ".kedb" / "cache").is_dir(), "without --no-cache the cache is written"
