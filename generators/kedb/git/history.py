"""Record history from git, in one pass.

One ``git log --raw`` over ``known_errors/`` gives every record its versions: commit, date,
author, subject and body (the change note), ``Approved-by:`` / ``Reviewed-by:`` trailers and
the merge-request reference. On the main branch the log follows first parents, so a merged
merge request is one version carrying the merge commit's trailers (the approvals), and the
authors of the change are everyone who wrote a commit on the merged side. Renames are
followed by git's rename detection; a record's id comes from its file name.

A shallow clone cannot tell when a record was created or who approved it, so reading history
there fails with a message saying how to fetch all of it, unless the caller allows partial
history (``--allow-shallow``), in which case :attr:`History.partial` is set and outputs say so.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from ..core.errors import EnvironmentProblem
from ..core.gate import POLICY_FILES, is_record_path
from ..core.load.cache import CACHE_DIR, read_kept, source_digest, write_kept
from ..core.trail import ChangeKind, History, Landing, Person, PolicyRef, RecordHistory, Uncommitted, Version

RECORD_DIR = "known_errors"
_RECORD_FILE = re.compile(r"(?:^|/)((?:KE|WA|PRB)-\d{4,})(?:-[^/]*)?\.md$")
_MR_REFS = (
    re.compile(r"^See merge request (?P<ref>\S*![0-9]+)\s*$", re.M),  # GitLab merge commit
    re.compile(r"^Merge pull request (?P<ref>#[0-9]+)\b", re.M),  # GitHub merge commit
    re.compile(r"\((?P<ref>#[0-9]+)\)\s*$"),  # GitHub squash merge subject "Title (#42)"
    re.compile(r"^(?:Merge-request|Pull-request):\s*(?P<ref>\S+)\s*$", re.M | re.I),
)
# Which text each pattern reads first: the body (multi-line patterns) or the subject. Worked out
# once: `pattern.flags & re.M` makes a flag object on every call.
_MR_REFS_WHERE = tuple((pat, bool(pat.flags & re.M)) for pat in _MR_REFS)
_TRAILER_KEYS = ("approved-by", "reviewed-by", "co-authored-by", "signed-off-by", "merge-request", "pull-request", "acked-by")
_TRAILER_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):\s+\S")
# Co-authors are read from anywhere in the message, not only its last paragraph: a squash merge
# keeps each squashed commit's message, trailers and all, in the middle of its body.
_CO_AUTHOR = re.compile(r"^[ \t]*co-authored-by:[ \t]*(\S.*?)[ \t]*$", re.I | re.M)
SHALLOW_HELP = (
    "this is a shallow clone, so record history (versions, dates, approvals) would be wrong. "
    "Fetch the whole history: `git fetch --unshallow`; in GitLab CI set `GIT_DEPTH: 0`; "
    "in GitHub Actions use `actions/checkout` with `fetch-depth: 0`. "
    "Or pass --allow-shallow to go on with partial history (outputs will say so)."
)


def record_id(path: str) -> str | None:
    m = _RECORD_FILE.search(path)
    return m.group(1) if m else None


def _repo(root: Path):  # type: ignore[no-untyped-def]
    # Outside git nothing needs git: GitPython is imported (and fails when git is missing) only
    # for a repository, so `kedb build` of a plain folder runs on a machine without git.
    if not (Path(root) / ".git").exists():
        return None
    import git

    try:
        return git.Repo(root, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def is_repository(root: Path) -> bool:
    return (Path(root) / ".git").exists() and _repo(root) is not None


def is_shallow(root: Path) -> bool:
    repo = _repo(root)
    return bool(repo) and repo.git.rev_parse("--is-shallow-repository").strip() == "true"


def require_full(root: Path, allow_shallow: bool) -> bool:
    """Raise unless the history is complete or partial history is allowed; return ``partial``."""
    if is_shallow(root):
        if not allow_shallow:
            raise EnvironmentProblem(SHALLOW_HELP)
        return True
    return False


def _split_trailers(body: str) -> tuple[str, dict[str, list[str]]]:
    """Split a commit body into the change note and its trailer block (the last paragraph,
    when every line of it is ``Key: value``)."""
    text = body.strip("\n")
    paras = re.split(r"\n[ \t]*\n", text) if text else []
    trailers: dict[str, list[str]] = {}
    if paras:
        last = paras[-1].splitlines()
        if last and all(_TRAILER_LINE.match(ln) or ln.startswith((" ", "\t")) for ln in last):
            keyed = [ln for ln in last if _TRAILER_LINE.match(ln)]
            if any(ln.split(":", 1)[0].lower() in _TRAILER_KEYS for ln in keyed):
                for ln in keyed:
                    k, v = ln.split(":", 1)
                    trailers.setdefault(k.strip().lower(), []).append(v.strip())
                paras = paras[:-1]
    return "\n\n".join(paras).strip(), trailers


def _merge_request(subject: str, body: str, trailers: dict[str, list[str]]) -> str | None:
    for key in ("merge-request", "pull-request"):
        if trailers.get(key):
            return trailers[key][0]
    if "#" not in subject and "merge request" not in body:  # cheap test first: most commits name none
        return None
    for pat, in_body in _MR_REFS_WHERE:
        m = pat.search(body if in_body else subject) or pat.search(subject)
        if m:
            return m.group("ref")
    return None


def _parse_person(text: str) -> Person:
    m = re.match(r"^\s*(.*?)\s*<([^>]*)>\s*$", text)
    return Person(m.group(1), m.group(2)) if m else Person(text.strip(), "")


def co_authors(message: str) -> tuple[Person, ...]:
    """Every ``Co-authored-by:`` line of a commit message, wherever it is (in any letter case)."""
    if "co-authored-by" not in message.lower():  # most messages name none: skip the regex
        return ()
    return tuple(_parse_person(m) for m in _CO_AUTHOR.findall(message))


_SEP, _END = "\x1f", "\x1e"
_FORMAT = _END + _SEP.join(["%H", "%P", "%an", "%ae", "%cI", "%s", "%B"]) + _SEP


class _Commit:
    __slots__ = ("author", "body", "date", "email", "parents", "sha", "subject")

    def __init__(self, sha: str, parents: list[str], author: str, email: str, date: str, subject: str, body: str) -> None:
        self.sha, self.parents, self.author, self.email, self.date, self.subject, self.body = (
            sha,
            parents,
            author,
            email,
            date,
            subject,
            body,
        )


Change = tuple[str, str, str, str | None, str]  # (status letter, blob after, path, old path, mode after)


def _log_entries(raw: str) -> Iterator[tuple[_Commit, list[Change]]]:
    """Parse ``git log --raw`` output in our format into commits and their file changes
    ``(status, blob_after, path, old_path, mode_after)``."""
    for chunk in raw.split(_END):
        if not chunk.strip():
            continue
        head, _, rest = chunk.rpartition(_SEP)
        fields = head.split(_SEP)
        if len(fields) < 7:
            continue
        sha, parents, an, ae, cd, subject = fields[:6]
        message = _SEP.join(fields[6:])
        body = message.split("\n", 1)[1] if "\n" in message else ""
        commit = _Commit(sha, parents.split(), an, ae, cd, subject, body)
        changes: list[Change] = []
        for line in rest.splitlines():
            if not line.startswith(":"):
                continue
            meta, _, paths = line.partition("\t")
            parts = meta.split()
            if len(parts) < 5:
                continue
            status, blob_after, mode = parts[4], parts[3], parts[1]
            names = paths.split("\t")
            if status.startswith(("R", "C")) and len(names) == 2:
                changes.append((status[0], blob_after, names[1], names[0], mode))
            else:
                changes.append((status[0], blob_after, names[0], None, mode))
        yield commit, changes


_GRAPH_FORMAT = f"--format={_END}{_SEP.join(['%H', '%P', '%an', '%ae', '%B'])}"


def _start_graph_log(root: Path, ref: str) -> subprocess.Popen[bytes]:
    """The ``git log`` of every commit that :func:`_authors_of_merges` reads, started at once so it
    runs beside the main log (two processes on two cores)."""
    return subprocess.Popen(["git", "log", ref, _GRAPH_FORMAT], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def _authors_of_merges(repo, ref: str, merges: Iterable[_Commit], graph_log: subprocess.Popen[bytes]) -> dict[str, tuple[Person, ...]]:  # type: ignore[no-untyped-def]
    """For each merge commit, the authors (and co-authors) of the commits it brought in.

    One extra ``git log`` over all commits gives the graph; each merge's side branch is
    walked in memory until it meets a commit on the first-parent line."""
    merges = [m for m in merges if len(m.parents) > 1]
    if not merges:
        graph_log.kill()
        graph_log.communicate()
        return {}
    data, _ = graph_log.communicate()
    if graph_log.returncode != 0:
        raise EnvironmentProblem(f"git log {ref} failed while reading the authors of merge requests")
    out = data.decode("utf-8", errors="replace")
    graph: dict[str, tuple[list[str], tuple[Person, ...]]] = {}
    for chunk in out.split(_END):
        f = chunk.split(_SEP, 4)
        if len(f) < 5:
            continue
        people = (Person(f[2], f[3]), *co_authors(f[4]))
        graph[f[0]] = (f[1].split(), people)
    mainline: set[str] = set()
    c: str | None = repo.git.rev_parse(ref).strip()
    while c and c in graph and c not in mainline:
        mainline.add(c)
        ps = graph[c][0]
        c = ps[0] if ps else None
    result: dict[str, tuple[Person, ...]] = {}
    for m in merges:
        seen: set[str] = set()
        stack = list(m.parents[1:])
        people: dict[Person, None] = {}
        while stack:
            s = stack.pop()
            if s in seen or s in mainline or s not in graph:
                continue
            seen.add(s)
            ps, who = graph[s]
            for p in who:
                people[p] = None
            stack.extend(ps)
        result[m.sha] = tuple(people)
    return result


def read(root: Path, ref: str = "HEAD", *, first_parent: bool = True, allow_shallow: bool = False) -> History | None:
    """Read the history of every record at ``ref``. ``None`` when ``root`` is not a git repository.

    ``first_parent`` follows the main line (a merged merge request is one version); pass
    ``False`` to see every commit of a branch.
    """
    root = Path(root)
    repo = _repo(root)
    if repo is None:
        return None
    try:
        head = repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except Exception:
        head = ""
    if not head:
        if ref == "HEAD":
            return History(ref, None, None, first_parent, False)
        raise EnvironmentProblem(f"'{ref}' is not a commit in this repository (fetch it first, e.g. `git fetch origin main`)")
    partial = require_full(root, allow_shallow)
    cache = _HistoryCache(root, head, first_parent, partial)
    kept = cache.load()
    if kept is not None:
        return _with_uncommitted(replace(kept, ref=ref), _uncommitted(repo))
    args = [head, "--raw", "--no-abbrev", "--find-renames", "--topo-order", "--no-color", f"--format={_FORMAT}"]
    if first_parent:
        args += ["--first-parent", "--diff-merges=first-parent"]
    # No pathspec: limiting the log to known_errors/ makes git diff every commit's trees twice
    # (once to decide whether the commit touches the path, once for the output), and the gate
    # needs every commit anyway: the policy files before each change, and the non-record
    # changes a maintainer must approve. log.showRoot: the first commit's files are changes too.
    graph_log = _start_graph_log(root, head) if first_parent else None
    try:
        raw = repo.git(c=["core.quotepath=off", "log.showRoot=true"]).log(*args)
    except BaseException:
        if graph_log is not None:
            graph_log.kill()
            graph_log.communicate()
        raise
    commits = list(_log_entries(raw))  # newest first
    prefix = f"{RECORD_DIR}/"
    seq = {c.sha: i for i, (c, _) in enumerate(reversed(commits))}
    policy, after = _policy_before(commits) if first_parent else ({}, {})
    entries = [(c, ch) for c, ch in commits if any(p.startswith(prefix) or (o or "").startswith(prefix) for _, _, p, o, _ in ch)]
    other = [(c, paths) for c, ch in commits if (paths := _non_record_paths(ch))] if first_parent else []
    merge_authors = _authors_of_merges(repo, head, [c for c, _ in entries] + [c for c, _ in other], graph_log) if graph_log else {}

    ls = repo.git.ls_tree("-r", "--name-only", head, "--", RECORD_DIR)
    alias: dict[str, str] = {}
    for p in ls.splitlines():
        rid = record_id(p)
        if rid:
            alias[p] = rid
    kinds: dict[str, ChangeKind] = {"A": "added", "D": "deleted", "R": "renamed", "C": "added"}
    # Per record, newest first: (commit fields..., change, path, old_path, blob, mode, policy, seq) in Version's field order after `number`.
    per_record: dict[str, list[tuple[object, ...]]] = {}
    for commit, changes in entries:  # newest first
        body, trailers = _split_trailers(commit.body)
        author = Person(commit.author, commit.email)
        authors = _authors(commit, author, merge_authors)
        common = (
            commit.sha,
            datetime.fromisoformat(commit.date),
            author,
            authors,
            commit.subject,
            body,
            tuple(trailers.get("approved-by", ())),
            tuple(trailers.get("reviewed-by", ())),
            _merge_request(commit.subject, commit.body, trailers),
        )
        before = policy.get(commit.sha, ())
        for status, blob, path, old, mode in changes:
            if not path.startswith(prefix):
                continue
            rid = alias.get(path) or record_id(path)
            if rid is None:
                continue
            kind = kinds.get(status, "modified")
            if old is not None and status == "R":
                alias[old] = rid
            per_record.setdefault(rid, []).append(
                (*common, kind, path, old, None if kind == "deleted" else blob, mode, before, seq[commit.sha])
            )
    landings = []
    for commit, paths in reversed(other):  # oldest first
        _, trailers = _split_trailers(commit.body)
        author = Person(commit.author, commit.email)
        landings.append(
            Landing(
                commit.sha,
                seq[commit.sha],
                datetime.fromisoformat(commit.date),
                author,
                _authors(commit, author, merge_authors),
                commit.subject,
                tuple(trailers.get("approved-by", ())),
                paths,
                policy.get(commit.sha, ()),
                after.get(commit.sha, policy.get(commit.sha, ())),
            )
        )
    records: dict[str, RecordHistory] = {}
    for rid in sorted(per_record):
        items = per_record[rid]
        n = len(items)
        versions = tuple(Version(n - i, *args) for i, args in enumerate(items))[::-1]  # type: ignore[arg-type]
        records[rid] = RecordHistory(rid, versions, None)
    head_date = datetime.fromisoformat(repo.git.log("-1", "--format=%cI", head).strip())
    committed = History(ref, head, head_date, first_parent, partial, records, commits=len(entries), landings=tuple(landings))
    cache.save(committed)
    return _with_uncommitted(committed, _uncommitted(repo))


def _with_uncommitted(hist: History, dirty: dict[str, Uncommitted]) -> History:
    """``hist`` (what the commits say) with the working tree's uncommitted changes of each record."""
    if not dirty:
        return hist
    records = {rid: replace(rh, uncommitted=dirty.get(rid)) for rid, rh in hist.records.items()}
    for rid in dirty.keys() - records.keys():
        records[rid] = RecordHistory(rid, (), dirty[rid])
    return replace(hist, records=dict(sorted(records.items())))


