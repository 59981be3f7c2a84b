"""Write a git history quickly by feeding ``git fast-import`` a stream of blobs and commits.

The benchmarks need repositories with tens of thousands of commits; running ``git commit`` for
each would take many minutes, while one ``fast-import`` process writes them in seconds. Used by
``bench_history.py`` (20,000 commits) and ``synth.py`` (the synthetic KBs' history).

Each blob and commit gets a mark (a number) that later commits refer to: a commit names its
parents by mark, and a file change names the blob it puts at a path.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

Who = tuple[str, str]  # (name, e-mail)


def put(path: str, blob: int) -> bytes:
    """A file change: ``path`` holds the blob with mark ``blob`` after the commit."""
    return f"M 100644 :{blob} {path}\n".encode()


def remove(path: str) -> bytes:
    """A file change: ``path`` is deleted by the commit."""
    return f"D {path}\n".encode()


class FastImport:
    """One ``git fast-import`` process writing into the repository at ``repo``.

    Use it as a context manager: leaving the block finishes the import and raises if git
    reported a failure (nothing half-written is silently kept)."""

    def __init__(self, repo: Path) -> None:
        self.repo = Path(repo)
        self._marks = 0
        self._proc = subprocess.Popen([*git(self.repo), "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE)
        assert self._proc.stdin is not None
        self._out = self._proc.stdin

    def __enter__(self) -> FastImport:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.finish()
        else:
            self._proc.kill()
            self._proc.wait()

    def _mark(self) -> int:
        self._marks += 1
        return self._marks

    def blob(self, data: bytes) -> int:
        """Store ``data`` once; commits then put it at any path by its mark."""
        mark = self._mark()
        self._out.write(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
        return mark

    def commit(
        self,
        ref: str,
        *,
        author: Who,
        when: int,
        message: str,
        parents: Sequence[int] = (),
        changes: Iterable[bytes] = (),
        committer: Who | None = None,
        committed: int | None = None,
    ) -> int:
        """Write a commit on ``ref`` (``refs/heads/...``) and return its mark.

        ``parents`` are marks: the first is the commit it continues, any others are merged in.
        ``when`` and ``committed`` are seconds since 1970 (UTC); the committer defaults to the
        author and the commit time to the author time."""
        mark = self._mark()
        c_name, c_mail = committer or author
        data = message.encode()
        head = [
            f"commit {ref}\nmark :{mark}\n",
            f"author {author[0]} <{author[1]}> {when} +0000\n",
            f"committer {c_name} <{c_mail}> {committed if committed is not None else when} +0000\n",
        ]
        self._out.write("".join(head).encode() + b"data %d\n%s\n" % (len(data), data))
        if parents:
            self._out.write(f"from :{parents[0]}\n".encode())
            for p in parents[1:]:
                self._out.write(f"merge :{p}\n".encode())
        for change in changes:
            self._out.write(change)
        self._out.write(b"\n")
        return mark

    def finish(self) -> None:
        self._out.write(b"done\n")
        self._out.close()
        if self._proc.wait() != 0:
            raise RuntimeError(f"git fast-import failed in {self.repo} (exit code {self._proc.returncode})")


def git(path: Path) -> list[str]:
    """``git`` bound to the repository at ``path`` itself.

    The benchmarks' repositories live inside this project's own working tree; naming the git
    directory means a missing ``.git`` is an error instead of git finding the project's."""
    path = Path(path)
    if not (path / ".git").is_dir():
        raise RuntimeError(f"{path} is not a git repository (no .git folder)")
    return ["git", f"--git-dir={path / '.git'}", f"--work-tree={path}"]


def init(path: Path, branch: str = "main") -> None:
    """An empty repository at ``path`` whose HEAD will be ``branch``."""
    subprocess.run(["git", "init", "-q", "-b", branch, str(path)], check=True)


def check_out(path: Path, ref: str = "HEAD") -> None:
    """Make the index and the working tree match ``ref`` (files already there are overwritten)."""
    subprocess.run([*git(path), "reset", "-q", "--hard", ref], check=True)
