"""The in-memory knowledge base: one immutable object every command and renderer reads."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from .audits import Audit
from .decisions import DecisionsFile
from .load.frontmatter import Section, sections
from .load.yamlstrict import Path_
from .program import (
    EscalationFile,
    KpisFile,
    Person,
    ProgressionFile,
    RecurrenceFile,
    RhythmFile,
    RisksFile,
    RolesFile,
    ServicesFile,
    SettingsFile,
    TriageFile,
)
from .records import AnyRecord, KnownError, Problem, Workaround
from .snapshots import KpiSnapshot


class Source(NamedTuple):
    """A file as read: where it is, its hash, and where each key sits (a tuple: cheap to pass between processes)."""

    path: str  # posix, relative to the KB root
    sha256: str  # of the bytes on disk
    text: str
    lines: dict[Path_, int]
    body_start: int  # offset of the body in ``text``
    body_line: int  # file line of the body's first line

    @property
    def body(self) -> str:
        return self.text[self.body_start :]

    @property
    def sections(self) -> Mapping[str, Section]:
        """``## `` sections by lower-cased title, read-only (computed on demand, which keeps the tuple small, and kept
        for the last files asked about: rendering one record asks for its sections up to ten times)."""
        return _sections(self.text, self.body_start, self.body_line)

    def line_of(self, *path: str | int) -> int:
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


@lru_cache(maxsize=256)
def _sections(text: str, body_start: int, body_line: int) -> Mapping[str, Section]:
    return MappingProxyType(sections(text[body_start:], body_line))


@dataclass(frozen=True, slots=True)
class Record:
    """A validated record (or playbook page) with its source."""

    meta: Any  # KnownError | Workaround | Problem | Playbook
    source: Source

    @property
    def id(self) -> str:
        return str(getattr(self.meta, "id", self.source.path))

    @property
    def kind(self) -> str:
        return str(getattr(type(self.meta), "kind", "page"))

    def section(self, title: str) -> str:
        sec = self.source.sections.get(title.lower())
        return sec.text if sec else ""


@dataclass(frozen=True)
class Program:
    """The program data from ``content/``; a file that failed validation is ``None``."""

    services: ServicesFile | None = None
    roles: RolesFile | None = None
    recurrence: RecurrenceFile | None = None
    kpis: KpisFile | None = None
    risks: RisksFile | None = None
    triage: TriageFile | None = None
    escalation: EscalationFile | None = None
    rhythm: RhythmFile | None = None
    settings: SettingsFile | None = None
    progression: ProgressionFile | None = None  # optional file: None when absent or invalid
    decisions: DecisionsFile | None = None  # optional file (the candidate decision log): None when absent or invalid
    sources: Mapping[str, Source] = field(default_factory=dict)

    @classmethod
    def from_models(cls, models: Mapping[str, Any], sources: Mapping[str, Source]) -> Program:
        return cls(
            services=models.get("services.yml"),
            roles=models.get("roles.yml"),
            recurrence=models.get("recurrence.yml"),
            kpis=models.get("kpis.yml"),
            risks=models.get("risks.yml"),
            triage=models.get("triage.yml"),
            escalation=models.get("escalation.yml"),
            rhythm=models.get("rhythm.yml"),
            settings=models.get("kedb.yml"),
            progression=models.get("progression.yml"),
            decisions=models.get("decisions.yml"),
            sources=dict(sources),
        )

    @property
    def service_ids(self) -> set[str]:
        return {s.id for s in self.services.services} if self.services else set()

    @property
    def people(self) -> dict[str, Person]:
        return {p.handle: p for p in self.roles.people} if self.roles else {}

    def approvers(self, service: str) -> list[str]:
        """Handles of the approvers of ``service`` (empty when none are named)."""
        if not self.roles:
            return []
        return [h for a in self.roles.assignments if a.service == service for h in a.approvers]

    def is_high_impact(self, meta: AnyRecord) -> bool:
        """High impact: impact high, P1, or any risk tag (as configured in content/kedb.yml)."""
        if isinstance(meta, KnownError):
            return self.is_high_impact_fields(meta.impact, meta.priority, meta.risk_tags)
        return self.is_high_impact_fields(getattr(meta, "impact", None), None, ())

    def is_high_impact_fields(self, impact: object, priority: object, risk_tags: Iterable[object] | None) -> bool:
        """The same test on plain values (e.g. front-matter of an old version read from git)."""
        hi = self.settings.high_impact if self.settings else None
        impacts = hi.impacts if hi else ["high"]
        priorities = hi.priorities if hi else ["P1"]
        any_tag = hi.any_risk_tag if hi else True
        return impact in impacts or priority in priorities or (any_tag and bool(risk_tags))

    def person_by_identity(self, text: str) -> Person | None:
        """The person a git identity or trailer names: ``Name <email>``, an e-mail, a handle or a username."""
        m = re.match(r"^\s*(.*?)\s*<([^>]*)>\s*$", text)
        name, email = (m.group(1), m.group(2)) if m else (text.strip(), "")
        if not email and re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", name):  # a bare e-mail address
            name, email = "", name
        people = self.roles.people if self.roles else []
        if email:
            for p in people:
                if p.email and p.email.lower() == email.lower():
                    return p
        key = name.lstrip("@").lower()
        for p in people:
            if key and key in (p.name.lower(), p.handle.lower(), (p.username or "").lower()):
                return p
        return None


@dataclass(frozen=True)
class KB:
    """Everything that was read and validated. Records are sorted by id."""

    root: Path
    records: Mapping[str, Record]
    program: Program
    playbooks: tuple[Record, ...] = ()
    seen_ids: Mapping[str, list[tuple[str, int]]] = field(default_factory=dict)  # id -> (path, line), valid or not
    kpi_snapshots: tuple[KpiSnapshot, ...] = ()  # content/kpi/YYYY-MM.yml, by period (a tenant edition: that tenant's)
    kpi_weeks: tuple[KpiSnapshot, ...] = ()  # content/kpi/weeks/YYYY-Www.yml, by period (a tenant edition: that tenant's)
    kpi_tenants: tuple[KpiSnapshot, ...] = ()  # content/kpi/tenants/<id>/…, by tenant then period (see snapshots.for_edition)
    audits: tuple[Audit, ...] = ()  # content/audits/*.yml, oldest first

    def of_kind(self, kind: type) -> Iterator[Record]:
        return (r for r in self.records.values() if isinstance(r.meta, kind))

    @property
    def known_errors(self) -> list[Record]:
        return list(self.of_kind(KnownError))

    @property
    def workarounds(self) -> list[Record]:
        return list(self.of_kind(Workaround))

    @property
    def problems(self) -> list[Record]:
        return list(self.of_kind(Problem))
