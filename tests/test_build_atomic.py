"""``kedb build`` is atomic and leaves nothing behind (issue #15, item 4).

- The swap (``_replace_tree``): one exchange where the system has one (the old tree ends where
  the new one was staged, and only then is removed); two renames where it has none, in an order
  the next build can undo; a new tree that cannot be moved in puts the old one back.
- Staging beside the site: ``.kedb/`` on another file system, and a symlinked ``site/`` (built
  beside the link's target, the link stays), build as usual; a move that fails anyway keeps the
  old site and says so in one line (exit 2).
- Leftovers (``_repair``, ``_stale``): a killed build's staging folders, old sites and temporary
  artefact files go at the next build, a site moved aside by a half-done swap is put back, and a
  running build's folders are left alone.
- Killed builds: real ``kedb build`` processes killed (SIGKILL) at each step of the swap, while
  pages are written, and after a few delays; ``site/`` is then the complete old site or the
  complete new one (a manifest of file hashes); the next build removes the leftovers (and puts
  back a site moved aside) before its check, and builds the new site.

The killed builds and the builds after them run in child processes: mutmut sees only the tests'
own process, so it never reruns them for a mutant (it runs them once, with the whole selection).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kbtest import AS_OF, FIXTURES, copy_kb, git, gone, init_repo, kedb, not_available
from kedb.build import run

LEFTOVER = re.compile(r"\.(staging|old|tmp)-\d+$")
SHM = Path("/dev/shm")


# ---------------------------------------------------------------- helpers
def _tree(path: Path, marker: str) -> Path:
    (path / "sub").mkdir(parents=True)
    (path / "index.html").write_text(marker)
    (path / "sub" / "page.html").write_text(marker)
    return path


def _marker(path: Path) -> str:
    return (path / "index.html").read_text() if (path / "index.html").is_file() else "MISSING"


def manifest(site: Path) -> dict[str, str] | None:
    """Every file of the site (through a symlinked site/) and its hash; None without a site.
    Temporary files are left out: `leftovers` reports them."""
    if not site.is_dir():
        return None
    out = {}
    for folder, _, files in os.walk(site):
        for name in files:
            path = Path(folder) / name
            if not LEFTOVER.search(name):
                out[path.relative_to(site).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def leftovers(kb: Path) -> list[str]:
    """What builds leave beside the site, in its downloads and in .kedb/ (today's and earlier kedb's staging)."""
    site = Path(os.path.realpath(kb / "site"))
    kept = kb / ".kedb" / "downloads"  # and one folder per edition in it
    editions = sorted(d for d in kept.iterdir() if d.is_dir()) if kept.is_dir() else []
    places = (site.parent, site / "downloads", kb / ".kedb", kept, *editions)
    return sorted(
        str(p)
        for d in places
        if d.is_dir()
        for p in d.iterdir()
        if LEFTOVER.search(p.name) or (d.name == ".kedb" and p.name.startswith("build-"))
    )


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", ""])
    p.wait()
    return p.pid


@pytest.fixture
def live() -> Iterator[subprocess.Popen[bytes]]:
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield p
    p.kill()
    p.wait()


@pytest.fixture
def live_pid(live: subprocess.Popen[bytes]) -> int:
    return live.pid


def _other_file_system(near: Path) -> Path:
    """A folder on another file system than ``near`` (/dev/shm), or skip."""
    if not SHM.is_dir() or os.stat(SHM).st_dev == os.stat(near).st_dev:
        pytest.skip(
            f"no second file system here ({SHM} is missing or on the same one as {near}); the monkeypatched EXDEV tests check the same"
        )
    return Path(tempfile.mkdtemp(prefix="kedb-test-", dir=SHM))


def _glibc() -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in os.confstr("CS_GNU_LIBC_VERSION").split()[1].split(".")[:2])  # type: ignore[union-attr]
    except (AttributeError, IndexError, OSError, ValueError):
        return ()


def _need_exchange() -> None:
    """Skip where the system has no exchange (judged here, not by the code under test)."""
    if sys.platform != "linux":
        pytest.skip("renameat2(RENAME_EXCHANGE) is Linux's; elsewhere the swap is two renames (tested below)")
    if _glibc() < (2, 28):
        not_available("this libc is not glibc 2.28 or later, which has renameat2", "the swap by one atomic exchange")


# ---------------------------------------------------------------- the swap
def test_an_exchange_swaps_two_trees_in_one_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need_exchange()
    a, b = _tree(tmp_path / "a", "A"), _tree(tmp_path / "b", "B")
    assert run._exchange(a, b) is True
    assert (_marker(a), _marker(b)) == ("B", "A")
    monkeypatch.chdir(tmp_path)  # relative paths are the working directory's
    assert run._exchange(Path("a"), Path("b")) is True
    assert (_marker(a), _marker(b)) == ("A", "B")
    assert run._exchange(a, tmp_path / "missing") is False  # nothing to exchange with: nothing changed
    assert _marker(a) == "A" and not (tmp_path / "missing").exists()


def test_the_exchange_is_found_where_the_system_has_it() -> None:
    _need_exchange()
    assert run._renameat2() is not None


def test_the_swap_is_one_exchange_where_there_is_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """site/ is the complete old or new site at every instant: one exchange swaps them; only then is
    the old tree, now where the new one was staged, renamed to the trash and deleted from there."""
    _need_exchange()
    dst, src = _tree(tmp_path / "site", "old"), _tree(tmp_path / "stage", "new")
    renamed: list[tuple[str, str, str, str]] = []
    real_rename = os.rename

    def watching_rename(a: Path, b: Path) -> None:
        renamed.append((Path(a).name, Path(b).name, _marker(Path(a)), _marker(dst)))
        real_rename(a, b)

    monkeypatch.setattr(run.os, "rename", watching_rename)
    run._replace_tree(src, dst)
    assert renamed == [("stage", f".site.trash-{os.getpid()}", "old", "new")], "no rename before the exchange"
    assert _marker(dst) == "new" and (dst / "sub" / "page.html").read_text() == "new"
    gone(tmp_path, ".site.trash-*")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def _recording_renames(monkeypatch: pytest.MonkeyPatch, fail_into: Path | None = None) -> list[tuple[str, str]]:
    """No exchange; every rename recorded by names, and a rename onto ``fail_into`` fails as across file systems."""
    calls: list[tuple[str, str]] = []
    real = os.rename

    def rename(a: str | Path, b: str | Path) -> None:
        calls.append((Path(a).name, Path(b).name))
        if fail_into is not None and Path(b) == fail_into and Path(a).name != f".{fail_into.name}.old-{os.getpid()}":
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(a), None, str(b))
        real(a, b)

    monkeypatch.setattr(run, "_exchange", lambda a, b: False)
    monkeypatch.setattr(run.os, "rename", rename)
    return calls


def test_two_renames_where_there_is_no_exchange(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The old site is moved aside under the name the next build restores from, the new one is
    moved in, then the old one leaves that name before it is removed (a removal cut short must
    never be restored as a site)."""
    calls = _recording_renames(monkeypatch)
    dst = _tree(tmp_path / "site", "old")
    run._replace_tree(_tree(tmp_path / "stage", "new"), dst)
    aside, trash = f".site.old-{os.getpid()}", f".site.trash-{os.getpid()}"
    assert calls == [("site", aside), ("stage", "site"), (aside, "stage"), ("stage", trash)]
    gone(tmp_path, trash)
    assert _marker(dst) == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_first_swap_is_one_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _recording_renames(monkeypatch)
    run._replace_tree(_tree(tmp_path / "stage", "new"), tmp_path / "site")
    assert calls == [("stage", "site")]
    assert _marker(tmp_path / "site") == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["site"]


