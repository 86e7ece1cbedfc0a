"""The county topology harness: every component host reaches PostgreSQL, RabbitMQ and the store over the
network and nothing else; namespaces and processes are gone afterwards; a restarted broker and database
answer again. Prints which mode ran (netns or loopback) and why.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from liuhen.benchmarks.county_topology import PG_BIN, RABBIT, Topology, netns_possible

PROBE = r"""
import json, socket, sys
import psycopg
db_url, mq, store = sys.argv[1], sys.argv[2].split(":"), sys.argv[3].split(":")
def tcp(ip, port):
    try:
        socket.create_connection((ip, int(port)), timeout=2).close(); return True
    except OSError:
        return False
out = {"mq": tcp(*mq), "store": tcp(*store), "root_loopback_pg": tcp("127.0.0.1", 5432)}
import pika
params = pika.URLParameters(f"amqp://guest:guest@{mq[0]}:{mq[1]}/")
conn = pika.BlockingConnection(params)
conn.channel().queue_declare("liuhen.probe")
conn.close()
out["amqp_login"] = True
with psycopg.connect(db_url, connect_timeout=5) as c:
    out["db"] = c.execute("SELECT host(inet_server_addr())").fetchone()[0]
print(json.dumps(out))
"""


def _probe(topo: Topology, host: str) -> dict[str, object]:
    h = topo.hosts[host]
    argv = [sys.executable, "-c", PROBE, topo.url("db"), f"{topo.hosts['mq'].ip}:{topo.ports['mq']}",
            f"{topo.hosts['store'].ip}:{topo.ports['store']}"]
    if h.ns:
        argv = ["ip", "netns", "exec", h.ns, *argv]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout))


@pytest.mark.slow
def test_every_component_host_reaches_the_services_only_over_the_network(open_tmp: Path) -> None:
    missing = [str(p) for p in (PG_BIN / "postgres", RABBIT) if not p.exists()]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (Debian postgresql-15, rabbitmq-server)")
    topo = Topology(open_tmp / "county", stations=2, workers=1, apis=2)
    with topo:
        print(f"topology mode: {topo.mode} ({topo.why})")
        for host in ("station1", "station2", "worker1", "api1", "api2"):
            got = _probe(topo, host)
            assert got["db"] == topo.hosts["db"].ip and got["mq"] and got["store"], (host, got)
            if topo.mode == "netns":  # a separate host: the root namespace's loopback services are not there
                assert got["root_loopback_pg"] is False, (host, got)
        topo.restart_mq()
        topo.restart_db()
        with psycopg.connect(topo.url("db"), connect_timeout=5) as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
        topo.store_down()
        assert _probe(topo, "worker1")["store"] is False
        topo.store_up()
        assert _probe(topo, "worker1")["store"] is True
        namespaces = [h.ns for h in topo.hosts.values() if h.ns]
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not [ns for ns in namespaces if ns in left], left
    assert all(p.poll() is not None for _, p in topo.procs)


def test_netns_probe_says_why_when_it_cannot() -> None:
    ok, why = netns_possible()
    assert isinstance(ok, bool) and why
