"""Runtime wiring: events recorded by a CLI-style process are sequenced before it exits."""

from __future__ import annotations

from liuhen.core.config import Settings
from liuhen.integrity import log as auditlog
from liuhen.integrity.events import Event
from liuhen.wiring import build_runtime


def test_closing_the_runtime_sequences_pending_events(settings: Settings) -> None:
    rt = build_runtime(settings)
    with rt.catalog.tx() as conn:
        event_id = auditlog.record(conn, Event("case.create", "cli:test", {"case": "X-1"}))
    assert auditlog.index_of(rt.catalog, event_id) is None  # pending: nobody sequenced it yet
    rt.close()
    rt2 = build_runtime(settings)
    try:
        assert auditlog.index_of(rt2.catalog, event_id) is not None
    finally:
        rt2.close()
