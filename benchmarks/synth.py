"""Generate a synthetic KB of N records with realistic front-matter and bodies.

The records are consistent (links both ways, status rules met), so `kedb check` does the full
work of a clean run. Program data is copied from the repository's own content/.
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVICES = ["m365-identity", "m365-mail", "remote-access", "windows-endpoint", "printing", "backup-recovery", "rmm-monitoring", "lob-apps"]
OWNERS = ["dana.okafor", "marek.novak", "priya.raman", "tom.becker", "lena.fischer", "sam.adeyemi", "jo.mcallister"]
CODES = ["0x80070005", "AADSTS50076", "KB5034441", "0x800f0922", "0x8024402c", "Event ID 7031", "0x800423f4", "ERR_SSL_PROTOCOL_ERROR"]
WORDS = ["outlook", "sign-in", "prompt", "loop", "printer", "queue", "spooler", "driver", "vpn", "dns", "split", "tunnel", "update", "rollback", "backup", "snapshot", "writer", "agent", "offline", "certificate", "expired", "handshake", "mailbox", "profile", "cache", "token", "policy", "device"]
MATRIX = {"high": {"high": "P1", "medium": "P2", "low": "P2"}, "medium": {"high": "P2", "medium": "P2", "low": "P3"},
          "low": {"high": "P3", "medium": "P3", "low": "P3"}}


def _sentence(rng: random.Random, n: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _para(rng: random.Random, sentences: int = 4) -> str:
    return " ".join(_sentence(rng) for _ in range(sentences))


def make_kb(dest: Path, n: int, seed: int = 7) -> Path:
    """Write a KB with ``n`` records (60 % known errors, 25 % workarounds, 15 % problems)."""
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
            "---", f"id: KE-{i:05d}", f"title: Synthetic known error {i} {rng.choice(WORDS)} {rng.choice(WORDS)}",
            f"status: {status}", f"service: {svc}", f"owner: {rng.choice(OWNERS)}", "created: 2026-03-01",
            "review_by: 2027-09-01", f"tags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]", "data_sensitivity: internal",
            "tenants: []", "symptoms:", f"  - {_sentence(rng, 8)}", f"  - '{code} when the user {rng.choice(WORDS)}s'",
            f"  - {_sentence(rng, 6)}", f"error_codes: ['{code}']", f"symptom_signature: {svc}:synthetic:{i}",
            "affected:", "  products: [Microsoft 365 Apps]", "  versions: ['2308']", f"impact: {impact}", f"urgency: {urgency}",
            f"priority: {MATRIX[impact][urgency]}", "risk_tags: []", f"problem: {f'PRB-{i:05d}' if has_prb else 'null'}",
            f"workarounds: [{f'WA-{i:05d}' if has_wa else ''}]", "fix:", "  status: none", f"tickets: [INC{i:07d}]", "---", "",
        ]
        body = "\n\n".join(f"## {s}\n\n{_para(rng)}" for s in ("Symptoms", "Cause", "Workaround", "Permanent fix", "Reply to customer"))
        (out / f"KE-{i:05d}-synthetic.md").write_text("\n".join(fm) + body + "\n", encoding="utf-8")
    for i in range(1, n_wa + 1):
        fm = [
            "---", f"id: WA-{i:05d}", f"title: Synthetic workaround {i}", "status: published", f"service: {SERVICES[i % len(SERVICES)]}",
            f"owner: {rng.choice(OWNERS)}", "created: 2026-03-01", "review_by: 2027-09-01", f"applies_to: [KE-{i:05d}]",
            "risk: medium", "verified_by: tom.becker", "verified_on: 2026-04-01", "success_rate: 0.9", "---", "",
        ]
        steps = "\n".join(f"{k}. {_sentence(rng, 9)}" for k in range(1, 7))
        body = f"## Steps\n\n{steps}\n\n## Rollback\n\n1. {_sentence(rng)}\n2. {_sentence(rng)}\n"
        (out / f"WA-{i:05d}-synthetic.md").write_text("\n".join(fm) + body, encoding="utf-8")
    for i in range(1, n_prb + 1):
        fm = [
            "---", f"id: PRB-{i:05d}", f"title: Synthetic problem {i}", "status: root-cause-identified", f"service: {SERVICES[i % len(SERVICES)]}",
            f"owner: {rng.choice(OWNERS)}", "created: 2026-03-01", "review_by: 2027-09-01", "opened: 2026-03-01",
            "root_cause_identified: 2026-03-20", f"root_cause: {_sentence(rng)}", "method: [5-whys]", "impact: medium",
            f"known_errors: [KE-{i:05d}]", "trigger:", "  tickets: 7", "  window_days: 30", "---", "",
        ]
        (out / f"PRB-{i:05d}-synthetic.md").write_text("\n".join(fm) + f"## Problem statement\n\n{_para(rng, 6)}\n", encoding="utf-8")
    return dest


if __name__ == "__main__":
    make_kb(Path(sys.argv[1]), int(sys.argv[2]))
