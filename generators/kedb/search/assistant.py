"""``kedb mcp``: the knowledge base for AI assistants, as a Model Context Protocol server over stdio.

An assistant beside a service-desk agent (Claude Desktop, an IDE, a ticketing tool's copilot)
starts ``kedb mcp`` and calls three tools:

- ``search``: text (a pasted error, a symptom in the user's words) -> ranked records, with the
  same ranking as the site's search box and ``kedb search`` (:mod:`kedb.search.engine`);
- ``get_record``: an id -> its catalogue entry (:mod:`kedb.search.catalogue`: symptoms, codes,
  workaround steps, successor, URL) with the body section by section;
- ``suggest_for_ticket``: a ticket's short description, description and any pasted log ->
  ranked known errors with the codes and terms that matched, and for the first few the
  workaround steps to follow (those of the successor when a match is retired and names one).

The server answers for one edition, exactly as the site does: from the KB (``--audience``,
``--tenant``, checked like ``kedb build``: :func:`kedb.build.context.make`) or from a built site
(``--site DIR``: its ``api/records.json`` and search index, with no check or git at start). A
record the edition does not show is answered like one that does not exist, with the same words.

Tools are read-only and never reach outside the KB. Everything the server writes to stdout is the
protocol (the SDK's stdio transport); notes go to stderr.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import __version__
from ..build.context import AUDIENCES, BuildContext
from ..core.errors import EnvironmentProblem, UsageError
from . import catalogue as cat
from .engine import Engine, Hit

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

SEARCH_LIMIT = 10  # results ``search`` returns unless asked for another number
MAX_LIMIT = 50
SUGGESTIONS = 5  # known errors ``suggest_for_ticket`` returns unless asked
WITH_STEPS = 3  # of which the first ones carry their workaround steps
POOL = 50  # matches of every kind ``suggest_for_ticket`` looks through for known errors


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Frozen):
    """A record a query found, best first."""

    id: str
    title: str
    kind: str
    status: str
    url: str
    score: float = Field(description="The engine's score: comparable within one answer only.")
    matched: list[str] = Field(description="The codes and terms of the query that this record matched.")
    successor: str | None = Field(default=None, description="A retired record's replacement: use it instead.")


class Found(_Frozen):
    total: int = Field(description="How many records matched; `results` holds the first of them.")
    results: list[Match]


class Suggestion(Match):
    """A known error that may be the ticket's, with what to do about it."""

    use: str | None = Field(default=None, description="The record whose steps are listed: the match, or its successor.")
    workarounds: list[cat.WorkaroundSteps] = Field(default_factory=list, description="Steps to follow (the first suggestions only).")
    no_workaround_reason: str | None = None
    reply_to_customer: str | None = Field(default=None, description="The record's suggested reply, as Markdown.")


class Suggestions(_Frozen):
    total: int = Field(description=f"Known errors among the first {POOL} matches of the ticket's text.")
    results: list[Suggestion]
    note: str


