"""Generate a synthetic KB of N records with realistic front-matter and bodies.

The records are consistent (links both ways, status rules met), so `kedb check` does the full
work of a clean run. Program data is copied from the repository's own content/.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import yaml

import gitfast

REPO = Path(__file__).resolve().parents[1]
SERVICES = ["m365-identity", "m365-mail", "remote-access", "windows-endpoint", "printing", "backup-recovery", "rmm-monitoring", "lob-apps"]
OWNERS = ["dana.okafor", "marek.novak", "priya.raman", "tom.becker", "lena.fischer", "sam.adeyemi", "jo.mcallister"]
CODES = ["0x80070005", "AADSTS50076", "KB5034441", "0x800f0922", "0x8024402c", "Event ID 7031", "0x800423f4", "ERR_SSL_PROTOCOL_ERROR"]
WORDS = [
    "outlook",
    "sign-in",
    "prompt",
    "loop",
    "printer",
    "queue",
    "spooler",
    "driver",
    "vpn",
    "dns",
    "split",
    "tunnel",
    "update",
    "rollback",
    "backup",
    "snapshot",
    "writer",
    "agent",
    "offline",
    "certificate",
    "expired",
    "handshake",
    "mailbox",
    "profile",
    "cache",
    "token",
    "policy",
    "device",
]
RISK_TAGS = ["security", "billing", "legal"]
MATRIX = {
    "high": {"high": "P1", "medium": "P2", "low": "P2"},
    "medium": {"high": "P2", "medium": "P2", "low": "P3"},
    "low": {"high": "P3", "medium": "P3", "low": "P3"},
}


def _sentence(rng: random.Random, n: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _para(rng: random.Random, sentences: int = 4) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def make_kb(dest: Path, n: int, seed: int = 7, dirty: float = 0.0, high_impact: float = 0.0, by_service: bool = False) -> Path:
    """Write a KB with ``n`` records (60 % known errors, 25 % workarounds, 15 % problems).

    With ``dirty`` > 0, that share of the records is then broken in one or two of the ways in
    ``_BREAKAGES`` (for tests that compare ways of reading a KB full of findings).
    With ``high_impact`` > 0, that share of the known errors is high impact: impact high (P1
    or P2) or a risk tag; the choice comes from a random stream of its own, so every other
    value is the same as without it. ``by_service`` puts the records in one folder per
    service (``known_errors/<service>/``), as a large KB keeps them."""
    if dirty and by_service:
        raise ValueError("dirty KBs are written in one flat folder")
    rng = random.Random(seed)
    high_rng = random.Random(seed + 2)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(REPO / "content", dest / "content")
    out = dest / "known_errors"
    out.mkdir(parents=True)
    if by_service:
        for svc in SERVICES:
            (out / svc).mkdir()

    def folder(i: int) -> Path:
        return out / SERVICES[i % len(SERVICES)] if by_service else out

    n_wa, n_prb = n * 25 // 100, n * 15 // 100
    n_ke = n - n_wa - n_prb
    for i in range(1, n_ke + 1):
        svc = SERVICES[i % len(SERVICES)]
        impact, urgency = rng.choice(["low", "medium"]), rng.choice(["low", "medium", "high"])
        has_wa, has_prb = i <= n_wa, i <= n_prb
        status = "published" if has_wa else rng.choice(["draft", "in-review"])
        code = rng.choice(CODES)
        risk_tags = ""
        if high_impact and high_rng.random() < high_impact:
            if high_rng.random() < 0.4:
                impact = "high"  # P1 with high urgency, P2 otherwise: high impact either way
            else:
                risk_tags = high_rng.choice(RISK_TAGS)
        fm = [
            "---",
            f"id: KE-{i:05d}",
            f"title: Synthetic known error {i} {rng.choice(WORDS)} {rng.choice(WORDS)}",
            f"status: {status}",
            f"service: {svc}",
            f"owner: {rng.choice(OWNERS)}",
            "created: 2026-03-01",
            "review_by: 2027-09-01",
            f"tags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]",
            "data_sensitivity: internal",
            "tenants: []",
            "symptoms:",
            f"  - {_sentence(rng, 8)}",
            f"  - '{code} when the user {rng.choice(WORDS)}s'",
            f"  - {_sentence(rng, 6)}",
            f"error_codes: ['{code}']",
            f"symptom_signature: {svc}:synthetic:{i}",
            "affected:",
            "  products: [Microsoft 365 Apps]",
            "  versions: ['2308']",
            f"impact: {impact}",
            f"urgency: {urgency}",
            f"priority: {MATRIX[impact][urgency]}",
            f"risk_tags: [{risk_tags}]",
            f"problem: {f'PRB-{i:05d}' if has_prb else 'null'}",
            f"workarounds: [{f'WA-{i:05d}' if has_wa else ''}]",
            "fix:",
            "  status: none",
            f"tickets: [INC{i:07d}]",
            "---",
            "",
        ]
        body = "\n\n".join(f"## {s}\n\n{_para(rng)}" for s in ("Symptoms", "Cause", "Workaround", "Permanent fix", "Reply to customer"))
        (folder(i) / f"KE-{i:05d}-synthetic.md").write_text("\n".join(fm) + body + "\n", encoding="utf-8")
    for i in range(1, n_wa + 1):
        fm = [
            "---",
            f"id: WA-{i:05d}",
            f"title: Synthetic workaround {i}",
            "status: published",
            f"service: {SERVICES[i % len(SERVICES)]}",
            f"owner: {rng.choice(OWNERS)}",
            "created: 2026-03-01",
            "review_by: 2027-09-01",
            f"applies_to: [KE-{i:05d}]",
            "risk: medium",
            "verified_by: tom.becker",
            "verified_on: 2026-04-01",
            "success_rate: 0.9",
            "---",
            "",
        ]
        steps = "\n".join(f"{k}. {_sentence(rng, 9)}" for k in range(1, 7))
        body = f"## Steps\n\n{steps}\n\n## Rollback\n\n1. {_sentence(rng)}\n2. {_sentence(rng)}\n"
        (folder(i) / f"WA-{i:05d}-synthetic.md").write_text("\n".join(fm) + body, encoding="utf-8")
    for i in range(1, n_prb + 1):
        fm = [
            "---",
            f"id: PRB-{i:05d}",
            f"title: Synthetic problem {i}",
            "status: root-cause-identified",
            f"service: {SERVICES[i % len(SERVICES)]}",
            f"owner: {rng.choice(OWNERS)}",
            "created: 2026-03-01",
            "review_by: 2027-09-01",
            "opened: 2026-03-01",
            "root_cause_identified: 2026-03-20",
            f"root_cause: {_sentence(rng)}",
            "method: [5-whys]",
            "impact: medium",
            f"known_errors: [KE-{i:05d}]",
            "trigger:",
            "  tickets: 7",
            "  window_days: 30",
            "---",
            "",
        ]
        (folder(i) / f"PRB-{i:05d}-synthetic.md").write_text("\n".join(fm) + f"## Problem statement\n\n{_para(rng, 6)}\n", encoding="utf-8")
    if dirty:
        _break(out, dirty, random.Random(seed + 1))
    return dest


def _after_id(text: str, line: str) -> str:
    i = text.index("\n", 4) + 1
    return text[:i] + line + "\n" + text[i:]


# Ways to break a record: YAML, schema, sections, control characters, secrets, personal data,
# unsafe Markdown, sizes, links, file names; each is (text -> text).
_BREAKAGES: list[Callable[[str], str]] = [
    lambda t: _after_id(t, "title: again"),
    lambda t: _after_id(t, "extra: !!python/object x"),
    lambda t: _after_id(t, "x: &a 1\ntags2: *a"),
    lambda t: _after_id(t, "<<: {a: 1}"),
    lambda t: _after_id(t, "\t- tab"),
    lambda t: t.replace("\n", "\r\n"),
    lambda t: "\ufeff" + t,
    lambda t: t.replace("## Cause", "## Cause\x07").replace("## Steps", "## Steps\x07"),
    lambda t: t.replace("owner: ", "owner: \x0b", 1),
    lambda t: t + "\npassword: Hunter2xyz!\n",
    lambda t: t + "\nMail jane.doe@example.org or call +44 20 7946 0958\n",
    lambda t: t + "\n<script>alert(1)</script>\n[x](javascript:alert(1))\n<!-- hidden -->\n",
    lambda t: t + "\n" + "x" * 700 + "\n",
    lambda t: t + "\n" + "lorem ipsum " * 6000 + "\n",
    lambda t: t.replace("## Symptoms", "## Other").replace("## Steps", "## Stepz"),
    lambda t: t.replace("## Rollback\n\n", "## Rollback\n\n## Next\n\n"),
    lambda t: t.replace("created: 2026-03-01", "created: 2026-02-30"),
    lambda t: t.replace("created: 2026-03-01", "created: NO"),
    lambda t: _after_id(t, "unknwon: 1"),
    lambda t: t.replace("status: ", "status: publishedd\nstatus2: ", 1),
    lambda t: t.replace("impact: ", "impact: [a, b]\nimpact2: ", 1),
    lambda t: t.replace("\n---\n", "\n---\na: 1\n---\n", 1),
    lambda t: t[4:],
    lambda t: t.replace("\n---\n", "\n", 1),
    lambda t: t.replace("title: ", "title: a: b ", 1),
    lambda t: t.replace("title: ", "title: 'unterminated ", 1),
    lambda t: t.replace("id: ", "id: KE-9", 1),
    lambda t: t.replace("service: ", "service: nope-", 1),
    lambda t: t.replace("owner: ", "owner: nobody", 1),
    lambda t: t.replace("tags: [", "tags: [[x], ", 1),
    lambda t: "---\n- a\n- b\n---\nbody\n",
    lambda t: "---\n---\nbody\n",
    lambda t: "---\njust text\n---\nbody\n",
    lambda t: t.replace("review_by: 2027-09-01", "review_by: 2026-01-01"),
    lambda t: t.replace("workarounds: [WA-", "workarounds: [WA-9", 1),
    lambda t: t.replace("problem: PRB-", "problem: PRB-8", 1),
    lambda t: t + "\n```\n<b>in code</b> password: Sekret99x\n```\n",
    lambda t: t + "\nSee {: onclick=alert(1) } and --8<-- other.md\n",
    lambda t: t.replace("fix:\n  status: none", "fix:\n  status: none\n  status: done", 1),
    lambda t: t.replace("fix:\n  status: none", "fix: {status: none, change: CHG1}", 1),
    lambda t: t.replace("tenants: []", "tenants:\n- ACME\n- 'x y'", 1),
    lambda t: t.replace("title: ", "title: >\n  folded\n  text ", 1),
    lambda t: t.replace("title: ", "title: |\n  literal\n  text ", 1),
    lambda t: t.replace("title: ", "title: multi\n  line plain\n  ", 1),
    lambda t: t.replace("title: ", "title: x # comment\n#c\ntitle_: ", 1),
    lambda t: t.replace("verified_on: 2026-04-01", "verified_on: 2026-04-01T10:00:00"),
    lambda t: t.replace("success_rate: 0.9", "success_rate: 1.5"),
    lambda t: t.replace("risk: medium", "risk: high").replace("## Rollback", "## Rollbacks"),
    lambda t: t + "\nKey: ghp_" + "a" * 36 + "\n",
    lambda t: t.replace("title: ", "title: true\ntitle_: ", 1),
    lambda t: t + "\n## Symptoms\n\nsecond\n",
    lambda t: t.replace("root_cause_identified: 2026-03-20", "root_cause_identified: 2026-02-20"),
    lambda t: t.replace("status: root-cause-identified", "status: closed"),
]


def _break(out: Path, share: float, rng: random.Random) -> None:
    files = sorted(out.iterdir())
    for p in files:
        if rng.random() < share:
            text = p.read_text(encoding="utf-8")
            for _ in range(rng.choice([1, 1, 2])):
                text = rng.choice(_BREAKAGES)(text)
            p.write_bytes(text.encode("utf-8"))
    for p in rng.sample(files, max(1, len(files) // 100)):  # a few file names that do not match the id
        p.rename(p.with_name(p.name.replace("-synthetic", "-renamed").replace("KE-", "KE-1")))
    (out / "notes.md").write_text("A stray file.\n", encoding="utf-8")
    (out / "KE-00002-duplicate.md").write_bytes((out / "KE-00003-synthetic.md").read_bytes())
    invalid = bytearray((out / "KE-00004-synthetic.md").read_bytes())
    invalid[10:11] = b"\xe9"
    (out / "KE-00004-synthetic.md").write_bytes(bytes(invalid))


# ------------------------------------------------------------------------ a KB with its history
# The benchmarks time what users run, and users build from a repository that has been worked
# in: records written, reviewed, published, corrected and renamed over months, most changes
# landing as merge requests, the high-impact ones with an approval. ``make_repo`` writes the
# same files as ``make_kb`` and then a history that ends in exactly those files.

WORK = REPO / "benchmarks" / "_work"
HIGH_IMPACT = 0.25  # share of known errors that are high impact in the benchmark KBs
HISTORY_START = date(2026, 1, 12)  # the repository is created
REVIEWS_FROM = date(2026, 3, 2)  # before: records imported by direct commits; from here on: merge requests
GATE = date(2026, 6, 1)  # approvals_since in the KB's content/kedb.yml: later versions are judged
HISTORY_END = date(2026, 11, 20)
PROJECT = "northwind/known-errors"  # the GitLab project merge requests are referenced in
POLICY_EVERY = 500  # merge requests between two changes to content/roles.yml
MAINTAINER = "priya.raman"  # creates the repository and imports the first records
REVIEW_BY, EARLIER_REVIEW_BY = "review_by: 2027-09-01", "review_by: 2027-03-01"
EDITS = ["clarify the wording", "add what recent tickets showed", "correct a detail", "add detail from the latest incident"]
NOTES = [
    "Raised in the weekly problem review.",
    "Two more tenants reported this last week.",
    "The service desk asked for clearer wording.",
    "Checked against the tickets of the last month.",
    "Follow-up from the post-incident review.",
]
DAY = 86_400


def bench_kb(n: int) -> Path:
    """The benchmarks' KB of ``n`` records (a git repository with history), written once and kept."""
    return make_repo(WORK / f"kb-{n}", n)


