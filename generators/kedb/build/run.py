"""``kedb build``: check everything, then render every output from the one KB.

Read everything, then write everything (Pelican's rule): the context is made first (load,
check, history, approvals); if the check has an error nothing is rendered. Outputs are
rendered into a staging folder beside the site (``.site.staging-<pid>``, a sibling of ``site/``
and so on its file system) and swapped into ``site/`` only when all of them succeeded, so a
failed or killed build never leaves a half-written site.

- Artefacts are built per edition, never copied from another build. They are rendered first,
  into ``staging/downloads``, and kept in ``.kedb/downloads/<edition>/`` with a manifest
  (:func:`kedb.build.context.edition_downloads`; files of that folder from another commit or
  other sources are removed). The site links and copies into ``site/downloads/`` only that
  folder's files, and only when its manifest matches this build
  (:func:`kedb.build.context.matching_downloads`), so a plain ``mkdocs build`` / ``mkdocs
  serve`` of the same edition and commit links the same files and any other finds none.
- The site records its edition in ``site/downloads/.kedb-edition``. With ``--only`` and no
  ``site``, the chosen artefacts replace their files in ``site/downloads/`` one by one (each via
  a temporary file beside it and an atomic rename) only when ``site/`` holds the same edition or
  no site yet; otherwise they are only kept, and the build says to rebuild the site.

The swap (:func:`_replace_tree`):

- On Linux one ``renameat2(RENAME_EXCHANGE)`` exchanges the new tree and the old one, so
  ``site/`` is a complete site, the old or the new, at every instant, whatever kills the build.
  Where there is no exchange (another system, a file system without it) two renames: the old
  site to ``.site.old-<pid>``, then the new one to ``site/``; a build killed between the two
  leaves the old site under that name and the next build puts it back. If the new tree cannot
  be moved in, the old one is put back and the build fails with one line.
- A symlinked ``site/`` is honoured: the new tree is staged beside the link's target and
  swapped there, and the link stays a link. (Keeping ``site`` itself as a link to versioned
  folders and replacing the link was not chosen: ``site/`` is a folder that people copy, upload
  as a CI artefact and serve, and this repository tracks ``site/.gitkeep``.)
- Every build starts by repairing what killed builds left (:func:`_repair`): folders and
  files named with the pid of a process that no longer runs. A site moved aside by a swap that
  never finished is put back; their staging folders, old sites and temporary artefact files are
  removed. A running build's are left alone.
- The old site is kept: after the swap it becomes ``.site.spare`` (:func:`_keep_spare`), and the next
  build is staged in it (:func:`_take_spare`), keeping the record pages that the tree's manifest
  vouches for and writing only the others (:mod:`kedb.site.trees`; making and deleting the 20,000
  folders and files of a site of 10,000 records cost most of an edit build's time on this
  machine's file system). Only the MkDocs engine is staged in a spare (MkDocs empties the folder it
  builds in), and only a spare whose manifest vouches for pages of this edition: any other (the
  cache removed, another edition) is discarded before the check (:func:`_drop_unvouched_spare`),
  since MkDocs would delete its files one by one while the build waits. A tree that cannot be
  kept (a spare is already there) is renamed ``.site.trash-<pid>`` and deleted by a detached
  process (:func:`_discard`); a trash folder of a build that no longer runs gets a new deleter at
  the next build.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import json
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from .. import renderers
from ..check.run import ensure_kb
from ..core import collector, forkpool
from ..core.background import delete_detached
from ..core.errors import EnvironmentProblem, KedbError, UsageError
from ..core.gate import EVIDENCE_NOTE
from ..core.trail import ApprovalReport
from ..site import trees
from .context import (
    MANIFEST,
    BuildContext,
    BuildInfo,
    edition_downloads,
    edition_name,
    make,
    manifest_data,
    manifest_matches,
    matching_downloads,
)

OUTPUTS: dict[str, str] = {
    "site": "site/ (the MkDocs-Material knowledge base)",
    **{name: f"site/downloads/{renderers.file_name(name)}" for name in renderers.ARTEFACTS},
}
SITE_DIR = "site"
# Which engine builds the site: MkDocs with the kedb plugin (kedb.site.render), or Zensical fed the
# pages kedb renders (kedb.site.zensical). ProperDocs is MkDocs' fork: `properdocs build` runs the plugin.
ENGINES = ("mkdocs", "zensical")
STATE_DIR = ".kedb"
EDITION_MARK = ".kedb-edition"  # in site/downloads/: the edition that site/ holds


@dataclass(frozen=True)
class Result:
    ctx: BuildContext
    written: tuple[tuple[str, Path], ...]  # (output name, final path)
    notes: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        kb = self.ctx.report.kb
        shown = self.ctx.kb
        lines = [
            f"KB: {len(kb.records)} records checked; this edition (audience {self.ctx.info.audience}"
            + (f", tenant {self.ctx.info.tenant}" if self.ctx.info.tenant else "")
            + f") shows {len(shown.known_errors)} known errors, {len(shown.workarounds)} workarounds, {len(shown.problems)} problems",
            f"built from {self.ctx.info.short} dated {self.ctx.info.date.isoformat()}"
            + (" (uncommitted record edits)" if self.ctx.info.dirty else ""),
        ]
        if self.ctx.info.history_note:
            lines.append(self.ctx.info.history_note)
        root = self.ctx.report.kb.root
        lines.extend(f"built {name}: {_rel(path, root)}" for name, path in self.written)
        lines.extend(self.notes)
        return lines


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def parse_only(only: str | None) -> tuple[str, ...]:
    if not only:
        return tuple(OUTPUTS)
    names = tuple(dict.fromkeys(x.strip() for x in only.split(",") if x.strip()))
    unknown = [n for n in names if n not in OUTPUTS]
    if unknown or not names:
        raise UsageError(f"unknown output(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(OUTPUTS)}")
    return names


SUMMARY_LIMIT = 10  # violations listed by `kedb build`; `kedb check --approvals` lists every one


def approvals_summary(report: ApprovalReport | None) -> list[str]:
    """What ``kedb build`` says about the approval trail: the counts, and the first violations."""
    if report is None:
        return ["approvals: not verified (no git history)"]
    req = report.required
    ok = sum(1 for a in req if a.status == "approved")
    pre = sum(1 for a in req if a.status == "before-gate")
    judged = [c for c in report.changes if c.status not in ("before-gate", "gate-moved")]
    lines = [
        f"approvals: {len(req)} record versions needed one: {ok} approved, {pre} before the gate"
        + (f" ({report.gate_since})" if report.gate_since else "")
        + f", {len(report.violations)} violations"
        + (" (history is partial)" if report.partial else ""),
        f"approvals: {len(judged)} changes to other files needed a maintainer: "
        f"{sum(1 for c in judged if c.status == 'approved')} approved, {len(report.change_violations)} violations" + ".",
        f"approvals: {EVIDENCE_NOTE[report.evidence]}",
    ]
    listed = [
        f"  {a.record} v{a.version.number} {a.version.short} {a.version.date.date()}: {a.status}: {a.message}" for a in report.violations
    ] + [
        f"  {c.landing.short} {c.landing.date.date()} {', '.join(c.landing.paths[:2])}: {c.status}: {c.message}"
        for c in report.change_violations
    ]
    lines.extend(listed[:SUMMARY_LIMIT])
    if len(listed) > SUMMARY_LIMIT:
        lines.append(f"  … and {len(listed) - SUMMARY_LIMIT} more: `kedb check --approvals` lists every one")
    return lines


# Called with (step, None) when a step starts and (step, seconds) when it has finished.
Progress = Callable[[str, float | None], None]


class _Steps:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self.progress:
            self.progress(name, None)
        t = time.perf_counter()
        yield
        if self.progress:
            self.progress(name, time.perf_counter() - t)


class RenderFailed(KedbError):
    """A renderer failed: kedb's own bug or an unusable template; nothing was replaced."""


