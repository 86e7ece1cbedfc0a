"""C2SP tlog-proof (https://c2sp.org/tlog-proof): an offline-verifiable proof that a leaf is logged.

Parsed by the bag verifier (``liuhen.core.verifier.parse_tlog_proof``); formatted and served here.

::

    c2sp.org/tlog-proof@v1
    [extra <base64>]
    index <decimal>
    <base64 hash>            (zero or more: the RFC 6962 inclusion proof, leaf sibling first)

    <the signed checkpoint note, verbatim>
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence

from liuhen.catalog.db import Catalog
from liuhen.core import verifier
from liuhen.integrity import checkpoint as _checkpoint
from liuhen.integrity import proof as _proof
from liuhen.integrity import rfc6962
from liuhen.integrity.note import Verifier
from liuhen.integrity.verify import checked, verify_inclusion

HEADER = verifier.TLOG_PROOF_HEADER
TLogProof = verifier.TLogProof


def format(index: int, hashes: Sequence[bytes], checkpoint_note: str, extra: bytes | None = None) -> str:
    lines = [HEADER]
    if extra is not None:
        lines.append("extra " + base64.b64encode(extra).decode())
    lines.append(f"index {int(index)}")
    lines += [base64.b64encode(h).decode() for h in hashes]
    return "\n".join(lines) + "\n\n" + checkpoint_note


def parse(text: str) -> TLogProof:
    """Parse a tlog-proof (the bag verifier's parser: ASCII decimal index, strict base64)."""
    with checked():
        return verifier.parse_tlog_proof(text, "tlog-proof")


def verify(text: str, leaf: bytes, vkeys: Iterable[Verifier | str], origin: str | None = None) -> int:
    """Check a tlog-proof for ``leaf`` (the exact leaf bytes); return the checkpoint's tree size."""
    p = parse(text)
    body = _checkpoint.verify_note(p.checkpoint, vkeys, origin)
    verify_inclusion(rfc6962.leaf_hash(leaf), p.index, body.size, p.hashes, body.root)
    return body.size


def for_event(catalog: Catalog, idx: int, cp: _checkpoint.Checkpoint | None = None,
              extra: bytes | None = None) -> str:
    """The tlog-proof of leaf ``idx`` against ``cp`` (default: the latest published checkpoint)."""
    cp = cp or _checkpoint.latest(catalog)
    if cp is None or cp.size <= idx:
        raise ValueError(f"no published checkpoint covers leaf {idx}; publish one first")
    return format(idx, _proof.inclusion_proof(catalog, idx, cp.size), cp.note, extra)
