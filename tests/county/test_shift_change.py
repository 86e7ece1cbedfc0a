"""A small shift change on separate hosts, with every fault of the issue (``benchmarks.county`` runs the big one).

12 recorders across 4 stations, 1 worker, 2 API nodes, private PostgreSQL and RabbitMQ, Ceph RGW with the
per-component bucket policy. Faults during docking: SIGKILL a station, the worker and an API node (mid-stream), restart
RabbitMQ, restart PostgreSQL, the store unreachable. Afterwards every recorder is SAFE TO WIPE, every video
has its proxy, no source file is lost, no receipt claims a file the log or the store does not hold, and
``liuhen audit verify`` passes.
"""

from __future__ import annotations

import shutil

import pytest

from liuhen.benchmarks.county import shift_change
from liuhen.benchmarks.county_shift import Shift
from tests.storage.conftest import read_rgw_env


@pytest.mark.slow
def test_shift_change_with_faults_loses_nothing() -> None:
    read_rgw_env()  # skips, saying why, without RGW
    if not shutil.which("radosgw-admin"):
        pytest.skip("radosgw-admin missing: cannot create per-component S3 users")
    s = Shift(recorders=12, stations=4, workers=1, spread_s=30, store_down_s=8, faults=True, timeout_s=420)
    try:
        r = shift_change(s)
    finally:
        shutil.rmtree(s.root, ignore_errors=True)
    print("\n".join(s.log))
    faults = [line for line in s.log if "fault:" in line]
    assert len(faults) >= 6, faults  # station, worker, API node, RabbitMQ, PostgreSQL, store
    assert r["safe_recorders"] == 12, r
    assert r["state"]["proxied"] == r["state"]["videos"] > 0, r
    assert r["lost"] == 0 and r["receipts_overclaimed"] == 0, r
    assert r["audit_verify_ok"], r
    # api1 was SIGKILLed while a player was mid-stream: the transfer was cut, resumed on api2 by Range, intact
    sf = r["stream_failover"]
    assert sf["cut"] and sf["bytes_before_resume"] < sf["size"] and sf["complete_and_intact"], sf
    # one playback session across both nodes: api1 recorded it before its first byte, api2 found it committed
    assert sf["access_events"] == 1, sf