class _HistoryCache:
    """What the commits of ``head`` say, kept in ``.kedb/cache/history.bin`` between runs.

    A commit id names its whole past, so the history read at one head never goes stale; the key
    also holds kedb's code (how it is read), the main-line mode and whether the clone is shallow.
    The working tree's uncommitted changes are never kept: they are read on every run. One entry
    (the last head read) is kept. The file is sealed with this user's key, like the other caches:
    history decides approvals, so a cache file kedb did not write itself is never believed.
    Reading the history of 10,000 records in 20,000 commits took 6 s here; the cache gives it in
    a fraction of a second while the head does not move (edits, previews, builds of each edition).
    ``KEDB_NO_CACHE=1`` turns it off."""

    NAME = "history.bin"

    def __init__(self, root: Path, head: str, first_parent: bool, partial: bool) -> None:
        self.path = Path(root) / CACHE_DIR / self.NAME
        self.key = "\0".join(("kedb-history 1", source_digest(), head, str(first_parent), str(partial))).encode()

    def load(self) -> History | None:
        return read_kept(self.path, self.key, History, remember=True)

    def save(self, hist: History) -> None:
        write_kept(self.path, self.key, hist, remember=True)


def _authors(commit: _Commit, author: Person, merge_authors: dict[str, tuple[Person, ...]]) -> tuple[Person, ...]:
    """Everyone who wrote a change: the merged side's authors (or the commit's own) and every co-author."""
    found = merge_authors.get(commit.sha) or (author,)
    return tuple(dict.fromkeys((*found, *co_authors(commit.body))))


