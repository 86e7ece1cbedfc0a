"""API fixtures: an app on the test runtime, one token per role, a real uvicorn server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from liuhen.api.roles import ROLES


@pytest.fixture
def app(runtime):  # type: ignore[no-untyped-def]
    from liuhen.api.app import create_app

    return create_app(runtime)


@pytest.fixture
def tokens(runtime) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One token per role (users named after their role, unit U1), plus 'supervisor2' and 'outsider' (unit U2)."""
    from liuhen.api.auth import issue_token

    out: dict[str, str] = {}
    for role in ROLES:
        out[role], _ = issue_token(runtime, user=role, role=role, unit_code="U1", actor="test-admin")
    out["supervisor2"], _ = issue_token(runtime, user="supervisor2", role="supervisor", unit_code="U1", actor="t")
    out["outsider"], _ = issue_token(runtime, user="outsider", role="reviewer", unit_code="U2", actor="t")
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


class LiveServer:
    def __init__(self, app: Any) -> None:
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live(app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The app on a real uvicorn server (loopback, random port); ``live.requests`` logs (status, Range)."""
    requests: list[tuple[int, str | None]] = []

    @app.middleware("http")
    async def _log(request, call_next):  # type: ignore[no-untyped-def]
        resp = await call_next(request)
        requests.append((resp.status_code, request.headers.get("range")))
        return resp

    with LiveServer(app) as srv:
        srv.requests = requests  # type: ignore[attr-defined]
        yield srv
