"""Read every file of a KB repository once and build the in-memory KB.

Reading is per file and independent (parse, validate, scan), so a big KB is read by a
process pool; everything that needs the whole KB (links, ids, policy) runs afterwards in
:mod:`kedb.check.rules`. Nothing here raises for bad input: problems come back as findings.
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel

from .. import forkpool, memo
from ..audits import AUDIT_DIR, Audit
from ..findings import Finding
from ..kb import KB, Program, Record, Source
from ..program import PROGRAM_FILES, REQUIRED_PROGRAM_FILES, Playbook, SettingsFile
from ..records import RECORD_MODELS
from ..snapshots import KPI_DIR, split
from . import cache, frontmatter, scan
from .datafile import FileResult, Issue, decode_text, read_data_file, validate
from .files import (
    CONTENT_DIR,
    PLAYBOOK_DIR,
    NotRegularFile,
    Stamp,
    content_files,
    file_stamp,
    read_regular,
    record_files,
    special_finding,
    template_links,
)
from .stored import read_snapshots, read_stored
from .yamlstrict import Parsed, Path_, parse

PARALLEL_THRESHOLD = 1500
# roles.yml is the staff directory and kedb.yml holds the allowlist itself: contact details belong there.
CONTACT_FILES = ("roles.yml", "kedb.yml")


class _Scanned(NamedTuple):
    """What reading one Markdown file produced before validation: plain data only (str, int,
    tuples, dicts, lists, bool, None), so a worker process sends it back with :mod:`marshal`."""

    rel: str
    source: tuple[str, str, dict[Path_, int], int, int] | None  # Source without the path
    seen_id: str | None
    before: tuple[Issue, ...]  # issues up to and including the YAML ones
    data: Any  # the parsed front-matter, or None when it cannot be validated (fatal YAML issue, no text)
    first_line: int
    sections: tuple[Issue, ...]  # KE109 and KE107 issues, reported only when the front-matter is valid
    after: tuple[Issue, ...]  # secrets, unsafe Markdown, file name


def _internal_error(rel: str, exc: Exception) -> FileResult:
    if isinstance(exc, NotRegularFile):  # swapped for a pipe or device after the walk listed it
        f = special_finding(rel)
        return FileResult(rel, None, None, None, ((f.code, f.line, f.message),))
    if isinstance(exc, OSError):
        why = exc.strerror or str(exc)
        return FileResult(rel, None, None, None, (("KE000", 1, f"kedb could not read this file: {why}"),))
    return FileResult(
        rel, None, None, None, (("KE000", 1, f"kedb could not read this file ({type(exc).__name__}: {exc}); please report this"),)
    )


def _scan_markdown(
    path: str | Path,
    rel: str,
    allow: scan.Allow,
    max_bytes: int,
    max_line: int,
    required_sections: tuple[str, ...],
) -> _Scanned | FileResult:
    """Everything per file except validation: split, parse strictly, scan."""
    raw = read_regular(path)
    return _scan_bytes(raw, hashlib.sha256(raw).hexdigest(), rel, allow, max_bytes, max_line, required_sections)


def _scan_bytes(
    raw: bytes,
    sha: str,
    rel: str,
    allow: scan.Allow,
    max_bytes: int,
    max_line: int,
    required_sections: tuple[str, ...],
) -> _Scanned | FileResult:
    text, issues = decode_text(raw)
    if not text and issues:
        return FileResult(rel, None, None, None, tuple(issues))
    issues.extend(scan.size(len(raw), text, max_bytes, max_line))
    sp = frontmatter.split(text)
    if sp.issue:
        issues.append(sp.issue)
        return FileResult(rel, None, None, None, tuple(issues))
    parsed = parse(sp.front, line_offset=sp.front_line - 1)
    issues.extend(parsed.issues)
    if "\\" in sp.front:  # only an escape in a quoted value decodes to a control character
        issues.extend(scan.value_controls(parsed.data, parsed.lines, parsed.first_line))
    data = parsed.data
    seen = data.get("id") if isinstance(data, dict) else None
    sect: list[Issue] = []
    if required_sections:  # records: shown section by section (a playbook's page shows its whole body)
        lead = frontmatter.lead(sp.body, sp.body_line)
        if lead is not None:
            sect.append(
                (
                    "KE109",
                    lead,
                    "text before the first '## ' heading is in no output (a record is shown section by section); "
                    f"move it under '## {required_sections[0]}' or another section",
                )
            )
        sections = frontmatter.sections(sp.body, sp.body_line)
        for title in required_sections:
            sec = sections.get(title.lower())
            if sec is None:
                sect.append(("KE107", sp.body_line, f"the body has no '## {title}' section"))
            elif not sec.text:
                sect.append(("KE107", sec.line, f"the '## {title}' section is empty"))
    after = [*scan.secrets(text, allow), *scan.unsafe_markdown(sp.body, sp.body_line)]
    source = (sha, text, parsed.lines, sp.body_start, sp.body_line)
    return _Scanned(rel, source, seen if isinstance(seen, str) else None, tuple(issues), data, parsed.first_line, tuple(sect), tuple(after))


def _finish(sc: _Scanned | FileResult, model: type[BaseModel]) -> FileResult:
    """Validate a scanned file against ``model`` and put its issues together in reading order."""
    if isinstance(sc, FileResult):
        return sc
    try:
        assert sc.source is not None
        lines = sc.source[2]
        issues = list(sc.before)
        meta = validate(model, Parsed(sc.data, lines, issues, sc.first_line), issues)
        if meta is not None:
            issues.extend(sc.sections)
        issues.extend(sc.after)
        source = Source(sc.rel, *sc.source)
        return FileResult(sc.rel, source, meta, sc.seen_id, tuple(issues), sc.data if meta else None)
    except Exception as exc:
        return _internal_error(sc.rel, exc)


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
        sc = _scan_markdown(path, rel, allow, max_bytes, max_line, required_sections)
    except Exception as exc:
        return _internal_error(rel, exc)
    return _finish(sc, model)


def _record_model(rel: str) -> type[BaseModel]:
    # ``rel`` comes from record_files, which only lists names that match RECORD_NAME (KE-…, WA-…, PRB-…).
    return RECORD_MODELS[rel.rsplit("/", 1)[-1].split("-", 1)[0]]


Item = tuple[str, str, scan.Allow, int, int]  # (root, rel, allow, max_bytes, max_line)
# One record file as read, in the form that travels between processes and into the cache:
# (rel, sha256 of the bytes or None if they could not be read, text, what reading produced
# marshalled without the text). marshal handles these plain types several times faster than pickle.
Packed = tuple[str, str | None, str | None, bytes]


def _scan_record(item: Item) -> tuple[str | None, _Scanned | FileResult]:
    """(sha256 of the file's bytes, what reading it produced); no sha256 when kedb failed on it."""
    root, rel, allow, max_bytes, max_line = item
    name = rel.rsplit("/", 1)[-1]
    model = _record_model(rel)
    try:
        raw = read_regular(os.path.join(root, rel))
        sha = hashlib.sha256(raw).hexdigest()
        sc = _scan_bytes(raw, sha, rel, allow, max_bytes, max_line, getattr(model, "sections", ()))
    except Exception as exc:
        return None, _internal_error(rel, exc)
    seen = sc.seen_id
    if isinstance(sc, _Scanned) and seen is not None and not name.startswith(seen + "-") and name != seen + ".md":
        assert sc.source is not None
        line = sc.source[2].get(("id",), 2)
        issue = ("KE201", line, f"file name '{name}' does not start with the record id '{seen}'; rename it to '{seen}-….md'")
        sc = sc._replace(after=(*sc.after, issue))
    return sha, sc


def _pack(item: Item) -> Packed:
    sha, sc = _scan_record(item)
    if isinstance(sc, FileResult):
        return sc.rel, sha, None, marshal.dumps((1, *sc))
    assert sc.source is not None
    sha_, text, *rest = sc.source
    return sc.rel, sha, text, marshal.dumps((0, *sc._replace(source=(sha_, None, *rest))))


def _unpack(blob: bytes, text: str | None) -> _Scanned | FileResult:
    kind, rel, source, *rest = marshal.loads(blob)
    if kind == 1:
        return FileResult(rel, source, *rest)
    return _Scanned(rel, (source[0], text, *source[2:]), *rest)


def _read_record(item: Item) -> FileResult:
    return _finish(_scan_record(item)[1], _record_model(item[1]))


def _pack_chunk(items: list[Item]) -> list[bytes]:
    """In a worker: read and scan without validating (the parent validates, once); the chunk goes
    back as one marshalled blob (much faster to pass between processes than pickled tuples)."""
    gc.disable()  # only plain data is built here: nothing for the cycle collector to find
    return [marshal.dumps([_pack(it) for it in items])]


Held = dict[str, tuple[Stamp, FileResult]]  # record file -> (its stamp before it was read, what it gave)
_HELD: dict[tuple[str, Any], Held] = {}  # (KB root, reading settings) -> its record files read (remember)
_HOLD_AT_MOST = 2  # KBs: a test process reads many one after another


def _read_records(
    root: Path,
    rels: list[str],
    allow: scan.Allow,
    max_bytes: int,
    max_line: int,
    workers: int | None,
    use_cache: bool,
    remember: bool = False,
) -> list[FileResult]:
    """Read the record files (from the cache where their bytes are unchanged), in ``rels`` order.

    With ``remember`` (a process that reads the KB again, ``mkdocs serve``), what each file gave is also kept in this
    process with the file's type, device, inode, size and times, taken before it is read, and given again while they
    are the same (models and sources are frozen): reading, hashing and validating 10,000 unchanged files took 0.4 s of
    each rebuild."""
    settings = (allow, max_bytes, max_line)
    stamps = {rel: file_stamp(os.path.join(root, rel)) for rel in rels} if remember else {}
    before = _HELD.get((str(root), settings), {}) if remember else {}
    reused = {rel: held[1] for rel in rels if (held := before.get(rel)) is not None and stamps[rel] is not None and held[0] == stamps[rel]}
    # With nothing to read, the cache file is not even opened (it is as the last run left it).
    everything = len(reused) == len(rels)
    results = [reused[rel] for rel in rels] if everything else _read_changed(root, rels, reused, settings, workers, use_cache)
    if remember:
        held = {rel: (st, res) for rel, res in zip(rels, results, strict=True) if (st := stamps[rel]) is not None}
        memo.keep(_HELD, (str(root), settings), held, _HOLD_AT_MOST)
    return results


def _read_changed(
    root: Path, rels: list[str], reused: dict[str, FileResult], settings: Any, workers: int | None, use_cache: bool
) -> list[FileResult]:
    """The record files of ``rels`` read, but for those of ``reused`` (given as they are), in ``rels`` order."""
    allow, max_bytes, max_line = settings
    store = cache.Store.open(root, settings) if use_cache else None
    hits: dict[str, Packed] = {}
    if store is not None and store.entries:
        for rel in rels:
            if rel in reused:
                continue
            entry = store.entries.get(rel)
            if entry is None:
                continue
            try:
                raw = read_regular(os.path.join(root, rel))
            except OSError:
                continue
            if hashlib.sha256(raw).hexdigest() == entry[0]:
                hits[rel] = (rel, entry[0], decode_text(raw)[0], entry[1])
    items = [(str(root), rel, allow, max_bytes, max_line) for rel in rels if rel not in hits and rel not in reused]
    n_workers = workers if workers is not None else (min(2, os.cpu_count() or 1) if len(items) >= PARALLEL_THRESHOLD else 1)
    if store is None and (n_workers <= 1 or len(items) <= 1):
        read = iter([_read_record(it) for it in items])
        return [reused[rel] if rel in reused else next(read) for rel in rels]
    chunks: Generator[bytes, None, None] | None = None
    try:
        scanned: Iterator[Packed]
        if n_workers > 1 and len(items) > 1:
            chunks = forkpool.chunked_map(_pack_chunk, items, workers=n_workers, start=None)
            scanned = (packed for chunk in chunks for packed in marshal.loads(chunk))
        else:
            scanned = map(_pack, items)
        # Validate each result as it arrives, while the workers go on reading.
        results: list[FileResult] = []
        keep: dict[str, cache.Entry] = {}
        for rel in rels:
            if rel in reused:
                results.append(reused[rel])
                if store is not None and rel in store.entries:
                    keep[rel] = store.entries[rel]
                continue
            packed = hits.get(rel) or next(scanned)
            _, sha, text, blob = packed
            assert packed[0] == rel
            results.append(_finish(_unpack(blob, text), _record_model(rel)))
            if sha is not None:
                keep[rel] = (sha, blob)
    finally:
        if chunks is not None:
            chunks.close()
    if store is not None and (items or keep.keys() != store.entries.keys()):
        store.save(keep)
    return results


def _stray_secrets(root: Path, stray: tuple[str, ...], max_bytes: int) -> Iterator[Finding]:
    """KE401 in a stray text file under content/: it is not published, but it is in the repository."""
    for rel in stray:
        try:
            raw = read_regular(root / rel, max_bytes + 1)
        except OSError:
            continue
        if len(raw) > max_bytes:
            continue
        text, _ = decode_text(raw.replace(b"\0", b"\n"))  # an environment dump ends each value with NUL
        if text:  # empty when the file is not UTF-8 text (an image, a PDF)
            yield from (Finding(rel, line, code, msg) for code, line, msg in scan.secrets(text, scan.Allow(any_contact=True)))


def load(root: Path, *, workers: int | None = None, use_cache: bool = True, remember: bool = False) -> tuple[KB, list[Finding]]:
    """Read the whole KB under ``root``. Returns the KB (valid records only) and all findings.

    Per-file results of record files are kept in ``.kedb/cache/`` (see :mod:`kedb.core.load.cache`) unless
    ``use_cache`` is false or ``KEDB_NO_CACHE=1``; a KB read only once (a base revision unpacked
    into a temporary folder) is better read without. With ``remember`` (``mkdocs serve``), they are kept in this
    process too, and unchanged files are not read again (:func:`_read_records`)."""
    # Reading builds hundreds of thousands of long-lived objects and no garbage cycles; with the
    # cycle collector on, its full passes over the growing heap cost a third of the time.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(Path(root).resolve(), workers, use_cache, remember)
    finally:
        if was_enabled:
            gc.enable()


def _load(root: Path, workers: int | None, use_cache: bool, remember: bool = False) -> tuple[KB, list[Finding]]:
    # Links (KE014) and special files (KE016) are reported by the walk and never followed or opened.
    content = content_files(root)
    findings: list[Finding] = [*content.findings, *template_links(root)]

    program_models: dict[str, Any] = {}
    program_sources: dict[str, Source] = {}
    for name, model in PROGRAM_FILES.items() if content.readable(CONTENT_DIR) else ():
        rel = f"{CONTENT_DIR}/{name}"
        path = root / rel
        if rel in content.refused:
            continue
        if not path.is_file():
            if name not in REQUIRED_PROGRAM_FILES:
                continue
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
        findings.extend(res.findings())
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
    findings.extend(_stray_secrets(root, content.stray, max_bytes))

    playbooks: list[Record] = []
    pb_dir = root / PLAYBOOK_DIR
    if pb_dir.is_dir() and content.readable(PLAYBOOK_DIR):
        for p in sorted(pb_dir.glob("*.md")):
            rel = p.relative_to(root).as_posix()
            if rel in content.refused:
                continue
            res = read_markdown(p, rel, Playbook, allow, max_bytes, max_line)
            findings.extend(res.findings())
            if res.model is not None and res.source is not None:
                playbooks.append(Record(res.model, res.source))  # type: ignore[arg-type]
    playbooks.sort(key=lambda r: (r.meta.order, r.source.path))  # type: ignore[attr-defined]

    rels, stray = record_files(root)
    findings.extend(stray)
    results = _read_records(root, rels, allow, max_bytes, max_line, workers, use_cache, remember)

    records: dict[str, Record] = {}
    seen_ids: dict[str, list[tuple[str, int]]] = {}
    for res in results:
        findings.extend(res.findings())
        if res.seen_id:
            line = res.source.lines.get(("id",), 2) if res.source else 2
            seen_ids.setdefault(res.seen_id, []).append((res.rel, line))
        if res.model is not None and res.source is not None:
            rid = res.model.id  # type: ignore[attr-defined]
            if rid not in records:
                records[rid] = Record(res.model, res.source)  # type: ignore[arg-type]
    snapshots = read_snapshots(root, findings) if content.readable(KPI_DIR, files_too=True) else ()
    months, weeks, tenants = split(snapshots)
    audits = read_stored(root, AUDIT_DIR, Audit, "as_of", "audit is as of", findings) if content.readable(AUDIT_DIR, files_too=True) else ()
    program = Program.from_models(program_models, program_sources)
    kb = KB(
        root=root,
        records=dict(sorted(records.items())),
        program=program,
        playbooks=tuple(playbooks),
        seen_ids=seen_ids,
        kpi_snapshots=months,
        kpi_weeks=weeks,
        kpi_tenants=tenants,
        audits=audits,
    )
    return kb, findings
