"""Feed batch format: round trip, cursors, and the sequence checks that catch gaps and duplicates."""

from __future__ import annotations

import hashlib
import json

import pytest

from liuhen.publication.errors import FeedFormatError
from liuhen.publication.feed_format import (
    Batch,
    Cursor,
    Item,
    Proof,
    check_sequence,
    parse_batch,
    parse_cursor,
    withheld,
)

H = hashlib.sha256(b"x").digest()


def _batch(start: int = 10, n: int = 3, size: int = 20, known: int = 10) -> Batch:
    items = tuple(Item(start + i, "case.create", leaf=f'{{"i":{start + i}}}'.encode()) for i in range(n - 1))
    items += (Item(start + n - 1, "access.view", leaf_hash=H),)
    return Batch("liuhen.test/audit", start, start + n, items, "note\n", size, Proof(start + n, size, (H,)),
                 Proof(known, size, (H, H)) if known else None, ({"kind": "access_stats", "views": 2},), known)


def test_round_trip_through_json() -> None:
    b = _batch()
    doc = json.loads(json.dumps(b.as_json()))
    assert doc["cursor"] == "v1:10:10" and doc["next_cursor"] == "v1:13:20"
    assert doc["delivery_id"] == "liuhen.test/audit:10-13@20"
    assert parse_batch(doc) == b
    first = _batch(0, 2, 2, 0)
    assert "consistency" not in first.as_json() and parse_batch(first.as_json()) == first


def test_cursors() -> None:
    assert parse_cursor("v1:13:20") == Cursor(13, 20)
    for bad in ("", "v2:1:2", "v1:1", "v1:-1:2", "v1:a:2"):
        with pytest.raises(FeedFormatError, match="expected v1:<next leaf index>"):
            parse_cursor(bad)


def test_sequence_accepts_the_expected_range_only() -> None:
    b = _batch()
    check_sequence(b, 10)
    with pytest.raises(FeedFormatError, match="starts at leaf 10; the consumer needs leaf 11"):
        check_sequence(b, 11)


@pytest.mark.parametrize(
    ("indices", "message"),
    [((10, 12, 12), "gap: item 1 is leaf 12, expected leaf 11"),
     ((10, 10, 11), "duplicate: item 1 is leaf 10, expected leaf 11")],
)
def test_gaps_and_duplicates_are_named(indices: tuple[int, ...], message: str) -> None:
    b = _batch()
    items = tuple(Item(i, "case.create", leaf=b"{}") for i in indices)
    bad = Batch(b.origin, b.start, b.end, items, b.checkpoint, b.size, b.prefix, b.consistency, (), b.known)
    with pytest.raises(FeedFormatError, match=message):
        check_sequence(bad, 10)


def test_malformed_batches_are_named() -> None:
    doc = _batch().as_json()
    with pytest.raises(FeedFormatError, match=r"this consumer reads 'liuhen\.feed/v1'"):
        parse_batch({**doc, "format": "liuhen.feed/v9"})
    with pytest.raises(FeedFormatError, match=r"items\[0\]: exactly one of leaf, leaf_hash"):
        parse_batch({**doc, "items": [{"index": 10, "type": "x"}]})
    with pytest.raises(FeedFormatError, match=r"prefix.proof\[0\]: a hash is 32 bytes"):
        parse_batch({**doc, "prefix": {"from": 13, "to": 20, "proof": ["AAAA"]}})


def test_individual_accesses_are_withheld() -> None:
    assert withheld("access.view") and withheld("access.download") and not withheld("case.create")
