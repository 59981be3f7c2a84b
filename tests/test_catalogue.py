"""The edition for machines (issue #16, item 5): ``api/records.json`` and ``llms.txt`` in every site.

One small KB with public, internal, confidential, tenant-scoped and retired records, links from a
public known error to hidden ones, hidden ids in a public record's words, and a title and symptoms
full of characters JSON must escape. Each edition is built (the site as ``kedb build`` renders it)
and its two files are read back: the records are exactly the edition's (written out here by hand,
not computed by kedb), nothing hidden appears in either file, the steps are the workarounds' own,
and the same commit gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kbtest import FIXTURES, REPO, copy_kb, git, init_repo
from kedb.build.context import WITHHELD, make
from kedb.search import catalogue
from kedb.site import catalogue as site_catalogue
from kedb.site.render import published, render
from kedb.site.urls import Urls

HOSTILE_TITLE = 'Quote " backslash \\ </script><script>alert(1)</script> {"id": "KE-9"} & é ✓'
HOSTILE_SYMPTOMS = ['"},{"id":"KE-0099","title":"forged"}', "C:\\Users\\x\\AppData ]]> <!-- -->", "'; DROP TABLE records; --"]
EPOCH = 1_795_000_000  # 2026-11-18T11:06:40Z

# What each edition shows, by the rules of the README (confidential never; public: public and
# published or retired, not scoped to customers unless built for one; a tenant: all-tenant records and its own).
EDITIONS: dict[str, tuple[str, str | None, set[str]]] = {
    "internal": ("internal", None, {"KE-0001", "KE-0003", "KE-0004", "KE-0005", "KE-0006", "KE-0007", "KE-0008", "WA-0001", "PRB-0001"}),
    "public": ("public", None, {"KE-0001", "KE-0006", "KE-0007", "KE-0008", "WA-0001"}),
    "internal-ACME": ("internal", "ACME", {"KE-0001", "KE-0004", "KE-0005", "KE-0006", "KE-0007", "KE-0008", "WA-0001", "PRB-0001"}),
}
TITLES = {
    "KE-0002": "Zephyrine vault key rotation fails",
    "WA-0002": "Quasarwidget token reset",
    "KE-0003": "Marmalux printers stall for one customer",
    "KE-0004": "Vantablu VPN drops for Acme",
    "KE-0005": "Obsidrax internal relay queue",
}


def _record(
    kind: str, rid: str, title: str, sensitivity: str, extra: str, body: str, tenants: str = "[]", status: str = "published"
) -> str:
    return (
        f"---\nid: {rid}\ntitle: {json.dumps(title)}\nstatus: {status}\nservice: m365-mail\nowner: ann.owner\n"
        f"created: 2026-03-01\nreview_by: 2027-03-01\ntags: []\ndata_sensitivity: {sensitivity}\ntenants: {tenants}\n{extra}---\n\n{body}"
    )


def _ke(rid: str, title: str, sensitivity: str, tenants: str = "[]", retired_for: str = "", symptoms: list[str] | None = None) -> str:
    lines = "".join(f"  - {json.dumps(s)}\n" for s in symptoms or [f"{title} again"])
    fields = (
        f"symptoms:\n{lines}symptom_signature: m365-mail:{rid.lower()}\nimpact: medium\nurgency: medium\npriority: P2\n"
        "workarounds: []\nno_workaround_reason: None found yet.\nfix:\n  status: none\n"
        + (f"retired_reason: Replaced.\nsuperseded_by: {retired_for}\n" if retired_for else "")
    )
    body = "## Symptoms\n\nIt happens.\n\n## Cause\n\nUnknown.\n\n## Workaround\n\nNone.\n\n## Permanent fix\n\nNone yet.\n\n## Reply to customer\n\nWe are on it.\n"
    return _record("known-error", rid, title, sensitivity, fields, body, tenants, "retired" if retired_for else "published")


def small_kb(root: Path) -> Path:
    """The KB of this module (also served by tests/test_mcp.py), as a git repository with one commit."""
    copy_kb(FIXTURES / "base", root)
    settings = root / "content" / "kedb.yml"
    settings.write_text(
        settings.read_text().replace("tenants: [{id: ACME, name: Acme}]", "tenants: [{id: ACME, name: Acme}, {id: GLOBEX, name: Globex}]")
    )
    ke = root / "known_errors"
    # KE-0001 becomes public; it also links a confidential workaround, and its words name hidden records.
    k1 = (ke / "KE-0001-outlook-prompts.md").read_text()
    k1 = k1.replace("data_sensitivity: internal", "data_sensitivity: public").replace(
        "workarounds: [WA-0001]", "workarounds: [WA-0001, WA-0002]"
    )
    k1 = k1.replace(
        "## Cause\n\n",
        "## Cause\n\nLooks like KE-0002, KE-0003 and KE-0005 at first; see [the vault note](KE-0002-zephyrine-vault.md).\n\n",
    )
    (ke / "KE-0001-outlook-prompts.md").write_text(k1)
    wa = (ke / "WA-0001-clear-cached-credentials.md").read_text().replace("applies_to:", "data_sensitivity: public\napplies_to:")
    (ke / "WA-0001-clear-cached-credentials.md").write_text(wa)
    (ke / "WA-0002-quasar-reset.md").write_text(
        _record(
            "workaround", "WA-0002", TITLES["WA-0002"], "confidential",
            "applies_to: [KE-0001]\nrisk: low\nverified_by: ann.owner\nverified_on: 2026-03-05\n", "## Steps\n\n1. Quasar step.\n",
        )
    )  # fmt: skip
    (ke / "KE-0002-zephyrine-vault.md").write_text(_ke("KE-0002", TITLES["KE-0002"], "confidential"))
    (ke / "KE-0003-globex-printers.md").write_text(_ke("KE-0003", TITLES["KE-0003"], "public", "[GLOBEX]"))
    (ke / "KE-0004-acme-vpn.md").write_text(_ke("KE-0004", TITLES["KE-0004"], "public", "[ACME]"))
    (ke / "KE-0005-internal-only.md").write_text(_ke("KE-0005", TITLES["KE-0005"], "internal"))
    (ke / "KE-0006-old-prompts.md").write_text(_ke("KE-0006", "Old credential prompt record", "public", retired_for="KE-0001"))
    (ke / "KE-0007-old-relay.md").write_text(_ke("KE-0007", "Old relay record", "public", retired_for="KE-0005"))
    (ke / "KE-0008-hostile.md").write_text(_ke("KE-0008", HOSTILE_TITLE, "public", symptoms=HOSTILE_SYMPTOMS))
    (root / ".gitignore").write_text("/site/\n/.kedb/\n")
    return init_repo(root)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_kb(tmp_path_factory.mktemp("catalogue") / "kb")


@pytest.fixture(scope="module")
def sites(kb: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("sites")
    return {name: render(make(kb, audience=a, tenant=t), out / name) for name, (a, t, _) in EDITIONS.items()}


def _read(site: Path) -> tuple[dict, str]:
    return json.loads((site / "api" / "records.json").read_bytes()), (site / "llms.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("edition", list(EDITIONS))
def test_each_edition_lists_its_records_and_names_nothing_it_hides(sites: dict[str, Path], edition: str) -> None:
    audience, tenant, shown = EDITIONS[edition]
    data, llms = _read(sites[edition])
    assert (data["schema_version"], data["edition"], data["audience"], data["tenant"]) == (1, edition, audience, tenant)
    assert data["kb"] and data["generator"].startswith("kedb ") and len(data["commit"]) == 40
    assert {r["id"] for r in data["records"]} == shown
    raw = (sites[edition] / "api" / "records.json").read_text(encoding="utf-8")
    hidden = {rid for rid in ["KE-0002", "KE-0003", "KE-0004", "KE-0005", "WA-0002", "PRB-0001"] if rid not in shown}
    for rid in hidden:
        for text, where in ((raw, "records.json"), (llms, "llms.txt")):
            assert rid not in text, f"{edition}: {rid} in {where}"
            if rid in TITLES:
                assert TITLES[rid] not in text and TITLES[rid].split()[0] not in text, f"{edition}: {rid}'s title in {where}"
    if tenant:
        assert "GLOBEX" not in raw and "Globex" not in raw and "Globex" not in llms
    ke1 = next(r for r in data["records"] if r["id"] == "KE-0001")
    assert [w["id"] for w in ke1["workarounds"]] == ["WA-0001"], "a confidential workaround is never listed"
    assert ke1["problem"] == ("PRB-0001" if "PRB-0001" in shown else None)
    cause = next(s["text"] for s in ke1["sections"] if s["title"] == "Cause")
    assert "the vault note" in cause and ".md" not in cause, "a relative link keeps its text only"
    assert ("KE-0005" in cause) == ("KE-0005" in shown) and (WITHHELD in cause) == bool(hidden & {"KE-0002", "KE-0003", "KE-0005"})


def test_entries_carry_what_an_agent_needs(sites: dict[str, Path]) -> None:
    data, _ = _read(sites["internal"])
    by_id = {r["id"]: r for r in data["records"]}
    ke1 = by_id["KE-0001"]
    assert ke1["kind"] == "known-error" and ke1["status"] == "published" and ke1["priority"] == "P2"
    assert ke1["service"] == {"id": "m365-mail", "name": "Exchange Online and Outlook"}
    assert ke1["symptoms"] == ["Outlook keeps asking for my password"] and ke1["error_codes"] == ["0x8004010F"]
    assert ke1["url"] == "known-errors/KE-0001/" and (sites["internal"] / ke1["url"] / "index.html").is_file()
    steps = [
        "Close Outlook.",
        "Open Credential Manager and remove the entries that start with `MicrosoftOffice16`.",
        "Start Outlook and sign in once.",
    ]
    assert ke1["workarounds"][0] | {"steps": steps} == ke1["workarounds"][0]
    assert ke1["workarounds"][0]["url"] == "workarounds/WA-0001/" and ke1["workarounds"][0]["risk"] == "low"
    assert [s["title"] for s in ke1["sections"]] == ["Symptoms", "Cause", "Workaround", "Permanent fix", "Reply to customer"]
    wa = by_id["WA-0001"]
    assert (wa["kind"], wa["steps"], wa["applies_to"], wa["risk"]) == ("workaround", steps, ["KE-0001"], "low")
    assert by_id["PRB-0001"]["known_errors"] == ["KE-0001"]
    assert by_id["KE-0006"]["successor"] == "KE-0001" and by_id["KE-0006"]["retired_reason"] == "Replaced."
    assert by_id["KE-0005"]["successor"] is None and by_id["KE-0007"]["successor"] == "KE-0005"
    public = {r["id"]: r for r in _read(sites["public"])[0]["records"]}
    assert public["KE-0007"]["successor"] is None, "a successor the edition hides is not named"
    assert public["KE-0008"]["no_workaround_reason"] == "None found yet."


def test_hostile_strings_are_json_escaped(sites: dict[str, Path]) -> None:
    raw = (sites["public"] / "api" / "records.json").read_bytes()
    rec = next(r for r in json.loads(raw)["records"] if r["id"] == "KE-0008")
    assert rec["title"] == HOSTILE_TITLE and rec["symptoms"] == HOSTILE_SYMPTOMS
    assert len(json.loads(raw)["records"]) == len(EDITIONS["public"][2]), "no record forged by a symptom"
    assert b'Quote \\" backslash \\\\ </script>' in raw and "é ✓".encode() in raw
    assert not any(b < 0x20 for b in raw.rstrip(b"\n")), "no raw control character, no line break inside the JSON"


def test_llms_txt_follows_the_convention(sites: dict[str, Path]) -> None:
    _, llms = _read(sites["internal-ACME"])
    lines = llms.splitlines()
    assert lines[0] == "# Test KB" or lines[0].startswith("# ")
    assert lines[1] == "" and lines[2].startswith("> ") and "internal edition for Acme" in lines[2]
    assert "- [Record catalogue](api/records.json):" in llms
    assert "## Data" in lines and "## Pages" in lines and "## Optional" in lines
    for link in ("known-errors/", "workarounds/", "problems/", "playbooks/", "kpis/", "changelog/", "downloads/", "feed.xml"):
        assert f"]({link})" in llms
        assert (sites["internal-ACME"] / link).exists(), f"llms.txt links {link}, which the site has"


def test_same_commit_same_bytes(kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = render(make(kb, audience="public"), tmp_path / "a")
    b = render(make(kb, audience="public"), tmp_path / "b")
    for name in ("api/records.json", "llms.txt"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    commit_date = git(kb, "log", "-1", "--format=%cI").strip()
    assert json.loads((a / "api" / "records.json").read_bytes())["generated"] == commit_date.replace("Z", "+00:00")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    ctx = make(kb, audience="public")
    assert catalogue.build(ctx, lambda rid: rid, "KB").generated == "2026-11-18T11:06:40+00:00"


def test_absolute_urls_when_the_site_has_a_site_url(kb: Path, tmp_path: Path) -> None:
    ctx = make(kb, audience="public")
    out = site_catalogue.files(ctx, Urls(use_directory_urls=False), "https://kb.example.com/desk", "Desk KB")
    data = json.loads(out["api/records.json"])
    assert data["kb"] == "Desk KB"
    assert next(r for r in data["records"] if r["id"] == "KE-0001")["url"] == "https://kb.example.com/desk/known-errors/KE-0001.html"
    assert "- [Record catalogue](https://kb.example.com/desk/api/records.json):" in out["llms.txt"].decode()
    # kedb mcp answering from the KB names and links records as the site its mkdocs.yml describes
    site = published(kb)
    assert (site.name, site.record_url("WA-0001")) == ("Known-error database", "workarounds/WA-0001/")
    (kb / "mkdocs.yml").write_text((REPO / "mkdocs.yml").read_text() + "site_url: https://kb.example.com/\n")
    try:
        site = published(kb)
        assert (site.name, site.record_url("WA-0001")) == (
            "Northwind MSP known-error database",
            "https://kb.example.com/workarounds/WA-0001/",
        )
    finally:
        (kb / "mkdocs.yml").unlink()


def test_steps_are_split_as_an_agent_follows_them() -> None:
    text = (
        "Before you start, save your work.\n\n"
        "1. Close Outlook and\n   every Office app.\n"
        "2. Run:\n   ```\n   reset.exe /all\n     --force\n   ```\n"
        "   Then wait.\n\n"
        "   - nested note\n"
        "10. Last step.\n\n"
        "```\ncode outside\n```\n"
    )
    assert catalogue.steps(text) == [
        "Before you start, save your work.",
        "Close Outlook and every Office app.",
        "Run:\n```\nreset.exe /all\n  --force\n```\nThen wait.\n\n- nested note",
        "Last step.",
        "```\ncode outside\n```",
    ]
    assert catalogue.steps("") == []
    assert catalogue.local_links_as_text("[a](../x.md) [b](https://x.example/) ![c](img.png) `[d](e.md)`") == (
        "a [b](https://x.example/) c `[d](e.md)`"
    )


@pytest.mark.parametrize("site_url", [None, "https://kb.example.net/desk/"])
def test_entries_kept_with_the_pages_give_the_same_catalogue(kb: Path, site_url: str | None) -> None:
    """The site keeps each record's entry as JSON with its page (made in the workers, kept in the page cache) and
    splices them into the catalogue: the bytes are the ones pydantic writes for the whole catalogue."""
    ctx = make(kb)
    urls = Urls(True)
    whole = site_catalogue.files(ctx, urls, site_url, "Desk KB")
    kept = [site_catalogue.entry(ctx, r, urls, site_url) for r in ctx.kb.records.values()]
    assert site_catalogue.files(ctx, urls, site_url, "Desk KB", kept) == whole
    with pytest.raises(ValueError):
        catalogue.dumps(catalogue.build(ctx, lambda rid: rid, "Desk KB"), kept)  # a catalogue with records of its own