def _epoch(d: date) -> int:
    return int(datetime.combine(d, time(0), tzinfo=UTC).timestamp())


def _stamp(n: int, seed: int, high_impact: float) -> str:
    """What the repository was made from: a changed generator or setting makes a new one."""
    digest = hashlib.sha256()
    for name in ("synth.py", "gitfast.py"):
        digest.update((Path(__file__).resolve().parent / name).read_bytes())
    return f"{digest.hexdigest()[:16]} n={n} seed={seed} high_impact={high_impact}"


def history_summary(kb: Path) -> dict[str, int]:
    """What :func:`make_repo` wrote into ``kb``'s history (commits, merge requests, versions...)."""
    lines = (kb / ".git" / "kedb-synth").read_text(encoding="utf-8").splitlines()
    return json.loads(lines[1])


def make_repo(dest: Path, n: int, seed: int = 7, high_impact: float = HIGH_IMPACT) -> Path:
    """Write the KB of :func:`make_kb` (records in service folders, ``high_impact`` of the known
    errors high impact) as a git repository with a history of most of a year ending in it.

    - The program data, ``mkdocs.yml`` and a ``.gitignore`` are the first commit; records
      imported before ``REVIEWS_FROM`` come in direct commits, one a day.
    - Every record has one to seven versions: known errors go draft -> in review -> published
      and are then corrected and reviewed (an earlier ``review_by`` until the last change); some
      high-impact ones were raised to high impact, or given a risk tag, by a later change.
      Some records are renamed on the way.
    - From ``REVIEWS_FROM`` on, changes land as GitLab merge requests: one commit per record on a
      branch taken from a recent main, merged with GitLab's merge commit ("See merge request
      ...!N") and ``Approved-by:`` trailers. Every merge request that touches a high-impact
      record after ``GATE`` is approved by an approver of each record's service in
      ``content/roles.yml`` who did not write it; most others are approved too.
    - ``content/kedb.yml`` sets ``approvals_since`` to ``GATE``, so later versions are judged.

    The repository is kept: it is written again only when this generator, ``gitfast.py`` or
    the arguments changed."""
    stamp = _stamp(n, seed, high_impact)
    marker = dest / ".git" / "kedb-synth"
    if marker.is_file() and marker.read_text(encoding="utf-8").splitlines()[0] == stamp:
        return dest
    make_kb(dest, n, seed, high_impact=high_impact, by_service=True)
    settings = dest / "content" / "kedb.yml"
    text, found = re.subn(r"(?m)^approvals_since: .*$", f"approvals_since: {GATE.isoformat()}", settings.read_text(encoding="utf-8"))
    if found != 1:
        raise RuntimeError(f"{settings}: no approvals_since line to set")
    settings.write_text(text, encoding="utf-8")
    (dest / ".gitignore").write_text("/site/\n/.kedb/\n", encoding="utf-8")
    shutil.copyfile(REPO / "mkdocs.yml", dest / "mkdocs.yml")
    gitfast.init(dest)
    summary = _History(dest, random.Random(seed + 3)).write()
    gitfast.check_out(dest)
    subprocess.run([*gitfast.git(dest), "update-ref", "-d", "refs/heads/review"], check=True)  # merged branches are deleted
    left = subprocess.run([*gitfast.git(dest), "status", "--porcelain"], capture_output=True, text=True, check=True).stdout
    if left.strip():
        raise RuntimeError(f"the history of {dest} does not end in its files:\n{left[:2000]}")
    marker.write_text(stamp + "\n" + json.dumps(summary) + "\n", encoding="utf-8")
    return dest


