"""In-process dramatiq workers on the StubBroker: enqueue → derivatives; sweeps; duplicates harmless."""

from __future__ import annotations

from liuhen.transcoder.jobs import enqueue, enqueue_pending
from liuhen.transcoder.workers import InProcessWorkers


def test_in_process_workers_process_enqueued_and_pending(runtime, media, add):
    a = add(media["h264_mp4"])
    b = add(media["hevc_mp4"])
    c = add(media["wav"], "audio")
    workers = InProcessWorkers(runtime, threads=2).start()
    try:
        enqueue(a)
        enqueue(a)  # a duplicate delivery
        assert sorted(enqueue_pending(runtime)) == sorted([a, b, c])
        assert workers.join_idle(timeout=120)
    finally:
        workers.stop()
    rows = runtime.catalog.all("SELECT id, media_status FROM files ORDER BY id")
    assert {r["media_status"] for r in rows} == {"ok"}
    dup = runtime.catalog.one(
        "SELECT count(*) AS n FROM (SELECT file_id, kind, seq FROM derivatives GROUP BY 1, 2, 3 HAVING count(*) > 1) x"
    )
    assert dup["n"] == 0
    jobs = runtime.catalog.all("SELECT file_id, outcome FROM transcode_jobs WHERE file_id = %s", (a,))
    assert sorted(j["outcome"] for j in jobs) in (["ok"], ["ok", "skipped"], ["ok", "skipped", "skipped"])
    assert enqueue_pending(runtime) == []
