"""Commit signatures checked by git against the allowed keys a KB lists (``kedb.git.signatures``).

Real repositories, real keys, real signing: SSH keys from ``ssh-keygen``, an OpenPGP key from
``gpg``, commits signed by ``git commit -S``. The keys are made once per module. The point of
most tests is that only the text given to :func:`verify` decides, never a keyring, an
allowed-signers file or a ``gpg.program`` that the person or the CI runner has configured.
"""

from __future__ import annotations

import locale
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kbtest import git, require_tool
from kedb.core.errors import EnvironmentProblem, UsageError
from kedb.git import signatures
from kedb.git.signatures import Signature, verify

UNCHECKED = "commit signatures in the signed evidence mode"


@dataclass(frozen=True)
class Keys:
    alice: Path  # SSH private key; alice@example.com in ALLOWED
    mallory: Path  # SSH private key listed nowhere
    gnupghome: Path  # keyring holding Bob's and Eve's secret keys (the signers' side)
    bob: str  # fingerprint of Bob's OpenPGP key
    bob_public: str  # Bob's public key, ASCII-armoured
    eve_public: str  # another OpenPGP public key

    def allowed(self, principal: str, key: Path) -> str:
        """An allowed-signers line for the SSH key ``key``."""
        keytype, blob = Path(f"{key}.pub").read_text().split()[:2]
        return f"{principal} {keytype} {blob}\n"


def _gpg(home: Path, *args: str) -> str:
    env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    res = subprocess.run(["gpg", "--batch", *args], env=env, check=True, capture_output=True, text=True, errors="replace")
    return res.stdout


