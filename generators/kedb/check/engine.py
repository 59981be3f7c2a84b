"""KE901: the KB would be built by a site engine that does not run kedb's plugin.

The site's record pages, indexes, feeds and downloads all come from the ``kedb`` plugin. MkDocs
1.x and ProperDocs run it; MkDocs 2 has no plugins and Zensical reads ``mkdocs.yml`` but ignores
the plugin, so either publishes a KB without a single known error, and says "no issues". Nothing
in the build would notice, so ``kedb check`` looks for the signs that such an engine is in use:

- ``mkdocs.yml`` without the ``kedb`` plugin (every engine then builds no records);
- a ``zensical.toml`` next to it;
- ``zensical`` or MkDocs 2 among the requirements (``requirements*.txt``, ``pyproject.toml``),
  unless a CI file builds the site with ``kedb build --engine zensical`` (which needs Zensical
  installed and gives it every page kedb renders, :mod:`kedb.site.zensical`); ``kedb[zensical]``
  is kedb's own extra for that, and kedb's own ``pyproject.toml`` declares it;
- a CI file that runs ``zensical build``.

Each is a warning at its line; ``kedb build`` always renders every page, through the plugin or
for Zensical.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import yaml

from ..core.findings import Finding

CODE = "KE901"
USE = (
    "build the site with `kedb build` (MkDocs 1.6 or ProperDocs run kedb's plugin; `kedb build --engine zensical` "
    "gives Zensical every page; see README, 'The site engine')"
)
_ZENSICAL_DEP = re.compile(r"(?i)(?<![\w-])zensical(?![\w-])\s*([<>=~!]=?|\[|$|\s|\"|')")
_MKDOCS2 = re.compile(r"(?i)(?<![\w-])mkdocs\s*(==|>=|~=)\s*2(\b|\.)")
_ZENSICAL_RUN = re.compile(r"(?<![\w-])zensical\s+(build|serve)\b")
_KEDB_ZENSICAL = re.compile(r"(?<![\w-])kedb\b[^\n#]*\sbuild\b[^\n#]*--engine[= ]zensical\b")


class _Lenient(yaml.SafeLoader):
    """mkdocs.yml may hold tags (``!ENV``, ``!!python/name:``): read them as plain values."""


_Lenient.add_multi_constructor("", lambda loader, suffix, node: None)  # type: ignore[no-untyped-call]
_Lenient.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)  # type: ignore[no-untyped-call]


def _line_of(text: str, pattern: re.Pattern[str]) -> int | None:
    for n, line in enumerate(text.splitlines(), 1):
        if pattern.search(line.split("#", 1)[0]):
            return n
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() and not path.is_symlink() else None
    except (OSError, UnicodeDecodeError):
        return None


def _plugins(text: str) -> list[str] | None:
    try:
        data = yaml.load(text, Loader=_Lenient)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    plugins = data.get("plugins") or []
    names: list[str] = []
    for p in plugins if isinstance(plugins, list) else [plugins] if isinstance(plugins, str) else list(plugins):
        if isinstance(p, str):
            names.append(p)
        elif isinstance(p, dict):
            names.extend(str(k) for k in p)
    return names


def _is_kedb(pyproject: str) -> bool:
    """kedb's own ``pyproject.toml`` (a KB kept in kedb's repository, as this one is): its
    ``zensical`` extra is what ``kedb build --engine zensical`` runs on."""
    try:
        project = tomllib.loads(pyproject).get("project")
    except tomllib.TOMLDecodeError:
        return False
    return isinstance(project, dict) and project.get("name") == "kedb"


def engine_findings(root: Path) -> Iterator[Finding]:
    mk = _read(root / "mkdocs.yml")
    if mk is not None:
        names = _plugins(mk)
        if names is not None and "kedb" not in names:
            line = _line_of(mk, re.compile(r"^plugins\s*:")) or 1
            yield Finding(
                "mkdocs.yml",
                line,
                CODE,
                "mkdocs.yml does not list the kedb plugin: `mkdocs build` would publish a KB without its records; "
                f"add `- kedb` under plugins, or {USE}",
            )
    if (root / "zensical.toml").exists():
        yield Finding(
            "zensical.toml", 1, CODE, f"Zensical ignores the kedb plugin: `zensical build` publishes the playbooks only, no record; {USE}"
        )
    ci_files = [root / ".gitlab-ci.yml", *sorted((root / ".github" / "workflows").glob("*.y*ml"))]
    through_kedb = any(_line_of(text, _KEDB_ZENSICAL) for text in map(_read, ci_files) if text)
    for name in [*sorted(p.name for p in root.glob("requirements*.txt")), "pyproject.toml"]:
        text = _read(root / name)
        if text is None or (name == "pyproject.toml" and _is_kedb(text)):
            continue
        for pattern, what in ((_ZENSICAL_DEP, "Zensical"), (_MKDOCS2, "MkDocs 2")):
            if what == "Zensical" and through_kedb:
                continue  # installed for `kedb build --engine zensical`
            line = _line_of(text, pattern)
            if line is not None:
                yield Finding(
                    name, line, CODE, f"{what} is installed here and does not run the kedb plugin: its build has no records; {USE}"
                )
    for ci in ci_files:
        text = _read(ci)
        line = _line_of(text, _ZENSICAL_RUN) if text else None
        if line is not None:
            rel = ci.relative_to(root).as_posix()
            yield Finding(
                rel, line, CODE, f"this CI file runs Zensical, which ignores the kedb plugin: the published KB has no records; {USE}"
            )
