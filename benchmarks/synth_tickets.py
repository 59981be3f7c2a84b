"""A seeded generator of SYNTHETIC ServiceNow incident event logs (no real tickets, no real people).

The export has the shape of ServiceNow's incident event log (one row per update, `?` for a
missing value, day-first dates such as `29-02-2016 01:16`, as in the real sample under
`../shared/data/servicenow-incident-log/`), plus `company`, `business_service` and
`short_description`, which an MSP's list export carries, the incident's `knowledge` flag (a
knowledge article was used) and `u_satisfaction`, a 1–5 survey rating joined in as a custom
field on the rows from resolution on (about one resolved ticket in five is rated). It serves two
purposes:

* the example KB's KPI snapshots (`content/kpi/`): with `--kb .` the recurring signatures are
  those of the KB's known errors (each known error's tenants respected), the KB's problem
  triggers are planted as the bursts that opened them, a signature stops recurring after its
  problem's `fixed_on`, and from the month after the KPI baseline (`content/kpis.yml`) the
  desk improves step by step over eight weeks (fewer repeats, breaches and reopens, faster first
  response, fewer bounced escalations), as a known-error program is meant to achieve;
* the 1,000,000-ticket benchmark (`benchmarks/bench_tickets.py`), with a catalogue of
  synthetic recurring signatures and a long tail of one-off ones.

Every figure derived from this file is computed by `kedb` from the rows; nothing here writes a
KPI. The same `--seed` and arguments give the same bytes. The knowledge flag and the rating
are drawn from a second random stream, so adding them left every other value as it was.

    python benchmarks/synth_tickets.py --tickets 12000 --kb . --out .kedb/example-export.csv
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

HEADER = (
    "number,incident_state,active,reassignment_count,reopen_count,sys_mod_count,made_sla,caller_id,opened_at,"
    "sys_updated_by,sys_updated_at,company,business_service,category,subcategory,u_symptom,cmdb_ci,priority,"
    "assignment_group,short_description,problem_id,resolved_at,closed_at,knowledge,u_satisfaction"
)
SERVICES = {
    "m365-identity": ["sign-in", "mfa", "conditional-access", "password-reset", "licensing"],
    "m365-mail": ["outlook-profile", "mailbox", "shared-mailbox", "mail-flow", "calendar"],
    "remote-access": ["vpn-client", "vpn-dns", "rdp", "vpn-portal"],
    "windows-endpoint": ["windows-update", "bitlocker", "performance", "drivers", "logon"],
    "printing": ["print-spooler", "default-printer", "print-queue", "scanner"],
    "backup-recovery": ["vss", "backup-job", "restore"],
    "rmm-monitoring": ["agent", "patch-scan", "alerting"],
    "lob-apps": ["web-app", "database", "clickonce", "erp-client"],
}
WORDS = [
    "slow",
    "crash",
    "error",
    "timeout",
    "freeze",
    "missing",
    "denied",
    "expired",
    "locked",
    "offline",
    "stuck",
    "duplicate",
    "corrupt",
    "blank",
    "prompt",
    "loop",
    "sync",
    "fails",
    "hangs",
    "disconnects",
    "rejected",
    "unavailable",
    "full",
    "wrong",
    "old",
    "certificate",
    "token",
    "profile",
    "cache",
    "policy",
    "driver",
    "queue",
    "agent",
    "job",
    "share",
    "folder",
    "license",
    "session",
    "display",
    "audio",
    "keyboard",
]
HEX = ["0x80070005", "0x80004005", "0x800f081f", "0x80240017", "0x8007000e", "0x80070057", "0x800704c7", "0xc000021a"]
GROUPS = ["Service Desk", "Desktop Support", "Identity Team", "Network Team", "Server Team", "Apps Team", "Vendor Liaison"]
PRIORITIES = [("1 - Critical", 0.03), ("2 - High", 0.12), ("3 - Moderate", 0.65), ("4 - Low", 0.20)]
SLA_HOURS = {"1 - Critical": 4, "2 - High": 8, "3 - Moderate": 40, "4 - Low": 40}
# Recurring faults with no known error yet (with --kb): `kedb candidates` should propose them.
NEW_FAULTS = (
    ("m365-mail:calendar:meeting-invites-duplicated", 0.9),
    ("windows-endpoint:drivers:display-driver-stopped:event-id-4101", 0.6),
    ("remote-access:vpn-client:tunnel-drops-after-sleep", 0.5),
    ("printing:scanner:scan-to-email-fails", 0.4),
)
_CODE = re.compile(r"^(kb\d+|0x[0-9a-f]{8}|aadsts\d+|event-id-\d+|net-err-[a-z0-9-]+|err-[a-z0-9-]+|dns-probe-[a-z-]+)$")


@dataclass
class Sig:
    """One recurring fault: the export fields that make its signature, and who it can hit."""

    service: str
    category: str
    subcategory: str
    symptom: str
    text: str
    weight: float
    tenants: tuple[str, ...] = ()  # empty: any customer
    stop: date | None = None  # after the fix: no more tickets
    problem: str = "?"
    known: bool = False  # a known error covers it: agents find the article more often


@dataclass
class Params:
    tickets: int
    start: date
    months: int
    seed: int = 7
    program_start: date | None = None
    customers: list[str] = field(default_factory=list)
    shape: str = "events"  # events: one row per update; tickets: one row per ticket (its state at the end)


def code_text(part: str) -> str:
    """A signature's error-code part as an agent would paste it (`event-id-7031` → `Event ID 7031`)."""
    if part.startswith("event-id-"):
        return "Event ID " + part[9:]
    if part.startswith("net-err-"):
        return "NET::ERR_" + part[8:].upper().replace("-", "_")
    if part.startswith(("err-", "dns-probe-")):
        return part.upper().replace("-", "_")
    if part.startswith(("kb", "aadsts")):
        return part.upper()
    return part


