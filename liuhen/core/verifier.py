#!/usr/bin/env python3
"""verify.py — check a Liuhen evidence bag offline, with nothing but Python 3.9+'s standard library.

Usage::

    python3 verify.py BAGDIR [--json] [--trusted-key KEY]...

What it checks (exit status 0 only when every check holds, 1 when any fails, 2 on bad usage):

1. BagIt (RFC 8493): ``bagit.txt``; every payload file under ``data/`` is listed in every
   ``manifest-<alg>.txt`` and matches it, nothing listed is missing, nothing unlisted is present;
   ``Payload-Oxum``; every tag file matches ``tagmanifest-<alg>.txt`` and none is unlisted.
   SHA-256 always; SM3 when the bag has SM3 manifests and this Python's hashlib provides SM3.
2. The signed checkpoint (C2SP tlog-checkpoint in a C2SP signed-note) carries a valid Ed25519
   signature by the log key (``custody/log-key.pub`` — or the keys given with ``--trusted-key``,
   which is how you pin the agency's published key instead of trusting the bag's copy).
3. Every audit event in ``custody/events.jsonl`` (exact log leaf bytes, one per line) is proven
   by its C2SP tlog-proof ``custody/proofs/<index>.tlog-proof`` against that checkpoint
   (RFC 6962 / RFC 9162 inclusion proof), and the bag holds no proof without an event.
4. ``custody/consistency``: the previously published checkpoint (signature checked too) is a
   prefix of this one (RFC 9162 consistency proof) — the log was only appended to.
5. Every original under ``data/originals/`` has an ingestion event in the proven log naming its
   SHA-256, i.e. it is exactly what was recorded at ingest; every derived file matches its
   derivation record (``custody/derivations.json``) and names an original in the bag.

The Ed25519 verifier below follows RFC 8032 §5.1.7 (cofactorless, like Go's crypto/ed25519 that
the C2SP tools use) and is tested against RFC 8032 §7.1's vectors in the Liuhen repository.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

VERIFIER_VERSION = "2"
CHUNK = 4 << 20

# ============================================================== Ed25519 (RFC 8032, verify only)

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if x & 1 != sign:
        x = _P - x
    return x


Point = tuple[int, int, int, int]  # extended homogeneous coordinates (X, Y, Z, T)

_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0) or 0
_B: Point = (_GX, _GY, 1, _GX * _GY % _P)
_IDENTITY: Point = (0, 1, 1, 0)


def _add(p: Point, q: Point) -> Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _double(p: Point) -> Point:
    a, b = p[0] * p[0] % _P, p[1] * p[1] % _P
    c = 2 * p[2] * p[2] % _P
    h = a + b
    e = h - (p[0] + p[1]) * (p[0] + p[1])
    g = a - b
    f = c + g
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _double_mul(s: int, p: Point, k: int, q: Point) -> Point:
    """[s]P + [k]Q with one shared chain of doublings (Straus–Shamir)."""
    pq = _add(p, q)
    r = _IDENTITY
    for i in range(max(s.bit_length(), k.bit_length()) - 1, -1, -1):
        r = _double(r)
        bs, bk = (s >> i) & 1, (k >> i) & 1
        if bs and bk:
            r = _add(r, pq)
        elif bs:
            r = _add(r, p)
        elif bk:
            r = _add(r, q)
    return r


def _same(p: Point, q: Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _decode_point(s: bytes) -> Point | None:
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 §5.1.7 verification; False for any malformed key or signature."""
    if not isinstance(public_key, (bytes, bytearray)) or len(public_key) != 32:
        return False
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != 64:
        return False
    a = _decode_point(bytes(public_key))
    r = _decode_point(bytes(signature[:32]))
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(bytes(signature[:32]) + bytes(public_key) + message).digest(),
                       "little") % _L
    neg_a = ((_P - a[0]) % _P, a[1], a[2], (_P - a[3]) % _P)
    return _same(_double_mul(s, _B, k, neg_a), r)  # [S]B - [k]A == R


# ============================================================== errors and report


class CheckFailed(Exception):
    """One failed check: the item, what was checked, expected and computed values."""

    def __init__(self, item: str, what: str, expected: object = None, computed: object = None) -> None:
        self.item, self.what, self.expected, self.computed = item, what, expected, computed
        super().__init__(f"{item}: {what}" + (
            f" (expected {expected}, computed {computed})" if expected is not None or computed is not None
            else ""))


@dataclass
class Failure:
    item: str
    what: str
    expected: str | None = None
    computed: str | None = None

    def line(self) -> str:
        s = f"FAIL {self.item}: {self.what}"
        if self.expected is not None or self.computed is not None:
            s += f"\n       expected {self.expected}\n       computed {self.computed}"
        return s


@dataclass
class Report:
    """The verdict. ``ok`` only when no check failed."""

    bag: str
    ok: bool = True
    checked: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    verifier_version: str = VERIFIER_VERSION

    def fail(self, item: str, what: str, expected: object = None, computed: object = None) -> None:
        self.ok = False
        self.failures.append(Failure(item, what, None if expected is None else str(expected),
                                     None if computed is None else str(computed)))

    def count(self, what: str, n: int = 1) -> None:
        self.checked[what] = self.checked.get(what, 0) + n

    @property
    def items_checked(self) -> int:
        return sum(self.checked.values())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["items_checked"] = self.items_checked
        return d


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode("ascii")


def _b64d(s: str, item: str, what: str) -> bytes:
    if not s.isascii():  # b64decode would raise a bare ValueError for non-ASCII text
        raise CheckFailed(item, f"{what} is not valid base64", "ASCII base64", repr(s[:80]))
    try:
        return base64.b64decode(s, validate=True)
    except (ValueError, TypeError) as exc:
        raise CheckFailed(item, f"{what} is not valid base64", "standard base64", repr(s[:80])) from exc


MAX_DECIMAL_DIGITS = 19  # tree sizes and indices are int64 in the C2SP tools


