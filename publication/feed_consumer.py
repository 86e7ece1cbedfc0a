"""The reference consumer of the supervision feed: verifies every batch before taking anything from it.

State (a small JSON file): the log origin, the trusted verifier key(s), the next leaf index, the last
verified checkpoint (size, root) and the compact range of every leaf received. ``accept`` checks, in
order, and raises ``FeedRejected`` naming the first failure:

1. the format and that items are exactly ``next … end-1``, each once (no gap, no duplicate);
2. the checkpoint's signature by a trusted key, its origin, and the size the batch claims;
3. the checkpoint is not older than the last one verified (no rollback);
4. the consistency proof from the last verified checkpoint to this one (**a rewritten or forked
   history fails here**);
5. each leaf's bytes hash to what is added to the compact range, and a leaf's own type matches the
   item's; the root of ``[0, end)`` recomputed from the compact range equals the checkpoint's root, or
   is proven a prefix of it by the prefix proof (**a dropped, altered or reordered leaf fails here**).

Only then is the state advanced. ``JsonlSink`` writes accepted items one JSON line each; on restart
it drops lines past the state's ``next`` (written before a crash, never committed), so each leaf is
delivered exactly once.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liuhen.integrity import rfc6962
from liuhen.integrity.checkpoint import verify_note
from liuhen.integrity.errors import VerificationError
from liuhen.integrity.verify import verify_consistency
from liuhen.publication.errors import FeedFormatError, FeedRejected
from liuhen.publication.feed_format import Batch, Cursor, Item, check_sequence, parse_batch


@dataclass
class ConsumerState:
    origin: str
    trusted_keys: list[str]
    next: int = 0
    known_size: int = 0
    known_root: bytes = b""
    frontier: list[tuple[tuple[int, int], bytes]] = field(default_factory=list)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.next, self.known_size)

    def as_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "trusted_keys": self.trusted_keys, "next": self.next,
                "known_size": self.known_size, "known_root": base64.b64encode(self.known_root).decode(),
                "frontier": [[lvl, idx, base64.b64encode(h).decode()] for (lvl, idx), h in self.frontier]}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ConsumerState:
        front = [((int(a), int(b)), base64.b64decode(h)) for a, b, h in d.get("frontier", [])]
        return cls(d["origin"], list(d["trusted_keys"]), int(d["next"]), int(d["known_size"]),
                   base64.b64decode(d.get("known_root", "")), front)

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.as_json(), indent=1))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> ConsumerState:
        return cls.from_json(json.loads(path.read_text()))


def _reject(what: str, exc: Exception | None = None) -> FeedRejected:
    return FeedRejected(what + (f": {exc}" if exc else ""))


def _leaf_hashes(items: tuple[Item, ...]) -> list[bytes]:
    out = []
    for it in items:
        if it.leaf is None:
            assert it.leaf_hash is not None
            out.append(it.leaf_hash)
            continue
        try:
            own = json.loads(it.leaf).get("type")
        except (ValueError, AttributeError) as exc:
            raise _reject(f"leaf {it.index} is not a JSON event", exc) from exc
        if own != it.type:
            raise _reject(f"leaf {it.index}: item says type {it.type!r}, the leaf itself says {own!r}")
        out.append(rfc6962.leaf_hash(it.leaf))
    return out


def _check_checkpoint(state: ConsumerState, b: Batch) -> bytes:
    try:
        body = verify_note(b.checkpoint, state.trusted_keys, state.origin)
    except VerificationError as exc:
        raise _reject("checkpoint signature or origin", exc) from exc
    if body.size != b.size:
        raise _reject(f"batch claims checkpoint size {b.size}, the signed checkpoint says {body.size}")
    if body.size < state.known_size:
        raise _reject(f"checkpoint size {body.size} is older than the last verified ({state.known_size}): rollback")
    if state.known_size:
        if b.consistency is None or b.consistency.frm != state.known_size:
            frm = None if b.consistency is None else b.consistency.frm
            raise _reject(f"consistency proof must start at the last verified size {state.known_size}, got {frm}")
        try:
            verify_consistency(state.known_size, body.size, list(b.consistency.hashes), state.known_root, body.root)
        except VerificationError as exc:
            raise _reject(f"history rewritten: checkpoint {body.size} is not an extension of the verified "
                          f"checkpoint {state.known_size}", exc) from exc
    return body.root


def accept(state: ConsumerState, doc: object) -> tuple[ConsumerState, Batch]:
    """Verify a decoded batch against ``state``; return the advanced state and the batch (see module doc)."""
    try:
        b = parse_batch(doc)
        if b.origin != state.origin:
            raise FeedFormatError(f"batch of log {b.origin!r}, this consumer follows {state.origin!r}")
        check_sequence(b, state.next)
    except FeedFormatError as exc:
        raise _reject("malformed batch", exc) from exc
    root = _check_checkpoint(state, b)
    front, _ = rfc6962.extend(list(state.frontier), state.next, _leaf_hashes(b.items))
    mine = rfc6962.fold([h for _, h in front])
    if b.end == b.size:
        if b.prefix.hashes or mine != root:
            raise _reject(f"leaves [0, {b.end}) do not hash to the signed root of size {b.size}: "
                          "a leaf was dropped, altered or reordered")
    elif b.end > 0:
        try:
            verify_consistency(b.end, b.size, list(b.prefix.hashes), mine, root)
        except VerificationError as exc:
            raise _reject(f"leaves [0, {b.end}) are not a prefix of the signed tree of size {b.size}: "
                          "a leaf was dropped, altered or reordered", exc) from exc
    return ConsumerState(state.origin, state.trusted_keys, b.end, b.size, root, front), b


class JsonlSink:
    """Accepted items, one JSON line each (``index``, ``type``, ``event`` or ``leaf_hash``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def recover(self, next_index: int) -> int:
        """Drop lines for leaves ≥ ``next_index`` (written, then a crash before the state was saved)."""
        if not self.path.exists():
            return 0
        lines = self.path.read_text("utf-8").splitlines(keepends=True)
        keep = [ln for ln in lines if ln.strip() and json.loads(ln)["index"] < next_index]
        if len(keep) != len(lines):
            self.path.write_text("".join(keep), "utf-8")
        return len(lines) - len(keep)

    def write(self, items: tuple[Item, ...]) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            for it in items:
                row: dict[str, Any] = {"index": it.index, "type": it.type}
                if it.leaf is not None:
                    row["event"] = json.loads(it.leaf)
                else:
                    row["leaf_hash"] = base64.b64encode(it.leaf_hash or b"").decode()
                f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
