"""The guards, each against expectations written out here, not computed by the code under test.

- Editions: a KB of 24 crafted known errors (every sensitivity × status × tenant scope) and a
  table, by hand, of the editions each may appear in; the selected KB and the built public and
  tenant sites must hold exactly those, and no hidden id may appear in any file of a site.
- The secret scan: one realistic sample for every rule of the pattern table (a rule without a
  sample fails the test) and near misses that must pass.
- Spreadsheet text: every formula-like first character is stored as text with a quote prefix.
- The site swap: the old site is never deleted before the new one is in place, and nothing of it
  is left behind, even when removing it fails.
- Search terms: dotted codes, versions and file names split as the index builds them.
- The repeat-rate window: a repeat exactly on the window's edge counts, one second later does not.

``make mutation`` (tests/mutation/run.py) shows which changes to the guards these tests catch.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from kbtest import FIXTURES, git, gone

AS_OF = date(2026, 11, 22)
WHEN = "2026-11-02T09:30:00+00:00"

# ---------------------------------------------------------------- editions
SENSITIVITIES = ("public", "internal", "confidential")
STATUSES = ("draft", "in-review", "published", "retired")
SCOPES = ((), ("ACME",))  # all tenants, or ACME only
EDITIONS = ("internal", "internal/ACME", "internal/GLOBEX", "public", "public/ACME", "public/GLOBEX")

# Written out by hand from the edition rules in the README: confidential records are in no
# edition; internal records only in internal editions; public records in internal editions, and
# in public ones once published or retired; a record for ACME only is not in GLOBEX's editions.
SHOWN_IN: dict[tuple[str, str, bool], set[str]] = {}
for _status in STATUSES:
    live = _status in ("published", "retired")
    SHOWN_IN[("confidential", _status, False)] = set()
    SHOWN_IN[("confidential", _status, True)] = set()
    SHOWN_IN[("internal", _status, False)] = {"internal", "internal/ACME", "internal/GLOBEX"}
    SHOWN_IN[("internal", _status, True)] = {"internal", "internal/ACME"}
    SHOWN_IN[("public", _status, False)] = {"internal", "internal/ACME", "internal/GLOBEX"} | (
        {"public", "public/ACME", "public/GLOBEX"} if live else set()
    )
    # scoped to ACME: in ACME's public edition, not in the public edition for everyone
    SHOWN_IN[("public", _status, True)] = {"internal", "internal/ACME"} | ({"public/ACME"} if live else set())

KE = """---
id: {id}
title: Guard record {n}, {sens} and {status}
status: {status}
service: m365-mail
owner: ann.owner
created: 2026-03-01
review_by: 2027-03-01
data_sensitivity: {sens}
{extra}symptoms:
  - Guard symptom number {n}
symptom_signature: m365-mail:guard:{n}
impact: low
urgency: low
priority: P3
no_workaround_reason: Restarting the client is the whole fix.
fix:
  status: none
---

## Symptoms

The client stops answering (guard record {n}).

## Cause

Unknown.

## Workaround

Restart the client.

## Permanent fix

None yet.

## Reply to customer

