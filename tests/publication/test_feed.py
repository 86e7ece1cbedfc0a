"""The supervision feed over real HTTP: a consumer offline for days resumes from its cursor with nothing
missing and nothing twice (also across a crash between keeping items and saving its cursor), and the
reference consumer rejects a rewritten history, an altered leaf and a dropped leaf."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from liuhen.api.app import create_app
from liuhen.api.auth import issue_token
from liuhen.cases import service as cases
from liuhen.cases.access import record_event
from liuhen.integrity import checkpoint, note, rfc6962
from liuhen.integrity import keys as logkeys
from liuhen.integrity.checkpoint import CheckpointBody
from liuhen.publication.errors import FeedRejected
from liuhen.publication.feed_consumer import ConsumerState, JsonlSink, accept
from liuhen.publication.feed_follow import follow
from liuhen.publication.feed_format import Cursor
from liuhen.publication.feed_server import build_batch
from tests.api.conftest import LiveServer


def activity(rt: Any, day: int, n: int = 3) -> int:
    """A day's worth of events (cases, stages, an access view) then a published checkpoint; returns its size."""
    for i in range(n):
        no = f"D{day}-{i}"
        cases.create_case(rt, case_no=no, agency="A", subject="张三", case_type="penalty", actor="clerk")
        cases.advance_stage(rt, no, "investigation", "clerk")
        with rt.catalog.tx() as conn:
            record_event(conn, "access.view", "reviewer", subject={"case": no}, data={"purpose": "复核"})
    return checkpoint.publish(rt.catalog, rt.settings).size


def leaves(rt: Any, size: int) -> list[dict[str, Any]]:
    return rt.catalog.all("SELECT idx, body, leaf_hash FROM log_events WHERE idx < %s ORDER BY idx", (size,))


@pytest.fixture
def feed(runtime: Any) -> Any:
    token, _ = issue_token(runtime, user="platform", role="supervisor", unit_code=None, actor="admin")
    with LiveServer(create_app(runtime)) as srv:
        yield runtime, f"{srv.url}/feed/batches", token


def test_offline_for_days_resumes_with_nothing_missing_or_twice(feed: Any, tmp_path: Path) -> None:
    rt, url, token = feed
    key = logkeys.public_key(rt.settings)
    state, sink = tmp_path / "state.json", tmp_path / "items.jsonl"
    n1 = activity(rt, 0)
    r = follow(url, state, sink, token=token, trusted_keys=[key], limit=5)
    assert (r.next, r.checkpoint_size) == (n1, n1) and r.batches == -(-n1 // 5)
    for day in range(1, 4):  # offline: three days of work, a checkpoint each day
        n = activity(rt, day)
    # a crash after items were kept but before the cursor was saved: those lines must not count twice
    st = ConsumerState.load(state)
    _, b = accept(st, build_batch(rt, st.cursor, 4).as_json())
    JsonlSink(sink).write(b.items)
    r = follow(url, state, sink, token=token, limit=4)
    assert r.dropped_uncommitted == len(b.items) == 4
    assert (r.next, r.checkpoint_size) == (n, n)
    kept = [json.loads(ln) for ln in sink.read_text().splitlines()]
    assert [k["index"] for k in kept] == list(range(n))  # nothing missing, nothing twice, in order
    for k, leaf in zip(kept, leaves(rt, n), strict=True):
        if k["type"].startswith("access."):  # individual accesses travel as their hash only
            assert "event" not in k and base64.b64decode(k["leaf_hash"]) == bytes(leaf["leaf_hash"])
        else:
            assert k["event"] == json.loads(bytes(leaf["body"]))
    assert any(k["type"] == "access.view" for k in kept)
    assert follow(url, state, sink, token=token).items == 0  # caught up: an empty, verified batch


def _forged_batch(rt: Any, known: int, tamper_at: int) -> dict[str, Any]:
    """The log as an insider with the signing key would rewrite it: leaf ``tamper_at`` changed, the tree
    rebuilt and extended, a fresh checkpoint signed with the real key, proofs from the forged tree."""
    bodies = [bytes(r["body"]) for r in leaves(rt, 10**9)]
    ev = json.loads(bodies[tamper_at])
    ev["actor"] = "someone-else"
    bodies[tamper_at] = json.dumps(ev, separators=(",", ":"), sort_keys=True).encode()
    bodies += [bodies[-1]]  # and one more leaf, so the forged checkpoint is newer
    hashes = [rfc6962.leaf_hash(b) for b in bodies]
    size = len(bodies)
    body = CheckpointBody(rt.settings.log_origin, size, rfc6962.root(hashes))
    signed = note.sign(body.text(), [logkeys.signer(rt.settings)])
    b64 = lambda hs: [base64.b64encode(h).decode() for h in hs]  # noqa: E731
    return {
        "format": "liuhen.feed/v1", "origin": body.origin, "cursor": f"v1:{known}:{known}",
        "next_cursor": f"v1:{size}:{size}", "start": known, "end": size,
        "items": [{"index": i, "type": json.loads(bodies[i])["type"], "leaf": base64.b64encode(bodies[i]).decode()}
                  for i in range(known, size)],
        "checkpoint": signed, "consistency": {"from": known, "to": size,
                                              "proof": b64(rfc6962.consistency_proof(hashes, known, size))},
        "prefix": {"from": size, "to": size, "proof": []}, "derived": [], "delivery_id": "x"}


def test_reference_consumer_rejects_a_rewritten_history(feed: Any, tmp_path: Path) -> None:
    rt, url, token = feed
    state, sink = tmp_path / "state.json", tmp_path / "items.jsonl"
    n1 = activity(rt, 0)
    follow(url, state, sink, token=token, trusted_keys=[logkeys.public_key(rt.settings)])
    activity(rt, 1)
    forged = _forged_batch(rt, n1, tamper_at=2)
    evil = FastAPI()
    evil.get("/feed/batches")(lambda: forged)
    with LiveServer(evil) as srv, pytest.raises(FeedRejected, match="history rewritten"):
        follow(f"{srv.url}/feed/batches", state, sink)
    assert ConsumerState.load(state).next == n1  # nothing taken from the rejected batch
    assert len(sink.read_text().splitlines()) == n1
    # the genuine feed still verifies and continues
    assert follow(url, state, sink, token=token).next > n1


def test_reference_consumer_rejects_an_altered_or_dropped_leaf(runtime: Any) -> None:
    n = activity(runtime, 0)
    st = ConsumerState(runtime.settings.log_origin, [logkeys.public_key(runtime.settings)])
    good = build_batch(runtime, Cursor(0, 0), n).as_json()
    i = next(k for k, it in enumerate(good["items"]) if "leaf" in it)
    altered = json.loads(json.dumps(good))
    ev = json.loads(base64.b64decode(altered["items"][i]["leaf"]))
    ev["data"]["subject"] = "李四"
    altered["items"][i]["leaf"] = base64.b64encode(json.dumps(ev).encode()).decode()
    with pytest.raises(FeedRejected, match="a leaf was dropped, altered or reordered"):
        accept(st, altered)
    dropped = json.loads(json.dumps(good))
    del dropped["items"][3]
    with pytest.raises(FeedRejected, match="gap: item 3 is leaf 4, expected leaf 3"):
        accept(st, dropped)
    other_key = note.Signer.generate("other").verifier.vkey
    with pytest.raises(FeedRejected, match="checkpoint signature"):
        accept(ConsumerState(runtime.settings.log_origin, [other_key]), good)
    new, _ = accept(st, good)
    assert (new.next, new.known_size) == (n, n)