def _render(name: str, fn: Callable[[], Path]) -> Path:
    try:
        return fn()
    except KedbError:
        raise
    except Exception as exc:
        raise RenderFailed(
            f"building {name} failed ({type(exc).__name__}: {exc}{''.join('; ' + n for n in getattr(exc, '__notes__', ()))}); "
            "nothing in site/ was changed. "
            "If templates/ was edited, check it; otherwise please report this with the output of `kedb build --only " + name + "`"
        ) from exc


# The artefacts rendered in worker processes, the longest first so that the two workers finish
# together (10,000 records: xlsx 13 s then pptx 2 s, beside docx 11 s). The proof brief (pdf, 16 s)
# renders meanwhile in the build's own process: it lists the others' hashes, and reportlab reaches
# that table after 90 % of its work (renderers.built_hashes waits for them there).
IN_WORKERS = ("xlsx", "docx", "pptx")
_ARTEFACT_JOB: tuple[BuildContext, Path] | None = None  # what a forked worker renders with


def render_artefacts(ctx: BuildContext, names: list[str], out: Path, progress: Progress | None = None) -> list[tuple[str, Path]]:
    """The artefacts ``names`` written into ``out``, in the order of ``names``: beside each other in
    forked workers (:mod:`kedb.core.forkpool`: they share the context as it is) where the machine
    allows it, else one after another. Each renderer reads only the context, so the bytes are the
    same either way; a failure stops the build with the renderer's own error."""
    step = _Steps(progress)
    elsewhere = [n for n in IN_WORKERS if n in names]
    here = [n for n in names if n not in elsewhere]
    if len(names) < 2 or not elsewhere or not forkpool.can_fork():
        done = []
        for name in names:
            with step(name):
                done.append((name, _render(name, lambda n=name: renderers.get(n)(ctx, out))))
        return done
    global _ARTEFACT_JOB
    if progress:
        progress(", ".join(names), None)
    _ARTEFACT_JOB = (ctx, out)
    paths: dict[str, Path] = {}
    try:
        with forkpool.started(_render_in_worker, elsewhere) as futures:
            for name, future in zip(elsewhere, futures, strict=True):
                renderers.expect(ctx, name, lambda f=future: _worker_result(f, elsewhere)[0])
            for name in here:
                t = time.perf_counter()
                paths[name] = _render(name, lambda n=name: renderers.get(n)(ctx, out))
                if progress:
                    progress(name, time.perf_counter() - t)
            for name, future in zip(elsewhere, futures, strict=True):
                paths[name], secs = _worker_result(future, elsewhere)
                if progress:
                    progress(name, secs)
    finally:
        _ARTEFACT_JOB = None
        renderers.settled(ctx)
    return [(n, paths[n]) for n in names]