Please restart the client.
"""
PLAYBOOK_PUBLIC = "guard-public-playbook"


def _crafted_kb(root: Path) -> dict[str, tuple[str, str, bool]]:
    """The base fixture plus one known error per (sensitivity, status, scope); returns id -> its kind."""
    shutil.copytree(FIXTURES / "base", root)
    kedb_yml = root / "content" / "kedb.yml"
    kedb_yml.write_text(
        kedb_yml.read_text(encoding="utf-8").replace(
            "tenants: [{id: ACME, name: Acme}]", "tenants: [{id: ACME, name: Acme}, {id: GLOBEX, name: Globex}]"
        ),
        encoding="utf-8",
    )
    playbooks = sorted((root / "content" / "playbooks").glob("*.md"))
    text = playbooks[0].read_text(encoding="utf-8")
    assert "data_sensitivity" not in text.split("---")[1]  # internal by default
    public = re.sub(r"^title: .*$", "title: A guard playbook for everyone", text, count=1, flags=re.M)
    public = public.replace("\n---", "\ndata_sensitivity: public\n---", 1)
    (root / "content" / "playbooks" / f"{PLAYBOOK_PUBLIC}.md").write_text(public, encoding="utf-8")
    kinds: dict[str, tuple[str, str, bool]] = {}
    n = 10
    for sens in SENSITIVITIES:
        for status in STATUSES:
            for scope in SCOPES:
                rid = f"KE-{n:04d}"
                extra = f"tenants: [{', '.join(scope)}]\n" if scope else ""
                extra += "retired_reason: A vendor update removed the fault.\n" if status == "retired" else ""
                (root / "known_errors" / f"{rid}-guard.md").write_text(
                    KE.format(id=rid, n=n, sens=sens, status=status, extra=extra), encoding="utf-8"
                )
                kinds[rid] = (sens, status, bool(scope))
                n += 1
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Guard KB", env={"GIT_AUTHOR_DATE": WHEN, "GIT_COMMITTER_DATE": WHEN})
    return kinds


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[str, str, bool]]]:
    root = tmp_path_factory.mktemp("guards") / "kb"
    return root, _crafted_kb(root)


def _edition(name: str) -> tuple[str, str | None]:
    audience, _, tenant = name.partition("/")
    return audience, tenant or None


@pytest.mark.parametrize("edition", EDITIONS)
def test_each_edition_holds_exactly_the_records_the_table_allows(crafted: tuple[Path, dict], edition: str) -> None:
    from kedb.build import context

    root, kinds = crafted
    audience, tenant = _edition(edition)
    ctx = context.make(root, audience=audience, tenant=tenant, as_of=AS_OF)
    expected = {rid for rid, kind in kinds.items() if edition in SHOWN_IN[kind]}
    shown = {rid for rid in ctx.kb.records if rid in kinds}
    assert shown == expected
    titles = {p.meta.title for p in ctx.kb.playbooks}
    assert ("A guard playbook for everyone" in titles) and (len(titles) == (1 if audience == "public" else 2))


@pytest.mark.parametrize("edition", ["public", "public/GLOBEX", "internal/GLOBEX"])
def test_a_built_site_shows_no_hidden_record_anywhere(crafted: tuple[Path, dict], edition: str, tmp_path: Path) -> None:
    """Record pages, indexes, search shards, feeds: a hidden id is in no file of the site."""
    from kedb.build import context
    from kedb.site.render import render

    root, kinds = crafted
    audience, tenant = _edition(edition)
    ctx = context.make(root, audience=audience, tenant=tenant, as_of=AS_OF)
    site = render(replace(ctx, downloads_dir=None), tmp_path / "site")
    pages = {p.name for p in (site / "known-errors").iterdir() if p.is_dir() and p.name.startswith("KE-")}
    expected = {rid for rid, kind in kinds.items() if edition in SHOWN_IN[kind]}
    assert pages & set(kinds) == expected
    hidden = sorted(set(kinds) - expected)
    assert hidden  # every edition here hides some
    needle = re.compile("|".join(re.escape(h) for h in hidden) + "|" + "|".join(f"Guard record {h[3:].lstrip('0')}," for h in hidden))
    for f in site.rglob("*"):
        if f.is_file() and f.suffix in (".html", ".json", ".xml", ".txt", ".js"):
            found = needle.search(f.read_text(encoding="utf-8", errors="replace"))
            assert found is None, f"{f.relative_to(site)} shows hidden {found.group()!r}"


def test_ticket_ids_only_in_the_internal_all_tenant_edition() -> None:
    from kedb.build.context import shows_ticket_ids

    def ctx(audience: str, tenant: str | None) -> object:
        return SimpleNamespace(info=SimpleNamespace(audience=audience, tenant=tenant))

    assert shows_ticket_ids(ctx("internal", None)) is True
    assert shows_ticket_ids(ctx("internal", "ACME")) is False
    assert shows_ticket_ids(ctx("public", None)) is False
    assert shows_ticket_ids(ctx("public", "ACME")) is False


# ---------------------------------------------------------------- the secret scan
def _samples() -> dict[str, tuple[str, ...]]:
    """One or more realistic samples per rule (assembled here so the repository holds no token)."""
    a20, up16 = "a1B2c3D4e5F6g7H8i9J0", "ABCDEFGHIJKLMNOP"
    aws40 = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"  # AWS's documented example secret access key
    return {
        "an AWS secret access key": (
            "export AWS_SECRET_ACCESS_KEY=" + aws40,
            "AWS_SECRET_ACCESS_KEY: " + aws40,
            "aws_secret_access_key = '" + aws40 + "'",
            '"SecretAccessKey": "' + aws40 + '",',
            "aws configure set aws_secret_access_key " + aws40,
        ),
        "an Azure SAS signature": (
            "https://acct.blob.core.windows.net/logs/a.txt?sv=2022-11-02&sp=r&se=2026-12-01&sig="
            + "abcdEFGH1234%2Bijkl5678mnopQRSTuvwxYZ90ab%3D",
        ),
        "a Google Cloud service-account key": (
            '{"type": "service_account", "project_id": "p1", "private_key": "' + "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + '"}',
        ),
        "a Google API key": ("key=AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",),
        "an API secret key": ("key " + "sk-" + a20 + "xyz",),
        "a bearer token": ("Authorization: Bearer " + a20 + "kLmN",),
        "a storage or bus key": ("DefaultEndpointsProtocol=https;AccountName=x;AccountKey=" + "Zm9vYmFyYmF6cXV4==",),
        "a connection string with a password": ("Server=db01;Database=crm;User Id=app;Password=" + "Tr0ub4dor",),
        "a URL with a user name and password": ("see https://admin:" + "s3cretpw" + "@intranet.example.com/app",),
        "a private key": (
            "-----BEGIN RSA " + "PRIVATE KEY-----",
            "-----BEGIN " + "PRIVATE KEY-----",
            "-----BEGIN OPENSSH " + "PRIVATE KEY-----",
            "-----BEGIN SSH2 ENCRYPTED " + "PRIVATE KEY-----",
            "-----BEGIN PGP " + "PRIVATE KEY BLOCK-----",
            "PuTTY-User-Key-File-" + "3: ssh-ed25519",
        ),
        "a GitHub token": ("ghp_" + a20 + a20[:16], "github_pat_" + "11" + a20 + a20),
        "a GitLab token": ("glpat-" + a20,),
        "a Slack token": ("xoxb-" + "1234567890-" + a20,),
        "an AWS access key": ("AKIA" + up16, "id ASIA" + "0123456789ABCDEF" + " here"),
        "a JSON web token": ("eyJ" + a20 + ".eyJ" + a20 + "." + a20,),
        "`curl -u` with credentials": ("curl -u admin:" + "hunter22 https://x.example.com",),
    }


NEAR_MISSES = (
    "AKIA" + "ABCDEFGHIJKLMNO",  # 15 characters after the prefix
    "akia" + "abcdefghijklmnop",  # lower case is not an AWS key id
    "sk-short",
    "ghp_tooShort",
    "Bearer token goes here",
    "curl https://x.example.com",
    "-----BEGIN CERTIFICATE-----",
    "password: YOUR-PASSWORD",
    "token = ${API_TOKEN}",
)


def test_every_secret_rule_has_a_sample_here() -> None:
    from kedb.core.load import scan

    assert {what for _, what, _ in scan._SECRET_PATTERNS} == set(_samples())


@pytest.mark.parametrize("what", sorted(_samples()))
def test_each_secret_rule_finds_its_sample_on_its_line(what: str) -> None:
    from kedb.core.load.scan import Allow, secrets

    for sample in _samples()[what]:
        text = f"first line\n\nThe agent pasted: {sample}\nlast line\n"
        found = [(code, line, msg) for code, line, msg in secrets(text, Allow(), first_line=1) if code == "KE401"]
        assert ("KE401", 3) in [(c, ln) for c, ln, _ in found], (what, sample, found)
        assert any(what in msg for _, ln, msg in found if ln == 3), (what, found)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_not_secrets(text: str) -> None:
    from kedb.core.load.scan import Allow, secrets

    assert [i for i in secrets(f"line one\n{text}\n", Allow()) if i[0] == "KE401"] == []


def test_a_secret_after_the_first_line_of_a_record_is_found_by_kedb_check(tmp_path: Path) -> None:
    """End to end: the AWS rule fires through the loader, on the right line of the right file."""
    from kbtest import copy_kb
    from kedb.check.run import run

    root = copy_kb(FIXTURES / "base", tmp_path / "kb")
    ke = next((root / "known_errors").glob("KE-0001-*.md"))
    lines = ke.read_text(encoding="utf-8").splitlines()
    at = lines.index("## Cause") + 2
    lines.insert(at, "Seen with key id AKIA" + "QWERTYUIOPASDFGH" + " in the log.")
    ke.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run(root, AS_OF)
    hits = [(f.path, f.line) for f in report.findings if f.code == "KE401"]
    assert hits == [(ke.relative_to(root).as_posix(), at + 1)]


# ---------------------------------------------------------------- spreadsheet text
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


@pytest.mark.parametrize("first", FORMULA_STARTS)
def test_text_that_starts_like_a_formula_stays_text(first: str, tmp_path: Path) -> None:
    from openpyxl import Workbook, load_workbook

    from kedb.renderers.xlsx import text_cell

    wb = Workbook()
    ws = wb.active
    value = f'{first}SUM(A1:A3)+HYPERLINK("http://x.example")'
    cell = text_cell(ws, 1, 1, value)
    plain = text_cell(ws, 2, 1, "SUM(A1:A3) is not a formula")
    number = text_cell(ws, 3, 1, 42)
    assert (cell.data_type, cell.quotePrefix) == ("s", True)
    assert plain.quotePrefix is not True and number.value == 42
    path = tmp_path / "t.xlsx"
    wb.save(path)
    back = load_workbook(path).active
    assert back.cell(1, 1).data_type == "s" and back.cell(1, 1).quotePrefix is True
    assert back.cell(1, 1).value.lstrip("\t\r\n") == value.lstrip("\t\r\n")  # openpyxl keeps the text, not a formula
    assert back.cell(3, 1).data_type == "n"


def test_the_formula_like_prefixes_are_exactly_these() -> None:
    from kedb.renderers import xlsx

    assert set(xlsx.FORMULA_LIKE) == set(FORMULA_STARTS)


# ---------------------------------------------------------------- the site swap
def _tree(path: Path, marker: str) -> Path:
    (path / "sub").mkdir(parents=True)
    (path / "index.html").write_text(marker)
    (path / "sub" / "page.html").write_text(marker)
    return path


def test_the_old_site_stays_until_the_new_one_is_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kedb.build import run

    dst = _tree(tmp_path / "site", "old")
    src = _tree(tmp_path / "stage", "new")
    discarded: list[tuple[str, str, str]] = []
    real_rename = os.rename

    def watching_rename(a: Path, b: Path) -> None:
        # the old tree goes to the trash (to be deleted) only once site/ is the complete new site
        if ".trash-" in Path(b).name:
            discarded.append((Path(a).name, (Path(a) / "index.html").read_text(), (dst / "index.html").read_text()))
        real_rename(a, b)

    monkeypatch.setattr(run.os, "rename", watching_rename)
    run._replace_tree(src, dst)
    assert (dst / "index.html").read_text() == "new" and (dst / "sub" / "page.html").read_text() == "new"
    assert not src.exists()
    assert discarded == [("stage", "old", "new")]
    gone(tmp_path, ".site.trash-*")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # nothing of the old site is left


def test_a_first_swap_and_a_second_one(tmp_path: Path) -> None:
    from kedb.build import run

    dst = tmp_path / "site"
    run._replace_tree(_tree(tmp_path / "a", "first"), dst)
    run._replace_tree(_tree(tmp_path / "b", "second"), dst)
    assert (dst / "index.html").read_text() == "second"
    gone(tmp_path, ".site.trash-*")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_failed_clean_up_does_not_fail_the_swap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Removing the old tree is tidying: the new site is already in place, so an error there
    (a file held open on a network share) must not turn a good build into a failed one."""
    from kedb.build import run

    dst = _tree(tmp_path / "site", "old")
    real_rmtree = shutil.rmtree

    def failing_rmtree(path: Path, ignore_errors: bool = False, **kw: object) -> None:
        if not ignore_errors:
            raise PermissionError(13, "held open", str(path))
        real_rmtree(path, ignore_errors=True)

    monkeypatch.setattr(run.shutil, "rmtree", failing_rmtree)
    run._replace_tree(_tree(tmp_path / "stage", "new"), dst)
    assert (dst / "index.html").read_text() == "new"


