"""What every renderer receives: the checked KB for one audience, its history, the approval
trail and the build's own facts (commit, date). Built once, read-only; renderers never read
files or git themselves.

Audiences (``--audience``):
- ``internal`` (default): every record that is not ``confidential``, in every status; drafts
  and records in review are marked as such by the renderers.
- ``public``: records marked ``public`` that are ``published`` or ``retired`` only, and without
  ``--tenant`` only records for all customers (which customers an MSP serves is not public).
Confidential records stay in git and are never rendered. ``--tenant T`` keeps records that
apply to all tenants or name T. A shown record's words keep no id of a record the edition does
not show (:func:`withhold_in_record`).

Everything an edition shows is computed from its own records (:func:`edition_trail`): the history
and the approval report hold only the versions and judgements of visible records, and a version
whose commit also touched a record this edition does not show keeps its number, date, authors
and approvals but not its words: its subject reads "Updated", its change note is empty and its
merge-request reference is dropped (the commit message may describe the hidden record). The
aggregates stored under ``content/`` (KPI snapshots, flow audits) keep their figures, but a
record id in their ``basis`` sentences that this edition does not show is replaced by
:data:`WITHHELD` (:func:`withhold_ids`). A tenant's edition shows that tenant's KPI snapshots in
place of the desk's (:func:`kedb.core.snapshots.for_edition`, applied in :func:`select`).

Artefacts are built per edition (:func:`edition_downloads`): ``kedb build`` writes them to
``.kedb/downloads/<edition>/`` (``internal``, ``public``, ``internal-ACME``, ``public-ACME``)
with a ``manifest.json`` naming the edition, the commit and a fingerprint of every source file
read. A site links an edition's artefacts only through :func:`matching_downloads`: the manifest
must name the same edition, commit and fingerprint, and every file must have the hash it lists;
otherwise the downloads page lists no file and says how to build them. So a plain ``mkdocs
build`` never publishes the files of another edition, or stale ones.

The build date is ``SOURCE_DATE_EPOCH`` when set, else the date of the commit built, else
(outside git) the latest creation date of the records: never the wall clock.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path

from pydantic import BaseModel

from .. import __version__
from ..check.run import Report, run
from ..core.audiences import AUDIENCES
from ..core.errors import FindingsError, UsageError
from ..core.kb import KB, Record
from ..core.snapshots import for_edition
from ..core.trail import Approval, ApprovalReport, History, Landing, RecordHistory, Version
from ..git import history
from ..git.approvals import verify

DOWNLOADS_DIR = ".kedb/downloads"  # one folder per edition below it (see the module docstring)
MANIFEST = "manifest.json"
NEUTRAL_SUBJECT = "Updated"  # a version whose commit also touched a record this edition does not show
WITHHELD = "a record not in this edition"  # replaces the id of a hidden record in stored text


@dataclass(frozen=True)
class BuildInfo:
    commit: str | None  # full id of HEAD, None outside git
    date: datetime  # timezone-aware, deterministic (see module docstring)
    dirty: bool  # the working tree has uncommitted record changes
    audience: str
    tenant: str | None
    partial_history: bool  # shallow clone built with --allow-shallow
    kedb_version: str = __version__
    fingerprint: str = ""  # sha256 over every source file read (see :func:`fingerprint`)

    @property
    def edition(self) -> str:
        """The edition's name, also its downloads folder: ``public``, ``internal-ACME``, ..."""
        return edition_name(self.audience, self.tenant)

    @property
    def epoch(self) -> int:
        return int(self.date.timestamp())

    @property
    def short(self) -> str:
        return self.commit[:10] if self.commit else "no commit"

    @property
    def history_note(self) -> str:
        """One line every output prints about where its history came from."""
        if self.commit is None:
            return "No git history: versions and approvals are not shown."
        if self.partial_history:
            return "History is partial (shallow clone built with --allow-shallow): versions, dates and approvals may be incomplete."
        return ""


