"""Pure core: known-answer tests and Hypothesis properties.

Known answers: the 8-leaf tree used by the Certificate Transparency reference implementation
(google/certificate-transparency ``merkle_tree_test.cc``, reused by transparency-dev/merkle
``testonly``): leaves ``""``, ``00``, ``10``, ``2021``, ``3031``, ``40414243``, ``5051…57``,
``6061…6f``. The roots for sizes 1–8 and the proofs below are the values published there; the
size-1 root also equals the ``happy-path`` root in the shared conformance vectors, and the empty root
is SHA-256 of the empty string (``e3b0c442…``, FIPS 180-4 example).
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liuhen.integrity import rfc6962
from liuhen.integrity.errors import VerificationError
from liuhen.integrity.verify import verify_consistency, verify_inclusion

LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
          bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H = [rfc6962.leaf_hash(x) for x in LEAVES]


def test_prefixes_are_named_constants() -> None:
    assert rfc6962.LEAF_PREFIX == b"\x00" and rfc6962.NODE_PREFIX == b"\x01"
    assert rfc6962.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert rfc6962.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


def test_empty_root_is_sha256_of_nothing() -> None:
    assert rfc6962.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("n", range(1, 9))
def test_known_roots(n: int) -> None:
    assert rfc6962.root(H[:n]).hex() == ROOTS[n - 1]


@pytest.mark.parametrize(
    ("index", "size", "expected"),
    [
        (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (0, 1, []),
    ],
)
def test_known_inclusion(index: int, size: int, expected: list[str]) -> None:
    assert [h.hex() for h in rfc6962.inclusion_proof(H[:size], index)] == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (1, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
        (6, 8, ["0ebc5d34", "ca854ea1", "d37ee418"]),
        (2, 5, ["5f083f0a", "bc1a0643"]),
    ],
)
def test_known_consistency(old: int, new: int, expected: list[str]) -> None:
    proof = rfc6962.consistency_proof(H[:new], old)
    assert [h.hex()[:8] for h in proof] == expected
    verify_consistency(old, new, proof, rfc6962.root(H[:old]), rfc6962.root(H[:new]))


def test_malformed_inputs_rejected() -> None:
    root8 = rfc6962.root(H)
    proof = rfc6962.inclusion_proof(H, 3)
    with pytest.raises(VerificationError, match="out of range"):
        verify_inclusion(H[3], 8, 8, proof, root8)  # index == size
    with pytest.raises(VerificationError, match="malformed leaf hash"):
        verify_inclusion(H[3][:31], 3, 8, proof, root8)
    with pytest.raises(VerificationError, match="malformed proof element 1"):
        verify_inclusion(H[3], 3, 8, [proof[0], proof[1] + b"\x00", proof[2]], root8)
    with pytest.raises(VerificationError, match="proof length"):
        verify_inclusion(H[3], 3, 8, [*proof, proof[0]], root8)  # extra element
    with pytest.raises(VerificationError, match="proof length"):
        verify_inclusion(H[3], 3, 8, proof[:-1], root8)  # missing element
    with pytest.raises(VerificationError, match="empty tree"):
        verify_consistency(0, 8, [], rfc6962.EMPTY_ROOT, root8)
    cproof = rfc6962.consistency_proof(H, 3)
    with pytest.raises(VerificationError):
        verify_consistency(3, 8, [*cproof, cproof[0]], rfc6962.root(H[:3]), root8)
    with pytest.raises(VerificationError):
        verify_consistency(3, 8, cproof[:-1], rfc6962.root(H[:3]), root8)


def test_error_names_expected_and_computed() -> None:
    proof = rfc6962.inclusion_proof(H, 2)
    bad_root = bytes(32)
    with pytest.raises(VerificationError) as ei:
        verify_inclusion(H[2], 2, 8, proof, bad_root)
    assert ei.value.expected == "A" * 43 + "=" and ei.value.computed == ROOTS_B64[7]


ROOTS_B64 = [__import__("base64").b64encode(bytes.fromhex(r)).decode() for r in ROOTS]


def test_range_decomposition_and_stored_nodes_agree() -> None:
    # compute every perfect subtree with extend(), then range hashes from those nodes
    leaves = [rfc6962.leaf_hash(str(i).encode()) for i in range(37)]
    _, created = rfc6962.extend([], 0, leaves)
    nodes = dict(created)
    for b in range(37):
        for e in range(b + 1, 38):
            if all(n in nodes for n in rfc6962.perfect_subtrees(b, e)) and (b == 0 or e - b <= (b & -b)):
                assert rfc6962.range_hash(b, e, nodes.__getitem__) == rfc6962.root(leaves[b:e])


def test_extend_in_pieces_equals_extend_at_once() -> None:
    leaves = [rfc6962.leaf_hash(bytes([i])) for i in range(100)]
    f_all, c_all = rfc6962.extend([], 0, leaves)
    f, created = rfc6962.extend([], 0, leaves[:33])
    f, more = rfc6962.extend(f, 33, leaves[33:])
    assert f == f_all and dict(created + more) == dict(c_all)
    assert rfc6962.fold([h for _, h in f]) == rfc6962.root(leaves)
    assert [n for n, _ in f] == rfc6962.perfect_subtrees(0, 100)


# ----- properties -----

# unique leaves: two equal leaves may legitimately prove each other's index
trees = st.lists(st.binary(max_size=8), min_size=1, max_size=70, unique=True)


def _flip(b: bytes, bit: int) -> bytes:
    ba = bytearray(b)
    ba[bit // 8] ^= 1 << (bit % 8)
    return bytes(ba)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees, st.data())
def test_every_inclusion_proof_verifies_and_every_bit_flip_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    hashes = [rfc6962.leaf_hash(x) for x in leaves]
    size = len(hashes)
    index = data.draw(st.integers(0, size - 1))
    root = rfc6962.root(hashes)
    proof = rfc6962.inclusion_proof(hashes, index)
    verify_inclusion(hashes[index], index, size, proof, root)
    # flip one bit anywhere: in the leaf hash, a proof element, or the root
    targets = 2 + len(proof)
    t = data.draw(st.integers(0, targets - 1))
    bit = data.draw(st.integers(0, 255))
    leaf, p, r = hashes[index], list(proof), root
    if t == 0:
        leaf = _flip(leaf, bit)
    elif t == 1:
        r = _flip(r, bit)
    else:
        p[t - 2] = _flip(p[t - 2], bit)
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, index, size, p, r)
    # a different index fails too (unless the tree is a single leaf)
    if size > 1:
        other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
        with pytest.raises(VerificationError):
            verify_inclusion(hashes[index], other, size, proof, root)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees, st.data())
def test_every_consistency_proof_verifies_and_every_bit_flip_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    hashes = [rfc6962.leaf_hash(x) for x in leaves]
    new = len(hashes)
    old = data.draw(st.integers(1, new))
    r1, r2 = rfc6962.root(hashes[:old]), rfc6962.root(hashes)
    proof = rfc6962.consistency_proof(hashes, old)
    verify_consistency(old, new, proof, r1, r2)
    t = data.draw(st.integers(0, 1 + len(proof)))
    bit = data.draw(st.integers(0, 255))
    p = list(proof)
    if t == 0:
        r1 = _flip(r1, bit)
    elif t == 1:
        r2 = _flip(r2, bit)
    else:
        p[t - 2] = _flip(p[t - 2], bit)
    with pytest.raises(VerificationError):
        verify_consistency(old, new, p, r1, r2)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5000), st.data())
def test_range_proofs_from_stored_nodes_match_reference(size: int, data: st.DataObject) -> None:
    """Proof hashes from O(log n) perfect subtrees equal the whole-list reference."""
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(1, size))
    ranges = rfc6962.inclusion_ranges(index, size) + rfc6962.consistency_ranges(old, size)
    needed = rfc6962.nodes_for(ranges)
    assert len(needed) <= 4 * max(1, size.bit_length()) + 2  # O(log n)
    for level, i in needed:
        assert (i + 1) << level <= size  # only complete subtrees are ever needed
