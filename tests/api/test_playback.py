"""Playback over a real uvicorn server with httpx and ffmpeg: Range, If-Range, seeks, 416 — and I5."""

from __future__ import annotations

import hashlib
import subprocess

import httpx
import pytest

from liuhen.core.media import ffmpeg_exe
from tests.api.conftest import bearer
from tests.api.helpers import add_derivative, store_file


@pytest.fixture
def clip(runtime, media):  # type: ignore[no-untyped-def]
    f = store_file(runtime, media["h264_mp4"])
    add_derivative(runtime, f, media["h264_mp4"], "proxy", "video/mp4")
    add_derivative(runtime, f, media["jpg"], "thumbnail", "image/jpeg")
    return f, media["h264_mp4"].read_bytes()


def _stream_events(runtime):
    return runtime.catalog.all("SELECT * FROM access_events WHERE kind = 'stream' ORDER BY id")


def test_proxy_range_if_range_multipart_and_416(runtime, live, tokens, clip):
    f, data = clip
    url = f"{live.url}/files/{f['sha256']}/proxy"
    h = bearer(tokens["reviewer"])
    with httpx.Client(timeout=10) as c:
        r = c.get(url, headers=h)  # no purpose: refused, and nothing recorded
        assert r.status_code == 428 and r.headers["content-type"].startswith("application/problem+json")
        assert _stream_events(runtime) == []
        q = {"purpose": "复议 review of penalty decision"}
        full = c.get(url, headers=h, params=q)
        assert full.status_code == 200 and full.content == data
        assert full.headers["accept-ranges"] == "bytes"
        etag = full.headers["etag"]
        for a, b in [(0, 99), (1000, 1999), (len(data) - 10, len(data) - 1), (5, 5)]:  # repeated seeks
            r = c.get(url, headers={**h, "Range": f"bytes={a}-{b}"}, params=q)
            assert r.status_code == 206 and r.content == data[a : b + 1]
            assert r.headers["content-range"] == f"bytes {a}-{b}/{len(data)}"
        r = c.get(url, headers={**h, "Range": "bytes=-50"}, params=q)
        assert r.status_code == 206 and r.content == data[-50:]
        r = c.get(url, headers={**h, "Range": f"bytes={len(data) - 5}-"}, params=q)
        assert r.content == data[-5:]
        r = c.get(url, headers={**h, "Range": "bytes=10-19", "If-Range": etag}, params=q)
        assert r.status_code == 206 and r.content == data[10:20]
        r = c.get(url, headers={**h, "Range": "bytes=10-19", "If-Range": '"stale"'}, params=q)
        assert r.status_code == 200 and r.content == data
        r = c.get(url, headers={**h, "Range": f"bytes={len(data)}-"}, params=q)
        assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(data)}"
        r = c.get(url, headers={**h, "Range": "bytes=0-9,100-109"}, params=q)
        assert r.status_code == 206 and r.headers["content-type"].startswith("multipart/byteranges")
        assert data[0:10] in r.content and data[100:110] in r.content and r.content.count(b"Content-Range") == 2
    # one playback session = one recorded stream start, however many seeks
    ev = _stream_events(runtime)
    assert len(ev) == 1 and ev[0]["purpose"] == q["purpose"] and ev[0]["user_name"] == "reviewer"
    body = runtime.catalog.one("SELECT type, actor, body FROM log_events WHERE id = %s", (ev[0]["event_id"],))
    assert body["type"] == "access.stream" and q["purpose"].encode() in bytes(body["body"])


def test_I5_access_event_is_committed_before_the_first_byte(runtime, live, tokens, clip):
    f, data = clip
    url = f"{live.url}/files/{f['sha256']}/proxy"
    with httpx.Client(timeout=10) as c:
        with c.stream("GET", url, headers=bearer(tokens["clerk"]), params={"purpose": "check I5"}) as r:
            assert r.status_code == 200
            # headers arrived, no body byte read yet: the event is already committed (another connection sees it)
            ev = _stream_events(runtime)
            assert len(ev) == 1
            assert runtime.catalog.one("SELECT 1 AS x FROM log_events WHERE id = %s", (ev[0]["event_id"],))
            assert r.read() == data
        # if the access event cannot be recorded, no byte of footage is served
        with runtime.catalog.tx() as conn:
            conn.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$BEGIN RAISE EXCEPTION 'audit down'; END$$"
            )
            conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON access_events FOR EACH ROW EXECUTE FUNCTION refuse()")
        r = c.get(url, headers=bearer(tokens["clerk"]), params={"purpose": "another purpose"})
        assert r.status_code >= 500 and data[:64] not in r.content
        assert r.headers["content-type"].startswith("application/problem+json")


