"""`kedb notify`: escalation cards for new problem candidates and tickets past 90 % of an SLA timer.

A small export whose every card is worked out by hand below; a real HTTP server on 127.0.0.1,
started here, that records what it receives (or answers 500, redirects, or takes its time); a KB
and an export full of hostile strings; and the example KB's synthetic export, where the cards
must be exactly what `kedb candidates` proposes and what the flow audit lists past 90 %.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from markdown_it import MarkdownIt

from conftest import MakeKB
from kbtest import REPO, import_example_export, kedb, write_csv
from kedb.core.load.loader import load
from kedb.core.progression import WorkingHours, clock_minutes
from kedb.tickets.audit import compute
from kedb.tickets.candidates import find
from kedb.tickets.notify import build, on_clock
from kedb.tickets.store import open_store
from test_ci_templates import FAKE_PIP, run_bash

POLICY = """\
window_days: 28
working_hours: {days: [mon, tue, wed, thu, fri], start: "08:00", end: "18:00"}
stages:
  - {id: new, name: New, class: new, threshold: 1h}
  - {id: active, name: Active, class: open, threshold: 2d}
  - {id: awaiting-user, name: Awaiting user, class: pending, threshold: 2d, waiting_on: user, pauses_sla: true}
  - {id: resolved-unconfirmed, name: Resolved, class: resolved, threshold: 7d, clock: calendar, waiting_on: user}
defaults: {new: new, open: active, pending: awaiting-user, resolved: resolved-unconfirmed}
"""
RULES = """signature_fields: [service, category, symptom, error_codes]
rules:
  - {id: five-in-10d, name: Five in ten days at two customers, min_tickets: 5, window_days: 10, min_distinct: 2, distinct_by: customers}
"""
PEOPLE = """
  - handle: pia.manager
    name: Pia Manager
    roles: [problem-manager]
  - handle: ian.lead
    name: Ian Lead
    roles: [incident-lead]