@pytest.mark.parametrize("first", [False, True], ids=["replacing", "first"])
def test_a_new_tree_that_cannot_move_in_puts_the_old_one_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: bool) -> None:
    dst = tmp_path / "site"
    if not first:
        _tree(dst, "old")
    src = _tree(tmp_path / "stage", "new")
    calls = _recording_renames(monkeypatch, fail_into=dst)
    with pytest.raises(OSError) as caught:
        run._replace_tree(src, dst)
    assert caught.value.errno == errno.EXDEV
    aside = f".site.old-{os.getpid()}"
    assert calls == ([("stage", "site")] if first else [("site", aside), ("stage", "site"), (aside, "site")])
    assert _marker(dst) == ("MISSING" if first else "old")
    assert _marker(src) == "new", "the staging folder is the caller's to remove"
    assert sorted(p.name for p in tmp_path.iterdir()) == (["stage"] if first else ["site", "stage"])


def test_an_exchange_across_file_systems_changes_nothing(tmp_path: Path) -> None:
    _need_exchange()
    far = _other_file_system(tmp_path)
    try:
        src, dst = _tree(far / "stage", "new"), _tree(tmp_path / "site", "old")
        assert run._exchange(src, dst) is False
        assert (_marker(src), _marker(dst)) == ("new", "old")
    finally:
        shutil.rmtree(far)


