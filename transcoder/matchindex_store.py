"""The match index beside PostgreSQL: segments on disk (numpy ``.npy``, memory-mapped), refreshed from the catalog.

``fingerprints`` (migration 0400) stays the source of truth; the index is derived data that can be
rebuilt at any time (``rebuild``). Layout under the index directory::

    manifest.json            {"algo", "segments": [name, ...]}
    seg-000001/{file_ids,starts,hashes,have,buckets,postings,digests}.npy

``digests`` holds each original's ``fingerprint_sets.digest``. ``refresh`` compares them with the
catalog's and adds one segment with every original that is new or was fingerprinted again (order of
fingerprinting does not matter: it is a set difference, not a watermark). ``MatchIndex.search`` lets the
newest segment holding an original answer for it.
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from liuhen.transcoder.matchindex import IndexHit, Segment, build, lay_out, search

ARRAYS = ("file_ids", "starts", "hashes", "have", "buckets", "postings")
ALGO = "dct64-v1/mih-4x16"


class TxSource(Protocol):
    """What the index needs of the catalog: a transaction yielding a psycopg connection (dict rows)."""

    def tx(self) -> AbstractContextManager[Any]: ...


def save(seg: Segment, d: Path, digests: list[str] | None = None) -> None:
    """Write a segment's arrays into directory ``d`` (atomically: a temporary name, then renamed)."""
    tmp = d.with_name(d.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in ARRAYS:
        np.save(tmp / f"{name}.npy", np.asarray(getattr(seg, name)))
    np.save(tmp / "digests.npy", np.array(digests if digests is not None else [""] * len(seg.file_ids), dtype="S64"))
    os.replace(tmp, d)


def _populated(path: Path) -> np.ndarray:
    """A read-only view of an ``.npy`` file mapped with MAP_POPULATE: every page faulted in once, at open.

    The check step reads ~10 hashes at each of ~10^5 scattered positions per query; on a lazily mapped
    file each first touch is a page fault, which made p99 4-5x the in-memory figure.
    """
    with path.open("rb") as f:
        fmt = np.lib.format
        major, _ = fmt.read_magic(f)
        shape, fortran, dtype = (fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0)(f)
        offset = f.tell()
        flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
        mm = mmap.mmap(f.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
    n = int(np.prod(shape))
    arr = np.frombuffer(mm, dtype=dtype, count=n, offset=offset)
    return arr.reshape(shape, order="F" if fortran else "C")


def load(d: Path, *, mapped: bool = True, populate: bool = True) -> Segment:
    """A segment from ``d``: memory-mapped (hashes and mask populated up front unless told not to)."""
    arrs = {name: np.load(d / f"{name}.npy", mmap_mode="r" if mapped else None) for name in ARRAYS}
    if mapped and populate:
        for name in ("hashes", "have"):
            if arrs[name].size:
                arrs[name] = _populated(d / f"{name}.npy")
    # small arrays in memory: they are read on every probe
    for name in ("file_ids", "starts", "buckets"):
        arrs[name] = np.asarray(arrs[name])
    return Segment(**arrs)


@dataclass
class MatchIndex:
    """Segments, oldest first, and the fingerprint-set digest each indexed original was indexed with."""

    root: Path
    segments: list[tuple[str, Segment]] = field(default_factory=list)
    known: dict[int, str] = field(default_factory=dict)

    @classmethod
    def open(cls, root: Path, *, mapped: bool = True) -> MatchIndex:
        root = Path(root)
        man = root / "manifest.json"
        if not man.exists():
            return cls(root)
        meta = json.loads(man.read_text())
        if meta.get("algo") != ALGO:
            raise ValueError(f"match index at {root} is {meta.get('algo')!r}, this code reads {ALGO!r}; rebuild it")
        ix = cls(root)
        for n in meta["segments"]:
            ix._attach(n, mapped=mapped)
        return ix

    def _attach(self, name: str, *, mapped: bool = True) -> None:
        seg = load(self.root / name, mapped=mapped)
        digests = np.load(self.root / name / "digests.npy")
        self.segments.append((name, seg))
        self.known.update(zip(seg.file_ids.tolist(), (d.decode() for d in digests.tolist()), strict=True))

    def _write_manifest(self) -> None:
        meta = {"algo": ALGO, "segments": [n for n, _ in self.segments]}
        tmp = self.root / "manifest.json.tmp"
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, self.root / "manifest.json")

    def add(self, seg: Segment, digests: list[str]) -> None:
        """Persist ``seg`` as the newest segment (digests: one per original, in segment order)."""
        self.root.mkdir(parents=True, exist_ok=True)
        n = 1 + max((int(x.split("-")[1]) for x, _ in self.segments), default=0)
        name = f"seg-{n:06d}"
        save(seg, self.root / name, digests)
        self._attach(name)
        self._write_manifest()

    @property
    def seconds(self) -> int:
        return sum(s.seconds for _, s in self.segments)

    def search(
        self, seconds: np.ndarray, hashes: np.ndarray, *, max_distance: float, radius: int = 0, min_votes: int = 1
    ) -> list[IndexHit]:
        """Hits over all segments; an original in several segments is answered by the newest."""
        out: dict[int, IndexHit] = {}
        newer: set[int] = set()
        for _, seg in reversed(self.segments):
            for h in search(seg, seconds, hashes, max_distance=max_distance, radius=radius, min_votes=min_votes):
                if h.file_id not in newer:
                    out.setdefault(h.file_id, h)
            newer.update(int(x) for x in seg.file_ids.tolist())
        return list(out.values())


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """An exclusive lock on the index directory (one refresh or rebuild at a time across processes)."""
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _changed(index: MatchIndex, conn: Any) -> list[tuple[int, str]]:
    """(file_id, digest) of fingerprint sets the index lacks or holds with another digest."""
    rows = conn.execute("SELECT file_id, digest FROM fingerprint_sets ORDER BY file_id").fetchall()
    return [(int(r["file_id"]), r["digest"]) for r in rows if index.known.get(int(r["file_id"])) != r["digest"]]


def _fingerprints(conn: Any, ids: list[int]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(file_id, seconds, hashes) of the given originals, in the order of ``ids``."""
    got: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for lo in range(0, len(ids), 5000):
        part = ids[lo : lo + 5000]
        for r in conn.execute(
            "SELECT file_id, array_agg(t ORDER BY t) AS ts, array_agg(hash ORDER BY t) AS hs "
            "FROM fingerprints WHERE file_id = ANY(%s) GROUP BY file_id",
            (part,),
        ).fetchall():
            got[int(r["file_id"])] = (
                np.array(r["ts"], dtype=np.int64),
                np.array(r["hs"], dtype=np.int64).view(np.uint64),
            )
    for i in ids:
        ts, hs = got.get(i, (np.zeros(0, np.int64), np.zeros(0, np.uint64)))
        yield i, ts, hs


def refresh(index: MatchIndex, source: TxSource) -> int:
    """Add a segment with every original fingerprinted (again) since the index last saw it; return how many."""
    with source.tx() as conn:
        todo = _changed(index, conn)
        if not todo:
            return 0
        rows = list(_fingerprints(conn, [i for i, _ in todo]))
    index.add(build(*lay_out(rows)), [d for _, d in todo])
    return len(rows)


def rebuild(root: Path, source: TxSource) -> MatchIndex:
    """A fresh index from every fingerprint in the catalog (replaces whatever was at ``root``)."""
    root = Path(root)
    shutil.rmtree(root, ignore_errors=True)
    ix = MatchIndex(root)
    refresh(ix, source)
    return ix