maintainers:"""
HEADER = ["id", "opened_at", "resolved_at", "priority", "customer", "service", "category", "symptom", "text", "type"]
# As of Friday 2026-03-13: the moment is Saturday 00:00, on the calendar clock. Base triage.yml: P1 resolution 4 h,
# P2 8 h, P3 40 h; update intervals 30 min, 2 h, 8 h. One row per ticket: no first response, so no response timer.
QUEUE = [  # printing:queue:stuck, ACME and GLOBEX in turn: the rule (5 in 10 days, 2 customers) is first met by Q5 on 03-06
    [
        f"Q{i + 1}",
        f"2026-03-0{d} 09:00",
        f"2026-03-0{d} 10:00",
        "P3",
        ["ACME", "GLOBEX"][i % 2],
        "printing",
        "Queue",
        "Stuck",
        "",
        "incident",
    ]
    for i, d in enumerate([2, 3, 4, 5, 6])
]
OPEN = [
    # S1 (P1, printing, ACME): 300 of 240 min, 125 %: breached 60 min ago.
    ["S1", "2026-03-13 19:00", "", "P1", "ACME", "printing", "Spooler", "Crash", "", "incident"],
    # S2 (P2, m365-mail, ACME): 450 of 480 min, 93.75 %: past 90; the limit comes at 00:30.
    ["S2", "2026-03-13 16:30", "", "P2", "ACME", "m365-mail", "Mailbox", "Full", "", "incident"],
    # S3 (P3, a service not in the taxonomy, a customer that is no tenant): 36 of 40 h, exactly 90 %; limit at 04:00.
    ["S3", "2026-03-12 12:00", "", "P3", "Initech", "Payroll", "App", "Slow", "", "incident"],
    # S4 (P3): 15 of 40 h, 37.5 %: no card. S5 was resolved: no card.
    ["S4", "2026-03-13 09:00", "", "P3", "GLOBEX", "printing", "Driver", "Old", "", "incident"],
    ["S5", "2026-03-13 08:00", "2026-03-13 09:00", "P2", "GLOBEX", "printing", "Driver", "Old", "", "incident"],
]
REVIEW = "daily aged-ticket review, 2026-03-16 08:00 (the next working morning)"  # Saturday's next working morning


def small_kb(make_kb: MakeKB, tmp_path: Path, rows: list[list[str]] | None = None, files: dict[str, str] | None = None) -> Path:
    """The base KB with the policy, the rule and a problem manager and an incident lead, and ``rows`` imported (called again
    in a test: the same KB, its store replaced)."""
    roles = (make_kb() / "content" / "roles.yml").read_text(encoding="utf-8").replace("\nmaintainers:", PEOPLE, 1)
    root = make_kb({"content/progression.yml": POLICY, "content/recurrence.yml": RULES, "content/roles.yml": roles, **(files or {})})
    tmp_path.mkdir(parents=True, exist_ok=True)
    export = write_csv(tmp_path / "export.csv", HEADER, rows if rows is not None else QUEUE + OPEN)
    res = kedb("--root", str(root), "tickets", "import", str(export), "--source", "csv")
    assert res.exit_code == 0, res.output
    return root


@pytest.fixture(autouse=True)
def _no_ambient(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KEDB_WEBHOOK_URL", "SOURCE_DATE_EPOCH"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def kb(make_kb: MakeKB, tmp_path: Path) -> Path:
    return small_kb(make_kb, tmp_path)


def notify(root: Path, *args: str, code: int = 0) -> Any:
    res = kedb("--root", str(root), "notify", *args)
    assert res.exit_code == code, res.stdout + res.stderr
    return res


def cards_json(root: Path, *args: str) -> dict[str, Any]:
    return json.loads(notify(root, "--format", "json", *args).stdout)


# ---------------------------------------------------------------- a chat webhook on 127.0.0.1
class Hook:
    """An HTTP server in a thread that records every request and answers as told."""

    def __init__(self, status: int = 200, delay: float = 0.0, location: str | None = None, body: bytes = b"ok") -> None:
        self.status, self.delay, self.location, self.body = status, delay, location, body
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.requests.append((self.path, dict(self.headers.items()), data))
                time.sleep(hook.delay)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # kedb stopped waiting: as it should
                    self.send_response(hook.status, f"Failed for {self.path}" if hook.status >= 400 else None)
                    if hook.location:
                        self.send_header("Location", hook.location)
                    self.send_header("Content-Length", str(len(hook.body)))
                    self.end_headers()
                    self.wfile.write(hook.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self) -> str:
        return f"{self.base}/hooks/T0SECRET/B0SECRET/xoxSECRETTOKEN"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(b.decode("utf-8")) for _, _, b in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


def no_secret(text: str) -> None:
    assert "SECRET" not in text and "/hooks" not in text, text


# ---------------------------------------------------------------- the cards, by hand
def test_each_card_is_the_hand_count(kb: Path) -> None:
    got = cards_json(kb, "--as-of", "2026-03-13")
    assert got["as_of"] == "2026-03-13"
    by_id = {c["id"]: c for c in got["cards"]}
    assert list(by_id) == ["candidate:printing:queue:stuck:(none)", "sla:S1:100", "sla:S2:90", "sla:S3:90"]

    cand = by_id["candidate:printing:queue:stuck:(none)"]
    assert cand["raised_on"] == "2026-03-06"  # Q5, the fifth ticket in ten days, at the second customer
    assert cand["deadline"]["at"] == "2026-03-20"  # two weekly reviews later
    assert cand["next_checkpoint"]["at"] == "2026-03-13"  # the first review, a week after it was raised: today
    assert cand["owner"] == {"name": "Ann Owner", "handle": "ann.owner", "as": "primary owner of printing (Printing)"}
    assert cand["told"] == [{"name": "Pia Manager", "handle": "pia.manager", "as": "problem manager"}]
    assert cand["blast_radius"] == {
        "tickets": 5,
        "customers": 2,
        "tenants": ["ACME"],
        "services": ["printing"],
        "window_days": 10,
        "total": 5,
    }
    assert cand["tickets"] == ["Q1", "Q2", "Q3", "Q4", "Q5"] and cand["rule"]["id"] == "five-in-10d"

    s1, s2, s3 = by_id["sla:S1:100"], by_id["sla:S2:90"], by_id["sla:S3:90"]
    assert [(c["priority"], c["threshold"]) for c in (s1, s2, s3)] == [("P1", 100), ("P2", 90), ("P3", 90)]
    assert s1["timers"] == [{"timer": "resolution", "used_percent": 125.0, "running": True}]
    assert s1["deadline"] == {"at": None, "text": "breached: the resolution timer is 60 min past its limit (calendar clock)"}
    assert s2["timers"][0]["used_percent"] == 93.8 and s2["deadline"]["at"] == "2026-03-14T00:30"
    assert s3["timers"][0]["used_percent"] == 90.0 and s3["deadline"]["at"] == "2026-03-14T04:00"
    assert s1["owner"]["as"] == "support owner of printing (Printing)" and s2["owner"]["as"].startswith("support owner of m365-mail")
    assert s3["owner"] == {"name": "Service desk", "handle": None, "as": "escalation tier tier-1 (no service of content/services.yml)"}
    assert {c["told"][0]["name"] for c in (s1, s2, s3)} == {"Ian Lead"}
    assert [c["blast_radius"]["tenants"] for c in (s1, s2, s3)] == [["ACME"], ["ACME"], []]
    assert [c["blast_radius"]["services"] for c in (s1, s2, s3)] == [["printing"], ["m365-mail"], []]
    assert {c["next_checkpoint"]["text"] for c in (s1, s2, s3)} == {REVIEW}
    assert "every 30 min (P1 update interval)" in s1["next_step"] and "every 2 h (P2" in s2["next_step"]
    # Raw ticket text never leaves: the export's category and symptom words appear only as signature parts.
    assert "Initech" not in json.dumps(got) and "Payroll" not in json.dumps(got)


def test_markdown_reads_as_cards(kb: Path) -> None:
    text = notify(kb, "--as-of", "2026-03-13").stdout
    assert text.startswith("**kedb escalations as of 2026-03-13**: 1 new problem candidate, 3 new tickets past 90 % of an SLA timer\n")
    tokens = MarkdownIt("commonmark").parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == [
        "Problem candidate `printing:queue:stuck:(none)`",
        "P1 ticket `S1` breached an SLA timer",
        "P2 ticket `S2` past 90 % of an SLA timer",
        "P3 ticket `S3` past 90 % of an SLA timer",
    ]
    items = [t.content for t in tokens if t.type == "inline" and t.content.startswith("**")]
    labels = [re.match(r"\*\*(.+?):\*\*", i).group(1) for i in items[1:]]  # type: ignore[union-attr]
    card = ["What", "Owner", "Told", "Deadline", "Blast radius", "Next checkpoint", "Next step"]
    assert labels == [*card, "Tickets", *card * 3]
    assert "- **Deadline:** decide by 2026-03-20 (within 2 weekly problem reviews of being raised)\n" in text


def test_a_threshold_not_in_the_policy_and_broken_input(kb: Path) -> None:
    res = notify(kb, "--threshold", "95", code=2)
    assert "--threshold 95 is not one of the sla_thresholds of content/progression.yml (50, 80, 90, 100)" in res.stderr
    assert "Traceback" not in res.output
    assert "not a date" in notify(kb, "--as-of", "2026-13-01", code=2).stderr
    assert "after the latest event" in notify(kb, "--as-of", "2027-01-01", code=2).stderr
    (kb / "content" / "progression.yml").write_text("window_days: many\n", encoding="utf-8")
    assert "content/progression.yml cannot be used" in notify(kb, code=1).stderr


def test_the_day_comes_from_source_date_epoch_never_the_clock(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    by_data = cards_json(kb)  # the last day the export covers: 2026-03-13
    assert by_data["as_of"] == "2026-03-13"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(datetime(2026, 3, 12, 12).timestamp())))
    assert cards_json(kb)["as_of"] == "2026-03-12"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(datetime(2030, 1, 1, 12).timestamp())))
    res = notify(kb, code=2)
    assert "SOURCE_DATE_EPOCH sets the day to 2030-01-01" in res.stderr


def test_a_rejected_candidate_is_not_notified_until_it_grows(make_kb: MakeKB, tmp_path: Path) -> None:
    log = """regrowth_factor: 2
