"""Backend conformance probes of the local store: raw filesystem calls on its files, as this OS user."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Protocol

from liuhen.storage.probe import ALLOWED, NA, REFUSED, Canary, ProbeResult, Probes, run_probe


class Files(Protocol):
    """Where a local store keeps an object's bytes and its retention journal."""

    def path_of(self, key: str) -> Path: ...

    def journal_path(self, key: str) -> Path: ...


def probes(store: Files, canary: Canary, warning: str) -> Probes:
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
        jp = store.journal_path(key)
        try:
            with contextlib.suppress(OSError):
                os.chmod(jp, 0o644)
            with open(jp, "r+b") as f:
                f.truncate(0)
        except OSError as exc:
            return REFUSED, f"truncate journal: {exc}"
        return ALLOWED, f"truncated the retention journal {jp} as uid {os.getuid()}"

    results = [
        run_probe("overwrite", "backend", overwrite),
        run_probe("delete_locked_version", "backend", delete),
        run_probe("shorten_compliance_retention", "backend", shorten),
        ProbeResult("switch_compliance_to_governance", "backend", NA, "local retention has one mode"),
        ProbeResult("suspend_versioning", "backend", NA, "local store has no versioning"),
    ]
    return results, [warning]
