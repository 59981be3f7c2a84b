"""``kedb init``: a new team's KB repository, valid from its first commit.

What it writes (every path is listed before anything is written; an existing file stops it unless
``--force``):

- ``content/``: ``kedb.yml`` (the team's name, the gate starting today), one service, the roles
  with the team's maintainer (also the service's approver and owner until the team adds people),
  and the example program's triage, escalation, recurrence, progression, KPI, risk and rhythm
  files, *moved to today*: every date shifts by the days between the example's gate start and
  today, every person of the example becomes the maintainer, KPI baselines are left for the
  team's first month to set;
- ``known_errors/`` (empty, kept with a ``.gitkeep``), ``mkdocs.yml`` (the example's, with the
  team's name), ``.gitignore``, ``requirements.txt`` pinning this kedb, a pre-commit hook, the CI
  file of the chosen platform (:data:`CI_FILES`), CODEOWNERS (``kedb codeowners``) and a README
  for the team;
- with ``--example``: the bundled example records, playbooks and stored figures as well (the
  example's own people and services then come with them).

The example is this repository's own ``known_errors/``, ``content/`` and ``mkdocs.yml``: a
checkout reads them in place and the wheel carries them as ``kedb/example/`` (one copy, see
``pyproject.toml``). Nothing is written until every file is rendered and checked, and each file
goes in through a temporary name.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..core.errors import EnvironmentProblem, UsageError
from ..core.load.loader import load
from ..core.resources import PACKAGE_DIR, shipped_templates
from .codeowners import LOCATIONS, render

PLATFORMS = ("gitlab", "github")
CI_FILES = {"gitlab": ".gitlab-ci.yml", "github": ".github/workflows/kb.yml"}
# The program files a new KB starts from: the example's, moved to today (see the module docstring).
PROGRAM = ("triage.yml", "escalation.yml", "recurrence.yml", "progression.yml", "kpis.yml", "risks.yml", "rhythm.yml")
_HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def example_dir() -> Path:
    """The bundled example KB: ``kedb/example`` in a wheel, the repository root in a checkout."""
    for cand in (PACKAGE_DIR / "example", PACKAGE_DIR.parents[1]):
        if (cand / "content" / "kedb.yml").is_file() and (cand / "known_errors").is_dir():
            return cand
    raise EnvironmentProblem("the bundled example KB is missing from this kedb installation (reinstall kedb)")


@dataclass(frozen=True)
class Team:
    name: str  # the KB's name
    organisation: str
    maintainer_name: str
    maintainer_email: str
    handle: str
    service_id: str
    service_name: str


@dataclass(frozen=True)
class Plan:
    root: Path
    files: dict[str, bytes]  # path relative to root -> bytes
    existing: tuple[str, ...]  # of those, the ones already there


def _git_identity(root: Path) -> tuple[str, str]:
    def get(key: str) -> str:
        try:
            out = subprocess.run(["git", "config", "--get", key], cwd=root if root.is_dir() else None, capture_output=True, text=True)
        except OSError:
            return ""
        return out.stdout.strip()

    return get("user.name"), get("user.email")


def team_from(
    root: Path,
    name: str | None,
    organisation: str | None,
    maintainer: str | None,
    service: str | None,
) -> Team:
    """The team's details from the options, else from git's user settings and the folder name."""
    if maintainer:
        m = re.fullmatch(r"\s*([^<>]+?)\s*<([^<>\s]+@[^<>\s]+)>\s*", maintainer)
        if not m:
            raise UsageError(f"--maintainer takes 'Full Name <email>' (got {maintainer!r})")
        person, email = m.group(1), m.group(2)
    else:
        person, email = _git_identity(root)
        if not person or not email:
            raise UsageError(
                "kedb init names the KB's first maintainer from git (user.name and user.email are not set): "
                "pass --maintainer 'Full Name <email>' or run `git config --global user.name …` and `user.email …`"
            )
    handle = re.sub(r"[^a-z0-9._-]+", ".", person.lower()).strip(".-_") or "maintainer"
    if not _HANDLE.match(handle):
        handle = "maintainer"
    title = root.resolve().name.replace("-", " ").replace("_", " ").strip() or "Team"
    kb_name = name or f"{title[:1].upper()}{title[1:]} known-error database"
    service_id = service or "service-desk"
    if not _SLUG.match(service_id):
        raise UsageError(f"--service takes an id of lower-case letters, digits and '-' (got {service_id!r})")
    return Team(
        name=kb_name,
        organisation=organisation or kb_name,
        maintainer_name=person,
        maintainer_email=email,
        handle=handle,
        service_id=service_id,
        service_name=service_id.replace("-", " ").capitalize(),
    )


def _load(path: Path) -> Any:
    """A bundled example file, with YAML's own types (numbers, dates): kedb's own file, which the
    strict reader has passed in its tests; the new KB is checked again before anything is written."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EnvironmentProblem(f"the bundled example file {path} cannot be read ({exc}); reinstall kedb") from exc


