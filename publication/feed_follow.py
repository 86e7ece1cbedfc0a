"""``liuhen feed follow URL``: pull batches over HTTP, verify each (``feed_consumer.accept``), keep them.

The state file is saved only after the batch's items are durably in the sink; on start the sink drops
any line past the saved state (a crash between the two), so every leaf is kept exactly once and a
consumer that was offline for days resumes from its cursor.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from liuhen.publication.errors import FeedRejected, FeedUnavailable
from liuhen.publication.feed_consumer import ConsumerState, JsonlSink, accept

_log = logging.getLogger(__name__)


@dataclass
class FollowResult:
    next: int
    checkpoint_size: int
    batches: int
    items: int
    dropped_uncommitted: int

    def as_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def initial_state(state_path: Path, trusted_keys: list[str], origin: str | None) -> ConsumerState:
    """The saved state, or a new one trusting ``trusted_keys`` (origin defaults to the first key's name)."""
    if state_path.exists():
        return ConsumerState.load(state_path)
    if not trusted_keys:
        raise FeedRejected("a first follow needs --trusted-key (the log's published verifier key)")
    return ConsumerState(origin or trusted_keys[0].split("+", 1)[0], list(trusted_keys))


def _get(client: httpx.Client, url: str, cursor: str, limit: int, token: str | None) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        r = client.get(url, params={"cursor": cursor, "limit": limit}, headers=headers)
    except httpx.HTTPError as exc:
        raise FeedUnavailable(f"{url}: {type(exc).__name__}: {exc}") from exc
    if r.status_code != 200:
        raise FeedUnavailable(f"{url}: HTTP {r.status_code}: {r.text[:300]}")
    try:
        return r.json()
    except ValueError as exc:
        raise FeedUnavailable(f"{url}: the answer is not JSON") from exc


def follow(url: str, state_path: Path, sink_path: Path, *, token: str | None = None,
           trusted_keys: list[str] | None = None, origin: str | None = None, limit: int = 500,
           max_batches: int | None = None, timeout_s: float = 30.0) -> FollowResult:
    """Pull and verify until caught up with the server's latest checkpoint (or ``max_batches``)."""
    state = initial_state(state_path, trusted_keys or [], origin)
    sink = JsonlSink(sink_path)
    dropped = sink.recover(state.next)
    batches = items = 0
    with httpx.Client(timeout=timeout_s) as client:
        while max_batches is None or batches < max_batches:
            new, b = accept(state, _get(client, url, state.cursor.text(), limit, token))
            sink.write(b.items)
            new.save(state_path)
            state = new
            batches += 1
            items += len(b.items)
            if b.end == b.size:
                break
    return FollowResult(state.next, state.known_size, batches, items, dropped)


def watch(url: str, state_path: Path, sink_path: Path, interval_s: float, **kw: Any) -> None:
    """Follow forever, every ``interval_s`` seconds (a server that is down is retried, not fatal)."""
    while True:
        try:
            follow(url, state_path, sink_path, **kw)
        except FeedUnavailable as exc:
            _log.warning("feed unavailable, retrying in %.0f s: %s", interval_s, exc)
        time.sleep(interval_s)
