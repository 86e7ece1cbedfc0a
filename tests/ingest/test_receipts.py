"""SAFE TO WIPE needs COMPLIANCE retention as the store reports it (I2, I3): no mode, or GOVERNANCE, is not enough."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from liuhen.ingest.offload import ingest_path
from tests.ingest.helpers import make_recorder


class _ModeStore:
    """The real store, but head() reports another retention mode (as a misconfigured S3 bucket would)."""

    def __init__(self, inner: Any, mode: str | None) -> None:
        self.inner, self.name, self.mode = inner, inner.name, mode

    def head(self, key: str) -> Any:
        return dataclasses.replace(self.inner.head(key), retention_mode=self.mode)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("mode", [None, "GOVERNANCE"])
def test_not_safe_to_wipe_without_compliance_mode(runtime, dock: Path, mode: str | None) -> None:  # type: ignore[no-untyped-def]
    make_recorder(dock / "p1", "DSJ-M-0001", n=2)
    real = runtime.store
    runtime.store = _ModeStore(real, mode)
    try:
        (r,) = ingest_path(runtime, dock, actor="t")
    finally:
        runtime.store = real
    assert not r.safe_to_wipe
    assert all("COMPLIANCE required" in (f.error or "") for f in r.files), [f.error for f in r.files]
    (again,) = ingest_path(runtime, dock, actor="t")  # the real store reports COMPLIANCE: now it is safe
    assert again.safe_to_wipe
