"""C2SP signed-note with Ed25519 (https://c2sp.org/signed-note) — pure functions, no I/O.

* Verifier key:  ``<name>+<hex key id>+<base64(0x01 || 32-byte Ed25519 public key)>``
* Signer key:    ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte Ed25519 seed)>``
* key id = first 4 bytes of SHA-256(``name`` || 0x0A || 0x01 || public key)
* note   = text (non-empty lines, ends in "\\n") + "\\n" + signature lines
* signature line = ``— <name> <base64(key id || 64-byte Ed25519 signature over text)>\\n``
  (U+2014 EM DASH, a space, the key name, a space, the base64)

These are the formats of golang.org/x/mod/sumdb/note, so ``note.Verify`` in Go accepts our notes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from liuhen.integrity.errors import IntegrityError, VerificationError

ALG_ED25519 = b"\x01"
SIG_PREFIX = "\u2014 "


class MalformedKey(IntegrityError):
    status = 422
    title = "Malformed key"


def check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name) or not name.isprintable():
        raise MalformedKey(f"key name {name!r} must be non-empty, printable, without '+' or spaces")


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: bytes

    @property
    def vkey(self) -> str:
        b = base64.b64encode(ALG_ED25519 + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{b}"

    def verify(self, msg: bytes, sig: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(sig, msg)
            return True
        except InvalidSignature:
            return False


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> Signer:
        check_name(name)
        raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(name, raw)

    @property
    def _key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def public_key(self) -> bytes:
        return self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, key_id(self.name, self.public_key), self.public_key)

    @property
    def skey(self) -> str:
        b = base64.b64encode(ALG_ED25519 + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{b}"

    def sign(self, msg: bytes) -> bytes:
        return self._key.sign(msg)


def parse_vkey(vkey: str) -> Verifier:
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise MalformedKey(f"verifier key must be <name>+<hash>+<key>, got {vkey!r}")
    name, h, b = parts
    check_name(name)
    try:
        kid, raw = bytes.fromhex(h), base64.b64decode(b, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise MalformedKey(f"verifier key {vkey!r}: {exc}") from exc
    if len(kid) != 4 or len(raw) != 33 or raw[:1] != ALG_ED25519:
        raise MalformedKey(f"verifier key {vkey!r} is not an Ed25519 signed-note key")
    if key_id(name, raw[1:]) != kid:
        raise MalformedKey(f"verifier key {vkey!r}: key hash does not match the key")
    return Verifier(name, kid, raw[1:])


def parse_skey(skey: str) -> Signer:
    parts = skey.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise MalformedKey("signer key must be PRIVATE+KEY+<name>+<hash>+<key>")
    name, h, b = parts[2:]
    raw = base64.b64decode(b, validate=True)
    if len(raw) != 33 or raw[:1] != ALG_ED25519:
        raise MalformedKey("signer key is not an Ed25519 signed-note key")
    s = Signer(name, raw[1:])
    if s.verifier.key_id.hex() != h:
        raise MalformedKey("signer key: key hash does not match the key")
    return s


def check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise VerificationError("malformed note text", "non-empty lines ending in a newline", repr(text[:80]))
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise VerificationError("malformed note text", "no control characters", repr(text[:80]))


def sign(text: str, signers: Iterable[Signer]) -> str:
    check_text(text)
    lines = []
    for s in signers:
        sig = s.verifier.key_id + s.sign(text.encode())
        lines.append(f"{SIG_PREFIX}{s.name} {base64.b64encode(sig).decode()}\n")
    if not lines:
        raise ValueError("a note needs at least one signer")
    return text + "\n" + "".join(lines)


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    sig: bytes


def parse(note: str) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signature lines (nothing verified yet)."""
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise VerificationError("malformed signed note", "text, blank line, signature lines", repr(note[:80]))
    text, sigblock = note[: cut + 1], note[cut + 2 :]
    check_text(text)
    sigs = []
    for line in sigblock.splitlines():
        if not line.startswith(SIG_PREFIX):
            raise VerificationError("malformed signature line", "'\u2014 <name> <base64>'", repr(line[:80]))
        try:
            name, b = line[len(SIG_PREFIX):].split(" ")
            raw = base64.b64decode(b, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise VerificationError("malformed signature line", "'\u2014 <name> <base64>'", repr(line)) from exc
        if len(raw) < 5:
            raise VerificationError("malformed signature line", "key id + signature", f"{len(raw)} bytes")
        sigs.append(Signature(name, raw[:4], raw[4:]))
    if not sigs:
        raise VerificationError("signed note has no signatures", ">= 1", 0)
    return text, sigs


def open_note(note: str, verifiers: Iterable[Verifier | str]) -> tuple[str, list[Verifier]]:
    """Verify ``note`` against known keys; return (text, keys that signed it).

    Lines by unknown keys are ignored; a line by a known key that does not verify is an error; at
    least one known key must have signed.
    """
    known: dict[tuple[str, bytes], Verifier] = {}
    for v in verifiers:
        vv = parse_vkey(v) if isinstance(v, str) else v
        known[(vv.name, vv.key_id)] = vv
    text, sigs = parse(note)
    good: list[Verifier] = []
    for s in sigs:
        signer = known.get((s.name, s.key_id))
        if signer is None:
            continue
        if not signer.verify(text.encode(), s.sig):
            raise VerificationError(f"signature by {signer.vkey}", "valid Ed25519 signature over the note text",
                                    "invalid signature")
        good.append(signer)
    if not good:
        names = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in sigs)
        raise VerificationError("signed note: no signature by a trusted key",
                                " or ".join(v.vkey for v in known.values()) or "a trusted key", names)
    return text, good
