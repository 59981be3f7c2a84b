"""Where kedb's own files are: the package folder and the templates it ships with.

A KB may carry its own ``templates/`` folder; every lookup tries the KB's file first and the
shipped one second, so a team overrides one template without copying the rest.
"""

from __future__ import annotations

from pathlib import Path

from .errors import EnvironmentProblem

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # generators/kedb in a checkout, kedb/ in a wheel


def shipped_templates() -> Path:
    """``templates/`` shipped with kedb (wheel: ``kedb/templates``; checkout: the repository's)."""
    for cand in (PACKAGE_DIR / "templates", PACKAGE_DIR.parents[1] / "templates"):
        if (cand / "site").is_dir():
            return cand
    raise EnvironmentProblem("no templates/ folder found in the kedb installation")


def template_dirs(root: Path, part: str) -> list[Path]:
    """``templates/<part>`` of the KB first (when it has one), then the shipped one."""
    dirs = [root / "templates" / part]
    try:
        dirs.append(shipped_templates() / part)
    except EnvironmentProblem:  # a KB that carries its own templates still works
        if not dirs[0].is_dir():
            raise
    out: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def find_template(root: Path, name: str) -> Path:
    """``templates/<name>`` (e.g. ``site/mkdocs.yml``): the KB's own file if it has one, else kedb's."""
    part, _, leaf = name.rpartition("/")
    for d in template_dirs(root, part):
        if (d / leaf).is_file():
            return d / leaf
    raise EnvironmentProblem(f"templates/{name} was not found in the KB or in the kedb installation")
