"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes (Ed25519).

Body (https://c2sp.org/tlog-checkpoint)::

    <origin>\\n<tree size, decimal>\\n<base64 root hash>\\n

Parsing a body and verifying a signed checkpoint use the bag verifier (``liuhen.core.verifier``);
signing keys and trust live in ``integrity.keys``. Every checkpoint ever published is kept in
``checkpoints``.

Rotation (``rotate_key``) is itself a ``key.rotate`` event carrying both verifier keys, the old
key's endorsement of the new one and the new key's of the old one; the checkpoint published right
after it is signed by both keys.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from liuhen.catalog.db import Catalog
from liuhen.core import verifier
from liuhen.integrity import keys, log, note, tree
from liuhen.integrity.errors import VerificationError
from liuhen.integrity.note import Signer, Verifier
from liuhen.integrity.verify import checked

_log = logging.getLogger(__name__)
PUBLISH_LOCK = 0x434B_5054  # "CKPT"


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


@dataclass(frozen=True)
class Checkpoint:
    id: int
    origin: str
    size: int
    root: bytes
    note: str
    key_ids: list[str] = field(default_factory=list)
    created_at: datetime | None = None

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root).decode()

    @property
    def body(self) -> str:
        return CheckpointBody(self.origin, self.size, self.root).text()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "origin": self.origin, "size": self.size, "root": self.root_b64,
            "note": self.note, "key_ids": self.key_ids,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


def parse_body(text: str) -> CheckpointBody:
    """Parse a checkpoint body (extension lines after the root are allowed and ignored)."""
    with checked():
        cp = verifier.parse_checkpoint(text, "checkpoint")
    return CheckpointBody(cp.origin, cp.size, cp.root)


def verify_note(text: str, vkeys: Iterable[Verifier | str], origin: str | None = None) -> CheckpointBody:
    """Check a signed checkpoint against trusted verifier keys; return its body.

    Needs nothing but the note text and the public key(s): this is what a third party runs.
    """
    body_text, _ = note.open_note(text, vkeys)
    body = parse_body(body_text)
    if origin is not None and body.origin != origin:
        raise VerificationError("checkpoint origin", origin, body.origin)
    return body


def rotate_key(catalog: Catalog, settings: Any, actor: str) -> str:
    """Replace the signing key; log a ``key.rotate`` event; publish a checkpoint signed by both keys.

    The event (``keys.rotation_event``) carries the old and new verifier keys and their mutual
    endorsements; it is logged first, because a key in ``log_keys`` without its endorsement would
    be untrusted. Then the new key is installed (``keys.install_rotated``).
    """
    old = keys.signer(settings)
    keys.register(catalog, old)
    new = Signer.generate(settings.log_origin)
    log.append(catalog, keys.rotation_event(old, new, actor))
    keys.install_rotated(catalog, settings, old, new)
    _publish(catalog, settings.log_origin, [new, old], force=True)
    return new.verifier.vkey


# ----- publication -----


def _row(r: dict[str, Any]) -> Checkpoint:
    return Checkpoint(int(r["id"]), r["origin"], int(r["size"]), bytes(r["root"]), r["note"],
                      list(r["key_ids"]), r["created_at"])


_COLS = "id, origin, size, root, note, key_ids, created_at"


def _publish(catalog: Catalog, origin: str, signers: Sequence[Signer], *, force: bool) -> Checkpoint:
    log.sequence(catalog)
    with catalog.tx() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (PUBLISH_LOCK,))
        size = tree.stored_size(conn)
        last = conn.execute(f"SELECT {_COLS} FROM checkpoints ORDER BY id DESC LIMIT 1").fetchone()
        kids = [s.verifier.key_id.hex() for s in signers]
        if last is not None and not force and int(last["size"]) == size and set(kids) <= set(last["key_ids"]):
            return _row(last)
        body = CheckpointBody(origin, size, tree.root_at(conn, size))
        text = note.sign(body.text(), signers)
        r = conn.execute(
            f"INSERT INTO checkpoints (origin, size, root, note, key_ids) VALUES (%s, %s, %s, %s, %s) "
            f"RETURNING {_COLS}",
            (origin, size, body.root, text, kids),
        ).fetchone()
        assert r is not None
        return _row(r)


def publish(catalog: Catalog, settings: Any, *, force: bool = False) -> Checkpoint:
    """Sequence pending events and publish a signed checkpoint of the current tree.

    Idempotent: if the latest checkpoint already covers the current size (and key), it is returned
    instead of a duplicate, unless ``force``.
    """
    s = keys.signer(settings)
    keys.register(catalog, s)
    return _publish(catalog, settings.log_origin, [s], force=force)


def latest(catalog: Catalog) -> Checkpoint | None:
    r = catalog.one(f"SELECT {_COLS} FROM checkpoints ORDER BY id DESC LIMIT 1")
    return None if r is None else _row(r)


def at_size(catalog: Catalog, size: int) -> Checkpoint | None:
    r = catalog.one(f"SELECT {_COLS} FROM checkpoints WHERE size = %s ORDER BY id DESC LIMIT 1", (size,))
    return None if r is None else _row(r)


def previous(catalog: Catalog, before_size: int) -> Checkpoint | None:
    """The latest published checkpoint with a size strictly smaller than ``before_size``."""
    r = catalog.one(
        f"SELECT {_COLS} FROM checkpoints WHERE size < %s ORDER BY size DESC, id DESC LIMIT 1",
        (before_size,),
    )
    return None if r is None else _row(r)


def all_checkpoints(catalog: Catalog) -> list[Checkpoint]:
    return [_row(r) for r in catalog.all(f"SELECT {_COLS} FROM checkpoints ORDER BY id")]


def run_publisher(catalog: Catalog, settings: Any, stop: threading.Event, interval_s: float | None = None) -> None:
    """Background loop: publish a checkpoint every ``interval_s`` (default settings) until ``stop``."""
    every = float(interval_s or settings.checkpoint_interval_s)
    while not stop.is_set():
        try:
            publish(catalog, settings)
        except Exception:  # a transient failure must not kill the loop; the next round retries
            _log.exception("checkpoint publication failed; retrying in %.0f s", every)
        stop.wait(every)
