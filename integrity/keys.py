"""Checkpoint signing keys and which verifier keys to trust (moved out of ``checkpoint``).

The signing key lives under ``Settings.key_dir`` (directory 0700, private key file 0600; refused if
group/other can read it). Its public half is recorded in ``log_keys`` (a registry, *not* a trust
anchor: anyone with SQL access could insert a row there). Which keys are trusted is decided by
``key_trust``: the keys on disk in the key directory, plus keys reached from them through verified
``key.rotate`` endorsements (``rotation_event`` makes them, ``checkpoint.rotate_key`` logs them).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liuhen.catalog.db import Catalog
from liuhen.integrity import note
from liuhen.integrity.errors import IntegrityError, KeyInsecure, MalformedKey
from liuhen.integrity.events import Event
from liuhen.integrity.note import Signer

KEY_FILE = "checkpoint.key"
PUB_FILE = "checkpoint.pub"


def _secure_dir(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(d, 0o700)


def _staged_secret(path: Path, data: str) -> Path:
    """``data`` in a new 0600 file beside ``path`` under a name no other process uses, fsynced."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(data + "\n")
        f.flush()
        os.fsync(f.fileno())
    return tmp


def _write_secret(path: Path, data: str) -> None:
    os.replace(_staged_secret(path, data), path)


def _create_secret(path: Path, data: str) -> bool:
    """Create ``path`` holding ``data`` unless it exists; False if another process created it first.

    Two nodes sharing a key directory (API nodes on one data dir) may both find no key at start-up:
    ``link`` lets exactly one of them create it, and the other loads that one instead of replacing
    it (a replaced key would have signed checkpoints no key on disk can verify).
    """
    tmp = _staged_secret(path, data)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def _load_signer_file(path: Path) -> Signer:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise KeyInsecure(f"signing key {path} has mode {mode:o}; it must be 0600 (chmod 600 {path})")
    return note.parse_skey(path.read_text())


def signer(settings: Any, *, create: bool = True) -> Signer:
    """The current checkpoint signing key, generated on first use."""
    d = Path(settings.key_dir)
    path = d / KEY_FILE
    if path.exists():
        return _load_signer_file(path)
    if not create:
        raise IntegrityError(f"no checkpoint signing key at {path}")
    _secure_dir(d)
    s = Signer.generate(settings.log_origin)
    if not _create_secret(path, s.skey):
        return _load_signer_file(path)  # another node sharing this key directory made it first
    (d / PUB_FILE).write_text(s.verifier.vkey + "\n")
    return s


def public_key(settings: Any) -> str:
    """Verifier key string of the current signing key: ``<name>+<hex key id>+<base64(0x01||pub)>``."""
    return signer(settings).verifier.vkey


def register(catalog: Catalog, s: Signer) -> None:
    v = s.verifier
    with catalog.tx() as conn:
        conn.execute(
            "INSERT INTO log_keys (key_id, name, vkey) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (v.key_id.hex(), v.name, v.vkey),
        )


ROTATION_CONTEXT = "liuhen key rotation\n"
BACK_CONTEXT = "liuhen key rotation back\n"


def _norm(vkey: str) -> str:
    return note.parse_vkey(vkey).vkey


def disk_keys(key_dir: Path | str | None) -> tuple[list[str], list[str]]:
    """(verifier keys, problems) found on disk in ``key_dir``: the trust anchors.

    ``checkpoint.pub``, the public half of ``checkpoint.key``, and ``retired/*.pub`` /
    ``retired/*.key`` (a rotation leaves the old key's public half there). Nothing is created.
    """
    keys: list[str] = []
    problems: list[str] = []
    if key_dir is None:
        return keys, problems
    d = Path(key_dir)
    paths = [d / PUB_FILE, d / KEY_FILE]
    if (d / "retired").is_dir():
        paths += sorted((d / "retired").glob("*.pub")) + sorted((d / "retired").glob("*.key"))
    for p in paths:
        if not p.is_file():
            continue
        try:
            text = p.read_text().strip()
            keys.append(note.parse_skey(text).verifier.vkey if p.suffix == ".key" else _norm(text))
        except (OSError, ValueError, binascii.Error, MalformedKey) as exc:
            problems.append(f"key file {p}: {exc}")
    return list(dict.fromkeys(keys)), problems


@dataclass
class KeyTrust:
    """Which verifier keys to trust, and why (see ``key_trust``)."""

    keys: list[str] = field(default_factory=list)  # trusted: anchors, then keys reached by rotation
    anchors: list[str] = field(default_factory=list)
    untrusted: list[str] = field(default_factory=list)  # rows of log_keys that are not trusted
    problems: list[str] = field(default_factory=list)


def _rotations(catalog: Catalog) -> list[tuple[int, dict[str, Any]]]:
    rows = catalog.all("SELECT id, idx, body FROM log_events WHERE type = 'key.rotate' ORDER BY id")
    out = []
    for r in rows:
        try:
            data = Event.from_leaf(bytes(r["body"])).data
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(data, dict):
            out.append((int(r["idx"]) if r["idx"] is not None else -1, data))
    return out


def _endorses(signer_vkey: str, context: str, endorsed: str, sig_b64: Any) -> bool:
    if not isinstance(sig_b64, str):
        return False
    try:
        sig = base64.b64decode(sig_b64, validate=True)
        return note.parse_vkey(signer_vkey).verify((context + endorsed + "\n").encode(), sig)
    except (ValueError, binascii.Error, MalformedKey):
        return False


