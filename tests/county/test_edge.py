"""nginx sends the bytes the API authorised (X-Accel-Redirect), after the access event is recorded (I5).

Real uvicorn API, real nginx (Debian) rendered from deploy/nginx/liuhen.conf, real footage bytes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from liuhen.api.app import create_app
from liuhen.api.auth import issue_token
from liuhen.api.streaming import EdgeSettings, FileReader, StoreReader, accel_target, signed_link
from liuhen.benchmarks.county_edge import start_front
from liuhen.core.media import make_video
from tests.api.conftest import LiveServer
from tests.api.helpers import add_derivative, store_file


@pytest.fixture
def front(runtime, open_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("nginx not installed (apt-get install nginx-light): the edge cannot be tested")
    video = make_video(open_tmp / "clip.mp4", seconds=3, width=320, height=240, bitrate="2M", seed=4)
    f = store_file(runtime, video)
    add_derivative(runtime, f, video, "proxy", "video/mp4")
    token, _ = issue_token(runtime, user="rev", role="reviewer", unit_code="U1", actor="test")
    maps = {str(runtime.settings.derived_dir): "/_liuhen/derived/"}
    monkeypatch.setenv("LIUHEN_EDGE_ACCEL", "true")
    monkeypatch.setenv("LIUHEN_EDGE_ACCEL_MAP", json.dumps(maps))
    monkeypatch.setenv("LIUHEN_EDGE_LINK_SECRET", "test-secret")
    with LiveServer(create_app(runtime)) as srv:
        proc, port = start_front(srv.port, maps, open_tmp / "nginx", secret="test-secret")
        try:
            yield {"url": f"http://127.0.0.1:{port}", "api": srv.url, "sha": f["sha256"], "file": f,
                   "bytes": video.read_bytes(), "hdr": {"Authorization": f"Bearer {token}"}}
        finally:
            proc.terminate()
            proc.wait(10)


def _streams(runtime) -> int:  # type: ignore[no-untyped-def]
    return int(runtime.catalog.one("SELECT count(*) AS n FROM access_events WHERE kind = 'stream'")["n"])


def test_nginx_serves_the_range_after_the_api_recorded_the_access(runtime, front) -> None:  # type: ignore[no-untyped-def]
    url = f"{front['url']}/files/{front['sha']}/proxy?purpose=review"
    before = _streams(runtime)
    r = httpx.get(url, headers={**front["hdr"], "Range": "bytes=100-1099"})
    assert r.status_code == 206 and r.content == front["bytes"][100:1100]
    assert r.headers["content-range"] == f"bytes 100-1099/{len(front['bytes'])}"
    assert "x-accel-redirect" not in r.headers  # nginx consumed it
    assert _streams(runtime) == before + 1
    # the API alone answers with the redirect and no body
    r = httpx.get(f"{front['api']}/files/{front['sha']}/proxy?purpose=review", headers=front["hdr"])
    assert r.headers["x-accel-redirect"].startswith("/_liuhen/derived/") and r.content == b""


def test_internal_locations_and_unauthorised_requests_get_no_bytes(front) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(f"{front['api']}/files/{front['sha']}/proxy?purpose=review", headers=front["hdr"])
    internal = r.headers["x-accel-redirect"]
    assert httpx.get(front["url"] + internal).status_code == 404  # clients cannot ask for it
    r = httpx.get(f"{front['url']}/files/{front['sha']}/proxy?purpose=review")
    assert r.status_code == 401 and front["bytes"][:64] not in r.content


def test_without_the_setting_python_streams_as_before(runtime, front, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("LIUHEN_EDGE_ACCEL")
    r = httpx.get(f"{front['api']}/files/{front['sha']}/proxy?purpose=review",
                  headers={**front["hdr"], "Range": "bytes=0-99"})
    assert r.status_code == 206 and r.content == front["bytes"][:100] and "x-accel-redirect" not in r.headers


def test_accel_targets_for_local_store_objects_and_unmapped_files(runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    objects = Path(runtime.store.path_of("sha256/" + "ab" * 32)).parent
    edge = EdgeSettings(accel=True, accel_map={str(objects): "/_liuhen/store/"})
    key = "sha256/" + "ab" * 32
    assert accel_target(StoreReader(runtime.store, key), edge) == "/_liuhen/store/" + Path(
        runtime.store.path_of(key)).name
    assert accel_target(FileReader(tmp_path / "elsewhere.mp4"), edge) is None  # not mapped: Python streams it


def test_playback_link_is_issued_after_the_access_event_and_checked_by_nginx(runtime, front) -> None:  # type: ignore[no-untyped-def]
    """?link=true: the access is recorded, then nginx alone serves the link's Range requests until it expires."""
    before = _streams(runtime)
    got = httpx.get(f"{front['url']}/files/{front['sha']}/proxy?purpose=review&link=true", headers=front["hdr"])
    assert got.status_code == 200 and _streams(runtime) == before + 1
    url = front["url"] + got.json()["url"]
    r = httpx.get(url, headers={"Range": "bytes=5-104"})
    assert r.status_code == 206 and r.content == front["bytes"][5:105]
    assert httpx.get(url.replace("md5=", "md5=x")).status_code == 403  # forged
    target = got.json()["url"].split("?")[0].removeprefix("/_liuhen/signed")
    edge = EdgeSettings(link_secret="test-secret")
    stale, _ = signed_link(target, edge, "127.0.0.1", now=1_000_000)  # expired long ago
    assert httpx.get(front["url"] + stale).status_code == 410
    other, _ = signed_link(target, edge, "10.9.9.9")  # issued to another address
    assert httpx.get(front["url"] + other).status_code == 403
    assert httpx.get(f"{front['url']}/files/{front['sha']}/proxy?purpose=review&link=true").status_code == 401