@dataclass
class _Step:
    """One version of a record, told as what it lacks compared with the record's file now."""

    status: str
    what: str  # the change, in a few words
    trim: int = 0  # sentences of the cause (problem statement; steps of a workaround) not written yet
    early_review: bool = False  # review_by not yet moved forward by the last review
    lowered: bool = False  # before the change that made it high impact


def _field(text: str, key: str) -> str:
    m = re.search(rf"(?m)^{key}: (.*)$", text)
    return m.group(1) if m else ""


def _plan(kind: str, text: str, rng: random.Random) -> list[_Step]:
    """The versions of one record, oldest first; the last one is the file as it is."""
    status = _field(text, "status")
    edits = 0
    if kind == "KE" and status == "published":
        edits = rng.choices((0, 1, 2, 3), weights=(3, 4, 2, 1))[0]
        steps = [_Step("draft", "new known error", trim=min(edits + 1, 3))]
        if rng.random() < 0.7:
            steps.append(_Step("in-review", "ready for review", trim=edits))
        steps.append(_Step("published", "publish", trim=edits))
        steps += [_Step("published", rng.choice(EDITS), trim=edits - j) for j in range(1, edits + 1)]
        high = _field(text, "impact") == "high" or _field(text, "risk_tags") != "[]"
        if high and edits and rng.random() < 0.5:
            raised = len(steps) - edits + rng.randrange(edits)  # this edit made it high impact
            for s in steps[:raised]:
                s.lowered = True
            steps[raised].what = "raise to high impact" if _field(text, "impact") == "high" else "add a risk tag"
    elif kind == "KE":
        steps = [_Step(status, "ready for review" if status == "in-review" else "update the draft")]
        if rng.random() < 0.6:
            steps.insert(0, _Step("draft", "new known error", trim=1))
    elif kind == "WA":
        edits = rng.choices((0, 1, 2), weights=(5, 3, 2))[0]
        steps = [_Step("draft", "new workaround", trim=min(edits + 1, 3)), _Step(status, "verified: publish", trim=edits)]
        steps += [_Step(status, rng.choice(EDITS), trim=edits - j) for j in range(1, edits + 1)]
    else:
        steps = [_Step(status, "new problem")]
        if rng.random() < 0.7:
            steps = [_Step("investigating", "new problem", trim=1), _Step(status, "root cause identified")]
    if edits:
        for s in steps[:-1]:
            s.early_review = True
        steps[-1].what += "; review date moved forward"
    return steps


