"""Posting ``kedb notify``'s cards to a chat webhook, and remembering which were sent.

**The URL is a secret.** An incoming webhook's path or query *is* its credential (Slack's
``/services/T…/B…/…``, Teams' and Mattermost's keys), so kedb never prints it: messages name
``scheme://host[:port]`` only (:func:`where`), and anything the server says back is cut of every
part of the URL before it is shown (:func:`_redacted`). Only ``https://`` is accepted, or
``http://`` to ``127.0.0.1``, ``::1`` or ``localhost`` (a relay on the same machine, and the tests).

**A post either lands or says why.** One POST of JSON (``Content-Type: application/json``) per
batch of at most :data:`BATCH` cards, with a deadline for the whole exchange (connecting,
sending, the answer); no redirect is followed (a redirected POST would reach another host, or
arrive as a GET without its body). A refused connection, a timeout, a redirect or an HTTP 4xx/5xx
is a :class:`~kedb.core.errors.EnvironmentProblem` (exit 2). Proxies from the environment are
used, except for the local addresses.

**What was sent** is kept in ``.kedb/notified.json`` (next to the ticket store, never committed):
the id of every card a webhook accepted, with the day it was first sent. A card whose id is there
is not new. The file is rewritten after each accepted batch, so a failure half-way sends only the
rest next time; ids of cards no longer current (a ticket closed, a candidate decided) are dropped
for the kinds the run computed, so one that comes back is new again.
"""

from __future__ import annotations

import json
import os
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from http.client import HTTPException, HTTPResponse
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..core.errors import EnvironmentProblem, UsageError
from ..core.findings import shown

SENT_FILE = "notified.json"
BATCH = 20  # cards per post: a chat message stays far below Slack's and Teams' size limits
TIMEOUT = 10.0  # seconds for the whole exchange with the webhook
LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")
ENV = "KEDB_WEBHOOK_URL"


# ---------------------------------------------------------------- the URL
def where(url: str) -> str:
    """What messages may say of a webhook URL: ``scheme://host[:port]``."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme or '?'}://{host}{port}"


def check_url(url: str, origin: str) -> str:
    """The webhook URL if kedb may post to it; else a usage error that does not quote it (``origin`` says where it came from)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise UsageError(f"{origin} is not a URL kedb can post to (a bad host or port)") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"{origin} must be an https:// URL with a host (it starts {shown(parts.scheme or 'with no scheme')!r})")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise UsageError(
            f"{origin} is http:// to {where(url)}: the cards and the URL's secret would cross the network unencrypted; "
            "use https:// (http:// only to 127.0.0.1, ::1 or localhost)"
        )
    if _UNSAFE.search(url):
        raise UsageError(f"{origin} holds spaces or control characters")
    return url


_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def _redacted(text: str, url: str) -> str:
    """``text`` (a server's answer) with every part of ``url`` but its scheme and host cut out, on one short line."""
    parts = urlsplit(url)
    secrets = [url, parts.path, parts.query, parts.fragment, parts.username or "", parts.password or ""]
    secrets += [s for s in re.split(r"[/?&=#;,]+", f"{parts.path}?{parts.query}#{parts.fragment}") if len(s) >= 3]
    for s in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(s, "…")
    text = " ".join(text.split())
    return shown(text[:200] + ("…" if len(text) > 200 else ""))


# ---------------------------------------------------------------- posting
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


def post(url: str, body: dict[str, Any], timeout: float = TIMEOUT) -> int:
    """POST ``body`` as JSON; the HTTP status of an accepted post (2xx). Anything else is an EnvironmentProblem."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json", "User-Agent": "kedb-notify"})
    local = urlsplit(url).hostname in LOCAL_HOSTS
    opener = urllib.request.build_opener(_NoRedirect, *([urllib.request.ProxyHandler({})] if local else []))
    outcome: list[Any] = []

    def run() -> None:
        try:
            with opener.open(req, timeout=timeout) as resp:
                assert isinstance(resp, HTTPResponse)
                resp.read(64 * 1024)
                outcome.append(resp.status)
        except BaseException as exc:  # handed to the caller's thread, which decides what it means
            outcome.append(exc)

    # The socket timeout bounds each read; a server that answers a byte at a time could still hold a
    # plain call for ever, so the whole exchange runs in a thread the command stops waiting for.
    worker = threading.Thread(target=run, name="kedb-webhook", daemon=True)
    worker.start()
    worker.join(timeout)
    target = where(url)
    if not outcome:
        raise EnvironmentProblem(f"the webhook at {target} did not answer within {timeout:g} s; nothing more was sent")
    got = outcome[0]
    if isinstance(got, int):
        return got
    raise EnvironmentProblem(_failure(got, url, target, timeout)) from None


def _failure(exc: BaseException, url: str, target: str, timeout: float) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        try:
            said = exc.read(2048).decode("utf-8", "replace")
        except (OSError, ValueError):
            said = ""
        reason = _redacted(f"{exc.reason} {said}".strip(), url)
        if 300 <= exc.code < 400:
            return (
                f"the webhook at {target} answered HTTP {exc.code}, a redirect, which kedb does not follow (the cards would go "
                "elsewhere, or arrive without their body): configure the webhook's final https:// URL"
            )
        return f"the webhook at {target} refused the cards: HTTP {exc.code}" + (f" ({reason})" if reason else "")
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return f"the webhook at {target} did not answer within {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return f"the webhook at {target} refused the connection (is the address right, and the service up?)"
    if isinstance(reason, OSError):
        what = reason.strerror or type(reason).__name__
        return f"cannot reach the webhook at {target}: {_redacted(str(what), url)}"
    if isinstance(exc, HTTPException):
        return f"the webhook at {target} did not answer in HTTP ({type(exc).__name__})"
    if isinstance(exc, ValueError | urllib.error.URLError):
        return f"cannot reach the webhook at {target}: {_redacted(str(reason), url)}"
    raise exc


# ---------------------------------------------------------------- what was sent
@dataclass
class Sent:
    """``.kedb/notified.json``: card id -> the day it was first sent."""

    path: Path
    cards: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, root: Path) -> Sent:
        from ..tickets.store import STORE_DIR  # not at start-up: it brings the ticket mapping's models

        path = Path(root) / STORE_DIR / SENT_FILE
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            cards = data["cards"]
            if data.get("version") != 1 or not isinstance(cards, dict) or not all(isinstance(v, str) for v in cards.values()):
                raise ValueError
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            raise EnvironmentProblem(
                f"{path} cannot be read as kedb's list of cards sent; remove it (every current card is then new) or "
                "restore it: nothing was sent"
            ) from None
        return cls(path, dict(cards))

    def record(self, ids: Iterable[str], day: date) -> None:
        for i in ids:
            self.cards.setdefault(i, day.isoformat())
        self.write()

    def keep_current(self, current: set[str], kinds: Iterable[str]) -> None:
        """Forget cards of ``kinds`` that are no longer current (written with the next :meth:`record`)."""
        prefixes = tuple(f"{k}:" for k in kinds)
        self.cards = {i: d for i, d in self.cards.items() if i in current or not i.startswith(prefixes)}

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        text = json.dumps({"version": 1, "cards": dict(sorted(self.cards.items()))}, indent=1, ensure_ascii=False) + "\n"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path)
