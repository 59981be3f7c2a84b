"""Read every file of a KB repository once and build the in-memory KB.

Reading is per file and independent (parse, validate, scan), so a big KB is read by a
process pool; everything that needs the whole KB (links, ids, policy) runs afterwards in
:mod:`kedb.rules`. Nothing here raises for bad input: problems come back as findings.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from . import frontmatter, scan, schemaerr
from .findings import Finding
from .kb import KB, Program, Record, Source
from .models import RECORD_MODELS
from .program import PROGRAM_FILES, Playbook, SettingsFile
from .snapshots import KPI_DIR, KpiSnapshot
from .yamlstrict import Parsed, parse

RECORD_DIR = "known_errors"
CONTENT_DIR = "content"
PLAYBOOK_DIR = "content/playbooks"
RECORD_NAME = re.compile(r"^(KE|WA|PRB)-(\d{4,})(?:-[a-z0-9][a-z0-9-]*)?\.md$")
_FATAL_YAML = frozenset(("KE001", "KE002", "KE003", "KE004", "KE006", "KE007", "KE008", "KE009", "KE011"))
PARALLEL_THRESHOLD = 1500
# roles.yml is the staff directory and kedb.yml holds the allowlist itself: contact details belong there.
CONTACT_FILES = ("roles.yml", "kedb.yml")

Issue = tuple[str, int, str]


class FileResult(NamedTuple):
    """What reading one file produced. A tuple, so it comes back from a worker process cheaply;
    workers send the validated ``data`` instead of the model, which the parent rebuilds."""

    rel: str
    source: Source | None
    model: BaseModel | None
    seen_id: str | None
    issues: tuple[Issue, ...]
    data: Any = None


def _read_text(path: str | Path) -> tuple[str, bytes, list[Issue]]:
    with open(path, "rb") as fh:
        raw = fh.read()
    text, err = frontmatter.decode(raw)
    if err:
        return "", raw, [err]
    text, ctrl = scan.control_chars(text)
    return text, raw, ctrl


def _validate(model: type[BaseModel], parsed: Parsed, issues: list[Issue]) -> BaseModel | None:
    if any(code in _FATAL_YAML for code, _, _ in issues):
        return None
    if not isinstance(parsed.data, dict):
        if parsed.data is None:
            issues.append(("KE010", parsed.first_line, "there are no 'key: value' lines: it is empty"))
        else:
            issues.append(("KE010", parsed.line_of(()), f"expected 'key: value' lines, found a {type(parsed.data).__name__}"))
        return None
    try:
        return model.model_validate(parsed.data)
    except ValidationError as exc:
        issues.extend(schemaerr.findings(exc, parsed, model))
        return None


def read_markdown(
    path: str | Path,
    rel: str,
    model: type[BaseModel],
    allow: scan.Allow,
    max_bytes: int,
    max_line: int,
    required_sections: tuple[str, ...] = (),
) -> FileResult:
    """Read a Markdown file with front-matter: split, parse strictly, validate, scan."""
    try:
        text, raw, issues = _read_text(path)
        if not text and issues:
            return FileResult(rel, None, None, None, tuple(issues))
        issues.extend(scan.size(len(raw), text, max_bytes, max_line))
        sp = frontmatter.split(text)
        if sp.issue:
            issues.append(sp.issue)
            return FileResult(rel, None, None, None, tuple(issues))
        parsed = parse(sp.front, line_offset=sp.front_line - 1)
        issues.extend(parsed.issues)
        seen = parsed.data.get("id") if isinstance(parsed.data, dict) else None
        meta = _validate(model, parsed, issues)
        sections = frontmatter.sections(sp.body, sp.body_line)
        if meta is not None:
            for title in required_sections:
                sec = sections.get(title.lower())
                if sec is None:
                    issues.append(("KE107", sp.body_line, f"the body has no '## {title}' section"))
                elif not sec.text:
                    issues.append(("KE107", sec.line, f"the '## {title}' section is empty"))
        issues.extend(scan.secrets(text, allow))
        issues.extend(scan.unsafe_markdown(sp.body, sp.body_line))
        source = Source(
            path=rel,
            sha256=hashlib.sha256(raw).hexdigest(),
            text=text,
            lines=parsed.lines,
            body_start=sp.body_start,
            body_line=sp.body_line,
        )
        return FileResult(rel, source, meta, seen if isinstance(seen, str) else None, tuple(issues), parsed.data if meta else None)
    except Exception as exc:
        return FileResult(
            rel, None, None, None, (("KE000", 1, f"kedb could not read this file ({type(exc).__name__}: {exc}); please report this"),)
        )


def _read_record(args: tuple[str, str, scan.Allow, int, int]) -> FileResult:
    root, rel, allow, max_bytes, max_line = args
    name = rel.rsplit("/", 1)[-1]
    m = RECORD_NAME.match(name)
    assert m is not None
    model = RECORD_MODELS[m.group(1)]
    res = read_markdown(os.path.join(root, rel), rel, model, allow, max_bytes, max_line, getattr(model, "sections", ()))
    issues = list(res.issues)
    seen = res.seen_id
    if seen is not None and not name.startswith(seen + "-") and name != seen + ".md":
        line = res.source.lines.get(("id",), 2) if res.source else 2
        issues.append(("KE201", line, f"file name '{name}' does not start with the record id '{seen}'; rename it to '{seen}-….md'"))
    return res._replace(issues=tuple(issues))


def _read_chunk(items: list[tuple[str, str, scan.Allow, int, int]]) -> list[FileResult]:
    return [_read_record(it) for it in items]


def _read_chunk_for_parent(items: list[tuple[str, str, scan.Allow, int, int]]) -> list[FileResult]:
    # pydantic models are slow to unpickle; the parent re-validates the (already valid) data.
    return [r._replace(model=None) for r in _read_chunk(items)]


def _rebuild(res: FileResult) -> FileResult:
    if res.model is None and res.data is not None:
        m = RECORD_NAME.match(res.rel.rsplit("/", 1)[-1])
        assert m is not None
        return res._replace(model=RECORD_MODELS[m.group(1)].model_validate(res.data))
    return res


def read_data_file(path: Path, rel: str, model: type[BaseModel]) -> FileResult:
    """Read one YAML data file from content/."""
    try:
        text, raw, issues = _read_text(path)
        if not text and issues:
            return FileResult(rel, None, None, None, tuple(issues))
        parsed = parse(text)
        issues.extend(parsed.issues)
        data = _validate(model, parsed, issues)
        src = Source(rel, hashlib.sha256(raw).hexdigest(), text, parsed.lines, len(text), 1)
        return FileResult(rel, src, data, None, tuple(issues))
    except Exception as exc:
        return FileResult(
            rel, None, None, None, (("KE000", 1, f"kedb could not read this file ({type(exc).__name__}: {exc}); please report this"),)
        )


def _findings(res: FileResult) -> Iterable[Finding]:
    for code, line, msg in res.issues:
        yield Finding(res.rel, line, code, msg)


def record_files(root: Path) -> tuple[list[str], list[Finding]]:
    """Record paths (relative, posix, sorted) and findings for stray files."""
    base = root / RECORD_DIR
    rels: list[str] = []
    stray: list[Finding] = []
    if not base.is_dir():
        return rels, stray
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in filenames:
            if not fn.lower().endswith((".md", ".markdown")) or fn.lower() in ("readme.md", "index.md"):
                continue
            rel = Path(dirpath, fn).relative_to(root).as_posix()
            if RECORD_NAME.match(fn):
                rels.append(rel)
            else:
                stray.append(Finding(rel, 1, "KE012", f"'{fn}' is not named like a record (KE-NNNN-slug.md, WA-…, PRB-…); it is ignored"))
    rels.sort()
    return rels, stray


def load(root: Path, *, workers: int | None = None) -> tuple[KB, list[Finding]]:
    """Read the whole KB under ``root``. Returns the KB (valid records only) and all findings."""
    root = Path(root).resolve()
    findings: list[Finding] = []
    program_models: dict[str, Any] = {}
    program_sources: dict[str, Source] = {}
    for name, model in PROGRAM_FILES.items():
        rel = f"{CONTENT_DIR}/{name}"
        path = root / rel
        if not path.is_file():
            findings.append(
                Finding(
                    rel,
                    1,
                    "KE013",
                    f"required program data file '{rel}' is missing (`kedb new` cannot work without it; copy it from the example KB)",
                )
            )
            continue
        res = read_data_file(path, rel, model)
        findings.extend(_findings(res))
        if res.model is not None:
            program_models[name] = res.model
        if res.source is not None:
            program_sources[name] = res.source

    settings: SettingsFile = program_models.get("kedb.yml") or SettingsFile(name="KB", organisation="-")
    allow = scan.Allow(
        emails=tuple(settings.allowlist.emails),
        phones=tuple(re.sub(r"\D", "", p) for p in settings.allowlist.phones),
    )
    max_bytes, max_line = settings.limits.max_file_kb * 1024, settings.limits.max_line_chars
    for name, src in program_sources.items():
        file_allow = scan.Allow(allow.emails, allow.phones, any_contact=name in CONTACT_FILES)
        findings.extend(Finding(src.path, line, code, msg) for code, line, msg in scan.secrets(src.text, file_allow))

    playbooks: list[Record] = []
    pb_dir = root / PLAYBOOK_DIR
    if pb_dir.is_dir():
        for p in sorted(pb_dir.glob("*.md")):
            rel = p.relative_to(root).as_posix()
            res = read_markdown(p, rel, Playbook, allow, max_bytes, max_line)
            findings.extend(_findings(res))
            if res.model is not None and res.source is not None:
                playbooks.append(Record(res.model, res.source))  # type: ignore[arg-type]
    playbooks.sort(key=lambda r: (r.meta.order, r.source.path))  # type: ignore[attr-defined]

    rels, stray = record_files(root)
    findings.extend(stray)
    items = [(str(root), rel, allow, max_bytes, max_line) for rel in rels]
    n_workers = workers if workers is not None else (min(2, os.cpu_count() or 1) if len(items) >= PARALLEL_THRESHOLD else 1)
    results: list[FileResult]
    if n_workers > 1 and len(items) > 1:
        size = max(1, len(items) // (n_workers * 4))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            results = [_rebuild(r) for chunk in pool.map(_read_chunk_for_parent, chunks) for r in chunk]
    else:
        results = _read_chunk(items)

    records: dict[str, Record] = {}
    seen_ids: dict[str, list[tuple[str, int]]] = {}
    for res in results:
        findings.extend(_findings(res))
        if res.seen_id:
            line = res.source.lines.get(("id",), 2) if res.source else 2
            seen_ids.setdefault(res.seen_id, []).append((res.rel, line))
        if res.model is not None and res.source is not None:
            rid = res.model.id  # type: ignore[attr-defined]
            if rid not in records:
                records[rid] = Record(res.model, res.source)  # type: ignore[arg-type]
    snapshots = _read_snapshots(root, findings)
    program = Program.from_models(program_models, program_sources)
    kb = KB(
        root=root,
        records=dict(sorted(records.items())),
        program=program,
        playbooks=tuple(playbooks),
        seen_ids=seen_ids,
        kpi_snapshots=snapshots,
    )
    return kb, findings


def _read_snapshots(root: Path, findings: list[Finding]) -> tuple[KpiSnapshot, ...]:
    """``content/kpi/YYYY-MM.yml``: KPI aggregates written by ``kedb kpi --write``, sorted by period."""
    out: list[KpiSnapshot] = []
    kdir = root / KPI_DIR
    for p in sorted(kdir.glob("*.yml")) if kdir.is_dir() else []:
        rel = p.relative_to(root).as_posix()
        res = read_data_file(p, rel, KpiSnapshot)
        findings.extend(_findings(res))
        snap = res.model
        if isinstance(snap, KpiSnapshot):
            if p.stem != snap.period:
                line = res.source.lines.get(("period",), 1) if res.source else 1
                findings.append(Finding(rel, line, "KE705", f"this snapshot is for {snap.period} but the file is named {p.name}; rename it {snap.period}.yml"))
            else:
                out.append(snap)
    return tuple(sorted(out, key=lambda s: s.period))