def key_trust(catalog: Catalog, key_dir: Path | str | None, extra: Iterable[str] = ()) -> KeyTrust:
    """Decide which checkpoint keys are trusted. The database is never a trust anchor.

    Anchors: the keys on disk in ``key_dir`` (``disk_keys``) and ``extra`` (keys obtained out of
    band, e.g. ``liuhen audit verify --trusted-key``). Then, to a fixed point, a ``key.rotate``
    event in the log makes ``new_vkey`` trusted when ``old_vkey`` is trusted and ``endorsement`` is
    the old key's valid signature over ``"liuhen key rotation\n" + new_vkey + "\n"``; and makes
    ``old_vkey`` trusted when ``new_vkey`` is trusted, the endorsement verifies, and
    ``back_endorsement`` is the new key's valid signature over ``"liuhen key rotation back\n" +
    old_vkey + "\n"`` (so a key dir holding only the current key still vouches for older ones).
    Anyone who can write SQL but holds no trusted private key can therefore add no trusted key:
    every ``log_keys`` row outside the result is listed in ``untrusted`` and in ``problems``.
    """
    res = KeyTrust()
    anchors, res.problems = disk_keys(key_dir)
    for k in extra:
        try:
            anchors.append(_norm(k))
        except MalformedKey as exc:
            res.problems.append(f"trusted key {k!r}: {exc}")
    res.anchors = list(dict.fromkeys(anchors))
    trusted = list(res.anchors)
    rotations = _rotations(catalog)
    changed = True
    while changed:
        changed = False
        for _, d in rotations:
            old, new = d.get("old_vkey"), d.get("new_vkey")
            if not isinstance(old, str) or not isinstance(new, str):
                continue
            try:
                old, new = _norm(old), _norm(new)
            except MalformedKey:
                continue
            if (old in trusted) == (new in trusted):
                continue
            if not _endorses(old, ROTATION_CONTEXT, new, d.get("endorsement")):
                continue
            if old in trusted:
                trusted.append(new)
                changed = True
            elif _endorses(new, BACK_CONTEXT, old, d.get("back_endorsement")):
                trusted.append(old)
                changed = True
    for idx, d in rotations:
        old, new = d.get("old_vkey"), d.get("new_vkey")
        if isinstance(old, str) and old in trusted and isinstance(new, str) and new not in trusted:
            res.problems.append(f"key.rotate event (leaf {idx}) names new key {new} without a valid "
                                f"endorsement by the trusted key {old}")
    res.keys = trusted
    for r in catalog.all("SELECT key_id, vkey, created_at FROM log_keys ORDER BY created_at, key_id"):
        try:
            v = _norm(r["vkey"])
        except MalformedKey:
            v = r["vkey"]
        if v not in trusted:
            res.untrusted.append(r["vkey"])
            res.problems.append(
                f"log_keys: key {r['vkey']} (key id {r['key_id']}, added {r['created_at']}) is not trusted: "
                "it is neither on disk in the key directory nor endorsed by a key.rotate event signed by "
                "a trusted key (a key inserted with SQL?)")
    return res


def verifier_keys(catalog: Catalog, trust_from: Any = None) -> list[str]:
    """The verifier keys to trust for this log's checkpoints: ``key_trust(...).keys``.

    ``trust_from`` is the ``Settings`` (its ``key_dir`` is the trust anchor) or a key directory
    path. Rows of ``log_keys`` are *not* trusted by being there: a key is returned only if it is on
    disk in the key directory or reached from one through verified ``key.rotate`` endorsements.
    Without ``trust_from`` there is no anchor and the result is empty (callers fall back to
    ``public_key(settings)``); pass the settings.
    """
    if trust_from is None:
        return []
    key_dir = getattr(trust_from, "key_dir", trust_from)
    return key_trust(catalog, key_dir).keys


def rotation_event(old: Signer, new: Signer, actor: str) -> Event:
    """The ``key.rotate`` event: both verifier keys, the old key's endorsement of the new one and the
    new key's of the old one (see ``key_trust``)."""
    endorsement = old.sign((ROTATION_CONTEXT + new.verifier.vkey + "\n").encode())
    back = new.sign((BACK_CONTEXT + old.verifier.vkey + "\n").encode())
    return Event(
        "key.rotate",
        actor,
        subject={"key_id": new.verifier.key_id.hex()},
        data={
            "old_vkey": old.verifier.vkey,
            "new_vkey": new.verifier.vkey,
            "endorsement": base64.b64encode(endorsement).decode(),
            "back_endorsement": base64.b64encode(back).decode(),
        },
    )


def install_rotated(catalog: Catalog, settings: Any, old: Signer, new: Signer) -> None:
    """Make ``new`` the signing key: the old private key moves to ``key_dir/retired/<key id>.key``
    (0600; delete it once no longer needed), its public half stays as ``retired/<key id>.pub``, and
    its ``log_keys`` row is marked retired."""
    d = Path(settings.key_dir)
    register(catalog, new)
    retired = d / "retired"
    _secure_dir(retired)
    _write_secret(retired / f"{old.verifier.key_id.hex()}.key", old.skey)
    (retired / f"{old.verifier.key_id.hex()}.pub").write_text(old.verifier.vkey + "\n")
    _write_secret(d / KEY_FILE, new.skey)
    (d / PUB_FILE).write_text(new.verifier.vkey + "\n")
    with catalog.tx() as conn:
        conn.execute("UPDATE log_keys SET retired_at = now() WHERE key_id = %s AND retired_at IS NULL",
                     (old.verifier.key_id.hex(),))