@dataclass(frozen=True)
class BuildContext:
    kb: KB  # only the records of this audience and tenant
    report: Report  # the check of the whole KB (findings are warnings only: errors stop the build)
    history: History | None
    approvals: ApprovalReport | None
    info: BuildInfo
    downloads_dir: Path | None = None  # where this build's artefacts are (the site links and copies them)

    def record(self, record_id: str) -> Record | None:
        """A record of this edition, or None when it is filtered out (then show nothing of it, not even its id)."""
        return self.kb.records.get(record_id)

    def shown(self, record_ids: Iterable[str]) -> list[str]:
        """The ids among ``record_ids`` of records this edition shows (a record's links, filtered)."""
        return [rid for rid in record_ids if rid in self.kb.records]


def shows_ticket_ids(ctx: BuildContext) -> bool:
    """Ticket ids (the at-risk list of a flow audit) appear only in the internal, all-tenant edition."""
    return ctx.info.audience == "internal" and not ctx.info.tenant


def check_edition(kb: KB, audience: str, tenant: str | None) -> None:
    """Refuse an edition ``content/`` does not define: an unknown or wrong-case tenant would
    otherwise build silently without that tenant's own records."""
    if audience not in AUDIENCES:
        raise UsageError(f"unknown audience '{audience}'; choose {' or '.join(AUDIENCES)}")
    if tenant is None:
        return
    known = [t.id for t in kb.program.settings.tenants] if kb.program.settings else []
    if tenant in known:
        return
    close = [t for t in known if t.lower() == tenant.lower()]
    hint = f" (did you mean '{close[0]}'? tenant ids are case-sensitive)" if close else ""
    listed = ", ".join(known) if known else "none: content/kedb.yml lists no tenants"
    raise UsageError(f"unknown tenant '{tenant}'{hint}; the tenants in content/kedb.yml are: {listed}")


def visible(rec: Record, audience: str, tenant: str | None) -> bool:
    m = rec.meta
    if m.data_sensitivity == "confidential":
        return False
    if audience == "public" and (m.data_sensitivity != "public" or m.status not in ("published", "retired")):
        return False
    if audience == "public" and m.tenants and tenant is None:
        return False
    return not (tenant and m.tenants and tenant not in m.tenants)


def select(kb: KB, audience: str, tenant: str | None) -> KB:
    """The KB as one audience (and tenant) sees it: its records and playbooks, with the id of every
    record it does not show withheld from their words (:func:`withhold_in_record`)."""
    keep = {rid: r for rid, r in kb.records.items() if visible(r, audience, tenant)}
    playbooks = tuple(p for p in kb.playbooks if audience == "internal" or p.meta.data_sensitivity == "public")
    hidden = set(kb.records) - set(keep)
    if hidden:
        keep = {rid: withhold_in_record(r, hidden) for rid, r in keep.items()}
        playbooks = tuple(withhold_in_record(p, hidden) for p in playbooks)
    # The edition's KPI figures: a tenant's own in its editions, the desk's otherwise (snapshots.for_edition).
    months, weeks, tenants = (
        tuple(
            s.model_copy(update={"values": [v.model_copy(update={"basis": withhold_ids(v.basis, hidden)}) for v in s.values]})
            for s in group
        )
        for group in for_edition(kb.kpi_snapshots, kb.kpi_weeks, kb.kpi_tenants, audience, tenant)
    )
    audits = tuple(
        a.model_copy(update={"figures": [f.model_copy(update={"basis": withhold_ids(f.basis, hidden)}) for f in a.figures]})
        for a in kb.audits
    )
    return replace(kb, records=keep, playbooks=playbooks, kpi_snapshots=months, kpi_weeks=weeks, kpi_tenants=tenants, audits=audits)


_RECORD_ID = re.compile(r"\b(?:KE|WA|PRB)-\d{4,}\b")


def withhold_ids(text: str, hidden: set[str]) -> str:
    """``text`` with the id of every record in ``hidden`` replaced by :data:`WITHHELD`."""
    if not hidden:
        return text
    return _RECORD_ID.sub(lambda m: WITHHELD if m.group(0) in hidden else m.group(0), text)


