"""``kedb mcp`` (issue #16, item 5): the MCP server, driven over stdio by the official SDK's own client.

The server runs as a real subprocess (``python -m kedb.cli.main mcp``) on the small KB of
``test_catalogue`` (public, internal, confidential, tenant-scoped and retired records); the
test speaks to it with ``mcp.client.stdio.stdio_client`` and ``ClientSession``: the tools are
listed, each is called, and each edition answers only with its own records. An id the edition
does not show gets the same answer whether or not the record exists elsewhere.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from kbtest import kedb
from kedb.build.context import make
from kedb.site.render import render
from test_catalogue import TITLES, small_kb

T = TypeVar("T")
TOOLS = {"search", "get_record", "suggest_for_ticket"}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_kb(tmp_path_factory.mktemp("mcp") / "kb")


def _talk(root: Path, args: list[str], calls: Callable[[ClientSession], Awaitable[T]], log: Path) -> T:
    """Start ``kedb --root ROOT mcp ARGS`` and run ``calls`` against it; the server's stderr goes to ``log``."""

    async def run() -> T:
        params = StdioServerParameters(command=sys.executable, args=["-m", "kedb.cli.main", "--root", str(root), "mcp", *args])
        with log.open("w", encoding="utf-8") as err:
            async with stdio_client(params, errlog=err) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                return await calls(session)

    return anyio.run(run)


async def _call(session: ClientSession, tool: str, **arguments: Any) -> tuple[bool, Any, str]:
    """(is_error, structured content, the text the client shows) of one tool call."""
    res = await session.call_tool(tool, arguments)
    text = "\n".join(getattr(c, "text", "") for c in res.content)
    return bool(res.is_error), res.structured_content, text


def test_internal_edition_tools_answer_over_stdio(kb: Path, tmp_path: Path) -> None:
    async def calls(s: ClientSession) -> dict[str, Any]:
        listed = await s.list_tools()
        return {
            "tools": {t.name: t for t in listed.tools},
            "search": await _call(s, "search", query="0x8004010F", limit=3),
            "typed": await _call(s, "search", query="8004010f"),
            "record": await _call(s, "get_record", id="ke-0001"),
            "workaround": await _call(s, "get_record", id="WA-0001"),
            "confidential": await _call(s, "get_record", id="KE-0002"),
            "missing": await _call(s, "get_record", id="KE-0999"),
            "garbage": await _call(s, "get_record", id="../../etc/passwd\x1b[2J"),
            "ticket": await _call(
                s,
                "suggest_for_ticket",
                short_description="Outlook keeps asking for my password",
                description="User says the prompt comes back every few minutes since this morning.",
                log="2026-11-20 09:14:02 ERROR MAPI session failed: 0x8004010F (sync aborted)",
            ),
            "nothing": await _call(s, "suggest_for_ticket", short_description="zzqxv wobblefrotz"),
            "retired": await _call(s, "suggest_for_ticket", short_description="Old credential prompt record again"),
        }

    got = _talk(kb, [], calls, tmp_path / "stderr.txt")
    tools = got["tools"]
    assert set(tools) == TOOLS
    for t in tools.values():
        assert t.description and t.input_schema["type"] == "object" and t.output_schema
        assert t.annotations is not None and t.annotations.read_only_hint is True and t.annotations.open_world_hint is False
    assert tools["suggest_for_ticket"].input_schema["required"] == ["short_description"]

    error, found, _ = got["search"]
    assert not error and found["results"][0]["id"] == "KE-0001" and found["total"] >= 1
    assert found["results"][0]["url"] == "known-errors/KE-0001/" and found["results"][0]["matched"]
    assert got["typed"][1]["results"][0]["id"] == "KE-0001", "a code without its 0x is found"

    error, rec, _ = got["record"]
    assert not error and rec["id"] == "KE-0001" and rec["status"] == "published" and rec["error_codes"] == ["0x8004010F"]
    assert [w["id"] for w in rec["workarounds"]] == ["WA-0001"] and rec["workarounds"][0]["steps"][0] == "Close Outlook."
    assert [s["title"] for s in rec["sections"]][:2] == ["Symptoms", "Cause"] and rec["problem"] == "PRB-0001"
    assert got["workaround"][1]["applies_to"] == ["KE-0001"] and len(got["workaround"][1]["steps"]) == 3

    # A hidden record and one that never existed: the same error, naming only what was asked.
    (e1, _, t1), (e2, _, t2) = got["confidential"], got["missing"]
    assert e1 and e2 and t1.replace("KE-0002", "KE-0999") == t2
    assert TITLES["KE-0002"] not in t1 and "confidential" not in t1
    error, _, text = got["garbage"]
    assert error and "\x1b" not in text

    error, ticket, _ = got["ticket"]
    first = ticket["results"][0]
    assert not error and first["id"] == "KE-0001" and first["kind"] == "known-error"
    assert any(m.lower() == "0x8004010f" for m in first["matched"])
    assert first["use"] == "KE-0001" and first["workarounds"][0]["steps"][1].startswith("Open Credential Manager")
    assert first["reply_to_customer"].startswith("We are clearing the saved sign-in")
    assert all(r["kind"] == "known-error" for r in ticket["results"])
    assert got["nothing"][1]["results"] == [] and "No known error" in got["nothing"][1]["note"]
    # A retired known error names its successor, whose steps are the ones to follow.
    retired = {r["id"]: r for r in got["retired"][1]["results"]}
    assert retired["KE-0006"]["successor"] == "KE-0001"
    assert list(retired).index("KE-0001") < list(retired).index("KE-0006"), "the successor ranks above it"
    assert retired["KE-0006"]["use"] == "KE-0001" and retired["KE-0006"]["workarounds"][0]["id"] == "WA-0001"
    assert "MCP server for the internal edition of Known-error database (9 records)" in (tmp_path / "stderr.txt").read_text()


