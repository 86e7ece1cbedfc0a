"""liuhen/commands/transcoder.py: `liuhen match` says when stored footage could not be matched yet."""

from __future__ import annotations

from liuhen.cli import app
from liuhen.wiring import open_runtime
from tests.api.helpers import store_file


def test_match_names_the_files_without_a_fingerprint(cli, media) -> None:
    with open_runtime() as rt:
        store_file(rt, media["h264_mp4"])  # stored, never transcoded: no fingerprint set
        store_file(rt, media["jpg"], media_kind="photo")  # photos are never fingerprinted: not counted
    res = cli.invoke(app, ["match", str(media["h264_mp4"]), "--json"])
    assert res.stdout.strip() == "[]"
    assert "1 stored video(s) have no fingerprint yet" in res.stderr and "liuhen transcode --pending" in res.stderr
