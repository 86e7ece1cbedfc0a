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
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from liuhen.core.config import Settings
from liuhen.core.timefmt import utcnow
from liuhen.storage.base import ObjectStore
from liuhen.storage.errors import NonConformantStore, ObjectNotFound, StorageError
from liuhen.storage.probe import ALLOWED, ERROR, REFUSED, Canary, ProbeResult, read, refused_by, run_probe

log = logging.getLogger("liuhen.storage.check")

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


# -- store-API probes: every backend -------------------------------------------------------------
def api_probes(store: ObjectStore, canary: Canary) -> list[ProbeResult]:
    key, data, info = canary.make("api")
    until = info.retain_until
    out = []

    def overwrite() -> tuple[str, str]:
        other = data + b"altered"
        _ok, why = refused_by(lambda: store.put(key, io.BytesIO(other), sha256=hashlib.sha256(other).hexdigest()))
        changed = read(store, key) != data
        return (ALLOWED if changed else REFUSED), ("bytes changed" if changed else why)

    def delete() -> tuple[str, str]:
        _ok, why = refused_by(lambda: store.dispose(key))
        gone = not store.exists(key)
        return (ALLOWED if gone else REFUSED), ("object removed while retained" if gone else why)

    def shorten() -> tuple[str, str]:
        assert until is not None
        ok, why = refused_by(lambda: store.extend_retention(key, until - timedelta(seconds=30)))
        now = store.head(key).retain_until
        shortened = now is None or now < until
        return (ALLOWED if shortened or not ok else REFUSED), (f"retain-until now {now}" if shortened else why)

    def past() -> tuple[str, str]:
        ok1, why1 = refused_by(lambda: store.extend_retention(key, utcnow() - timedelta(days=1)))
        pkey = f"canary/{canary.run}/past"
        pdata = b"past retention canary"
        ok2, _why2 = refused_by(
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
        out.append(run_probe(op, "store api", fn))
    return out


def run_check(store: ObjectStore, *, canary_retention: timedelta = timedelta(days=1)) -> CheckReport:
    """Probe ``store``; canaries stay (they are locked) until their short retention expires."""
    report = CheckReport(store=getattr(store, "name", type(store).__name__))
    canary = Canary(store, canary_retention)
    report.notes.append(
        f"canaries under canary/{canary.run}/ retained until {utcnow() + canary_retention:%Y-%m-%d %H:%M}Z"
    )
    report.notes.extend(_dispose_old_canaries(store))
    report.results.extend(api_probes(store, canary))
    backend = getattr(store, "backend_probes", None)  # each backend probes itself (local, s3, memory)
    if backend is not None:
        res, notes = backend(canary)
    else:
        res, notes = [], [f"{report.store}: no backend probes; only the store API was checked"]
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
