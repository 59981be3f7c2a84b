"""``kedb candidates --write``: draft ``PRB-…`` records (status ``candidate``) for proposed candidates.

Each draft carries the trigger figures (rule, signature, window, counts, first and last
ticket) and the ids of the tickets in that window (at most ``MAX_TICKET_IDS``), never ticket
text or names. Ids come from :func:`kedb.authoring.scaffold.next_id` (so ids on ``origin/main`` count),
dates from :func:`kedb.check.run.today` (``SOURCE_DATE_EPOCH`` when set). Every draft is
validated against the problem model before any is written; then each is written to a
temporary file and moved into ``known_errors/``.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, timedelta
from pathlib import Path

from ..authoring.scaffold import next_id, slugify
from ..core.errors import UsageError
from ..core.kb import KB
from ..core.load.files import RECORD_DIR
from ..core.load.loader import read_markdown
from ..core.load.scan import Allow
from ..core.records import Problem
from .candidates import Candidate
from .store import StoreInfo

MAX_TICKET_IDS = 100
_TICKET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.#:-]{0,39}$")


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def tenants_of(kb: KB, customers: tuple[str, ...]) -> list[str]:
    """Tenant ids when every customer in the window is a known tenant (by id or name); else all tenants."""
    settings = kb.program.settings
    if not customers or settings is None:
        return []
    by_key = {t.id.lower(): t.id for t in settings.tenants} | {t.name.lower(): t.id for t in settings.tenants}
    ids = {by_key.get(c.lower()) for c in customers}
    return sorted(i for i in ids if i) if None not in ids else []


def owner_of(kb: KB, service: str) -> str:
    roles = kb.program.roles
    if roles is None:
        raise UsageError("content/roles.yml is missing or invalid: no owner can be given to the drafts")
    owners = [a.primary_owner for a in roles.assignments if a.service == service]
    return owners[0] if owners else roles.maintainers[0]


def render(kb: KB, cand: Candidate, rid: str, service: str, today: date, info: StoreInfo) -> str:
    """The draft's Markdown: front-matter with the trigger and ticket ids, and a problem statement."""
    w = cand.trigger
    rule = next((r for r in kb.program.recurrence.rules if r.id == w.rule), None) if kb.program.recurrence else None
    ids = [t for t in w.ticket_ids if _TICKET_ID.match(t)]
    listed = ids[-MAX_TICKET_IDS:]
    has = set(info.columns)
    title = f"Recurring tickets: {cand.signature}"
    title = title if len(title) <= 160 else title[:159] + "…"
    lines = [
        "---",
        f"id: {rid}",
        f"title: {_q(title)}",
        "status: candidate",
        f"service: {service}",
        f"owner: {owner_of(kb, service)}",
        f"created: {today.isoformat()}",
        f"review_by: {(today + timedelta(days=180)).isoformat()}",
        "tags: [recurrence-candidate]",
        "data_sensitivity: internal",
        f"tenants: [{', '.join(tenants_of(kb, w.customers))}]",
        f"opened: {today.isoformat()}",
        "root_cause_identified: null",
        "trigger:",
        f"  rule: {w.rule}",
        f"  signature: {cand.signature}",
        f"  tickets: {w.tickets}",
        f"  window_days: {w.window_days}",
        f"  distinct_customers: {w.distinct_customers if 'customer' in has else 'null'}",
        f"  distinct_assets: {w.distinct_assets if 'ci' in has else 'null'}",
        f"  first_seen: {w.first_seen.isoformat()}",
        f"  last_seen: {w.last_seen.isoformat()}",
        "evidence:",
        "  - "
        + _q(
            f"Ticket export {info.files[-1]} ({info.system}, SHA-256 {info.export_sha256[:16]}): "
            f"{cand.total} tickets with this signature from {cand.first} to {cand.last}"
        ),
        "method: []",
        "root_cause: null",
        "contributing_factors: []",
        "fix_proposal: null",
        "prevention_actions: []",
        "impact: medium",
        "known_errors: []",
        *(["tickets:", *[f"  - {t}" for t in listed]] if listed else ["tickets: []"]),
        "---",
        "",
        "## Problem statement",
        "",
        f"{w.tickets} tickets with the symptom signature `{cand.signature}`"
        + (f" (`{cand.shown}` with the empty fields shown)" if cand.shown != cand.signature else "")
        + f" were opened between {w.first_seen} and "
        f"{w.last_seen}, across {w.distinct} distinct {w.distinct_by}. That meets the recurrence rule `{w.rule}`"
        + (f" ({rule.name})" if rule else "")
        + ".",
        "",
        f"The export holds {cand.total} tickets with this signature, the first opened on {cand.first} and the last on {cand.last}."
        + (f" Rules met: {', '.join(f'`{r}`' for r in cand.rules)}." if len(cand.rules) > 1 else ""),
    ]
    if len(listed) < len(w.ticket_ids):
        lines += ["", f"`tickets` lists {len(listed)} of the window's {len(w.ticket_ids)} ticket ids (the most recent)."]
    lines += [
        "",
        "Drafted by `kedb candidates --write` from the imported tickets. Confirm that the tickets share one cause,",
        "then move the status to `investigating`, or delete this draft if they do not.",
        "",
    ]
    return "\n".join(lines)


def write(kb: KB, cands: list[Candidate], info: StoreInfo, today: date, fallback_service: str | None = None) -> list[Path]:
    """Write one draft per candidate; all are validated first, so none is written when one is wrong."""
    known = kb.program.service_ids
    if fallback_service is not None and fallback_service not in known:
        raise UsageError(f"unknown service '{fallback_service}'; choose one of: {', '.join(sorted(known))}")
    services: list[str] = []
    lacking: list[str] = []
    for c in cands:
        s = c.service(known) or fallback_service
        if s is None:
            lacking.append(c.signature)
        services.append(s or "")
    if lacking:
        raise UsageError(
            f"{len(lacking)} candidates have no service from content/services.yml in their tickets "
            f"(e.g. {lacking[0]}); pass --service SERVICE for them, or map the export's service column"
        )
    rdir = kb.root / RECORD_DIR
    rdir.mkdir(parents=True, exist_ok=True)
    first = int(next_id(kb.root, "PRB").split("-")[1])
    planned: list[tuple[Path, Path]] = []
    settings = kb.program.settings
    allow = Allow(tuple(settings.allowlist.emails) if settings else (), ())
    try:
        for i, (c, service) in enumerate(zip(cands, services, strict=True)):
            rid = f"PRB-{first + i:04d}"
            text = render(kb, c, rid, service, today, info)
            final = rdir / f"{rid}-{slugify('recurring ' + c.signature)}.md"
            tmp = rdir / f".{final.name}.tmp"
            tmp.write_text(text, encoding="utf-8", newline="\n")
            planned.append((tmp, final))
            res = read_markdown(tmp, final.relative_to(kb.root).as_posix(), Problem, allow, 1 << 20, 10_000, Problem.sections)
            if res.model is None or res.issues:
                msgs = "; ".join(f"line {ln}: {code} {msg}" for code, ln, msg in res.issues)
                raise UsageError(f"kedb drafted an invalid record for {c.signature} ({msgs}); please report this")
            if final.exists():
                raise UsageError(f"{final.relative_to(kb.root)} already exists; nothing was written")
        for tmp, final in planned:
            os.replace(tmp, final)
    finally:
        for tmp, _ in planned:
            tmp.unlink(missing_ok=True)
    return [final for _, final in planned]