def _withhold_value(value: object, hidden: set[str]) -> object:
    """A front-matter value with hidden ids withheld from its words. A value that *is* a record id
    (``problem: PRB-0002``, ``workarounds: [WA-0002]``) is a link, kept for the renderers, which
    link only records the edition shows."""
    if isinstance(value, str):
        return value if _RECORD_ID.fullmatch(value) else withhold_ids(value, hidden)
    if isinstance(value, list):
        items = [_withhold_value(v, hidden) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, BaseModel):
        update = {}
        for name in type(value).model_fields:
            old = getattr(value, name)
            new = _withhold_value(old, hidden)
            if new is not old:
                update[name] = new
        return value.model_copy(update=update) if update else value
    return value


def withhold_in_record(r: Record, hidden: set[str]) -> Record:
    """``r`` with the id of every record in ``hidden`` replaced by :data:`WITHHELD` in its body and
    in the words of its front-matter ("see KE-0042" in a public record whose KE-0042 is internal)."""
    if not _RECORD_ID.search(r.source.text):
        return r
    front = withhold_ids(r.source.text[: r.source.body_start], hidden)  # nothing shows it; nothing may leak it
    text = front + withhold_ids(r.source.body, hidden)
    meta = _withhold_value(r.meta, hidden)
    if text == r.source.text and meta is r.meta:
        return r
    return Record(meta, r.source._replace(text=text, body_start=len(front)))


def edition_name(audience: str, tenant: str | None) -> str:
    """The name of the edition for ``audience`` and ``tenant`` (:attr:`BuildInfo.edition`)."""
    return audience + (f"-{tenant}" if tenant else "")


def edition_trail(hist: History, approvals: ApprovalReport | None, shown: set[str]) -> tuple[History, ApprovalReport | None]:
    """The history and approval report as an edition showing the records ``shown`` may print
    (see the module docstring): other records' versions and judgements left out, and the words of
    every commit that touched a record not shown withheld."""
    touched: dict[str, set[str]] = {}
    for rid, rh in hist.records.items():
        for v in rh.versions:
            touched.setdefault(v.commit, set()).add(rid)
    withheld = {c for c, ids in touched.items() if not ids <= shown}

    def version(v: Version) -> Version:
        return replace(v, subject=NEUTRAL_SUBJECT, note="", merge_request=None) if v.commit in withheld else v

    def landing(x: Landing) -> Landing:
        return replace(x, subject=NEUTRAL_SUBJECT) if x.commit in withheld else x

    # What nothing is withheld from is kept as it is: the internal edition shows every record, and copying its
    # 35,000 versions and judgements cost a second at 10,000 records for the same values.
    def trail(rh: RecordHistory) -> RecordHistory:
        if not withheld or not any(v.commit in withheld for v in rh.versions):
            return rh
        return RecordHistory(rh.id, tuple(version(v) for v in rh.versions), rh.uncommitted)

    def judged(a: Approval) -> Approval:
        kept = version(a.version)
        return a if kept is a.version else replace(a, version=kept)

    records = {rid: trail(rh) for rid, rh in hist.records.items() if rid in shown}
    landings = tuple(landing(x) for x in hist.landings) if withheld else hist.landings
    out = hist if len(records) == len(hist.records) and landings is hist.landings else replace(hist, records=records, landings=landings)
    if approvals is None:
        return out, None
    items = tuple(judged(a) for a in approvals.items if a.record in shown)
    if not withheld and len(items) == len(approvals.items):
        return out, approvals
    changes = tuple(replace(c, landing=landing(c.landing)) for c in approvals.changes)
    return out, replace(approvals, items=items, changes=changes)


