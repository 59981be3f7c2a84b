"""What every renderer receives: the checked KB for one audience, its history, the approval
trail and the build's own facts (commit, date). Built once, read-only; renderers never read
files or git themselves.

Audiences (``--audience``):
- ``internal`` (default): every record that is not ``confidential``, in every status; drafts
  and records in review are marked as such by the renderers.
- ``public``: records marked ``public`` that are ``published`` or ``retired`` only.
Confidential records stay in git and are never rendered. ``--tenant T`` keeps records that
apply to all tenants or name T.

The build date is ``SOURCE_DATE_EPOCH`` when set, else the date of the commit built, else
(outside git) the latest creation date of the records: never the wall clock.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path

from .. import __version__
from ..check.run import Report, run
from ..core.errors import FindingsError, UsageError
from ..core.kb import KB, Record
from ..core.trail import ApprovalReport, History
from ..git import history
from ..git.approvals import verify

AUDIENCES = ("internal", "public")


@dataclass(frozen=True)
class BuildInfo:
    commit: str | None  # full id of HEAD, None outside git
    date: datetime  # timezone-aware, deterministic (see module docstring)
    dirty: bool  # the working tree has uncommitted record changes
    audience: str
    tenant: str | None
    partial_history: bool  # shallow clone built with --allow-shallow
    kedb_version: str = __version__

    @property
    def epoch(self) -> int:
        return int(self.date.timestamp())

    @property
    def short(self) -> str:
        return self.commit[:10] if self.commit else "no commit"

    @property
    def history_note(self) -> str:
        """One line every output prints about where its history came from."""
        if self.commit is None:
            return "No git history: versions and approvals are not shown."
        if self.partial_history:
            return "History is partial (shallow clone built with --allow-shallow): versions, dates and approvals may be incomplete."
        return ""


@dataclass(frozen=True)
class BuildContext:
    kb: KB  # only the records of this audience and tenant
    report: Report  # the check of the whole KB (findings are warnings only: errors stop the build)
    history: History | None
    approvals: ApprovalReport | None
    info: BuildInfo
    downloads_dir: Path | None = None  # where this build's artefacts are (the site links and copies them)

    def record(self, record_id: str) -> Record | None:
        """A record of this edition, or None when it is filtered out (render the id as plain text)."""
        return self.kb.records.get(record_id)


def shows_ticket_ids(ctx: BuildContext) -> bool:
    """Ticket ids (the at-risk list of a flow audit) appear only in the internal, all-tenant edition."""
    return ctx.info.audience == "internal" and not ctx.info.tenant


def check_edition(kb: KB, audience: str, tenant: str | None) -> None:
    """Refuse an edition ``content/`` does not define: an unknown or wrong-case tenant would
    otherwise build silently without that tenant's own records."""
    if audience not in AUDIENCES:
        raise UsageError(f"unknown audience '{audience}'; choose {' or '.join(AUDIENCES)}")
    if tenant is None:
        return
    known = [t.id for t in kb.program.settings.tenants] if kb.program.settings else []
    if tenant in known:
        return
    close = [t for t in known if t.lower() == tenant.lower()]
    hint = f" (did you mean '{close[0]}'? tenant ids are case-sensitive)" if close else ""
    listed = ", ".join(known) if known else "none: content/kedb.yml lists no tenants"
    raise UsageError(f"unknown tenant '{tenant}'{hint}; the tenants in content/kedb.yml are: {listed}")


def visible(rec: Record, audience: str, tenant: str | None) -> bool:
    m = rec.meta
    if m.data_sensitivity == "confidential":
        return False
    if audience == "public" and (m.data_sensitivity != "public" or m.status not in ("published", "retired")):
        return False
    return not (tenant and m.tenants and tenant not in m.tenants)


def select(kb: KB, audience: str, tenant: str | None) -> KB:
    """The KB as one audience (and tenant) sees it."""
    keep = {rid: r for rid, r in kb.records.items() if visible(r, audience, tenant)}
    playbooks = tuple(p for p in kb.playbooks if audience == "internal" or p.meta.data_sensitivity == "public")
    return replace(kb, records=keep, playbooks=playbooks)


def build_date(kb: KB, head: tuple[str, datetime] | None) -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    if head is not None:
        return head[1]
    # Outside git: the latest creation date (review dates lie in the future).
    days: list[date] = [r.meta.created for r in kb.records.values() if isinstance(r.meta.created, date)]
    return datetime.combine(max(days), time(0), tzinfo=UTC) if days else datetime(1980, 1, 1, tzinfo=UTC)


def make(
    root: Path,
    *,
    audience: str = "internal",
    tenant: str | None = None,
    allow_shallow: bool = False,
    as_of: date | None = None,
) -> BuildContext:
    """Load, check and read history; raise :class:`FindingsError` when the check has errors."""
    report = run(root, as_of)
    if report.failed():
        from ..check.run import format_text

        raise FindingsError("nothing was built: fix these errors first\n" + format_text(report))
    kb = report.kb
    check_edition(kb, audience, tenant)
    hist = history.read(kb.root, allow_shallow=allow_shallow)
    head = history.head_commit(kb.root) if hist is not None else None
    approvals = verify(kb, hist) if hist is not None and hist.head else None
    info = BuildInfo(
        commit=head[0] if head else None,
        date=build_date(kb, head),
        dirty=bool(hist and any(h.uncommitted for h in hist.records.values())),
        audience=audience,
        tenant=tenant,
        partial_history=bool(hist and hist.partial),
    )
    return BuildContext(select(kb, audience, tenant), report, hist, approvals, info)