def words(part: str) -> str:
    return part.replace("-", " ").capitalize()


def from_signature(sig: str, weight: float, tenants: tuple[str, ...] = ()) -> Sig:
    """Export fields whose signature (service:category:subcategory:symptom:codes) is ``sig``."""
    parts = sig.split(":")
    rest = parts[2:]
    codes = [p for p in rest if _CODE.match(p)]
    other = [p for p in rest if not _CODE.match(p)]
    sub = other[0] if len(other) == 2 else ""
    symptom = other[-1] if other else ""
    text = words(symptom or parts[1]) + (": " + " ".join(code_text(c) for c in codes) if codes else "")
    return Sig(parts[0], words(parts[1]), words(sub) if sub else "", words(symptom) if symptom else "", text, weight, tenants)


def kb_catalogue(root: Path) -> tuple[list[Sig], list[tuple[Sig, int, date, date, int]], list[str], date | None]:
    """Signatures of the KB's known errors, its problems' trigger bursts, its tenants, the program start."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generators"))
    from kedb.core.load.loader import load
    from kedb.core.records import KnownError, Problem

    kb, _ = load(root)
    sigs: dict[str, Sig] = {}
    for i, rec in enumerate(r for r in kb.known_errors if r.meta.status != "retired"):
        m: KnownError = rec.meta
        sigs[m.symptom_signature] = from_signature(m.symptom_signature, 1.0 / (1 + i % 7), tuple(m.tenants))
        sigs[m.symptom_signature].known = True
    bursts = []
    for rec in kb.problems:
        p: Problem = rec.meta
        if not (p.trigger and p.trigger.signature and p.trigger.first_seen and p.trigger.last_seen):
            continue
        s = sigs.setdefault(p.trigger.signature, from_signature(p.trigger.signature, 0.5, tuple(p.tenants)))
        s.problem = "PRB" + p.id.split("-")[1].rjust(7, "0")
        if p.fixed_on:
            s.stop = p.fixed_on
        distinct = p.trigger.distinct_customers or 1
        bursts.append((s, p.trigger.tickets, p.trigger.first_seen, p.trigger.last_seen, distinct))
    tenants = [t.id for t in kb.program.settings.tenants] if kb.program.settings else []
    start = None
    if kb.program.kpis:
        b = datetime.strptime(kb.program.kpis.checkpoints.baseline + "-01", "%Y-%m-%d").date()
        start = (b.replace(day=28) + timedelta(days=4)).replace(day=1)
    return list(sigs.values()), bursts, tenants, start


def synthetic_catalogue(rng: random.Random, n: int) -> list[Sig]:
    out = []
    services = list(SERVICES)
    for i in range(n):
        svc = services[i % len(services)]
        cat = rng.choice(SERVICES[svc])
        sym = "-".join(rng.sample(WORDS, 2))
        code = rng.choice(HEX) if rng.random() < 0.4 else ""
        text = f"{code} {words(sym)}".strip()
        out.append(Sig(svc, words(cat), "", words(sym), text, 1.0 / (1 + i) ** 0.8))
    return out


def _day_strings(start: date, days: int) -> list[str]:
    return [(start + timedelta(days=d)).strftime("%d-%m-%Y") for d in range(days)]


def generate(p: Params, catalogue: list[Sig], bursts: list[tuple[Sig, int, date, date, int]]) -> Iterator[str]:
    """CSV lines (header first) of the event log."""
    rng = random.Random(p.seed)
    desk = random.Random(p.seed + 1_000_003)  # the knowledge flag and the rating: a stream of their own
    end = (p.start.replace(day=1) + timedelta(days=31 * p.months)).replace(day=1)
    total_min = (end - p.start).days * 1440
    days = _day_strings(p.start, (end - p.start).days + 60)

    def ts(m: int) -> str:
        return f"{days[m // 1440]} {m % 1440 // 60:02d}:{m % 60:02d}"

    prog = None if p.program_start is None else (p.program_start - p.start).days * 1440
    cum, acc = [], 0.0
    for s in catalogue:
        acc += s.weight
        cum.append(acc)
    customers = p.customers or ["ACME", "GLOBEX", "INITECH"]
    callers = {c: [f"Caller {i * 1000 + k}" for k in range(40 + p.tickets // 200)] for i, c in enumerate(customers, 1)}
    assets = {c: [f"{c[:6]}-{kind}-{k:04d}" for kind in ("PC", "SRV", "PRN") for k in range(1, 60)] for c in customers}
    plan: list[tuple[int, Sig | None, str | None]] = []
    for s, n, first, last, distinct in bursts:
        a = (first - p.start).days * 1440 + 8 * 60
        b = (last - p.start).days * 1440 + 17 * 60
        if a < 0 or b >= total_min:
            continue
        who = list(s.tenants) or customers
        for k in range(n):
            plan.append((a + (b - a) * k // max(1, n - 1), s, who[k % min(distinct, len(who))]))
    for _ in range(p.tickets - len(plan)):
        day = rng.randrange(total_min // 1440)
        if (p.start + timedelta(days=day)).weekday() >= 5 and rng.random() < 0.7:
            day = max(0, day - 2)
        minute = day * 1440 + int(rng.triangular(7 * 60, 19 * 60, 10 * 60))
        plan.append((minute, None, None))
    plan.sort(key=lambda x: x[0])
    yield HEADER + (",u_first_response_at" if p.shape == "tickets" else "")
    for no, (t0, sig, cust) in enumerate(plan, 1):
        f = 0.0 if prog is None or t0 < prog else min(1.0, (t0 - prog) / (56 * 1440))
        if sig is None:
            sig = _pick(rng, catalogue, cum, t0, p.start, 0.20 - 0.10 * f)
        if cust is None:
            cust = rng.choice(sig.tenants) if sig and sig.tenants else rng.choice(customers)
        rows = _ticket(rng, no, t0, sig, cust, f, callers[cust], assets[cust], ts, total_min, desk)
        if p.shape == "tickets":
            *_, last, first_response = rows
            yield f"{last},{first_response}"
        else:
            yield from rows[:-1]


def _pick(rng: random.Random, cat: list[Sig], cum: list[float], t0: int, start: date, recurring: float) -> Sig:
    if cat and rng.random() < recurring:
        for _ in range(5):
            s = cat[_bisect(cum, rng.random() * cum[-1])]
            if s.stop is None or t0 // 1440 < (s.stop - start).days:
                return s
    svc = rng.choice(list(SERVICES))
    sym = "-".join(rng.sample(WORDS, 3))
    sub = rng.choice(WORDS)
    return Sig(svc, words(rng.choice(SERVICES[svc])), words(sub), words(sym), words(sym), 0.0)


def _bisect(cum: list[float], x: float) -> int:
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\n') else text


def _ticket(
    rng: random.Random,
    no: int,
    t0: int,
    s: Sig,
    cust: str,
    f: float,
    callers: list[str],
    assets: list[str],
    ts,  # type: ignore[no-untyped-def]
    end: int,
    desk: random.Random,
) -> list[str]:
    """The ticket's event-log rows, then its first-response time (for the one-row-per-ticket shape)."""
    pr = rng.choices([x for x, _ in PRIORITIES], [w for _, w in PRIORITIES])[0]
    hours = SLA_HOURS[pr]
    breach = rng.random() < 0.10 - 0.05 * f
    response = max(1, int(rng.lognormvariate(math.log(30 - 9 * f), 0.8)))
    resolve = response + int(hours * 60 * (rng.uniform(1.05, 2.5) if breach else rng.uniform(0.05, 0.95)))
    group0 = "Service Desk"
    groups = [group0]
    if rng.random() < 0.35:
        groups.append(rng.choice(GROUPS[1:]))
        if rng.random() < 0.32 - 0.16 * f:
            groups.append(rng.choice([group0, *GROUPS[1:]]))
    reopen = rng.random() < 0.075 - 0.04 * f
    number = f"INC{no:07d}"
    caller = rng.choice(callers)
    ci = rng.choice(assets) if rng.random() < 0.8 else "?"
    text = s.text or words(s.symptom)
    if no % 97 == 0:
        text = f"{text}, reported again"
    if no % 499 == 0:
        text = f"{text}\nuser attached a screenshot"
    problem = s.problem if s.problem != "?" and rng.random() < 0.6 else "?"
    # (minute, state, group index, reopen count, breached yet)
    ev = [(t0 + rng.randint(0, 4), "New", 0, 0)]
    t = t0 + response
    for gi in range(1, len(groups)):
        ev.append((t, "Active", gi, 0))
        t += rng.randint(10, 240)
    if len(groups) == 1:
        ev.append((t, "Active", 0, 0))
    if rng.random() < 0.15:
        ev.append((t0 + (resolve - response) // 3 + response, "Awaiting User Info", len(groups) - 1, 0))
        ev.append((t0 + (resolve - response) // 2 + response, "Active", len(groups) - 1, 0))
    resolved_at = t0 + resolve
    ev.append((resolved_at, "Resolved", len(groups) - 1, 0))
    if reopen:
        back = resolved_at + rng.randint(60, 3 * 1440)
        ev.append((back, "Active", len(groups) - 1, 1))
        resolved_at = back + rng.randint(60, 2 * 1440)
        ev.append((resolved_at, "Resolved", len(groups) - 1, 1))
    closed_at = resolved_at + 3 * 1440
    ev.append((closed_at, "Closed", len(groups) - 1, int(reopen)))
    ev = sorted((e for e in ev if e[0] < end), key=lambda e: e[0])
    res_s = ts(resolved_at) if resolved_at < end else "?"
    clo_s = ts(closed_at) if closed_at < end else "?"
    breach_at = t0 + hours * 60
    # From the program's start agents find and link the article more often, above all for known errors;
    # a breached or reopened ticket is rated lower. Drawn for every ticket, in the same order, from `desk`.
    knowledge = desk.random() < ((0.35 + 0.40 * f) if s.known else (0.08 + 0.12 * f))
    rated = desk.random() < 0.22
    hurt = breach or reopen
    weights = (20, 20, 25, 20, 15) if hurt else (3, 5 - 2 * f, 12 - 4 * f, 38 - 2 * f, 42 + 8 * f)
    rating = desk.choices((1, 2, 3, 4, 5), weights)[0]
    solved = min(e[0] for e in ev if e[1] == "Resolved") if any(e[1] == "Resolved" for e in ev) else None
    fields = (
        f",{caller},{ts(t0)}",
        f",{cust},{s.service},{_q(s.category)},{_q(s.subcategory) or '?'},{_q(s.symptom) or '?'},{ci},{pr}",
        f",{_q(text)},{problem},{res_s},{clo_s}",
    )
    out = []
    for mod, (m, state, gi, reopens) in enumerate(ev):
        active = "FALSE" if state == "Closed" else "TRUE"
        made = "FALSE" if breach and m >= breach_at else "TRUE"
        score = rating if rated and solved is not None and m >= solved else "?"
        out.append(
            f"{number},{state},{active},{gi},{reopens},{mod},{made}{fields[0]},Updated by {rng.randint(1, 900)},{ts(m)}"
            f"{fields[1]},{groups[gi]}{fields[2]},{'TRUE' if knowledge else 'FALSE'},{score}"
        )
    out.append(ts(t0 + response) if t0 + response < end else "?")
    return out


def make_export(
    out: Path,
    tickets: int,
    *,
    seed: int = 7,
    start: date = date(2026, 5, 1),
    months: int = 6,
    kb: Path | None = None,
    shape: str = "events",
) -> Path:
    """Write the export to ``out`` (through a temporary file) and return it."""
    rng = random.Random(seed + 1)
    if kb is not None:
        catalogue, bursts, tenants, program_start = kb_catalogue(kb)
        # a few recurring faults the KB does not know yet: what `kedb candidates` should propose
        catalogue += [from_signature(sig, w) for sig, w in NEW_FAULTS]
    else:
        catalogue, bursts, tenants, program_start = synthetic_catalogue(rng, max(60, tickets // 2500)), [], [], None
        tenants = ["ACME", "GLOBEX", "INITECH", *(f"CUST{i:03d}" for i in range(1, 38))]
    params = Params(tickets, start, months, seed, program_start, tenants, shape)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        buf: list[str] = []
        for line in generate(params, catalogue, bursts):
            buf.append(line)
            if len(buf) >= 20000:
                fh.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            fh.write("\n".join(buf) + "\n")
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, required=True, help="number of tickets")
    ap.add_argument("--out", type=Path, required=True, help="CSV file to write")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2026, 5, 1), help="first day (default 2026-05-01)")
    ap.add_argument("--months", type=int, default=6, help="months covered (default 6)")
    ap.add_argument("--kb", type=Path, help="take signatures, problem bursts, tenants and the program start from this KB")
    ap.add_argument(
        "--shape", choices=["events", "tickets"], default="events", help="events: one row per update (default); tickets: one row per ticket"
    )
    a = ap.parse_args(argv)
    make_export(a.out, a.tickets, seed=a.seed, start=a.start, months=a.months, kb=a.kb, shape=a.shape)
    print(a.out)


if __name__ == "__main__":
    main()
