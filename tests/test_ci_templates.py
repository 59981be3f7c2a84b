"""The CI templates run as they are: their script lines, in bash, against a real clone.

GitLab's merge-request and approvals jobs and GitHub's review step are read from
``.gitlab-ci.yml`` and ``.github/workflows/kb.yml`` and executed with the variables the platform
would set. Only ``pip install`` (kedb is already installed here) and the publishing commands
(``make build``, which has its own tests) are left out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kbtest import REPO, git, init_repo, kedb

BIN = str(Path(sys.executable).parent)


def _script(lines: list[str]) -> str:
    return "\n".join(ln for ln in lines if not ln.startswith(("pip install", "make build")))


def run_bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KEDB_", "GIT_"))}
    base["PATH"] = f"{BIN}:{base.get('PATH', '/usr/bin:/bin')}"
    base.update({"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)})
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=base | env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def clone(base_kb: Path, tmp_path: Path) -> Path:
    """A clone of a KB repo whose main branch has an up-to-date CODEOWNERS, like a real project."""
    init_repo(base_kb)
    assert kedb("--root", str(base_kb), "codeowners", "--platform", "gitlab").exit_code == 0
    assert kedb("--root", str(base_kb), "codeowners", "--platform", "github").exit_code == 0
    git(base_kb, "add", "-A")
    git(base_kb, "commit", "-q", "-m", "CODEOWNERS")
    work = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{base_kb}", str(work))
    git(work, "checkout", "-q", "-b", "mr")
    return work


def _edit(root: Path, pattern: str, old: str, new: str) -> None:
    p = next((root / "known_errors").glob(pattern))
    p.write_text(p.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")


def gitlab_job(name: str) -> str:
    ci = yaml.safe_load((REPO / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert ci["variables"]["GIT_DEPTH"] == 0, "kedb needs full history in CI"
    return _script(ci[name]["script"])


def github_step(job: str, step_name: str) -> str:
    wf = yaml.safe_load((REPO / ".github/workflows/kb.yml").read_text(encoding="utf-8"))
    steps = wf["jobs"][job]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0, "kedb needs full history in CI"
    (step,) = [s for s in steps if s.get("name") == step_name]
    return step["run"].replace("${{ github.base_ref }}", "main")


def test_gitlab_merge_request_job_on_a_good_and_a_bad_change(clone: Path) -> None:
    script = gitlab_job("kb:merge-request")
    env = {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
    _edit(clone, "KE-0001-*.md", "tags: [outlook]", "tags: [outlook, credential-manager]")
    git(clone, "commit", "-q", "-am", "KE-0001: tag")
    ok = run_bash(script, clone, env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    review = (clone / "kedb-review.md").read_text(encoding="utf-8")
    assert "KE-0001" in review and "| `tags` |" in review
    assert json.loads((clone / "gl-code-quality-report.json").read_text(encoding="utf-8")) == []

    _edit(clone, "KE-0001-*.md", "status: published", "status: draft")
    git(clone, "commit", "-q", "-am", "KE-0001 back to draft")
    bad = run_bash(script, clone, env)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    issues = json.loads((clone / "gl-code-quality-report.json").read_text(encoding="utf-8"))
    assert any(i["check_name"].startswith("KE804") for i in issues), issues
    assert "status cannot go from 'published' to 'draft'" in (clone / "kedb-review.md").read_text(encoding="utf-8")


def test_github_review_step(clone: Path) -> None:
    _edit(clone, "KE-0001-*.md", "priority: P2", "priority: P1")
    git(clone, "commit", "-q", "-am", "KE-0001 to P1")
    r = run_bash(github_step("review", "kedb check --base and review"), clone, {})
    assert r.returncode == 0, r.stdout + r.stderr
    review = (clone / "kedb-review.md").read_text(encoding="utf-8")
    assert "one of Bob Approver (@bapprover)" in review
    assert json.loads((clone / "kedb-check.json").read_text(encoding="utf-8"))["errors"] == 0


def test_gitlab_approvals_job_on_main(clone: Path) -> None:
    git(clone, "checkout", "-q", "main")
    _edit(clone, "KE-0001-*.md", "priority: P2", "priority: P1")
    git(clone, "commit", "-q", "-am", "KE-0001 to P1 straight on main")
    r = run_bash(gitlab_job("kb:approvals"), clone, {"CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"})
    assert r.returncode == 1 and "KE810" in r.stdout, r.stdout + r.stderr


def test_pre_commit_hook_definition() -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "kedb-check" and hook["entry"] == "kedb check" and hook["pass_filenames"] is False
