"""Proof verification per RFC 9162 §2.1.3.2 and §2.1.4.2 — pure, no I/O.

Every function returns ``None`` or raises :class:`integrity.errors.VerificationError` naming what
was expected and what was computed. Malformed input is rejected, never "repaired": hashes that are
not 32 bytes, an index ≥ the tree size, a consistency proof from size 0, proofs with missing or
extra elements.

One deliberate detail, matching the public transparency-dev vectors: between two *equal* sizes the
proof must be empty and the two roots must be byte-identical; their length is not checked there,
because nothing is hashed (two identical claims are trivially consistent).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from liuhen.integrity.errors import VerificationError
from liuhen.integrity.rfc6962 import HASH_SIZE, inclusion_ranges, node_hash


def b64(h: bytes) -> str:
    return base64.b64encode(h).decode("ascii")


def _check_hash(what: str, h: bytes) -> None:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        n = len(h) if isinstance(h, bytes | bytearray) else type(h).__name__
        raise VerificationError(f"malformed {what}", f"{HASH_SIZE} bytes", f"{n} bytes")


def _check_proof(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        _check_hash(f"proof element {i}", p)


def root_from_inclusion_proof(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1–4)."""
    if size < 1 or not 0 <= index < size:
        raise VerificationError("leaf index out of range", f"0 <= index < {size}", index)
    _check_hash("leaf hash", leaf_hash)
    _check_proof(proof)
    fn, sn, r = index, size - 1, bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof length", _inclusion_len(index, size), len(proof))
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion proof length", _inclusion_len(index, size), len(proof))
    return r


def _inclusion_len(index: int, size: int) -> int:

    return len(inclusion_ranges(index, size))


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``."""
    _check_hash("root", root)
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if computed != root:
        raise VerificationError(f"inclusion of leaf {index} in tree of size {size}: root", b64(root),
                                b64(computed))


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree (``size1``, ``root1``) is a prefix of (``size2``, ``root2``)."""
    if size1 < 1:
        raise VerificationError("consistency proof from an empty tree is meaningless", "size1 >= 1", size1)
    if size2 < size1:
        raise VerificationError("consistency sizes", f"size2 >= size1 ({size1})", size2)
    if size1 == size2:
        if proof:
            raise VerificationError("consistency proof between equal sizes", "0 elements", len(proof))
        if bytes(root1) != bytes(root2):
            raise VerificationError(f"roots of equal size {size1}", b64(root1), b64(root2))
        return
    _check_hash("old root", root1)
    _check_hash("new root", root2)
    _check_proof(proof)
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # exact power of two: the old root is itself a proof node
        path.insert(0, bytes(root1))
    if not path:
        raise VerificationError("consistency proof length", ">= 1 element", 0)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof length", "fewer elements", len(proof))
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency proof length", "more elements", len(proof))
    if fr != root1:
        raise VerificationError(f"consistency {size1}->{size2}: old root", b64(root1), b64(fr))
    if sr != root2:
        raise VerificationError(f"consistency {size1}->{size2}: new root", b64(root2), b64(sr))
