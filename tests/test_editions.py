"""Editions are what ``content/`` defines: an unknown or wrong-case tenant is refused, not built
silently without that tenant's records (issue #15)."""

from __future__ import annotations

from pathlib import Path

from kbtest import AS_OF, init_repo, kedb


def test_an_unknown_tenant_is_refused_with_the_known_ones(base_kb: Path) -> None:
    init_repo(base_kb)
    wrong_case = kedb("--root", str(base_kb), "build", "--only", "pdf", "--tenant", "acme", "--as-of", AS_OF)
    assert wrong_case.exit_code == 2
    assert wrong_case.stderr.strip() == (
        "kedb: unknown tenant 'acme' (did you mean 'ACME'? tenant ids are case-sensitive); the tenants in content/kedb.yml are: ACME"
    )
    unknown = kedb("--root", str(base_kb), "build", "--only", "pdf", "--tenant", "GLOBEX", "--as-of", AS_OF)
    assert unknown.exit_code == 2 and "unknown tenant 'GLOBEX'; the tenants in content/kedb.yml are: ACME" in unknown.stderr
    assert not (base_kb / "site" / "downloads" / "proof-brief.pdf").exists(), "nothing was built"
    ok = kedb("--root", str(base_kb), "build", "--only", "pdf", "--tenant", "ACME", "--as-of", AS_OF)
    assert ok.exit_code == 0, ok.output
