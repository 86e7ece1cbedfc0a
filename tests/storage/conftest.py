"""Backends for the one conformance suite: memory, local, S3 on moto's server, S3 on Ceph RGW.

RGW: ``.ci/ceph-rgw.sh`` starts it and writes its endpoint and credentials to
``/tmp/liuhen-ceph/rgw.env`` (or ``$LIUHEN_TEST_RGW_ENV``); without it the RGW cases skip and say why.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from liuhen.storage.base import ObjectStore

RGW_ENV = Path(os.environ.get("LIUHEN_TEST_RGW_ENV", "/tmp/liuhen-ceph/rgw.env"))
BACKENDS = ["memory", "local", "s3-moto", "s3-rgw"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    pytest.importorskip("moto.server")
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def read_rgw_env() -> dict[str, str]:
    """The RGW endpoint and credentials, or ``pytest.skip`` with the reason it is not usable."""
    if not RGW_ENV.exists():
        pytest.skip(f"Ceph RGW not configured: {RGW_ENV} missing (run .ci/ceph-rgw.sh as root)")
    env = {}
    for line in RGW_ENV.read_text().splitlines():
        line = line.strip().removeprefix("export ")
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k] = v.strip().strip("'\"")
    url = env.get("LIUHEN_S3_ENDPOINT_URL", "")
    host, _, port = url.removeprefix("http://").partition(":")
    try:
        socket.create_connection((host, int(port or 80)), timeout=2).close()
    except (OSError, ValueError) as exc:
        pytest.skip(f"Ceph RGW not reachable at {url!r}: {exc} (run .ci/ceph-rgw.sh as root)")
    return env


_BUCKETS: dict[str, object] = {}


def s3_store(endpoint: str, key_id: str, secret: str, *, label: str, fresh: bool = False):  # type: ignore[no-untyped-def]
    """An S3Store on a bucket made once per session and endpoint (``fresh``: a new bucket)."""
    from liuhen.storage.s3 import S3Settings, S3Store, create_bucket_if_missing

    if not fresh and endpoint in _BUCKETS:
        return S3Store(_BUCKETS[endpoint], default_retention_days=180)  # type: ignore[arg-type]
    cfg = S3Settings(
        endpoint_url=endpoint,
        bucket=f"liuhen-test-{label}-{uuid.uuid4().hex[:10]}",
        region="us-east-1",
        access_key_id=key_id,
        secret_access_key=secret,
        multipart_threshold=5 << 20,
        part_size=5 << 20,
    )
    create_bucket_if_missing(cfg)
    if not fresh:
        _BUCKETS[endpoint] = cfg
    return S3Store(cfg, default_retention_days=180)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    kind = request.param
    if kind == "memory":
        from liuhen.storage.memory import MemoryStore

        return MemoryStore()
    if kind == "local":
        from liuhen.storage.local import LocalStore

        return LocalStore(tmp_path / "store")
    if kind == "s3-moto":
        endpoint = request.getfixturevalue("moto_endpoint")
        return s3_store(endpoint, "testing", "testing", label="moto")
    env = read_rgw_env()
    return s3_store(env["LIUHEN_S3_ENDPOINT_URL"], env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], label="rgw")
