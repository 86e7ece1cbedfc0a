"""Push option of the supervision feed: POST each batch to a consumer's webhook, with retries.

Each consumer (``feed_consumers``) has a cursor. ``push_once`` resends the consumer's pending delivery
— the *same* batch, cut at the same checkpoint, with the same delivery id — or cuts the next one, and
POSTs it as JSON with headers ``Idempotency-Key`` and ``X-Liuhen-Delivery`` set to the delivery id
(``<origin>:<start>-<end>@<size>``). A 2xx answer marks it delivered and advances the cursor; anything
else schedules a retry with exponential backoff (5 s doubling, at most 1 h; it never gives up — the
delivery row shows attempts and the last error). A receiver that got a batch but whose answer was lost
sees the same id again and acknowledges without applying it twice. Run one pusher per database
(``liuhen feed push run``); the HTTP call happens outside any transaction.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import httpx

from liuhen.core.errors import LiuhenError
from liuhen.core.timefmt import utcnow
from liuhen.publication.errors import FeedUnavailable
from liuhen.publication.feed_format import Cursor
from liuhen.publication.feed_server import build_batch
from liuhen.runtime import Runtime

BASE_BACKOFF_S, MAX_BACKOFF_S = 5.0, 3600.0
_log = logging.getLogger(__name__)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2 ** max(0, attempts - 1)))


def add_consumer(rt: Runtime, name: str, url: str, actor: str, batch_size: int = 500) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise FeedUnavailable(f"webhook URL must be http(s): {url!r}")
    row = rt.catalog.one(
        "INSERT INTO feed_consumers (name, url, batch_size, created_by) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, batch_size = EXCLUDED.batch_size RETURNING *",
        (name, url, batch_size, actor))
    assert row is not None
    return dict(row)


def _next_delivery(rt: Runtime, c: dict[str, Any], now: datetime) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The delivery to attempt now (pending and due, else a new one), or None."""
    with rt.catalog.tx() as conn:
        d = conn.execute("SELECT * FROM feed_deliveries WHERE consumer_id = %s AND status = 'pending' "
                         "ORDER BY id LIMIT 1", (c["id"],)).fetchone()
        if d is not None:
            if d["next_attempt_at"] > now:
                return None
            b = build_batch(rt, Cursor(d["start_index"], c["known_size"]), d["end_index"] - d["start_index"],
                            size=d["size"])
            return dict(d), b.as_json()
        b = build_batch(rt, Cursor(c["next_index"], c["known_size"]), c["batch_size"])
        if not b.items and b.size == c["known_size"]:
            return None  # nothing new
        d = conn.execute(
            "INSERT INTO feed_deliveries (consumer_id, delivery_id, start_index, end_index, size) "
            "VALUES (%s,%s,%s,%s,%s) ON CONFLICT (consumer_id, delivery_id) DO UPDATE SET status = 'pending' "
            "RETURNING *", (c["id"], b.delivery_id, b.start, b.end, b.size)).fetchone()
        assert d is not None
        return dict(d), b.as_json()


def push_once(rt: Runtime, name: str, *, client: httpx.Client | None = None) -> dict[str, Any] | None:
    """Attempt one delivery to consumer ``name``; returns what happened (None: nothing to do yet)."""
    c = rt.catalog.one("SELECT * FROM feed_consumers WHERE name = %s AND enabled", (name,))
    if c is None:
        raise FeedUnavailable(f"no enabled feed consumer {name!r}")
    now = utcnow()
    nxt = _next_delivery(rt, c, now)
    if nxt is None:
        return None
    d, doc = nxt
    headers = {"Idempotency-Key": d["delivery_id"], "X-Liuhen-Delivery": d["delivery_id"]}
    err = None
    http = client or httpx.Client(timeout=30.0)
    try:
        r = http.post(c["url"], json=doc, headers=headers)
        ok = 200 <= r.status_code < 300
        err = None if ok else f"HTTP {r.status_code}: {r.text[:200]}"
    except httpx.HTTPError as exc:
        ok, err = False, f"{type(exc).__name__}: {exc}"
    finally:
        if client is None:
            http.close()
    with rt.catalog.tx() as conn:
        if ok:
            conn.execute("UPDATE feed_deliveries SET status = 'delivered', attempts = attempts + 1, "
                         "delivered_at = now(), last_error = NULL WHERE id = %s", (d["id"],))
            conn.execute("UPDATE feed_consumers SET next_index = %s, known_size = %s WHERE id = %s",
                         (d["end_index"], d["size"], c["id"]))
        else:
            conn.execute("UPDATE feed_deliveries SET attempts = attempts + 1, last_error = %s, "
                         "next_attempt_at = %s WHERE id = %s", (err, now + backoff(d["attempts"] + 1), d["id"]))
    return {"delivery_id": d["delivery_id"], "delivered": ok, "attempt": d["attempts"] + 1, "error": err}


def run_pusher(rt: Runtime, stop: threading.Event, interval_s: float = 5.0) -> None:
    """Push to every enabled consumer until ``stop`` (one pusher per database)."""
    while not stop.is_set():
        for c in rt.catalog.all("SELECT name FROM feed_consumers WHERE enabled ORDER BY id"):
            try:
                while not stop.is_set() and (res := push_once(rt, c["name"])) is not None and res["delivered"]:
                    pass
            except LiuhenError as exc:  # e.g. no checkpoint yet; try again next round
                _log.warning("feed push to %s: %s", c["name"], exc)
        stop.wait(interval_s)
