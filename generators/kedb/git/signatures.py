"""Commit signatures, checked by git itself against keys the KB lists.

In the "signed" evidence mode an ``Approved-by:`` trailer counts only when the commit carrying
it is signed by an allowed key. :func:`verify` answers that for many commits with one
``git log`` process: git extracts each signature and hands it to ``ssh-keygen`` (SSH) or
``gpg`` (OpenPGP), exactly as ``git verify-commit`` does. kedb never parses a signature
itself: a home-made parser is one more place to get a security decision wrong, and git's
answer is the one a reviewer can reproduce with ``git log --show-signature``.

The allowed keys are the KB's, given as text, and nothing else counts: the SSH allowed-signers
text goes to a private temporary file passed with ``-c gpg.ssh.allowedSignersFile``, the GPG
public keys are imported into a fresh temporary ``GNUPGHOME`` (so the keyring of the person
or CI runner is never consulted), and the programs git runs to check signatures are pinned,
so a ``gpg.program`` in someone's ``~/.gitconfig`` cannot answer "good" for a forged commit.

Each commit gets git's ``%G?`` letter:

- ``G`` good: made by an allowed key. The only letter that counts.
- ``U`` good signature, but its key is not an allowed one (an SSH key missing from the
  allowed signers; a GPG key without trust, which cannot happen here as imported keys are
  trusted).
- ``B`` bad: the commit does not match its signature (changed after signing), or the SSH
  signer's line restricts it to other namespaces.
- ``X`` good signature that has expired; ``Y`` made by a key that has expired.
- ``R`` made by a revoked key.
- ``E`` cannot be checked, usually because the GPG key is not among the allowed keys.
- ``N`` no signature (or one of a kind kedb does not accept, such as X.509).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import EnvironmentProblem, UsageError

_HASH = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_SEP, _END = "\x1f", "\x1e"
_FORMAT = "%H%x1f%G?%x1f%GS%x1f%GF%x1f%GK%x1e"
_PACKAGE = {"ssh-keygen": "openssh-client", "gpg": "gnupg"}


@dataclass(frozen=True)
class Signature:
    """What git says about one commit's signature."""

    commit: str
    status: str  # git's %G? letter (see the module docstring)
    signer: str  # %GS: the SSH principal, or the GPG user id; "" when git names none
    key: str  # %GF, the key fingerprint; the key id (%GK) when only that is known; "" when none

    @property
    def good(self) -> bool:
        return self.status == "G"

    def describe(self, allowed: str = "the allowed signers") -> str:
        """A short phrase for messages; ``allowed`` names where the allowed keys are kept."""
        key = f" ({self.key})" if self.key else ""
        who = self.signer or "a key"
        phrases = {
            "G": f"signed by {self.signer}{key}",
            "U": f"signed by a key not in {allowed}{key}",
            "B": "bad signature",
            "X": f"signed by {who}{key}, but the signature has expired",
            "Y": f"signed by {who}{key}, but the key has expired",
            "R": f"signed by {who}{key}, but the key has been revoked",
            "E": f"signature cannot be checked (key {self.key} is not among the allowed keys)"
            if self.key
            else "signature cannot be checked",
            "N": "not signed",
        }
        return phrases.get(self.status, f"signature status {self.status!r} unknown to kedb")


