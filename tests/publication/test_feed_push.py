"""Push option: a webhook that is down, then takes a batch but loses its answer, still ends up with every
leaf exactly once; retries resend the same batch under the same delivery id."""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse

from liuhen.integrity import keys as logkeys
from liuhen.publication import feed_push
from liuhen.publication.feed_consumer import ConsumerState, accept
from tests.api.conftest import LiveServer

from .test_feed import activity


def receiver(state: ConsumerState, plan: list[str]) -> tuple[FastAPI, dict[str, Any]]:
    """A platform's webhook: verifies with the reference consumer, drops redeliveries by id."""
    got: dict[str, Any] = {"state": state, "indices": [], "ids": [], "seen": set()}
    app = FastAPI()

    @app.post("/hook")
    def hook(request: Request, doc: dict[str, Any] = Body(...)) -> Any:
        did = request.headers["Idempotency-Key"]
        got["ids"].append(did)
        if did in got["seen"]:
            return {"duplicate": did}
        mode = plan.pop(0) if plan else "ok"
        if mode == "down":
            return JSONResponse({"error": "maintenance"}, status_code=503)
        got["state"], b = accept(got["state"], doc)
        got["indices"] += [it.index for it in b.items]
        got["seen"].add(did)
        if mode == "lost-ack":
            return JSONResponse({"error": "timeout writing ack"}, status_code=500)
        return {"ok": did}

    return app, got


def test_push_retries_and_idempotent_delivery(runtime: Any) -> None:
    n = activity(runtime, 0)
    state = ConsumerState(runtime.settings.log_origin, [logkeys.public_key(runtime.settings)])
    app, got = receiver(state, ["down", "down", "lost-ack"])
    with LiveServer(app) as srv:
        feed_push.add_consumer(runtime, "platform", f"{srv.url}/hook", "admin", batch_size=6)
        results = []
        for _ in range(30):
            runtime.catalog.one("UPDATE feed_deliveries SET next_attempt_at = now() RETURNING 1")  # time passes
            res = feed_push.push_once(runtime, "platform")
            if res is None:
                break
            results.append(res)
        assert feed_push.push_once(runtime, "platform") is None  # caught up
    first = results[0]["delivery_id"]
    assert [r["delivered"] for r in results[:4]] == [False, False, False, True]  # down, down, lost ack, ok
    assert {r["delivery_id"] for r in results[:4]} == {first} and results[3]["attempt"] == 4
    assert "HTTP 503" in str(results[0]["error"])
    assert got["indices"] == list(range(n))  # every leaf once, although batch 1 was received twice
    assert got["ids"].count(first) == 4
    c = runtime.catalog.one("SELECT next_index, known_size FROM feed_consumers WHERE name = 'platform'")
    assert (c["next_index"], c["known_size"]) == (n, n)
    assert feed_push.backoff(1).total_seconds() == 5 and feed_push.backoff(30).total_seconds() == 3600
