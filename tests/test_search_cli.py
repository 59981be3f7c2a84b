"""``kedb search``: the same ranking in a terminal and for scripts, and its error paths.

Exit codes as grep's: 0 found, 1 nothing found, 2 usage or environment problem with one clear
line and no traceback; a KB with check errors is searched all the same, the broken files named.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kbtest import REPO
from kedb.build.context import make
from kedb.cli.main import main
from kedb.search import index
from kedb.search.documents import entries


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("search-cli") / "kb"
    for part in ("content", "known_errors"):
        shutil.copytree(REPO / part, root / part)
    return root


@pytest.fixture(scope="module")
def site(kb: Path) -> Path:
    """A site folder holding only the search index of the public edition."""
    ctx = make(kb, audience="public")
    out = kb.parent / "site"
    for name, data in index.files(entries(ctx), extra={"edition": index.edition("public", None)}).items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    return out


def test_text_output_lists_the_best_records(kb: Path) -> None:
    r = run("--root", str(kb), "search", "outlook", "keeps", "prompting")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith("KE-0001  Office apps")
    assert any("[Retired]" in line and "→ use KE-0001" in line for line in lines)
    assert "matched: outlook, keeps, prompting" in lines[1]
    assert lines[-1].endswith("matching records") and " of " in lines[-1]


def test_json_output_for_scripts(kb: Path) -> None:
    r = run("--root", str(kb), "search", "--format", "json", "--limit", "2", "aadsts 50076")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["total"] == 3 and data["edition"] == {"audience": "internal", "tenant": None}
    top = data["results"][0]
    assert top["id"] == "KE-0001" and top["kind"] == "known-error" and top["status"] == "published"
    assert top["url"] == "known-errors/KE-0001/" and top["matched"] == ["50076", "aadsts 50076"] and top["successor"] is None
    assert len(data["results"]) == 2


def test_a_long_paste_from_standard_input(kb: Path) -> None:
    paste = (
        "Log Name: System\nSource: Service Control Manager\n" + "Keywords: Classic\n" * 40 + "Event ID: 7031\nThe spooler service ended.\n"
    )
    r = run("--root", str(kb), "search", "-", stdin=paste)
    assert r.exit_code == 0 and r.stdout.startswith("KE-0015")


def test_nothing_found_exits_1(kb: Path) -> None:
    r = run("--root", str(kb), "search", "zqxwvj")
    assert r.exit_code == 1 and r.stdout == "no matching records\n"
    r = run("--root", str(kb), "search", "--format", "json", "zqxwvj")
    assert r.exit_code == 1 and json.loads(r.stdout)["results"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search"], "nothing to search"),
        (["search", "   "], "nothing to search"),
        (["search", "--tenant", "acme", "x"], "unknown tenant 'acme' (did you mean 'ACME'?"),
        (["search", "--site", "/nonexistent/site", "x"], "has no kedb search index"),
        (["search", "--limit", "0", "x"], "Invalid value for '--limit'"),
        (["search", "--format", "xml", "x"], "Invalid value for '--format'"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(kb: Path, args: list[str], message: str) -> None:
    r = run("--root", str(kb), *args)
    assert r.exit_code == 2
    assert message in r.stderr and "Traceback" not in r.stderr


def test_standard_input_must_carry_text(kb: Path) -> None:
    r = run("--root", str(kb), "search", "-", stdin="")
    assert r.exit_code == 2 and "nothing to search" in r.stderr


def test_too_long_a_paste_is_refused(kb: Path) -> None:
    r = run("--root", str(kb), "search", "-", stdin="word " * 30_000)
    assert r.exit_code == 2 and "longer than 100,000 characters" in r.stderr


def test_not_a_kb(tmp_path: Path) -> None:
    r = run("--root", str(tmp_path), "search", "x")
    assert r.exit_code == 2 and "is not a kedb repository" in r.stderr


def test_from_a_built_site_and_only_its_edition(kb: Path, site: Path) -> None:
    r = run("--root", str(kb), "search", "--site", str(site), "--format", "json", "0x8004010F")
    assert r.exit_code == 0 and json.loads(r.stdout)["edition"] == {"audience": "public", "tenant": None}
    assert json.loads(r.stdout)["results"][0]["id"] == "KE-0004"
    r = run("--root", str(kb), "search", "--site", str(site), "0x80070005")  # KE-0019 is internal: not in this edition
    assert r.exit_code == 1
    r = run("--root", str(kb), "search", "--site", str(site), "--audience", "internal", "0x80070005")
    assert r.exit_code == 2 and "was built for the public edition, not the internal one" in r.stderr
    r = run("--root", str(kb), "search", "--site", str(site), "--tenant", "ACME", "x")
    assert r.exit_code == 2 and "not the public ACME one" in r.stderr


def test_an_edition_shows_only_its_records(kb: Path) -> None:
    internal = json.loads(run("--root", str(kb), "search", "--format", "json", "--limit", "100", "vpn").stdout)
    acme = json.loads(run("--root", str(kb), "search", "--format", "json", "--limit", "100", "--tenant", "GLOBEX", "vpn").stdout)
    assert "KE-0009" in {h["id"] for h in internal["results"]}  # ACME's own record
    assert "KE-0009" not in {h["id"] for h in acme["results"]}


def test_a_kb_with_errors_is_searched_and_the_broken_file_named(kb: Path, tmp_path: Path) -> None:
    root = shutil.copytree(kb, tmp_path / "broken")
    bad = next((root / "known_errors").glob("KE-0005-*.md"))
    bad.write_text(bad.read_text(encoding="utf-8").replace("status: published", "status: [oops"), encoding="utf-8")
    r = run("--root", str(root), "search", "0x80070005")
    assert r.exit_code == 0 and r.stdout.startswith("KE-0019")
    assert "1 file(s) have errors and are not searched" in r.stderr and bad.name in r.stderr


def test_control_characters_never_reach_the_terminal(kb: Path) -> None:
    r = run("--root", str(kb), "search", "--format", "json", "\x1b[31m 0x80070005 \x07")
    assert r.exit_code == 0 and "\x1b" not in r.stdout and "\x07" not in r.stdout
    r = run("--root", str(kb), "search", "\x1b]0;title\x07 spooler")
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
