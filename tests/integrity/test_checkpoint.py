"""Signed checkpoints: C2SP formats, third-party verification, key handling, rotation."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from liuhen.catalog.db import Catalog
from liuhen.core.config import Settings
from liuhen.integrity import checkpoint, log, note, rfc6962
from liuhen.integrity import keys as logkeys
from liuhen.integrity.errors import KeyInsecure, VerificationError
from liuhen.integrity.events import Event


def ev(i: int) -> Event:
    return Event("access.view", "test", subject={"sha256": f"{i:064x}"})


def test_checkpoint_note_is_c2sp_and_verifiable_from_text_and_public_key(
    catalog: Catalog, settings: Settings
) -> None:
    log.append_many(catalog, [ev(i) for i in range(10)])
    cp = checkpoint.publish(catalog, settings)
    vkey = logkeys.public_key(settings)
    # shape: "<origin>\n<size>\n<b64 root>\n\n— <name> <b64 sig>\n"
    lines = cp.note.split("\n")
    assert lines[:3] == [settings.log_origin, "10", base64.b64encode(log.root(catalog, 10)).decode()]
    assert lines[3] == "" and lines[4].startswith("\u2014 " + settings.log_origin + " ")
    name, kid_hex, kb64 = vkey.split("+", 2)
    assert name == settings.log_origin and len(kid_hex) == 8 and base64.b64decode(kb64)[0] == 1
    # independent re-derivation of the key id and the Ed25519 signature, with cryptography directly
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    pub = base64.b64decode(kb64)[1:]
    assert hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4].hex() == kid_hex
    sig = base64.b64decode(lines[4].split(" ")[2])
    assert sig[:4].hex() == kid_hex
    Ed25519PublicKey.from_public_bytes(pub).verify(sig[4:], cp.body.encode())
    body = checkpoint.verify_note(cp.note, [vkey], origin=settings.log_origin)
    assert (body.size, body.root) == (10, cp.root)


def test_tampered_or_foreign_checkpoints_are_rejected(catalog: Catalog, settings: Settings) -> None:
    log.append(catalog, ev(1))
    cp = checkpoint.publish(catalog, settings)
    vkey = logkeys.public_key(settings)
    with pytest.raises(VerificationError, match="invalid signature"):
        checkpoint.verify_note(cp.note.replace("\n1\n", "\n2\n", 1), [vkey])
    other = note.Signer.generate(settings.log_origin)
    with pytest.raises(VerificationError, match="no signature by a trusted key"):
        checkpoint.verify_note(cp.note, [other.verifier.vkey])
    with pytest.raises(VerificationError, match="origin"):
        checkpoint.verify_note(cp.note, [vkey], origin="someone.else/log")


def test_key_files_are_private(settings: Settings) -> None:
    logkeys.signer(settings)
    kd = settings.key_dir
    assert stat.S_IMODE(os.stat(kd).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(kd / logkeys.KEY_FILE).st_mode) == 0o600
    os.chmod(kd / logkeys.KEY_FILE, 0o644)
    with pytest.raises(KeyInsecure, match="chmod 600"):
        logkeys.signer(settings)


def test_publication_is_idempotent_and_every_checkpoint_kept(catalog: Catalog, settings: Settings) -> None:
    a = checkpoint.publish(catalog, settings)
    assert a.size == 0 and a.root == rfc6962.EMPTY_ROOT
    assert checkpoint.publish(catalog, settings).id == a.id
    with catalog.tx() as conn:
        log.record(conn, ev(5))  # pending: publish sequences it first
    b = checkpoint.publish(catalog, settings)
    assert b.size == 1 and checkpoint.latest(catalog) == b
    assert [c.size for c in checkpoint.all_checkpoints(catalog)] == [0, 1]
    assert checkpoint.previous(catalog, 1) == a and checkpoint.at_size(catalog, 1) == b


def test_rotation_is_an_event_and_old_checkpoints_still_verify(catalog: Catalog, settings: Settings) -> None:
    log.append(catalog, ev(1))
    old_cp = checkpoint.publish(catalog, settings)
    old_vkey = logkeys.public_key(settings)
    new_vkey = checkpoint.rotate_key(catalog, settings, actor="admin")
    assert new_vkey != old_vkey and logkeys.public_key(settings) == new_vkey
    rot = log.leaf(catalog, 1).event
    assert rot.type == "key.rotate" and rot.data["old_vkey"] == old_vkey and rot.data["new_vkey"] == new_vkey
    # the old key endorsed the new one
    old_v = note.parse_vkey(old_vkey)
    assert old_v.verify((logkeys.ROTATION_CONTEXT + new_vkey + "\n").encode(),
                        base64.b64decode(rot.data["endorsement"]))
    transition = checkpoint.latest(catalog)
    assert transition is not None and transition.size == 2
    checkpoint.verify_note(transition.note, [old_vkey])  # signed by both keys
    checkpoint.verify_note(transition.note, [new_vkey])
    checkpoint.verify_note(old_cp.note, logkeys.verifier_keys(catalog, settings))
    assert set(logkeys.verifier_keys(catalog, settings)) == {old_vkey, new_vkey}
    assert (settings.key_dir / "retired" / f"{old_v.key_id.hex()}.key").exists()