decisions:
  - kind: rejected
    signature: "printing:queue:stuck:(none)"
    decided_on: 2026-03-06
    by: pia.manager
    reason: Each customer's own print server.
    rule: five-in-10d
    volume: 5
    window_days: 10
"""
    root = small_kb(make_kb, tmp_path, files={"content/decisions.yml": log})
    ids = [c["id"] for c in cards_json(root, "--as-of", "2026-03-13")["cards"]]
    assert ids == ["sla:S1:100", "sla:S2:90", "sla:S3:90"]
    # Five more queue tickets by 03-12 make ten in the window: twice the volume, so it is proposed again, as a new card.
    more = [[f"R{i}", f"2026-03-{8 + i:02d} 09:00", f"2026-03-{8 + i:02d} 10:00", "P3", "ACME", "printing", "Queue", "Stuck", "", "incident"]
            for i in range(5)]  # fmt: skip
    root2 = small_kb(make_kb, tmp_path / "grown", rows=QUEUE + more + OPEN, files={"content/decisions.yml": log})
    cand = cards_json(root2, "--as-of", "2026-03-13")["cards"][0]
    assert cand["id"] == "candidate:printing:queue:stuck:(none):again:2026-03-06"
    assert cand["raised_on"] == "2026-03-12"  # R4, the tenth ticket in ten days, after the rejection
    assert "proposed again: rejected on 2026-03-06 at 5 tickets, grown to 10" in cand["what"]


# ---------------------------------------------------------------- posting
# What the webhook receives as of 2026-03-12, written out in full: only the candidate is due then.
FIRST_POST = {
    "text": "\n".join(
        [
            "**kedb escalations as of 2026-03-12**: 1 new problem candidate, 0 new tickets past 90 % of an SLA timer",
            "",
            "#### Problem candidate `printing:queue:stuck:(none)`",
            "- **What:** 5 tickets with one signature in 10 days meet rule five-in-10d (Five in ten days at two customers); "
            "raised on 2026-03-06; not decided yet",
            "- **Owner:** Ann Owner (`ann.owner`), primary owner of printing (Printing)",
            "- **Told:** Pia Manager (`pia.manager`), problem manager",
            "- **Deadline:** decide by 2026-03-20 (within 2 weekly problem reviews of being raised)",
            "- **Blast radius:** 5 tickets in 10 days (5 with this signature in all); 2 customers; tenant `ACME`; service `printing`",
            "- **Next checkpoint:** weekly problem review no. 1 since it was raised, by 2026-03-13",
            "- **Next step:** accept it as a problem record (kedb candidates --write, then an owner and a root-cause due date) or "
            "reject it with a reason (kedb candidates --reject)",
            "- **Tickets:** `Q1`, `Q2`, `Q3`, `Q4`, `Q5` (the latest of the window)",
            "",
        ]
    ),
    "as_of": "2026-03-12",
    "cards": [
        {
            "id": "candidate:printing:queue:stuck:(none)",
            "kind": "candidate",
            "title": "Problem candidate printing:queue:stuck:(none)",
            "what": "5 tickets with one signature in 10 days meet rule five-in-10d (Five in ten days at two customers); raised on "
            "2026-03-06; not decided yet",
            "owner": {"name": "Ann Owner", "handle": "ann.owner", "as": "primary owner of printing (Printing)"},
            "told": [{"name": "Pia Manager", "handle": "pia.manager", "as": "problem manager"}],
            "deadline": {"at": "2026-03-20", "text": "decide by 2026-03-20 (within 2 weekly problem reviews of being raised)"},
            "blast_radius": {"tickets": 5, "customers": 2, "tenants": ["ACME"], "services": ["printing"], "window_days": 10, "total": 5},
            "next_checkpoint": {"at": "2026-03-13", "text": "weekly problem review no. 1 since it was raised, by 2026-03-13"},
            "next_step": "accept it as a problem record (kedb candidates --write, then an owner and a root-cause due date) or reject it "
            "with a reason (kedb candidates --reject)",
            "signature": "printing:queue:stuck:(none)",
            "rule": {"id": "five-in-10d", "name": "Five in ten days at two customers"},
            "raised_on": "2026-03-06",
            "tickets": ["Q1", "Q2", "Q3", "Q4", "Q5"],
        }
    ],
}


def test_the_webhook_receives_exactly_the_new_cards_once(kb: Path, hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEDB_WEBHOOK_URL", hook.url())
    printed = cards_json(kb, "--as-of", "2026-03-12", "--dry-run")  # a dry run posts nothing and records nothing
    assert hook.requests == [] and not (kb / ".kedb" / "notified.json").exists()

    # As of 03-12 only the candidate is due (S3 is at 30 %, S1 and S2 not opened yet).
    first = notify(kb, "--as-of", "2026-03-12")
    assert first.stdout == f"posted 1 card to {hook.base} in 1 post as of 2026-03-12\n"
    no_secret(first.output)
    assert len(hook.requests) == 1
    path, headers, raw = hook.requests[0]
    assert path == "/hooks/T0SECRET/B0SECRET/xoxSECRETTOKEN" and headers["Content-Type"] == "application/json"
    assert json.loads(raw.decode("utf-8")) == FIRST_POST == printed  # exactly; and what the dry run said it would send
    sent = json.loads((kb / ".kedb" / "notified.json").read_text(encoding="utf-8"))
    assert sent == {"version": 1, "cards": {"candidate:printing:queue:stuck:(none)": "2026-03-12"}}

    # The same day again: nothing new, nothing posted.
    again = notify(kb, "--as-of", "2026-03-12")
    assert again.stdout == "nothing new to post as of 2026-03-12 (1 card sent before; --all sends them again)\n"
    assert len(hook.requests) == 1

    # A day later the three tickets are new; the candidate is not sent again.
    notify(kb, "--as-of", "2026-03-13")
    assert [c["id"] for c in hook.bodies()[1]["cards"]] == ["sla:S1:100", "sla:S2:90", "sla:S3:90"]
    assert "(1 sent before; `kedb notify --all` sends them again)" in hook.bodies()[1]["text"].splitlines()[0]
    notify(kb, "--as-of", "2026-03-13")
    assert len(hook.requests) == 2

    # --all sends every current card again, and the record keeps the day each was first sent.
    notify(kb, "--as-of", "2026-03-13", "--all")
    assert [c["id"] for c in hook.bodies()[2]["cards"]] == ["candidate:printing:queue:stuck:(none)", "sla:S1:100", "sla:S2:90", "sla:S3:90"]
    sent = json.loads((kb / ".kedb" / "notified.json").read_text(encoding="utf-8"))["cards"]
    assert sent["candidate:printing:queue:stuck:(none)"] == "2026-03-12" and sent["sla:S1:100"] == "2026-03-13"


def test_many_cards_go_in_batches_and_a_failure_keeps_what_landed(make_kb: MakeKB, tmp_path: Path, hook: Hook) -> None:
    many = [[f"T{i:02d}", "2026-03-13 16:00", "", "P2", "ACME", "printing", "Spooler", "Crash", "", "incident"] for i in range(45)]
    root = small_kb(make_kb, tmp_path, rows=many)
    res = notify(root, "--webhook", hook.url(), "--as-of", "2026-03-13")
    assert res.stdout.startswith(f"posted 45 cards to {hook.base} in 3 posts")
    assert [len(b["cards"]) for b in hook.bodies()] == [20, 20, 5]
    assert [b["text"].split(":", 1)[0] for b in hook.bodies()] == [
        f"**kedb escalations as of 2026-03-13** (part {i} of 3)" for i in (1, 2, 3)
    ]


@pytest.mark.parametrize("status", [500, 404, 403])
def test_a_refusing_webhook_is_exit_2_without_the_secret(kb: Path, status: int) -> None:
    h = Hook(status=status, body=b'{"error": "no hook /hooks/T0SECRET/B0SECRET/xoxSECRETTOKEN"}')
    try:
        res = notify(kb, "--webhook", h.url(), code=2)
    finally:
        h.close()
    assert len(h.requests) == 1
    assert f"kedb: the webhook at {h.base} refused the cards: HTTP {status}" in res.stderr, res.stderr
    assert "nothing was recorded as sent" in res.stderr and "Traceback" not in res.output
    no_secret(res.output)
    assert not (kb / ".kedb" / "notified.json").exists()


def test_a_refused_connection_is_exit_2(kb: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on: bound, then closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = notify(kb, "--webhook", f"http://127.0.0.1:{port}/hooks/T0SECRET/B0SECRET/xoxSECRETTOKEN", code=2)
    assert f"kedb: the webhook at http://127.0.0.1:{port} refused the connection" in res.stderr
    no_secret(res.output)


def test_a_redirect_is_not_followed(kb: Path, hook: Hook) -> None:
    away = Hook(status=302, location=hook.url())
    try:
        res = notify(kb, "--webhook", away.url(), code=2)
    finally:
        away.close()
    assert "answered HTTP 302, a redirect, which kedb does not follow" in res.stderr
    assert hook.requests == []
    no_secret(res.output)


def test_a_slow_webhook_times_out(kb: Path) -> None:
    slow = Hook(delay=5)
    try:
        started = time.monotonic()
        res = notify(kb, "--webhook", slow.url(), "--timeout", "0.5", code=2)
        took = time.monotonic() - started
    finally:
        slow.close()
    assert "did not answer within 0.5 s" in res.stderr and took < 4, (res.stderr, took)
    no_secret(res.output)
    assert not (kb / ".kedb" / "notified.json").exists()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://chat.example.com/hooks/T0SECRET", "is http:// to http://chat.example.com"),
        ("ftp://chat.example.com/T0SECRET", "must be an https:// URL"),
        ("https://chat.example.com:99999/T0SECRET", "is not a URL kedb can post to"),
        ("https://chat.example.com/T0SECRET\n/x", "holds spaces or control characters"),
        ("chat.example.com/T0SECRET", "must be an https:// URL"),
    ],
)
def test_an_unsafe_webhook_url_is_refused_before_anything_is_built(kb: Path, url: str, says: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEDB_WEBHOOK_URL", url)
    res = notify(kb, code=2)
    assert says in res.stderr and "KEDB_WEBHOOK_URL" in res.stderr, res.stderr
    no_secret(res.output)
    assert "building the cards" not in res.stderr


def test_a_damaged_record_of_sent_cards_stops_the_run(kb: Path, hook: Hook) -> None:
    (kb / ".kedb" / "notified.json").write_text("{not json", encoding="utf-8")
    res = notify(kb, "--webhook", hook.url(), code=2)
    assert "cannot be read as kedb's list of cards sent" in res.stderr and hook.requests == []


# ---------------------------------------------------------------- hostile strings
HOSTILE = "Eve <!channel> @here @all *boss* _x_ [click](https://evil.example/a) ![i](https://evil.example/i.png) `rm` | & www.evil.example"


def test_hostile_strings_are_escaped_and_mention_no_one(make_kb: MakeKB, tmp_path: Path, hook: Hook) -> None:
    base = make_kb()
    roles = (base / "content" / "roles.yml").read_text(encoding="utf-8").replace("name: Ann Owner", f"name: {json.dumps(HOSTILE)}")
    services = (base / "content" / "services.yml").read_text(encoding="utf-8").replace("name: Printing", f"name: {json.dumps(HOSTILE)}")
    rules = RULES.replace("name: Five in ten days at two customers", f"name: {json.dumps(HOSTILE)}")
    rows = [
        [
            r[0],
            r[1],
            r[2],
            r[3],
            "<!channel> @here" if i % 2 else r[4],  # two customers, as the rule asks
            r[5],
            r[6] + " @channel <!here>",
            r[7] + " **x** [y](https://evil.example)",
            "@everyone",
            r[9],
        ]
        for i, r in enumerate(QUEUE)
    ]
    rows += [["S1", "2026-03-13 19:00", "", "P1", "@here", "printing", "<script>", "@channel", "<!channel>", "incident"]]
    root = small_kb(make_kb, tmp_path, rows=rows, files={"content/roles.yml": roles, "content/services.yml": services,
                                                         "content/recurrence.yml": rules})  # fmt: skip
    assert kedb("--root", str(root), "check").exit_code == 0

    notify(root, "--webhook", hook.url(), "--as-of", "2026-03-13")
    ((_, _, raw),) = hook.requests
    text = raw.decode("utf-8")
    for mention in ("@here", "@channel", "@all", "@everyone", "<!channel>", "<!here>", "\\u003c!"):
        assert mention not in text, mention
    body = json.loads(text)
    assert [c["id"] for c in body["cards"]] == ["candidate:printing:queue-channel-here:stuck-x-y-https-evil.example:(none)", "sla:S1:100"]

    md = body["text"]
    html = MarkdownIt("commonmark").render(md)
    assert "<a " not in html and "<img" not in html and "<script" not in html and "<em>" not in html, html
    assert html.count("<strong>") == 1 + 8 + 7  # the heading line and each card's labels, nothing from the values
    assert html.count("<code>") == (md.count("`") - md.count("\\`")) // 2  # ids and signatures only; escaped ticks stay text
    # Each hostile name reads as written, only with a word joiner after '@' and every special character kept.
    shown = html.replace("\u2060", "").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert shown.count(HOSTILE) == 5, shown  # both owners, the service they own (twice) and the rule's name
    for card in body["cards"]:
        flat = json.dumps(card, ensure_ascii=False)
        assert "@here" not in flat and "<!channel" not in flat


# ---------------------------------------------------------------- CI posts them when a webhook is configured
CI = {
    "gitlab": ".gitlab-ci.yml",
    "github": ".github/workflows/kb.yml",
    "gitlab-template": "templates/init/ci-gitlab.yml",
    "github-template": "templates/init/ci-github.yml",
}


def notify_script(which: str) -> str:
    """The notify job's shell lines. A template installs the kedb requirements.txt pins from the team's package index: here
    that line is left out and the kedb under test runs (this repository's own files install it from the tree, as written)."""
    ci = yaml.safe_load((REPO / CI[which]).read_text(encoding="utf-8"))
    if which.startswith("gitlab"):
        job = ci["kb:notify"]
        assert job["rules"] == [
            {"if": '$KEDB_WEBHOOK_URL && ($CI_PIPELINE_SOURCE == "schedule" || $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH)'}
        ]
        assert {"key": "kedb-notified", "paths": [".kedb/notified.json"]} in job["cache"]
        lines = "\n".join(job["script"]).splitlines()
    else:
        job = ci["jobs"]["notify"]
        assert job["if"] == "github.event_name != 'pull_request'" and "schedule" in ci[True]  # YAML reads `on:` as True
        (step,) = [s for s in job["steps"] if s.get("name") == "Post escalation cards"]
        assert step["env"]["KEDB_WEBHOOK_URL"] == "${{ secrets.KEDB_WEBHOOK_URL }}"
        assert any(s.get("uses", "").startswith("actions/cache@") and s["with"]["path"] == ".kedb/notified.json" for s in job["steps"])
        lines = step["run"].splitlines()
    return FAKE_PIP + "\n".join(ln for ln in lines if "pip install --quiet -r requirements.txt" not in ln)


@pytest.mark.parametrize("which", list(CI))
def test_ci_posts_the_cards_only_when_a_webhook_and_an_export_are_there(make_kb: MakeKB, tmp_path: Path, hook: Hook, which: str) -> None:
    root = make_kb()
    for part in ("generators", "templates"):  # this repository's own jobs install kedb from the checkout
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_bytes((REPO / "pyproject.toml").read_bytes())
    export = write_csv(tmp_path / "export.csv", HEADER, QUEUE)
    script = notify_script(which)

    idle = run_bash(script, root, {})
    assert idle.returncode == 0 and "kedb notify: nothing posted" in idle.stdout, idle.stdout + idle.stderr
    idle = run_bash(script, root, {"KEDB_WEBHOOK_URL": hook.url(), "KEDB_TICKET_EXPORT": str(tmp_path / "missing.csv")})
    assert idle.returncode == 0 and hook.requests == []

    env = {"KEDB_WEBHOOK_URL": hook.url(), "KEDB_TICKET_EXPORT": str(export), "KEDB_TICKET_SOURCE": "csv"}
    unset = run_bash(script, root, {k: v for k, v in env.items() if k != "KEDB_TICKET_SOURCE"})
    assert unset.returncode != 0 and "set KEDB_TICKET_SOURCE" in unset.stderr and hook.requests == []
    posted = run_bash(script, root, env)
    assert posted.returncode == 0, posted.stdout + posted.stderr
    assert [c["id"] for b in hook.bodies() for c in b["cards"]] == ["candidate:queue:stuck:(none)"]  # the base KB's signature fields
    no_secret(posted.stdout + posted.stderr)
    again = run_bash(script, root, env)  # the next scheduled run: the cache kept .kedb/notified.json
    assert again.returncode == 0 and len(hook.requests) == 1 and "nothing new to post" in again.stdout


# ---------------------------------------------------------------- the working clock
def test_the_working_clock_is_inverted_to_the_minute() -> None:
    wh = WorkingHours()
    friday_five = datetime(2026, 3, 13, 17, 0)
    assert on_clock(friday_five, 120, "working", wh) == datetime(2026, 3, 16, 9, 0)  # one hour Friday, one Monday
    assert on_clock(friday_five, 60, "working", wh) == datetime(2026, 3, 13, 18, 0)
    assert on_clock(friday_five, 90, "calendar", wh) == datetime(2026, 3, 13, 18, 30)
    start = datetime(2026, 3, 11, 7, 13)
    for minutes in (1, 59, 600, 601, 3000, 12345):
        at = on_clock(start, minutes, "working", wh)
        assert at is not None
        used = clock_minutes(at, "working", wh) - clock_minutes(start, "working", wh)
        before = clock_minutes(at - timedelta(minutes=1), "working", wh) - clock_minutes(start, "working", wh)
        assert used >= minutes > before, (minutes, at)


# ---------------------------------------------------------------- the example KB
def test_the_example_cards_are_the_candidates_and_the_audit_lists(example_kb: Path, tmp_path: Path) -> None:
    import_example_export(example_kb, tmp_path)
    kb = load(example_kb)[0]
    with open_store(kb.root) as (con, info):
        found = build(con, kb, info)
        day = found.as_of
        proposed = [c.shown for c in find(con, kb, info.columns, until=day).proposed]
        run = compute(con, kb, info, day)
        past = [(p.id, h) for p in run.on_thresholds if (h := p.highest(run.thresholds)) is not None and h >= 90]
        # Each candidate was raised on the first day one of its rules was met: met then, and not the day before.
        for c in found.cards:
            if c.kind == "candidate":
                assert c.raised is not None
                assert c.subject in {x.shown for x in find(con, kb, info.columns, until=c.raised).candidates}
                assert c.subject not in {x.shown for x in find(con, kb, info.columns, until=c.raised - timedelta(days=1)).candidates}
    assert day == date(2026, 10, 31)
    held = "printing:scanner:(none):scan-to-email-fails:(none)"  # rejected at the week-8 review: held back
    assert [c.subject for c in found.cards if c.kind == "candidate"] == proposed and held not in proposed and len(proposed) == 3
    assert [(c.subject, c.threshold) for c in found.cards if c.kind == "sla"] == past and past

    out = cards_json(example_kb)
    assert [c["id"] for c in out["cards"]] == [c.id for c in found.cards]
    for c in out["cards"]:
        assert set(c) >= {"owner", "told", "deadline", "blast_radius", "next_checkpoint"}
        assert c["owner"]["handle"] in kb.program.people
    incident_leads = [p.name for p in kb.program.roles.people if "incident-lead" in p.roles]  # type: ignore[union-attr]
    assert {w["name"] for c in out["cards"] if c["kind"] == "sla" for w in c["told"]} == set(incident_leads)
