"""api/http.py: HEAD wherever GET works; 405 lists every method of the path in Allow."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.api.helpers import add_derivative, store_file


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/cases", "GET, HEAD, POST"),
        ("PUT", "/access/requests", "GET, HEAD, POST"),
        ("POST", "/recording-list", "GET, HEAD, PUT"),
        ("POST", "/health", "GET, HEAD"),
    ],
)
def test_405_allow_lists_every_method(client, tokens, method: str, path: str, allow: str) -> None:
    r = client.request(method, path, headers=bearer(tokens["supervisor"]))
    assert r.status_code == 405 and r.headers["allow"] == allow


def test_head_answers_like_get_without_a_body(runtime, live, tokens, media) -> None:
    import httpx

    f = store_file(runtime, media["h264_mp4"])
    add_derivative(runtime, f, media["h264_mp4"], "proxy", "video/mp4")
    h, q = bearer(tokens["reviewer"]), {"purpose": "复核 head"}
    with httpx.Client(base_url=live.url, timeout=10) as c:
        assert c.head("/health").status_code == 200
        g, r = c.get("/cases", headers=h), c.head("/cases", headers=h)
        assert r.status_code == g.status_code == 200 and r.content == b""
        p = c.head(f"/files/{f['sha256']}/proxy", headers=h, params=q)
        assert p.status_code == 200 and int(p.headers["content-length"]) == media["h264_mp4"].stat().st_size
        assert p.headers["accept-ranges"] == "bytes" and p.content == b""
        assert c.head("/cases", headers=bearer("nope")).status_code == 401


def test_head_on_footage_records_no_access_and_reads_no_byte(runtime, live, tokens, media) -> None:
    """HEAD answers the GET's status and headers, but serves nothing: so it records no access event, and the
    original is not read nor hashed (a corrupted one is not even noticed — only a GET that sends it is)."""
    import os

    import httpx

    f = store_file(runtime, media["h264_mp4"])
    add_derivative(runtime, f, media["h264_mp4"], "proxy", "video/mp4")
    obj = runtime.store.path_of(f["storage_key"])
    os.chmod(obj, 0o644)
    raw = bytearray(obj.read_bytes())
    raw[-1] ^= 0xFF
    obj.write_bytes(bytes(raw))
    rev, q = bearer(tokens["reviewer"]), {"purpose": "复核 head"}

    def count(sql: str) -> int:
        return int(runtime.catalog.one(sql)["n"])

    with httpx.Client(base_url=live.url, timeout=10) as c:
        assert c.head(f"/files/{f['sha256']}/proxy", headers=rev).status_code == 428  # same answer as GET
        p = c.head(f"/files/{f['sha256']}/proxy", headers=rev, params=q)
        assert p.status_code == 200 and int(p.headers["content-length"]) == len(raw)
        assert count("SELECT count(*) AS n FROM access_events") == 0
        rid = c.post("/access/requests", headers=rev,
                     json={"kind": "download", "purpose": "复核", "files": [f["sha256"]]}).json()["id"]
        assert c.post(f"/access/requests/{rid}/decision", headers=bearer(tokens["supervisor"]),
                      json={"approve": True}).status_code == 200
        before = count("SELECT count(*) AS n FROM access_events")
        o = c.head(f"/files/{f['sha256']}/original", headers=rev, params={"request_id": rid})
        assert o.status_code == 200 and int(o.headers["content-length"]) == len(raw) and o.content == b""
        assert c.head(f"/files/{f['sha256']}/original", headers=rev).status_code == 403  # no request: as GET
        assert count("SELECT count(*) AS n FROM access_events") == before
        assert count("SELECT count(*) AS n FROM log_events WHERE type IN ('access.download', 'fixity.check')") == 0
        assert runtime.catalog.one("SELECT flags FROM files WHERE id = %s", (f["id"],))["flags"] == []
        assert c.get(f"/files/{f['sha256']}/proxy", headers=rev, params=q).status_code == 200
    assert count("SELECT count(*) AS n FROM access_events WHERE kind = 'stream'") == 1
