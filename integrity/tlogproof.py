"""C2SP tlog-proof (https://c2sp.org/tlog-proof): an offline-verifiable proof that a leaf is logged.

::

    c2sp.org/tlog-proof@v1
    [extra <base64>]
    index <decimal>
    <base64 hash>            (zero or more: the RFC 6962 inclusion proof, leaf sibling first)

    <the signed checkpoint note, verbatim>
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from liuhen.catalog.db import Catalog
from liuhen.integrity import checkpoint as _checkpoint
from liuhen.integrity import proof as _proof
from liuhen.integrity import rfc6962
from liuhen.integrity.errors import VerificationError
from liuhen.integrity.note import Verifier
from liuhen.integrity.verify import verify_inclusion

HEADER = "c2sp.org/tlog-proof@v1"


@dataclass(frozen=True)
class TLogProof:
    index: int
    hashes: list[bytes]
    checkpoint: str
    extra: bytes | None = None


def format(index: int, hashes: Sequence[bytes], checkpoint_note: str, extra: bytes | None = None) -> str:
    lines = [HEADER]
    if extra is not None:
        lines.append("extra " + base64.b64encode(extra).decode())
    lines.append(f"index {int(index)}")
    lines += [base64.b64encode(h).decode() for h in hashes]
    return "\n".join(lines) + "\n\n" + checkpoint_note


def parse(text: str) -> TLogProof:
    head, sep, cp = text.partition("\n\n")
    if not sep:
        raise VerificationError("malformed tlog-proof", "proof lines, a blank line, a checkpoint", "no blank line")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise VerificationError("tlog-proof header", HEADER, lines[0][:60])
    pos, extra = 1, None
    try:
        if len(lines) > pos and lines[pos].startswith("extra "):
            extra = base64.b64decode(lines[pos][6:], validate=True)
            pos += 1
        if len(lines) <= pos or not lines[pos].startswith("index "):
            raise VerificationError("tlog-proof index line", "index <decimal>", lines[pos] if len(lines) > pos else "")
        idx_s = lines[pos][6:]
        if not idx_s.isdigit() or (idx_s != "0" and idx_s.startswith("0")):
            raise VerificationError("tlog-proof index", "decimal without leading zeros", idx_s)
        hashes = [base64.b64decode(h, validate=True) for h in lines[pos + 1 :]]
    except binascii.Error as exc:
        raise VerificationError("tlog-proof", "standard base64", str(exc)) from exc
    return TLogProof(int(idx_s), hashes, cp, extra)


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