def _sentences_kept(text: str, heading: str, drop: int) -> str:
    start = text.index(heading) + len(heading)
    end = text.index("\n", start)
    sentences = re.findall(r"[^.]+\.", text[start:end])
    return text[:start] + "".join(sentences[: max(1, len(sentences) - drop)]) + text[end:]


def _version_text(final: str, kind: str, step: _Step) -> str:
    """The text of a record at ``step``, from its text now."""
    t = final
    now = _field(final, "status")
    if step.status != now:
        t = t.replace(f"\nstatus: {now}\n", f"\nstatus: {step.status}\n", 1)
    if step.early_review:
        t = t.replace(f"\n{REVIEW_BY}\n", f"\n{EARLIER_REVIEW_BY}\n", 1)
    if step.lowered:
        if _field(t, "impact") == "high":
            urgency = _field(t, "urgency")
            t = t.replace("\nimpact: high\n", "\nimpact: medium\n", 1)
            t = t.replace(f"\npriority: {MATRIX['high'][urgency]}\n", f"\npriority: {MATRIX['medium'][urgency]}\n", 1)
        t = re.sub(r"\nrisk_tags: \[[a-z]+\]\n", "\nrisk_tags: []\n", t, count=1)
    if step.trim and kind == "KE":
        t = _sentences_kept(t, "## Cause\n\n", step.trim)
    elif step.trim and kind == "PRB":
        t = _sentences_kept(t, "## Problem statement\n\n", step.trim)
    elif step.trim:  # a workaround's last steps were written later
        t = "".join(ln for ln in t.splitlines(keepends=True) if not any(ln.startswith(f"{k}. ") for k in range(7 - step.trim, 7)))
    return t


