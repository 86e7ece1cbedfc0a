"""liuhen/commands/ingest.py: what `liuhen ingest` and `liuhen receipt --recheck` tell the user."""

from __future__ import annotations

import json
import os
from pathlib import Path

from liuhen.cli import app
from liuhen.core.config import get_settings
from liuhen.storage.local import LocalStore
from tests.ingest._ingest_helpers import make_recorder


def test_ingest_says_transcoding_is_queued_with_nothing_running_it(cli, tmp_path: Path) -> None:
    make_recorder(tmp_path / "dock" / "port01", "DSJ-CLI-0001", n=2)
    res = cli.invoke(app, ["ingest", str(tmp_path / "dock"), "--json"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)) == 1  # stdout stays one JSON document; the note is on stderr
    assert "2 file(s) wait for transcoding" in res.stderr and "liuhen transcode --pending" in res.stderr


def test_receipt_recheck_says_what_it_checked_and_content_finds_a_flipped_byte(cli, tmp_path: Path) -> None:
    make_recorder(tmp_path / "dock" / "port01", "DSJ-CLI-0002", n=1)
    res = cli.invoke(app, ["ingest", str(tmp_path / "dock"), "--json"])
    r = json.loads(res.stdout)[0]
    sid, key = r["session_id"], r["files"][0]["storage_key"]
    obj = LocalStore(get_settings().store_dir).path_of(key)
    res = cli.invoke(app, ["receipt", str(sid), "--recheck"])
    assert res.exit_code == 0, res.output
    assert "Checked metadata" in res.stdout and f"liuhen receipt {sid} --recheck --content" in res.stdout
    # flip one byte of the stored original: the metadata check cannot see it, the content check does
    os.chmod(obj, 0o644)
    raw = bytearray(obj.read_bytes())
    raw[0] ^= 1
    obj.write_bytes(bytes(raw))
    res = cli.invoke(app, ["receipt", str(sid), "--recheck", "--json"])
    out = json.loads(res.stdout)
    assert out["checked"] == "metadata" and out["safe_to_wipe"] is True
    res = cli.invoke(app, ["receipt", str(sid), "--recheck", "--content", "--json"])
    out = json.loads(res.stdout)
    assert out["checked"] == "content" and out["safe_to_wipe"] is False
    assert out["files"][0]["error"].startswith("content_mismatch: store vs catalog")
    res = cli.invoke(app, ["receipt", str(sid), "--content"])
    assert res.exit_code == 2 and "--content goes with --recheck" in res.output


def test_receipt_and_sessions_show_agency_time(cli, tmp_path: Path) -> None:
    make_recorder(tmp_path / "dock" / "port01", "DSJ-CLI-0003", n=1)
    sid = json.loads(cli.invoke(app, ["ingest", str(tmp_path / "dock"), "--json"]).stdout)[0]["session_id"]
    res = cli.invoke(app, ["receipt", str(sid)])
    line = next(x for x in res.stdout.splitlines() if "offloaded" in x)
    assert line.count("+08:00") == 2
    assert "+08:00" in cli.invoke(app, ["dock", "sessions"]).stdout
