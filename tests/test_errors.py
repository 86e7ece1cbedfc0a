"""One home per exception: every exception class lives in its package's ``errors.py``, names unique.

Every class in every non-test module is read with ``ast``. A class is an exception when one of its
bases is a built-in exception or (transitively) another exception class of the project, or a
third-party base whose name ends in ``Error``/``Exception``. Each must be defined in a module named
``errors.py`` and no two may share a name anywhere in the project, so ``except X`` and a problem's
``title`` always mean one thing.

Two documented exceptions, both in files that run ALONE (no ``liuhen`` importable) and therefore
cannot import an ``errors.py``:
- ``liuhen/core/verifier.py`` (``CheckFailed``): the stdlib bag verifier, copied verbatim into bags;
- ``redaction/regions_core.py`` (``RegionsInvalid``): stdlib-only, inlined into the
  ``verify_redaction.py`` that disclosure bags carry (``redaction/bagscript.py``).
"""

from __future__ import annotations

import ast
import builtins
import textwrap
from collections import defaultdict
from pathlib import Path

from tests.test_layers import ROOT, source_files

STANDALONE = {
    ("liuhen/core/verifier.py", "CheckFailed"),
    ("redaction/regions_core.py", "RegionsInvalid"),
}
BUILTIN_EXCEPTIONS = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}


def _base_name(node: ast.expr) -> str:
    """``psycopg.Error`` → ``Error``; ``Generic[T]`` → ``Generic``."""
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def exception_classes(sources: dict[str, str]) -> dict[str, list[str]]:
    """``{class name: [relative paths defining it]}`` for every exception class in ``sources``."""
    classes: list[tuple[str, str, list[str]]] = []
    for rel, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                classes.append((rel, node.name, [_base_name(b) for b in node.bases]))
    known = set(BUILTIN_EXCEPTIONS)
    third_party = {b for _, _, bases in classes for b in bases if b.endswith(("Error", "Exception"))}
    known |= third_party - {name for _, name, _ in classes}
    while True:  # fixpoint: a subclass of an exception is an exception
        more = {name for _, name, bases in classes if name not in known and known.intersection(bases)}
        if not more:
            break
        known |= more
    found: dict[str, list[str]] = defaultdict(list)
    for rel, name, bases in classes:
        if known.intersection(bases):
            found[name].append(rel)
    return dict(found)


def problems(sources: dict[str, str], standalone: set[tuple[str, str]] = STANDALONE) -> list[str]:
    out = []
    for name, paths in sorted(exception_classes(sources).items()):
        for rel in paths:
            if Path(rel).name != "errors.py" and (rel, name) not in standalone:
                out.append(f"{rel}: exception {name} is defined outside an errors.py")
        if len(paths) > 1:
            out.append(f"exception name {name} is defined {len(paths)} times: {', '.join(sorted(paths))}")
    return out


def project_sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text("utf-8") for p in source_files()}


def test_every_exception_lives_in_an_errors_module_with_a_unique_name() -> None:
    found = exception_classes(project_sources())
    assert "LiuhenError" in found and "ExportError" in found  # the scan does see the project's exceptions
    assert problems(project_sources()) == []


def test_the_check_names_a_stray_and_a_duplicate() -> None:
    errors_py = textwrap.dedent("""
        class LiuhenError(Exception): ...
        class Gone(LiuhenError): ...
    """)
    stray = textwrap.dedent("""
        import psycopg
        class Helper: ...
        class Gone(LiuhenError): ...
        class Deeper(Gone): ...
        class DbTrouble(psycopg.Error): ...
    """)
    assert problems({"core/errors.py": errors_py, "x/service.py": stray}, set()) == [
        "x/service.py: exception DbTrouble is defined outside an errors.py",
        "x/service.py: exception Deeper is defined outside an errors.py",
        "x/service.py: exception Gone is defined outside an errors.py",
        "exception name Gone is defined 2 times: core/errors.py, x/service.py",
    ]
