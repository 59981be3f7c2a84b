"""The site builds the same through MkDocs 1.6 and ProperDocs (issue #22, item 1).

ProperDocs is a community fork of MkDocs 1.x that keeps the plugin API: it runs kedb's plugin and
Material as they are. Both build the example KB here, side by side, and every output file must be
the same bytes, except the generator tag of the 404 page, which names the engine (kedb removes
that tag from the pages it finishes; the 404 page is the theme's own).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kbtest import REPO

BIN = Path(sys.executable).parent
GENERATOR = re.compile(rb'<meta name="generator" content="[^"]*">')


def _example(tmp: Path) -> Path:
    root = tmp / "kb"
    root.mkdir()
    for part in ("known_errors", "content"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy2(REPO / "mkdocs.yml", root / "mkdocs.yml")
    return root


def _build(cmd: list[str], root: Path, out: str) -> Path:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    res = subprocess.run([*cmd, "build", "-q", "-d", str(root / out)], cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    return root / out


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): GENERATOR.sub(b"", p.read_bytes()) for p in sorted(site.rglob("*")) if p.is_file()}


def test_properdocs_builds_the_same_site_as_mkdocs(tmp_path: Path) -> None:
    properdocs = BIN / "properdocs"
    if not properdocs.exists():
        pytest.fail("properdocs is not installed: `make test` installs it with kedb's test extras")
    root = _example(tmp_path)
    mk = _files(_build([sys.executable, "-m", "mkdocs"], root, "site-mkdocs"))
    pd = _files(_build([str(properdocs)], root, "site-properdocs"))
    assert mk.keys() == pd.keys()
    assert "known-errors/KE-0001/index.html" in mk and "downloads/index.html" in mk
    differ = [name for name in mk if mk[name] != pd[name]]
    assert differ == [], f"pages that differ between MkDocs and ProperDocs: {differ[:10]}"


# ---------------------------------------------------------------- KE901: an engine without the plugin
def _engine(root: Path) -> list[tuple[str, int]]:
    from kedb.check.engine import engine_findings

    return [(f.path, f.line) for f in engine_findings(root)]


def test_the_example_kb_and_this_repository_raise_no_engine_warning() -> None:
    assert _engine(REPO) == []


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        (".gitlab-ci.yml", "pages:\n  script:\n    - pip install zensical\n    - zensical build --clean\n", 4),
        (".github/workflows/site.yml", "jobs:\n  site:\n    steps:\n      - run: zensical build\n", 4),
        ("requirements.txt", "# the site\nmkdocs == 2.0\n", 2),
        ("pyproject.toml", '[project]\ndependencies = [\n  "zensical>=0.1",\n]\n', 3),
    ],
)
def test_signs_of_an_engine_that_ignores_the_plugin(tmp_path: Path, name: str, text: str, line: int) -> None:
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert _engine(tmp_path) == [(name, line)]


@pytest.mark.parametrize(
    "text",
    [
        "mkdocs>=1.6,<2\nmkdocs-material>=9.5\n",  # MkDocs 1.x pinned below 2
        "# zensical build is not used here\nproperdocs>=1.6\n",  # a comment
        "zensical-helpers==1.0\n",  # another package
    ],
)
def test_what_is_not_a_sign(tmp_path: Path, text: str) -> None:
    (tmp_path / "requirements.txt").write_text(text, encoding="utf-8")
    assert _engine(tmp_path) == []


def test_zensical_installed_for_kedb_build_engine_zensical_is_not_a_sign(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("kedb==0.9\nzensical==0.0.73\n", encoding="utf-8")
    ci = "pages:\n  script:\n    - pip install -r requirements.txt\n    - kedb build --engine zensical\n"
    (tmp_path / ".gitlab-ci.yml").write_text(ci, encoding="utf-8")
    assert _engine(tmp_path) == []
    # ...but running `zensical build` itself still is one.
    (tmp_path / ".gitlab-ci.yml").write_text(ci + "    - zensical build\n", encoding="utf-8")
    assert _engine(tmp_path) == [(".gitlab-ci.yml", 5)]


def test_a_mkdocs_yml_with_tags_is_read(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: !ENV [SITE, KB]\nmarkdown_extensions:\n  - pymdownx.emoji:\n      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "plugins:\n  - search\n  - kedb:\n      audience: public\n",
        encoding="utf-8",
    )
    assert _engine(tmp_path) == []
    (tmp_path / "mkdocs.yml").write_text("site_name: KB\nplugins:\n  - search\n", encoding="utf-8")
    assert _engine(tmp_path) == [("mkdocs.yml", 2)]