@dataclass
class _Record:
    rid: str
    kind: str
    service: str
    final: bytes
    steps: list[_Step]
    paths: list[str]  # the file's path in each version
    high: bool  # high impact as it is now (a workaround: through its known errors, as the gate judges)


class _History:
    """Writes the history of the KB at ``root`` (its files are already there) with one ``git fast-import``."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root, self.rng = root, rng
        roles = yaml.safe_load((root / "content" / "roles.yml").read_text(encoding="utf-8"))
        self.people = {p["handle"]: (p["name"], p["email"]) for p in roles["people"]}
        self.approvers = {a["service"]: list(a["approvers"]) for a in roles["assignments"]}
        everyone = set(self.people)
        self.writers = sorted(everyone - {h for hs in self.approvers.values() for h in hs})
        self.signers = sorted(everyone - set(self.writers))
        # Whoever holds the incident-lead role also signs what changes on a high-impact record: a customer reply
        # there needs that role (KE819), as content/triage.yml says.
        self.leads = [p["handle"] for p in roles["people"] if "incident-lead" in (p.get("roles") or [])]
        self.counts = dict.fromkeys(("commits", "merge_requests", "approved_merge_requests", "direct_commits", "versions", "renames"), 0)

    def _records(self) -> list[_Record]:
        out = []
        for path in sorted((self.root / "known_errors").rglob("*.md")):
            data = path.read_bytes()
            text = data.decode("utf-8")
            rel = path.relative_to(self.root).as_posix()
            kind = path.name.split("-", 1)[0]
            steps = _plan(kind, text, self.rng)
            paths = [rel] * len(steps)
            if len(steps) > 1 and self.rng.random() < 0.06:  # once called something else
                renamed_at = self.rng.randrange(1, len(steps))
                old = rel.replace("-synthetic.md", f"-{self.rng.choice(WORDS)}-{self.rng.choice(WORDS)}.md")
                paths[:renamed_at] = [old] * renamed_at
                steps[renamed_at].what += "; clearer file name"
                self.counts["renames"] += 1
            high = (kind == "KE" and (_field(text, "impact") == "high" or _field(text, "risk_tags") != "[]")) or (
                kind == "PRB" and _field(text, "impact") == "high"
            )
            out.append(_Record(_field(text, "id"), kind, _field(text, "service"), data, steps, paths, high))
        # A workaround is high impact when a known error it applies to is (the gate asks the same).
        high_kes = {r.rid for r in out if r.kind == "KE" and r.high}
        for r in out:
            if r.kind == "WA":
                applies = _field(r.final.decode("utf-8"), "applies_to").strip("[]").split(",")
                r.high = any(k.strip() in high_kes for k in applies)
        return out

    def _events(self, records: list[_Record]) -> list[tuple[int, int, int]]:
        """(time, record, version) for every version, in time order: a record's first version
        lands any time in the year, the later ones at random times after it."""
        start, end = _epoch(HISTORY_START) + DAY, _epoch(HISTORY_END)
        events = []
        for i, rec in enumerate(records):
            first = self.rng.randint(start, end - 7 * DAY)
            later = sorted(self.rng.randint(first + 3600, end) for _ in rec.steps[1:])
            events += [(t, i, k) for k, t in enumerate([first, *later])]
        events.sort()
        return events

    def write(self) -> dict[str, int]:
        records = self._records()
        events = self._events(records)
        reviews_from = _epoch(REVIEWS_FROM)
        with gitfast.FastImport(self.root) as fi:
            self.fi = fi
            # The gate starts on GATE: until then content/kedb.yml has no approvals_since (a date set
            # ahead of time would be KE815), and on that day a maintainer change sets it.
            settings = self.root / "content" / "kedb.yml"
            before_gate = re.sub(r"(?m)^approvals_since: .*\n", "", settings.read_text(encoding="utf-8")).encode("utf-8")
            first = [
                gitfast.put(p.relative_to(self.root).as_posix(), fi.blob(before_gate if p == settings else p.read_bytes()))
                for p in sorted(self.root.rglob("*"))
                if p.is_file() and p.relative_to(self.root).parts[0] not in (".git", "known_errors")
            ]
            gate_set = False
            start = _epoch(HISTORY_START)
            self.main = [(self._commit(MAINTAINER, start, "Start the known-error database\n", [], first), start)]  # (mark, time)
            day: list[tuple[int, int, int]] = []
            group: list[tuple[int, int, int]] = []
            size = 1
            for ev in events:
                if ev[0] < reviews_from:  # the first weeks: imported straight into main, a commit a day
                    if day and (ev[0] // DAY != day[0][0] // DAY or any(e[1] == ev[1] for e in day)):
                        self._direct(records, day)
                        day = []
                    day.append(ev)
                    continue
                if day:
                    self._direct(records, day)
                    day = []
                if not gate_set and ev[0] >= _epoch(GATE):
                    if group:
                        self._merge_request(records, group)
                        group = []
                    self._policy_change("", path="content/kedb.yml", when=_epoch(GATE), what="The approval gate starts today")
                    gate_set = True
                if group and (len(group) == size or any(e[1] == ev[1] for e in group)):
                    self._merge_request(records, group)
                    group, size = [], self.rng.choices((1, 2, 3), weights=(7, 2, 1))[0]
                    if self.counts["merge_requests"] % POLICY_EVERY == 0:
                        self._policy_change(f"# Approvers reviewed after merge request !{self.counts['merge_requests']}\n")
                group.append(ev)
            if day:
                self._direct(records, day)
            if group:
                self._merge_request(records, group)
            self._policy_change("")  # the history ends in the roles file as it is
        self.counts["versions"] = len(events)
        self.counts["high_impact_known_errors"] = sum(r.high for r in records if r.kind == "KE")
        return self.counts

    def _commit(self, who: str, when: int, message: str, parents: list[int], changes: list[bytes], ref: str = "refs/heads/main") -> int:
        self.counts["commits"] += 1
        return self.fi.commit(ref, author=self.people[who], when=when, message=message, parents=parents, changes=changes)

    def _changes(self, records: list[_Record], i: int, k: int) -> list[bytes]:
        """The file changes of version ``k`` of record ``i`` (a rename deletes the old path)."""
        rec = records[i]
        data = rec.final if k == len(rec.steps) - 1 else _version_text(rec.final.decode("utf-8"), rec.kind, rec.steps[k]).encode("utf-8")
        out = [gitfast.remove(rec.paths[k - 1])] if k and rec.paths[k - 1] != rec.paths[k] else []
        return [*out, gitfast.put(rec.paths[k], self.fi.blob(data))]

    def _direct(self, records: list[_Record], events: list[tuple[int, int, int]]) -> None:
        changes = [c for _, i, k in events for c in self._changes(records, i, k)]
        message = f"Import records from the old wiki\n\n{len(events)} records moved over as they were; review follows.\n"
        when = max(events[-1][0], self.main[-1][1] + 60)
        self.main.append((self._commit(MAINTAINER, when, message, [self.main[-1][0]], changes), when))
        self.counts["direct_commits"] += 1

    def _policy_change(self, note: str, path: str = "content/roles.yml", when: int = 0, what: str = "Roles: approvers reviewed") -> None:
        """A change to a policy file (a maintainer change: written by someone, approved by a
        maintainer who did not write it), so the gate judges versions by several policies."""
        data = (self.root / path).read_bytes() + note.encode("utf-8")
        when = max(when, self.main[-1][1] + 60)
        author = self.rng.choice([w for w in self.writers if w != MAINTAINER])
        message = f"{what}\n\nApproved-by: {self.people[MAINTAINER][0]} <{self.people[MAINTAINER][1]}>\n"
        change = [gitfast.put(path, self.fi.blob(data))]
        self.main.append((self._commit(author, when, message, [self.main[-1][0]], change), when))
        self.counts["policy_changes"] = self.counts.get("policy_changes", 0) + 1

    def _merge_request(self, records: list[_Record], events: list[tuple[int, int, int]]) -> None:
        rng = self.rng
        recs = [records[i] for _, i, _ in events]
        author = rng.choice(self.writers if rng.random() < 0.85 else self.signers)
        if any(not [a for a in self.approvers.get(r.service, []) if a != author] for r in recs):
            author = rng.choice(self.writers)  # the only approver of a service does not write for it
        if author in self.leads and any(r.high for r in recs):
            author = rng.choice([w for w in self.writers if w not in self.leads])  # the incident lead reviews these
        # A branch from main as it was a little before the first change, one commit per record changed.
        at = len(self.main) - 1
        while at and self.main[at][1] > events[0][0]:
            at -= 1
        tip, when = self.main[max(0, at - rng.randrange(4))]
        merged: list[bytes] = []
        titles = []
        for t, i, k in events:
            rec = records[i]
            changes = self._changes(records, i, k)
            merged += changes
            title = f"{rec.rid}: {rec.steps[k].what}"
            titles.append(title)
            when = max(t, when + 60)
            tip = self._commit(author, when, f"{title}\n\n{rng.choice(NOTES)}\n", [tip], changes, ref="refs/heads/review")
        merged_at = max(self.main[-1][1] + 60, when + rng.randint(1800, 2 * DAY))
        # After the gate every merge request with a high-impact record is approved; before it,
        # half of them were; of the others, most are.
        high = any(r.high for r in recs)
        approved = (merged_at >= _epoch(GATE) or rng.random() < 0.5) if high else rng.random() < 0.6
        signers = list(dict.fromkeys(rng.choice([a for a in self.approvers[r.service] if a != author]) for r in recs)) if approved else []
        if approved and high:
            signers += [h for h in self.leads if h != author and h not in signers]
        self.counts["merge_requests"] += 1
        iid = self.counts["merge_requests"]
        what = recs[0].steps[events[0][2]].what.split(";")[0]
        branch = f"{recs[0].rid.lower()}-{re.sub(r'[^a-z0-9]+', '-', what.lower()).strip('-')}"
        trailers = "".join(f"Approved-by: {self.people[h][0]} <{self.people[h][1]}>\n" for h in signers)
        message = f"Merge branch '{branch}' into 'main'\n\n{'; '.join(titles)}\n\nSee merge request {PROJECT}!{iid}\n"
        if trailers:
            message += "\n" + trailers
            self.counts["approved_merge_requests"] += 1
        merger = signers[0] if signers else MAINTAINER
        self.main.append((self._commit(merger, merged_at, message, [self.main[-1][0], tip], merged), merged_at))


if __name__ == "__main__":
    if sys.argv[1] == "--repo":  # synth.py --repo DEST N: the KB with its git history
        make_repo(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        make_kb(Path(sys.argv[1]), int(sys.argv[2]), dirty=float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
