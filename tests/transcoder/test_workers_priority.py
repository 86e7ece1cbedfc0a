"""Ingest-path transcoding is served before backfill (transcoder.actors: two queues, priorities 0 and 50).

A real ``dramatiq liuhen.worker`` process (one thread) on RabbitMQ finds a backlog of backfill messages
queued *before* the ingest-path ones. In FIFO order the ingest files would come last; the worker must
start them first. Needs RabbitMQ at ``LIUHEN_TEST_AMQP_URL``; each run uses its own queue names.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest

from liuhen.core.media import make_video
from tests.transcoder.test_workers_scaleout import AMQP, _rabbit_up, _wait, delete_queues

N_BACKFILL = 6
N_INGEST = 3

pytestmark = [
    pytest.mark.slow,  # a worker process transcodes 9 clips: ~20 s
    pytest.mark.skipif(not _rabbit_up(), reason=f"RabbitMQ not reachable at {AMQP}"),
]


def test_ingest_messages_overtake_a_backfill_backlog(runtime, settings, add, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dramatiq import Message
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    clips = [
        make_video(tmp_path / f"p{i}.mp4", seconds=2, width=160, height=120, bitrate="200k", seed=60 + i)
        for i in range(N_BACKFILL + N_INGEST)
    ]
    ids = [add(c) for c in clips]
    backfill, ingest = ids[:N_BACKFILL], ids[N_BACKFILL:]
    queue = f"liuhen.test.{uuid.uuid4().hex[:10]}"
    broker = RabbitmqBroker(url=AMQP)
    proc = None
    try:
        # what transcoder.jobs.enqueue sends: the backlog first (a sweep), then files fresh from a dock
        for q in (queue, f"{queue}.backfill"):
            broker.declare_queue(q)
        for fid in backfill:
            broker.enqueue(Message(f"{queue}.backfill", "liuhen_transcode_backfill", (fid,), {}, {}))
        for fid in ingest:
            broker.enqueue(Message(queue, "liuhen_transcode", (fid,), {}, {}))
        env = {
            **os.environ,
            "LIUHEN_DATA_DIR": str(settings.data_dir),
            "LIUHEN_DATABASE_URL": runtime.database_url,
            "LIUHEN_STORE": "local",
            "LIUHEN_BROKER_URL": AMQP,
            "LIUHEN_TRANSCODER_QUEUE": queue,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "liuhen.worker", "-p", "1", "-t", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "worker.log", "wb"),
            start_new_session=True,
        )
        _wait(
            lambda: runtime.catalog.one(
                "SELECT count(*) = %s AS done FROM files WHERE media_status <> 'pending'", (len(ids),)
            )["done"],
            180,
            "every clip transcoded",
        )
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        delete_queues(broker, queue)
    started = [int(r["file_id"]) for r in runtime.catalog.all("SELECT file_id FROM transcode_jobs ORDER BY id")]
    first = list(dict.fromkeys(started))  # first start of each file, in order
    positions = sorted(first.index(f) + 1 for f in ingest)
    # FIFO would give positions 7, 8, 9. The one worker thread may take a backfill message that reached it
    # before any ingest message did (both consumers prefetch at start-up), so at most one backfill job
    # may precede the last ingest job.
    assert positions[-1] <= N_INGEST + 1, f"ingest files started at {positions} of {first}"