def test_an_installed_file_appears_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kedb.build import run

    src = tmp_path / "built.pdf"
    src.write_bytes(b"%PDF new")
    dst = tmp_path / "downloads" / "proof-brief.pdf"
    dst.parent.mkdir()
    dst.write_bytes(b"%PDF old")
    seen: list[bytes | None] = []
    real_replace = run.os.replace

    def watching_replace(a: str | Path, b: str | Path) -> None:
        seen.append(Path(b).read_bytes() if Path(b).exists() else None)  # the old bytes stay until the rename
        real_replace(a, b)

    monkeypatch.setattr(run.os, "replace", watching_replace)
    run._install_file(src, dst)
    assert seen == [b"%PDF old"] and dst.read_bytes() == b"%PDF new"
    assert sorted(p.name for p in dst.parent.iterdir()) == ["proof-brief.pdf"]
    monkeypatch.undo()
    run._install_file(src, tmp_path / "new" / "deep" / "x.pdf")  # parents are made
    assert (tmp_path / "new" / "deep" / "x.pdf").read_bytes() == b"%PDF new"


# ---------------------------------------------------------------- search terms
@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Error 0x80070005 after KB5034441", ["error", "80070005", "kb5034441", "5034441"]),  # "after" is a stop word
        ("Windows 10.0.19045 build", ["window", "19045", "build"]),  # a build number is a code; "10" and "0" are too short
        ("outlook.exe crashes.", ["outlook", "exe", "crash"]),
        ("ERR_SSL_PROTOCOL_ERROR in Chrome", ["errsslprotocolerror", "err", "ssl", "protocol", "error", "chrome"]),
        ("AADSTS50076: MFA required", ["aadsts50076", "50076", "mfa", "requir"]),
        ("Event ID 7031 (Spooler)", ["event", "id", "7031", "spooler"]),
        ("v2.3.1-beta. Next", ["beta", "next"]),
        ("…printer…", ["printer"]),
    ],
)
def test_search_terms_keep_codes_whole_and_find_their_parts(text: str, terms: list[str]) -> None:
    from kedb.search.rules import analyse

    assert [t.key for t in analyse(text)] == terms