# ---------------------------------------------------------------- installed files
def test_a_failed_copy_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "built.pdf"
    src.write_bytes(b"%PDF new")
    dst = tmp_path / "downloads" / "proof-brief.pdf"
    dst.parent.mkdir()
    dst.write_bytes(b"%PDF old")

    def disk_full(a: Path, b: Path) -> None:
        Path(b).write_bytes(b"%PDF n")  # half written
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(b))

    monkeypatch.setattr(run.shutil, "copyfile", disk_full)
    with pytest.raises(OSError):
        run._install_file(src, dst)
    assert dst.read_bytes() == b"%PDF old"
    assert sorted(p.name for p in dst.parent.iterdir()) == ["proof-brief.pdf"]


def test_an_installed_file_may_come_from_another_file_system(tmp_path: Path) -> None:
    far = _other_file_system(tmp_path)
    try:
        (far / "built.pdf").write_bytes(b"%PDF new")
        dst = tmp_path / "downloads" / "proof-brief.pdf"
        run._install_file(far / "built.pdf", dst)
        assert dst.read_bytes() == b"%PDF new"
        assert sorted(p.name for p in dst.parent.iterdir()) == ["proof-brief.pdf"]
    finally:
        shutil.rmtree(far)


# ---------------------------------------------------------------- leftovers
def test_what_is_stale(tmp_path: Path, live: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = ".site.staging-"
    dead = _dead_pid()
    assert run._stale(tmp_path / f"{prefix}{dead}", prefix) is True
    assert run._stale(tmp_path / f"{prefix}{os.getpid()}", prefix) is True  # a killed build's pid that came back to us
    assert run._stale(tmp_path / f"{prefix}{live.pid}", prefix) is False
    with pytest.raises(subprocess.TimeoutExpired):
        live.wait(timeout=0.3)  # asking whether it runs sent it no signal
    assert run._stale(tmp_path / f".site.old-{dead}", prefix) is False  # another prefix
    assert run._stale(tmp_path / f"x{prefix}{dead}", prefix) is False
    for tail in ("", "12a", "-3", " 12", "²", "99999999999999999999999"):
        assert run._stale(tmp_path / f"{prefix}{tail}", prefix) is False, tail

    def not_ours(pid: int, sig: int) -> None:
        raise PermissionError(errno.EPERM, "not permitted")  # another user's running process

    monkeypatch.setattr(run.os, "kill", not_ours)
    assert run._stale(tmp_path / f"{prefix}{dead}", prefix) is False


def _leftover_scene(kb: Path, pid: int) -> None:
    _tree(kb / f".site.old-{pid}", "old")
    _tree(kb / f".site.staging-{pid}" / "site", "half")
    for folder in (kb / "site" / "downloads", kb / ".kedb" / "downloads"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f".proof-brief.pdf.tmp-{pid}").write_bytes(b"%PDF half")
        (folder / f".implementation-runbook.docx.tmp-{pid}").write_bytes(b"PK half")


UNRELATED = (".site.older", ".site.old-", ".site.old-x1", ".www.old-{}", "site.old-{}", ".site.staging", ".site.tmp-{}")


def _unrelated(kb: Path, dead: int) -> list[str]:
    """Names like a leftover's that are not a build's (another prefix, no pid): kept."""
    names = [n.format(dead) for n in UNRELATED]
    for name in names:
        (kb / name).write_text("keep")
    (kb / ".kedb" / "downloads" / f".other.pdf.tmp-{dead}").write_text("keep")
    return names


def test_a_killed_builds_leftovers_go_and_a_moved_site_comes_back(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    dead = _dead_pid()
    _leftover_scene(kb, dead)
    shutil.rmtree(kb / "site")  # killed between the two renames: no site, the old one aside
    (kb / ".kedb" / "downloads").mkdir(parents=True, exist_ok=True)
    unrelated = _unrelated(kb, dead)
    run._repair(kb / "site", kb / ".kedb")
    assert _marker(kb / "site") == "old"
    assert sorted(p.name for p in kb.iterdir()) == sorted([".kedb", "site", *unrelated])
    assert [p.name for p in (kb / ".kedb" / "downloads").iterdir()] == [f".other.pdf.tmp-{dead}"]


def test_leftovers_in_each_editions_download_folder_go_but_a_linked_folder_is_not_entered(tmp_path: Path) -> None:
    """Artefacts are built per edition into .kedb/downloads/<edition>/: a killed build's temporary
    files there are removed; a folder that is a link (pointing anywhere) is never walked into."""
    kb = tmp_path / "kb"
    dead = _dead_pid()
    downloads = kb / ".kedb" / "downloads"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / f".proof-brief.pdf.tmp-{dead}").write_bytes(b"not kedb's")
    for edition in ("internal", "public-ACME"):
        (downloads / edition).mkdir(parents=True)
        (downloads / edition / f".exec-brief.pptx.tmp-{dead}").write_bytes(b"PK half")
        (downloads / edition / "exec-brief.pptx").write_bytes(b"PK whole")
    (downloads / "linked").symlink_to(outside, target_is_directory=True)
    run._repair(kb / "site", kb / ".kedb")
    for edition in ("internal", "public-ACME"):
        assert [p.name for p in (downloads / edition).iterdir()] == ["exec-brief.pptx"]
    assert [p.name for p in outside.iterdir()] == [f".proof-brief.pdf.tmp-{dead}"]


def test_an_old_site_is_not_restored_over_a_site(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    _tree(kb / "site", "new")
    dead = _dead_pid()
    _leftover_scene(kb, dead)
    _tree(kb / f".site.old-{_dead_pid()}", "older")  # two killed swaps: neither comes back over a site
    run._repair(kb / "site", kb / ".kedb")
    assert _marker(kb / "site") == "new" and leftovers(kb) == []


def test_of_two_old_sites_one_comes_back(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    dead = _dead_pid()
    _tree(kb / f".site.old-{dead}", "one")
    _tree(kb / f".site.old-{os.getpid()}", "two")
    run._repair(kb / "site", kb / ".kedb")
    assert _marker(kb / "site") in ("one", "two") and leftovers(kb) == []


def test_two_builds_tidying_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another build removes each leftover just before this one does: tidying never fails a build."""
    kb = tmp_path / "kb"
    _tree(kb / "site", "new")
    _leftover_scene(kb, _dead_pid())
    real = run._stale

    def removed_meanwhile(path: Path, prefix: str) -> bool:
        stale = real(path, prefix)
        if stale:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        return stale

    monkeypatch.setattr(run, "_stale", removed_meanwhile)
    run._repair(kb / "site", kb / ".kedb")
    assert _marker(kb / "site") == "new" and leftovers(kb) == []


def test_a_leftover_that_cannot_be_removed_does_not_fail_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kb = tmp_path / "kb"
    _tree(kb / "site", "new")
    _tree(kb / f".site.staging-{_dead_pid()}" / "site", "half")

    def held_open(path: Path, ignore_errors: bool = False, **kw: object) -> None:
        if not ignore_errors:
            raise PermissionError(errno.EBUSY, "held open", str(path))

    monkeypatch.setattr(run.shutil, "rmtree", held_open)
    run._repair(kb / "site", kb / ".kedb")
    assert _marker(kb / "site") == "new"


def test_a_running_builds_folders_are_left_alone(tmp_path: Path, live_pid: int) -> None:
    """Even with no site/: a running build between its two renames finishes its own swap."""
    kb = tmp_path / "kb"
    _leftover_scene(kb, live_pid)
    shutil.rmtree(kb / "site")
    (kb / "site" / "downloads").mkdir(parents=True)
    (kb / "site" / "downloads" / f".proof-brief.pdf.tmp-{live_pid}").write_bytes(b"%PDF half")
    before = leftovers(kb)
    run._repair(kb / "site", kb / ".kedb")
    assert leftovers(kb) == before and len(before) == 5
    shutil.rmtree(kb / "site")
    run._repair(kb / "site", kb / ".kedb")
    assert not (kb / "site").exists(), "a running build's old site is its own to put back"


# ---------------------------------------------------------------- kedb build, in this process
def _old_site(kb: Path) -> dict[str, str] | None:
    _tree(kb / "site", "old")
    return manifest(kb / "site")


def test_state_on_another_file_system(base_kb: Path) -> None:
    """.kedb/ on another file system: the site is staged beside site/, so the swap is a rename."""
    far = _other_file_system(base_kb)
    try:
        init_repo(base_kb)
        (base_kb / ".kedb").symlink_to(far, target_is_directory=True)
        _old_site(base_kb)
        r = kedb("--root", str(base_kb), "build", "--only", "site,pptx", "--as-of", AS_OF)
        assert r.exit_code == 0, r.output
        kept = far / "downloads" / "internal" / "exec-brief.pptx"
        assert (base_kb / "site" / "downloads" / "exec-brief.pptx").is_file() and kept.is_file()
        assert _marker(base_kb / "site") != "old" and not (base_kb / "site").is_symlink()
        assert leftovers(base_kb) == [] and sorted(p.name for p in far.iterdir()) == ["cache", "downloads"]
    finally:
        shutil.rmtree(far)


def test_a_move_that_fails_keeps_the_old_site_in_one_line(base_kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_repo(base_kb)
    old = _old_site(base_kb)
    _recording_renames(monkeypatch, fail_into=base_kb.resolve() / "site")
    r = kedb("--root", str(base_kb), "build", "--only", "site", "--as-of", AS_OF)
    assert r.exit_code == 2, r.output
    last = r.stderr.strip().splitlines()[-1]
    assert (
        last.startswith("kedb: could not move the new site into ")
        and "cross-device" in last.lower()
        and "nothing there was changed" in last
    )
    assert "Traceback" not in r.stderr
    assert manifest(base_kb / "site") == old and leftovers(base_kb) == []


def test_a_symlinked_site_stays_a_link(base_kb: Path, tmp_path: Path) -> None:
    """site -> ../elsewhere/www: built beside www and swapped there (a first build makes www)."""
    init_repo(base_kb)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (base_kb / "site").symlink_to(elsewhere / "www", target_is_directory=True)
    link = os.readlink(base_kb / "site")
    r = kedb("--root", str(base_kb), "build", "--only", "site", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output
    first = manifest(elsewhere / "www")
    assert first and "index.html" in first
    (elsewhere / "www" / "stale.html").write_text("from an old build")
    r = kedb("--root", str(base_kb), "build", "--only", "site,docx", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output
    assert os.readlink(base_kb / "site") == link
    assert not (elsewhere / "www" / "stale.html").exists() and (elsewhere / "www" / "downloads" / "implementation-runbook.docx").is_file()
    # The old site is kept beside the link's target, where the next build is staged (kedb.site.trees)
    assert (elsewhere / ".www.spare" / "stale.html").is_file() and not list(elsewhere.glob(".www.trash-*"))
    assert sorted(p.name for p in elsewhere.iterdir()) == [".www.spare", "www"] and leftovers(base_kb) == []
    assert "built site: site" in r.stdout


# ---------------------------------------------------------------- kedb build, killed
# A child process runs `kedb` with one hook that sends itself a signal before or after the
# nth call of one step: a page written (_finish), the exchange, a rename of the swap, the old site kept as the spare,
# the replace of an installed file, or the check (which comes after the repair).
DRIVER = r"""
import functools, os, signal, sys
from kedb.build import run
from kedb.cli.main import main
from kedb.site import plugin

point, nth, sig = sys.argv[1], int(sys.argv[2]), getattr(signal, sys.argv[3])
state = {"calls": 0, "inside": False}

def hook(fn, when, gated=False):
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        if gated and not state["inside"]:
            return fn(*a, **kw)
        state["calls"] += 1
        if state["calls"] == nth and when == "before":
            os.kill(os.getpid(), sig)
        out = fn(*a, **kw)
        if state["calls"] == nth and when == "after":
            os.kill(os.getpid(), sig)
        return out
    return wrapper

def scope(fn):
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        state["inside"] = True
        try:
            return fn(*a, **kw)
        finally:
            state["inside"] = False
    return wrapper

if point == "page":
    plugin._finish = hook(plugin._finish, "after")
elif point.startswith("exchange-"):
    run._exchange = hook(run._exchange, point.split("-")[1])
elif point == "keep":
    run._keep_spare = hook(run._keep_spare, "after")
elif point == "rename":
    run._exchange = lambda a, b: False
    run._replace_tree = scope(run._replace_tree)
    os.rename = hook(os.rename, "after", gated=True)
elif point == "install":
    run._install_file = scope(run._install_file)
    os.replace = hook(os.replace, "before", gated=True)
elif point == "check":
    run.make = hook(run.make, "before")
main(sys.argv[4:], prog_name="kedb")
"""
KILLED = -signal.SIGKILL


def _kedb(kb: Path, *args: str, point: str = "none", nth: int = 0, sig: str = "SIGKILL") -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", DRIVER, point, str(nth), sig, "--root", str(kb), "build", *args, "--as-of", AS_OF]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@dataclass(frozen=True)
class Scenario:
    kb: Path  # a KB whose site/ is the old site and whose HEAD builds the new one
    old: dict[str, str]
    new: dict[str, str]
    seconds: float  # one build in a child process, start to end

    def copy(self, to: Path) -> Path:
        return Path(shutil.copytree(self.kb, to, symlinks=True))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    root = tmp_path_factory.mktemp("killed")
    kb = init_repo(copy_kb(FIXTURES / "base", root / "kb"))
    done = _kedb(kb, "--only", "site")
    assert done.returncode == 0, done.stderr
    old = manifest(kb / "site")
    rec = kb / "known_errors" / "KE-0001-outlook-prompts.md"
    rec.write_text(rec.read_text(encoding="utf-8").replace("again and again", "again and again after a password change"), encoding="utf-8")
    git(kb, "commit", "-qam", "KE-0001: say when the prompts start")
    twin = Path(shutil.copytree(kb, root / "twin", symlinks=True))
    t = time.monotonic()
    done = _kedb(twin, "--only", "site")
    seconds = time.monotonic() - t
    assert done.returncode == 0, done.stderr
    new = manifest(twin / "site")
    assert old and new and old != new
    return Scenario(kb, old, new, seconds)


def _next_build_cleans_up(kb: Path, s: Scenario) -> None:
    done = _kedb(kb, "--only", "site")
    assert done.returncode == 0, done.stderr
    assert manifest(kb / "site") == s.new and leftovers(kb) == []


def _next_build_repairs(kb: Path, site: dict[str, str] | None) -> None:
    """The next build, killed once it has repaired (before its check): the leftovers are gone and
    the site is the one the killed build left. (A whole next build after that is timed in the
    tests of the window and of a concurrent build; a child build takes seconds.)"""
    done = _kedb(kb, "--only", "site", point="check", nth=1)
    assert done.returncode == KILLED, done.stderr
    assert manifest(kb / "site") == site and leftovers(kb) == []


@pytest.mark.parametrize(
    ("point", "nth", "expected"),
    [
        ("page", 5, "old"),  # pages are being written into the staging folder
        ("exchange-before", 1, "old"),  # the staged site is complete
        ("exchange-after", 1, "new"),  # the old site is in the staging folder
        ("keep", 1, "new"),  # the old site renamed to .site.spare, where the next build is staged
        ("rename", 2, "new"),  # no exchange: the new site moved in, the old one still aside
        ("rename", 3, "new"),  # no exchange: the old one moved into the staging folder
    ],
)
def test_a_build_killed_at_a_step_leaves_the_old_or_the_new_site(
    scenario: Scenario, tmp_path: Path, point: str, nth: int, expected: str
) -> None:
    kb = scenario.copy(tmp_path / "kb")
    done = _kedb(kb, "--only", "site", point=point, nth=nth)
    assert done.returncode == KILLED, f"the hook did not fire: {done.returncode}\n{done.stderr}"
    site = scenario.old if expected == "old" else scenario.new
    assert manifest(kb / "site") == site
    assert leftovers(kb), "a killed build leaves its staging folder"
    _next_build_repairs(kb, site)


def test_a_build_killed_between_the_two_renames_is_repaired(scenario: Scenario, tmp_path: Path) -> None:
    """The one moment without site/ (where there is no exchange): the old site is aside, and the
    next build puts it back before anything else (here it is killed right after that)."""
    kb = scenario.copy(tmp_path / "kb")
    done = _kedb(kb, "--only", "site", point="rename", nth=1)
    assert done.returncode == KILLED, done.stderr
    assert manifest(kb / "site") is None
    (aside,) = kb.glob(".site.old-*")
    assert manifest(aside) == scenario.old
    _next_build_repairs(kb, scenario.old)
    _next_build_cleans_up(kb, scenario)


@pytest.mark.parametrize("nth", [1, 2], ids=["kept-copy", "site-downloads"])
def test_an_artefact_killed_while_installed(scenario: Scenario, tmp_path: Path, nth: int) -> None:
    """--only pdf: killed with the copy written beside .kedb/downloads/internal/ (1) or site/downloads/ (2)."""
    kb = scenario.copy(tmp_path / "kb")
    done = _kedb(kb, "--only", "pdf", point="install", nth=nth)
    assert done.returncode == KILLED, done.stderr
    assert manifest(kb / "site") == scenario.old, "site/downloads/ still has its old files (here: no PDF)"
    assert any(".proof-brief.pdf.tmp-" in p for p in leftovers(kb))
    done = _kedb(kb, "--only", "pdf")
    assert done.returncode == 0, done.stderr
    pdf = (kb / "site" / "downloads" / "proof-brief.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf == (kb / ".kedb" / "downloads" / "internal" / "proof-brief.pdf").read_bytes()
    assert leftovers(kb) == []


@pytest.mark.parametrize("share", [0.5, 0.85, 0.97])
def test_a_build_killed_after_a_while(scenario: Scenario, tmp_path: Path, share: float) -> None:
    """Killed at a moment, not at a step: wherever it lands, the site is whole."""
    kb = scenario.copy(tmp_path / "kb")
    cmd = [sys.executable, "-c", DRIVER, "none", "0", "SIGKILL", "--root", str(kb), "build", "--only", "site", "--as-of", AS_OF]
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(scenario.seconds * share)
    child.kill()
    child.wait()
    site = manifest(kb / "site")
    assert site in (scenario.old, scenario.new)
    _next_build_repairs(kb, site)


def test_a_concurrent_build_keeps_a_running_builds_folders(scenario: Scenario, tmp_path: Path) -> None:
    """A build stopped (SIGSTOP) just before its swap is running: a second build completes
    beside it and leaves its staging folder; once it is killed, the next build removes it."""
    kb = scenario.copy(tmp_path / "kb")
    cmd = [sys.executable, "-c", DRIVER, "exchange-before", "1", "SIGSTOP", "--root", str(kb), "build", "--only", "site", "--as-of", AS_OF]
    stopped = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _, status = os.waitpid(stopped.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status)
        staging = kb / f".site.staging-{stopped.pid}"
        assert manifest(staging / "site") == scenario.new
        done = _kedb(kb, "--only", "site")
        assert done.returncode == 0, done.stderr
        assert manifest(kb / "site") == scenario.new and manifest(staging / "site") == scenario.new
    finally:
        stopped.kill()
        stopped.wait()
    _next_build_repairs(kb, scenario.new)


def test_the_old_site_is_deleted_by_a_detached_process(tmp_path: Path) -> None:
    """The swap does not wait for the old site to be deleted: it becomes .site.trash-<pid> and goes away on its own."""
    kb = tmp_path / "kb"
    _tree(kb / "site", "old")
    for i in range(200):
        (kb / "site" / f"page-{i}.html").write_text("old page", encoding="utf-8")
    _tree(kb / ".site.staging-1" / "site", "new")
    run._replace_tree(kb / ".site.staging-1" / "site", kb / "site")
    assert _marker(kb / "site") == "new" and not (kb / "site" / "page-0.html").exists()
    gone(kb, ".site.trash-*")
    assert not (kb / ".site.staging-1" / "site").exists()


def test_a_trash_folder_gets_a_new_deleter_only_when_its_build_is_gone(tmp_path: Path, live: subprocess.Popen[bytes]) -> None:
    kb = tmp_path / "kb"
    _tree(kb / "site", "new")
    dead = _dead_pid()
    _tree(kb / f".site.trash-{dead}", "old")  # its build and its deleter were killed
    _tree(kb / f".site.trash-{live.pid}", "old")  # a running build's
    run._repair(kb / "site", kb / ".kedb")
    gone(kb, f".site.trash-{dead}")
    assert _marker(kb / f".site.trash-{live.pid}") == "old" and _marker(kb / "site") == "new"


def test_a_caller_reading_the_output_does_not_wait_for_the_deletion(tmp_path: Path) -> None:
    """The deleter holds none of kedb's files: a CI step reading kedb's output through a pipe gets its end
    when kedb exits, not when the old site is gone (here the deletion is made to wait 5 s first)."""
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "page.html").write_text("old", encoding="utf-8")
    code = (
        "import time, sys\nfrom pathlib import Path\nimport kedb.core.background as b\nreal = b._remove_all\n"
        "b._remove_all = lambda paths: (time.sleep(5), real(paths))\nb.delete_detached([Path(sys.argv[1])])\nprint('exited')\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "exited"
    assert (folder / "page.html").exists(), "the caller got the end of the output only once the deletion was over"
    gone(tmp_path, "old")


def test_git_never_sees_the_old_site_being_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A KB whose .gitignore does not name .site.*: `git add -A` right after a build stages nothing of the old
    site while it is being deleted (the deletion is held for 3 s here)."""
    import kedb.core.background as background

    kb = tmp_path / "kb"
    _tree(kb / "site", "old")
    _tree(kb / ".site.staging-1" / "site", "new")
    git(kb, "init", "-q", "-b", "main")
    real = background._remove_all
    monkeypatch.setattr(background, "_remove_all", lambda paths: (time.sleep(3), real(paths)))  # the grandchild inherits it
    run._replace_tree(kb / ".site.staging-1" / "site", kb / "site")
    assert list(kb.glob(".site.trash-*")), "the deletion is still held"
    git(kb, "add", "-A")
    staged = git(kb, "diff", "--cached", "--name-only")
    assert ".site.trash" not in staged and "site/index.html" in staged
    gone(kb, ".site.trash-*")


def test_the_deleter_removes_the_gitignore_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the old site is being deleted, its .gitignore of '*' stays until nothing else is left: git
    never sees the rest of the folder as untracked files that vanish under `git add -A`."""
    import kedb.core.background as background

    folder = _tree(tmp_path / ".site.trash-1", "old")
    (folder / ".gitignore").write_text("*\n", encoding="utf-8")
    seen: list[tuple[str, bool]] = []
    real_unlink, real_rmtree = os.unlink, shutil.rmtree

    def watching_unlink(path: str | os.PathLike[str], *a: object, **kw: object) -> None:
        if "dir_fd" not in kw:  # the deleter's own calls (rmtree's inside a folder pass dir_fd)
            seen.append((Path(path).name, (folder / ".gitignore").exists()))
        real_unlink(path, *a, **kw)  # type: ignore[arg-type]

    def watching_rmtree(path: str | os.PathLike[str], *a: object, **kw: object) -> None:
        if Path(path) != folder:
            seen.append((Path(path).name, (folder / ".gitignore").exists()))
        real_rmtree(path, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(background.os, "unlink", watching_unlink)
    monkeypatch.setattr(background.shutil, "rmtree", watching_rmtree)
    background._remove_all([folder])
    assert not folder.exists()
    assert [name for name, _ in seen if name != ".gitignore"] and seen[-1][0] == ".gitignore"
    assert sorted(name for name, _ in seen[:-1]) == ["index.html", "sub"]
    assert all(ignored for _, ignored in seen[:-1]), "everything else goes while the .gitignore is there"


def test_a_link_in_place_of_a_tree_to_discard_loses_only_its_name(tmp_path: Path) -> None:
    """A tree to discard (the old site, an unvouched spare) that someone replaced with a link to their own folder: the
    link's name goes; the folder it points to gets no ``.gitignore`` and keeps everything in it."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("mine\n", encoding="utf-8")
    site = tmp_path / "kb" / "site"
    site.parent.mkdir()
    spare = site.with_name(".site.spare")
    spare.symlink_to(theirs, target_is_directory=True)
    run._discard(spare, site)
    assert not os.path.lexists(spare) and not list(site.parent.glob(".site.trash-*"))
    assert sorted(p.name for p in theirs.iterdir()) == ["keep.txt"]
