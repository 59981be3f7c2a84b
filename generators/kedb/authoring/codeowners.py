"""``kedb codeowners``: CODEOWNERS for GitLab or GitHub, written from ``content/roles.yml``.

- Each record file is owned by the approvers of its service (records are not in per-service
  folders, so every file gets its own line; run it again when records are added: CI runs
  ``kedb codeowners --check`` and fails when the file is stale). New record files that are not
  listed yet fall back to every approver.
- ``content/`` (the policy: approvers, thresholds), ``generators/`` (the validator), CI files,
  templates and CODEOWNERS itself are owned by the maintainers, so a merge request cannot weaken
  the checks or the approver list unnoticed.

Both platforms use the *last* matching line, so the specific lines come after the fallbacks.
Each platform reads one CODEOWNERS file, the first it finds in its own order; a file in an
earlier location would silently win over ours, so it is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.errors import UsageError
from ..core.kb import KB

# The order each platform looks for the file in; the first one found is used.
LOCATIONS: dict[str, tuple[str, ...]] = {
    "gitlab": ("CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"),
    "github": (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"),
}
POLICY_PATHS = (
    "/content/",
    "/generators/",
    "/templates/",
    "/tests/",
    "/mkdocs.yml",
    "/pyproject.toml",
    "/Makefile",
    "/.ci/",
    "/.gitlab-ci.yml",
    "/.github/",
    "/.gitlab/",
    "/.pre-commit-hooks.yaml",
)


@dataclass(frozen=True)
class Result:
    path: Path
    text: str
    warnings: tuple[str, ...]


def _owner(kb: KB, handle: str) -> str:
    p = kb.program.people.get(handle)
    if p is None:
        return handle
    if p.username:
        return f"@{p.username}"
    if p.email:
        return p.email
    raise UsageError(f"{handle} has neither a username nor an email in content/roles.yml, so CODEOWNERS cannot name them")


def render(kb: KB, platform: str, target: str) -> str:
    prog = kb.program
    roles = prog.roles
    if roles is None:
        raise UsageError("content/roles.yml did not load; fix `kedb check` first")
    all_approvers = sorted({_owner(kb, h) for a in roles.assignments for h in a.approvers})
    maint = " ".join(sorted({_owner(kb, h) for h in roles.maintainers}))
    lines = [
        "# Written by `kedb codeowners` from content/roles.yml; do not edit by hand.",
        "# Regenerate after adding records or changing approvers: kedb codeowners --platform " + platform,
        "",
    ]
    lines.append("[Known errors]" if platform == "gitlab" else "# Known errors: each record is owned by the approvers of its service")
    lines.append(f"/known_errors/ {' '.join(all_approvers)}")
    for rec in kb.records.values():
        owners = sorted({_owner(kb, h) for h in prog.approvers(rec.meta.service)}) or all_approvers
        lines.append(f"/{rec.source.path} {' '.join(owners)}")
    lines.append("")
    lines.append("[Policy and validator]" if platform == "gitlab" else "# Policy, validator and CI: owned by the KB maintainers")
    for p in POLICY_PATHS:
        lines.append(f"{p} {maint}")
    lines.append(f"/{target} {maint}")
    return "\n".join(lines) + "\n"


def write(kb: KB, platform: str, output: str | None = None, *, check_only: bool = False) -> Result:
    if platform not in LOCATIONS:
        raise UsageError(f"unknown platform '{platform}'; choose gitlab or github")
    order = LOCATIONS[platform]
    target = output or order[0]
    if Path(target).is_absolute() or ".." in Path(target).parts:
        raise UsageError(f"--output must be a path inside the repository, relative to its root (got {target})")
    target = Path(target).as_posix()
    text = render(kb, platform, target)
    path = kb.root / target
    warnings: list[str] = []
    if target in order:
        for earlier in order[: order.index(target)]:
            if (kb.root / earlier).exists():
                warnings.append(f"{earlier} exists and {platform} reads it before {target}: {target} will be ignored; remove {earlier}")
        for later in order[order.index(target) + 1 :]:
            if (kb.root / later).exists():
                warnings.append(f"{later} also exists; {platform} ignores it because {target} comes first; remove it to avoid confusion")
    else:
        warnings.append(f"{platform} does not read CODEOWNERS from {target}; it reads {', '.join(order)} (first found wins)")
    if check_only:
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            raise StaleCodeowners(
                f"{target} is {'missing' if current is None else 'out of date'}; run `kedb codeowners --platform {platform}`"
            )
        return Result(path, text, tuple(warnings))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return Result(path, text, tuple(warnings))


class StaleCodeowners(UsageError):
    exit_code = 1
