"""Compiled templates are kept between builds (kedb.site.env.SealedBytecodeCache): a second build
compiles almost none, gives the same site, picks up an edited template, and never runs code from
a cache file it did not seal itself."""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import pickle
from pathlib import Path

import jinja2
import pytest

from kbtest import AS_OF, REPO, init_repo, kedb
from kedb.site.env import SealedBytecodeCache


def _site(root: Path) -> dict[str, str]:
    site = root / "site"
    return {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(site.rglob("*")) if p.is_file()}


def _build(root: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Build the site; the number of templates Jinja compiled from source."""
    compiled = []
    real = jinja2.Environment.compile

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        compiled.append(1)
        return real(self, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(jinja2.Environment, "compile", counting)
        r = kedb("--root", str(root), "build", "--only", "site", "--as-of", AS_OF)
    assert r.exit_code == 0, r.output + r.stderr
    return len(compiled)


def test_a_second_build_reuses_the_compiled_templates(base_kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_repo(base_kb)
    first = _build(base_kb, monkeypatch)
    before = _site(base_kb)
    kept = list((base_kb / ".kedb" / "cache" / "jinja").glob("*.bin"))
    assert first >= 30 and len(kept) >= 30, (first, len(kept))
    again = _build(base_kb, monkeypatch)
    assert again <= 5, f"{again} of {first} templates compiled again"
    assert _site(base_kb) == before


def test_an_edited_template_is_compiled_again(base_kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_repo(base_kb)
    _build(base_kb, monkeypatch)
    own = base_kb / "templates" / "site"
    own.mkdir(parents=True)
    text = (REPO / "templates" / "site" / "known-error.html.j2").read_text(encoding="utf-8")
    (own / "known-error.html.j2").write_text(text + "<p>Edited template</p>\n", encoding="utf-8")
    _build(base_kb, monkeypatch)
    page = next((base_kb / "site" / "known-errors").glob("KE-*/index.html")).read_text(encoding="utf-8")
    assert "Edited template" in page


def test_a_cache_file_kedb_did_not_seal_is_never_run(tmp_path: Path) -> None:
    """Someone who can write .kedb/cache/ puts well-formed Jinja bytecode there, for the right
    template and source, that would write a file when loaded: it is not sealed with this user's
    key, so the template is compiled from its source and the code never runs."""
    source = "Hello {{ name }}"
    marker = tmp_path / "ran"
    cache = SealedBytecodeCache(tmp_path / "kb")
    env = jinja2.Environment(loader=jinja2.DictLoader({"t.html": source}), bytecode_cache=cache)
    bucket = cache.get_bucket(env, "t.html", None, source)
    evil = compile(f"open({str(marker)!r}, 'w').write('x')", "<evil>", "exec")
    planted = jinja2.bccache.bc_magic + pickle.dumps(bucket.checksum, 2) + marshal.dumps(evil)
    path = cache.dir / f"{bucket.key}.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(planted)
    assert env.get_template("t.html").render(name="agent") == "Hello agent"
    assert not marker.exists()
    # The same bytes read by Jinja's own file cache would have run: what the seal is for.
    raw = jinja2.Environment(
        loader=jinja2.DictLoader({"t.html": source}), bytecode_cache=jinja2.FileSystemBytecodeCache(str(tmp_path / "raw"))
    )
    raw_bucket = raw.bytecode_cache.get_bucket(raw, "t.html", None, source)  # type: ignore[union-attr]
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / (raw.bytecode_cache.pattern % raw_bucket.key)).write_bytes(planted)  # type: ignore[union-attr]
    with contextlib.suppress(Exception):
        raw.get_template("t.html").render(name="agent")
    assert marker.exists()
