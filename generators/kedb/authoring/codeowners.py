"""``kedb codeowners``: CODEOWNERS for GitLab or GitHub, written from ``content/roles.yml``.

The file gives the same answer as the gate (:mod:`kedb.core.gate`): a record file belongs to the
approvers of its service, every other path to the maintainers.

1. ``* <maintainers>``: a catch-all, so every path (``content/``, the generators, CI, build
   files, tests, anything at the root or added later) needs a maintainer.
2. The record files: any ``KE-*.md``, ``WA-*.md`` or ``PRB-*.md`` under ``known_errors/`` falls
   back to every approver (a record added since the file was written), then one line per record
   for the approvers of its service (records are not in per-service folders; CI runs
   ``kedb codeowners --check`` and fails when the file is stale). Another file under
   ``known_errors/`` stays with the maintainers, as the gate says.
3. The maintainers' paths again, CODEOWNERS itself last: redundant with the catch-all, kept as
   the explicit list of what holds the policy, the validator and CI, so they stay with the
   maintainers whatever line is added above them.

Both platforms use the *last* matching line, so the specific lines come after the catch-all.
GitLab does so only within a section: each ``[Section]`` is judged on its own and the owners of
*every* section that matches a path must approve, entries above the first section counting as
one more section. A catch-all in a section of its own (or above the first section) would make
every record need a maintainer too, so the file has no sections on either platform: one list,
last match wins.

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
# Record files, wherever under known_errors/ (GitHub has no character ranges, so no [0-9]).
RECORD_PATTERNS = tuple(f"/known_errors/**/{prefix}-*.md" for prefix in ("KE", "WA", "PRB"))
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
    "/hatch.toml",
    "/hatch_build.py",
    "/setup.py",
    "/README.md",
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
    fallback = " ".join(all_approvers) or maint  # an ownerless line would leave a record unowned
    lines = [
        "# Written by `kedb codeowners` from content/roles.yml; do not edit by hand.",
        "# Regenerate after adding records or changing approvers: kedb codeowners --platform " + platform,
        "# The last matching line wins, so the record lines come after the catch-all (no sections: in GitLab",
        "# every matching section's owners would be required).",
        "",
        "# Everything: the KB maintainers",
        f"* {maint}",
        "",
        "# Known errors: each record is owned by the approvers of its service",
    ]
    lines += [f"{p} {fallback}" for p in RECORD_PATTERNS]
    for rec in kb.records.values():
        owners = sorted({_owner(kb, h) for h in prog.approvers(rec.meta.service)})
        lines.append(f"/{rec.source.path} {' '.join(owners) or fallback}")
    lines.append("")
    lines.append("# Policy, validator, CI and build files: the KB maintainers (also covered by the catch-all)")
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


def refresh(before: KB, after: KB) -> Path | None:
    """After ``kedb new``: the CODEOWNERS file that was up to date for ``before`` is rewritten for
    ``after`` (the new record's line added), so the merge request passes ``kedb codeowners
    --check``. A file that was stale, or none, is left alone; the platform is the one whose
    rendering the file matched."""
    for platform, order in LOCATIONS.items():
        target = next((t for t in order if (before.root / t).is_file()), None)
        if target is None:
            continue
        path = before.root / target
        if path.read_text(encoding="utf-8") != render(before, platform, target):
            continue
        text = render(after, platform, target)
        if text != render(before, platform, target):
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            return path
        return None
    return None