def _render_in_worker(name: str) -> tuple[Path, float]:
    assert _ARTEFACT_JOB is not None
    ctx, out = _ARTEFACT_JOB
    t = time.perf_counter()
    path = _render(name, lambda: renderers.get(name)(ctx, out))
    return path, time.perf_counter() - t


def _worker_result(future: Future[tuple[Path, float]], names: list[str]) -> tuple[Path, float]:
    """A worker's file and seconds, or its error (a KedbError, as raised there)."""
    try:
        return future.result()
    except BrokenProcessPool:
        raise RenderFailed(
            f"a worker rendering {', '.join(names)} stopped without a word (killed, or out of memory); "
            "nothing in site/ was changed. Run `kedb build` again; if it happens again, build one artefact at a time with --only"
        ) from None


AT_FDCWD = -100  # Linux: a path relative to the working directory
RENAME_EXCHANGE = 2  # Linux (fs.h): exchange the two paths in one step


def _renameat2() -> Any:
    """libc's ``renameat2`` (Linux, glibc 2.28 and later), or None."""
    try:
        return ctypes.CDLL(None).renameat2
    except (OSError, AttributeError):
        return None


def _exchange(a: Path, b: Path) -> bool:
    """Exchange two paths in one step; False, with nothing changed, where the system, the file
    system or the paths (one missing, two file systems) do not allow it."""
    fn = _renameat2()
    return fn is not None and fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0


