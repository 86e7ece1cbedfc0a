"""The pieces every conformance probe shares: outcomes, the canary objects, running one probe.

``storage.check`` runs the store-API probes and asks the store for its backend probes
(``store.backend_probes(canary)``: ``storage.local_probes``, ``storage.s3_probes``).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from liuhen.core.timefmt import utcnow
from liuhen.storage.base import ObjectInfo, ObjectStore
from liuhen.storage.errors import StorageError

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


class Canary:
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


def read(store: ObjectStore, key: str) -> bytes:
    return b"".join(store.get(key))


def run_probe(op: str, level: str, fn: Callable[[], str | tuple[str, str]]) -> ProbeResult:
    """Run one probe; exceptions the probe does not handle mean we could not tell (error)."""
    try:
        out = fn()
    except Exception as exc:
        return ProbeResult(op, level, ERROR, f"{type(exc).__name__}: {exc}")
    outcome, detail = out if isinstance(out, tuple) else (out, "")
    return ProbeResult(op, level, outcome, detail)


def refused_by(call: Callable[[], object]) -> tuple[bool, str]:
    try:
        call()
    except StorageError as exc:
        return True, f"{type(exc).__name__}: {exc}"
    return False, "accepted"


Probes = tuple[list[ProbeResult], list[str]]
