"""How the ``kedb`` process ends (``kedb.cli.leave``): quickly after a build, yet with all its output, its exit
code and whatever a running thread or an exit handler still had to do."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from kbtest import AS_OF, FIXTURES, copy_kb, init_repo
from kedb.cli import leave
from kedb.core import collector

SCRIPT = Path(sys.executable).with_name("kedb")
# Output stays in Python's buffers until it is flushed (PYTHONUNBUFFERED, set in some shells and CI images, would hide a
# missing flush).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def _script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """Run a click command through ``leave.run`` in a process of its own; ``body`` defines ``cmd``."""
    code = (
        textwrap.dedent(
            """
        import atexit, sys, threading, time
        import click
        from kedb.cli import leave
        """
        )
        + textwrap.dedent(body)
        + "\nleave.run(cmd)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60, env=ENV)


def test_a_build_through_the_console_script_ends_with_its_whole_output(tmp_path: Path) -> None:
    kb = init_repo(copy_kb(FIXTURES / "base", tmp_path / "kb"))
    res = subprocess.run(
        [str(SCRIPT), "--root", str(kb), "build", "--only", "site", "--as-of", AS_OF], capture_output=True, text=True, timeout=600, env=ENV
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.rstrip().endswith("0 errors, 0 warnings"), res.stdout  # the last line, printed before the quick end
    assert (kb / "site" / "index.html").is_file()


def test_the_quick_end_keeps_the_exit_code_the_buffered_output_and_the_exit_handlers(tmp_path: Path) -> None:
    res = _script(
        tmp_path,
        """
        @click.command()
        def cmd():
            atexit.register(lambda: open("handler-ran", "w").close())
            sys.stdout.write("no newline at the end")  # still in the buffer when the command returns
            leave.quickly()
            sys.exit(3)
        """,
    )
    assert res.returncode == 3 and res.stdout == "no newline at the end"
    assert (tmp_path / "handler-ran").exists()


def test_a_running_thread_is_waited_for(tmp_path: Path) -> None:
    """A thread that has not finished when the command returns finishes first, as with a normal exit."""
    res = _script(
        tmp_path,
        """
        def late():
            time.sleep(0.5)
            open("thread-done", "w").close()

        @click.command()
        def cmd():
            threading.Thread(target=late).start()
            leave.quickly()
        """,
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "thread-done").exists()


def test_a_command_that_fails_ends_as_it_always_did(tmp_path: Path) -> None:
    res = _script(
        tmp_path,
        """
        @click.command()
        def cmd():
            leave.quickly()
            sys.exit("kedb: something a user must read")
        """,
    )
    assert res.returncode == 1 and "something a user must read" in res.stderr


def test_a_check_with_findings_ends_quickly_with_its_exit_code_and_report(tmp_path: Path) -> None:
    kb = copy_kb(FIXTURES / "base", tmp_path / "kb")
    ke = next((kb / "known_errors").rglob("KE-0001*.md"))
    ke.write_text(ke.read_text(encoding="utf-8").replace("status: published", "status: no-such-status"), encoding="utf-8")
    res = subprocess.run([str(SCRIPT), "--root", str(kb), "check"], capture_output=True, text=True, timeout=120, env=ENV)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "no-such-status" in res.stdout and "1 error" in res.stdout


def test_collections_stay_rare_to_the_end_only_in_a_process_the_console_script_ends(tmp_path: Path) -> None:
    """A build under the console script leaves the cyclic collector rare until the process ends (putting the
    thresholds back made the next allocation walk every object the build left); a process that goes on keeps its own."""
    res = _script(
        tmp_path,
        """
        import gc
        from kedb.core import collector

        @click.command()
        def cmd():
            before = gc.get_threshold()
            leave.collect_rarely_to_the_end()
            with collector.rarely():
                pass
            print(before)
            print(gc.get_threshold())
        """,
    )
    assert res.returncode == 0, res.stderr
    before, after = res.stdout.splitlines()
    assert after == str(collector.THRESHOLDS), "rare after the build's own thresholds were put back"
    assert before != after


def test_outside_the_console_script_the_thresholds_are_left_alone() -> None:
    before = gc.get_threshold()
    leave.collect_rarely_to_the_end()
    assert gc.get_threshold() == before
