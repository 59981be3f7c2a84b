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
