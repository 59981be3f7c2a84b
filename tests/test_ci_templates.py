"""The CI templates run as they are: their script lines, in bash, against a real clone.

GitLab's merge-request and approvals jobs and GitHub's install and review steps are read from
``.gitlab-ci.yml`` and ``.github/workflows/kb.yml`` and executed with the variables the platform
would set, in a clone of a repository laid out as an adopter's is: the KB and kedb's own sources.
``pip install DIR`` is stood in for (see ``FAKE_PIP``); only the publishing commands (``make
build``, which has its own tests) are left out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kbtest import REPO, git, init_repo, kedb

BIN = str(Path(sys.executable).parent)

# The templates' one use of pip, `pip install --quiet DIR`, without the network (a real install
# builds a wheel with hatchling, fetched from the package index): DIR's kedb is copied the way the
# wheel lays it out (pyproject.toml: generators/kedb as kedb, templates/ as kedb/templates) into a
# fresh folder put first on PYTHONPATH, so `kedb` then runs DIR's code, whatever the checkout it runs
# in holds. Any other pip command fails the script, so a template that stops installing from a
# folder is noticed here.
FAKE_PIP = r"""
pip() {
  if [ "$#" -eq 3 ] && [ "$1" = install ] && [ "$2" = --quiet ] && [ -f "$3/pyproject.toml" ]; then
    site="$(mktemp -d)"
    cp -R "$3/generators/kedb" "$site/kedb"
    cp -R "$3/templates" "$site/kedb/templates"
    export PYTHONPATH="$site"
  else
    echo "the tests stand in for 'pip install --quiet DIR' only, not: pip $*" >&2
    return 2
  fi
}
"""


def _script(lines: list[str]) -> str:
    return FAKE_PIP + "\n".join(ln for ln in lines if not ln.startswith("make build"))


def run_bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KEDB_", "GIT_", "PYTHON"))}
    base["PATH"] = f"{BIN}:{base.get('PATH', '/usr/bin:/bin')}"
    # Home (kedb's cache key), mktemp and byte code in the test's folder, outside the clone: as on a
    # runner, the checkout holds only what the job itself writes.
    tmp = cwd.parent / "tmp"
    (tmp / "home").mkdir(parents=True, exist_ok=True)
    base.update({"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp / "home"), "TMPDIR": str(tmp), "PYTHONPYCACHEPREFIX": str(tmp / "pycache")})
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=base | env, capture_output=True, text=True, timeout=300)


# What an adopter's repository holds besides its KB: the template repository is adopted whole, so
# the target branch has kedb's sources to install from.
KEDB_SOURCES = ("generators", "templates")


@pytest.fixture
def clone(base_kb: Path, tmp_path: Path) -> Path:
    """A clone of a KB repo whose main branch holds kedb's sources and an up-to-date CODEOWNERS,
    like a real project."""
    for part in KEDB_SOURCES:
        shutil.copytree(REPO / part, base_kb / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(REPO / "pyproject.toml", base_kb / "pyproject.toml")
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


def github_steps(job: str, *step_names: str) -> str:
    """The named steps of a job, in one script (on GitHub each is a shell; what pip installs stays)."""
    wf = yaml.safe_load((REPO / ".github/workflows/kb.yml").read_text(encoding="utf-8"))
    steps = wf["jobs"][job]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0, "kedb needs full history in CI"
    runs = []
    for name in step_names:
        (step,) = [s for s in steps if s.get("name") == name]
        runs.append(step["run"].replace("${{ github.base_ref }}", "main"))
    return _script("\n".join(runs).splitlines())


GITHUB_REVIEW = ("review", "Install kedb from the base branch", "kedb check --base and review")


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
    r = run_bash(github_steps(*GITHUB_REVIEW), clone, {})
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


TAMPERED = "LGTM, nothing to review\n"


def _tamper_with_kedb(clone: Path) -> None:
    """What a merge request could do to kedb: a review that says nothing, a check that finds nothing.
    Appended, so the bodies of review.py and run.py can change without this noticing."""
    for rel, code in (
        ("git/review.py", f"FORMATS['markdown'] = lambda rv: {TAMPERED!r}\n"),
        ("check/run.py", "_run = run\n\n\ndef run(*args, **kwargs):\n    return Report(_run(*args, **kwargs).kb, ())\n"),
    ):
        with (clone / "generators" / "kedb" / rel).open("a", encoding="utf-8") as f:
            f.write("\n\n" + code)


@pytest.mark.parametrize("platform", ["gitlab", "github"])
def test_a_merge_request_does_not_review_itself(clone: Path, platform: str) -> None:
    """A merge request that rewrites kedb's review and check is reviewed and checked by the kedb
    of the target branch: the real review of its record change, and the error it brings."""
    _tamper_with_kedb(clone)
    _edit(clone, "KE-0001-*.md", "status: published", "status: draft")
    git(clone, "commit", "-q", "-am", "KE-0001 back to draft, and a quieter kedb")
    # The tampering works on the merge request's own kedb (what `pip install .` used to install).
    own = run_bash(
        FAKE_PIP + "pip install --quiet .\nkedb review --base origin/main --output ../own.md\nkedb check --base origin/main", clone, {}
    )
    assert own.returncode == 0 and (clone.parent / "own.md").read_text(encoding="utf-8") == TAMPERED, own.stdout + own.stderr

    if platform == "gitlab":
        r = run_bash(gitlab_job("kb:merge-request"), clone, {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"})
        issues = json.loads((clone / "gl-code-quality-report.json").read_text(encoding="utf-8"))
        assert any(i["check_name"].startswith("KE804") for i in issues), issues
    else:
        r = run_bash(github_steps(*GITHUB_REVIEW), clone, {})
        assert json.loads((clone / "kedb-check.json").read_text(encoding="utf-8"))["errors"] >= 1
    assert r.returncode == 1, r.stdout + r.stderr
    review = (clone / "kedb-review.md").read_text(encoding="utf-8")
    assert "LGTM" not in review and "KE-0001" in review, review
    assert "status cannot go from 'published' to 'draft'" in review, review


@pytest.mark.parametrize("platform", ["gitlab", "github"])
def test_main_is_verified_by_the_kedb_before_the_change(clone: Path, platform: str) -> None:
    """A change pushed to main that makes kedb's check find nothing, together with an unapproved
    change to a high-impact record, is judged by the kedb of its first parent."""
    git(clone, "checkout", "-q", "main")
    _tamper_with_kedb(clone)
    _edit(clone, "KE-0001-*.md", "priority: P2", "priority: P1")
    git(clone, "commit", "-q", "-am", "KE-0001 to P1, and a quieter kedb, straight on main")
    if platform == "gitlab":
        r = run_bash(gitlab_job("kb:approvals"), clone, {"CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"})
    else:
        r = run_bash(github_steps("publish", "Install kedb from main before this change", "Verify approvals"), clone, {})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "KE810" in r.stdout and "KE814" in r.stdout and "generators/kedb/check/run.py" in r.stdout, r.stdout


def test_pre_commit_hook_definition() -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "kedb-check" and hook["entry"] == "kedb check" and hook["pass_filenames"] is False
