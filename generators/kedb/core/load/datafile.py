"""Reading one file: the text kedb sees (decoded, control characters out), strict YAML validated
against a model, and every issue with its line. The loader reads records with these; the
program files and stored aggregates under ``content/`` are read by :func:`read_data_file`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from ..findings import Finding
from ..kb import Source
from . import frontmatter, scan, schemaerr
from .files import NotRegularFile, read_regular, special_finding
from .yamlstrict import Parsed, parse

FATAL_YAML = frozenset(("KE001", "KE002", "KE003", "KE004", "KE006", "KE007", "KE008", "KE009", "KE011"))

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

    def findings(self) -> Iterator[Finding]:
        for code, line, msg in self.issues:
            yield Finding(self.rel, line, code, msg)


def read_text(path: str | Path) -> tuple[str, bytes, list[Issue]]:
    raw = read_regular(path)
    text, issues = decode_text(raw)
    return text, raw, issues


def decode_text(raw: bytes) -> tuple[str, list[Issue]]:
    """The text kedb reads (UTF-8, BOM and CR gone, control characters removed) and its issues."""
    text, err = frontmatter.decode(raw)
    if err:
        return "", [err]
    if scan.plain_ascii(raw):
        return text, []
    text, ctrl = scan.control_chars(text)
    return text, ctrl


def validate(model: type[BaseModel], parsed: Parsed, issues: list[Issue]) -> BaseModel | None:
    if any(code in FATAL_YAML for code, _, _ in issues):
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


def read_data_file(path: Path, rel: str, model: type[BaseModel]) -> FileResult:
    """Read one YAML data file from content/."""
    try:
        text, raw, issues = read_text(path)
        if not text and issues:
            return FileResult(rel, None, None, None, tuple(issues))
        parsed = parse(text)
        issues.extend(parsed.issues)
        if "\\" in text:  # an escape in a quoted value can decode to a control character: reported and removed
            issues.extend(scan.value_controls(parsed.data, parsed.lines, parsed.first_line))
        data = validate(model, parsed, issues)
        src = Source(rel, hashlib.sha256(raw).hexdigest(), text, parsed.lines, len(text), 1)
        return FileResult(rel, src, data, None, tuple(issues))
    except NotRegularFile:
        f = special_finding(rel)
        return FileResult(rel, None, None, None, ((f.code, f.line, f.message),))
    except OSError as exc:
        return FileResult(rel, None, None, None, (("KE000", 1, f"kedb could not read this file: {exc.strerror or exc}"),))
    except Exception as exc:
        return FileResult(
            rel, None, None, None, (("KE000", 1, f"kedb could not read this file ({type(exc).__name__}: {exc}); please report this"),)
        )