def _dump(header: str, data: Any) -> str:
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    return "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + body


def _moved(value: Any, shift: timedelta, people: set[str], handle: str) -> Any:
    """The example's program data moved to the new team: dates shifted, every person the maintainer."""
    if isinstance(value, dict):  # a KPI's baseline is the team's own first month, not the example's
        return {k: _moved(v, shift, people, handle) for k, v in value.items() if k != "baseline" or isinstance(v, dict)}
    if isinstance(value, list):
        out = [_moved(v, shift, people, handle) for v in value]
        return list(dict.fromkeys(out)) if all(isinstance(v, str) for v in out) else out
    if isinstance(value, date):
        return value + shift
    if isinstance(value, str) and value in people:
        return handle
    return value


def _program(example: Path, team: Team, today: date) -> dict[str, str]:
    """content/*.yml for the new KB."""
    ex_settings = _load(example / "content" / "kedb.yml")
    start = ex_settings.get("approvals_since")
    shift = today - start if isinstance(start, date) else timedelta(0)
    roles = _load(example / "content" / "roles.yml")
    people = {p["handle"] for p in roles.get("people", [])}
    role_ids = [r["id"] for r in roles.get("roles", [])]
    out: dict[str, str] = {}
    settings = {
        "name": team.name,
        "organisation": team.organisation,
        "default_audience": "internal",
        "tenants": [],
        "allowlist": {"emails": [], "phones": []},
        "limits": ex_settings.get("limits", {}),
        "approvals_since": today,
        "high_impact": ex_settings.get("high_impact", {}),
        "kedb_version": __version__,
    }
    out["content/kedb.yml"] = _dump(
        "Settings of the knowledge base. approvals_since is the day the approval gate started:\n"
        "every later change to a high-impact record needs an approver's Approved-by: trailer.",
        settings,
    )
    out["content/services.yml"] = _dump(
        "The services records are filed against. Add one entry per service the desk supports.",
        {
            "services": [
                {
                    "id": team.service_id,
                    "name": team.service_name,
                    "description": "Everything the service desk supports until it is split into services.",
                    "category": "Service desk",
                }
            ]
        },
    )
    me = {"handle": team.handle, "name": team.maintainer_name, "email": team.maintainer_email}
    holds = [r for r in ("kb-maintainer", "approver", "primary-owner", "problem-manager", "incident-lead") if r in role_ids]
    out["content/roles.yml"] = _dump(
        "Roles, people, maintainers and who owns and approves each service. The first maintainer also\n"
        "approves for now: add the team's approvers (an approver may not approve their own change).",
        {
            "roles": roles.get("roles", []),
            "people": [{**me, "roles": holds}],
            "maintainers": [team.handle],
            "assignments": [
                {"service": team.service_id, "primary_owner": team.handle, "approvers": [team.handle], "support_owner": team.handle}
            ],
        },
    )
    for name in PROGRAM:
        src = example / "content" / name
        if not src.is_file():
            continue
        data = _moved(_load(src), shift, people, team.handle)
        if name == "kpis.yml":
            month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
            data["checkpoints"] = {"baseline": month, "week4": today + timedelta(days=28), "week8": today + timedelta(days=56)}
        out[f"content/{name}"] = _dump(
            f"From the kedb example program, moved to {today.isoformat()}: adapt it to the team's own.\n"
            "`kedb check` says what each field must hold.",
            data,
        )
    return out


