"""Conformance: ONE suite of the public RFC 6962 vectors (transparency-dev/merkle), run against BOTH
implementations of the verifying side — the bag verifier ``liuhen.core.verifier`` and integrity's
adapter ``liuhen.integrity.verify`` (which wraps it; the suite guards that the wrapping loses nothing).

The vectors live outside the repository at ``<repo>/../shared/conformance/rfc6962`` or wherever
``LIUHEN_RFC6962_VECTORS`` points (they are not copied in, by licence and by design). When that
folder is absent the tests SKIP with the reason.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from liuhen.core import verifier
from liuhen.integrity import rfc6962, verify
from liuhen.integrity.errors import VerificationError

REPO = Path(__file__).resolve().parents[2]
VECTORS = Path(os.environ.get("LIUHEN_RFC6962_VECTORS", REPO.parent / "shared" / "conformance" / "rfc6962"))


def _cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json")) if VECTORS.is_dir() else []


def _d(v: str | None) -> bytes:
    return base64.b64decode(v or "")


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(VECTORS)) for p in paths]


class Impl:
    """One implementation: its inclusion and consistency checks and the error it raises."""

    def __init__(self, inclusion: Callable[..., None], consistency: Callable[..., None],
                 error: type[Exception]) -> None:
        self.inclusion, self.consistency, self.error = inclusion, consistency, error


def _v_incl(lh: bytes, idx: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    verifier.verify_inclusion("vector", lh, idx, size, proof, root)


def _v_cons(s1: int, s2: int, proof: Sequence[bytes], r1: bytes, r2: bytes) -> None:
    verifier.verify_consistency("vector", s1, s2, proof, r1, r2)


IMPLS = {
    "core.verifier": Impl(_v_incl, _v_cons, verifier.CheckFailed),
    "integrity.verify": Impl(verify.verify_inclusion, verify.verify_consistency, VerificationError),
}
_skip = pytest.mark.skipif(not VECTORS.is_dir(), reason=f"conformance vectors not found at {VECTORS}")
_impls = pytest.mark.parametrize("impl", list(IMPLS.values()), ids=list(IMPLS))
INCLUSION = _cases("inclusion")
CONSISTENCY = _cases("consistency")


@_skip
def test_all_196_vectors_present() -> None:
    assert len(INCLUSION) + len(CONSISTENCY) == 196


def _expect(impl: Impl, fn: Callable[..., None], v: dict[str, Any], args: tuple[Any, ...]) -> None:
    if v["wantErr"]:
        with pytest.raises(impl.error):
            fn(*args)
    else:
        fn(*args)


@_skip
@_impls
@pytest.mark.parametrize("path", INCLUSION, ids=_ids(INCLUSION))
def test_inclusion_vector(impl: Impl, path: Path) -> None:
    v = json.loads(path.read_text())
    proof = [_d(p) for p in v["proof"] or []]
    _expect(impl, impl.inclusion, v, (_d(v["leafHash"]), v["leafIdx"], v["treeSize"], proof, _d(v["root"])))
    if not v["wantErr"]:  # and our generator produces the same proof shape
        assert len(rfc6962.inclusion_ranges(v["leafIdx"], v["treeSize"])) == len(proof)


@_skip
@_impls
@pytest.mark.parametrize("path", CONSISTENCY, ids=_ids(CONSISTENCY))
def test_consistency_vector(impl: Impl, path: Path) -> None:
    v = json.loads(path.read_text())
    proof = [_d(p) for p in v["proof"] or []]
    _expect(impl, impl.consistency, v, (v["size1"], v["size2"], proof, _d(v["root1"]), _d(v["root2"])))
    if not v["wantErr"] and v["size1"] != v["size2"]:
        assert len(rfc6962.consistency_ranges(v["size1"], v["size2"])) == len(proof)
