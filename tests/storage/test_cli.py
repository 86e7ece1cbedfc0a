"""``liuhen storage check|head|ls`` through the real CLI (exit status is the contract)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liuhen.core.config import get_settings
from liuhen.storage.base import key_for
from liuhen.storage.local import LocalStore

pytestmark = pytest.mark.timeout(120)


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str]):  # type: ignore[no-untyped-def]
    from liuhen.cli import app

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()


def test_check_on_local_store_exits_nonzero_and_names_allowed_ops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    res = _run(["storage", "check", "--json"], monkeypatch, {"LIUHEN_DATA_DIR": str(tmp_path), "LIUHEN_STORE": "local"})
    assert res.exit_code == 1, res.output
    report = json.loads(res.output[res.output.index("{") :])
    assert report["conformant"] is False
    assert "delete_locked_version (backend)" in report["allowed"]
    assert all(r["outcome"] == "refused" for r in report["results"] if r["level"] == "store api")


def test_check_on_memory_store_exits_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    res = _run(["storage", "check"], monkeypatch, {"LIUHEN_DATA_DIR": str(tmp_path), "LIUHEN_STORE": "memory"})
    assert res.exit_code == 0, res.output
    assert "write-once: every forbidden operation refused" in res.output


def test_check_on_moto_reports_allowed(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "LIUHEN_DATA_DIR": str(tmp_path),
        "LIUHEN_STORE": "s3",
        "LIUHEN_S3_ENDPOINT_URL": moto_endpoint,
        "LIUHEN_S3_BUCKET": "liuhen-cli-check",
        "LIUHEN_S3_CREATE_BUCKET": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    res = _run(["storage", "check"], monkeypatch, env)
    assert res.exit_code == 1, res.output
    line = next(ln for ln in res.output.splitlines() if ln.strip().startswith("switch_compliance_to_governance"))
    assert "ALLOWED" in line


def test_head_and_ls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path / "store", warn=False)
    data = b"head me"
    sha = hashlib.sha256(data).hexdigest()
    store.put(key_for(sha), io.BytesIO(data), sha256=sha)
    env = {"LIUHEN_DATA_DIR": str(tmp_path), "LIUHEN_STORE": "local"}
    res = _run(["storage", "head", sha, "--json"], monkeypatch, env)
    assert res.exit_code == 0, res.output
    info = json.loads(res.output.strip().splitlines()[-1])
    assert (info["sha256"], info["size"], info["retention_mode"]) == (sha, len(data), "COMPLIANCE")
    res = _run(["storage", "ls"], monkeypatch, env)
    assert key_for(sha) in res.output