def _mkdocs(example: Path, team: Team) -> str:
    text = (example / "mkdocs.yml").read_text(encoding="utf-8")
    name = team.name.replace('"', "'")
    return re.sub(r"(?m)^site_name: .*$", lambda _: f'site_name: "{name}"', text, count=1)


def _copy_tree(src: Path, prefix: str, files: dict[str, bytes]) -> None:
    for path in sorted(src.rglob("*")):
        if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
            files[f"{prefix}/{path.relative_to(src).as_posix()}"] = path.read_bytes()


Verify = Callable[[Path], list[str]]  # a KB folder -> its findings that fail `kedb check --strict`


def plan(root: Path, team: Team, platform: str, *, example: bool, today: date, verify: Verify) -> Plan:
    """Every file ``kedb init`` writes, rendered and checked (``verify``); nothing is written."""
    if platform not in PLATFORMS:
        raise UsageError(f"unknown platform '{platform}'; choose gitlab or github")
    ex = example_dir()
    init = shipped_templates() / "init"
    files: dict[str, bytes] = {}
    if example:
        _copy_tree(ex / "content", "content", files)
        _copy_tree(ex / "known_errors", "known_errors", files)
        files["content/kedb.yml"] = (ex / "content" / "kedb.yml").read_bytes()
    else:
        files.update({k: v.encode() for k, v in _program(ex, team, today).items()})
        files["known_errors/.gitkeep"] = b""
    files["mkdocs.yml"] = _mkdocs(ex, team).encode()
    values = {
        "name": team.name,
        "version": __version__,
        "platform": platform,
        "service": team.service_id,
        "ci_file": CI_FILES[platform],
        "maintainer": team.maintainer_name,
    }
    for src, dst in (
        ("gitignore", ".gitignore"),
        ("requirements.txt", "requirements.txt"),
        ("pre-commit-config.yaml", ".pre-commit-config.yaml"),
        ("README.md", "README.md"),
        (f"ci-{platform}.yml", CI_FILES[platform]),
    ):
        text = (init / src).read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{{ " + key + " }}", value)
        files[dst] = text.encode()
    files[LOCATIONS[platform][0]] = _checked(files, platform, verify).encode()
    existing = tuple(sorted(p for p in files if (root / p).exists() or (root / p).is_symlink()))
    return Plan(root, files, existing)


def _checked(files: dict[str, bytes], platform: str, verify: Verify) -> str:
    """Check the planned KB in a scratch folder with ``verify`` (the CLI passes ``kedb check
    --strict``); its CODEOWNERS. A finding here is kedb's own fault: nothing is written and the
    user is asked to report it."""
    with tempfile.TemporaryDirectory(prefix="kedb-init-") as tmp:
        scratch = Path(tmp)
        for rel, data in files.items():
            (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
            (scratch / rel).write_bytes(data)
        problems = verify(scratch)
        if problems:
            detail = "; ".join(problems[:5])
            raise EnvironmentProblem(
                f"kedb init made a KB that fails `kedb check --strict` ({detail}); nothing was written; please report this"
            )
        kb, _ = load(scratch, use_cache=False)
        return render(kb, platform, LOCATIONS[platform][0])


def write(p: Plan, *, force: bool) -> list[str]:
    """Write the plan (each file through a temporary name); refuses to overwrite unless ``force``."""
    if p.existing and not force:
        shown = "\n".join(f"  {x}" for x in p.existing)
        raise UsageError(
            f"kedb init would overwrite {len(p.existing)} existing file(s); nothing was written:\n{shown}\n(--force overwrites them)"
        )
    p.root.mkdir(parents=True, exist_ok=True)
    for rel, data in p.files.items():
        path = p.root / rel
        if path.is_symlink():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.kedb-init")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return sorted(p.files)
