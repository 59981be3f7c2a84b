"""A team adopts kedb for its own KB (issue #21), from a built wheel installed into a fresh
virtual environment, with no access to this checkout's source:

``kedb init`` for both platforms, ``kedb new``, ``kedb check --strict``, ``kedb build``, ``kedb
review --base`` on a branch, and the script lines of the CI file ``init`` wrote, run in bash
against that repository with the kedb its ``requirements.txt`` pins (pip finds it among the
built wheels: no package index).

The fresh environment gets kedb from the wheel only. Its dependencies are the test
environment's, reached through a ``.pth`` line to that environment's site-packages: a path
added that way is not a site folder, so the editable install of this checkout there (a ``.pth``
of its own) is not read, and ``import kedb`` can only find the wheel.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

from kbtest import REPO, git
from kedb import __version__

MAINTAINER = "Ann Owner <ann@example.org>"
APPROVER_ENV = {
    "GIT_AUTHOR_NAME": "Ann Owner",
    "GIT_AUTHOR_EMAIL": "ann@example.org",
    "GIT_COMMITTER_NAME": "Ann Owner",
    "GIT_COMMITTER_EMAIL": "ann@example.org",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    (whl,) = out.glob("kedb-*.whl")
    return whl


def test_the_wheel_carries_templates_and_the_example_and_one_version(wheel: Path) -> None:
    assert wheel.name.startswith(f"kedb-{__version__}-")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert f"\nVersion: {__version__}\n" in meta
    for needed in (
        "kedb/templates/init/ci-gitlab.yml",
        "kedb/templates/init/ci-github.yml",
        "kedb/templates/site/mkdocs.yml" if (REPO / "templates/site/mkdocs.yml").exists() else "kedb/templates/new/known-error.md.j2",
        "kedb/example/mkdocs.yml",
        "kedb/example/content/kedb.yml",
        "kedb/example/known_errors/KE-0001-outlook-credential-prompt-loop.md"
        if (REPO / "known_errors/KE-0001-outlook-credential-prompt-loop.md").exists()
        else "kedb/example/content/roles.yml",
    ):
        assert needed in names, needed
    assert not [n for n in names if "__pycache__" in n or n.startswith("kedb/example/.")]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh virtual environment with kedb from the wheel; returns the environment to run it in."""
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
    py = root / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True)
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()] or [sysconfig.get_paths()["purelib"]]
    Path(purelib.stdout.strip(), "zz-test-dependencies.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    res = subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    home = root.parent / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEDB_", "GIT_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(
        {
            "PATH": f"{root / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheel.parent),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "SOURCE_DATE_EPOCH": "1764633600",  # 2025-12-02: the KB's dates follow it
            **APPROVER_ENV,
        }
    )
    where = subprocess.run([str(py), "-c", "import kedb; print(kedb.__file__)"], env=env, cwd=home, capture_output=True, text=True)
    assert where.stdout.startswith(str(root)), f"kedb must come from the wheel, not the checkout: {where.stdout}{where.stderr}"
    return env


def sh(cmd: str, cwd: Path, env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(["bash", "-e", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if ok:
        assert res.returncode == 0, f"{cmd}\n{res.stdout}\n{res.stderr}"
    return res


def _new_kb(tmp_path: Path, env: dict[str, str], platform: str) -> Path:
    kb = tmp_path / "our-kb"
    kb.mkdir()
    git(kb, "init", "-q", "-b", "main")
    out = sh(f"kedb init --platform {platform} --maintainer '{MAINTAINER}'", kb, env).stdout
    assert "wrote requirements.txt" in out and "Our kb known-error database is ready" in out, out
    assert (kb / "requirements.txt").read_text(encoding="utf-8").strip().endswith(f"kedb=={__version__}")
    sh("git add -A && git commit -q -m 'Start the KB'", kb, env)
    return kb


@pytest.mark.parametrize("platform", ["gitlab", "github"])
def test_a_team_starts_its_kb_from_the_wheel(venv: dict[str, str], tmp_path: Path, platform: str) -> None:
    kb = _new_kb(tmp_path, venv, platform)
    assert sh("kedb check --strict", kb, venv).stdout.strip() == "0 records checked: 0 errors, 0 warnings"
    built = sh("kedb build", kb, venv).stdout
    for name in ("implementation-runbook.docx", "kpi-and-risk-register.xlsx", "exec-brief.pptx", "proof-brief.pdf"):
        assert (kb / "site" / "downloads" / name).stat().st_size > 1000, built
    assert "Our kb known-error database" in (kb / "site" / "index.html").read_text(encoding="utf-8")
    sh("git switch -q -c ke/outlook", kb, venv)
    path = sh("kedb new known-error --service service-desk --title 'Outlook asks for the password again'", kb, venv).stdout.strip()
    assert path.startswith("known_errors/KE-0001-") and (kb / path).is_file()
    assert sh("kedb check --strict", kb, venv).stdout.strip() == "1 records checked: 0 errors, 0 warnings"
    sh("git add -A && git commit -q -m 'KE-0001: Outlook asks for the password again'", kb, venv)
    review = sh("kedb review --base main", kb, venv).stdout
    assert "KE-0001" in review and "1 record changed" in review, review


def _gitlab_job(kb: Path, name: str) -> str:
    ci = yaml.safe_load((kb / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    return "\n".join(line for line in ci[name]["script"] if "kedb build" not in line)


def _github_steps(kb: Path, job: str) -> str:
    wf = yaml.safe_load((kb / ".github/workflows/kb.yml").read_text(encoding="utf-8"))
    runs = [s["run"] for s in wf["jobs"][job]["steps"] if "run" in s and "gh pr comment" not in s["run"] and "kedb build" not in s["run"]]
    return "\n".join(runs).replace("${{ github.base_ref }}", "main")


@pytest.mark.parametrize("platform", ["gitlab", "github"])
def test_the_ci_file_init_wrote_runs_with_the_pinned_kedb(venv: dict[str, str], tmp_path: Path, platform: str) -> None:
    origin = _new_kb(tmp_path, venv, platform)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{origin}", str(clone))
    sh("git switch -q -c mr && kedb new known-error --service service-desk --title 'Printer queue stalls every morning'", clone, venv)
    # The merge request also raises the pin to a version that does not exist: CI must not install it.
    (clone / "requirements.txt").write_text("kedb==99.0\n", encoding="utf-8")
    sh("git add -A && git commit -q -m 'KE-0001 and a new pin'", clone, venv)
    if platform == "gitlab":
        mr = sh(_gitlab_job(clone, "kb:merge-request"), clone, venv | {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"})
    else:
        mr = sh(_github_steps(clone, "review"), clone, venv)
    review = (clone / "kedb-review.md").read_text(encoding="utf-8")
    assert review.startswith("## kedb review") and "KE-0001" in review, mr.stdout + mr.stderr
    assert "`requirements.txt` (M)" in review, "the pin is a maintainer change"
    (clone / "requirements.txt").write_text(f"kedb=={__version__}\n", encoding="utf-8")
    sh("git commit -q -am 'Keep the pin' && git switch -q main && git merge -q --no-ff mr -m 'Merge KE-0001'", clone, venv)
    if platform == "gitlab":
        main = sh(_gitlab_job(clone, "kb:approvals"), clone, venv, ok=False)
    else:
        main = sh(_github_steps(clone, "publish"), clone, venv, ok=False)
    # The merge changed requirements.txt without a maintainer's Approved-by: the gate says so.
    assert main.returncode == 1 and "KE814" in main.stdout + main.stderr, main.stdout + main.stderr
