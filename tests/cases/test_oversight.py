"""cases/oversight.py: unusual access (bulk downloads within an hour)."""

from __future__ import annotations

from liuhen.cases import access
from liuhen.cases.principal import Principal
from tests.api.helpers import store_file


def test_bulk_downloads_of_one_file_are_flagged(runtime, media):
    f = store_file(runtime, media["h264_mp4"])
    who = Principal("rev", "reviewer", "U1")
    for _ in range(4):
        access.ensure_access_recorded(runtime, who, "download", purpose="复议", file=f, request_id=1)
    flags = access.unusual(runtime, bulk_downloads=3)
    assert [(x["flag"], x["count"]) for x in flags] == [("bulk_download", 4)]
