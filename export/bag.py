"""Writing a BagIt bag (RFC 8493): payload streamed in while hashed, manifests, tag manifests.

Payload files are written once, each digest computed over the very bytes written (one read of the
source, no re-read). Tag files are hashed as they are written. ``finish`` writes ``bag-info.txt``
(with ``Payload-Oxum``), the payload manifests and, last, the tag manifests over every other file.
Paths use ``/`` and never contain CR, LF or ``%`` (we choose the names), so no percent-encoding is
needed; manifests use two spaces between digest and path, the layout ``sha256sum -c`` reads.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liuhen.core.text import describe
from liuhen.export.errors import UnsafeBagText
from liuhen.integrity import hashing

BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
_SAFE = re.compile(r"[^0-9A-Za-z._\-\u4e00-\u9fff]+")


def safe_name(name: str, limit: int = 80) -> str:
    """A portable file name: letters, digits, CJK, ``._-``; never empty, never hidden."""
    name = unicodedata.normalize("NFC", name or "").replace("/", "_").replace("\\", "_")
    name = _SAFE.sub("_", name).strip("._") or "file"
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: limit - len(ext) - 1] + dot + ext) if dot and len(ext) < 10 else name[:limit]
    return name


def new_hashers(algos: Iterable[str]) -> dict[str, Any]:
    """One hashlib object per digest (``integrity.hashing.new``: ``DigestUnavailable`` names a missing one)."""
    return {a: hashing.new(a) for a in algos}


@dataclass
class BagWriter:
    """Build a bag in ``root`` (which must not exist yet)."""

    root: Path
    algos: tuple[str, ...] = ("sha256",)
    payload: dict[str, dict[str, str]] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    payload_bytes: int = 0
    sealed: bool = False  # payload manifests written: no more payload files

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.root.mkdir(parents=True, exist_ok=False)
        (self.root / "data").mkdir()

    def _path(self, rel: str) -> Path:
        if rel.startswith("/") or ".." in rel.split("/") or any(c in rel for c in "\r\n%\\"):
            raise ValueError(f"unsafe bag path {rel!r}")
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def add_payload_stream(self, rel: str, chunks: Iterable[bytes]) -> dict[str, str]:
        """Write ``data/<rel>`` from ``chunks``, hashing while writing; return ``{algo: hex}``."""
        full = f"data/{rel}"
        if self.sealed:
            raise ValueError("payload manifests already written; no more payload files")
        if full in self.payload:
            raise ValueError(f"payload path {full} used twice")
        hs = new_hashers(self.algos)
        size = 0
        with open(self._path(full), "xb") as out:
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
                for h in hs.values():
                    h.update(chunk)
            out.flush()
            os.fsync(out.fileno())
        digests = {a: h.hexdigest() for a, h in hs.items()}
        self.payload[full] = digests
        self.payload_bytes += size
        return digests

    def add_payload_file(self, rel: str, source: Path, chunk: int = 4 << 20) -> dict[str, str]:
        def gen() -> Iterable[bytes]:
            with open(source, "rb") as fh:
                while True:
                    b = fh.read(chunk)
                    if not b:
                        return
                    yield b

        return self.add_payload_stream(rel, gen())

    def add_tag(self, rel: str, content: str | bytes) -> None:
        """Write a tag file (anything outside ``data/``)."""
        if rel.startswith("data/") or rel.startswith("tagmanifest-"):
            raise ValueError(f"{rel} is not a tag file path")
        data = content.encode("utf-8") if isinstance(content, str) else content
        with open(self._path(rel), "xb") as out:
            out.write(data)
        hs = new_hashers(self.algos)
        for h in hs.values():
            h.update(data)
        self.tags[rel] = {a: h.hexdigest() for a, h in hs.items()}

    @property
    def oxum(self) -> str:
        return f"{self.payload_bytes}.{len(self.payload)}"

    @staticmethod
    def _manifest(entries: dict[str, dict[str, str]], algo: str) -> str:
        return "".join(f"{d[algo]}  {p}\n" for p, d in sorted(entries.items()))

    def tag_sha256(self, rel: str) -> str:
        """SHA-256 of a tag file already written."""
        return self.tags[rel]["sha256"] if "sha256" in self.tags[rel] else \
            hashlib.sha256(self._path(rel).read_bytes()).hexdigest()

    def seal_payload(self) -> dict[str, str]:
        """Write ``manifest-<algo>.txt`` now (no payload may be added after); return their SHA-256 by name.

        Lets a caller commit to the payload manifests (e.g. in an audit event) before the bag is finished.
        """
        if not self.sealed:
            for a in self.algos:
                self.add_tag(f"manifest-{a}.txt", self._manifest(self.payload, a))
            self.sealed = True
        return {f"manifest-{a}.txt": self.tag_sha256(f"manifest-{a}.txt") for a in self.algos}

    def finish(self, bag_info: list[tuple[str, str]]) -> dict[str, str]:
        """Write bagit.txt, bag-info.txt, manifests and tag manifests; return tag-manifest digests.

        The returned ``{algo: hex}`` is the digest of ``tagmanifest-<algo>.txt`` — it commits to every
        tag file and, through the payload manifests, to every payload byte.
        """
        self.add_tag("bagit.txt", BAGIT_TXT)
        lines = []
        for k, v in [*bag_info, ("Payload-Oxum", self.oxum)]:
            why = describe(k, str(v))
            if why is not None:  # one line per field, the value as logged: never flatten, never inject
                raise UnsafeBagText(f"bag-info.txt: {why}")
            lines.append(f"{k}: {v}\n")
        self.add_tag("bag-info.txt", "".join(lines))
        self.seal_payload()
        out = {}
        for a in self.algos:
            text = self._manifest(self.tags, a).encode("utf-8")
            with open(self._path(f"tagmanifest-{a}.txt"), "xb") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            h = hashing.new(a)
            h.update(text)
            out[a] = h.hexdigest()
        return out
