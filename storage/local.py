"""Local write-once store: the embedded default.

Layout under ``root`` (``Settings.store_dir``)::

    objects/<key>        the bytes; created once, mode 0444, never rewritten
    meta/<key>.jsonl     the object's retention journal: append-only JSON lines, hash-chained
    tmp/                 in-progress writes (same filesystem, so publishing is a link)

Write path: the bytes go to a temporary name in ``tmp/`` (a hard link of the source when it is a
file on the same filesystem, otherwise a copy made while hashing), are fsynced, verified against
the expected SHA-256, made read-only, and published with ``link(2)`` — which refuses to replace an
existing name — followed by an fsync of the directory. Under a per-object ``flock`` the journal
gets its ``create`` record *before* the object appears, so an object never exists without its
retention. A full disk (ENOSPC/EDQUOT) raises ``StoreFull`` with the temporary file removed and the
journal truncated back, so nothing half-written is left.

Staged writes (ingest's fast path): ``open_staging(path)`` returns a ``StagingWriter`` that hashes
every byte as it writes it — the store's own single pass — and ``seal()`` fsyncs the file, makes it
read-only and returns a ``StagedFile`` (path, SHA-256, size, inode, mtime, and a MAC under a key only
this store object knows). ``put(key, staged, sha256=expected)`` then links the file and compares
*expected* with the digest the store computed, without reading the bytes again; it still refuses a
mismatch. If the token is not this store's, or the linked inode is not the sealed one (other inode,
size or mtime, or writable again), ``put`` falls back to hashing the file like any ``Path``.

Retention state is derived from the journal: retain-until is the *maximum* of every record since
the last ``create``, so a record can only extend it; the legal hold is the last ``hold`` record.
The API refuses overwrite, delete of retained/held objects and shortening.

**Limit:** a local directory cannot stop root — or the files' owner, who can chmod — from deleting
or altering files. That is why production uses S3 Object Lock; ``storage check`` reports the local
store's raw-filesystem probes as ALLOWED (``backend_probes``) and this module logs a warning the
first time a store directory is opened (once per data dir: a marker file records it).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import hmac
import json
import logging
import os
import stat
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from liuhen.core.timefmt import as_utc, utcnow
from liuhen.storage import local_probes
from liuhen.storage.base import ObjectInfo
from liuhen.storage.errors import (
    DigestMismatch,
    JournalCorrupt,
    ObjectLocked,
    ObjectNotFound,
    RetentionViolation,
    StoreFull,
)
from liuhen.storage.probe import Canary, Probes
from liuhen.storage.util import (
    CHUNK,
    COMPLIANCE,
    HashingWriter,
    Sealed,
    check_key,
    check_range,
    check_sha256,
    default_until,
    require_future,
)

log = logging.getLogger("liuhen.storage.local")
_FULL = (errno.ENOSPC, errno.EDQUOT)
_warned: set[Path] = set()

ROOT_WARNING = (
    "local store at {root}: a local directory cannot stop root (or the owner of the files) from "
    "deleting or altering them; use S3 Object Lock (LIUHEN_STORE=s3) in production"
)

WARNED_MARKER = ".root-warning-shown"


def _warn_once(root: Path) -> None:
    """The root warning once per store directory (a marker file in it), not on every CLI call.

    ``liuhen storage check`` always repeats it (as a note of its local probes).
    """
    marker = root / WARNED_MARKER
    if root in _warned or marker.exists():
        return
    _warned.add(root)
    log.warning(ROOT_WARNING.format(root=root) + " (shown once for this data dir; see `liuhen storage check`)")
    with contextlib.suppress(OSError):
        marker.write_text(ROOT_WARNING.format(root=root) + "\n")


@dataclass
class _State:
    """What an object's journal says since its last ``create`` record."""

    sha256: str | None = None
    size: int | None = None
    version: str | None = None
    created_at: datetime | None = None
    retain_until: datetime | None = None
    legal_hold: bool = False
    records: list[dict[str, Any]] = field(default_factory=list)


