"""S3 Object Lock store (AWS S3, Ceph RGW, MinIO, …) — the production backend.

- The bucket has versioning and Object Lock; every original is written with ``COMPLIANCE`` retention
  (``LIUHEN_S3_LOCK_MODE``) and its SHA-256 as ``x-amz-meta-sha256``.
- Every PUT carries ``x-amz-checksum-sha256`` (the ``ChecksumAlgorithm="SHA256"`` checksum, computed
  by us so the body is sent once): stores that implement flexible checksums verify it server-side.
  Independently, the bytes are hashed client-side while they are sent and compared with the expected
  digest *before* the object is committed — a single PUT is only sent after the hash matched; a
  multipart upload is aborted (nothing stored) when the full-object digest does not match. Ceph RGW
  16 (Debian 12) ignores the checksum header, so the client-side check is what holds there.
- Objects larger than ``multipart_threshold`` go up in ``part_size`` parts, each with its own SHA-256
  checksum, in parallel; the composite checksum S3 returns (``b64(sha256(part digests))-N``) is
  checked against ours when the server returns one.
- botocore's ``standard`` retry mode retries throttling, 5xx and connection errors with exponential
  backoff and jitter (``LIUHEN_S3_MAX_ATTEMPTS``); parts are retried from memory.
- Keys are content-addressed (``storage.base.key_for``): identical content is stored once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from liuhen.core.codec import b64
from liuhen.core.timefmt import as_utc, utcnow
from liuhen.storage import s3_probes
from liuhen.storage.base import ObjectInfo
from liuhen.storage.errors import (
    DigestMismatch,
    InvalidRange,
    NonConformantStore,
    ObjectLocked,
    ObjectNotFound,
    RetentionViolation,
    StorageError,
    StoreFull,
    StoreUnavailable,
)
from liuhen.storage.probe import Canary, Probes
from liuhen.storage.util import (
    check_key,
    check_sha256,
    default_until,
    require_future,
)

MiB = 1 << 20


class S3Settings(BaseSettings):
    """``LIUHEN_S3_*``; credentials come from the standard AWS chain unless given here."""

    model_config = SettingsConfigDict(env_prefix="LIUHEN_S3_", extra="ignore")

    endpoint_url: str | None = Field(default=None, description="Unset = AWS S3; else RGW/MinIO URL.")
    bucket: str = Field(default="liuhen", description="Bucket with Object Lock and versioning.")
    region: str = "us-east-1"
    lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    access_key_id: str | None = Field(default=None, description="Else AWS_ACCESS_KEY_ID / profile / role.")
    secret_access_key: str | None = None
    session_token: str | None = None
    addressing_style: Literal["auto", "path", "virtual"] = "path"
    multipart_threshold: int = Field(default=64 * MiB, ge=5 * MiB)
    part_size: int = Field(default=64 * MiB, ge=5 * MiB)
    max_concurrency: int = Field(default=4, ge=1, le=64)
    max_attempts: int = Field(default=8, ge=1, le=50)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 120.0
    create_bucket: bool = Field(default=False, description="Create the bucket (with Object Lock) if missing.")


def make_client(cfg: S3Settings) -> Any:
    session = boto3.session.Session(
        aws_access_key_id=cfg.access_key_id,
        aws_secret_access_key=cfg.secret_access_key,
        aws_session_token=cfg.session_token,
        region_name=cfg.region,
    )
    return session.client(
        "s3",
        endpoint_url=cfg.endpoint_url,
        config=Config(
            retries={"max_attempts": cfg.max_attempts, "mode": "standard"},
            connect_timeout=cfg.connect_timeout_s,
            read_timeout=cfg.read_timeout_s,
            max_pool_connections=max(10, cfg.max_concurrency * 2),
            s3={"addressing_style": cfg.addressing_style},
            # we send x-amz-checksum-sha256 ourselves; no default CRC trailers (RGW/MinIO-safe)
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def translate(exc: Exception, key: str, what: str) -> StorageError:
    """Map a boto error onto the storage errors callers handle."""
    if isinstance(exc, ClientError):
        code, status = _code(exc), _status(exc)
        msg = f"{key}: {what}: {code or status}: {exc.response.get('Error', {}).get('Message', '')}"
        if code in ("NoSuchKey", "NoSuchVersion", "NotFound", "404") or status == 404:
            return ObjectNotFound(msg)
        if code in ("BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest"):
            return StorageError(msg)
        if code in ("InvalidRange",) or status == 416:
            return InvalidRange(msg)
        if code in ("QuotaExceeded", "EntityTooLarge", "InsufficientCapacity"):
            return StoreFull(msg)
        if code in ("AccessDenied", "ObjectLocked", "InvalidBucketState") or status == 403:
            return ObjectLocked(msg)
        if code == "InvalidArgument" and "retention" in what:
            return RetentionViolation(msg)
        if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "RequestTimeout"):
            return StoreUnavailable(msg)
        return StorageError(msg)
    if isinstance(exc, (EndpointConnectionError, BotoCoreError, OSError)):
        return StoreUnavailable(f"{key}: {what}: {exc}")
    return StorageError(f"{key}: {what}: {exc}")


def create_bucket_if_missing(cfg: S3Settings, client: Any = None) -> None:
    """Create ``cfg.bucket`` with Object Lock (implies versioning) if absent; verify it if present."""
    s3 = client or make_client(cfg)
    try:
        s3.head_bucket(Bucket=cfg.bucket)
    except ClientError as exc:
        if _status(exc) != 404 and _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise translate(exc, cfg.bucket, "head bucket") from exc
        kw: dict[str, Any] = {"Bucket": cfg.bucket, "ObjectLockEnabledForBucket": True}
        if cfg.region and cfg.region != "us-east-1":
            kw["CreateBucketConfiguration"] = {"LocationConstraint": cfg.region}
        s3.create_bucket(**kw)
    s3.put_bucket_versioning(Bucket=cfg.bucket, VersioningConfiguration={"Status": "Enabled"})
    try:
        conf = s3.get_object_lock_configuration(Bucket=cfg.bucket)["ObjectLockConfiguration"]
    except ClientError:
        conf = {}
    if conf.get("ObjectLockEnabled") != "Enabled":
        try:
            s3.put_object_lock_configuration(
                Bucket=cfg.bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
            )
        except ClientError as exc:
            raise NonConformantStore(
                f"bucket {cfg.bucket} exists without Object Lock and it cannot be enabled: {exc}"
            ) from exc


class S3Store:
    """``ObjectStore`` on an S3 bucket with Object Lock; see the module docstring."""

    name = "s3"

    def backend_probes(self, canary: Canary) -> Probes:
        """``storage check``: raw S3 calls on the bucket, bypassing this class (``storage.s3_probes``)."""
        return s3_probes.probes(self.client, self.bucket, canary)

    def __init__(self, cfg: S3Settings | None = None, default_retention_days: int = 180) -> None:
        self.cfg = cfg or S3Settings()
        self.bucket = self.cfg.bucket
        self.default_retention_days = default_retention_days
        self.client = make_client(self.cfg)
        if self.cfg.create_bucket:
            create_bucket_if_missing(self.cfg, self.client)

    # -- write ---------------------------------------------------------------------------------
    def put(
        self,
        key: str,
        source: Path | BinaryIO,
        *,
        sha256: str,
        size: int | None = None,
        retain_until: datetime | None = None,
    ) -> ObjectInfo:
        check_key(key)
        expected = check_sha256(sha256)
        until = require_future(key, retain_until or default_until(self.default_retention_days))
        existing = self._head_or_none(key)
        if existing is not None:
            return self._existing(key, existing, expected, until)
        if isinstance(source, (str, Path)):
            with open(source, "rb") as f:
                self._upload(key, f, expected, size, until)
        else:
            self._upload(key, source, expected, size, until)
        info = self.head(key)
        if info.retain_until is None or info.retain_until < until or info.retention_mode is None:
            # some servers (moto) drop Object Lock headers on multipart uploads: set it explicitly
            info = self.extend_retention(key, until)
        return info

    def _existing(self, key: str, info: ObjectInfo, expected: str, until: datetime) -> ObjectInfo:
        if info.sha256 != expected:
            raise ObjectLocked(f"{key}: already holds sha256 {info.sha256}; refusing to overwrite with {expected}")
        if info.retain_until is None or until > info.retain_until:
            try:
                return self.extend_retention(key, until)
            except RetentionViolation:  # a concurrent identical put extended it further meanwhile
                now = self.head(key)
                if now.retain_until is None or now.retain_until < until:
                    raise
                return now
        return info

    def _lock_args(self, expected: str, until: datetime) -> dict[str, Any]:
        return {
            "Bucket": self.bucket,
            "ObjectLockMode": self.cfg.lock_mode,
            "ObjectLockRetainUntilDate": until,
            "Metadata": {"sha256": expected},
        }

    def _upload(self, key: str, src: BinaryIO, expected: str, size: int | None, until: datetime) -> None:
        first = _read_exact(src, self.cfg.multipart_threshold + 1)
        if len(first) <= self.cfg.multipart_threshold:
            digest = hashlib.sha256(first).digest()
            _verify(key, expected, digest.hex(), size, len(first))
            try:
                resp = self.client.put_object(
                    Key=key,
                    Body=first,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=b64(digest),
                    **self._lock_args(expected, until),
                )
            except (ClientError, BotoCoreError) as exc:
                raise translate(exc, key, "put") from exc
            got = resp.get("ChecksumSHA256")
            if got and got != b64(digest):
                raise StorageError(f"{key}: store reported checksum {got}, sent {b64(digest)}")
            return
        self._multipart(key, src, first, expected, size, until)

    def _multipart(
        self, key: str, src: BinaryIO, first: bytes, expected: str, size: int | None, until: datetime
    ) -> None:
        try:
            upload_id = self.client.create_multipart_upload(
                Key=key, ChecksumAlgorithm="SHA256", **self._lock_args(expected, until)
            )["UploadId"]
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, key, "create multipart upload") from exc
        full = hashlib.sha256()
        part_digests: dict[int, bytes] = {}
        futures: list[Future[dict[str, Any]]] = []
        slots = threading.BoundedSemaphore(self.cfg.max_concurrency + 1)  # bounds memory in flight
        total = 0

        def send(number: int, body: bytes) -> dict[str, Any]:
            try:
                digest = hashlib.sha256(body).digest()  # per-part checksum, hashed in the worker
                r = self.client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=body,
                    ChecksumSHA256=b64(digest),
                )
            finally:
                slots.release()
            got = r.get("ChecksumSHA256")
            if got and got != b64(digest):
                raise StorageError(f"{key}: part {number}: store reported checksum {got}, sent {b64(digest)}")
            part_digests[number] = digest
            return {"PartNumber": number, "ETag": r["ETag"], "ChecksumSHA256": b64(digest)}

        ps = self.cfg.part_size
        buf = memoryview(first)
        try:
            with ThreadPoolExecutor(self.cfg.max_concurrency, thread_name_prefix="liuhen-s3-part") as pool:
                number = 0
                while True:
                    if len(buf) < ps:
                        more = _read_exact(src, ps - len(buf))
                        buf = memoryview(bytes(buf) + more) if more else buf
                    if not len(buf):
                        break
                    body, buf = bytes(buf[:ps]), buf[ps:]
                    full.update(body)
                    total += len(body)
                    number += 1
                    slots.acquire()
                    futures.append(pool.submit(send, number, body))
                parts = [f.result() for f in futures]
            _verify(key, expected, full.hexdigest(), size, total)
            resp = self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException as exc:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except (ClientError, BotoCoreError):
                pass
            if isinstance(exc, (ClientError, BotoCoreError)):
                raise translate(exc, key, "multipart upload") from exc
            raise
        got = resp.get("ChecksumSHA256")
        joined = b"".join(part_digests[i] for i in sorted(part_digests))
        composite = f"{b64(hashlib.sha256(joined).digest())}-{len(part_digests)}"
        if got and got not in (composite, composite.rsplit("-", 1)[0]):
            raise StorageError(f"{key}: store reported composite checksum {got}, expected {composite}")

    # -- read ----------------------------------------------------------------------------------
    def _head_or_none(self, key: str) -> ObjectInfo | None:
        try:
            return self.head(key)
        except ObjectNotFound:
            return None

    def head(self, key: str) -> ObjectInfo:
        check_key(key)
        try:
            h = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, key, "head") from exc
        sha = (h.get("Metadata") or {}).get("sha256", "")
        got = h.get("ChecksumSHA256")
        single = int(h["ContentLength"]) <= self.cfg.multipart_threshold  # else composite checksum
        if sha and got and single and "-" not in got and got != b64(bytes.fromhex(sha)):
            raise StorageError(f"{key}: metadata sha256 {sha} disagrees with stored checksum {got}")
        hold = h.get("ObjectLockLegalHoldStatus")
        if hold is None:
            hold = self._legal_hold_status(key, h.get("VersionId"))
        until = h.get("ObjectLockRetainUntilDate")
        return ObjectInfo(
            key=key,
            size=int(h["ContentLength"]),
            sha256=sha,
            version=h.get("VersionId"),
            retention_mode=h.get("ObjectLockMode"),
            retain_until=as_utc(until) if until else None,
            legal_hold=hold == "ON",
            created_at=as_utc(h["LastModified"]) if h.get("LastModified") else None,
        )

    def _legal_hold_status(self, key: str, version: str | None) -> str:
        kw: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version:
            kw["VersionId"] = version
        try:
            return str(self.client.get_object_legal_hold(**kw).get("LegalHold", {}).get("Status", "OFF"))
        except ClientError:
            return "OFF"

    def exists(self, key: str) -> bool:
        return self._head_or_none(key) is not None

    def get(self, key: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        check_key(key)
        if start < 0 or (end is not None and end < start):
            raise InvalidRange(f"{key}: bad range {start}-{end}")
        kw: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if start or end is not None:
            kw["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            body = self.client.get_object(**kw)["Body"]
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, key, "get") from exc
        return _iter_body(body)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        try:
            for page in pages:
                for obj in page.get("Contents", []):
                    info = self._head_or_none(obj["Key"])
                    if info is not None:
                        yield info
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, prefix, "list") from exc

    # -- retention -----------------------------------------------------------------------------
    def extend_retention(self, key: str, until: datetime) -> ObjectInfo:
        until = require_future(key, until)
        info = self.head(key)
        cur = info.retain_until
        if cur is not None and until < cur:
            raise RetentionViolation(f"{key}: retention can only be extended ({until.isoformat()} < {cur.isoformat()})")
        if cur is None or until > cur:
            mode = info.retention_mode or self.cfg.lock_mode
            try:
                self.client.put_object_retention(
                    Bucket=self.bucket,
                    Key=key,
                    VersionId=info.version,
                    Retention={"Mode": mode, "RetainUntilDate": until},
                )
            except (ClientError, BotoCoreError) as exc:
                raise translate(exc, key, "put retention") from exc
        return self.head(key)

    def set_legal_hold(self, key: str, on: bool) -> ObjectInfo:
        info = self.head(key)
        try:
            self.client.put_object_legal_hold(
                Bucket=self.bucket,
                Key=key,
                VersionId=info.version,
                LegalHold={"Status": "ON" if on else "OFF"},
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, key, "put legal hold") from exc
        return self.head(key)

    def dispose(self, key: str) -> None:
        """Delete every version of ``key`` — only when retention expired and no hold is set."""

        info = self.head(key)
        if info.legal_hold:
            raise ObjectLocked(f"{key}: under legal hold")
        if info.retain_until is None or info.retain_until > utcnow():
            until = info.retain_until.isoformat() if info.retain_until else "(no retention)"
            raise ObjectLocked(f"{key}: retained until {until}")
        try:
            pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key)
            for page in pages:
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    if v["Key"] == key:
                        self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=v["VersionId"])
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, key, "dispose") from exc


def _verify(key: str, expected: str, computed: str, size: int | None, n: int) -> None:
    if computed != expected:
        raise DigestMismatch(key, expected, computed)
    if size is not None and size != n:
        raise DigestMismatch(key, f"{expected} ({size} bytes)", f"{computed} ({n} bytes)")


def _read_exact(src: BinaryIO, n: int) -> bytes:
    """Read up to ``n`` bytes, looping over short reads (pipes, sockets)."""
    out = bytearray()
    while len(out) < n:
        b = src.read(n - len(out))
        if not b:
            break
        out += b
    return bytes(out)


def _iter_body(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(MiB)
    finally:
        body.close()
