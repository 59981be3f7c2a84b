"""Rules that need the whole KB: ids, links both ways, lifecycle requirements and policy, text left
from the ``kedb new`` templates, and Markdown in records and playbooks that the site would not render as
written (KE506, KE507); the program data under ``content/`` is checked by :mod:`kedb.check.program`."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from ..core.errors import EnvironmentProblem
from ..core.findings import Finding
from ..core.kb import KB, Record, Source
from ..core.load.files import IMAGE_TYPES, content_files, local_target
from ..core.load.frontmatter import decode, split
from ..core.records import DONE_STATUSES, PROBLEM_ORDER, KnownError, Problem, Workaround, review_overdue
from ..core.resources import find_template
from .helpers import at
from .program import program_findings


def check_kb(kb: KB, as_of: date) -> list[Finding]:
    """All whole-KB findings for records and program data."""
    out: list[Finding] = []
    out.extend(_duplicate_ids(kb))
    guidance = {kind: template_guidance(kb.root, kind) for kind in ("known-error", "workaround", "problem")}

    @cache
    def assets() -> frozenset[str]:
        return frozenset(content_files(kb.root).assets)

    for rec in kb.records.values():
        out.extend(_references(kb, rec))
        out.extend(_links(kb, rec))
        out.extend(_lifecycle(kb, rec, as_of))
        out.extend(_template_text(rec, guidance.get(rec.kind, _NO_GUIDANCE)))
        out.extend(_markup(rec.source, assets))
    for page in kb.playbooks:  # published like records: the same rules for their text
        out.extend(_markup(page.source, assets))
    out.extend(program_findings(kb, as_of))
    return out


# ---------------------------------------------------------------- Markdown the site would not render as written
# With the loader's scan for raw HTML, scripts and includes (KE501-KE505), these complete what a body
# (a record's or a playbook's) may hold. They read the body as the site does (CommonMark), so code is left alone.
_ATTR_LIST = re.compile(r"\{:[^}\n]*\}|\{[ \t]*(?:[#.][\w-]+[ \t]+)*[A-Za-z_][\w:-]*[ \t]*=[^}\n]*\}")
_EVENT = re.compile(r"(?i)\bon[a-z]+\s*=")  # KE503 reports these
_REMOTE = re.compile(r"(?i)^(?:https?:)?//")


@lru_cache(maxsize=1)
def _commonmark() -> Any:
    from markdown_it import MarkdownIt  # only for bodies that need it: `kedb check` starts fast

    # The parser the site renders bodies with (kedb.site.text.BodyRenderer).
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(["table", "strikethrough"])


def _markup(src: Source, assets: Callable[[], frozenset[str]]) -> Iterator[Finding]:
    """KE506 attribute lists and KE507 images that are not shown, at their lines."""
    body = src.body
    images = "![" in body
    attrs = "{" in body and _ATTR_LIST.search(body) is not None
    if not images and not attrs:  # the common case: no parsing
        return
    for block in _commonmark().parse(body):
        if block.type != "inline" or block.map is None:
            continue
        line = src.body_line + block.map[0]
        for tok in block.children or ():
            if tok.type in ("softbreak", "hardbreak"):
                line += 1
            elif tok.type == "text" and attrs:
                for m in _ATTR_LIST.finditer(tok.content):
                    if not _EVENT.search(m.group()):
                        yield Finding(
                            src.path,
                            line,
                            "KE506",
                            f"attribute list '{m.group()[:40]}' would set HTML attributes (a style can cover the page); "
                            "the site shows it as text: remove it",
                        )
            elif tok.type == "image":
                why = _image_not_shown(src.path, str(tok.attrGet("src") or ""), assets)
                if why:
                    yield Finding(src.path, line, "KE507", why)


def _image_not_shown(source: str, url: str, assets: Callable[[], frozenset[str]]) -> str | None:
    shown = url if len(url) <= 60 else url[:59] + "…"
    if _REMOTE.match(url):
        return (
            f"image '{shown}' is on another host: the site shows it as a link and never loads it (a page must not make "
            "every reader's browser fetch from elsewhere); save it in content/assets/ and point to that copy"
        )
    target = local_target(source, url)
    if target is not None and target[0] in assets() and target[0].lower().endswith(IMAGE_TYPES):
        return None
    return (
        f"image '{shown}' is not an image of content/assets/ ({', '.join(IMAGE_TYPES)}) that kedb publishes: "
        "the site shows its text instead"
    )


def _duplicate_ids(kb: KB) -> Iterator[Finding]:
    for rid, places in kb.seen_ids.items():
        for path, line in places[1:]:
            yield Finding(path, line, "KE202", f"id '{rid}' is already used by {places[0][0]}; take the next free id (`kedb new` does)")


def _references(kb: KB, rec: Record) -> Iterator[Finding]:
    m, src, prog = rec.meta, rec.source, kb.program
    if prog.services is not None and m.service not in prog.service_ids:
        known = ", ".join(sorted(prog.service_ids))
        yield at(src, ("service",), "KE205", f"service '{m.service}' is not in content/services.yml; known services: {known}")
    people = prog.people
    if prog.roles is not None:
        if m.owner not in people:
            yield at(src, ("owner",), "KE206", f"owner '{m.owner}' is not a person in content/roles.yml")
        if isinstance(m, Workaround) and m.verified_by and m.verified_by not in people:
            yield at(src, ("verified_by",), "KE206", f"verified_by '{m.verified_by}' is not a person in content/roles.yml")
        if isinstance(m, Problem):
            for i, act in enumerate(m.prevention_actions):
                if act.owner not in people:
                    yield at(
                        src, ("prevention_actions", i, "owner"), "KE206", f"action owner '{act.owner}' is not a person in content/roles.yml"
                    )
    if prog.settings is not None:
        tenants = {t.id for t in prog.settings.tenants}
        for i, t in enumerate(m.tenants):
            if t not in tenants:
                yield at(src, ("tenants", i), "KE207", f"tenant '{t}' is not listed in content/kedb.yml")


def _target(kb: KB, rid: str, kind: type) -> tuple[Record | None, bool]:
    """(record, exists-at-all): a link to a file that exists but failed validation is not 'broken'."""
    rec = kb.records.get(rid)
    if rec is not None:
        return (rec if isinstance(rec.meta, kind) else None), True
    return None, rid in kb.seen_ids


def _links(kb: KB, rec: Record) -> Iterator[Finding]:
    m, src = rec.meta, rec.source
    live = m.status != "retired"

    pairs: list[tuple[tuple[str | int, ...], str, type, str]] = []
    if isinstance(m, KnownError):
        if m.problem:
            pairs.append((("problem",), m.problem, Problem, "known_errors"))
        pairs += [(("workarounds", i), w, Workaround, "applies_to") for i, w in enumerate(m.workarounds)]
    elif isinstance(m, Workaround):
        pairs += [(("applies_to", i), k, KnownError, "workarounds") for i, k in enumerate(m.applies_to)]
    elif isinstance(m, Problem):
        pairs += [(("known_errors", i), k, KnownError, "problem") for i, k in enumerate(m.known_errors)]
    if m.superseded_by:
        pairs.append((("superseded_by",), m.superseded_by, object, ""))

    for path, rid, kind, back in pairs:
        target, exists = _target(kb, rid, kind)
        if target is None and not exists:
            what = {"Problem": "problem", "Workaround": "workaround", "KnownError": "known error"}.get(kind.__name__, "record")
            yield at(src, path, "KE203", f"'{rid}' is not an existing {what}")
            continue
        if target is None:
            continue
        if back:
            theirs = getattr(target.meta, back)
            mirrored = rec.id == theirs if isinstance(theirs, str) or theirs is None else rec.id in theirs
            if not mirrored:
                yield at(src, path, "KE204", f"{rid} does not link back: add '{rec.id}' to its '{back}'")
        if live and target.meta.status == "retired" and path[0] != "superseded_by":
            yield at(src, path, "KE208", f"{rid} is retired; link its replacement instead")


def _lifecycle(kb: KB, rec: Record, as_of: date) -> Iterator[Finding]:
    m, src, prog = rec.meta, rec.source, kb.program
    if m.created > m.review_by:
        yield at(src, ("review_by",), "KE307", f"review_by {m.review_by} is before created {m.created}")
    if review_overdue(m, as_of):
        yield at(src, ("review_by",), "KE305", f"review was due on {m.review_by}; review the record and move review_by forward")
    if m.status == "retired" and not m.retired_reason:
        yield at(src, ("status",), "KE308", "a retired record needs 'retired_reason' (and 'superseded_by' when replaced)")
    if isinstance(m, KnownError):
        yield from _known_error(kb, rec, m)
    elif isinstance(m, Workaround):
        if m.risk in ("medium", "high") and not rec.section("Rollback"):
            yield at(src, ("risk",), "KE303", f"a {m.risk}-risk workaround needs a non-empty '## Rollback' section")
        if m.status == "published" and not (m.verified_by and m.verified_on):
            yield at(src, ("status",), "KE310", "published workaround has no verified_by/verified_on; verify it")
    elif isinstance(m, Problem):
        yield from _problem(rec, m, ended=prog.decisions is not None and m.id in prog.decisions.rejected_problems)
    if prog.roles is not None and prog.is_high_impact(m) and not prog.approvers(m.service):
        yield at(src, ("service",), "KE304", f"high-impact record, but service '{m.service}' has no approvers in content/roles.yml")


def _known_error(kb: KB, rec: Record, m: KnownError) -> Iterator[Finding]:
    src = rec.source
    if m.status == "published" and not m.no_workaround_reason:
        usable = [
            w
            for w in m.workarounds
            if (t := kb.records.get(w)) is not None
            and isinstance(t.meta, Workaround)
            and t.meta.status == "published"
            and t.meta.verified_by
            and t.meta.verified_on
        ]
        if not usable:
            yield at(
                src,
                ("status",),
                "KE301",
                "published known error has no published, verified workaround; link one or set 'no_workaround_reason'",
            )
    tri = kb.program.triage
    if tri is not None:
        expected = tri.matrix.get(m.impact, {}).get(m.urgency)
        if expected and expected != m.priority:
            yield at(
                src,
                ("priority",),
                "KE306",
                f"impact {m.impact} × urgency {m.urgency} gives {expected} in content/triage.yml, not {m.priority}",
            )
    fx = m.fix
    need = {
        "proposed": ["proposed_on"],
        "approved": ["change_ref", "approved_on"],
        "deployed": ["change_ref", "approved_on", "deployed_on"],
        "verified": ["change_ref", "approved_on", "deployed_on", "verified_on"],
    }.get(fx.status, [])
    missing = [n for n in need if getattr(fx, n) is None]
    if missing:
        yield at(src, ("fix", "status"), "KE309", f"fix status '{fx.status}' needs {', '.join('fix.' + n for n in missing)}")
    dates = [(n, getattr(fx, n)) for n in ("proposed_on", "approved_on", "deployed_on", "verified_on") if getattr(fx, n)]
    for (a, da), (b, db) in itertools.pairwise(dates):
        if db < da:
            yield at(src, ("fix", b), "KE307", f"fix.{b} {db} is before fix.{a} {da}")


def _problem(rec: Record, m: Problem, ended: bool = False) -> Iterator[Finding]:
    """``ended``: a rejection in content/decisions.yml ends the problem (not a problem), so closing it
    needs no root cause or fix (KE713 keeps a root-cause date off it)."""
    src = rec.source
    stage = -1 if ended else PROBLEM_ORDER.index(m.status)
    if stage >= PROBLEM_ORDER.index("root-cause-identified"):
        for name in ("root_cause", "root_cause_identified"):
            if getattr(m, name) is None:
                yield at(src, ("status",), "KE302", f"status '{m.status}' needs '{name}'")
    if stage >= PROBLEM_ORDER.index("fix-proposed") and not m.fix_proposal:
        yield at(src, ("status",), "KE302", f"status '{m.status}' needs 'fix_proposal'")
    if m.status == "closed" and m.closed_on is None:
        yield at(src, ("status",), "KE302", "status 'closed' needs 'closed_on'")
    chain = [(n, getattr(m, n)) for n in ("opened", "root_cause_identified", "fixed_on", "closed_on") if getattr(m, n)]
    for (a, da), (b, db) in itertools.pairwise(chain):
        if db < da:
            yield at(src, (b,), "KE307", f"{b} {db} is before {a} {da}")


# ---------------------------------------------------------------- KE311: text left from `kedb new`
# A record leaves its first stage (a draft; a candidate problem) when someone puts it up for review;
# from then on every line of the template's guidance must have been replaced. Retired records and
# closed problems are left alone: they are no longer reviewed (DONE_STATUSES), as for KE305.
_FIRST_STAGES = frozenset({"draft", "candidate"})
_LIST_MARK = re.compile(r"(?:[-*+]|\d+[.)])\s+")
_JINJA = ("{{", "{%", "{#")
_H2 = re.compile(r"##\s+(.+?)\s*#*\s*$")
_MIN_WORDS = 3  # shorter template lines ("-", "TBD", a bare "1.") are too generic to call leftovers


def _bare(line: str) -> str:
    """A line as compared with the template: no surrounding whitespace, no list marker (steps get renumbered)."""
    s = line.strip()
    m = _LIST_MARK.match(s)
    return s[m.end() :] if m else s


class Guidance(NamedTuple):
    """What counts as template text in one kind of record."""

    lines: frozenset[str]
    needles: tuple[str, ...]  # the lines that contain no other line: enough to tell that a body has none


_NO_GUIDANCE = Guidance(frozenset(), ())


def template_guidance(root: Path, kind: str) -> Guidance:
    """The guidance lines of ``templates/new/<kind>.md.j2`` that the KB at ``root`` uses (its own file first).

    Body lines without Jinja, list markers and surrounding whitespace removed; a paragraph of several
    such lines counts joined too, since an editor may rewrap it into one line."""
    path = find_template(root, f"new/{kind}.md.j2")
    if _through_link(root, path):  # reported by the loader (KE014); never read
        return _NO_GUIDANCE
    st = path.stat()
    return _guidance(path, st.st_mtime_ns, st.st_size)


def _through_link(root: Path, path: Path) -> bool:
    """Whether ``path`` (a file of the KB at ``root``, or one of kedb's own) is reached through a symbolic link."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:  # kedb's own template
        return False
    return any((root.joinpath(*parts[: i + 1])).is_symlink() for i in range(len(parts)))


@lru_cache(maxsize=32)
def _guidance(path: Path, mtime_ns: int, size: int) -> Guidance:
    text, issue = decode(path.read_bytes())
    if issue:  # kedb's template, or the KB's own copy of it, is broken: the check cannot judge
        raise EnvironmentProblem(f"{path} is not UTF-8 text: {issue[2]}")
    out: set[str] = set()
    para: list[str] = []
    for line in [*split(text).body.split("\n"), ""]:
        s = line.strip()
        keep = bool(s) and not s.startswith("#") and not any(j in s for j in _JINJA)
        if not keep or _LIST_MARK.match(s):  # a blank line, heading, Jinja line or list item ends a paragraph
            if len(para) > 1:
                out.add(" ".join(para))
            para = []
        if keep:
            out.add(_bare(s))
            para.append(_bare(s))
    lines = frozenset(g for g in out if len(g.split()) >= _MIN_WORDS)
    return Guidance(lines, tuple(g for g in lines if not any(o != g and o in g for o in lines)))


def _template_text(rec: Record, guidance: Guidance) -> Iterator[Finding]:
    src, status = rec.source, rec.meta.status
    if status in _FIRST_STAGES or status in DONE_STATUSES:
        return
    body = src.body
    if not any(g in body for g in guidance.needles):  # the common case, and most of the rule's cost
        return
    section, fence = "", ""
    for i, line in enumerate(body.split("\n")):
        s = line.strip()
        if fence:  # text in a code block is quoted, not written: leave it
            fence = "" if s.startswith(fence) else fence
            continue
        if s.startswith(("```", "~~~")):
            fence = s[:3]
        elif h := _H2.match(line):
            section = h.group(1)
        elif s and _bare(s) in guidance.lines:
            yield Finding(src.path, src.body_line + i, "KE311", _left_message(section, s))


def _left_message(section: str, line: str) -> str:
    quote = line if len(line) <= 60 else line[:59].rstrip() + "…"
    where = f"## {section}" if section else "the text before the first heading"
    if section.lower() == "reply to customer":
        return f"{where} still has the template's text: '{quote}'; write the reply the customer will receive"
    return f"{where} still has the template's text: '{quote}'; replace it with this record's own text"