def parse_decimal(s: str, item: str, what: str) -> int:
    """C2SP decimal: ASCII digits 0-9 only, no sign, spaces or leading zeros, below 2**63.

    ``str.isdigit`` and ``int`` accept other scripts' digits (``٥٩``) and superscripts (``²``);
    this refuses them with a named failure instead of reading a different number or crashing.
    """
    if not (s.isascii() and s.isdigit()) or (s != "0" and s.startswith("0")) or len(s) > MAX_DECIMAL_DIGITS:
        raise CheckFailed(item, f"{what} is not a decimal number", "ASCII digits without leading zeros",
                          repr(s[:40]))
    n = int(s)
    if n >= 1 << 63:
        raise CheckFailed(item, f"{what} is too large", "< 2**63", s)
    return n


# ============================================================== RFC 6962 / RFC 9162 proofs

HASH_SIZE = 32


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check_hash(item: str, what: str, h: Any) -> None:
    if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
        n = f"{len(h)} bytes" if isinstance(h, (bytes, bytearray)) else type(h).__name__
        raise CheckFailed(item, f"malformed {what}", f"{HASH_SIZE} bytes", n)


def _check_proof(item: str, proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        _check_hash(item, f"proof element {i}", p)


def _narrow(fn: int, sn: int) -> tuple[int, int]:
    """RFC 9162 §2.1.3.2 step 3 / §2.1.4.2: shift both right until ``fn``'s lowest bit is set or it is 0."""
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def root_from_inclusion(item: str, lh: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root implied by an inclusion proof (raises on a malformed proof)."""
    if size < 1 or not 0 <= index < size:
        raise CheckFailed(item, "leaf index out of range", f"0 <= index < {size}", index)
    _check_hash(item, "leaf hash", lh)
    _check_proof(item, proof)
    fn, sn, r = index, size - 1, bytes(lh)
    for p in proof:
        if sn == 0:
            raise CheckFailed(item, "inclusion proof length: too many elements", None, len(proof))
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _narrow(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise CheckFailed(item, "inclusion proof length: too few elements", None, len(proof))
    return r


def verify_inclusion(item: str, lh: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    _check_hash(item, "root", root)
    computed = root_from_inclusion(item, lh, index, size, proof)
    if computed != root:
        raise CheckFailed(item, f"inclusion of leaf {index} in tree of size {size}: root",
                          _b64(root), _b64(computed))


def verify_consistency(item: str, size1: int, size2: int, proof: Sequence[bytes], root1: bytes,
                       root2: bytes) -> None:
    """RFC 9162 §2.1.4.2: (size1, root1) is a prefix of (size2, root2).

    Between two equal sizes the proof must be empty and the roots byte-identical; their length is
    not checked there (nothing is hashed), as in the public transparency-dev vectors.
    """
    if size1 < 1:
        raise CheckFailed(item, "consistency proof from an empty tree is meaningless", "size1 >= 1", size1)
    if size2 < size1:
        raise CheckFailed(item, "consistency sizes", f"size2 >= size1 ({size1})", size2)
    if size1 == size2:
        if proof:
            raise CheckFailed(item, "consistency proof between equal sizes must be empty", 0, len(proof))
        if bytes(root1) != bytes(root2):
            raise CheckFailed(item, f"roots of equal size {size1}", _b64(root1), _b64(root2))
        return
    _check_hash(item, "old root", root1)
    _check_hash(item, "new root", root2)
    _check_proof(item, proof)
    path = [bytes(p) for p in proof]
    if size1 & (size1 - 1) == 0:  # exact power of two: the old root is itself a proof node
        path.insert(0, bytes(root1))
    if not path:
        raise CheckFailed(item, "consistency proof length: empty", ">= 1 element", 0)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise CheckFailed(item, "consistency proof length: too many elements", None, len(proof))
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                fn, sn = _narrow(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise CheckFailed(item, "consistency proof length: too few elements", None, len(proof))
    if fr != root1:
        raise CheckFailed(item, f"consistency {size1}->{size2}: old root", _b64(root1), _b64(fr))
    if sr != root2:
        raise CheckFailed(item, f"consistency {size1}->{size2}: new root", _b64(root2), _b64(sr))


# ============================================================== C2SP signed-note and checkpoint

SIG_PREFIX = "\u2014 "  # "— " (EM DASH, space)
ALG_ED25519 = 0x01
_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public: bytes

    @property
    def text(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([ALG_ED25519]) + self.public)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        return ed25519_verify(self.public, message, signature)


def note_key_id(name: str, public: bytes) -> bytes:
    """C2SP signed-note key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


def check_key_name(name: str, item: str = "key name") -> None:
    """C2SP key names: non-empty, printable, no whitespace (of any script) and no ``+``."""
    if not name or "+" in name or any(c.isspace() for c in name) or not name.isprintable():
        raise CheckFailed(item, "malformed key name", "non-empty, printable, without '+' or spaces", repr(name))


def parse_verifier_key(text: str, item: str = "verifier key") -> VerifierKey:
    """``<name>+<8 hex digits key id>+<base64(0x01 || 32-byte Ed25519 public key)>``."""
    parts = text.strip().split("+", 2)  # the name has no "+"; base64 may
    if len(parts) != 3:
        raise CheckFailed(item, "malformed verifier key", "<name>+<keyid>+<key>", repr(text.strip()[:80]))
    name, kid_hex, key_b64 = parts
    check_key_name(name, item)
    if not _KEY_ID.fullmatch(kid_hex):
        raise CheckFailed(item, "verifier key id is not 8 hex digits", "8 hex digits", repr(kid_hex))
    raw = _b64d(key_b64, item, "verifier key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise CheckFailed(item, "verifier key is not an Ed25519 key", "0x01 + 32 bytes", raw[:1].hex())
    public = raw[1:]
    if note_key_id(name, public) != bytes.fromhex(kid_hex):
        raise CheckFailed(item, "verifier key id", note_key_id(name, public).hex(), kid_hex)
    return VerifierKey(name, bytes.fromhex(kid_hex), public)


def check_note_text(text: str, item: str) -> None:
    """A note's text: non-empty lines, each ending in a newline, no control character but newline."""
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise CheckFailed(item, "malformed note text", "non-empty lines ending in a newline", repr(text[:80]))
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise CheckFailed(item, "malformed note text", "no control characters", repr(text[:80]))


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    sig: bytes


def parse_note(text: str, item: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text (ending in newline) and its signature lines (nothing verified)."""
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise CheckFailed(item, "signed note contains a control character", "none but newline",
                          repr(next(c for c in text if ord(c) < 0x20 and c != "\n")))
    sep = text.rfind("\n\n")
    if sep < 0 or not text.endswith("\n"):
        raise CheckFailed(item, "signed note must be text, a blank line and signature lines")
    body, sig_block = text[: sep + 1], text[sep + 2:]
    check_note_text(body, item)
    sigs = []
    for line in sig_block[:-1].split("\n") if sig_block else []:
        if not line.startswith(SIG_PREFIX):
            raise CheckFailed(item, "signature line must start with an em dash", SIG_PREFIX, repr(line[:8]))
        parts = line[len(SIG_PREFIX):].split(" ")
        if len(parts) != 2:
            raise CheckFailed(item, "malformed signature line", "— <name> <base64>", repr(line[:80]))
        check_key_name(parts[0], item)
        raw = _b64d(parts[1], item, "signature")
        if len(raw) < 5:
            raise CheckFailed(item, "signature too short", ">= 5 bytes", len(raw))
        sigs.append(NoteSignature(parts[0], raw[:4], raw[4:]))
    if not sigs:
        raise CheckFailed(item, "signed note has no signatures", ">= 1", 0)
    return body, sigs


def verify_note_keys(text: str, keys: Iterable[VerifierKey], item: str) -> tuple[str, list[VerifierKey]]:
    """The note text and every known key that signed it. Lines by unknown keys are ignored; a line by
    a known key that does not verify is a failure; at least one known key must have signed."""
    body, sigs = parse_note(text, item)
    known = {(k.name, k.key_id): k for k in keys}
    good: list[VerifierKey] = []
    for s in sigs:
        k = known.get((s.name, s.key_id))
        if k is None:
            continue
        if not k.verify(body.encode("utf-8"), s.sig):
            raise CheckFailed(item, f"Ed25519 signature by {s.name}+{s.key_id.hex()} does not verify",
                              "a valid signature over the note text", "invalid signature " + _b64(s.sig))
        good.append(k)
    if not good:
        raise CheckFailed(item, "no signature by a trusted key", " or ".join(
            k.text for k in known.values()) or "a trusted key", ", ".join(f"{s.name}+{s.key_id.hex()}" for s in sigs))
    return body, good


def verify_note(text: str, keys: Iterable[VerifierKey], item: str) -> tuple[str, VerifierKey]:
    """Return the note text and the first trusted key that signed it (see ``verify_note_keys``)."""
    body, good = verify_note_keys(text, keys, item)
    return body, good[0]


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def parse_checkpoint(body: str, item: str) -> Checkpoint:
    """C2SP tlog-checkpoint: origin, decimal size, base64 root, optional extension lines."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise CheckFailed(item, "malformed checkpoint: needs origin, size and root lines", None, repr(body[:80]))
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not origin:
        raise CheckFailed(item, "checkpoint origin is empty")
    size = parse_decimal(size_s, item, "checkpoint size")
    root = _b64d(root_s, item, "checkpoint root")
    if len(root) != HASH_SIZE:
        raise CheckFailed(item, "malformed checkpoint root", f"{HASH_SIZE} bytes", f"{len(root)} bytes")
    return Checkpoint(origin, size, root, tuple(lines[3:-1]))


# ============================================================== C2SP tlog-proof, consistency file

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
CONSISTENCY_HEADER = "liuhen.consistency@v1"


@dataclass(frozen=True)
class TLogProof:
    index: int
    hashes: list[bytes]
    checkpoint: str
    extra: bytes | None = None


def parse_tlog_proof(text: str, item: str) -> TLogProof:
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise CheckFailed(item, "malformed tlog-proof: needs a blank line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise CheckFailed(item, "tlog-proof header", TLOG_PROOF_HEADER, repr(lines[0][:60]))
    rest, extra = lines[1:], None
    if rest and rest[0].startswith("extra "):
        extra = _b64d(rest[0][6:], item, "extra")
        rest = rest[1:]
    if not rest or not rest[0].startswith("index "):
        raise CheckFailed(item, "tlog-proof index line missing", "index <decimal>", repr(rest[0][:60]) if rest else "")
    index = parse_decimal(rest[0][6:], item, "tlog-proof index")
    hashes = [_b64d(h, item, f"proof hash {i}") for i, h in enumerate(rest[1:])]
    return TLogProof(index, hashes, note, extra)


@dataclass(frozen=True)
class Consistency:
    old: int
    new: int
    hashes: tuple[bytes, ...]
    old_checkpoint: str


def parse_consistency(text: str, item: str) -> Consistency | None:
    """``liuhen.consistency@v1`` / ``old N`` / ``new M`` / hashes / blank line / old signed checkpoint.

    ``old none`` (nothing published before) yields None.
    """
    head, _, note = text.partition("\n\n")
    lines = head.split("\n")
    if lines[0] != CONSISTENCY_HEADER:
        raise CheckFailed(item, "consistency header", CONSISTENCY_HEADER, repr(lines[0][:60]))
    if len(lines) >= 2 and lines[1] == "old none":
        return None
    if len(lines) < 3 or not lines[1].startswith("old ") or not lines[2].startswith("new "):
        raise CheckFailed(item, "consistency file needs 'old N' and 'new M' lines")
    old = parse_decimal(lines[1][4:], item, "consistency old size")
    new = parse_decimal(lines[2][4:], item, "consistency new size")
    hashes = tuple(_b64d(h, item, f"consistency hash {i}") for i, h in enumerate(lines[3:]))
    return Consistency(old, new, hashes, note)


# ============================================================== BagIt (RFC 8493)


def _decode_path(p: str) -> str:
    return p.replace("%0A", "\n").replace("%0a", "\n").replace("%0D", "\r").replace("%0d", "\r") \
        .replace("%25", "%")


def read_manifest(bag: str, name: str, report: Report) -> dict[str, str]:
    """``{relative path: lowercase hex digest}`` of one manifest; bad lines are failures."""
    out: dict[str, str] = {}
    with open(os.path.join(bag, name), encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            parts = line.split(None, 1)
            if len(parts) != 2:
                report.fail(f"{name}:{n}", "malformed manifest line", "<digest> <path>", line)
                continue
            digest, path = parts[0].lower(), _decode_path(parts[1].lstrip("*").strip())
            norm = os.path.normpath(path)
            if os.path.isabs(path) or norm.startswith("..") or "\\" in path:
                report.fail(f"{name}:{n}", "manifest path escapes the bag", "a relative path", path)
                continue
            if path in out:
                report.fail(f"{name}:{n}", "path listed twice", None, path)
            out[path] = digest
    return out


def _algo_available(algo: str) -> bool:
    try:
        hashlib.new(algo)
        return True
    except (ValueError, TypeError):
        return False


def hash_file(path: str, algos: Sequence[str]) -> tuple[dict[str, str], int]:
    """Every digest of ``path`` in one read; returns ``({algo: hex}, size)``."""
    hs = [hashlib.new(a) for a in algos]
    size = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            size += n
            for h in hs:
                h.update(view[:n])
    return {a: h.hexdigest() for a, h in zip(algos, hs)}, size  # noqa: B905 (py3.9)


def _walk(bag: str, top: str) -> list[str]:
    out = []
    for root, dirs, files in os.walk(os.path.join(bag, top)):
        dirs.sort()
        for f in sorted(files):
            out.append(os.path.relpath(os.path.join(root, f), bag).replace(os.sep, "/"))
    return out


def _tag_files(bag: str) -> list[str]:
    out = []
    for root, dirs, files in os.walk(bag):
        rel_root = os.path.relpath(root, bag)
        if rel_root == ".":
            dirs[:] = sorted(d for d in dirs if d != "data")
        else:
            dirs.sort()
        for f in sorted(files):
            rel = os.path.normpath(os.path.join(rel_root, f)).replace(os.sep, "/")
            if rel_root == "." and f.startswith("tagmanifest-") and f.endswith(".txt"):
                continue
            out.append(rel)
    return out


def read_bag_info(bag: str) -> dict[str, list[str]]:
    info: dict[str, list[str]] = {}
    path = os.path.join(bag, "bag-info.txt")
    if not os.path.exists(path):
        return info
    last = None
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line[:1] in (" ", "\t") and last:
                info[last][-1] += " " + line.strip()
                continue
            if ":" in line:
                k, v = line.split(":", 1)
                last = k.strip()
                info.setdefault(last, []).append(v.strip())
    return info


def _manifest_algos(bag: str, prefix: str) -> list[str]:
    return sorted(f[len(prefix):-4] for f in os.listdir(bag) if f.startswith(prefix) and f.endswith(".txt"))


def _check_manifests(bag: str, report: Report, kind: str, files: list[str],
                     workers: int) -> dict[str, dict[str, str]]:
    """Check ``files`` against every ``<kind>-<alg>.txt``; return computed digests per file."""
    prefix = f"{kind}-"
    algos = _manifest_algos(bag, prefix)
    if "sha256" not in algos:
        report.fail(f"{kind}-sha256.txt", "required manifest is missing")
    usable = []
    for a in algos:
        if _algo_available(a):
            usable.append(a)
        else:
            report.warnings.append(f"{kind}-{a}.txt not checked: this Python's hashlib has no {a}")
    manifests = {a: read_manifest(bag, f"{kind}-{a}.txt", report) for a in usable}
    listed: set[str] = set()
    for m in manifests.values():
        listed.update(m)
    on_disk = set(files)
    for p in sorted(listed - on_disk):
        report.fail(p, f"listed in {kind} but missing from the bag")
    for a, m in manifests.items():
        for p in sorted(on_disk - set(m)):
            if kind == "manifest" or a == "sha256":
                report.fail(p, f"present in the bag but not listed in {kind}-{a}.txt")
    todo = sorted(on_disk & listed)

    def work(p: str) -> tuple[str, dict[str, str], int]:
        d, n = hash_file(os.path.join(bag, p), usable or ["sha256"])
        return p, d, n

    computed: dict[str, dict[str, str]] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as ex:
        for p, d, n in ex.map(work, todo):
            computed[p] = d
            computed[p]["_size"] = str(n)
            for a, m in manifests.items():
                if p in m:
                    report.count(f"{kind} {a} entries")
                    if m[p] != d[a]:
                        report.fail(p, f"{a} digest ({kind}-{a}.txt)", m[p], d[a])
    return computed


# ============================================================== the custody record


def _read(bag: str, rel: str, report: Report) -> str | None:
    path = os.path.join(bag, rel)
    if not os.path.isfile(path):
        report.fail(rel, "required file is missing")
        return None
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except UnicodeDecodeError as exc:
        report.fail(rel, "is not UTF-8 text", "UTF-8", f"invalid byte at offset {exc.start}")
        return None


def _guard(report: Report, fn: Any, *args: Any) -> Any:
    """``fn(*args)``, or None after recording its CheckFailed in ``report``."""
    try:
        return fn(*args)
    except CheckFailed as exc:
        report.fail(exc.item, exc.what, exc.expected, exc.computed)
        return None


def _holds(report: Report, fn: Any, *args: Any) -> bool:
    """Run a check that returns nothing; True when it held, else record the failure."""
    try:
        fn(*args)
        return True
    except CheckFailed as exc:
        report.fail(exc.item, exc.what, exc.expected, exc.computed)
        return False


MANIFEST_EVENT = "custody/export-manifest.json"
MANIFEST_PROOF = "custody/export-manifest.tlog-proof"
# tag files the export manifest event must commit to (besides every payload manifest present)
MANIFEST_REQUIRED = ("custody/events.jsonl", "custody/events-index.json", "custody/derivations.json",
                     "statement.json", "manifest-sha256.txt")


def _instant(v: Any) -> Any:
    """An ISO 8601 time as a UTC instant at second precision (other values unchanged), for comparison."""
    if not isinstance(v, str) or not v.strip():
        return None
    s = re.sub(r"\.\d+", "", v.strip())
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        return v
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)  # noqa: UP017 (datetime.UTC needs Python 3.11)
    return d.astimezone(timezone.utc)  # noqa: UP017


def _obj(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _tools(data: dict[str, Any]) -> Any:
    return data.get("tool") or data.get("tools") or data.get("versions")


def _load_keys(bag: str, report: Report, trusted: list[str] | None) -> list[VerifierKey]:
    key_text = _read(bag, "custody/log-key.pub", report)
    bag_keys = []
    for i, line in enumerate((key_text or "").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            k = _guard(report, parse_verifier_key, line, f"custody/log-key.pub:{i}")
            if k:
                bag_keys.append(k)
    if trusted:
        keys = [k for k in (_guard(report, parse_verifier_key, t, "--trusted-key") for t in trusted) if k]
        report.info["key_source"] = "trusted keys given on the command line"
    else:
        keys = bag_keys
        report.info["key_source"] = "custody/log-key.pub (compare it with the agency's published key)"
        report.warnings.append("the log key was taken from the bag itself; pin the agency's published key "
                               "with --trusted-key to rule out a re-signed bag")
    report.info["log_keys"] = [k.text for k in keys]
    return keys


def _prove(report: Report, item: str, pitem: str, proof_text: str, line: bytes, idx: int | None,
           cp_text: str | None, cp: Checkpoint | None) -> int | None:
    """Check one tlog-proof of leaf ``line`` (at ``idx``, or the proof's own index when None)."""
    tp = _guard(report, parse_tlog_proof, proof_text, pitem)
    if tp is None or cp is None:
        return None
    if idx is not None and tp.index != idx:
        report.fail(pitem, "proof is for another log index", idx, tp.index)
        return None
    if tp.checkpoint != cp_text:
        report.fail(pitem, "proof's checkpoint differs from custody/checkpoint", "the bag's checkpoint",
                    "another checkpoint")
        return None
    if not _holds(report, verify_inclusion, f"{item} (log index {tp.index})", leaf_hash(line), tp.index, cp.size,
                  list(tp.hashes), cp.root):
        return None
    return tp.index


def _check_events(bag: str, report: Report, cp_text: str | None,
                  cp: Checkpoint | None) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
    """Every line of events.jsonl proven at its index; returns ``({idx: proven event}, index entries)``."""
    ev_text = _read(bag, "custody/events.jsonl", report)
    idx_text = _read(bag, "custody/events-index.json", report)
    lines = (ev_text or "").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    index: list[dict[str, Any]] = []
    if idx_text is not None:
        try:
            index = json.loads(idx_text)["events"]
            if not isinstance(index, list) or not all(isinstance(m, dict) for m in index):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            report.fail("custody/events-index.json", "not valid JSON with an 'events' list")
            index = []
    if len(index) != len(lines):
        report.fail("custody/events-index.json", "one index entry per event line", len(lines), len(index))
    proof_dir = os.path.join(bag, "custody", "proofs")
    proof_files = set(os.listdir(proof_dir)) if os.path.isdir(proof_dir) else set()
    used = set()
    proven: dict[int, dict[str, Any]] = {}
    for n, (line, meta) in enumerate(zip(lines, index), 1):  # noqa: B905
        item = f"custody/events.jsonl line {n}"
        try:
            ev = json.loads(line)
            idx = meta["idx"]
            if not isinstance(ev, dict) or not isinstance(idx, int) or isinstance(idx, bool):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            report.fail(item, "event line or its index entry is not valid JSON")
            continue
        for k in ("type", "time", "actor", "subject"):
            if k in meta and meta[k] != ev.get(k):
                report.fail(f"custody/events-index.json entry {n}", f"{k} vs the event line", ev.get(k), meta[k])
        pname = f"{idx}.tlog-proof"
        pitem = f"custody/proofs/{pname}"
        if pname not in proof_files:
            report.fail(pitem, f"proof for event at log index {idx} is missing")
            continue
        used.add(pname)
        text = _read(bag, pitem, report)
        if text is None:
            continue
        if _prove(report, item, pitem, text, line.encode("utf-8"), idx, cp_text, cp) is None:
            continue
        report.count("event inclusion proofs")
        proven[idx] = ev
    for extra in sorted(proof_files - used):
        report.fail(f"custody/proofs/{extra}", "proof without an event line in custody/events.jsonl")
    return proven, index


def _safe_rel(rel: Any) -> bool:
    return (isinstance(rel, str) and bool(rel) and not os.path.isabs(rel) and "\\" not in rel
            and ".." not in rel.split("/"))


def _check_manifest_event(bag: str, report: Report, cp_text: str | None, cp: Checkpoint | None,
                          index: list[dict[str, Any]], info: dict[str, list[str]]) -> dict[str, Any] | None:
    """The export's ``manifest`` event, proven in the log, binds the set of events, the payload
    manifests, the statement and derivation records, Payload-Oxum and the previous checkpoint.

    Returns its data when it is proven (its commitments are checked here), else None.
    """
    text = _read(bag, MANIFEST_EVENT, report)
    ptext = _read(bag, MANIFEST_PROOF, report)
    if text is None or ptext is None:
        return None
    if not text.endswith("\n") or "\n" in text[:-1]:
        report.fail(MANIFEST_EVENT, "must hold exactly one JSON line (the log leaf)")
        return None
    line = text[:-1]
    try:
        ev = json.loads(line)
        data = ev["data"]
        if not isinstance(data, dict) or not isinstance(ev.get("subject"), dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        report.fail(MANIFEST_EVENT, "not a JSON audit event")
        return None
    if ev.get("type") != "export" or data.get("phase") != "manifest":
        report.fail(MANIFEST_EVENT, "not an export manifest event", "type export, phase manifest",
                    f"type {ev.get('type')}, phase {data.get('phase')}")
        return None
    idx = _prove(report, MANIFEST_EVENT, MANIFEST_PROOF, ptext, line.encode("utf-8"), None, cp_text, cp)
    if idx is None:
        return None
    report.count("export manifest event proofs")
    where = f"the export manifest event (log index {idx})"
    report.info["manifest_event"] = {"log_index": idx, "time": ev.get("time"), "actor": ev.get("actor")}

    def bag_info(key: str) -> str | None:
        v = info.get(key)
        return v[0] if v else None

    case = ev["subject"].get("case")
    for key, want in (("Liuhen-Case-Number", case), ("External-Identifier", case), ("Liuhen-Exporter", ev.get("actor")),
                      ("Payload-Oxum", data.get("payload_oxum")), ("Liuhen-Manifest-Event-Index", str(idx)),
                      ("Source-Organization", data.get("agency")), ("Liuhen-Agency", data.get("agency")),
                      ("Liuhen-Export-Time", data.get("export_time")),
                      ("Liuhen-Request-Id", "" if data.get("request_id") is None else str(data.get("request_id")))):
        if bag_info(key) != want:
            report.fail("bag-info.txt", f"{key} vs {where}", want, bag_info(key))
    try:
        selection = json.loads(bag_info("Liuhen-Selection") or "")
    except ValueError:
        selection = bag_info("Liuhen-Selection")
    if selection != data.get("selection"):
        report.fail("bag-info.txt", f"Liuhen-Selection vs {where}", json.dumps(data.get("selection")),
                    bag_info("Liuhen-Selection"))
    files = data.get("files")
    if not isinstance(files, dict):
        report.fail(MANIFEST_EVENT, "no 'files' digests")
        files = {}
    for rel in [*MANIFEST_REQUIRED, *(f for f in sorted(os.listdir(bag)) if f.startswith("manifest-"))]:
        if rel not in files:
            report.fail(rel, f"not bound by {where}", "a SHA-256 in the event", None)
    for rel, want in sorted(files.items()):
        if not _safe_rel(rel):
            report.fail(MANIFEST_EVENT, "file path escapes the bag", "a relative path", rel)
            continue
        path = os.path.join(bag, rel)
        if not os.path.isfile(path):
            report.fail(rel, f"named by {where} but missing from the bag", want, None)
            continue
        got = hash_file(path, ["sha256"])[0]["sha256"]
        if got != want:
            report.fail(rel, f"SHA-256 vs {where}", want, got)
        else:
            report.count("files bound by the export manifest event")
    want_idx = data.get("event_indices")
    got_idx = [m.get("idx") for m in index]
    if want_idx != got_idx:
        want_set = set(want_idx) if isinstance(want_idx, list) else set()
        missing = sorted(i for i in want_set - set(got_idx) if isinstance(i, int))
        added = sorted(i for i in set(got_idx) - want_set if isinstance(i, int))
        report.fail("custody/events-index.json", f"exported log indices vs {where}",
                    f"{len(want_idx) if isinstance(want_idx, list) else '?'} events",
                    f"{len(got_idx)} events; missing log indices {missing[:50]}; not exported {added[:50]}")
    else:
        report.count("event sets matched to the export manifest event")
    return data


def _check_consistency(bag: str, report: Report, cp: Checkpoint | None, keys: list[VerifierKey],
                       manifest: dict[str, Any] | None) -> None:
    """The previously published checkpoint is a prefix of this one; required when the manifest event
    says a checkpoint had been published before the export."""
    cons_text = _read(bag, "custody/consistency", report)
    if cons_text is None or cp is None:
        return
    expected = (manifest or {}).get("previous_checkpoint")
    if expected is not None and not isinstance(expected, dict):
        report.fail(MANIFEST_EVENT, "previous_checkpoint is malformed", "an object or null", expected)
        expected = None
    cons = _guard(report, parse_consistency, cons_text, "custody/consistency")
    if cons is None:
        if cons_text.split("\n")[:2] == [CONSISTENCY_HEADER, "old none"]:
            if expected is not None:
                report.fail("custody/consistency", "consistency proof is missing, but a checkpoint had been "
                            "published before this export (export manifest event)",
                            f"old {expected.get('size')}", "old none")
            else:
                report.warnings.append("no earlier published checkpoint: consistency not applicable")
        return
    signed = _guard(report, verify_note, cons.old_checkpoint, keys, "custody/consistency (old checkpoint)")
    old = _guard(report, parse_checkpoint, signed[0], "custody/consistency (old checkpoint)") if signed else None
    if old is None:
        return
    if old.origin != cp.origin:
        report.fail("custody/consistency", "old checkpoint origin", cp.origin, old.origin)
    elif cons.old != old.size or cons.new != cp.size:
        report.fail("custody/consistency", "proof sizes vs checkpoints", f"{old.size}->{cp.size}",
                    f"{cons.old}->{cons.new}")
    elif expected is not None and (old.size != expected.get("size") or _b64(old.root) != expected.get("root")):
        report.fail("custody/consistency", "previous checkpoint vs the export manifest event",
                    f"size {expected.get('size')} root {expected.get('root')}",
                    f"size {old.size} root {_b64(old.root)}")
    elif _holds(report, verify_consistency, "custody/consistency", old.size, cp.size, list(cons.hashes), old.root,
                cp.root):
        report.count("consistency proofs")
        report.info["previous_checkpoint"] = {"size": old.size, "root": _b64(old.root)}


def _check_derived(bag: str, report: Report, payload: dict[str, dict[str, str]],
                   proven: dict[int, dict[str, Any]]) -> None:
    """Each derived file has a record in derivations.json that equals its proven derivation event."""
    der_text = _read(bag, "custody/derivations.json", report)
    if der_text is None:
        return
    try:
        recs = json.loads(der_text)["derived"]
        if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        report.fail("custody/derivations.json", "not valid JSON with a 'derived' list")
        recs = []
    originals = {p: d["sha256"] for p, d in payload.items() if p.startswith("data/originals/")}
    derived_paths = {p for p in payload if p.startswith("data/derived/")}
    for r in recs:
        p = str(r.get("path", "?"))
        if p not in payload:
            report.fail(p, "derivation record names a file not in the payload")
            continue
        derived_paths.discard(p)
        if payload[p]["sha256"] != r.get("sha256"):
            report.fail(p, "sha256 vs derivation record", r.get("sha256"), payload[p]["sha256"])
            continue
        if r.get("original_sha256") not in originals.values():
            report.fail(
                p, "derived from an original that is not in the bag", r.get("original_sha256"),
                f"none of the {len(originals)} originals in the bag",
            )
            continue
        if originals.get(str(r.get("original_path"))) != r.get("original_sha256"):
            report.fail(p, "original_path vs original_sha256 in derivations.json", r.get("original_sha256"),
                        originals.get(str(r.get("original_path"))))
            continue
        ei = r.get("event_idx")
        ev = proven.get(ei) if isinstance(ei, int) else None
        if ev is None or ev.get("type") != "derivation":
            report.fail(p, "no proven derivation event at the record's event_idx", "a derivation event", ei)
            continue
        data = _obj(ev.get("data"))
        dd = _obj(data.get("derivative"))
        where = f"vs its derivation event (log index {ei})"
        ok = True
        ev_orig = (ev.get("subject") or {}).get("sha256")
        for what, rec_v, ev_v in (("sha256", r.get("sha256"), dd.get("sha256")),
                                  ("original_sha256", r.get("original_sha256"), ev_orig),
                                  ("kind", r.get("kind"), dd.get("kind", r.get("kind"))),
                                  ("argv", r.get("argv"), data.get("argv")),
                                  ("tool_versions", r.get("tool_versions"), _tools(data)),
                                  ("recipe", r.get("recipe", data), data)):
            if rec_v != ev_v:
                report.fail(p, f"{what} in custody/derivations.json {where}", json.dumps(ev_v, ensure_ascii=False),
                            json.dumps(rec_v, ensure_ascii=False))
                ok = False
        if ok:
            report.count("derivation records matched to proven derivation events")
    for p in sorted(derived_paths):
        report.fail(p, "derived file without a derivation record in custody/derivations.json")


def _check_statement(bag: str, report: Report, payload: dict[str, dict[str, str]],
                     proven: dict[int, dict[str, Any]]) -> None:
    """statement.json describes every original, and each item's producer, production time, size and
    digests are those recorded in its proven ingestion event."""
    text = _read(bag, "statement.json", report)
    if text is None:
        return
    try:
        items = json.loads(text)["items"]
        if not isinstance(items, list) or not all(isinstance(it, dict) for it in items):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        report.fail("statement.json", "not valid JSON with an 'items' list")
        return
    described = set()
    for n, it in enumerate(items, 1):
        item = f"statement.json item {n}"
        path, sha = it.get("path"), it.get("sha256")
        if not isinstance(path, str) or not path.startswith("data/originals/") or path not in payload:
            report.fail(item, "path is not an original in the payload", None, path)
            continue
        if payload[path]["sha256"] != sha:
            report.fail(item, f"sha256 vs {path}", sha, payload[path]["sha256"])
            continue
        described.add(path)
        li = (it.get("ingestion") or {}).get("log_index")
        ev = proven.get(li) if isinstance(li, int) else None
        if ev is None or ev.get("type") != "ingestion" or (ev.get("subject") or {}).get("sha256") != sha:
            report.fail(item, "ingestion.log_index is not a proven ingestion event of this file",
                        "an ingestion event naming " + str(sha), li)
            continue
        facts = _obj(ev.get("data"))
        prod = _obj(it.get("producer"))
        ptime = _obj(it.get("production_time"))
        checks = [("producer.officer_no", prod.get("officer_no"), facts.get("officer_no")),
                  ("producer.device_serial", prod.get("device_serial"), facts.get("device_serial")),
                  ("production_time.start", _instant(ptime.get("start")), _instant(facts.get("recorded_at"))),
                  ("ingestion.ingested_at", _instant((it.get("ingestion") or {}).get("ingested_at")),
                   _instant(ev.get("time")))]
        if facts.get("unit_code") is not None:
            checks.append(("producer.unit_code", prod.get("unit_code"), facts.get("unit_code")))
        if "size" in facts:
            checks.append(("size", it.get("size"), facts.get("size")))
        if facts.get("sm3"):
            checks.append(("sm3", str(it.get("sm3")).lower(), str(facts["sm3"]).lower()))
        ok = True
        for what, stmt_v, ev_v in checks:
            if stmt_v != ev_v:
                report.fail(item, f"{what} vs its ingestion event (log index {li})", ev_v, stmt_v)
                ok = False
        method = _obj(it.get("production_method"))
        for lang in ("zh", "en"):
            m = str(method.get(lang, ""))
            for want in (sha, facts.get("device_serial")):
                if want and str(want) not in m:
                    report.fail(item, f"production_method.{lang} does not name {want} (ingestion event {li})",
                                want, m[:80])
                    ok = False
        if ok:
            report.count("statement items matched to proven ingestion events")
    for p in sorted(set(originals_of(payload)) - described):
        report.fail(p, "original not described in statement.json")


def originals_of(payload: dict[str, dict[str, str]]) -> list[str]:
    return [p for p in payload if p.startswith("data/originals/")]


def _check_custody(bag: str, report: Report, payload: dict[str, dict[str, str]],
                   trusted: list[str] | None, info: dict[str, list[str]]) -> None:
    keys = _load_keys(bag, report, trusted)
    # -- checkpoint
    cp_text = _read(bag, "custody/checkpoint", report)
    cp = None
    if cp_text is not None:
        signed = _guard(report, verify_note, cp_text, keys, "custody/checkpoint")
        if signed:
            report.count("checkpoint signatures")
            cp = _guard(report, parse_checkpoint, signed[0], "custody/checkpoint")
    if cp:
        report.info["checkpoint"] = {"origin": cp.origin, "size": cp.size, "root": _b64(cp.root)}
        for key, want in (("Liuhen-Log-Origin", cp.origin), ("Liuhen-Checkpoint-Size", str(cp.size)),
                          ("Liuhen-Checkpoint-Root", _b64(cp.root))):
            got = info[key][0] if info.get(key) else None
            if got != want:
                report.fail("bag-info.txt", f"{key} vs custody/checkpoint", want, got)
    proven, index = _check_events(bag, report, cp_text, cp)
    manifest = _check_manifest_event(bag, report, cp_text, cp, index, info)
    _check_consistency(bag, report, cp, keys, manifest)
    # -- originals are what was ingested
    ingested = {str((ev.get("subject") or {}).get("sha256")).lower() for ev in proven.values()
                if ev.get("type") == "ingestion" and isinstance(ev.get("subject"), dict)}
    for p in sorted(originals_of(payload)):
        if payload[p]["sha256"] in ingested:
            report.count("originals matched to a proven ingestion event")
        else:
            report.fail(p, "no proven ingestion event in custody/events.jsonl names this file's SHA-256",
                        "an ingestion event for this digest", payload[p]["sha256"])
    _check_derived(bag, report, payload, proven)
    _check_statement(bag, report, payload, proven)


def verify_bag(path: str, *, trusted_keys: list[str] | None = None, workers: int = 2) -> Report:
    """Check everything the bag claims; never raises for a bad bag — the Report names each failure.

    A malformed input that no check anticipated is still a named failure (never a traceback without
    a verdict): the exception is recorded and the bag is INVALID.
    """
    report = Report(bag=os.path.abspath(str(path)))
    try:
        _verify_bag(report.bag, report, trusted_keys, workers)
    except Exception as exc:  # any surprise in a hostile bag is a named failure, not a crash
        report.fail(report.bag, f"could not be checked: {type(exc).__name__}: {exc}")
    report.ok = not report.failures
    return report


def _verify_bag(bag: str, report: Report, trusted_keys: list[str] | None, workers: int) -> None:
    if not os.path.isdir(bag):
        report.fail(bag, "not a directory")
        return
    bt = _read(bag, "bagit.txt", report)
    if bt is not None:
        if not bt.startswith("BagIt-Version: ") or "Tag-File-Character-Encoding: UTF-8" not in bt:
            report.fail("bagit.txt", "bag declaration", "BagIt-Version and Tag-File-Character-Encoding: UTF-8",
                        bt.strip().replace("\n", " | "))
        else:
            report.count("bag declaration")
    if not os.path.isdir(os.path.join(bag, "data")):
        report.fail("data/", "payload directory is missing")
    payload = _check_manifests(bag, report, "manifest", _walk(bag, "data"), workers)
    info = read_bag_info(bag)
    report.info["bag_info"] = {k: v[0] if len(v) == 1 else v for k, v in info.items()}
    oxum_v = info.get("Payload-Oxum")
    oxum = oxum_v[0] if oxum_v else None
    actual = f"{sum(int(d['_size']) for d in payload.values())}.{len(payload)}"
    if oxum is None:
        report.fail("bag-info.txt", "Payload-Oxum is missing", actual, None)
    elif oxum != actual:
        report.fail("bag-info.txt", "Payload-Oxum (octets.files)", oxum, actual)
    else:
        report.count("payload oxum")
    _check_manifests(bag, report, "tagmanifest", _tag_files(bag), workers)
    _check_custody(bag, report, payload, trusted_keys, info)
    report.info["payload_files"] = len(payload)
    report.info["payload_bytes"] = sum(int(d["_size"]) for d in payload.values())


def render(report: Report) -> str:
    bi = report.info.get("bag_info", {})
    out = [f"Liuhen evidence bag: {report.bag}"]
    for k in ("External-Identifier", "Source-Organization", "Liuhen-Export-Time", "Liuhen-Exporter"):
        if k in bi:
            out.append(f"  {k}: {bi[k]}")
    cp = report.info.get("checkpoint")
    if cp:
        out.append(f"  checkpoint: {cp['origin']} size {cp['size']} root {cp['root']}")
    out.append(f"  payload: {report.info.get('payload_files', 0)} files, {report.info.get('payload_bytes', 0)} bytes")
    for what, n in sorted(report.checked.items()):
        out.append(f"  checked {n:6d}  {what}")
    for w in report.warnings:
        out.append(f"  note: {w}")
    for f in report.failures:
        out.append(f.line())
    if report.ok:
        out.append(f"VERDICT: VALID — {report.items_checked} checks passed; every file matches its manifest, "
                   "every event is proven in the signed log.")
    else:
        out.append(f"VERDICT: INVALID — {len(report.failures)} check(s) failed (listed above).")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="verify.py", description="Verify a Liuhen evidence bag offline.")
    ap.add_argument("bag", help="the bag directory (the one holding bagit.txt)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--trusted-key", action="append", default=None, metavar="KEY",
                    help="the log's published verifier key (name+keyid+base64); repeatable")
    ap.add_argument("--workers", type=int, default=2, help="files hashed in parallel (default 2)")
    args = ap.parse_args(argv)
    report = verify_bag(args.bag, trusted_keys=args.trusted_key, workers=args.workers)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
