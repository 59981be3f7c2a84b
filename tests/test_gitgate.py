"""History, approvals, review and base rules on real git repositories made in temp dirs.

Every scenario commits, branches, merges and renames with the real git; nothing is mocked.
The rule codes KE801–KE812 named here are the fixtures of the rules that need git
(``test_rules.test_every_rule_has_a_fixture`` looks for them in this file).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kbtest import AS_OF, git, init_repo, kedb
from kedb.core.load.loader import load
from kedb.git import history
from kedb.git.approvals import verify

KE1 = "known_errors/KE-0001-outlook-credential-prompts.md"
CAROL = {"GIT_AUTHOR_NAME": "Carol Writer", "GIT_AUTHOR_EMAIL": "carol@example.com"}
BOB = {"GIT_AUTHOR_NAME": "Bob Approver", "GIT_AUTHOR_EMAIL": "bob.approver@example.com"}


def edit(root: Path, rel: str, old: str, new: str) -> None:
    p = root / rel
    text = p.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


def commit(root: Path, message: str, env: dict[str, str] | None = None, date: str | None = None) -> str:
    extra = dict(env or {})
    if date:
        extra |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, env=extra)
    return git(root, "rev-parse", "HEAD").strip()


def ke1(root: Path) -> str:
    return next(p.relative_to(root).as_posix() for p in (root / "known_errors").glob("KE-0001-*.md"))


@pytest.fixture
def repo(base_kb: Path) -> Path:
    return init_repo(base_kb)


# ---------------------------------------------------------------- history
def test_history_follows_merges_renames_and_trailers(repo: Path) -> None:
    rel = ke1(repo)
    git(repo, "checkout", "-q", "-b", "raise-priority")
    edit(repo, rel, "priority: P2", "priority: P1")
    edit(repo, rel, "impact: medium", "impact: high")
    commit(repo, "KE-0001: raise to P1\n\nTwelve tickets this week across two tenants.", CAROL, "2026-04-01T10:00:00+00:00")
    git(repo, "mv", rel, KE1)
    commit(repo, "KE-0001: clearer file name", CAROL, "2026-04-01T11:00:00+00:00")
    git(repo, "checkout", "-q", "main")
    msg = (
        "Merge branch 'raise-priority' into 'main'\n\nKE-0001: raise to P1\n\n"
        "See merge request kb/known-errors!42\n\nApproved-by: Bob Approver <bob.approver@example.com>\n"
        "Reviewed-by: Ann Owner <ann.owner@example.com>"
    )
    git(repo, "merge", "-q", "--no-ff", "-m", msg, "raise-priority", env={"GIT_COMMITTER_DATE": "2026-04-02T09:00:00+00:00"})

    h = history.read(repo)
    assert h is not None and not h.partial
    rh = h.of("KE-0001")
    assert [v.number for v in rh.versions] == [1, 2]
    first, merged = rh.versions
    assert first.subject == "Initial KB" and first.change == "added"
    assert merged.merge_request == "kb/known-errors!42"
    assert merged.approved_by == ("Bob Approver <bob.approver@example.com>",)
    assert merged.reviewed_by == ("Ann Owner <ann.owner@example.com>",)
    assert merged.change == "renamed" and merged.path == KE1 and merged.old_path == rel
    assert [a.name for a in merged.authors] == ["Carol Writer"], "the authors of a merge are those of the merged commits"
    assert merged.date.isoformat() == "2026-04-02T09:00:00+00:00"
    assert "Approved-by" not in merged.note and "See merge request" in merged.note

    every = history.read(repo, first_parent=False).of("KE-0001")
    assert [v.subject for v in every.versions] == ["Initial KB", "KE-0001: raise to P1", "KE-0001: clearer file name"]
    assert every.versions[1].note == "Twelve tickets this week across two tenants."

    kb, _ = load(repo)
    (judged,) = [a for a in verify(kb, h).items if a.record == "KE-0001" and a.version.number == 2]
    assert judged.status == "approved" and judged.approvers == ("Bob Approver",)

    out = kedb("--root", str(repo), "history", "KE-0001")
    assert out.exit_code == 0, out.output
    assert "v2  2026-04-02" in out.output and "kb/known-errors!42" in out.output and "approval: approved" in out.output
    data = json.loads(kedb("--root", str(repo), "history", "ke-0001", "--format", "json").output)
    assert [v["version"] for v in data["versions"]] == [1, 2] and data["versions"][1]["old_path"] == rel


def test_history_on_another_ref_and_uncommitted_edits(repo: Path) -> None:
    rel = ke1(repo)
    git(repo, "checkout", "-q", "-b", "wip")
    edit(repo, rel, "Outlook asks for the password every few minutes.", "Outlook asks for the password every hour.")
    commit(repo, "KE-0001: hourly, not every few minutes", CAROL)
    git(repo, "checkout", "-q", "main")
    assert len(history.read(repo, "wip").of("KE-0001").versions) == 2
    assert len(history.read(repo, "main").of("KE-0001").versions) == 1
    edit(repo, rel, "A stale cached credential.", "A stale cached credential in Credential Manager.")
    (repo / "known_errors" / "WA-0009-new.md").write_text("---\nid: WA-0009\n---\n", encoding="utf-8")
    h = history.read(repo)
    assert h.of("KE-0001").uncommitted == "modified"
    assert h.of("WA-0009").uncommitted == "added" and h.of("WA-0009").versions == ()
    out = kedb("--root", str(repo), "history", "KE-0001").output
    assert "uncommitted" in out and "not dated" in out
    bad = kedb("--root", str(repo), "history", "KE-0001", "--ref", "no-such-branch")
    assert bad.exit_code == 2 and "not a commit" in bad.stderr


def test_history_is_kept_per_head_and_uncommitted_edits_are_read_fresh(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second read at the same head comes from .kedb/cache/history.bin (git log is not run); edits in
    the working tree still show; a new commit, another ref, a cache file kedb did not write, and
    KEDB_NO_CACHE=1 all read git again, and every read equals one from git."""
    from kedb.core.load import cache

    first = history.read(repo)
    assert (repo / ".kedb" / "cache" / "history.bin").is_file()
    real_log = history._log_entries
    calls: list[int] = []
    monkeypatch.setattr(history, "_log_entries", lambda raw: calls.append(1) or real_log(raw))
    again = history.read(repo)
    assert calls == [] and again == first, "the same head: read from the cache"
    edit(repo, ke1(repo), "priority: P2", "priority: P3")
    assert history.read(repo).of("KE-0001").uncommitted == "modified" and calls == []
    assert history.read(repo, "main").ref == "main"
    commit(repo, "KE-0001: lower priority", CAROL)
    moved = history.read(repo)
    assert calls == [1] and len(moved.of("KE-0001").versions) == 2 and moved.of("KE-0001").uncommitted is None
    monkeypatch.setenv("KEDB_NO_CACHE", "1")
    assert history.read(repo) == moved and calls == [1, 1]
    monkeypatch.delenv("KEDB_NO_CACHE")
    path = repo / ".kedb" / "cache" / "history.bin"
    forged = cache.seal(b"another user's key" * 2, path.read_bytes()[-100:])
    path.write_bytes(forged)
    assert history.read(repo) == moved and calls == [1, 1, 1], "a cache file kedb did not write is never believed"


