"""api/streaming.py: Range parsing (coalescing, the part cap) and digest-guarded originals over real HTTP."""

from __future__ import annotations

import hashlib
import json
import os

import httpx
import pytest

from liuhen.api.streaming import MAX_RANGES, coalesce, parse_range
from tests.api.conftest import bearer
from tests.api.helpers import store_file


def test_overlapping_ranges_are_coalesced_never_amplified() -> None:
    # the probe: sixteen "0-" ranges on a 4.2 MB proxy gave a 67.5 MB body; now one range, the whole object
    assert parse_range("bytes=" + ",".join(["0-"] * 16), 4_200_000) == [(0, 4_199_999)]
    # overlapping and adjacent ranges merge, in ascending order (RFC 9110 §14.3 allows reordering)
    assert parse_range("bytes=100-199,0-9,10-19,150-300,-5", 1000) == [(0, 19), (100, 300), (995, 999)]
    # a gap of one byte keeps them apart
    assert coalesce([(0, 9), (11, 20)]) == [(0, 9), (11, 20)]


def test_more_than_max_ranges_are_ignored_like_nginx() -> None:
    spec = ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(MAX_RANGES + 1))
    assert parse_range(f"bytes={spec}", 10_000) is None  # the whole representation, 200
    spec = ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(MAX_RANGES))
    assert len(parse_range(f"bytes={spec}", 10_000) or []) == MAX_RANGES


def test_overlapping_ranges_over_http_carry_at_most_the_object(runtime, live, tokens, media) -> None:
    from tests.api.helpers import add_derivative

    f = store_file(runtime, media["h264_mp4"])
    add_derivative(runtime, f, media["h264_mp4"], "proxy", "video/mp4")
    data = media["h264_mp4"].read_bytes()
    url = f"{live.url}/files/{f['sha256']}/proxy"
    with httpx.Client(timeout=10) as c:
        r = c.get(url, headers={**bearer(tokens["reviewer"]), "Range": "bytes=" + ",".join(["0-"] * 16)},
                  params={"purpose": "复核 range test"})
    assert r.status_code == 206 and r.content == data
    assert r.headers["content-range"] == f"bytes 0-{len(data) - 1}/{len(data)}"


def _approved_download(c: httpx.Client, url: str, tokens: dict[str, str], sha: str) -> int:
    req = c.post(f"{url}/access/requests", headers=bearer(tokens["reviewer"]),
                 json={"kind": "download", "files": [sha], "purpose": "行政复议 evidence"})
    assert req.status_code == 201, req.text
    rid = int(req.json()["id"])
    ok = c.post(f"{url}/access/requests/{rid}/decision", headers=bearer(tokens["supervisor"]), json={"approve": True})
    assert ok.status_code == 200, ok.text
    return rid


@pytest.mark.parametrize("byte_range", [None, "bytes=0-99", "bytes=0-9,200-209"])
def test_a_corrupted_original_is_cut_logged_and_flagged(runtime, live, tokens, media, byte_range) -> None:
    f = store_file(runtime, media["h264_mp4"])
    obj = runtime.store.path_of(f["storage_key"])
    os.chmod(obj, 0o644)
    raw = bytearray(obj.read_bytes())
    raw[-1] ^= 0xFF  # one flipped byte at the end: even a range at the start must not complete
    obj.write_bytes(bytes(raw))
    headers = bearer(tokens["reviewer"]) | ({"Range": byte_range} if byte_range else {})
    with httpx.Client(timeout=10) as c:
        rid = _approved_download(c, live.url, tokens, f["sha256"])
        with pytest.raises(httpx.HTTPError):  # the body never completes (Content-Length not met)
            c.get(f"{live.url}/files/{f['sha256']}/original", headers=headers, params={"request_id": rid})
    ev = runtime.catalog.all("SELECT body FROM log_events WHERE type = 'fixity.check'")
    assert len(ev) == 1 and b'"outcome":"fail"' in bytes(ev[0]["body"]) and b'"mode":"download"' in bytes(ev[0]["body"])
    assert hashlib.sha256(bytes(raw)).hexdigest().encode() in bytes(ev[0]["body"])
    row = runtime.catalog.one("SELECT flags FROM files WHERE id = %s", (f["id"],))
    assert row["flags"] == ["fixity_failed"]


def test_an_intact_original_is_served_whole_and_in_ranges(runtime, live, tokens, media) -> None:
    f = store_file(runtime, media["h264_mp4"])
    data = media["h264_mp4"].read_bytes()
    with httpx.Client(timeout=10) as c:
        rid = _approved_download(c, live.url, tokens, f["sha256"])
        url = f"{live.url}/files/{f['sha256']}/original"
        r = c.get(url, headers=bearer(tokens["reviewer"]), params={"request_id": rid})
        assert r.status_code == 200 and r.content == data
        r = c.get(url, headers={**bearer(tokens["reviewer"]), "Range": "bytes=0-9,200-209"}, params={"request_id": rid})
        assert r.status_code == 206 and data[0:10] in r.content and data[200:210] in r.content
    assert runtime.catalog.all("SELECT id FROM log_events WHERE type = 'fixity.check'") == []


def test_behind_nginx_a_guarded_original_is_still_hashed_in_python(runtime, live, tokens, media, monkeypatch) -> None:
    """With X-Accel on and the store's objects mapped, an original is not handed to nginx (it could not hash it)."""
    f = store_file(runtime, media["h264_mp4"])
    obj = runtime.store.path_of(f["storage_key"])
    monkeypatch.setenv("LIUHEN_EDGE_ACCEL", "true")
    monkeypatch.setenv("LIUHEN_EDGE_ACCEL_MAP", json.dumps({str(obj.parent): "/_liuhen/store/"}))
    os.chmod(obj, 0o644)
    raw = bytearray(obj.read_bytes())
    raw[-1] ^= 0xFF
    obj.write_bytes(bytes(raw))
    with httpx.Client(timeout=10) as c:
        rid = _approved_download(c, live.url, tokens, f["sha256"])
        with c.stream("GET", f"{live.url}/files/{f['sha256']}/original", headers=bearer(tokens["reviewer"]),
                      params={"request_id": rid}) as r:
            assert "x-accel-redirect" not in r.headers and r.headers["content-length"] == str(len(raw))
            with pytest.raises(httpx.HTTPError):  # cut before the last bytes: Python hashed what it sent
                r.read()
    assert len(runtime.catalog.all("SELECT id FROM log_events WHERE type = 'fixity.check'")) == 1