# ---------------------------------------------------------------- the repeat-rate window
def test_a_repeat_exactly_on_the_window_edge_counts(make_kb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Hand-counted: the window is 30 days (the base KB). A2 opens exactly 30 days after A1 (a
    repeat); B2 one second more than 30 days after B1 (not a repeat). A2 and B2 are the two
    incidents resolved in 2026-08, so the rate is 1 of 2 = 50 %."""
    from kbtest import kedb, write_csv
    from kedb.core.load.loader import load

    root = make_kb()
    header = ["id", "opened_at", "resolved_at", "status", "type", "service", "category", "symptom", "text"]
    rows = [
        ["A1", "2026-07-02 09:00:00", "2026-07-02 10:00:00", "resolved", "incident", "Mail", "Outlook", "Prompt", "prompt"],
        ["A2", "2026-08-01 09:00:00", "2026-08-01 10:00:00", "resolved", "incident", "Mail", "Outlook", "Prompt", "prompt"],
        ["B1", "2026-07-03 09:00:00", "2026-07-03 10:00:00", "resolved", "incident", "Print", "Queue", "Stuck", "stuck"],
        ["B2", "2026-08-02 09:00:01", "2026-08-02 10:00:00", "resolved", "incident", "Print", "Queue", "Stuck", "stuck"],
    ]
    export = write_csv(tmp_path / "t.csv", header, rows)
    assert kedb("--root", str(root), "tickets", "import", str(export), "--source", "csv").exit_code == 0
    res = kedb("--root", str(root), "kpi", "--period", "2026-08", "--write")
    assert res.exit_code == 0, res.output
    kb, _ = load(root)
    snap = next(s for s in kb.kpi_snapshots if s.period == "2026-08")
    rate = snap.value("repeat_ticket_rate")
    assert rate is not None and (rate.numerator, rate.denominator, rate.value) == (1, 2, 50)
