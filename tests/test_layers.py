"""The architecture is enforced: imports run one way, down the layers the README draws.

Every first-party import in every non-test module is read with ``ast``. A module may import only
its own package or a lower layer; siblings in one layer (``ingest | transcoder``) may not import each
other; no first-party import may hide in a function or under ``if TYPE_CHECKING:``; nothing loads
first-party modules through ``importlib``; nothing imports the repository's folders by their bare
top-level names (installed, everything lives under ``liuhen``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. Names in one tuple are independent siblings. Anything else under ``liuhen`` is the shell.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("liuhen.core",),
    ("liuhen.catalog",),
    ("liuhen.storage",),
    ("liuhen.runtime",),
    ("liuhen.integrity",),
    ("liuhen.ingest", "liuhen.transcoder"),
    ("liuhen.cases",),
    ("liuhen.redaction", "liuhen.publication"),
    ("liuhen.export",),
    ("liuhen.api",),
    ("liuhen.console",),
    ("liuhen",),  # the application shell: cli, commands, wiring, serve, demo, embedded, simulate
    ("liuhen.benchmarks",),
)
FOLDERS = ("catalog", "storage", "integrity", "ingest", "transcoder", "cases", "redaction", "publication",
           "export", "api", "console", "benchmarks")


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported}: {self.why}"


def component(module: str) -> tuple[int, str]:
    """(layer index, sibling name) of a ``liuhen.*`` module: the longest listed prefix wins."""
    best: tuple[int, str] | None = None
    for i, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and (best is None or len(name) > len(best[1])):
                best = (i, name)
    if best is None:
        raise ValueError(f"{module} is not in any layer")
    return best


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts if parts[0] == "liuhen" else ["liuhen", *parts])


def source_files() -> list[Path]:
    files = sorted((ROOT / "liuhen").rglob("*.py"))
    real = [p for p in files if not any((ROOT / "liuhen" / f) in p.parents for f in FOLDERS)]
    for folder in FOLDERS:
        if (ROOT / folder).is_dir():
            real += sorted((ROOT / folder).rglob("*.py"))
    return real


def _resolve(node: ast.ImportFrom, module: str, is_pkg: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(tree: ast.Module, module: str, is_pkg: bool) -> list[tuple[int, str, bool]]:
    """(line, imported module, at top level) for every import statement."""
    top_level: set[int] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            top_level.add(id(stmt))
        elif isinstance(stmt, ast.Try):  # optional third-party fallbacks at module level
            for sub in [*stmt.body, *(h for handler in stmt.handlers for h in handler.body)]:
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    top_level.add(id(sub))
    out: list[tuple[int, str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, id(node) in top_level) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node, module, is_pkg)
            out += [(node.lineno, f"{target}.{a.name}" if target else a.name, id(node) in top_level)
                    for a in node.names]
    return out


def check_module(path: Path, source: str | None = None) -> list[Violation]:
    module = module_name(path)
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    mine = component(module)
    found: list[Violation] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module":
            found.append(Violation(module, node.lineno, "importlib.import_module(...)", "dynamic first-party import"))
    for line, imported, top in _imports(tree, module, path.name == "__init__.py"):
        head = imported.split(".")[0]
        if head in FOLDERS:
            found.append(Violation(module, line, imported, f"use liuhen.{imported}: bare top-level name"))
            continue
        if head != "liuhen":
            continue
        if not top:
            found.append(Violation(module, line, imported, "first-party import inside a function or TYPE_CHECKING"))
        theirs = component(imported if imported != "liuhen" else "liuhen")
        if theirs[1] == mine[1] or (imported.startswith(mine[1] + ".") or imported == mine[1]):
            continue
        if theirs[0] > mine[0]:
            found.append(Violation(module, line, imported, f"back edge: {mine[1]} (layer {mine[0]}) → "
                                   f"{theirs[1]} (layer {theirs[0]})"))
        elif theirs[0] == mine[0]:
            found.append(Violation(module, line, imported, f"sibling import {mine[1]} → {theirs[1]}"))
    return found


def all_violations() -> list[Violation]:
    return [v for p in source_files() for v in check_module(p)]


def module_graph() -> dict[str, set[str]]:
    """Module → the first-party modules it imports at top level (``from pkg import mod`` counts as ``pkg.mod``)."""
    paths = {module_name(p): p for p in source_files()}
    graph: dict[str, set[str]] = {m: set() for m in paths}
    for mod, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for _line, imported, top in _imports(tree, mod, path.name == "__init__.py"):
            if top and imported.startswith("liuhen."):
                target = imported if imported in paths else imported.rsplit(".", 1)[0]
                if target in paths and target != mod:
                    graph[mod].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_module_import_cycles() -> None:
    found = cycles(module_graph())
    assert not found, "module import cycles:\n" + "\n".join(" ↔ ".join(c) for c in found)


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_run_one_way() -> None:
    found = all_violations()
    assert not found, "layering violated:\n" + "\n".join(map(str, found))


def test_every_package_is_in_a_layer() -> None:
    for p in source_files():
        component(module_name(p))  # raises for a module outside the table


@pytest.mark.parametrize(
    ("where", "code", "why"),
    [
        ("catalog/db.py", "from liuhen.api import app\n", "back edge"),
        ("integrity/log.py", "def f():\n    from liuhen.integrity import tree\n", "inside a function"),
        ("ingest/copy.py", "from liuhen.transcoder import probe\n", "sibling import"),
        (
            "storage/base.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from liuhen.catalog.db import Catalog\n",
            "TYPE_CHECKING",
        ),
        ("api/app.py", "import storage.base\n", "bare top-level name"),
        ("api/app.py", "import importlib\nm = importlib.import_module('liuhen.integrity.log')\n", "dynamic"),
    ],
)
def test_checker_names_each_kind_of_violation(where: str, code: str, why: str) -> None:
    found = check_module(ROOT / where, code)
    assert found and why in str(found[0]), found


def test_a_back_edge_added_to_a_real_module_fails(tmp_path: Path) -> None:
    """Add a back edge to a copy of a real module's source: the checker names it."""
    path = ROOT / "storage" / "base.py"
    source = path.read_text(encoding="utf-8") + textwrap.dedent("\nfrom liuhen.cases import service\n")
    found = check_module(path, source)
    assert [str(v) for v in found] == [
        f"liuhen.storage.base:{source.count(chr(10))} imports liuhen.cases.service: back edge: liuhen.storage "
        f"(layer 2) → liuhen.cases (layer 6)"
    ]


def test_install_exposes_only_liuhen(tmp_path: Path) -> None:
    """A wheel built from the repository holds one top-level package, ``liuhen``."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"could not build a wheel here: {proc.stderr[-400:]}")
    import zipfile

    wheel = next(tmp_path.glob("liuhen-*.whl"))
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"liuhen"}, tops
    names = zipfile.ZipFile(wheel).namelist()
    assert "liuhen/ingest/offload.py" in names and "liuhen/catalog/migrations/0001_core.sql" in names
