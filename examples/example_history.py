"""Build the bundled example KB as a repository with the history of a KB in use.

This repository is both kedb's development repository and the example KB (``content/``,
``known_errors/``, ``templates/``). Its own history is kedb's development: one commit imported the
example records before the approval gate, and no merge request of a record was ever approved
(see generators/DESIGN.md, "This repository's own history is not approved"). So the site and the
artefacts built here can only show "before the approval gate" and "no approval needed".

This script shows what a KB in use looks like without bending that history: it copies the
example's files (as they are in the working tree) into a new repository and writes a history the
approval gate can judge:

1. the import, the day before ``approvals_since`` (content/kedb.yml), by a KB maintainer, with
   the records that the merge requests below publish still ``in-review``;
2. one merge request per high-impact known error it publishes (up to :data:`HIGH_IMPACT`), each a
   commit by the record's owner on a branch, merged with ``--no-ff`` after the gate started by an
   approver of the record's service named in ``content/roles.yml`` who did not write it, the merge
   commit carrying GitLab's ``See merge request`` line and an ``Approved-by:`` trailer; a P1 or
   risk-tagged known error's customer reply is published with it, so the holder of each role that
   approves the reply (``kedb.core.gate.reply_roles``: the incident lead) approves it too;
3. one merge request that publishes a known error that is not high-impact (no approval needed).

The last commit's files are byte for byte the example's, so every source hash matches this
repository. Dates, names and e-mail addresses are fixed (from content/), and nothing is signed, so
the same files always give the same commits and therefore the same site and artefacts. A signed
approval is not part of it: a signature needs a private key, and a key committed here would be
no evidence of anything (tests/test_signatures.py covers signed mode with keys made per run).

    python examples/example_history.py .kedb/example      # then: kedb --root .kedb/example build

``make build`` runs both after building this repository itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PARTS = ("content", "known_errors", "templates")
FILES = ("mkdocs.yml",)
HIGH_IMPACT = 4  # merge requests that publish a high-impact known error
PROJECT = "northwind/kedb"  # the merge-request reference prefix GitLab writes


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    @property
    def trailer(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class Change:
    """One merge request: the records it publishes, who wrote it and who approved it."""

    known_error: str
    records: tuple[str, ...]  # paths under known_errors/ that it moves from in-review to published
    title: str
    author: Person
    approvers: tuple[Person, ...]  # the service's approver, then the reply's; none: not high-impact


def _git(root: Path, *args: str, when: datetime | None = None, author: Person | None = None, committer: Person | None = None) -> str:
    env = {
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "HOME": str(root),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "LC_ALL": "C",
        "TZ": "UTC",
    }
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    for prefix, who in (("AUTHOR", author), ("COMMITTER", committer or author)):
        if who is not None:
            env[f"GIT_{prefix}_NAME"], env[f"GIT_{prefix}_EMAIL"] = who.name, who.email
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args], cwd=root, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {root}: {done.stderr.strip()}")
    return done.stdout


def _copy(src: Path, dest: Path) -> None:
    for part in PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, dest / name)


def plan(src: Path) -> tuple[date, Person, list[Change]]:
    """The gate date, the maintainer who imports, and the merge requests, from the example's own content."""
    sys.path.insert(0, str(REPO / "generators"))
    from kedb.core.gate import reply_roles
    from kedb.core.load.loader import load
    from kedb.core.records import KnownError

    kb, _ = load(src, use_cache=False)
    program = kb.program
    settings = program.settings
    if settings is None or settings.approvals_since is None or program.roles is None:
        raise SystemExit("the example needs content/kedb.yml with approvals_since and content/roles.yml")
    people = {p.handle: Person(p.name, p.email or f"{p.handle}@example.invalid") for p in program.roles.people}
    maintainer = people[program.roles.maintainers[0]]
    changes: list[Change] = []
    plain: Change | None = None
    for ke in sorted(kb.known_errors, key=lambda r: r.id):
        m = ke.meta
        if m.status != "published" or not isinstance(m, KnownError) or m.data_sensitivity == "confidential":
            continue  # a confidential record is never rendered: its approval would show nowhere
        was = [kb.records[w] for w in m.workarounds if w in kb.records and kb.records[w].meta.status == "published"]
        paths = (ke.source.path, *(w.source.path for w in was))
        author = people.get(m.owner)
        if author is None:
            continue
        if program.is_high_impact(m):
            approvers = [people[h] for h in program.approvers(m.service) if h in people and people[h] != author]
            if approvers and len(changes) < HIGH_IMPACT:
                chosen = approvers[:1]
                for role in reply_roles(m.priority, m.risk_tags, program.triage.risk_tags if program.triage else ()):
                    holders = [people[p.handle] for p in program.roles.people if role in p.roles and people[p.handle] != author]
                    if holders and not set(holders) & set(chosen):  # one holder of each role, unless one is already chosen
                        chosen.append(holders[0])
                changes.append(Change(ke.id, paths, m.title, author, tuple(chosen)))
        elif plain is None:
            plain = Change(ke.id, paths, m.title, author, ())
    if plain is not None:
        changes.append(plain)
    return settings.approvals_since, maintainer, changes


_STATUS = re.compile(r"(?m)^status: published$")


def build(dest: Path, src: Path = REPO) -> Path:
    """Write the example repository at ``dest`` (replaced if it exists); returns ``dest``."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    _copy(src, dest)
    gate, maintainer, changes = plan(dest)
    finals = {path: (dest / path).read_bytes() for c in changes for path in c.records}
    for path in finals:
        text = (dest / path).read_text(encoding="utf-8")
        (dest / path).write_text(_STATUS.sub("status: in-review", text, count=1), encoding="utf-8")
    day = datetime.combine(gate, time(9, 0), tzinfo=timezone.utc)  # noqa: UP017 - a date, not "now"
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "Import the example knowledge base\n\nRecords, program data and templates as the desk "
         "wrote them before the approval gate started.", when=day - timedelta(days=1), author=maintainer)  # fmt: skip
    for n, c in enumerate(changes, start=1):
        branch = f"publish-{c.known_error.lower()}"
        opened = day + timedelta(days=n - 1)
        _git(dest, "checkout", "-q", "-b", branch)
        for path in c.records:
            (dest / path).write_bytes(finals[path])
        _git(dest, "add", "-A")
        ids = ", ".join(Path(p).name.split("-", 2)[0] + "-" + Path(p).name.split("-", 2)[1] for p in c.records)
        _git(dest, "commit", "-q", "-m", f"{c.known_error}: publish after verification\n\nPublishes {ids}: the workaround was "
             "followed on live tickets and the rollback checked.", when=opened, author=c.author)  # fmt: skip
        _git(dest, "checkout", "-q", "main")
        message = f"Merge branch '{branch}' into 'main'\n\nPublish {c.known_error} {c.title}\n\nSee merge request {PROJECT}!{n}"
        if c.approvers:
            message += "\n\n" + "\n".join(f"Approved-by: {a.trailer}" for a in c.approvers)
        merger = c.approvers[0] if c.approvers else maintainer
        _git(dest, "merge", "-q", "--no-ff", "-m", message, branch, when=opened + timedelta(hours=6), author=merger)
        _git(dest, "branch", "-q", "-d", branch)
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python examples/example_history.py DEST")
    print(build(Path(sys.argv[1])))
