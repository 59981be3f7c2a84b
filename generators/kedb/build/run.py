"""``kedb build``: check everything, then render every output from the one KB.

Read everything, then write everything (Pelican's rule): the context is made first (load,
check, history, approvals); if the check has an error nothing is rendered. Outputs are
rendered into a staging folder under ``.kedb/`` and moved into ``site/`` only when all of
them succeeded, so a failed build never leaves a half-written site.

- Artefacts are rendered first, into ``staging/downloads``; the site renderer links and
  copies them into ``site/downloads/``. A copy is kept in ``.kedb/downloads/`` so that a plain
  ``mkdocs build`` / ``mkdocs serve`` links the same files.
- With ``--only`` and no ``site``, the chosen artefacts replace their files in
  ``site/downloads/`` one by one (each via a temporary file and an atomic rename).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from .. import renderers
from ..core.errors import KedbError, UsageError
from ..core.gate import EVIDENCE_NOTE
from ..core.trail import ApprovalReport
from .context import BuildContext, make

OUTPUTS: dict[str, str] = {
    "site": "site/ (the MkDocs-Material knowledge base)",
    **{name: f"site/downloads/{renderers.file_name(name)}" for name in renderers.ARTEFACTS},
}
SITE_DIR = "site"
STATE_DIR = ".kedb"


@dataclass(frozen=True)
class Result:
    ctx: BuildContext
    written: tuple[tuple[str, Path], ...]  # (output name, final path)

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


def _replace_tree(src: Path, dst: Path) -> None:
    """Put ``src`` where ``dst`` is with two renames; the old tree is removed afterwards."""
    old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
    if dst.exists():
        dst.rename(old)
    src.rename(dst)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _install_file(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def build(
    root: Path,
    only: str | None = None,
    audience: str = "internal",
    tenant: str | None = None,
    *,
    allow_shallow: bool = False,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> Result:
    outputs = parse_only(only)
    step = _Steps(progress)
    with step("check, history and approvals"):
        ctx = make(root, audience=audience, tenant=tenant, allow_shallow=allow_shallow, as_of=as_of)
    kb_root = ctx.kb.root
    state = kb_root / STATE_DIR
    state.mkdir(exist_ok=True)
    site_dir = kb_root / SITE_DIR
    written: list[tuple[str, Path]] = []
    with tempfile.TemporaryDirectory(prefix="build-", dir=state) as tmp:
        staging = Path(tmp)
        downloads = staging / "downloads"
        downloads.mkdir()
        for name in outputs:
            if name == "site":
                continue
            with step(name):
                written.append((name, _render(name, lambda n=name: renderers.get(n)(ctx, downloads))))
        keep = state / "downloads"
        for _, path in written:
            _install_file(path, keep / path.name)
        if "site" in outputs:
            from ..site import render as site

            with step("site"):
                built = _render("site", lambda: site.render(replace(ctx, downloads_dir=keep), staging / "site"))
            (built / ".gitkeep").touch()
            _replace_tree(built, site_dir)
            final = [(n, site_dir / "downloads" / p.name) for n, p in written]
            written = [("site", site_dir), *final]
        else:
            final = []
            for n, p in written:
                dst = site_dir / "downloads" / p.name
                _install_file(p, dst)
                final.append((n, dst))
            written = final
    return Result(ctx, tuple(written))
