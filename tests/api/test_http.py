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
