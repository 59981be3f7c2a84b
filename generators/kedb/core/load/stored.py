"""The aggregates kedb computes and stores under ``content/`` (``content/kpi/``, ``content/audits/``):
reading them back with their file-name rule (KE705) and writing them so that nothing half-written
or unreadable is ever left in place."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from ..audits import AUDIT_DIR, Audit, dump
from ..errors import FindingsError, UsageError
from ..findings import Finding
from ..snapshots import KPI_DIR, KpiSnapshot
from .datafile import read_data_file


def write_data_file(root: Path, rel: str, text: str, expected: BaseModel, what: str) -> Path:
    """Write a data file kedb computed (``content/kpi/``, ``content/audits/``) through a temporary
    file, after reading it back as kedb will: it must load without findings and equal ``expected``."""
    path = Path(root) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="\n")
        res = read_data_file(tmp, rel, type(expected))
        if res.issues or res.model != expected:
            detail = "; ".join(f"line {ln}: {code} {msg}" for code, ln, msg in res.issues) or "it reads back differently"
            raise UsageError(f"kedb wrote an invalid {what} ({detail}); please report this")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


M = TypeVar("M", bound=BaseModel)


def read_stored(root: Path, folder: str, model: type[M], key: str, what: str, findings: list[Finding]) -> tuple[M, ...]:
    """Stored aggregates (``content/kpi/``, ``content/audits/``): one YAML file per period, named
    after the value of its ``key`` field (KE705 otherwise), returned in that order."""
    out: list[M] = []
    base = root / folder
    for p in sorted(base.glob("*.yml")) if base.is_dir() and not base.is_symlink() else []:
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():  # reported by the walk of content/ (KE014); never followed
            continue
        res = read_data_file(p, rel, model)
        findings.extend(res.findings())
        if not isinstance(res.model, model):
            continue
        value = getattr(res.model, key)
        name = value.isoformat() if hasattr(value, "isoformat") else str(value)
        if p.stem == name:
            out.append(res.model)
        else:
            line = res.source.lines.get((key,), 1) if res.source else 1
            findings.append(Finding(rel, line, "KE705", f"this {what} is {name} but the file is named {p.name}; rename it {name}.yml"))
    return tuple(sorted(out, key=lambda m: getattr(m, key)))


def read_snapshots(root: Path, findings: list[Finding]) -> tuple[KpiSnapshot, ...]:
    """Every KPI snapshot under ``content/kpi/`` (the desk's months and weeks, each tenant's), each in
    the place :func:`kedb.core.snapshots.snapshot_path` gives its period and tenant (KE705 otherwise,
    naming that place). Hidden files and folders are skipped, as the walk of ``content/`` skips them;
    links are never followed (the walk reports them, KE014)."""
    out: list[KpiSnapshot] = []
    base = root / KPI_DIR
    if not base.is_dir() or base.is_symlink():
        return ()
    for p in sorted(base.rglob("*.yml")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink() or any(part.startswith(".") for part in p.relative_to(base).parts) or not p.is_file():
            continue
        res = read_data_file(p, rel, KpiSnapshot)
        findings.extend(res.findings())
        if not isinstance(res.model, KpiSnapshot):
            continue
        snap = res.model
        if rel == snap.path:
            out.append(snap)
            continue
        key = ("tenant",) if snap.tenant and p.stem == snap.period else ("period",)
        line = res.source.lines.get(key, 1) if res.source else 1
        whose = f" of tenant {snap.tenant}" if snap.tenant else " of the whole desk"
        findings.append(
            Finding(rel, line, "KE705", f"this snapshot is for {snap.period}{whose} but the file is {rel}; move it to {snap.path}")
        )
    return tuple(sorted(out, key=lambda s: (s.tenant or "", s.period)))


def write_audit(root: Path, audit: Audit, command: str) -> Path:
    """Write ``content/audits/<as_of>.yml`` through a temporary file, after reading it back as kedb will."""

    rel = f"{AUDIT_DIR}/{audit.as_of.isoformat()}.yml"
    return write_data_file(Path(root), rel, dump(audit, command), audit, f"audit for {audit.as_of}")


def read_audit(root: Path, ref: str) -> Audit:
    """A stored audit: ``YYYY-MM-DD`` (``content/audits/<date>.yml``) or a path to one."""

    root = Path(root)
    path = root / AUDIT_DIR / f"{ref}.yml" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", ref) else Path(ref)
    if not path.is_absolute() and not path.is_file():
        path = root / path
    if not path.is_file():
        stored = sorted(p.stem for p in (root / AUDIT_DIR).glob("*.yml")) if (root / AUDIT_DIR).is_dir() else []
        raise UsageError(f"no audit '{ref}' ({path}); stored audits: {', '.join(stored) or 'none (run `kedb tickets audit --write`)'}")
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = str(path)
    res = read_data_file(path, rel, Audit)
    if res.issues or not isinstance(res.model, Audit):
        raise FindingsError("\n".join(f"{rel}:{line}: {code} {msg}" for code, line, msg in res.issues) or f"{rel}: cannot be read")
    return res.model