def fingerprint(kb: KB) -> str:
    """sha256 over the path and hash of every file the build read (records, playbooks, program data)."""
    files = [r.source for r in kb.records.values()] + [p.source for p in kb.playbooks] + list(kb.program.sources.values())
    h = hashlib.sha256()
    for path, sha in sorted((f.path, f.sha256) for f in files):
        h.update(f"{path}\0{sha}\n".encode())
    return h.hexdigest()


def edition_downloads(root: Path, info: BuildInfo) -> Path:
    """Where ``kedb build`` keeps the artefacts of this edition."""
    return Path(root) / DOWNLOADS_DIR / info.edition


def manifest_data(info: BuildInfo, files: Iterable[Path]) -> dict[str, object]:
    """What ``manifest.json`` says about the artefacts of one edition's folder."""
    return {
        "edition": info.edition,
        "audience": info.audience,
        "tenant": info.tenant,
        "commit": info.commit,
        "fingerprint": info.fingerprint,
        "kedb": info.kedb_version,
        "files": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files, key=lambda p: p.name)},
    }


def manifest_matches(folder: Path, info: BuildInfo) -> dict[str, str] | None:
    """The files (name -> sha256) of ``folder`` when its manifest was written for this very edition,
    commit and sources; None otherwise (no manifest, unreadable, another edition, stale)."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    same = (data.get("edition"), data.get("commit"), data.get("fingerprint"), data.get("kedb"))
    if same != (info.edition, info.commit, info.fingerprint, info.kedb_version):
        return None
    return {str(k): str(v) for k, v in data["files"].items()}


def matching_downloads(root: Path, info: BuildInfo) -> Path | None:
    """This edition's downloads folder when its manifest matches this build and every file it
    lists is there with that hash; None otherwise (the site then links no artefact)."""
    folder = edition_downloads(root, info)
    files = manifest_matches(folder, info)
    if not files:
        return None
    for name, sha in files.items():
        path = folder / name
        if path.is_symlink() or not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != sha:
            return None
    return folder


def build_date(kb: KB, head: tuple[str, datetime] | None) -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    if head is not None:
        return head[1]
    # Outside git: the latest creation date (review dates lie in the future).
    days: list[date] = [r.meta.created for r in kb.records.values() if isinstance(r.meta.created, date)]
    return datetime.combine(max(days), time(0), tzinfo=UTC) if days else datetime(1980, 1, 1, tzinfo=UTC)


def make(
    root: Path,
    *,
    audience: str = "internal",
    tenant: str | None = None,
    allow_shallow: bool = False,
    as_of: date | None = None,
    preview: bool = False,
    remember: bool = False,
) -> BuildContext:
    """Load, check and read history; raise :class:`FindingsError` when the check has errors.

    ``preview`` (``mkdocs serve`` only) goes on despite errors, with the records that loaded: the
    served pages then carry the findings (:func:`kedb.site.plugin.check_banner`) until they are
    fixed. Nothing built this way is published: ``kedb build`` and ``mkdocs build`` never preview. ``remember`` (a
    process that builds again, ``mkdocs serve``) keeps what each record file gave for the next build
    (:func:`kedb.core.load.loader.load`)."""
    report = run(root, as_of, remember=remember)
    if report.failed() and not preview:
        from ..check.run import format_text

        raise FindingsError("nothing was built: fix these errors first\n" + format_text(report))
    kb = report.kb
    check_edition(kb, audience, tenant)
    hist = history.read(kb.root, allow_shallow=allow_shallow)
    head = history.head_commit(kb.root) if hist is not None else None
    approvals = verify(kb, hist) if hist is not None and hist.head else None
    info = BuildInfo(
        commit=head[0] if head else None,
        date=build_date(kb, head),
        dirty=bool(hist and any(h.uncommitted for h in hist.records.values())),
        audience=audience,
        tenant=tenant,
        partial_history=bool(hist and hist.partial),
        fingerprint=fingerprint(kb),
    )
    shown = select(kb, audience, tenant)
    if hist is not None:
        hist, approvals = edition_trail(hist, approvals, set(shown.records))
    return BuildContext(shown, report, hist, approvals, info)
