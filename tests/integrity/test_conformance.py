"""Conformance: the verifier agrees with every public RFC 6962 vector from transparency-dev/merkle.

The vectors live outside the repository at ``<repo>/../shared/conformance/rfc6962`` (they are not
copied in, by licence and by design). When that folder is absent the tests SKIP with the reason.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from liuhen.integrity import rfc6962
from liuhen.integrity.errors import VerificationError
from liuhen.integrity.verify import verify_consistency, verify_inclusion

REPO = Path(__file__).resolve().parents[2]
VECTORS = Path(os.environ.get("LIUHEN_RFC6962_VECTORS", REPO.parent / "shared" / "conformance" / "rfc6962"))


def _cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json")) if VECTORS.is_dir() else []


def _d(v: str | None) -> bytes:
    return base64.b64decode(v or "")


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(VECTORS)) for p in paths]


_skip = pytest.mark.skipif(not VECTORS.is_dir(), reason=f"conformance vectors not found at {VECTORS}")
INCLUSION = _cases("inclusion")
CONSISTENCY = _cases("consistency")


@_skip
def test_all_196_vectors_present() -> None:
    assert len(INCLUSION) + len(CONSISTENCY) == 196


@_skip
@pytest.mark.parametrize("path", INCLUSION, ids=_ids(INCLUSION))
def test_inclusion_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    proof = [_d(p) for p in v["proof"] or []]
    args = (_d(v["leafHash"]), v["leafIdx"], v["treeSize"], proof, _d(v["root"]))
    if v["wantErr"]:
        with pytest.raises(VerificationError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)
        # and our generator produces the same proof shape
        assert len(rfc6962.inclusion_ranges(v["leafIdx"], v["treeSize"])) == len(proof)


@_skip
@pytest.mark.parametrize("path", CONSISTENCY, ids=_ids(CONSISTENCY))
def test_consistency_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    proof = [_d(p) for p in v["proof"] or []]
    args = (v["size1"], v["size2"], proof, _d(v["root1"]), _d(v["root2"]))
    if v["wantErr"]:
        with pytest.raises(VerificationError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)
        if v["size1"] != v["size2"]:
            assert len(rfc6962.consistency_ranges(v["size1"], v["size2"])) == len(proof)