def _new_gpg_key(home: Path, uid: str, expire: str = "never") -> tuple[str, str]:
    # --utf8-strings: the user id goes in byte for byte, whatever the locale says
    _gpg(home, "--utf8-strings", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", expire)
    email = uid.split("<")[1].rstrip(">")
    fpr = next(ln.split(":")[9] for ln in _gpg(home, "--with-colons", "--list-keys", email).splitlines() if ln.startswith("fpr:"))
    return fpr, _gpg(home, "--armor", "--export", fpr)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    for tool, package in (("ssh-keygen", "openssh-client"), ("gpg", "gnupg"), ("gpgconf", "gnupg")):
        require_tool(tool, UNCHECKED, package)
    d = tmp_path_factory.mktemp("keys")
    for name in ("alice", "mallory"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(d / name)], check=True)
    home = d / "gnupg"
    home.mkdir(mode=0o700)
    try:
        bob, bob_public = _new_gpg_key(home, "Bob Approver <bob@example.com>")
        _, eve_public = _new_gpg_key(home, "Eve <eve@example.com>")
        yield Keys(d / "alice", d / "mallory", home, bob, bob_public, eve_public)
    finally:  # signing started an agent for this keyring; it must not outlive the tests
        subprocess.run(["gpgconf", "--kill", "all"], env={"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}, check=False)


def _commit(repo: Path, message: str, *sign: str, env: dict[str, str] | None = None) -> str:
    (repo / "log.txt").write_text(f"{message}\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, *sign, "commit", "-q", *(["-S"] if sign else []), "-m", message, env=env)
    return git(repo, "rev-parse", "HEAD").strip()


@dataclass(frozen=True)
class Repo:
    root: Path
    unsigned: str
    by_alice: str  # SSH-signed with an allowed key
    by_mallory: str  # SSH-signed with a key nobody lists
    by_bob: str  # GPG-signed


@pytest.fixture(scope="module")
def repo(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Repo:
    root = tmp_path_factory.mktemp("repo")
    git(root, "init", "-q", "-b", "main")
    ssh = ("-c", "gpg.format=ssh", "-c", "user.signingkey={}")
    return Repo(
        root,
        unsigned=_commit(root, "unsigned"),
        by_alice=_commit(root, "alice", *(a.format(keys.alice) for a in ssh)),
        by_mallory=_commit(root, "mallory", *(a.format(keys.mallory) for a in ssh)),
        by_bob=_commit(root, "bob", "-c", f"user.signingkey={keys.bob}", env={"GNUPGHOME": str(keys.gnupghome)}),
    )


def _forge(root: Path, commit: str, *edits: tuple[str, str]) -> str:
    """A new commit object: ``commit``'s raw text, signature header included, with ``edits`` made."""
    raw = git(root, "cat-file", "commit", commit)
    for old, new in edits:
        assert old in raw, old
        raw = raw.replace(old, new)
    res = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=root, input=raw, capture_output=True, text=True, check=True
    )
    return res.stdout.strip()


# ---------------------------------------------------------------- what each letter means here
def test_unsigned_commit_is_not_good(repo: Repo, keys: Keys) -> None:
    sig = verify(repo.root, [repo.unsigned], keys.allowed("alice@example.com", keys.alice))[repo.unsigned]
    assert sig == Signature(repo.unsigned, "N", "", "")
    assert not sig.good
    assert sig.describe() == "not signed"


def test_allowed_ssh_key_is_good_and_named(repo: Repo, keys: Keys) -> None:
    sig = verify(repo.root, [repo.by_alice], keys.allowed("alice@example.com", keys.alice))[repo.by_alice]
    fingerprint = subprocess.run(["ssh-keygen", "-lf", f"{keys.alice}.pub"], capture_output=True, text=True, check=True).stdout.split()[1]
    assert (sig.status, sig.signer, sig.key) == ("G", "alice@example.com", fingerprint)
    assert fingerprint.startswith("SHA256:")
    assert sig.good
    assert sig.describe() == f"signed by alice@example.com ({fingerprint})"


def test_ssh_key_not_listed_is_not_good(repo: Repo, keys: Keys) -> None:
    for text in (keys.allowed("alice@example.com", keys.alice), None, ""):
        sig = verify(repo.root, [repo.by_mallory], text)[repo.by_mallory]
        # git says "good signature, unknown validity": the signature is sound, the key not allowed
        assert (sig.status, sig.signer, sig.good) == ("U", "", False), text
        assert sig.key.startswith("SHA256:")
        assert sig.describe("content/allowed_signers") == f"signed by a key not in content/allowed_signers ({sig.key})"


def test_the_text_decides(repo: Repo, keys: Keys) -> None:
    """The same commit turns good when, and only because, the text lists its key."""
    text = keys.allowed("alice@example.com", keys.alice) + keys.allowed("mallory@example.com", keys.mallory)
    got = verify(repo.root, [repo.by_alice, repo.by_mallory], text)
    assert {c: (s.status, s.signer) for c, s in got.items()} == {
        repo.by_alice: ("G", "alice@example.com"),
        repo.by_mallory: ("G", "mallory@example.com"),
    }


def test_gpg_key_counts_only_when_given(repo: Repo, keys: Keys) -> None:
    good = verify(repo.root, [repo.by_bob], None, keys.bob_public)[repo.by_bob]
    assert (good.status, good.signer, good.key) == ("G", "Bob Approver <bob@example.com>", keys.bob)
    assert good.good
    for gpg_keys in (None, "", keys.eve_public):
        sig = verify(repo.root, [repo.by_bob], None, gpg_keys)[repo.by_bob]
        # no public key to check with: git says "E" and names the key id (the fingerprint's tail)
        assert (sig.status, sig.good) == ("E", False), gpg_keys
        assert keys.bob.endswith(sig.key)
        assert sig.describe() == f"signature cannot be checked (key {sig.key} is not among the allowed keys)"


def test_changed_commit_with_a_copied_signature_is_bad(repo: Repo, keys: Keys) -> None:
    ssh = _forge(repo.root, repo.by_alice, ("\n\nalice\n", "\n\nalice approved everything\n"))
    pgp = _forge(repo.root, repo.by_bob, ("\n\nbob\n", "\n\nbob approved everything\n"))
    got = verify(repo.root, [ssh, pgp], keys.allowed("alice@example.com", keys.alice), keys.bob_public)
    assert {c: (s.status, s.good) for c, s in got.items()} == {ssh: ("B", False), pgp: ("B", False)}
    assert got[ssh].describe() == "bad signature"


# ---------------------------------------------------------------- nothing ambient counts
def test_ambient_git_and_gpg_setup_does_not_count(repo: Repo, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A runner whose git config allows Mallory's key, whose keyring trusts Bob's, and whose
    programs for SSH, OpenPGP and X.509 signatures answer "good" to anything: plain git believes
    all of it; verify() believes none of it."""
    allows_mallory = tmp_path / "allowed_signers"
    allows_mallory.write_text(keys.allowed("mallory@example.com", keys.mallory))
    pgp_liar = tmp_path / "pgp-liar"
    pgp_liar.write_text(f'#!/bin/sh\necho "[GNUPG:] GOODSIG 0000 Bob"\necho "[GNUPG:] VALIDSIG {keys.bob} x"\n')
    ssh_liar = tmp_path / "ssh-liar"  # ssh-keygen -Y find-principals | verify ...
    ssh_liar.write_text(
        '#!/bin/sh\n[ "$2" = verify ] && echo \'Good "git" signature for alice@example.com with ED25519 key SHA256:x\'\necho alice@example.com\n'
    )
    for liar in (pgp_liar, ssh_liar):
        liar.chmod(0o755)
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(
        f"[gpg]\n\tprogram = {pgp_liar}\n"
        f'[gpg "openpgp"]\n\tprogram = {pgp_liar}\n'
        f'[gpg "x509"]\n\tprogram = {pgp_liar}\n'
        f'[gpg "ssh"]\n\tprogram = {ssh_liar}\n\tallowedSignersFile = {allows_mallory}\n'
        "[log]\n\tshowSignature = true\n"
    )
    forged = _forge(repo.root, repo.by_alice, ("\n\nalice\n", "\n\nalice approved everything\n"))
    x509 = _forge(repo.root, repo.by_bob, ("BEGIN PGP SIGNATURE", "BEGIN SIGNED MESSAGE"), ("END PGP SIGNATURE", "END SIGNED MESSAGE"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GNUPGHOME", str(keys.gnupghome))
    commits = [repo.by_mallory, forged, repo.by_bob, x509]

    ambient = subprocess.run(
        ["git", "-c", "log.showSignature=false", "log", "--no-walk=unsorted", "--format=%G?", *commits],
        cwd=repo.root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ambient.split() == ["G"] * 4, "the trap is not set: plain git should be fooled"

    got = verify(repo.root, commits, keys.allowed("alice@example.com", keys.alice))
    assert [got[c].status for c in commits] == ["U", "B", "E", "N"]
    assert not any(s.good for s in got.values())


# ---------------------------------------------------------------- one process, strict input
def _many_commits(root: Path, n: int) -> list[str]:
    """``n`` unsigned commits on a new branch, made by one git fast-import."""
    stream = []
    for i in range(n):
        stream.append(f"commit refs/heads/many\ncommitter Ann <ann@example.com> {1_700_000_000 + i} +0000\ndata <<END\nc{i}\nEND\n")
        if i == 0:
            stream.append("from refs/heads/main^0\n")
        stream.append(f"M 644 inline n.txt\ndata <<END\n{i}\nEND\n\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input="".join(stream), text=True, check=True)
    return git(root, "rev-list", "-n", str(n), "refs/heads/many").split()


def test_many_commits_in_one_git_process(repo: Repo, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    commits = [*_many_commits(repo.root, 200), repo.by_alice, repo.by_bob]
    runs: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(args: list[str], **kw: object) -> subprocess.CompletedProcess[bytes]:
        runs.append(args)
        return real_run(args, **kw)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(signatures.subprocess, "run", counting_run)
    got = verify(repo.root, [*commits, *reversed(commits)], keys.allowed("alice@example.com", keys.alice), keys.bob_public)
    assert list(got) == commits  # deduplicated, in the order asked
    assert [c for c, s in got.items() if s.good] == [repo.by_alice, repo.by_bob]
    assert {got[c].status for c in commits[:200]} == {"N"}
    assert [Path(a[0]).name for a in runs] == ["gpg", "git"]  # the key import, then one git for all


def test_no_commits_runs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signatures.subprocess, "run", lambda *a, **k: pytest.fail("ran a process"))
    assert verify(tmp_path, [], None) == {}


def test_a_commit_git_cannot_read_fails_the_check(repo: Repo, keys: Keys) -> None:
    with pytest.raises(EnvironmentProblem, match="bad object"):
        verify(repo.root, [repo.by_alice, "0" * 40], None)
    with pytest.raises(UsageError, match="full commit hashes"):
        verify(repo.root, [repo.by_alice[:12]], None)
    with pytest.raises(UsageError):
        verify(repo.root, ["--all"], None)


@pytest.mark.parametrize(("program", "package"), [("ssh-keygen", "openssh-client"), ("gpg", "gnupg")])
def test_missing_program_says_what_to_install(repo: Repo, program: str, package: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = signatures.shutil.which
    monkeypatch.setattr(signatures.shutil, "which", lambda name: None if name == program else real_which(name))
    with pytest.raises(EnvironmentProblem, match=f"`{program}` is not installed.*{package}"):
        verify(repo.root, [repo.unsigned], None)


def test_the_git_a_check_needs_is_named(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No git on PATH, and a folder that is not there, are two different problems."""
    bin_dir = tmp_path / "bin"  # ssh-keygen and gpg, but no git
    bin_dir.mkdir()
    for program in ("ssh-keygen", "gpg"):
        (bin_dir / program).symlink_to(require_tool(program, UNCHECKED, "openssh-client gnupg"))
    with monkeypatch.context() as m:
        m.setenv("PATH", str(bin_dir))
        with pytest.raises(EnvironmentProblem) as no_git:
            verify(repo.root, [repo.unsigned], None)
    assert str(no_git.value) == "git is not installed: install the Debian package git"
    gone = tmp_path / "gone"
    with pytest.raises(EnvironmentProblem) as no_folder:
        verify(gone, [repo.unsigned], None)
    assert str(no_folder.value) == f"cannot read commit signatures in {gone}: no such folder"


def test_gits_own_error_is_shown_even_when_not_utf8(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A runner whose git config is broken: the check fails with git's reason, never a traceback."""
    folder = tmp_path / os.fsdecode(b"caf\xe9")  # a Latin-1 folder name, which git prints as it is
    folder.mkdir()
    (folder / "gitconfig").write_text("[broken\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(folder / "gitconfig"))
    with pytest.raises(EnvironmentProblem) as exc:
        verify(repo.root, [repo.unsigned], None)
    assert (
        str(exc.value) == f"cannot read commit signatures in {repo.root}: fatal: bad config line 1 in file {tmp_path}/caf\ufffd/gitconfig"
    )


def test_a_hash_that_is_not_a_commit_fails_the_check(repo: Repo) -> None:
    """git answers for the commit a tag points to, and not at all for a tree: neither is taken."""
    git(repo.root, "tag", "-a", "-m", "a tag", "tagged-alice", repo.by_alice)
    tag = git(repo.root, "rev-parse", "tagged-alice").strip()
    tree = git(repo.root, "rev-parse", f"{repo.by_alice}^{{tree}}").strip()
    with pytest.raises(EnvironmentProblem) as exc:
        verify(repo.root, [repo.by_alice, tag, tree], None)
    assert str(exc.value) == f"git did not report the signature of 2 commit(s), e.g. {tag}"


def test_only_full_hashes_are_taken(repo: Repo) -> None:
    with pytest.raises(UsageError) as exc:
        verify(repo.root, ["HEAD", "main", "abc", "--all"], None)
    assert str(exc.value) == "signatures are checked for full commit hashes only, not 'head', 'main', 'abc'"


def test_a_principal_holding_the_separator_cannot_shift_fields(repo: Repo, keys: Keys) -> None:
    """An allowed-signers principal is any text without blanks: one holding kedb's field separator
    could pose as a status or a key, so a record of the wrong shape stops the check."""
    principal = "x" * 100 + "\x1fG\x1f" + "y" * 150
    with pytest.raises(EnvironmentProblem) as exc:
        verify(repo.root, [repo.by_alice], keys.allowed(principal, keys.alice))
    record = f"{repo.by_alice}\x1fG\x1f{principal}"
    assert str(exc.value) == f"unexpected output from git log while reading signatures: {record[:200]!r}"


def test_a_non_ascii_principal_whatever_the_locale(repo: Repo, keys: Keys) -> None:
    """A CI runner with LANG=C still reads the allowed signers as UTF-8."""
    saved = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        sig = verify(repo.root, [repo.by_alice], keys.allowed("zoë@example.com", keys.alice))[repo.by_alice]
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)
    assert (sig.status, sig.signer) == ("G", "zoë@example.com")


# ---------------------------------------------------------------- allowed GPG keys that gpg refuses
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello\n", "gpg: no valid OpenPGP data found."),
        (
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n",
            "gpg: import from '[stdin]' failed: Invalid keyring",
        ),
    ],
)
def test_broken_gpg_keys_fail_the_check(repo: Repo, text: str, reason: str) -> None:
    """The reason shown is gpg's, not its closing count ("Total number processed: 0")."""
    with pytest.raises(EnvironmentProblem) as exc:
        verify(repo.root, [repo.by_bob], None, text)
    assert str(exc.value) == f"the allowed GPG public keys cannot be imported: {reason}"


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        (b"gpg: first\ngpg: second\ngpg: caf\xe9 last\n", "gpg: caf\ufffd last"),
        (b"", "gpg exit 2"),
    ],
)
def test_a_gpg_that_fails_oddly_still_says_so(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stderr: bytes, reason: str
) -> None:
    """gpg's last line is shown whatever its bytes; with no line at all, its exit code."""
    (tmp_path / "stderr").write_bytes(stderr)
    fake = tmp_path / "gpg"
    fake.write_text(f"#!/bin/sh\ncat >/dev/null\ncat {tmp_path / 'stderr'} >&2\nexit 2\n")
    fake.chmod(0o755)
    real_which = signatures.shutil.which
    monkeypatch.setattr(signatures.shutil, "which", lambda name: str(fake) if name == "gpg" else real_which(name))
    with pytest.raises(EnvironmentProblem) as exc:
        verify(repo.root, [repo.by_bob], None, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n")
    assert str(exc.value) == f"the allowed GPG public keys cannot be imported: {reason}"


# ---------------------------------------------------------------- lapsed keys and odd names
@dataclass(frozen=True)
class Lapsed:
    public: str  # the public keys below, Rev's with its revocation
    expired_sig: tuple[str, str]  # (commit, fingerprint): signed by Sig with a signature valid for a day in 2020
    expired_key: tuple[str, str]  # signed by Old, whose key was valid for a day in 2020
    revoked: tuple[str, str]  # signed by Rev, whose key has been revoked since
    odd_name: tuple[str, str]  # signed by a key whose user id is not UTF-8


@pytest.fixture(scope="module")
def lapsed(repo: Repo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lapsed]:
    home = tmp_path_factory.mktemp("gnupg-2020")
    home.chmod(0o700)
    conf = home / "gpg.conf"
    # Keys made at midnight on 1 January 2020 and signatures at noon: each gpg process starts its
    # clock at the faked time, and one refuses to sign with a key made "in the future".
    conf.write_text("faked-system-time 20200101T000000\n")
    env = {"GNUPGHOME": str(home)}
    try:
        old, _ = _new_gpg_key(home, "Old <old@example.com>", "1d")
        sig, _ = _new_gpg_key(home, "Sig <sig@example.com>")
        rev, _ = _new_gpg_key(home, "Rev <rev@example.com>")
        odd, _ = _new_gpg_key(home, os.fsdecode(b"Carol \xff <carol@example.com>"))
        conf.write_text("faked-system-time 20200101T120000\n")
        by = {fpr: _commit(repo.root, f"by {fpr}", "-c", f"user.signingkey={fpr}", env=env) for fpr in (old, rev, odd)}
        conf.write_text("faked-system-time 20200101T120000\ndefault-sig-expire 1d\n")
        by[sig] = _commit(repo.root, "by sig", "-c", f"user.signingkey={sig}", env=env)
        certificate = (home / "openpgp-revocs.d" / f"{rev}.rev").read_text().replace(":-----BEGIN", "-----BEGIN")
        subprocess.run(["gpg", "--batch", "--import"], input=certificate, text=True, env=env, check=True, capture_output=True)
        yield Lapsed(_gpg(home, "--armor", "--export"), (by[sig], sig), (by[old], old), (by[rev], rev), (by[odd], odd))
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env={"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}, check=False)


def test_expired_and_revoked_never_count(repo: Repo, lapsed: Lapsed) -> None:
    cases = {
        lapsed.expired_sig: ("X", "Sig <sig@example.com>", "but the signature has expired"),
        lapsed.expired_key: ("Y", "Old <old@example.com>", "but the key has expired"),
        lapsed.revoked: ("R", "Rev <rev@example.com>", "but the key has been revoked"),
    }
    got = verify(repo.root, [c for c, _ in cases], None, lapsed.public)
    for (commit, fpr), (status, signer, why) in cases.items():
        sig = got[commit]
        assert (sig.status, sig.signer, sig.key, sig.good) == (status, signer, fpr, False)
        assert sig.describe() == f"signed by {signer} ({fpr}), {why}"


def test_a_signer_name_that_is_not_utf8_is_shown_not_fatal(repo: Repo, lapsed: Lapsed) -> None:
    commit, fpr = lapsed.odd_name
    sig = verify(repo.root, [commit], None, lapsed.public)[commit]
    assert (sig.status, sig.signer, sig.key) == ("G", "Carol \ufffd <carol@example.com>", fpr)


# ---------------------------------------------------------------- the phrases approvers read
@pytest.mark.parametrize(
    ("status", "signer", "key", "phrase"),
    [
        ("G", "alice@example.com", "SHA256:k", "signed by alice@example.com (SHA256:k)"),
        ("U", "", "SHA256:k", "signed by a key not in the allowed signers (SHA256:k)"),
        ("U", "", "", "signed by a key not in the allowed signers"),
        ("B", "alice@example.com", "SHA256:k", "bad signature"),
        ("X", "Bob <bob@example.com>", "", "signed by Bob <bob@example.com>, but the signature has expired"),
        ("Y", "Bob <bob@example.com>", "ABCD", "signed by Bob <bob@example.com> (ABCD), but the key has expired"),
        ("R", "", "ABCD", "signed by a key (ABCD), but the key has been revoked"),
        ("E", "", "ABCD", "signature cannot be checked (key ABCD is not among the allowed keys)"),
        ("E", "", "", "signature cannot be checked"),
        ("N", "", "", "not signed"),
        ("Z", "", "", "signature status 'Z' unknown to kedb"),
    ],
)
def test_what_each_signature_reads_as(status: str, signer: str, key: str, phrase: str) -> None:
    assert Signature("c" * 40, status, signer, key).describe() == phrase