def _replace_tree(src: Path, dst: Path, keep_old: bool = False) -> None:
    """Put the tree ``src`` where ``dst`` is (``src`` is staged beside it), then remove the old tree, or with
    ``keep_old`` keep it for the next build to be staged in (:func:`_keep_spare`).

    By an exchange, ``dst`` is a complete tree, old or new, at every instant. By two renames
    there is a moment without it; the old tree is then ``.<dst>.old-<pid>``, which the next build
    puts back (:func:`_repair`). If the new tree cannot be moved in, the old one is put back."""
    if not _exchange(src, dst):
        old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        moved = dst.exists()
        if moved:
            os.rename(dst, old)
        try:
            os.rename(src, dst)
        except OSError:
            if moved:
                os.rename(old, dst)
            raise
        if moved:
            os.rename(old, src)  # away from the name the next build would restore, then kept or removed
    (_keep_spare if keep_old else _discard)(src, dst)


def _spare(site: Path) -> Path:
    """Where the site tree a swap replaced waits for the next build (:func:`_take_spare`)."""
    return site.with_name(f".{site.name}.spare")


def _take_spare(site: Path, tree: Path) -> None:
    """Move the spare tree (the site two builds ago) to ``tree``, where the build is staged, so that the record pages
    it can keep are not written again (:mod:`kedb.site.trees`: each is checked against the manifest kedb wrote for it).
    What MkDocs' cleaning would leave goes first: entries whose names start with a dot and links at the top (it keeps
    the first and cannot remove the second). A spare that is a link or not a folder is never taken."""
    spare = _spare(site)
    try:
        if not stat.S_ISDIR(os.lstat(spare).st_mode):
            return
        os.rename(spare, tree)
    except OSError:
        return
    if tree.is_symlink() or not tree.is_dir():  # replaced between the look and the move: not ours to build in
        with contextlib.suppress(OSError):
            tree.unlink()
        return
    with os.scandir(tree) as entries:
        for entry in entries:
            if entry.name.startswith(".") or entry.is_symlink():
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def _drop_unvouched_spare(site: Path, vouched: Callable[[str], bool]) -> None:
    """Discard the spare tree (:func:`_discard`) when no manifest ``vouched`` for it (the cache was removed, another
    edition): MkDocs would otherwise delete its pages one by one while the build waits (2.3 s at 10,000 records), to
    write them all again. Called before the check, which keeps one core busy, so the deleter has the other."""
    spare = _spare(site)
    with contextlib.suppress(OSError):
        if stat.S_ISDIR(os.lstat(spare).st_mode) and not vouched(str(spare)):
            _discard(spare, site)


def _keep_spare(tree: Path, site: Path) -> None:
    """Keep ``tree`` (the site a swap replaced, or one a failed build left half made) as the next build's spare; when
    there is one already, or it cannot be moved, it is discarded (:func:`_discard`). A link or a file under the
    spare's name is never taken (:func:`_take_spare`) and would keep every later build from reusing a tree: the name
    itself is removed (a link is not followed)."""
    if tree.is_symlink() or not tree.is_dir():
        return
    spare = _spare(site)
    if spare.is_symlink() or (os.path.lexists(spare) and not spare.is_dir()):
        with contextlib.suppress(OSError):
            spare.unlink()
    if not os.path.lexists(spare):
        try:
            os.rename(tree, spare)
        except OSError:
            pass
        else:
            _ignored_by_git(spare)
            return
    _discard(tree, site)


def _discard(tree: Path, site: Path) -> None:
    """Remove ``tree`` (the old site after a swap) without making the build wait: it is renamed
    ``.<site>.trash-<pid>`` beside the site and deleted by a detached process. Deleting a site of
    10,000 records (20,000 files) took 8 s here, as long as the rest of a build from the page cache.

    A trash folder whose build no longer runs is handed to a new deleter by the next build
    (:func:`_repair`), so a deleter that was killed costs nothing but disk space until then."""
    if not tree.exists():  # a first swap: there was no old site
        return
    trash = site.with_name(f".{site.name}.trash-{os.getpid()}")
    try:
        os.rename(tree, trash)
    except OSError:
        shutil.rmtree(tree, ignore_errors=True)
        return
    try:
        real = stat.S_ISDIR(os.lstat(trash).st_mode)
    except OSError:
        return
    if not real:  # a link put in the tree's place between a look and the move: only the name goes, never its target
        with contextlib.suppress(OSError):
            trash.unlink()
        return
    _ignored_by_git(trash)
    delete_detached([trash])