def _parse(raw: bytes, path: Path) -> tuple[_State, str]:
    """Parse a journal; returns the state and the chain hash of the last complete line."""
    st = _State()
    prev = ""
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a torn tail from a crash mid-append; the next append starts a fresh line
        if rec.get("prev", "") != prev:
            raise JournalCorrupt(f"{path}: hash chain broken at {line[:80]!r}")
        prev = hashlib.sha256(line).hexdigest()
        op = rec.get("op")
        if op == "create":
            st = _State(
                sha256=rec["sha256"],
                size=int(rec["size"]),
                version=rec["version"],
                created_at=datetime.fromisoformat(rec["at"]),
                retain_until=datetime.fromisoformat(rec["retain_until"]),
            )
        elif op == "retain":
            until = datetime.fromisoformat(rec["retain_until"])
            if st.retain_until is None or until > st.retain_until:
                st.retain_until = until
        elif op == "hold":
            st.legal_hold = bool(rec["on"])
        st.records.append(rec)
    return st, prev


class _Journal:
    """An object's journal opened for appending, under an exclusive ``flock``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, 0o644)
        self.fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.raw = _read_all(self.fd)
        self.state, self.prev = _parse(self.raw, path)

    def append(self, rec: dict[str, Any]) -> None:
        rec = {"prev": self.prev, **rec, "at": rec.get("at") or utcnow().isoformat()}
        line = json.dumps(rec, sort_keys=True, separators=(",", ":")).encode()
        lead = b"\n" if self.raw and not self.raw.endswith(b"\n") else b""
        size_before = os.fstat(self.fd).st_size
        try:
            os.write(self.fd, lead + line + b"\n")
            os.fsync(self.fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, size_before)
            if exc.errno in _FULL:
                raise StoreFull(f"{self.path}: disk full while writing retention journal") from exc
            raise
        self.raw += lead + line + b"\n"
        self.prev = hashlib.sha256(line).hexdigest()
        self.state, _ = _parse(self.raw, self.path)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.fchmod(self.fd, 0o444)
        os.close(self.fd)  # closing drops the flock


def _write_all(fd: int, b: bytes) -> None:
    mv = memoryview(b)
    while mv:
        mv = mv[os.write(fd, mv) :]


def _read_all(fd: int) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        b = os.pread(fd, 1 << 16, pos)
        if not b:
            return bytes(out)
        out += b
        pos += len(b)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _makedirs_synced(path: Path) -> None:
    """Create missing directories, fsyncing each new directory's parent so the entry is durable."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=0o755)
        _fsync_dir(d.parent)


@dataclass(frozen=True)
class StagedFile(Sealed):
    """A staging file sealed by ``StagingWriter``: the SHA-256 is the one the store computed while writing."""

    dev: int
    ino: int
    mtime_ns: int
    mac: bytes = field(repr=False)


class StagingWriter(HashingWriter):
    """A new staging file written through the store, which hashes each byte as it is written.

    Use ``write(buf)`` for every chunk, then ``seal()`` (fsync, mode 0444) for the ``StagedFile`` to
    pass to ``put``; on failure ``abort()`` removes the file.
    """

    def __init__(self, store: LocalStore, path: Path) -> None:
        super().__init__(path)
        self._store = store

    def seal(self) -> StagedFile:
        st = self._finish()
        return self._store._issue(self.path, self._h.hexdigest(), self.size, st)


