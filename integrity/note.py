"""C2SP signed-note with Ed25519 (https://c2sp.org/signed-note): signing here, verifying in the verifier.

* Verifier key:  ``<name>+<hex key id>+<base64(0x01 || 32-byte Ed25519 public key)>``
* Signer key:    ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte Ed25519 seed)>``
* key id = first 4 bytes of SHA-256(``name`` || 0x0A || 0x01 || public key)
* note   = text (non-empty lines, ends in "\\n") + "\\n" + signature lines
* signature line = ``— <name> <base64(key id || 64-byte Ed25519 signature over text)>\\n``
  (U+2014 EM DASH, a space, the key name, a space, the base64)

These are the formats of golang.org/x/mod/sumdb/note, so ``note.Verify`` in Go accepts our notes.
Parsing and verification (key strings, note text rules, signature lines, Ed25519) are defined once,
in the standard-library bag verifier ``liuhen.core.verifier``; this module adapts them to the
package's errors and adds what only the log needs: generating keys and signing (``cryptography``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from liuhen.core import verifier
from liuhen.integrity.errors import MalformedKey
from liuhen.integrity.verify import checked

ALG_ED25519 = bytes([verifier.ALG_ED25519])
SIG_PREFIX = verifier.SIG_PREFIX
Signature = verifier.NoteSignature
key_id = verifier.note_key_id


def _malformed(exc: verifier.CheckFailed) -> MalformedKey:
    return MalformedKey(str(exc))


def check_name(name: str) -> None:
    with checked(_malformed):
        verifier.check_key_name(name)


class Verifier(verifier.VerifierKey):
    """A verifier key (``name``, ``key_id``, ``public``) whose Ed25519 check is OpenSSL's.

    Every rule (key strings, note text, signature lines, which signatures must verify) is the bag
    verifier's; only the primitive differs: OpenSSL (``cryptography``) is ~30x faster than the
    verifier's pure-Python RFC 8032 code, which matters when ``audit verify`` checks every
    checkpoint ever published. ``tests/core/test_verifier_ed25519.py`` pits the two against each
    other (Hypothesis: random keys and messages, corrupted and malformed signatures).
    """

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(bytes(signature), message)
            return True
        except (InvalidSignature, ValueError):
            return False

    @property
    def public_key(self) -> bytes:
        return self.public

    @property
    def vkey(self) -> str:
        return self.text


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
    with checked(_malformed):
        k = verifier.parse_verifier_key(vkey, "verifier key")
    return Verifier(k.name, k.key_id, k.public)


def parse_skey(skey: str) -> Signer:
    parts = skey.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise MalformedKey("signer key must be PRIVATE+KEY+<name>+<hash>+<key>")
    name, h, b = parts[2:]
    check_name(name)
    try:
        raw = base64.b64decode(b, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise MalformedKey(f"signer key: {exc}") from exc
    if len(raw) != 33 or raw[:1] != ALG_ED25519:
        raise MalformedKey("signer key is not an Ed25519 signed-note key")
    s = Signer(name, raw[1:])
    if s.verifier.key_id.hex() != h:
        raise MalformedKey("signer key: key hash does not match the key")
    return s


def check_text(text: str) -> None:
    with checked():
        verifier.check_note_text(text, "")


def sign(text: str, signers: Iterable[Signer]) -> str:
    check_text(text)
    lines = []
    for s in signers:
        sig = s.verifier.key_id + s.sign(text.encode())
        lines.append(f"{SIG_PREFIX}{s.name} {base64.b64encode(sig).decode()}\n")
    if not lines:
        raise ValueError("a note needs at least one signer")
    return text + "\n" + "".join(lines)


def parse(note: str) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signature lines (nothing verified yet)."""
    with checked():
        return verifier.parse_note(note, "signed note")


def open_note(note: str, verifiers: Iterable[Verifier | str]) -> tuple[str, list[Verifier]]:
    """Verify ``note`` against known keys; return (text, keys that signed it).

    Lines by unknown keys are ignored; a line by a known key that does not verify is an error; at
    least one known key must have signed.
    """
    known = [parse_vkey(v) if isinstance(v, str) else v for v in verifiers]
    with checked():
        text, good = verifier.verify_note_keys(note, known, "signed note")
    return text, [k for k in known if k in good]
