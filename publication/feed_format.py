"""The supervision feed's batch format (``liuhen.feed/v1``) and cursors — pure.

The feed *is* the audit log, in order: a batch carries the contiguous leaves ``[start, end)``, the
signed checkpoint (size ``N ≥ end``) it was cut at, the consistency proof from the consumer's last
checkpoint to ``N``, and the *prefix proof* (consistency from ``end`` to ``N``). A consumer that keeps
the compact range of every leaf it has received recomputes the root of ``[0, end)`` itself and checks
it against ``N`` with the prefix proof; so it can prove that nothing it received was dropped, altered,
duplicated or reordered, and the consistency proof proves the log was not forked or rewritten since
its last checkpoint. Events outside the feed's scope (individual accesses; the feed carries access
*statistics* in ``derived``) are sent as ``leaf_hash`` only, which is all the tree needs.

Batch::

    {"format": "liuhen.feed/v1", "origin": "<log origin>",
     "cursor": "v1:<start>:<known>", "next_cursor": "v1:<end>:<N>",
     "start": 100, "end": 150,
     "items": [{"index": 100, "type": "case.create", "leaf": "<base64 leaf bytes>"},
               {"index": 101, "type": "access.view", "leaf_hash": "<base64>"}, …],
     "checkpoint": "<C2SP signed note of size N>",
     "consistency": {"from": <known>, "to": N, "proof": ["<base64>", …]},
     "prefix": {"from": <end>, "to": N, "proof": ["<base64>", …]},
     "derived": [{"kind": "access_stats", …}, …],
     "delivery_id": "<origin>:<start>-<end>@<N>"}

A cursor ``v1:<next>:<known>`` names the next leaf the consumer needs and the size of the last
checkpoint it verified (0 before the first batch: then ``consistency`` is omitted). The delivery id
is deterministic, so a receiver of pushed batches (webhook) drops a redelivery by id.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from liuhen.publication.errors import FeedFormatError

FORMAT = "liuhen.feed/v1"
HASH_SIZE = 32


@dataclass(frozen=True)
class Cursor:
    next: int
    known: int

    def __post_init__(self) -> None:
        if self.next < 0 or self.known < 0:
            raise FeedFormatError(f"cursor positions must be >= 0, got next={self.next} known={self.known}")

    def text(self) -> str:
        return f"v1:{self.next}:{self.known}"


START = Cursor(0, 0)


def parse_cursor(text: str) -> Cursor:
    parts = text.strip().split(":")
    if len(parts) != 3 or parts[0] != "v1" or not all(p.isdigit() for p in parts[1:]):
        raise FeedFormatError(f"cursor {text!r}: expected v1:<next leaf index>:<last verified checkpoint size>")
    return Cursor(int(parts[1]), int(parts[2]))


@dataclass(frozen=True)
class Item:
    index: int
    type: str
    leaf: bytes | None = None  # the exact leaf bytes (RFC 8785 JSON), or None when withheld
    leaf_hash: bytes | None = None  # given when withheld

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "type": self.type}
        if self.leaf is not None:
            out["leaf"] = base64.b64encode(self.leaf).decode()
        else:
            out["leaf_hash"] = base64.b64encode(self.leaf_hash or b"").decode()
        return out


@dataclass(frozen=True)
class Proof:
    frm: int
    to: int
    hashes: tuple[bytes, ...]

    def as_json(self) -> dict[str, Any]:
        return {"from": self.frm, "to": self.to, "proof": [base64.b64encode(h).decode() for h in self.hashes]}


@dataclass(frozen=True)
class Batch:
    origin: str
    start: int
    end: int
    items: tuple[Item, ...]
    checkpoint: str
    size: int  # the checkpoint's size N (as the server claims; the consumer re-reads it from the signed note)
    prefix: Proof
    consistency: Proof | None = None
    derived: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    known: int = 0

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.start, self.known)

    @property
    def next_cursor(self) -> Cursor:
        return Cursor(self.end, self.size)

    @property
    def delivery_id(self) -> str:
        return f"{self.origin}:{self.start}-{self.end}@{self.size}"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT, "origin": self.origin, "cursor": self.cursor.text(),
            "next_cursor": self.next_cursor.text(), "start": self.start, "end": self.end,
            "items": [i.as_json() for i in self.items], "checkpoint": self.checkpoint,
            "prefix": self.prefix.as_json(), "derived": list(self.derived), "delivery_id": self.delivery_id,
        }
        if self.consistency is not None:
            out["consistency"] = self.consistency.as_json()
        return out


def _b64(value: object, where: str, *, hash_: bool = False) -> bytes:
    if not isinstance(value, str):
        raise FeedFormatError(f"{where}: expected base64 text, got {type(value).__name__}")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise FeedFormatError(f"{where}: not base64") from exc
    if hash_ and len(raw) != HASH_SIZE:
        raise FeedFormatError(f"{where}: a hash is {HASH_SIZE} bytes, got {len(raw)}")
    return raw


def _int(doc: Mapping[str, Any], key: str, where: str) -> int:
    v = doc.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise FeedFormatError(f"{where}.{key}: expected a non-negative integer, got {v!r}")
    return v


def _proof(doc: object, where: str) -> Proof:
    if not isinstance(doc, dict) or not isinstance(doc.get("proof"), list):
        raise FeedFormatError(f"{where}: expected {{from, to, proof: [...]}}")
    hashes = tuple(_b64(h, f"{where}.proof[{i}]", hash_=True) for i, h in enumerate(doc["proof"]))
    return Proof(_int(doc, "from", where), _int(doc, "to", where), hashes)


def _item(doc: object, where: str) -> Item:
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise FeedFormatError(f"{where}: expected {{index, type, leaf | leaf_hash}}")
    idx = _int(doc, "index", where)
    if ("leaf" in doc) == ("leaf_hash" in doc):
        raise FeedFormatError(f"{where}: exactly one of leaf, leaf_hash")
    if "leaf" in doc:
        return Item(idx, doc["type"], leaf=_b64(doc["leaf"], f"{where}.leaf"))
    return Item(idx, doc["type"], leaf_hash=_b64(doc["leaf_hash"], f"{where}.leaf_hash", hash_=True))


def parse_batch(doc: object) -> Batch:
    """Check a decoded batch's shape (not its proofs: that is the consumer's job)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        fmt = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise FeedFormatError(f"batch format {fmt!r}: this consumer reads {FORMAT!r}")
    if not isinstance(doc.get("origin"), str) or not isinstance(doc.get("checkpoint"), str):
        raise FeedFormatError("batch: origin and checkpoint must be strings")
    items_doc = doc.get("items")
    if not isinstance(items_doc, list):
        raise FeedFormatError("batch.items: expected a list")
    items = tuple(_item(d, f"items[{i}]") for i, d in enumerate(items_doc))
    prefix = _proof(doc.get("prefix"), "prefix")
    cons = _proof(doc["consistency"], "consistency") if "consistency" in doc else None
    cur = parse_cursor(str(doc.get("cursor", "")))
    derived = doc.get("derived", [])
    if not isinstance(derived, list) or not all(isinstance(d, dict) for d in derived):
        raise FeedFormatError("batch.derived: expected a list of objects")
    return Batch(doc["origin"], _int(doc, "start", "batch"), _int(doc, "end", "batch"), items, doc["checkpoint"],
                 prefix.to, prefix, cons, tuple(derived), cur.known)