class LocalStore:
    """Write-once files under ``root``; see the module docstring for the guarantees and the limit."""

    name = "local"

    def __init__(self, root: Path, default_retention_days: int = 180, *, warn: bool = True) -> None:
        self.root = Path(root).expanduser().resolve()
        self.default_retention_days = default_retention_days
        self.objects = self.root / "objects"
        self.meta = self.root / "meta"
        self.tmp = self.root / "tmp"
        self.staging = self.root / "staging"  # default place for open_staging (= Settings.staging_dir)
        self._mac_key = os.urandom(32)  # authenticates the StagedFile tokens this object issues
        for d in (self.objects, self.meta, self.tmp):
            _makedirs_synced(d)
        if warn:
            _warn_once(self.root)

    # -- paths ---------------------------------------------------------------------------------
    def path_of(self, key: str) -> Path:
        return self.objects / check_key(key)

    def backend_probes(self, canary: Canary) -> Probes:
        """``storage check``: raw filesystem calls on this store's files (``storage.local_probes``)."""
        return local_probes.probes(self, canary, ROOT_WARNING.format(root=self.root))

    def journal_path(self, key: str) -> Path:
        return self.meta / (check_key(key) + ".jsonl")

    @contextlib.contextmanager
    def _journal(self, key: str) -> Iterator[_Journal]:
        jp = self.journal_path(key)
        _makedirs_synced(jp.parent)
        new = not jp.exists()
        j = _Journal(jp)
        try:
            if new:
                _fsync_dir(jp.parent)
            yield j
        finally:
            j.close()

    def _state(self, key: str) -> _State:
        jp = self.journal_path(key)
        try:
            raw = jp.read_bytes()
        except FileNotFoundError:
            return _State()
        return _parse(raw, jp)[0]

    # -- write ---------------------------------------------------------------------------------
    def open_staging(self, path: Path | None = None) -> StagingWriter:
        """Start a staging file (default: a new name in ``<root>/staging``) that the store hashes as it
        is written; ``put`` accepts its sealed ``StagedFile`` without re-reading it. ``path`` should be
        on the store's filesystem (elsewhere ``put`` copies it, verifying as it copies)."""
        if path is None:
            _makedirs_synced(self.staging)
            path = self.staging / f"{uuid.uuid4().hex}.part"
        return StagingWriter(self, Path(path))

    def _mac(self, path: Path, sha256: str, size: int, dev: int, ino: int, mtime_ns: int) -> bytes:
        msg = "\0".join((os.fsdecode(path), sha256, str(size), str(dev), str(ino), str(mtime_ns)))
        return hmac.new(self._mac_key, msg.encode("utf-8", "surrogateescape"), "sha256").digest()

    def _issue(self, path: Path, sha256: str, size: int, st: os.stat_result) -> StagedFile:
        mac = self._mac(path, sha256, size, st.st_dev, st.st_ino, st.st_mtime_ns)
        return StagedFile(path, sha256, size, st.st_dev, st.st_ino, st.st_mtime_ns, mac)

    def put(
        self,
        key: str,
        source: Path | BinaryIO | Sealed,
        *,
        sha256: str,
        size: int | None = None,
        retain_until: datetime | None = None,
    ) -> ObjectInfo:
        """Store ``source`` under ``key`` once, verified against ``sha256``.

        A ``Path`` on the store's filesystem is hard-linked (no copy): the source name becomes a
        second, read-only name of the stored inode and the caller should only unlink it afterwards.
        Its bytes are still hashed once (from the page cache when just written) before publishing.
        A ``StagedFile`` from this store's ``open_staging`` is linked the same way, and the digest the
        store computed while it was written is compared with ``sha256`` instead (no second read).
        """
        check_key(key)
        expected = check_sha256(sha256)
        until = require_future(key, retain_until or default_until(self.default_retention_days))
        final = self.path_of(key)
        if final.exists():
            return self._existing(key, expected, until)
        tmp = self.tmp / f"{uuid.uuid4().hex}.part"
        try:
            computed, n = self._stage(source, tmp)
            if computed != expected or (size is not None and size != n):
                raise DigestMismatch(
                    key,
                    expected if size is None else f"{expected} ({size} bytes)",
                    computed if size is None else f"{computed} ({n} bytes)",
                )
            _makedirs_synced(final.parent)
            with self._journal(key) as j:
                if final.exists():  # an identical put won the race while we were hashing
                    pass
                else:
                    j.append(
                        {
                            "op": "create",
                            "sha256": computed,
                            "size": n,
                            "version": uuid.uuid4().hex,
                            "mode": COMPLIANCE,
                            "retain_until": until.isoformat(),
                        }
                    )
                    os.link(tmp, final)  # never replaces an existing name
                    _fsync_dir(final.parent)
                    st = j.state
                    return self._info(key, st, n)
            return self._existing(key, expected, until)
        except OSError as exc:
            if exc.errno in _FULL:
                raise StoreFull(f"{key}: store at {self.root} is full; nothing was stored") from exc
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _stage(self, source: Path | BinaryIO | Sealed, tmp: Path) -> tuple[str, int]:
        """Put the bytes under ``tmp`` (link or copy), fsynced and read-only; return (sha256, size)."""
        if isinstance(source, Sealed):
            got = self._link_staged(source, tmp) if isinstance(source, StagedFile) else None
            if got is not None:
                return got
            source = source.path  # not sealed by this store, or changed since: verify by reading it
        if isinstance(source, (str, Path)):
            src = Path(source)
            try:
                os.link(os.path.realpath(src), tmp)  # link(2) would link a symlink itself
                return self._hash_linked(tmp)
            except OSError as exc:
                # another filesystem, or a file we may link but not chmod (not ours): copy instead
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EACCES, errno.EMLINK, errno.ENOTSUP):
                    raise
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            with open(src, "rb") as f:
                return self._copy(f, tmp)
        return self._copy(source, tmp)

    def _link_staged(self, sf: StagedFile, tmp: Path) -> tuple[str, int] | None:
        """Link a file this store sealed and return the digest it computed while writing it — or None
        when the token is not ours or the linked inode is not exactly the sealed, read-only file."""
        if not hmac.compare_digest(sf.mac, self._mac(sf.path, sf.sha256, sf.size, sf.dev, sf.ino, sf.mtime_ns)):
            return None
        try:
            os.link(sf.path, tmp)  # a symlink put in its place would be linked itself and fail the check
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EACCES, errno.EMLINK, errno.ENOTSUP):
                return None
            raise
        st = os.lstat(tmp)
        same = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) == (sf.dev, sf.ino, sf.size, sf.mtime_ns)
        if not same or not stat.S_ISREG(st.st_mode) or st.st_mode & 0o222:
            os.unlink(tmp)
            return None
        return sf.sha256, sf.size

    def _hash_linked(self, tmp: Path) -> tuple[str, int]:
        fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fchmod(fd, 0o444)  # the shared inode: the source name turns read-only as well
            h = hashlib.sha256()
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            n = 0
            with os.fdopen(os.dup(fd), "rb", buffering=0) as f:
                while k := f.readinto(buf):
                    h.update(view[:k])
                    n += k
            os.fsync(fd)
            return h.hexdigest(), n
        finally:
            os.close(fd)

    def _copy(self, src: BinaryIO, tmp: Path) -> tuple[str, int]:
        """Copy ``src`` to ``tmp`` while hashing; the write of one chunk overlaps the hash of the next
        (both release the GIL)."""
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            h = hashlib.sha256()
            n = 0
            with ThreadPoolExecutor(1, thread_name_prefix="liuhen-local-write") as pool:
                pending: Future[None] | None = None
                while True:
                    b = src.read(CHUNK)
                    if not b:
                        break
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(_write_all, fd, b)
                    h.update(b)
                    n += len(b)
                if pending is not None:
                    pending.result()
            os.fsync(fd)
            os.fchmod(fd, 0o444)
            return h.hexdigest(), n
        finally:
            os.close(fd)

    def _existing(self, key: str, expected: str, until: datetime) -> ObjectInfo:
        """An identical put of a stored object keeps the later retention date (``_retain`` decides under
        the object's flock: a concurrent identical put may have extended it past ``until`` meanwhile)."""
        info = self.head(key)
        if info.sha256 != expected:
            raise ObjectLocked(f"{key}: already holds sha256 {info.sha256}; refusing to overwrite with {expected}")
        if info.retain_until is not None and until <= info.retain_until:
            return info
        return self._retain(key, until, refuse_shorter=False)

    # -- read ----------------------------------------------------------------------------------
    def _info(self, key: str, st: _State, size: int) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=size,
            sha256=st.sha256 or "",
            version=st.version,
            retention_mode=COMPLIANCE if st.retain_until else None,
            retain_until=st.retain_until,
            legal_hold=st.legal_hold,
            created_at=st.created_at,
        )

    def head(self, key: str) -> ObjectInfo:
        try:
            size = os.stat(self.path_of(key)).st_size
        except FileNotFoundError:
            raise ObjectNotFound(f"{key}: no such object") from None
        st = self._state(key)
        if st.sha256 is None:
            raise JournalCorrupt(f"{key}: object present but its retention journal has no create record")
        return self._info(key, st, size)

    def exists(self, key: str) -> bool:
        return self.path_of(key).exists()

    def get(self, key: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self.path_of(key)
        try:
            f = open(path, "rb", buffering=0)  # closed by the generator
        except FileNotFoundError:
            raise ObjectNotFound(f"{key}: no such object") from None
        size = os.fstat(f.fileno()).st_size
        try:
            lo, hi = check_range(key, size, start, end)
        except Exception:
            f.close()
            raise
        return self._read(f, lo, hi)

    @staticmethod
    def _read(f: BinaryIO, lo: int, hi: int) -> Iterator[bytes]:
        with f:
            f.seek(lo)
            left = hi - lo
            while left > 0:
                b = f.read(min(CHUNK, left))
                if not b:
                    return
                left -= len(b)
                yield b

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self.objects / prefix.rsplit("/", 1)[0] if "/" in prefix else self.objects
        if not base.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for fn in sorted(filenames):
                key = os.path.relpath(os.path.join(dirpath, fn), self.objects).replace(os.sep, "/")
                if key.startswith(prefix):
                    with contextlib.suppress(ObjectNotFound):
                        yield self.head(key)

    # -- retention -----------------------------------------------------------------------------
    def extend_retention(self, key: str, until: datetime) -> ObjectInfo:
        return self._retain(key, until, refuse_shorter=True)

    def _retain(self, key: str, until: datetime, *, refuse_shorter: bool) -> ObjectInfo:
        """Retention becomes ``until`` if that is later, decided under the object's flock; an earlier
        ``until`` raises ``RetentionViolation`` when ``refuse_shorter``, else leaves it as it is."""
        until = require_future(key, until)
        if not self.exists(key):
            raise ObjectNotFound(f"{key}: no such object")
        with self._journal(key) as j:
            cur = j.state.retain_until
            if refuse_shorter and cur is not None and until < cur:
                raise RetentionViolation(
                    f"{key}: retention can only be extended ({until.isoformat()} < {cur.isoformat()})"
                )
            if cur is None or until > cur:
                j.append({"op": "retain", "retain_until": as_utc(until).isoformat()})
        return self.head(key)

    def set_legal_hold(self, key: str, on: bool) -> ObjectInfo:
        if not self.exists(key):
            raise ObjectNotFound(f"{key}: no such object")
        with self._journal(key) as j:
            if j.state.legal_hold != bool(on):
                j.append({"op": "hold", "on": bool(on)})
        return self.head(key)

    def dispose(self, key: str) -> None:
        final = self.path_of(key)
        if not final.exists():
            raise ObjectNotFound(f"{key}: no such object")
        with self._journal(key) as j:
            st = j.state
            if st.legal_hold:
                raise ObjectLocked(f"{key}: under legal hold")
            if st.retain_until is None or st.retain_until > utcnow():
                until = st.retain_until.isoformat() if st.retain_until else "(no retention record)"
                raise ObjectLocked(f"{key}: retained until {until}")
            j.append({"op": "dispose", "version": st.version})
            os.unlink(final)
            _fsync_dir(final.parent)
