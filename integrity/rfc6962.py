"""RFC 6962 / RFC 9162 Merkle tree hashing — the pure core (no I/O).

Hashes (RFC 9162 §2.1.1):

* leaf hash  ``SHA-256(0x00 || leaf_bytes)``, node hash ``SHA-256(0x01 || left || right)``
  (``leaf_hash``/``node_hash`` are the bag verifier's, ``liuhen.core.verifier``, re-exported here)
* the empty tree's root is ``SHA-256("")``.

Besides whole-list helpers (``root``, ``inclusion_proof``, ``consistency_proof``, used by tests and
small trees) this module describes proofs as *ranges of leaves*: every proof element is the Merkle
tree hash of a contiguous leaf range ``[begin, end)``. A range is computed from *perfect subtrees*
``(level, index)`` — the hash of leaves ``[index·2^level, (index+1)·2^level)`` — which the
persisted log stores once each. That lets ``integrity.proof`` read O(log n) stored hashes per proof
and never touch the leaf table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

from liuhen.core.verifier import HASH_SIZE as HASH_SIZE
from liuhen.core.verifier import leaf_hash as leaf_hash
from liuhen.core.verifier import node_hash as node_hash

LEAF_PREFIX = b"\x00"  # what leaf_hash / node_hash prepend (RFC 9162 §2.1.1)
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]  # (level, index): perfect subtree over leaves [index<<level, (index+1)<<level)
Range = tuple[int, int]  # [begin, end) leaf range


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` ≥ 2)."""
    if n < 2:
        raise ValueError(f"split point needs n >= 2, got {n}")
    return 1 << ((n - 1).bit_length() - 1)


# ----- whole-list reference implementations (RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1) -----


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, bottom-up (linear time, O(log n) memory)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    stack: list[tuple[int, bytes]] = []  # (level, hash) — a compact range of the prefix
    for h in leaf_hashes:
        level, cur = 0, h
        while stack and stack[-1][0] == level:
            cur = node_hash(stack.pop()[1], cur)
            level += 1
        stack.append((level, cur))
    return fold([h for _, h in stack])


def fold(hashes: Sequence[bytes]) -> bytes:
    """Hash of a range from its perfect subtrees, left to right (largest first)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _mth(hashes: Sequence[bytes], begin: int, end: int) -> bytes:
    return root(hashes[begin:end])


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """PATH(index, D[size]) computed from the full leaf-hash list."""
    size = len(leaf_hashes) if size is None else size
    check_index(index, size)
    return [_mth(leaf_hashes, b, e) for b, e in inclusion_ranges(index, size)]


def consistency_proof(leaf_hashes: Sequence[bytes], old: int, new: int | None = None) -> list[bytes]:
    """PROOF(old, D[new]) computed from the full leaf-hash list."""
    new = len(leaf_hashes) if new is None else new
    return [_mth(leaf_hashes, b, e) for b, e in consistency_ranges(old, new)]


# ----- proofs as leaf ranges -----


def check_index(index: int, size: int) -> None:
    if size < 1 or not 0 <= index < size:
        raise ValueError(f"leaf index {index} out of range for tree size {size}")


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes form PATH(index, D[size]), leaf sibling first."""
    check_index(index, size)
    out: list[Range] = []
    begin, end, m = 0, size, index
    stack: list[Range] = []
    while end - begin > 1:
        k = split_point(end - begin)
        if m < k:
            stack.append((begin + k, end))
            end = begin + k
        else:
            stack.append((begin, begin + k))
            begin, m = begin + k, m - k
    out.extend(reversed(stack))
    return out


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The ranges whose hashes form PROOF(old, D[new]) (RFC 9162 §2.1.4.1)."""
    if not 0 < old <= new:
        raise ValueError(f"consistency proof needs 0 < old <= new, got old={old} new={new}")
    stack: list[Range] = []
    begin, end, m, complete = 0, new, old, True
    while True:
        n = end - begin
        if m == n:
            if not complete:
                stack.append((begin, end))
            break
        k = split_point(n)
        if m <= k:
            stack.append((begin + k, end))
            end = begin + k
        else:
            stack.append((begin, begin + k))
            begin, m, complete = begin + k, m - k, False
    return list(reversed(stack))


def perfect_subtrees(begin: int, end: int) -> list[Node]:
    """Decompose ``[begin, end)`` into maximal aligned perfect subtrees, left to right.

    For the ranges proofs use (``begin`` aligned to the range's largest power of two) the
    left-to-right fold of these hashes equals MTH of the range. O(log n) nodes.
    """
    out: list[Node] = []
    while begin < end:
        # largest 2^l with begin aligned to it and begin + 2^l <= end
        level = (begin & -begin).bit_length() - 1 if begin else (end - begin).bit_length() - 1
        while begin + (1 << level) > end:
            level -= 1
        out.append((level, begin >> level))
        begin += 1 << level
    return out


def range_hash(begin: int, end: int, get: Callable[[Node], bytes]) -> bytes:
    """MTH of leaves ``[begin, end)`` from stored perfect-subtree hashes."""
    return fold([get(n) for n in perfect_subtrees(begin, end)])


def nodes_for(ranges: Sequence[Range]) -> list[Node]:
    """Every perfect subtree needed to compute ``ranges`` (deduplicated, in first-use order)."""
    seen: dict[Node, None] = {}
    for b, e in ranges:
        for n in perfect_subtrees(b, e):
            seen.setdefault(n, None)
    return list(seen)


def hashes_from_nodes(ranges: Sequence[Range], nodes: Mapping[Node, bytes]) -> list[bytes]:
    return [range_hash(b, e, nodes.__getitem__) for b, e in ranges]


def new_nodes(size: int) -> list[Node]:
    """The perfect subtrees completed by appending leaf ``size`` (0-based) — O(log n) of them.

    ``(0, size)`` is the leaf itself; ``(l, (size+1)/2^l - 1)`` for every l with 2^l | size+1.
    """
    out: list[Node] = [(0, size)]
    level, n = 1, size + 1
    while n % (1 << level) == 0:
        out.append((level, (n >> level) - 1))
        level += 1
    return out


def extend(frontier: list[tuple[Node, bytes]], size: int, leaf_hashes: Sequence[bytes]) -> tuple[
    list[tuple[Node, bytes]], list[tuple[Node, bytes]]
]:
    """Append ``leaf_hashes`` to a tree of ``size`` leaves whose compact range is ``frontier``.

    ``frontier`` is ``[(node, hash), …]`` for ``perfect_subtrees(0, size)``. Returns the new frontier
    and every perfect subtree hash completed on the way (to be stored). Pure; amortised O(1) per leaf.
    """
    stack = list(frontier)
    created: list[tuple[Node, bytes]] = []
    for i, h in enumerate(leaf_hashes):
        idx = size + i
        node: Node = (0, idx)
        cur = h
        created.append((node, cur))
        while stack and stack[-1][0][0] == node[0]:
            (_, _), left = stack.pop()
            node = (node[0] + 1, node[1] >> 1)
            cur = node_hash(left, cur)
            created.append((node, cur))
        stack.append((node, cur))
    return stack, created
