"""Shared browser-test plumbing: a live server with a request recorder, Chromium, sign-in, test footage."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from liuhen.api.app import create_app
from liuhen.console.app import mount

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Hit:
    """One request the server received, and what it had done when it sent the first body byte."""

    method: str
    path: str
    range: str | None
    status: int | None = None
    stream_events_at_first_byte: int | None = None
    sent: int = 0


@dataclass
class Recorder:
    """ASGI wrapper: records every request; for footage, counts committed access events at the first byte."""

    app: Any
    runtime: Any
    hits: list[Hit] = field(default_factory=list)
    throttle_bps: float | None = None  # pace footage bodies like a station network (None = loopback speed)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        hit = Hit(scope["method"], scope["path"], (headers.get(b"range") or b"").decode() or None)
        self.hits.append(hit)
        footage = scope["path"].endswith("/proxy") or "/thumbnails/" in scope["path"]

        async def wrapped(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                hit.status = msg["status"]
            elif msg.get("body") and footage and hit.stream_events_at_first_byte is None:
                hit.sent += len(msg["body"])
                row = self.runtime.catalog.one("SELECT count(*) AS n FROM access_events")
                hit.stream_events_at_first_byte = int(row["n"])
            elif msg.get("body"):
                hit.sent += len(msg["body"])
            await send(msg)
            if footage and self.throttle_bps and msg.get("body"):
                await asyncio.sleep(len(msg["body"]) / self.throttle_bps)

        await self.app(scope, receive, wrapped)

    def footage(self, sha256: str) -> list[Hit]:
        return [h for h in self.hits if h.path.endswith(f"/files/{sha256}/proxy")]


class LiveServer:
    def __init__(self, runtime: Any, settings: Any) -> None:
        app = create_app(runtime)
        mount(app, runtime, settings=settings)
        self.recorder = Recorder(app, runtime)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.recorder, host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def sign_in(page: Any, base: str, user: str, password: str) -> None:
    page.goto(base + "/ui/login")
    page.fill("[data-testid=login-user]", user)
    page.fill("[data-testid=login-password]", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(base + "/ui/")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