def _non_record_paths(changes: list[Change]) -> tuple[str, ...]:
    """The paths a commit changed that are not record files (a rename counts on both sides)."""
    out = {p for _, _, p, _, _ in changes if not is_record_path(p)}
    out |= {o for _, _, _, o, _ in changes if o is not None and not is_record_path(o)}
    return tuple(sorted(out))


def _apply_policy(state: dict[str, str], changes: list[Change]) -> None:
    for status, blob, path, old, _ in changes:
        if old is not None and status == "R":
            state.pop(old, None)
        if path in POLICY_FILES:
            if status == "D":
                state.pop(path, None)
            else:
                state[path] = blob


def _ref(state: dict[str, str]) -> PolicyRef:
    return tuple((p, state[p]) for p in POLICY_FILES if p in state)


def _policy_before(commits: list[tuple[_Commit, list[Change]]]) -> tuple[dict[str, PolicyRef], dict[str, PolicyRef]]:
    """For each commit of a first-parent log (newest first), the policy files of its first parent,
    and (for the commits that changed one) the policy files it left.

    Walked oldest first: each commit's changes against its first parent move the policy on."""
    state: dict[str, str] = {}
    before: dict[str, PolicyRef] = {}
    after: dict[str, PolicyRef] = {}
    ref: PolicyRef = ()
    for commit, changes in reversed(commits):
        before[commit.sha] = ref
        if any(p in POLICY_FILES or o in POLICY_FILES for _, _, p, o, _ in changes):
            _apply_policy(state, changes)
            if (now := _ref(state)) != ref:
                after[commit.sha] = ref = now
    return before, after


