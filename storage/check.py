"""``liuhen storage check``: a conformance probe against the configured store.

It writes small canary objects (under ``canary/``, with a short COMPLIANCE retention) and tries each
operation write-once storage must refuse, at two levels:

- **store API** — through ``ObjectStore`` (overwrite, dispose a retained object, shorten retention,
  a retain-until date in the past);
- **backend** — bypassing Liuhen's own checks: raw S3 calls on the bucket (delete the locked
  version, shorten COMPLIANCE retention, switch COMPLIANCE→GOVERNANCE, suspend versioning, write
  over the key, a retain-until in the past) or raw filesystem calls on the local store's files.

Each probe reports ``refused``, ``ALLOWED``, ``n/a`` (the backend has no such operation) or ``error``
(could not tell). The store is conformant only when nothing is ALLOWED and nothing is an error.
Stores in the wild get this wrong (moto's server accepts shortening and mode switches; a local
directory cannot stop root), so ``ensure_conformant`` refuses to start in production mode on a
store that fails, unless ``LIUHEN_ALLOW_NONCONFORMANT_STORE`` is set — and says why.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from liuhen.core.config import Settings
from liuhen.storage.base import ObjectInfo, ObjectStore
from liuhen.storage.errors import NonConformantStore, ObjectNotFound, StorageError
from liuhen.storage.util import utcnow

log = logging.getLogger("liuhen.storage.check")

OPS = (
    "overwrite",
    "delete_locked_version",
    "shorten_compliance_retention",
    "switch_compliance_to_governance",
    "suspend_versioning",
    "retain_until_in_past",
)
REFUSED, ALLOWED, NA, ERROR = "refused", "ALLOWED", "n/a", "error"


@dataclass(frozen=True)
class ProbeResult:
    op: str
    level: str  # "store api" | "backend"
    outcome: str  # refused | ALLOWED | n/a | error
    detail: str = ""


@dataclass
class CheckReport:
    store: str
    results: list[ProbeResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[ProbeResult]:
        return [r for r in self.results if r.outcome in (ALLOWED, ERROR)]

    @property
    def conformant(self) -> bool:
        return not self.failures

    def outcome(self, op: str, level: str) -> str | None:
        for r in self.results:
            if (r.op, r.level) == (op, level):
                return r.outcome
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "conformant": self.conformant,
            "results": [asdict(r) for r in self.results],
            "allowed": sorted({f"{r.op} ({r.level})" for r in self.failures}),
            "notes": self.notes,
        }


class _Canary:
    def __init__(self, store: ObjectStore, retention: timedelta) -> None:
        self.store, self.retention = store, retention
        self.run = uuid.uuid4().hex[:12]

    def make(self, label: str) -> tuple[str, bytes, ObjectInfo]:
        data = f"liuhen storage check {self.run} {label} {utcnow().isoformat()}\n".encode()
        key = f"canary/{self.run}/{label}"
        info = self.store.put(
            key, io.BytesIO(data), sha256=hashlib.sha256(data).hexdigest(), retain_until=utcnow() + self.retention
        )
        return key, data, info


def _read(store: ObjectStore, key: str) -> bytes:
    return b"".join(store.get(key))


def _probe(op: str, level: str, fn: Callable[[], str | tuple[str, str]]) -> ProbeResult:
    """Run one probe; exceptions the probe does not handle mean we could not tell (error)."""
    try:
        out = fn()
    except Exception as exc:
        return ProbeResult(op, level, ERROR, f"{type(exc).__name__}: {exc}")
    outcome, detail = out if isinstance(out, tuple) else (out, "")
    return ProbeResult(op, level, outcome, detail)


def _refused_by(call: Callable[[], object]) -> tuple[bool, str]:
    try:
        call()
    except StorageError as exc:
        return True, f"{type(exc).__name__}: {exc}"
    return False, "accepted"


# -- store-API probes: every backend -------------------------------------------------------------
def api_probes(store: ObjectStore, canary: _Canary) -> list[ProbeResult]:
    key, data, info = canary.make("api")
    until = info.retain_until
    out = []

    def overwrite() -> tuple[str, str]:
        other = data + b"altered"
        _ok, why = _refused_by(lambda: store.put(key, io.BytesIO(other), sha256=hashlib.sha256(other).hexdigest()))
        changed = _read(store, key) != data
        return (ALLOWED if changed else REFUSED), ("bytes changed" if changed else why)

    def delete() -> tuple[str, str]:
        _ok, why = _refused_by(lambda: store.dispose(key))
        gone = not store.exists(key)
        return (ALLOWED if gone else REFUSED), ("object removed while retained" if gone else why)

    def shorten() -> tuple[str, str]:
        assert until is not None
        ok, why = _refused_by(lambda: store.extend_retention(key, until - timedelta(seconds=30)))
        now = store.head(key).retain_until
        shortened = now is None or now < until
        return (ALLOWED if shortened or not ok else REFUSED), (f"retain-until now {now}" if shortened else why)

    def past() -> tuple[str, str]:
        ok1, why1 = _refused_by(lambda: store.extend_retention(key, utcnow() - timedelta(days=1)))
        pkey = f"canary/{canary.run}/past"
        pdata = b"past retention canary"
        ok2, _why2 = _refused_by(
            lambda: store.put(
                pkey,
                io.BytesIO(pdata),
                sha256=hashlib.sha256(pdata).hexdigest(),
                retain_until=utcnow() - timedelta(days=1),
            )
        )
        if ok1 and ok2:
            return REFUSED, why1
        return ALLOWED, "extend to the past accepted" if not ok1 else "put with a past retain-until accepted"

    for op, fn in (
        ("overwrite", overwrite),
        ("delete_locked_version", delete),
        ("shorten_compliance_retention", shorten),
        ("retain_until_in_past", past),
    ):
        out.append(_probe(op, "store api", fn))
    return out


# -- backend probes ------------------------------------------------------------------------------
def s3_probes(store: Any, canary: _Canary) -> tuple[list[ProbeResult], list[str]]:
    """Raw S3 calls on the bucket, bypassing S3Store's own checks; one fresh canary per probe."""
    from botocore.exceptions import ClientError

    s3, bucket = store.client, store.bucket
    notes: list[str] = []

    def denied(call: Callable[[], object]) -> tuple[bool, str]:
        try:
            call()
        except ClientError as exc:
            err = exc.response.get("Error", {})
            return True, f"{err.get('Code')}: {err.get('Message', '')}".strip()
        return False, "accepted"

    def retention(key: str, version: str | None) -> tuple[str | None, Any]:
        h = s3.head_object(Bucket=bucket, Key=key, VersionId=version)  # moto 500s on GetObjectRetention
        return h.get("ObjectLockMode"), h.get("ObjectLockRetainUntilDate")

    def delete() -> tuple[str, str]:
        key, _, info = canary.make("s3-delete")
        _ok, why = denied(lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=info.version))
        try:
            s3.head_object(Bucket=bucket, Key=key, VersionId=info.version)
            return REFUSED, why
        except ClientError:
            return ALLOWED, "locked version deleted"

    def shorten() -> tuple[str, str]:
        key, _, info = canary.make("s3-shorten")
        assert info.retain_until is not None
        shorter = info.retain_until - timedelta(seconds=60)
        ok, why = denied(
            lambda: s3.put_object_retention(
                Bucket=bucket,
                Key=key,
                VersionId=info.version,
                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": shorter},
            )
        )
        _, until = retention(key, info.version)
        if not ok or (until is not None and until < info.retain_until):
            return ALLOWED, f"COMPLIANCE retain-until shortened to {until}"
        return REFUSED, why

    def switch() -> tuple[str, str]:
        key, _, info = canary.make("s3-mode")
        assert info.retain_until is not None
        later = info.retain_until + timedelta(seconds=60)
        ok, why = denied(
            lambda: s3.put_object_retention(
                Bucket=bucket,
                Key=key,
                VersionId=info.version,
                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later},
            )
        )
        mode, _ = retention(key, info.version)
        if not ok or mode != "COMPLIANCE":
            return ALLOWED, f"mode is now {mode}"
        return REFUSED, why

    def suspend() -> tuple[str, str]:
        ok, why = denied(
            lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
        )
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        if not ok or status != "Enabled":
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            return ALLOWED, f"versioning was {status} (re-enabled)"
        return REFUSED, why

    def overwrite() -> tuple[str, str]:
        key, data, info = canary.make("s3-overwrite")
        ok, why = denied(lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"overwritten"))
        body = s3.get_object(Bucket=bucket, Key=key, VersionId=info.version)["Body"].read()
        if body != data:
            return ALLOWED, "the locked version's bytes changed"
        if not ok:
            return REFUSED, "a new version was written on top; the locked version is intact"
        return REFUSED, why

    def past() -> tuple[str, str]:
        key, _, info = canary.make("s3-past")
        ok1, why1 = denied(
            lambda: s3.put_object_retention(
                Bucket=bucket,
                Key=key,
                VersionId=info.version,
                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": utcnow() - timedelta(days=1)},
            )
        )
        pdata = b"past"
        ok2, _ = denied(
            lambda: s3.put_object(
                Bucket=bucket,
                Key=f"canary/{canary.run}/s3-past-put",
                Body=pdata,
                ChecksumAlgorithm="SHA256",
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=utcnow() - timedelta(days=1),
            )
        )
        if ok1 and ok2:
            return REFUSED, why1
        return ALLOWED, "a retain-until date in the past was accepted"

    results = [
        _probe(op, "backend", fn)
        for op, fn in (
            ("overwrite", overwrite),
            ("delete_locked_version", delete),
            ("shorten_compliance_retention", shorten),
            ("switch_compliance_to_governance", switch),
            ("suspend_versioning", suspend),
            ("retain_until_in_past", past),
        )
    ]
    # informational: does the server verify x-amz-checksum-sha256? (client-side hashing always does)
    with contextlib.suppress(Exception):
        bogus = __import__("base64").b64encode(hashlib.sha256(b"not this").digest()).decode()
        ok, _ = denied(
            lambda: s3.put_object(
                Bucket=bucket,
                Key=f"canary/{canary.run}/checksum",
                Body=b"this",
                ChecksumSHA256=bogus,
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=utcnow() + canary.retention,
                ChecksumAlgorithm="SHA256",
            )
        )
        notes.append(
            "server verifies x-amz-checksum-sha256"
            if ok
            else "server does NOT verify x-amz-checksum-sha256; "
            "Liuhen's client-side SHA-256 check is what protects uploads"
        )
    return results, notes


