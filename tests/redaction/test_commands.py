"""``liuhen redact`` / ``liuhen redaction approve|verify|show|bag-script`` through the real CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import pytest
from skimage import data

from liuhen.core.config import Settings
from liuhen.redaction.errors import RedactionApprovalRefused
from tests.storage.test_cli import _run as run_cli
from tests.transcoder.conftest import add_original

pytestmark = pytest.mark.timeout(300)


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch, settings: Settings, actor: str):  # type: ignore[no-untyped-def]
    env = {"LIUHEN_DATA_DIR": str(settings.data_dir), "LIUHEN_DATABASE_URL": str(settings.database_url),
           "LIUHEN_STORE": "local", "LIUHEN_ACTOR": actor}
    return run_cli(args, monkeypatch, env)


def test_redact_approve_show_verify(runtime, settings: Settings, tmp_path: Path,  # type: ignore[no-untyped-def]
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), data.astronaut()[:, :, ::-1])
    add_original(runtime, photo, "photo")
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()

    res = _run(["redact", sha, "--region", "0-1:180,50,100,130", "--method", "pixelate", "--json"],
               monkeypatch, settings, "user:clerk")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["state"] == "rendered" and out["verified"] is True

    res = _run(["redaction", "approve", str(out["id"])], monkeypatch, settings, "user:clerk")
    assert res.exit_code != 0 and isinstance(res.exception, RedactionApprovalRefused)
    res = _run(["redaction", "approve", str(out["id"]), "--json"], monkeypatch, settings, "user:supervisor")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["state"] == "final"

    res = _run(["redaction", "show", str(out["id"]), "--regions"], monkeypatch, settings, "user:x")
    regions = tmp_path / "regions.json"
    regions.write_text(res.output)
    assert hashlib.sha256(json.dumps(json.loads(res.output), sort_keys=True, separators=(",", ":")).encode()
                          ).hexdigest() == out["regions_sha256"]
    copy = settings.derived_dir / f"{sha[:2]}/{sha}/redaction-{out['id']}.jpg"
    res = _run(["redaction", "verify", str(photo), str(copy), str(regions), "--json"], monkeypatch, settings, "u:x")
    assert res.exit_code == 0, res.output and json.loads(res.output)["ok"]
    # the original is not a redacted copy of itself: the region is visible → exit 1, frame named
    res = _run(["redaction", "verify", str(photo), str(photo), str(regions)], monkeypatch, settings, "u:x")
    assert res.exit_code == 1 and "frame 0: region manual-0001" in res.output

    script = tmp_path / "verify_redaction.py"
    res = _run(["redaction", "bag-script", str(script)], monkeypatch, settings, "u:x")
    assert res.exit_code == 0 and "def verify(" in script.read_text()


def test_redact_no_wait_needs_a_broker(runtime, settings: Settings, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), data.astronaut()[:, :, ::-1])
    add_original(runtime, photo, "photo")
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    res = _run(["redact", sha, "--region", "0-1:180,50,100,130", "--no-wait"], monkeypatch, settings, "user:clerk")
    assert res.exit_code == 2 and "LIUHEN_BROKER_URL" in res.output
    assert runtime.catalog.one("SELECT count(*) AS n FROM redactions")["n"] == 0  # nothing queued into the void