def test_public_and_tenant_editions_know_only_their_records(kb: Path, tmp_path: Path) -> None:
    async def public(s: ClientSession) -> list[tuple[bool, Any, str]]:
        return [
            await _call(s, "search", query="Obsidrax relay queue"),
            await _call(s, "search", query="Zephyrine vault key rotation"),
            await _call(s, "get_record", id="KE-0005"),
            await _call(s, "get_record", id="KE-0001"),
            await _call(s, "get_record", id="KE-0007"),
            await _call(s, "suggest_for_ticket", short_description="old relay record", description="Obsidrax queue stuck"),
        ]

    answers = _talk(kb, ["--audience", "public"], public, tmp_path / "public.txt")
    error, _, text = answers[2]
    assert error and text.endswith("'KE-0005' is not a record of this knowledge base; search for it by its title, codes or symptoms")
    # Apart from that echo of the caller's own question, no answer names a record the edition hides.
    everything = "\n".join(json.dumps(structured) + text for i, (_, structured, text) in enumerate(answers) if i != 2)
    assert re.findall(r"\b(?:KE-000[2-5]|WA-0002|PRB-0001)\b", everything) == []
    assert [t for t in TITLES.values() if t in everything or t.split()[0] in everything] == []
    ke1 = answers[3][1]
    assert ke1["problem"] is None, "an internal problem is not named"
    assert "a record not in this edition" in json.dumps(ke1), "ids in its words are withheld"
    assert answers[4][1]["successor"] is None, "a retired record's hidden successor is not named"
    relay = next(r for r in answers[5][1]["results"] if r["id"] == "KE-0007")
    assert relay["successor"] is None and relay["use"] == "KE-0007" and relay["workarounds"] == []
    assert relay["no_workaround_reason"] == "None found yet."

    async def acme(s: ClientSession) -> list[tuple[bool, Any, str]]:
        return [await _call(s, "search", query="Vantablu VPN drops"), await _call(s, "search", query="Marmalux printers stall")]

    vpn, printers = _talk(kb, ["--tenant", "ACME"], acme, tmp_path / "acme.txt")
    assert vpn[1]["results"][0]["id"] == "KE-0004"
    assert all(r["id"] != "KE-0003" for r in printers[1]["results"]), "another tenant's record"


def test_answers_from_a_built_site(kb: Path, tmp_path: Path) -> None:
    site = render(make(kb, audience="internal", tenant="ACME"), tmp_path / "site")

    async def calls(s: ClientSession) -> list[tuple[bool, Any, str]]:
        return [await _call(s, "search", query="0x8004010F"), await _call(s, "get_record", id="KE-0004")]

    found, rec = _talk(kb, ["--site", str(site)], calls, tmp_path / "stderr.txt")
    assert found[1]["results"][0]["id"] == "KE-0001" and rec[1]["title"] == TITLES["KE-0004"]
    assert "internal-ACME edition" in (tmp_path / "stderr.txt").read_text()
    # A site holds one edition: asking it for another is refused before the server starts.
    res = kedb("--root", str(kb), "mcp", "--site", str(site), "--audience", "public")
    assert res.exit_code == 2 and "holds the internal-ACME edition, not public-ACME" in res.output
    res = kedb("--root", str(kb), "mcp", "--site", str(tmp_path / "nowhere"))
    assert res.exit_code == 2 and "api/records.json does not exist" in res.output


def test_unknown_tenant_or_audience_is_a_usage_error(kb: Path) -> None:
    res = kedb("--root", str(kb), "mcp", "--tenant", "acme")
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "unknown tenant 'acme'" in res.output and "did you mean 'ACME'" in res.output and "ACME, GLOBEX" in res.output
    res = kedb("--root", str(kb), "mcp", "--audience", "everyone")
    assert res.exit_code == 2 and "everyone" in res.output
    res = kedb("mcp", "--help")
    assert res.exit_code == 0 and "Model Context Protocol" in res.output and "--tenant" in res.output