def local_probes(store: Any, canary: _Canary) -> tuple[list[ProbeResult], list[str]]:
    """Raw filesystem calls on the local store's files, as the current OS user."""

    def delete() -> tuple[str, str]:
        key, _, _ = canary.make("fs-delete")
        path = store.path_of(key)
        try:
            os.unlink(path)
        except OSError as exc:
            return REFUSED, f"unlink: {exc}"
        return ALLOWED, f"unlink({path}) succeeded as uid {os.getuid()}: a directory cannot stop root or the owner"

    def overwrite() -> tuple[str, str]:
        key, _data, _ = canary.make("fs-overwrite")
        path = store.path_of(key)
        try:
            with contextlib.suppress(OSError):
                os.chmod(path, 0o644)  # the owner may do this; root does not even need to
            with open(path, "r+b") as f:
                f.write(b"X")
        except OSError as exc:
            return REFUSED, f"write: {exc}"
        return ALLOWED, f"rewrote {path} as uid {os.getuid()}"

    def shorten() -> tuple[str, str]:
        key, _, _ = canary.make("fs-shorten")
        jp = store._journal_path(key)
        try:
            with contextlib.suppress(OSError):
                os.chmod(jp, 0o644)
            with open(jp, "r+b") as f:
                f.truncate(0)
        except OSError as exc:
            return REFUSED, f"truncate journal: {exc}"
        return ALLOWED, f"truncated the retention journal {jp} as uid {os.getuid()}"

    results = [
        _probe("overwrite", "backend", overwrite),
        _probe("delete_locked_version", "backend", delete),
        _probe("shorten_compliance_retention", "backend", shorten),
        ProbeResult("switch_compliance_to_governance", "backend", NA, "local retention has one mode"),
        ProbeResult("suspend_versioning", "backend", NA, "local store has no versioning"),
    ]
    return results, ["a local directory cannot stop root (or the files' owner) from deleting files"]


