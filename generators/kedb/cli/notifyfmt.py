"""How ``kedb notify``'s escalation cards read: Markdown for chat, and the JSON a webhook receives.

Every value that comes from ``content/`` (names, roles, rule names) or from a ticket export (ids,
signatures, tenant ids) is escaped where it is written: :func:`md` for Markdown text, :func:`code`
for ids and signatures (their patterns keep out backticks and markup), :func:`plain` for the
structured cards. None of them can start a new block, a link, an autolink or a mention: ``&<>``
become entities (Slack's own escapes, which CommonMark reads alike), Markdown punctuation is
escaped, ``://`` and ``www.`` are broken so nothing is linked, and a word joiner after every ``@``
(and, in the structured cards, every ``<``) keeps ``@here``, ``@channel`` and ``<!channel>`` from
being read as mentions by Slack, Mattermost or Teams.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from ..core import present
from ..tickets.notify import Blast, Card, Who

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
_MD = re.compile(r"([\\`*_\[\]|~])")
JOINER = "\u2060"  # a word joiner: invisible, and no chat tool reads "@\u2060here" as a mention


def plain(text: str) -> str:
    """A value for the structured cards: one line, and no mention (``@here``, ``<!channel>``) a chat tool could read."""
    return _CONTROL.sub(" ", text).replace("@", "@" + JOINER).replace("<", "<" + JOINER)


def md(text: str) -> str:
    """A value as chat Markdown text: one line, ``&<>`` as entities (Slack's own escapes, read alike by
    CommonMark), Markdown punctuation escaped, no autolink, no mention."""
    text = _CONTROL.sub(" ", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD.sub(r"\\\1", text).replace("://", r":\/\/").replace("www.", r"www\.")
    return text.replace("@", "@" + JOINER)


def code(text: str) -> str:
    """An id or a signature as a code span (their patterns keep out backticks and markup); anything else as :func:`md`."""
    return f"`{text}`" if re.fullmatch(r"[A-Za-z0-9_.#:()-]+", text) else md(text)


def _who(w: Who) -> str:
    return md(w.name) + (f" ({code(w.handle)})" if w.handle else "") + (f", {md(w.role)}" if w.role else "")


def _blast(b: Blast) -> str:
    parts = [present.count(b.tickets, "ticket") + (f" in {b.window_days} days" if b.window_days else "")]
    if b.total is not None:
        parts[0] += f" ({b.total:,} with this signature in all)"
    if b.customers is not None:
        parts.append(present.count(b.customers, "customer"))
    parts.append(_listed("tenant", b.tenants, "no tenant of content/kedb.yml"))
    parts.append(_listed("service", b.services, "no service of content/services.yml"))
    return "; ".join(parts)


def _listed(noun: str, ids: tuple[str, ...], none: str) -> str:
    return f"{noun}{'s' * (len(ids) != 1)} " + ", ".join(code(i) for i in ids) if ids else none


def _past(c: Card) -> str:
    return "breached an SLA timer" if (c.threshold or 0) >= 100 else f"past {c.threshold:g} % of an SLA timer"


def title(c: Card) -> str:
    if c.kind == "candidate":
        return f"Problem candidate {c.subject}"
    return f"{c.priority} ticket {c.subject} {_past(c)}"


def card_markdown(c: Card) -> str:
    head = (
        f"#### Problem candidate {code(c.subject)}" if c.kind == "candidate" else f"#### {c.priority} ticket {code(c.subject)} {_past(c)}"
    )
    lines = [
        head,
        f"- **What:** {md(c.what)}",
        f"- **Owner:** {_who(c.owner)}",
        "- **Told:** " + "; ".join(_who(w) for w in c.told),
        f"- **Deadline:** {md(c.deadline.text)}",
        f"- **Blast radius:** {_blast(c.blast)}",
        f"- **Next checkpoint:** {md(c.checkpoint.text)}",
        f"- **Next step:** {md(c.action)}",
    ]
    if c.ticket_ids:
        lines.append(f"- **Tickets:** {', '.join(code(t) for t in c.ticket_ids)} (the latest of the window)")
    return "\n".join(lines)


def heading(as_of: date, cards: tuple[Card, ...] | list[Card], threshold: float, sent: int, part: tuple[int, int] | None = None) -> str:
    n_c = sum(1 for c in cards if c.kind == "candidate")
    n_s = len(cards) - n_c
    what = (
        f"{present.count(n_c, 'new problem candidate')}, {n_s} new {'ticket' if n_s == 1 else 'tickets'} past {threshold:g} % of an SLA timer"
        if cards
        else "nothing new"
    )
    before = f" ({sent:,} sent before; `kedb notify --all` sends them again)" if sent else ""
    of = f" (part {part[0]} of {part[1]})" if part and part[1] > 1 else ""
    return f"**kedb escalations as of {as_of}**{of}: {what}{before}"


def markdown(
    as_of: date, cards: tuple[Card, ...] | list[Card], threshold: float, sent: int = 0, part: tuple[int, int] | None = None
) -> str:
    return "\n\n".join([heading(as_of, cards, threshold, sent, part), *(card_markdown(c) for c in cards)]) + "\n"


def _iso(v: date | datetime | None) -> str | None:
    return None if v is None else v.isoformat(timespec="minutes") if isinstance(v, datetime) else v.isoformat()


def _who_json(w: Who) -> dict[str, Any]:
    return {"name": plain(w.name), "handle": w.handle, "as": plain(w.role)}


def card_json(c: Card) -> dict[str, Any]:
    b = c.blast
    out: dict[str, Any] = {
        "id": c.id,
        "kind": c.kind,
        "title": plain(title(c)),
        "what": plain(c.what),
        "owner": _who_json(c.owner),
        "told": [_who_json(w) for w in c.told],
        "deadline": {"at": _iso(c.deadline.at), "text": plain(c.deadline.text)},
        "blast_radius": {"tickets": b.tickets, "customers": b.customers, "tenants": list(b.tenants), "services": list(b.services)},
        "next_checkpoint": {"at": _iso(c.checkpoint.at), "text": plain(c.checkpoint.text)},
        "next_step": plain(c.action),
    }
    if c.kind == "candidate":
        out["blast_radius"] |= {"window_days": b.window_days, "total": b.total}
        out |= {
            "signature": c.subject,
            "rule": {"id": c.rule[0], "name": plain(c.rule[1])} if c.rule else None,
            "raised_on": _iso(c.raised),
            "tickets": list(c.ticket_ids),
        }
    else:
        out |= {
            "ticket": c.subject,
            "priority": c.priority,
            "threshold": c.threshold,
            "timers": [{"timer": u.timer, "used_percent": u.used_percent, "running": u.running} for u in c.timers],
        }
    return out


def payload(
    as_of: date, cards: tuple[Card, ...] | list[Card], threshold: float, sent: int = 0, part: tuple[int, int] | None = None
) -> dict[str, Any]:
    """What a webhook receives: ``text`` (the Markdown, which Slack, Teams and Mattermost show) and ``cards`` (the same, structured)."""
    return {
        "text": markdown(as_of, cards, threshold, sent, part),
        "as_of": as_of.isoformat(),
        "cards": [card_json(c) for c in cards],
    }