def _uncommitted(repo) -> dict[str, Uncommitted]:  # type: ignore[no-untyped-def]
    """Records whose working-tree file differs from HEAD (or is new and untracked)."""
    out = repo.git(c="core.quotepath=off").status("--porcelain=v1", "--untracked-files=all", "--", RECORD_DIR)
    dirty: dict[str, Uncommitted] = {}
    for line in out.splitlines():
        code, path = line[:2], line[3:]
        if " -> " in path:
            path = path.split(" -> ", 1)[1]
        rid = record_id(path)
        if not rid:
            continue
        if "?" in code or "A" in code:
            dirty[rid] = "added"
        elif "D" in code:
            dirty[rid] = "deleted"
        elif "R" in code:
            dirty[rid] = "renamed"
        else:
            dirty[rid] = "modified"
    return dirty


def head_commit(root: Path) -> tuple[str, datetime] | None:
    """The commit checked out at ``root`` and its committer date, or None outside git."""
    repo = _repo(root)
    if repo is None:
        return None
    try:
        out = repo.git.log("-1", "--format=%H%x1f%cI").strip()
    except Exception:
        return None
    if not out:
        return None
    sha, date = out.split(_SEP)
    return sha, datetime.fromisoformat(date)


def is_dirty(root: Path) -> bool:
    repo = _repo(root)
    return bool(repo) and repo.is_dirty(untracked_files=False)
