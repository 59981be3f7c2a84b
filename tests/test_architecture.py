"""The folder list is the architecture: layers import downwards only, with no cycle.

Every ``import`` in every module of ``generators/kedb`` is read from the source, including those
inside functions and under ``TYPE_CHECKING`` (a function-level import hides a cycle, it does not
remove it). The rules, in DESIGN terms:

- no module imports itself back through others (no cycle);
- each layer imports only the layers listed for it in :data:`ALLOWED` (``core`` nothing above it;
  ``renderers`` and ``site`` only ``core`` and the build context, never ``git``, ``check`` or
  ``tickets``);
- a ``_private`` module is imported only inside its own package;
- only ``cli`` prints (``print``, ``click.echo``, ``sys.stdout``/``sys.stderr``, rich consoles).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "generators"

# layer -> the layers it may import (its own always included). A module's layer is the longest
# key that prefixes its dotted name below ``kedb``: ``kedb.build.context`` is "build.context",
# ``kedb.build.run`` is "build", ``kedb.core.load.loader`` is "core".
ALLOWED: dict[str, set[str]] = {
    "": set(),  # kedb/__init__.py: the version
    "core": {""},
    "authoring": {"", "core"},
    "git": {"", "core"},
    "check": {"", "core", "git", "tickets"},  # KE72x compare progression.yml with the shipped ticket mappings
    "tickets": {"", "core", "authoring"},
    "build.context": {"", "core", "check", "git"},
    "build.facts": {"", "core", "build.context"},  # what the site and the artefacts both show
    "renderers": {"", "core", "build.context", "build.facts"},
    "search": {"", "core", "build.context", "build.facts"},
    "site": {"", "core", "build.context", "build.facts", "renderers", "search"},
    "build": {"", "core", "check", "git", "build.context", "build.facts", "renderers", "site", "search"},
    "cli": {"", "core", "check", "git", "tickets", "authoring", "build", "build.context", "build.facts", "renderers", "site", "search"},
}
PRINTING_LAYERS = {"cli"}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module
    line: int


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(src: Path) -> dict[str, Path]:
    return {module_name(p, src): p for p in sorted(src.rglob("*.py"))}


def imports(src: Path) -> Iterator[Import]:
    """Every kedb module each module imports, wherever in the file the import stands."""
    known = modules(src)
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "kedb":
                        yield Import(name, alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != "kedb":
                    continue
                for alias in node.names:  # `from pkg import module` imports the module
                    sub = f"{target}.{alias.name}"
                    yield Import(name, sub if sub in known else target, node.lineno)


def layer(module: str) -> str:
    rest = module.removeprefix("kedb").removeprefix(".")
    best = ""
    for key in ALLOWED:
        if key and (rest == key or rest.startswith(key + ".")) and len(key) > len(best):
            best = key
    return best


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def violations(src: Path) -> list[str]:
    known = modules(src)
    found: list[str] = []
    edges: dict[str, set[str]] = {}
    for imp in imports(src):
        where = f"{known[imp.source].relative_to(src)}:{imp.line}"
        if imp.target not in known:
            found.append(f"{where}: imports {imp.target}, which does not exist")
            continue
        edges.setdefault(imp.source, set()).add(imp.target)
        a, b = layer(imp.source), layer(imp.target)
        if b != a and b not in ALLOWED[a]:
            found.append(f"{where}: {imp.source} ({a or 'kedb'}) imports {imp.target} ({b or 'kedb'}), above or beside its layer")
        leaf = imp.target.rpartition(".")[2]
        target_pkg = imp.target.rpartition(".")[0]
        if leaf.startswith("_") and not leaf.startswith("__") and not (imp.source + ".").startswith(target_pkg + "."):
            found.append(f"{where}: {imp.source} imports the private module {imp.target} of another package")
    for comp in cycles(edges):
        found.append("import cycle: " + " -> ".join(comp))
    return found


PRINT_CALLS = {"print", "echo", "secho", "pprint"}


def printing(src: Path) -> list[str]:
    """Calls that write to the screen, outside the layers allowed to."""
    found = []
    for name, path in modules(src).items():
        if layer(name) in PRINTING_LAYERS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            hit = None
            if isinstance(node, ast.Call):
                f = node.func
                if isinstance(f, ast.Name) and f.id in PRINT_CALLS:
                    hit = f.id
                elif isinstance(f, ast.Attribute) and f.attr in {"echo", "secho"}:
                    hit = f.attr
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in {"stdout", "stderr"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
            ):
                hit = f"sys.{node.attr}"
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {"click", "rich"}:
                hit = f"from {node.module} import"
            elif isinstance(node, ast.Import) and any(a.name.split(".")[0] in {"click", "rich"} for a in node.names):
                hit = "import click/rich"
            if hit:
                found.append(f"{path.relative_to(src)}:{node.lineno}: {hit} outside cli/")
    return found


def test_layers_point_down_and_nothing_cycles() -> None:
    assert violations(SRC) == []


def test_only_cli_prints() -> None:
    assert printing(SRC) == []


def test_every_module_has_a_layer() -> None:
    """A new top-level folder must be placed in ALLOWED on purpose, not fall into the root."""
    stray = [m for m in modules(SRC) if layer(m) == "" and m != "kedb"]
    assert stray == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"core/a.py": "from ..git import b\n", "git/b.py": ""}, "above or beside its layer"),
        ({"core/a.py": "def f():\n    from . import b\n", "core/b.py": "from .a import f\n"}, "import cycle: kedb.core.a -> kedb.core.b"),
        ({"site/a.py": "from ..renderers import _data\n", "renderers/_data.py": ""}, "private module kedb.renderers._data"),
        ({"renderers/a.py": "from ..check import run\n", "check/run.py": ""}, "above or beside its layer"),
        ({"renderers/a.py": "if TYPE_CHECKING:\n    from ..git.history import Version\n", "git/history.py": ""}, "above or beside"),
    ],
)
def test_the_checker_catches(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    """The walk above finds what it is meant to find (a test of the test)."""
    pkg = tmp_path / "kedb"
    for rel in [*files, "__init__.py"]:
        p = pkg / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        (p.parent / "__init__.py").touch()
        p.write_text(files.get(rel, ""))
    found = violations(tmp_path)
    assert any(expected in f for f in found), found


def test_the_checker_catches_printing(tmp_path: Path) -> None:
    (tmp_path / "kedb" / "core").mkdir(parents=True)
    (tmp_path / "kedb" / "__init__.py").touch()
    (tmp_path / "kedb" / "core" / "__init__.py").touch()
    (tmp_path / "kedb" / "core" / "a.py").write_text("import sys\n\ndef f():\n    print('x')\n    sys.stderr.write('y')\n")
    assert len(printing(tmp_path)) == 2