def _ignored_by_git(folder: Path) -> None:
    """Mark ``folder`` as nothing for git (a ``.gitignore`` of ``*`` in it): a KB whose own ``.gitignore``
    does not name ``.site.*`` must not stage a build's staging folder or an old site being deleted
    with ``git add -A``, nor have git trip over its files vanishing."""
    with contextlib.suppress(OSError):
        (folder / ".gitignore").write_text("# kedb: a build's working folder, removed by kedb\n*\n", encoding="utf-8")


def _install_file(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` through a temporary file beside it: ``dst`` is the old file or the
    new one at every instant, and a failed copy leaves nothing behind."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def _stale(path: Path, prefix: str) -> bool:
    """Whether ``path`` is named ``prefix`` + the pid of a process that no longer runs.

    This process's own pid counts as stale: its folders are made after the repair, so one that
    is already there is a killed build's whose pid came back (containers start at the same pids)."""
    pid = path.name.removeprefix(prefix)
    if not path.name.startswith(prefix) or not pid.isdecimal():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # PermissionError: it runs, as another user
        return False
    return False


def _clear(folder: Path, prefix: str) -> None:
    """Remove the entries of ``folder`` named ``prefix`` + the pid of a process that no longer runs."""
    for path in folder.glob(glob.escape(prefix) + "*"):
        if _stale(path, prefix):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _repair(site: Path, state: Path) -> None:
    """Undo what killed builds left: put back a site that a swap moved aside and never replaced,
    then remove their staging folders, old sites and temporary artefact files (``site`` is the
    real folder, a symlink resolved)."""
    old = f".{site.name}.old-"
    for path in sorted(site.parent.glob(glob.escape(old) + "*")):
        if not site.exists() and _stale(path, old):
            os.rename(path, site)
    kept = [state / "downloads", *(d for d in (state / "downloads").glob("*") if d.is_dir() and not d.is_symlink())]
    names = [renderers.file_name(n) for n in renderers.ARTEFACTS] + [MANIFEST, EDITION_MARK]
    temporary = [(d, f".{name}.tmp-") for name in names for d in (site / "downloads", *kept)]
    for folder, prefix in [(site.parent, old), (site.parent, f".{site.name}.staging-"), *temporary]:
        _clear(folder, prefix)
    trash = f".{site.name}.trash-"
    for path in site.parent.glob(glob.escape(trash) + "*"):
        if _stale(path, trash) and path.is_dir() and not path.is_symlink():
            delete_detached([path])  # an earlier build's old site, its deleter gone or still at work


def build(
    root: Path,
    only: str | None = None,
    audience: str = "internal",
    tenant: str | None = None,
    *,
    allow_shallow: bool = False,
    as_of: date | None = None,
    progress: Progress | None = None,
    engine: str = "mkdocs",
) -> Result:
    with collector.rarely():  # a large KB's objects are not walked again and again (kedb.core.collector)
        return _build(root, only, audience, tenant, allow_shallow=allow_shallow, as_of=as_of, progress=progress, engine=engine)


def _build(
    root: Path,
    only: str | None,
    audience: str,
    tenant: str | None,
    *,
    allow_shallow: bool,
    as_of: date | None,
    progress: Progress | None,
    engine: str,
) -> Result:
    outputs = parse_only(only)
    if engine not in ENGINES:
        raise UsageError(f"unknown site engine {engine!r}; choose from {', '.join(ENGINES)}")
    step = _Steps(progress)
    # A symlinked site/ is built beside its target and swapped there; the link stays.
    kb = ensure_kb(root)
    target = Path(os.path.realpath(kb / SITE_DIR))
    _repair(target, Path(root) / STATE_DIR)
    if "site" in outputs and engine == "mkdocs":
        edition = edition_name(audience, tenant)
        _drop_unvouched_spare(target, lambda tree: trees.vouched(kb, tree, edition))
    with step("check, history and approvals"):
        ctx = make(root, audience=audience, tenant=tenant, allow_shallow=allow_shallow, as_of=as_of)
    kb_root = ctx.kb.root
    state = kb_root / STATE_DIR
    state.mkdir(exist_ok=True)
    site_dir = kb_root / SITE_DIR
    staging = target.with_name(f".{target.name}.staging-{os.getpid()}")
    try:
        staging.mkdir()
    except OSError as e:
        raise EnvironmentProblem(f"cannot make the staging folder {staging} beside the site ({e.strerror or e})") from e
    _ignored_by_git(staging)
    written: list[tuple[str, Path]] = []
    notes: list[str] = []
    try:
        downloads = staging / "downloads"
        downloads.mkdir()
        written = render_artefacts(ctx, [n for n in outputs if n != "site"], downloads, step.progress)
        keep = edition_downloads(kb_root, ctx.info)
        if written:
            _keep(keep, ctx.info, [p for _, p in written])
        if "site" in outputs:
            if engine == "zensical":
                from ..site import zensical as site
            else:
                from ..site import render as site  # type: ignore[no-redef]

            if engine == "mkdocs":  # MkDocs empties the folder it builds in; the plugin keeps only what it checked
                _take_spare(target, staging / "site")
            with step("site" if engine == "mkdocs" else f"site ({engine})"):
                built = _render(
                    "site", lambda: site.render(replace(ctx, downloads_dir=matching_downloads(kb_root, ctx.info)), staging / "site")
                )
            (built / ".gitkeep").touch()
            (built / "downloads").mkdir(exist_ok=True)
            (built / "downloads" / EDITION_MARK).write_text(ctx.info.edition + "\n", encoding="utf-8")
            try:
                _replace_tree(built, target, keep_old=engine == "mkdocs")
            except OSError as e:
                raise EnvironmentProblem(f"could not move the new site into {target} ({e.strerror or e}); nothing there was changed") from e
            final = [(n, site_dir / "downloads" / p.name) for n, p in written]
            written = [("site", site_dir), *final]
        else:
            final = []
            other = _site_edition(site_dir)
            if other in (None, ctx.info.edition):
                for n, p in written:
                    dst = site_dir / "downloads" / p.name
                    _install_file(p, dst)
                    final.append((n, dst))
                if written and other is None:
                    _install_text(site_dir / "downloads" / EDITION_MARK, ctx.info.edition + "\n")
            else:
                final = [(n, keep / p.name) for n, p in written]
                notes.append(
                    f"site/ holds the {other} edition, so its downloads were left alone: "
                    f"run `kedb build --only site{_edition_flags(ctx.info)}` to publish this edition with these files"
                )
            written = final
    finally:
        if "site" in outputs and engine == "mkdocs":
            _keep_spare(staging / "site", target)  # a site this build could not finish (or the spare it did not use)
        shutil.rmtree(staging, ignore_errors=True)
    return Result(ctx, tuple(written), tuple(notes))


def _edition_flags(info: BuildInfo) -> str:
    return f" --audience {info.audience}" + (f" --tenant {info.tenant}" if info.tenant else "")


def _site_edition(site: Path) -> str | None:
    """The edition ``site/`` holds (its downloads' mark); None when there is no site yet; a
    site without a mark (built by ``mkdocs build`` or an older kedb) counts as another edition."""
    if not (site / "index.html").exists():
        return None
    try:
        return (site / "downloads" / EDITION_MARK).read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


def _install_text(dst: Path, text: str) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def _keep(folder: Path, info: BuildInfo, paths: list[Path]) -> None:
    """Keep this build's artefacts in its edition's folder, with a manifest listing every artefact
    there. Artefacts kept for another commit or other sources are removed first; the old manifest
    goes before any file changes, so a killed build leaves a folder no site links."""
    folder.mkdir(parents=True, exist_ok=True)
    current = manifest_matches(folder, info) is not None
    (folder / MANIFEST).unlink(missing_ok=True)
    if not current:
        for name in renderers.ARTEFACTS:
            (folder / renderers.file_name(name)).unlink(missing_ok=True)
    for path in paths:
        _install_file(path, folder / path.name)
    present = [folder / renderers.file_name(n) for n in renderers.ARTEFACTS if (folder / renderers.file_name(n)).is_file()]
    _install_text(folder / MANIFEST, json.dumps(manifest_data(info, present), indent=2, sort_keys=True) + "\n")
