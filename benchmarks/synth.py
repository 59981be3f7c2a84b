"""Generate a synthetic KB of N records with realistic front-matter and bodies.

The records are consistent (links both ways, status rules met), so `kedb check` does the full
work of a clean run. Program data is copied from the repository's own content/.
"""

from __future__ import annotations

import random
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

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
MATRIX = {
    "high": {"high": "P1", "medium": "P2", "low": "P2"},
    "medium": {"high": "P2", "medium": "P2", "low": "P3"},
    "low": {"high": "P3", "medium": "P3", "low": "P3"},
}


def _sentence(rng: random.Random, n: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _para(rng: random.Random, sentences: int = 4) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def make_kb(dest: Path, n: int, seed: int = 7, dirty: float = 0.0) -> Path:
    """Write a KB with ``n`` records (60 % known errors, 25 % workarounds, 15 % problems).

    With ``dirty`` > 0, that share of the records is then broken in one or two of the ways in
    ``_BREAKAGES`` (for tests that compare ways of reading a KB full of findings)."""
    rng = random.Random(seed)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(REPO / "content", dest / "content")
    out = dest / "known_errors"
    out.mkdir(parents=True)
    n_wa, n_prb = n * 25 // 100, n * 15 // 100
    n_ke = n - n_wa - n_prb
    for i in range(1, n_ke + 1):
        svc = SERVICES[i % len(SERVICES)]
        impact, urgency = rng.choice(["low", "medium"]), rng.choice(["low", "medium", "high"])
        has_wa, has_prb = i <= n_wa, i <= n_prb
        status = "published" if has_wa else rng.choice(["draft", "in-review"])
        code = rng.choice(CODES)
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
            "risk_tags: []",
            f"problem: {f'PRB-{i:05d}' if has_prb else 'null'}",
            f"workarounds: [{f'WA-{i:05d}' if has_wa else ''}]",
            "fix:",
            "  status: none",
            f"tickets: [INC{i:07d}]",
            "---",
            "",
        ]
        body = "\n\n".join(f"## {s}\n\n{_para(rng)}" for s in ("Symptoms", "Cause", "Workaround", "Permanent fix", "Reply to customer"))
        (out / f"KE-{i:05d}-synthetic.md").write_text("\n".join(fm) + body + "\n", encoding="utf-8")
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
        (out / f"WA-{i:05d}-synthetic.md").write_text("\n".join(fm) + body, encoding="utf-8")
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
        (out / f"PRB-{i:05d}-synthetic.md").write_text("\n".join(fm) + f"## Problem statement\n\n{_para(rng, 6)}\n", encoding="utf-8")
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


if __name__ == "__main__":
    make_kb(Path(sys.argv[1]), int(sys.argv[2]), dirty=float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
