"""Deleting without waiting: a detached process removes what a build no longer needs.

On the machines kedb was measured on, removing a file takes about a millisecond of waiting on the
disk, so the old site of 10,000 records (20,000 files) took 8 s to delete and the page cache's
stale entries as long again: more than the rest of a build from the cache. Nothing that is still
read is ever handed over, so deleting it later changes nothing a build shows.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path


def delete_detached(paths: Iterable[Path]) -> None:
    """Remove ``paths`` (folders with all they hold, or files) in a grandchild process that outlives this
    one: a double fork, so there is nothing to reap and no terminal. Where there is no fork, here and now."""
    todo = list(paths)
    if not todo:
        return
    if not hasattr(os, "fork"):
        _remove_all(todo)
        return
    pid = os.fork()
    if pid == 0:  # the child: a new session, then a grandchild that deletes; neither returns into kedb
        try:
            os.setsid()
            if os.fork() == 0:
                _let_go()
                _remove_all(todo)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _let_go() -> None:
    """Hold none of this process's files: a caller reading kedb's output through a pipe waits for every
    holder of the pipe to close it, and would wait for the deletion."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, _max_fd())


def _max_fd() -> int:
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (ValueError, OSError):  # pragma: no cover - every POSIX system has it
        return 1024


def _remove_all(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                _remove_tree(path)
            else:
                path.unlink()


def _remove_tree(folder: Path) -> None:
    """Remove ``folder``, its own ``.gitignore`` last: a folder kedb marked as nothing for git
    (:func:`kedb.build.run._ignored_by_git`) stays so until it is empty, so a ``git add -A`` meanwhile
    neither stages what is left of it nor trips over files that vanish under it."""
    ignore = folder / ".gitignore"
    for child in os.scandir(folder):
        if child.name == ".gitignore":
            continue
        if child.is_dir(follow_symlinks=False):
            shutil.rmtree(child.path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(child.path)
    with contextlib.suppress(OSError):
        ignore.unlink()
    shutil.rmtree(folder, ignore_errors=True)