def check_sequence(batch: Batch, expected_start: int) -> None:
    """Items must be exactly ``expected_start … end-1``, each once, in order (names the first fault)."""
    if batch.start != expected_start:
        raise FeedFormatError(f"batch starts at leaf {batch.start}; the consumer needs leaf {expected_start} next")
    if batch.end < batch.start or batch.end > batch.size:
        raise FeedFormatError(f"batch range [{batch.start}, {batch.end}) does not fit checkpoint size {batch.size}")
    for pos, item in enumerate(batch.items):
        want = batch.start + pos
        if item.index != want:
            what = "duplicate" if item.index < want else "gap"
            raise FeedFormatError(f"{what}: item {pos} is leaf {item.index}, expected leaf {want}")
    if batch.start + len(batch.items) != batch.end:
        n = len(batch.items)
        raise FeedFormatError(f"batch claims leaves up to {batch.end} but carries {n} from {batch.start}")
    if batch.consistency is not None and batch.consistency.to != batch.size:
        raise FeedFormatError(f"consistency proof ends at {batch.consistency.to}, checkpoint size is {batch.size}")
    if batch.prefix.frm != batch.end:
        raise FeedFormatError(f"prefix proof starts at {batch.prefix.frm}, batch ends at {batch.end}")


WITHHELD_PREFIXES = ("access.",)


def withheld(event_type: str) -> bool:
    """Whether an event is sent as its hash only: individual accesses (the feed carries their statistics)."""
    return event_type.startswith(WITHHELD_PREFIXES)
