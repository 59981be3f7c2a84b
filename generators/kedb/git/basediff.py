"""Compare the KB with a base revision (``--base REF``): what each record became.

The base KB is read from git (``git archive`` of ``known_errors/`` and ``content/`` into a
temporary folder, then the normal loader), so it is judged by exactly the same code as the
working tree. Record diffs use the merge base of REF and HEAD, as GitLab and GitHub show a
merge request: changes that landed on main after the branch was cut are not shown as undone.
Id collisions are checked against the tip of REF, where another merge request may have
taken the same id since.

Status transitions (decided here, documented in the README):
- records: draft → in-review → published → retired; in-review → draft; published →
  in-review (taken back for rework); retired → in-review (reinstated through review);
  draft/in-review → retired (abandoned). draft → published and retired → published skip
  the review state (KE803); anything else is illegal (KE804).
- problems: one step forward along candidate → investigating → root-cause-identified →
  fix-proposed → fix-approved → closed, or one step back; any open state → closed
  (rejected or not reproducible). Skipping forward is KE803; reopening a closed problem is
  KE804 (open a new problem and link it instead).
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..core.errors import EnvironmentProblem
from ..core.findings import Finding
from ..core.kb import KB, Record
from ..core.load.files import CONTENT_DIR, RECORD_DIR
from ..core.load.loader import load
from ..core.records import PROBLEM_ORDER, Problem

ChangeKind = Literal["added", "changed", "renamed", "retired", "deleted"]

_RECORD_OK: dict[str, set[str]] = {
    "draft": {"in-review", "retired"},
    "in-review": {"draft", "published", "retired"},
    "published": {"in-review", "retired"},
    "retired": {"in-review"},
}
_RECORD_SKIP = {("draft", "published"), ("retired", "published")}


def transition_problem(kind: str, old: str, new: str) -> tuple[str, str] | None:
    """``(code, message)`` when ``old → new`` is not allowed, else None."""
    if old == new:
        return None
    if kind == "problem":
        if old not in PROBLEM_ORDER or new not in PROBLEM_ORDER:
            return None
        i, j = PROBLEM_ORDER.index(old), PROBLEM_ORDER.index(new)
        if old == "closed":
            return "KE804", f"a closed problem cannot move back to '{new}'; open a new problem and link it to this one"
        if new == "closed" or abs(j - i) == 1:
            return None
        if j > i:
            skipped = ", ".join(PROBLEM_ORDER[i + 1 : j])
            return "KE803", f"status jumps from '{old}' to '{new}', skipping {skipped}"
        return "KE804", f"status moves back from '{old}' to '{new}' by more than one step"
    if new in _RECORD_OK.get(old, set()):
        return None
    if (old, new) in _RECORD_SKIP:
        return "KE803", f"status goes from '{old}' straight to '{new}' without the in-review state (approvers never saw it in review)"
    return "KE804", f"status cannot go from '{old}' to '{new}'"


@dataclass(frozen=True)
class RecordDiff:
    id: str
    change: ChangeKind
    base: Record | None
    head: Record | None
    fields: tuple[tuple[str, Any, Any], ...] = ()  # (field, old, new)
    sections: tuple[tuple[str, str, str], ...] = ()  # (title, old text, new text)
    transition: tuple[str, str] | None = None  # (code, message)

    @property
    def record(self) -> Record:
        return self.head or self.base  # type: ignore[return-value]

    @property
    def kind(self) -> str:
        return {"KE": "known error", "WA": "workaround", "PRB": "problem"}[self.id.split("-")[0]]


@dataclass(frozen=True)
class BaseComparison:
    ref: str
    base_commit: str  # merge base used for record diffs
    tip_commit: str  # tip of REF, used for id collisions
    base: KB
    tip: KB
    diffs: tuple[RecordDiff, ...]
    other_files: tuple[tuple[str, str], ...] = field(default=())  # (status letter, path) outside known_errors/


def _resolve(repo: Any, ref: str) -> str:
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except Exception:
        raise EnvironmentProblem(
            f"'{ref}' is not a commit here; fetch it first (`git fetch origin main`; in CI use a full clone: GIT_DEPTH: 0 / fetch-depth: 0)"
        ) from None


def load_at(repo: Any, commit: str, dest: Path) -> KB:
    """Load the KB as it was at ``commit`` (into ``dest``)."""
    present = [p for p in (RECORD_DIR, CONTENT_DIR) if repo.git.ls_tree(commit, "--", p).strip()]
    dest.mkdir(parents=True, exist_ok=True)
    if present:
        buf = io.BytesIO()
        repo.archive(buf, commit, format="tar", path=present)
        buf.seek(0)
        with tarfile.open(fileobj=buf) as tar:
            tar.extractall(dest, filter="data")
    kb, _ = load(dest, use_cache=False)  # a throw-away folder: no cache to write there
    return kb


def _dump(rec: Record) -> dict[str, Any]:
    return rec.meta.model_dump(mode="json", exclude_defaults=False)


def _fields(old: Record, new: Record) -> tuple[tuple[str, Any, Any], ...]:
    a, b = _dump(old), _dump(new)
    return tuple((k, a.get(k), b.get(k)) for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k))


def _sections(old: Record, new: Record) -> tuple[tuple[str, str, str], ...]:
    a, b = old.source.sections, new.source.sections
    out = []
    for key in dict.fromkeys([*a, *b]):
        ta, tb = (a[key].text if key in a else ""), (b[key].text if key in b else "")
        if ta != tb:
            title = (b.get(key) or a[key]).title
            out.append((title, ta, tb))
    return tuple(out)


def _status(rec: Record) -> str:
    return str(rec.meta.status)


def diff_kbs(base: KB, head: KB) -> tuple[RecordDiff, ...]:
    out: list[RecordDiff] = []
    for rid in sorted(set(base.records) | set(head.records)):
        old, new = base.records.get(rid), head.records.get(rid)
        if old is None and new is not None:
            out.append(RecordDiff(rid, "added", None, new))
        elif new is None and old is not None:
            if rid in head.seen_ids:  # still there but fails validation: its findings say why; nothing was deleted
                continue
            out.append(RecordDiff(rid, "deleted", old, None))
        elif old is not None and new is not None:
            fields, sections = _fields(old, new), _sections(old, new)
            renamed = old.source.path != new.source.path
            if not fields and not sections and not renamed:
                continue
            kind_ = "problem" if isinstance(new.meta, Problem) else "record"
            trans = transition_problem(kind_, _status(old), _status(new))
            change: ChangeKind = (
                "retired"
                if _status(new) == "retired" != _status(old)
                else "renamed"
                if renamed and not fields and not sections
                else "changed"
            )
            out.append(RecordDiff(rid, change, old, new, fields, sections, trans))
    return tuple(out)


def compare(head: KB, ref: str) -> BaseComparison:
    """Compare the working-tree KB ``head`` with ``ref``."""
    import git

    try:
        repo = git.Repo(head.root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise EnvironmentProblem(f"--base needs a git repository; {head.root} is not one") from None
    tip = _resolve(repo, ref)
    try:
        mb = repo.git.merge_base(tip, "HEAD").strip()
    except git.GitCommandError:
        mb = tip
    with tempfile.TemporaryDirectory(prefix="kedb-base-") as tmp:
        base_kb = load_at(repo, mb, Path(tmp) / "base")
        tip_kb = base_kb if mb == tip else load_at(repo, tip, Path(tmp) / "tip")
    others = []
    out = repo.git(c="core.quotepath=off").diff("--name-status", "--find-renames", mb, "--")
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and not parts[-1].startswith(f"{RECORD_DIR}/"):
            others.append((parts[0][0], parts[-1]))
    # Untracked files are not part of the change: in CI they are the job's own outputs (a
    # code-quality report, a pip cache), which a review must not list as maintainer changes.
    return BaseComparison(ref, mb, tip, base_kb, tip_kb, diff_kbs(base_kb, head), tuple(sorted(set(others), key=lambda x: x[1])))


def base_findings(cmp: BaseComparison, head: KB) -> list[Finding]:
    """The rules that need a base: id collisions, deleted published records, status transitions."""
    out: list[Finding] = []
    for d in cmp.diffs:
        if d.change == "deleted" and d.base is not None and _status(d.base) == "published":
            out.append(
                Finding(
                    d.base.source.path,
                    1,
                    "KE802",
                    f"{d.id} is published on {cmp.ref} and this change deletes it; set `status: retired` with a `retired_reason` instead, so links and history stay",
                )
            )
        if d.transition and d.head is not None:
            code, msg = d.transition
            out.append(Finding(d.head.source.path, d.head.source.line_of("status"), code, f"{d.id}: {msg}"))
    for rid, rec in head.records.items():
        if rid in cmp.base.records:
            continue
        other = cmp.tip.records.get(rid)
        if other is not None and (other.source.path != rec.source.path or other.meta.title != rec.meta.title):
            out.append(
                Finding(
                    rec.source.path,
                    rec.source.line_of("id"),
                    "KE801",
                    f"{rid} was also taken on {cmp.ref} by '{other.meta.title}' ({other.source.path}); "
                    "rebase and run `kedb new` again to get the next free id",
                )
            )
    return out
