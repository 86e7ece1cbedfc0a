"""Scale-out on RabbitMQ: several ``dramatiq liuhen.worker`` processes share the work; one is
SIGKILLed mid-job and RabbitMQ redelivers its unacked message to the others; no duplicates result.

Needs RabbitMQ at ``LIUHEN_TEST_AMQP_URL`` (default amqp://guest:guest@127.0.0.1:5672/, as in CI);
skipped when unreachable. Each run uses its own queue names, deleted afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from urllib.parse import urlparse

import pytest

from liuhen.core.media import make_video

AMQP = os.environ.get("LIUHEN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
N_WORKERS = 3
N_FILES = 6


def delete_queues(broker, queue: str) -> None:  # type: ignore[no-untyped-def]
    """Drop a test's queues (with their delay, dead-letter and backfill siblings) and close the broker."""
    for q in (queue, f"{queue}.DQ", f"{queue}.XQ", f"{queue}.backfill", f"{queue}.backfill.DQ", f"{queue}.backfill.XQ"):
        try:
            broker.channel.queue_delete(q)
        except Exception:  # best-effort cleanup of a test queue
            pass
    broker.close()


def _rabbit_up() -> bool:
    u = urlparse(AMQP)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 5672), timeout=2):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.slow,  # worker processes on RabbitMQ, one SIGKILLed: ~20 s
    pytest.mark.skipif(not _rabbit_up(), reason=f"RabbitMQ not reachable at {AMQP}"),
]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("scale")
    return [
        make_video(d / f"c{i}.mp4", seconds=5, codec="hevc", width=320, height=240, bitrate="300k", seed=20 + i)
        for i in range(N_FILES)
    ]


def _wait(pred, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_workers_share_work_and_survive_sigkill(runtime, settings, clips, add, tmp_path):
    from dramatiq import Message
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    ids = [add(c) for c in clips]
    queue = f"liuhen.test.{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "LIUHEN_DATA_DIR": str(settings.data_dir),
        "LIUHEN_DATABASE_URL": runtime.database_url,
        "LIUHEN_STORE": "local",
        "LIUHEN_BROKER_URL": AMQP,
        "LIUHEN_TRANSCODER_QUEUE": queue,
        "LIUHEN_PROXY_PRESET": "slow",  # make each job last long enough to be killed in the middle
        "LIUHEN_TRANSCODER_MIN_BACKOFF_MS": "200",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "liuhen.worker", "-p", "1", "-t", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"worker{i}.log", "wb"),
            start_new_session=True,
        )
        for i in range(N_WORKERS)
    ]
    broker = RabbitmqBroker(url=AMQP)
    try:
        broker.declare_queue(queue)
        for fid in ids:
            broker.enqueue(Message(queue_name=queue, actor_name="liuhen_transcode", args=(fid,), kwargs={}, options={}))
        # Kill the process running a job in flight. If the kill lands just after that job committed its
        # file (a race we cannot rule out from outside), it was not "mid-job": try another one.
        running = None
        for _attempt in range(3):
            cand = _wait(
                lambda: runtime.catalog.one(
                    "SELECT j.id, j.file_id, j.pid FROM transcode_jobs j JOIN files f ON f.id = j.file_id "
                    "WHERE j.finished_at IS NULL AND f.media_status = 'pending' ORDER BY j.id LIMIT 1"
                ),
                90,
                "a running job",
            )
            os.kill(cand["pid"], signal.SIGKILL)
            time.sleep(0.5)
            status = runtime.catalog.one("SELECT media_status FROM files WHERE id = %s", (cand["file_id"],))
            if status["media_status"] == "pending":
                running = cand
                break
        assert running is not None, "could not kill a worker in the middle of a job"
        _wait(
            lambda: runtime.catalog.one(
                "SELECT count(*) = %s AS done FROM files WHERE media_status = 'ok'", (N_FILES,)
            )["done"],
            150,
            "all files transcoded",
        )
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        delete_queues(broker, queue)

    jobs = runtime.catalog.all("SELECT file_id, pid, outcome FROM transcode_jobs ORDER BY id")
    killed = [j for j in jobs if j["pid"] == running["pid"] and j["file_id"] == running["file_id"]]
    assert killed and killed[0]["outcome"] is None  # it never finished: the process died mid-job
    redone = [j for j in jobs if j["file_id"] == running["file_id"] and j["outcome"] == "ok"]
    assert redone and all(j["pid"] != running["pid"] for j in redone)
    ok_pids = {j["pid"] for j in jobs if j["outcome"] == "ok"}
    assert len(ok_pids) >= 2, f"work was not spread: {jobs}"
    dup = runtime.catalog.one(
        "SELECT count(*) AS n FROM (SELECT file_id, kind, seq FROM derivatives GROUP BY 1, 2, 3 HAVING count(*) > 1) x"
    )
    assert dup["n"] == 0
    assert runtime.catalog.one("SELECT count(DISTINCT file_id) AS n FROM derivatives")["n"] == N_FILES
