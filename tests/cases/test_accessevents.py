"""cases/accessevents.py: I5 — one event per download; only view/stream requests of one playback share an event."""

from __future__ import annotations

from liuhen.cases import access
from liuhen.cases.principal import Principal
from tests.api.helpers import store_file


def test_every_download_is_its_own_event_streams_share_one(runtime, media):
    f = store_file(runtime, media["h264_mp4"])
    who = Principal("rev", "reviewer", "U1", token_id=None)
    d1 = access.ensure_access_recorded(runtime, who, "download", purpose="复议", file=f, request_id=7)
    d2 = access.ensure_access_recorded(runtime, who, "download", purpose="复议", file=f, request_id=7)
    assert d1 != d2
    s1 = access.ensure_access_recorded(runtime, who, "stream", purpose="复核", file=f)
    s2 = access.ensure_access_recorded(runtime, who, "stream", purpose="复核", file=f)
    assert s1 == s2
    kinds = [r["kind"] for r in runtime.catalog.all("SELECT kind FROM access_events ORDER BY id")]
    assert kinds == ["download", "download", "stream"]
