"""The catalog side of an offload (``ingest.register``): session rows, the ingestion event, resume."""

from __future__ import annotations

from pathlib import Path

from liuhen.ingest.offload import ingest_path
from liuhen.ingest.receipts import VERIFIED, FileReceipt, Receipt
from liuhen.ingest.register import ingestion_event
from tests.ingest.helpers import make_recorder


def test_every_file_of_a_large_recorder_gets_its_session_row_in_one_pipeline(runtime, dock: Path) -> None:
    """120 files: one row per file in the session (``executemany``), each stored, each with its own event."""
    make_recorder(dock / "p1", "DSJ-A-0001", n=120, size=2_000)
    (r,) = ingest_path(runtime, dock, actor="t")
    assert r.safe_to_wipe and len(r.files) == 120 and {f.status for f in r.files} == {VERIFIED}
    rows = runtime.catalog.all(
        "SELECT source_path, status, event_id FROM session_files WHERE session_id = %s ORDER BY id", (r.session_id,)
    )
    assert [x["source_path"] for x in rows] == [f.path for f in r.files]  # in scan order
    assert {x["status"] for x in rows} == {"stored"} and len({x["event_id"] for x in rows}) == 120


def test_a_redock_resumes_from_the_rows_of_the_earlier_session(runtime, dock: Path) -> None:
    make_recorder(dock / "p1", "DSJ-A-0001", n=3)
    (first,) = ingest_path(runtime, dock, actor="t")
    (again,) = ingest_path(runtime, dock, actor="t")
    assert again.session_id != first.session_id and all(f.resumed for f in again.files) and again.safe_to_wipe
    assert [f.event_id for f in again.files] == [f.event_id for f in first.files]  # no new sighting events


def test_ingestion_event_names_the_sighting() -> None:
    """Known answer: the event's subject is the digest; its data the recorder, path and session (by hand)."""
    r = Receipt(session_id=7, dock="/dock", port="p1", recorder_key="DSJ-A-0001", device=None, started_at="",
                digests=["sha256"], store="local", actor="t")
    fr = FileReceipt(path="DCIM/100MEDIA/a.MP4", size=3, status=VERIFIED, sha256="ab" * 32)
    ev = ingestion_event("t", r, None, "DSJ-A-0001", fr)
    assert ev.type == "ingestion" and ev.subject == {"sha256": "ab" * 32}
    assert (ev.data["source_path"], ev.data["ingest_session"], ev.data["port"], ev.data["recorder_key"]) == (
        "DCIM/100MEDIA/a.MP4", 7, "p1", "DSJ-A-0001")
    assert ev.data["device_serial"] is None and ev.data["size"] == 3