@dataclass(frozen=True)
class Desk:
    """What the tools answer from: one edition's search engine and catalogue."""

    engine: Engine
    catalogue: cat.Catalogue

    @classmethod
    def from_context(cls, ctx: BuildContext, url_of: cat.UrlOf, kb_name: str) -> Desk:
        """The edition of ``ctx``; ``url_of`` and ``kb_name`` as its site links and names it."""
        return cls(Engine.from_context(ctx), cat.build(ctx, url_of, kb_name))

    @classmethod
    def from_site(cls, site_dir: Path, audience: str | None = None, tenant: str | None = None) -> Desk:
        """The edition a built site holds; ``audience``/``tenant``, when given, must be that edition's."""
        path = Path(site_dir) / cat.PATH
        try:
            found = cat.loads(path.read_bytes())
        except FileNotFoundError:
            raise EnvironmentProblem(
                f"{path} does not exist: build the site with `kedb build` (or give the KB instead of --site)"
            ) from None
        except ValidationError as e:
            raise EnvironmentProblem(
                f"{path} is not a catalogue this kedb reads ({e.error_count()} problems); build the site again"
            ) from None
        if audience is not None and audience not in AUDIENCES:
            raise UsageError(f"unknown audience '{audience}'; choose {' or '.join(AUDIENCES)}")
        asked = (audience or found.audience, found.tenant if tenant is None else tenant)
        if asked != (found.audience, found.tenant):
            wanted = asked[0] + (f"-{asked[1]}" if asked[1] else "")
            raise UsageError(
                f"{site_dir} holds the {found.edition} edition, not {wanted}: build that edition "
                f"(kedb build --audience {asked[0]}{f' --tenant {asked[1]}' if asked[1] else ''}) or leave out --site"
            )
        return cls(Engine.from_site(Path(site_dir)), found)

    # ------------------------------------------------------------ the tools' answers
    def search(self, query: str, limit: int = SEARCH_LIMIT) -> Found:
        hits, total = self.engine.search(query, _limit(limit))
        return Found(total=total, results=[self._match(h) for h in hits])

    def _match(self, h: Hit) -> Match:
        """A hit as the tools show it; the URL is the catalogue's (absolute when the site has a site_url)."""
        entry = self.catalogue.record(h.id)
        return Match(
            id=h.id,
            title=h.title,
            kind=h.kind,
            status=h.status,
            url=entry.url if entry is not None else h.url,
            score=round(float(h.score), 4),
            matched=[str(m) for m in h.matched],
            successor=entry.successor if entry is not None else h.successor,
        )

    def record(self, record_id: str) -> cat.Entry:
        """The entry of ``record_id``; :class:`UnknownRecord` for an id this edition does not show, whether or not it exists."""
        rid = record_id.strip().upper()
        found = self.catalogue.record(rid) if _ID.fullmatch(rid) else None
        if found is None:
            raise UnknownRecord(
                f"{_quoted(record_id)} is not a record of this knowledge base; search for it by its title, codes or symptoms"
            )
        return found

    def suggest(self, short_description: str, description: str = "", log: str = "", limit: int = SUGGESTIONS) -> Suggestions:
        text = "\n".join(t for t in (short_description, description, log) if t and t.strip())
        hits, _ = self.engine.search(text, POOL) if text else ([], 0)
        kes = [h for h in hits if h.kind == "known-error"]
        out = [self._suggestion(h, with_steps=i < WITH_STEPS) for i, h in enumerate(kes[: _limit(limit)])]
        if not out:
            note = "No known error matches this ticket: search with other words, or treat it as a new issue."
        else:
            note = (
                "Best first. Check the symptoms against the ticket before following steps; a draft or in-review record is "
                "not approved yet, and a retired one names its successor (`use`)."
            )
        return Suggestions(total=len(kes), results=out, note=note)

    def _suggestion(self, hit: Hit, with_steps: bool) -> Suggestion:
        base = self._match(hit).model_dump()
        if not with_steps:
            return Suggestion(**base)
        use = self.catalogue.record(base["successor"] or hit.id) or self.catalogue.record(hit.id)
        if use is None:
            return Suggestion(**base)
        reply = next((s.text for s in use.sections if s.title.lower() == "reply to customer"), None)
        return Suggestion(
            **base, use=use.id, workarounds=use.workarounds, no_workaround_reason=use.no_workaround_reason, reply_to_customer=reply
        )

    def instructions(self) -> str:
        c = self.catalogue
        return (
            f"{c.kb}, {c.edition} edition ({len(c.records)} records). Records are known errors (KE-…), workarounds (WA-…) "
            "and problems (PRB-…). For a ticket, call suggest_for_ticket with its short description, description and any "
            "pasted log or error text; for a question, call search; then get_record for a record's full text. Quote record "
            "ids and link their url. Prefer published records; a retired record names its successor."
        )


class UnknownRecord(UsageError):
    """An id the edition does not show (never says whether such a record exists elsewhere)."""


_ID = re.compile(r"(?:KE|WA|PRB)-\d{4,}")


def _limit(n: int) -> int:
    return max(1, min(int(n), MAX_LIMIT))


def _quoted(text: str, limit: int = 40) -> str:
    """The caller's text, quoted on one line and short (an answer never carries a control character)."""
    one = "".join(c if c.isprintable() else " " for c in text).strip()
    return repr(one if len(one) <= limit else one[: limit - 1] + "…")


def server(desk: Desk) -> MCPServer[Any]:
    """The MCP server of ``desk``, its three tools registered."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp_types import ToolAnnotations

    app: MCPServer[Any] = MCPServer(
        name="kedb", title=desk.catalogue.kb, version=__version__, instructions=desk.instructions(), log_level="WARNING"
    )
    reading = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

    @app.tool(title="Search the knowledge base", annotations=reading)
    def search(
        query: Annotated[str, Field(description="What to look for: an error code or message, a symptom, words from a ticket.")],
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="How many results to return.")] = SEARCH_LIMIT,
    ) -> Found:
        """Find known errors, workarounds and problems by error code, error message or symptom; best first.
        Codes match in any common form (0x80070005 or 80070005, AADSTS50076 or 50076, KB5034441 or KB 5034441)."""
        return desk.search(query, limit)

    @app.tool(title="Read a record", annotations=reading)
    def get_record(
        id: Annotated[str, Field(description="A record id such as KE-0001, WA-0003 or PRB-0002.")],
    ) -> cat.Entry:
        """One record in full: title, status, service, symptoms, error codes, workaround steps (with rollback),
        the successor of a retired record, its page URL and its text section by section."""
        try:
            return desk.record(id)
        except UnknownRecord as e:
            raise ToolError(str(e)) from None

    @app.tool(title="Suggest known errors for a ticket", annotations=reading)
    def suggest_for_ticket(
        short_description: Annotated[str, Field(description="The ticket's short description or subject.")],
        description: Annotated[str, Field(description="The ticket's description, as the user or agent wrote it.")] = "",
        log: Annotated[str, Field(description="Any pasted error message, log lines or event text.")] = "",
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="How many known errors to return.")] = SUGGESTIONS,
    ) -> Suggestions:
        """The known errors a ticket most likely is, best first, with the codes and terms that matched; the first
        results carry the workaround steps to follow and the suggested reply to the customer."""
        return desk.suggest(short_description, description, log, limit)

    return app


def serve(desk: Desk) -> None:
    """Answer MCP requests on stdin/stdout until the client closes the connection."""
    server(desk).run("stdio")