def verify(root: Path, commits: Iterable[str], ssh_allowed_signers: str | None, gpg_public_keys: str | None = None) -> dict[str, Signature]:
    """Check the signature of each commit against the allowed keys given as file TEXT (not paths).

    ``commits`` are full commit hashes (as ``%H`` prints them); the result maps each to its
    :class:`Signature`. ``ssh_allowed_signers`` is the text of an OpenSSH allowed-signers file,
    ``gpg_public_keys`` ASCII-armoured OpenPGP public keys; None or "" allows no key of that kind.
    A commit that cannot be read raises :class:`EnvironmentProblem`: a decision is never made
    on a partial answer.
    """
    wanted = list(dict.fromkeys(c.strip().lower() for c in commits))
    if not wanted:
        return {}
    bad = [c for c in wanted if not _HASH.match(c)]
    if bad:
        raise UsageError(f"signatures are checked for full commit hashes only, not {', '.join(map(repr, bad[:3]))}")
    # Both programs are needed whatever the allowed keys: without ssh-keygen git reports every SSH
    # signature as bad ("B"), without gpg every GPG signature as missing ("N"); both would be false.
    ssh_keygen, gpg = _program("ssh-keygen"), _program("gpg")
    with tempfile.TemporaryDirectory(prefix="kedb-sig-") as tmp:  # mode 0700: private to this user
        allowed = Path(tmp) / "allowed_signers"
        allowed.write_text(ssh_allowed_signers or "", encoding="utf-8")
        gnupghome = Path(tmp) / "gnupg"
        gnupghome.mkdir(mode=0o700)
        # no-autostart: verifying needs no agent, and one left running would outlive the folder.
        (gnupghome / "gpg.conf").write_text("no-autostart\ntrust-model always\n", encoding="utf-8")
        env = {**os.environ, "GNUPGHOME": str(gnupghome)}
        if gpg_public_keys and gpg_public_keys.strip():
            _import_keys(gpg, gpg_public_keys, env)
        out = _log(root, wanted, allowed, ssh_keygen, gpg, env)
    found = _parse(out)
    missing = [c for c in wanted if c not in found]
    if missing:
        raise EnvironmentProblem(f"git did not report the signature of {len(missing)} commit(s), e.g. {missing[0]}")
    return {c: found[c] for c in wanted}


def _program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise EnvironmentProblem(
            f"`{name}` is not installed, and git needs it to check commit signatures: install the Debian package {_PACKAGE[name]}"
        )
    return path


def _import_keys(gpg: str, armoured: str, env: dict[str, str]) -> None:
    res = subprocess.run(
        # --quiet: without it gpg ends with a summary ("Total number processed: 0"), and its last
        # line, the one quoted below, would be that instead of the reason.
        [gpg, "--batch", "--quiet", "--no-tty", "--no-autostart", "--import"],
        input=armoured.encode("utf-8"),
        env=env,
        capture_output=True,
    )
    if res.returncode != 0:
        why = res.stderr.decode("utf-8", "replace").strip().splitlines()
        raise EnvironmentProblem(f"the allowed GPG public keys cannot be imported: {why[-1] if why else f'gpg exit {res.returncode}'}")


def _log(root: Path, commits: list[str], allowed: Path, ssh_keygen: str, gpg: str, env: dict[str, str]) -> str:
    # Every setting that decides the answer is given here, so no config file can change it.
    # X.509 signatures are not a kind kedb accepts: `false` makes git read them as unsigned.
    pinned = {
        "gpg.ssh.allowedSignersFile": str(allowed),
        "gpg.ssh.program": ssh_keygen,
        "gpg.program": gpg,  # the older name of gpg.openpgp.program; both are pinned
        "gpg.openpgp.program": gpg,
        "gpg.x509.program": "false",
        "log.showSignature": "false",
    }
    args = ["git"]
    for k, v in pinned.items():
        args += ["-c", f"{k}={v}"]
    # The hashes go on stdin, not the command line: any number of them, one process.
    args += ["log", "--no-walk=unsorted", "--stdin", f"--format={_FORMAT}"]
    try:
        res = subprocess.run(args, cwd=root, env=env, input="\n".join(commits).encode() + b"\n", capture_output=True)
    except FileNotFoundError as exc:  # git itself, or the folder it is to run in
        if exc.filename == "git":
            raise EnvironmentProblem("git is not installed: install the Debian package git") from exc
        raise EnvironmentProblem(f"cannot read commit signatures in {root}: no such folder") from exc
    if res.returncode != 0:
        why = res.stderr.decode("utf-8", "replace").strip()
        raise EnvironmentProblem(f"cannot read commit signatures in {root}: {why or f'git exit {res.returncode}'}")
    return res.stdout.decode("utf-8", "replace")


def _parse(out: str) -> dict[str, Signature]:
    found: dict[str, Signature] = {}
    for record in out.split(_END):
        record = record.strip("\n")
        if not record:
            continue
        parts = record.split(_SEP)
        if len(parts) != 5:
            raise EnvironmentProblem(f"unexpected output from git log while reading signatures: {record[:200]!r}")
        sha, status, signer, fingerprint, key_id = parts
        found[sha] = Signature(sha, status, signer, fingerprint or key_id)
    return found
