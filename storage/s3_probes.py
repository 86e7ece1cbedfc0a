"""Backend conformance probes of the S3 store: raw S3 calls on the bucket, bypassing ``S3Store``."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from liuhen.core.codec import b64
from liuhen.core.timefmt import utcnow
from liuhen.storage.probe import ALLOWED, REFUSED, Canary, Probes, run_probe


def _denied(call: Callable[[], object]) -> tuple[bool, str]:
    try:
        call()
    except ClientError as exc:
        err = exc.response.get("Error", {})
        return True, f"{err.get('Code')}: {err.get('Message', '')}".strip()
    return False, "accepted"


class _Bucket:
    """The probes, each on a fresh canary in ``bucket`` (raw client calls, bypassing ``S3Store``)."""

    def __init__(self, s3: Any, bucket: str, canary: Canary) -> None:
        self.s3, self.bucket, self.canary = s3, bucket, canary

    def retention(self, key: str, version: str | None) -> tuple[str | None, Any]:
        h = self.s3.head_object(Bucket=self.bucket, Key=key, VersionId=version)  # moto 500s on GetObjectRetention
        return h.get("ObjectLockMode"), h.get("ObjectLockRetainUntilDate")

    def delete(self) -> tuple[str, str]:
        key, _, info = self.canary.make("s3-delete")
        _ok, why = _denied(lambda: self.s3.delete_object(Bucket=self.bucket, Key=key, VersionId=info.version))
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key, VersionId=info.version)
            return REFUSED, why
        except ClientError:
            return ALLOWED, "locked version deleted"

    def shorten(self) -> tuple[str, str]:
        key, _, info = self.canary.make("s3-shorten")
        assert info.retain_until is not None
        shorter = info.retain_until - timedelta(seconds=60)
        ok, why = _denied(
            lambda: self.s3.put_object_retention(
                Bucket=self.bucket,
                Key=key,
                VersionId=info.version,
                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": shorter},
            )
        )
        _, until = self.retention(key, info.version)
        if not ok or (until is not None and until < info.retain_until):
            return ALLOWED, f"COMPLIANCE retain-until shortened to {until}"
        return REFUSED, why

    def switch(self) -> tuple[str, str]:
        key, _, info = self.canary.make("s3-mode")
        assert info.retain_until is not None
        later = info.retain_until + timedelta(seconds=60)
        ok, why = _denied(
            lambda: self.s3.put_object_retention(
                Bucket=self.bucket,
                Key=key,
                VersionId=info.version,
                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later},
            )
        )
        mode, _ = self.retention(key, info.version)
        if not ok or mode != "COMPLIANCE":
            return ALLOWED, f"mode is now {mode}"
        return REFUSED, why

    def suspend(self) -> tuple[str, str]:
        ok, why = _denied(
            lambda: self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Suspended"})
        )
        status = self.s3.get_bucket_versioning(Bucket=self.bucket).get("Status")
        if not ok or status != "Enabled":
            self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
            return ALLOWED, f"versioning was {status} (re-enabled)"
        return REFUSED, why

    def overwrite(self) -> tuple[str, str]:
        key, data, info = self.canary.make("s3-overwrite")
        ok, why = _denied(lambda: self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"overwritten"))
        body = self.s3.get_object(Bucket=self.bucket, Key=key, VersionId=info.version)["Body"].read()
        if body != data:
            return ALLOWED, "the locked version's bytes changed"
        if not ok:
            return REFUSED, "a new version was written on top; the locked version is intact"
        return REFUSED, why

    def past(self) -> tuple[str, str]:
        key, _, info = self.canary.make("s3-past")
        ok1, why1 = _denied(
            lambda: self.s3.put_object_retention(
                Bucket=self.bucket,
                Key=key,
                VersionId=info.version,
                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": utcnow() - timedelta(days=1)},
            )
        )
        pdata = b"past"
        ok2, _ = _denied(
            lambda: self.s3.put_object(
                Bucket=self.bucket,
                Key=f"canary/{self.canary.run}/s3-past-put",
                Body=pdata,
                ChecksumAlgorithm="SHA256",
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=utcnow() - timedelta(days=1),
            )
        )
        if ok1 and ok2:
            return REFUSED, why1
        return ALLOWED, "a retain-until date in the past was accepted"

    def checksum_note(self) -> list[str]:
        """Informational: does the server verify x-amz-checksum-sha256? (client-side hashing always does)"""
        notes: list[str] = []
        with contextlib.suppress(Exception):
            bogus = b64(hashlib.sha256(b"not this").digest())
            ok, _ = _denied(
                lambda: self.s3.put_object(
                    Bucket=self.bucket,
                    Key=f"canary/{self.canary.run}/checksum",
                    Body=b"this",
                    ChecksumSHA256=bogus,
                    ObjectLockMode="COMPLIANCE",
                    ObjectLockRetainUntilDate=utcnow() + self.canary.retention,
                    ChecksumAlgorithm="SHA256",
                )
            )
            notes.append(
                "server verifies x-amz-checksum-sha256"
                if ok
                else "server does NOT verify x-amz-checksum-sha256; "
                "Liuhen's client-side SHA-256 check is what protects uploads"
            )
        return notes


def probes(s3: Any, bucket: str, canary: Canary) -> Probes:
    """Raw S3 calls on the bucket, bypassing S3Store's own checks; one fresh canary per probe."""
    b = _Bucket(s3, bucket, canary)
    results = [
        run_probe(op, "backend", fn)
        for op, fn in (
            ("overwrite", b.overwrite),
            ("delete_locked_version", b.delete),
            ("shorten_compliance_retention", b.shorten),
            ("switch_compliance_to_governance", b.switch),
            ("suspend_versioning", b.suspend),
            ("retain_until_in_past", b.past),
        )
    ]
    return results, b.checksum_note()