def test_the_kept_history_is_remembered_in_the_process_while_its_file_is_unchanged(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``mkdocs serve`` rebuilds in one process: the history kept for a head is read from its file once and then given
    again (the same object) while the file is the same one, unchanged. Any change to the file (rewritten, replaced by
    another file, another user's bytes) reads it again, and a file kedb did not write is still never believed."""
    from kedb.core.load import cache

    first = history.read(repo)
    reads: list[str] = []
    real = cache.read_sealed
    monkeypatch.setattr(cache, "read_sealed", lambda path, shown: reads.append(shown) or real(path, shown))
    path = repo / ".kedb" / "cache" / "history.bin"
    again = history.read(repo)
    assert again == first and reads == [], "written by the first read and remembered: the file is not read again"
    kept = cache.read_kept(path, history._HistoryCache(repo, first.head or "", True, False).key, history.History, remember=True)
    assert kept is cache.read_kept(path, history._HistoryCache(repo, first.head or "", True, False).key, history.History, remember=True)
    copy = path.with_name("copy.bin")
    copy.write_bytes(path.read_bytes())
    copy.replace(path)  # the same bytes in another file
    assert history.read(repo) == first and len(reads) == 1, "another file: read again"
    assert history.read(repo) == first and len(reads) == 1
    path.write_bytes(cache.seal(b"another user's key" * 2, path.read_bytes()[-100:]))
    assert history.read(repo) == first and len(reads) == 2, "another user's bytes: read, refused, and the history read from git"
    elsewhere = repo / "kept-elsewhere.bin"
    path.replace(elsewhere)
    path.symlink_to(elsewhere)  # a link to the file kedb wrote: what is read is what it points to
    assert history.read(repo) == first and len(reads) == 3
    assert history.read(repo) == first and len(reads) == 3, "the same file behind the link: remembered"
    elsewhere.write_bytes(cache.seal(b"another user's key" * 2, elsewhere.read_bytes()[-100:]))
    assert history.read(repo) == first and len(reads) == 4, "the file behind the link changed: read again, and refused"


def test_the_approval_report_is_kept_per_head(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record's text edited in the working tree reuses the report of its head; a new commit, another gate
    start in content/kedb.yml, a new record id, KEDB_NO_CACHE=1 or a cache file kedb did not write judge again,
    and every report equals one judged from scratch."""
    import kedb.git.approvals as approvals
    from kedb.core.load import cache

    judged: list[int] = []
    real = approvals._verify
    monkeypatch.setattr(approvals, "_verify", lambda *a: judged.append(1) or real(*a))

    def report() -> object:
        kb = load(repo, use_cache=False)[0]
        got = verify(kb, history.read(repo))
        assert got == real(kb, history.read(repo), None), "the kept report is the one judged from scratch"
        return got

    first = report()
    assert judged == [1] and report() == first and judged == [1]
    edit(repo, ke1(repo), "A stale cached credential.", "A stale cached credential in Credential Manager.")
    report()
    assert judged == [1], "an uncommitted edit of a record's text: the head's report"
    settings = repo / "content" / "kedb.yml"
    before = settings.read_text(encoding="utf-8")
    settings.write_text(before.replace("approvals_since: 2026-01-01", "approvals_since: 2026-02-01"), encoding="utf-8")
    report()
    assert judged == [1, 1], "the gate's start is in the key"
    settings.write_text(before, encoding="utf-8")
    commit(repo, "KE-0001: say where the credential is", CAROL)
    report()
    assert judged == [1, 1, 1]
    monkeypatch.setenv("KEDB_NO_CACHE", "1")
    report()
    assert judged == [1, 1, 1, 1]
    monkeypatch.delenv("KEDB_NO_CACHE")
    path = repo / ".kedb" / "cache" / "approvals.bin"
    path.write_bytes(cache.seal(b"another user's key" * 2, path.read_bytes()[-200:]))
    report()
    assert judged == [1, 1, 1, 1, 1], "a cache file kedb did not write is never believed"


def test_shallow_clone_is_refused_unless_allowed(repo: Path, tmp_path: Path) -> None:
    edit(repo, ke1(repo), "priority: P2", "priority: P3")
    commit(repo, "KE-0001: lower priority")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    for args in (["history", "KE-0001"], ["check", "--approvals", "--as-of", AS_OF]):
        r = kedb("--root", str(clone), *args)
        assert r.exit_code == 2, r.output
        assert "shallow clone" in r.stderr and "GIT_DEPTH: 0" in r.stderr and "fetch-depth: 0" in r.stderr
    r = kedb("--root", str(clone), "history", "KE-0001", "--allow-shallow")
    assert r.exit_code == 0 and "history is partial" in r.output
    assert history.read(clone, allow_shallow=True).partial


# ---------------------------------------------------------------- approvals on main
def test_approvals_verified_per_version(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rel = ke1(repo)
    edit(repo, rel, "priority: P2", "priority: P1")
    commit(repo, "KE-0001: P1 without approval", CAROL)  # "KE810"
    edit(repo, rel, "tags: [outlook]", "tags: [outlook, mfa]")
    commit(repo, "KE-0001: tag\n\nApproved-by: Ann Owner <ann.owner@example.com>", CAROL)  # "KE811": Ann is no approver
    edit(repo, rel, "tags: [outlook, mfa]", "tags: [outlook, mfa, modern-auth]")
    commit(repo, "KE-0001: another tag\n\nApproved-by: Bob Approver <bob.approver@example.com>", BOB)  # "KE812"
    edit(repo, rel, "tags: [outlook, mfa, modern-auth]", "tags: [outlook]")
    commit(repo, "KE-0001: fewer tags\n\nApproved-by: bapprover", CAROL)  # approved (username)

    r = kedb("--root", str(repo), "check", "--approvals", "--as-of", AS_OF, "--format", "json")
    assert r.exit_code == 1
    found = {(f["code"], m.group(1)) for f in json.loads(r.output)["findings"] if (m := re.search(r"version (\d+)", f["message"]))}
    # Carol, who wrote version 5, is nobody in content/roles.yml: kedb cannot tell she is not bapprover.
    assert found == {("KE810", "2"), ("KE811", "3"), ("KE812", "4"), ("KE816", "5")}
    plain = kedb("--root", str(repo), "check", "--as-of", AS_OF)
    assert plain.exit_code == 0, "without --approvals, history is not judged"

    # Current versions are judged from the loaded records, older ones from git: the same verdicts
    # as reading every version from git, and the current file is recognised by its blob id.
    import kedb.git.approvals as approvals

    kb, h = load(repo)[0], history.read(repo)
    assert h is not None
    current = approvals._loaded_fields(kb, kb.records)
    assert h.of("KE-0001").versions[-1].blob in current
    fast = approvals.verify(kb, h)
    monkeypatch.setattr(approvals, "_loaded_fields", lambda kb, ids: {})
    slow = approvals.verify(kb, h)
    monkeypatch.undo()
    assert [(a.record, a.version.number, a.state, a.status) for a in fast.items] == [
        (a.record, a.version.number, a.state, a.status) for a in slow.items
    ]

    # Moving the gate to 2099 does not hide the past (each version keeps the policy it landed
    # under), is itself a violation (KE815), and is a policy change without a maintainer (KE814).
    edit(repo, "content/kedb.yml", "name: Test KB", "name: Test KB\napprovals_since: 2099-01-01")
    commit(repo, "Approval gate starts in 2099", CAROL)
    r = kedb("--root", str(repo), "check", "--approvals", "--as-of", AS_OF, "--format", "json")
    after = {(f["code"], f["path"]) for f in json.loads(r.output)["findings"]}
    assert r.exit_code == 1
    assert {("KE810", rel), ("KE811", rel), ("KE812", rel), ("KE815", "content/kedb.yml"), ("KE814", "content/kedb.yml")} <= after


# ---------------------------------------------------------------- review and base rules
def _branch_with_changes(repo: Path) -> None:
    rel = ke1(repo)
    git(repo, "checkout", "-q", "-b", "mr")
    edit(repo, rel, "data_sensitivity: internal", "data_sensitivity: public")
    edit(repo, rel, "status: published", "status: draft")
    edit(repo, rel, "priority: P2", "priority: P1")
    edit(repo, rel, "impact: medium", "impact: high")
    edit(repo, rel, "A stale cached credential.", "A cached token that the tenant's conditional access no longer accepts.")
    edit(repo, "known_errors/WA-0001-clear-cached-credentials.md", "risk: low", "risk: high")
    edit(repo, "known_errors/PRB-0001-credential-prompts.md", "status: investigating", "status: fix-approved")
    commit(repo, "MR: several changes", CAROL)


def test_review_shows_fields_sections_transitions_approvals_and_risks(repo: Path) -> None:
    _branch_with_changes(repo)
    r = kedb("--root", str(repo), "review", "--base", "main")
    assert r.exit_code == 0, r.output
    md = r.output
    assert "| `data_sensitivity` | internal | public |" in md
    assert "| `priority` | P2 | P1 |" in md
    assert "-A stale cached credential." in md and "+A cached token" in md and "```diff" in md
    assert "sensitivity lowered from internal to public" in md
    assert "high-risk workaround without rollback steps" in md
    assert "status cannot go from 'published' to 'draft'" in md
    # KE-0001 goes from published P2 to draft P1: neither side is live and high-impact, so the gate
    # does not ask; its workaround is live and now applies to a P1 known error, so it does.
    assert "**WA-0001** (m365-mail): one of Bob Approver (@bapprover)" in md
    assert "Not gated (not live and high-impact before or after): KE-0001, PRB-0001" in md
    assert "skipping root-cause-identified, fix-proposed" in md
    data = json.loads(kedb("--root", str(repo), "review", "--base", "main", "--format", "json").output)
    by_id = {r["id"]: r for r in data["records"]}
    assert set(by_id) == {"KE-0001", "WA-0001", "PRB-0001"}
    assert by_id["KE-0001"]["high_impact"] and by_id["KE-0001"]["transition"]["code"] == "KE804"
    assert by_id["PRB-0001"]["transition"]["code"] == "KE803"

    c = kedb("--root", str(repo), "check", "--base", "main", "--as-of", AS_OF, "--format", "json")
    codes = {f["code"] for f in json.loads(c.output)["findings"]}
    assert {"KE804", "KE803"} <= codes and c.exit_code == 1


def test_base_rules_collision_deletion_and_skipped_review(repo: Path) -> None:
    ke2 = (repo / ke1(repo)).read_text(encoding="utf-8").replace("KE-0001", "KE-0002")
    ke2 = ke2.replace("status: published", "status: draft").replace("problem: PRB-0001\n", "").replace("workarounds: [WA-0001]\n", "")
    (repo / "known_errors/KE-0002-draft-record.md").write_text(ke2, encoding="utf-8")
    commit(repo, "KE-0002 draft")
    git(repo, "checkout", "-q", "-b", "mr")
    edit(repo, "known_errors/KE-0002-draft-record.md", "status: draft", "status: published")  # "KE803"
    new = ke2.replace("KE-0002", "KE-0003").replace("Outlook prompts for credentials again and again", "Teams crashes on start")
    (repo / "known_errors/KE-0003-teams-crash.md").write_text(new, encoding="utf-8")
    commit(repo, "Publish KE-0002, add KE-0003", CAROL)
    git(repo, "checkout", "-q", "main")
    other = ke2.replace("KE-0002", "KE-0003").replace("Outlook prompts for credentials again and again", "Printer offline after update")
    (repo / "known_errors/KE-0003-printer-offline.md").write_text(other, encoding="utf-8")
    commit(repo, "KE-0003 from another merge request")  # "KE801" for the branch
    git(repo, "checkout", "-q", "mr")
    # A published record deleted instead of retired: "KE802"
    deleted = ke1(repo)
    git(repo, "rm", "-q", deleted)
    edit(repo, "known_errors/WA-0001-clear-cached-credentials.md", "applies_to: [KE-0001]", "applies_to: []")
    edit(repo, "known_errors/PRB-0001-credential-prompts.md", "known_errors: [KE-0001]", "known_errors: []")

    c = kedb("--root", str(repo), "check", "--base", "main", "--as-of", AS_OF, "--format", "json")
    found = {(f["code"], f["path"]) for f in json.loads(c.output)["findings"]}
    assert ("KE801", "known_errors/KE-0003-teams-crash.md") in found
    assert deleted == "known_errors/KE-0001-outlook-prompts.md" and ("KE802", deleted) in found
    assert ("KE803", "known_errors/KE-0002-draft-record.md") in found
    md = kedb("--root", str(repo), "review", "--base", "main").output
    assert "a published record is deleted instead of retired" in md
    assert "*deleted* known error" in md and "*added* known error" in md


def test_a_record_that_fails_validation_is_not_reported_as_deleted(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "mr")
    edit(repo, "known_errors/WA-0001-clear-cached-credentials.md", "applies_to: [KE-0001]", "applies_to: []")
    commit(repo, "WA-0001: applies to nothing", CAROL)
    c = kedb("--root", str(repo), "check", "--base", "main", "--as-of", AS_OF, "--format", "json")
    found = {(f["code"], f["path"]) for f in json.loads(c.output)["findings"]}
    assert ("KE106", "known_errors/WA-0001-clear-cached-credentials.md") in found  # the real problem: applies_to is empty
    assert [f for f in found if f[0] == "KE802"] == []  # nothing was deleted


# ---------------------------------------------------------------- CODEOWNERS
def test_codeowners_per_service_and_for_policy(repo: Path) -> None:
    r = kedb("--root", str(repo), "codeowners", "--platform", "gitlab")
    assert r.exit_code == 0, r.output
    text = (repo / "CODEOWNERS").read_text(encoding="utf-8")
    assert f"/{ke1(repo)} @bapprover" in text
    assert "/content/ @aowner" in text and "/generators/ @aowner" in text and "/CODEOWNERS @aowner" in text
    assert "* @aowner" in text.splitlines() and text.index("* @aowner") < text.index(f"/{ke1(repo)}"), "the catch-all comes first"
    assert kedb("--root", str(repo), "codeowners", "--platform", "gitlab", "--check").exit_code == 0
    edit(repo, "content/roles.yml", "approvers: [bob.approver]", "approvers: [bob.approver, ann.owner]")
    stale = kedb("--root", str(repo), "codeowners", "--platform", "gitlab", "--check")
    assert stale.exit_code == 1 and "out of date" in stale.stderr

    (repo / ".github").mkdir()
    (repo / ".github" / "CODEOWNERS").write_text("* @someone\n", encoding="utf-8")
    gh = kedb("--root", str(repo), "codeowners", "--platform", "github", "--output", "CODEOWNERS")
    assert gh.exit_code == 0 and ".github/CODEOWNERS exists and github reads it before CODEOWNERS" in gh.stderr
    gh2 = kedb("--root", str(repo), "codeowners", "--platform", "github")
    assert "/.github/CODEOWNERS @aowner" in (repo / ".github/CODEOWNERS").read_text(encoding="utf-8")
    assert "CODEOWNERS also exists" in gh2.stderr