def test_ffmpeg_plays_and_seeks_over_http(runtime, live, tokens, media, tmp_path):
    # moov at the end (no faststart): ffmpeg must seek with Range to read the index, then seek back (-ss)
    src = tmp_path / "moov_last.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-i", str(media["h264_mp4_b"]), "-c", "copy", str(src)],
        check=True,
        timeout=60,
    )
    f = store_file(runtime, media["h264_mp4_b"])
    add_derivative(runtime, f, src, "proxy", "video/mp4")
    url = f"{live.url}/files/{f['sha256']}/proxy?purpose=ffmpeg%20seek%20test"
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-headers",
        f"Authorization: Bearer {tokens['reviewer']}\r\n",
        "-ss",
        "2.5",
        "-i",
        url,
        "-frames:v",
        "1",
        "-f",
        "null",
        "-",
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    seeks = [rng for status, rng in live.requests if status == 206 and rng and not rng.startswith("bytes=0-")]
    assert seeks, live.requests  # ffmpeg really seeked
    bad = subprocess.run([*cmd[:4], "Authorization: Bearer wrong\r\n", *cmd[6:]], capture_output=True, timeout=60)
    assert bad.returncode != 0 and live.requests[-1][0] == 401


def test_original_download_needs_an_approved_request(runtime, live, tokens, clip):
    f, data = clip
    url = f"{live.url}/files/{f['sha256']}/original"
    rev, sup = bearer(tokens["reviewer"]), bearer(tokens["supervisor"])
    with httpx.Client(timeout=10) as c:
        assert c.get(url, headers=rev).status_code == 403
        req = c.post(
            f"{live.url}/access/requests",
            headers=rev,
            json={"kind": "download", "files": [f["sha256"]], "purpose": "行政复议 evidence"},
        )
        assert req.status_code == 201, req.text
        rid = req.json()["id"]
        assert c.get(url, headers=rev, params={"request_id": rid}).status_code == 403  # still pending
        own = c.post(
            f"{live.url}/access/requests/{rid}/decision", headers=bearer(tokens["reviewer"]), json={"approve": True}
        )
        assert own.status_code == 403  # only supervisors decide
        ok = c.post(f"{live.url}/access/requests/{rid}/decision", headers=sup, json={"approve": True, "note": "ok"})
        assert ok.status_code == 200 and ok.json()["status"] == "approved"
        again = c.post(f"{live.url}/access/requests/{rid}/decision", headers=sup, json={"approve": False})
        assert again.status_code == 409
        # somebody else cannot use the approval
        assert c.get(url, headers=bearer(tokens["legal_reviewer"]), params={"request_id": rid}).status_code == 403
        r = c.get(url, headers=rev, params={"request_id": rid})
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == f["sha256"]
        assert "attachment" in r.headers["content-disposition"]
        r = c.get(url, headers={**rev, "Range": "bytes=100-199"}, params={"request_id": rid})
        assert r.status_code == 206 and r.content == data[100:200]
        log = c.get(f"{live.url}/access/log", headers=sup, params={"sha256": f["sha256"]}).json()
        # every download request is its own event (no session reuse for downloads: bulk detection counts them)
        assert sorted(e["kind"] for e in log) == ["approval", "download", "download", "request"]
        by_user = c.get(f"{live.url}/access/log", headers=sup, params={"user": "supervisor"}).json()
        assert [e["kind"] for e in by_user] == ["approval"]
        assert c.get(f"{live.url}/access/log", headers=rev).status_code == 403
    types = [
        r["type"] for r in runtime.catalog.all("SELECT type FROM log_events WHERE type LIKE 'access.%' ORDER BY id")
    ]
    assert types == ["access.request", "access.approval", "access.download", "access.download"]


def test_unusual_access_outside_unit_and_bulk(runtime, client, tokens, clip):
    from liuhen.cases import access

    f, _ = clip
    r = client.get(
        f"/files/{f['sha256']}/thumbnails/0", headers=bearer(tokens["outsider"]), params={"purpose": "curious"}
    )
    assert r.status_code == 404  # units are boundaries (cases/scope.py): another unit's clip does not exist for U2
    # a joint case shared with U2 (an explicit, audited grant) lets U2 see the clip: flagged outside_unit
    from liuhen.cases import scope
    from liuhen.cases import service as cases
    from liuhen.cases.principal import Principal

    cases.create_case(runtime, case_no="J-1", agency="a", subject="s", case_type="penalty", actor="t", unit_code="U1")
    cases.link_clip(runtime, "J-1", f["sha256"], stage="filing", actor="t")
    scope.grant(runtime, Principal("supervisor", "supervisor", "U1"), "J-1", "U2", "联合办案")
    r = client.get(
        f"/files/{f['sha256']}/thumbnails/0", headers=bearer(tokens["outsider"]), params={"purpose": "curious"}
    )
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    flags = client.get("/access/unusual", headers=bearer(tokens["supervisor"])).json()
    assert [(x["flag"], x["user_name"]) for x in flags] == [("outside_unit", "outsider")]
    client.get(f"/files/{f['sha256']}/proxy", headers=bearer(tokens["clerk"]), params={"purpose": "p1"})
    bulk = access.unusual(runtime, bulk_files=0)
    assert {x["user_name"] for x in bulk if x["flag"] == "bulk_retrieval"} == {"outsider", "clerk"}
