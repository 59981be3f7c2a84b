"""One module per output, one signature, one registry.

Every renderer is ``render(ctx: BuildContext, out_dir: Path) -> Path``: it receives the checked
KB, its history and build information, writes one output under ``out_dir`` and returns its
path. Renderers never read files or git themselves. Modules are imported only when used, so
``kedb check`` does not pay for python-docx or reportlab.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import tempfile
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from ..build.context import BuildContext

Renderer = Callable[["BuildContext", Path], Path]


@dataclass(frozen=True)
class Artefact:
    """One artefact as the registry declares it: the build, the downloads page and the renderer
    itself (its output file name) all read it from here."""

    name: str  # docx, xlsx, ...: the --only name
    module: str
    file: str  # written under out_dir
    title: str
    description: str


RENDERERS: dict[str, Artefact] = {
    a.name: a
    for a in (
        Artefact(
            "docx",
            "kedb.renderers.docx",
            "implementation-runbook.docx",
            "Implementation runbook",
            "Roles, triggers, playbook steps, every published known error with its workaround and rollback, escalation paths.",
        ),
        Artefact(
            "xlsx",
            "kedb.renderers.xlsx",
            "kpi-and-risk-register.xlsx",
            "KPI and risk register",
            "KPI baseline tracker with formulas, risk and control register, known-error register.",
        ),
        Artefact(
            "pptx",
            "kedb.renderers.pptx",
            "exec-brief.pptx",
            "Executive brief",
            "The implementation deck: problem, KPIs with charts, top recurring problems, pending approvals, risks.",
        ),
        Artefact(
            "pdf",
            "kedb.renderers.pdf",
            "proof-brief.pdf",
            "Proof brief",
            "Governance evidence: KPI movement, controls, the approval trail of each published record, the commit built.",
        ),
    )
}
ARTEFACTS: tuple[str, ...] = tuple(RENDERERS)


def get(name: str) -> Renderer:
    """The renderer of ``name``; each file it writes is remembered for :func:`built_hashes`."""
    render: Renderer = importlib.import_module(RENDERERS[name].module).render

    def run(ctx: BuildContext, out_dir: Path) -> Path:
        path = render(ctx, out_dir)
        _remember(ctx, name, path)
        return path

    return run


# The SHA-256 of each artefact rendered in this process, per build context (by identity, with a
# weak reference so a context that is gone is never mistaken for a new one at the same address).
_BUILT: dict[int, tuple[weakref.ref[BuildContext], dict[str, str]]] = {}


_V = TypeVar("_V")


def _of(table: dict[int, tuple[weakref.ref[BuildContext], dict[str, _V]]], ctx: BuildContext) -> dict[str, _V]:
    """``ctx``'s entries in ``table`` (made empty for a new context), after dropping those of
    contexts that are gone."""
    for key in [k for k, (ref, _) in table.items() if ref() is None]:
        del table[key]
    entry = table.get(id(ctx))
    if entry is None or entry[0]() is not ctx:
        entry = (weakref.ref(ctx), {})
        table[id(ctx)] = entry
    return entry[1]


def _remember(ctx: BuildContext, name: str, path: Path) -> None:
    _of(_BUILT, ctx)[name] = hashlib.sha256(path.read_bytes()).hexdigest()


# Artefacts of a build being rendered in other processes (kedb.build.run.render_artefacts): by
# context, name -> a call that waits for the file and returns its path.
_PENDING: dict[int, tuple[weakref.ref[BuildContext], dict[str, Callable[[], Path]]]] = {}


def expect(ctx: BuildContext, name: str, wait: Callable[[], Path]) -> None:
    """Artefact ``name`` of ``ctx`` is being rendered elsewhere; ``wait()`` returns its file once
    written (or raises the error that stopped it). :func:`built_hashes` waits for it."""
    _of(_PENDING, ctx)[name] = wait


def settled(ctx: BuildContext) -> None:
    """The artefacts of ``ctx`` rendered elsewhere are all written (or failed): forget the waits.
    One not yet hashed is hashed now, so :func:`built_hashes` still knows it."""
    entry = _PENDING.pop(id(ctx), None)
    if entry is not None and entry[0]() is ctx:
        for name, wait in entry[1].items():
            with contextlib.suppress(Exception):  # its own error was raised where the build waited for it
                _remember(ctx, name, wait())


def built_hashes(ctx: BuildContext, names: Sequence[str]) -> dict[str, str]:
    """The SHA-256 of the artefacts ``names`` of this build (the proof brief lists them). One being
    rendered in another process (:func:`expect`) is waited for; one not rendered from ``ctx`` yet is
    rendered into a scratch folder: the same commit gives the same bytes, so its hash is the hash of
    the file ``kedb build`` writes."""
    pending = _PENDING.get(id(ctx))
    if pending is not None and pending[0]() is ctx:
        for n in names:
            wait = pending[1].pop(n, None)
            if wait is not None:
                _remember(ctx, n, wait())
    entry = _BUILT.get(id(ctx))
    known = entry[1] if entry is not None and entry[0]() is ctx else {}
    missing = [n for n in names if n not in known]
    if missing:
        with tempfile.TemporaryDirectory(prefix="kedb-hash-") as scratch:
            for n in missing:
                get(n)(ctx, Path(scratch))
        entry = _BUILT[id(ctx)]
        known = entry[1]
    return {n: known[n] for n in names}


def file_name(name: str) -> str:
    return RENDERERS[name].file
