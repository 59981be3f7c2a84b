"""Consistency rules for ``content/progression.yml`` (KE721–KE725), called from :func:`kedb.check.program.program_findings`.

The policy refines the importer's status classes; these rules keep the two in step: every
stage it names exists, every open class has a stage, and a status listed for a source keeps
the class that source's built-in mapping gives it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import cache

from ..core.findings import Finding
from ..core.kb import Program, Source
from ..core.progression import OPEN_CLASSES, ProgressionFile, duration_minutes
from ..tickets.mapping import builtin
from .helpers import at, repeated_ids


@cache
def _builtin_statuses(source: str) -> dict[str, str]:
    """Status name (lower case) → importer class, from the built-in mapping of ``source``."""
    return {k.lower(): v for k, v in builtin(source).statuses.items()}


def findings(program: Program) -> list[Finding]:
    p, src = program.progression, program.sources.get("progression.yml")
    if p is None or src is None:
        return []
    return list(_check(p, src))


def _check(p: ProgressionFile, src: Source) -> Iterator[Finding]:
    yield from repeated_ids(src, ((("stages", i, "id"), s.id) for i, s in enumerate(p.stages)), "stage")
    stages = {s.id: s for s in p.stages}
    known = ", ".join(stages)

    def stage_of(path: tuple[str | int, ...], sid: str, what: str) -> Iterator[Finding]:
        if sid not in stages:
            yield at(src, path, "KE721", f"{what} names stage '{sid}', which is not defined under 'stages' ({known})")

    for cls in OPEN_CLASSES:
        if cls not in p.defaults:
            yield at(src, ("defaults",), "KE722", f"status class '{cls}' has no default stage: its tickets would have no threshold")
    for cls, sid in p.defaults.items():
        yield from stage_of(("defaults", cls), sid, f"the default of class '{cls}'")
        if sid in stages and stages[sid].status_class != cls:
            yield at(
                src,
                ("defaults", cls),
                "KE723",
                f"class '{cls}' defaults to stage '{sid}', which refines class '{stages[sid].status_class}'",
            )
    for source, names in p.statuses.items():
        mapped = _builtin_statuses(source)
        for name, sid in names.items():
            path = ("statuses", source, name)
            yield from stage_of(path, sid, f"status '{name}'")
            cls = mapped.get(name.lower())
            if cls is None:
                yield at(
                    src,
                    path,
                    "KE724",
                    f"the built-in {source} mapping has no status '{name}': it applies only to exports imported with a --map that adds it",
                )
            elif sid in stages and stages[sid].status_class != cls:
                yield at(
                    src,
                    path,
                    "KE723",
                    f"'{name}' is class '{cls}' in the {source} mapping, but stage '{sid}' refines class '{stages[sid].status_class}'",
                )
    if p.bounces.stage is not None:
        yield from stage_of(("bounces", "stage"), p.bounces.stage, "bounces.stage")
        b = stages.get(p.bounces.stage)
        if b is not None and b.status_class not in ("new", "open"):
            yield at(
                src, ("bounces", "stage"), "KE723", f"the bounce stage '{b.id}' must refine class 'open' or 'new', not '{b.status_class}'"
            )
    start, end = p.working_hours.minutes()
    if end <= start:
        yield at(
            src, ("working_hours", "end"), "KE725", f"working hours end ({p.working_hours.end}) before they start ({p.working_hours.start})"
        )
    for i, (a, b) in enumerate(itertools.pairwise(p.age_buckets_days), start=1):
        if b <= a:
            yield at(src, ("age_buckets_days", i), "KE725", f"age buckets must increase: {b} follows {a}")
    for i, (a, b) in enumerate(itertools.pairwise(p.sla_thresholds), start=1):
        if b <= a:
            yield at(src, ("sla_thresholds", i), "KE725", f"SLA thresholds must increase: {b:g} follows {a:g}")
    if end <= start:
        return  # every working-day threshold is zero then: the one finding above says why
    for i, s in enumerate(p.stages):
        if duration_minutes(s.threshold, s.clock, p.working_hours) <= 0:
            yield at(src, ("stages", i, "threshold"), "KE725", f"stage '{s.id}' has a threshold of zero: every ticket would fail it")
    if p.chases.answer_within is not None and duration_minutes(p.chases.answer_within, p.chases.clock, p.working_hours) <= 0:
        yield at(src, ("chases", "answer_within"), "KE725", "chases.answer_within is zero")