def run_check(store: ObjectStore, *, canary_retention: timedelta = timedelta(days=1)) -> CheckReport:
    """Probe ``store``; canaries stay (they are locked) until their short retention expires."""
    report = CheckReport(store=getattr(store, "name", type(store).__name__))
    canary = _Canary(store, canary_retention)
    report.notes.append(
        f"canaries under canary/{canary.run}/ retained until {utcnow() + canary_retention:%Y-%m-%d %H:%M}Z"
    )
    report.notes.extend(_dispose_old_canaries(store))
    report.results.extend(api_probes(store, canary))
    if report.store == "s3":
        res, notes = s3_probes(store, canary)
    elif report.store == "local":
        res, notes = local_probes(store, canary)
    else:
        res, notes = [], [f"{report.store}: in-process test double, no backend to probe; keeps nothing after exit"]
    report.results.extend(res)
    report.notes.extend(notes)
    return report


def _dispose_old_canaries(store: ObjectStore) -> list[str]:
    """Canaries of earlier runs whose retention expired are the one thing the check removes."""
    n = 0
    with contextlib.suppress(StorageError):
        for info in list(store.list("canary/")):
            if info.retain_until and info.retain_until <= utcnow() and not info.legal_hold:
                with contextlib.suppress(StorageError, ObjectNotFound):
                    store.dispose(info.key)
                    n += 1
    return [f"disposed {n} expired canaries of earlier runs"] if n else []


def ensure_conformant(store: ObjectStore, settings: Settings) -> CheckReport | None:
    """At startup in production mode: refuse a store that is not write-once, unless overridden.

    Outside production mode this does nothing (the local store logs its own warning).
    """
    if not settings.production:
        return None
    report = run_check(store)
    problems = [f"{r.op} ({r.level}): {r.outcome} — {r.detail}" for r in report.failures]
    if report.store == "memory":
        problems.append("memory store: keeps nothing after the process exits")
    if not problems:
        log.info("store %s passed the write-once conformance check", report.store)
        return report
    why = "; ".join(problems)
    if settings.allow_nonconformant_store:
        log.warning(
            "store %s is NOT write-once (%s); starting anyway: LIUHEN_ALLOW_NONCONFORMANT_STORE", report.store, why
        )
        return report
    raise NonConformantStore(
        f"refusing to start in production mode: store {report.store!r} is not write-once: {why}. "
        "Use S3 with Object Lock in COMPLIANCE mode (LIUHEN_STORE=s3), or set "
        "LIUHEN_ALLOW_NONCONFORMANT_STORE=true to start anyway."
    )
