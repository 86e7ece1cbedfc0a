"""Shift change on the county topology: many recorders dock across several stations, with faults.

Hosts (``county_topology``): N stations (``liuhen dock watch``, own staging dir, role liuhen_station, S3
user that may put), M workers (``dramatiq liuhen.worker``, role liuhen_worker, S3 reader), 2 API nodes
(``liuhen serve``, role liuhen_api, S3 reader), one PostgreSQL, one RabbitMQ, the store (Ceph RGW with the
per-component bucket policy; without RGW a moto server, said so — no policy then). Footage: real ffmpeg
clips laid out as recorders present them (``liuhen.simulate``), cached; each recorder is moved into a
station's dock at its own time within ``spread_s``. Faults at fixed points of the timeline.
Afterwards: every recorder SAFE TO WIPE, every video with a proxy, every source file stored once and in
the log, ``liuhen audit verify`` passing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any

import psycopg

from liuhen.benchmarks.county_stream import api_killed_mid_stream
from liuhen.benchmarks.county_topology import Topology, wait_tcp
from liuhen.catalog.db import migrate
from liuhen.simulate import simulate_dock
from liuhen.storage.s3 import S3Settings, create_bucket_if_missing, make_client

LIUHEN = [sys.executable, "-m", "liuhen.cli"]
CEPH_CONF = Path(os.environ.get("LIUHEN_TEST_RGW_ENV", "/tmp/liuhen-ceph/rgw.env")).parent / "ceph.conf"


@dataclass
class Shift:
    recorders: int = 100
    stations: int = 4
    workers: int = 2
    spread_s: float = 60.0
    store_down_s: float = 20.0
    faults: bool = True
    timeout_s: float = 900.0
    sweep_every_s: float = 30.0  # the deployment's timer that re-sends what a broker lost (a minute or more there)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="liuhen-county-")))
    log: list[str] = field(default_factory=list)
    stream: dict[str, Any] = field(default_factory=dict)  # the API node killed mid-stream (county_stream)

    def __post_init__(self) -> None:
        self.root.chmod(0o755)  # PostgreSQL and RabbitMQ run as their own users below it

    def say(self, msg: str) -> None:
        line = f"[{datetime.now(UTC).strftime('%H:%M:%S')}] {msg}"
        self.log.append(line)
        print(line, flush=True)


def pool(n: int) -> Path:
    """n simulated recorders (ports with DEVICE_INFO.json and media), made once and cached."""
    base = Path(os.environ.get("LIUHEN_BENCH_CACHE", Path(tempfile.gettempdir()) / "liuhen-bench-county"))
    d = base / f"dock-pool-{n}"
    if not (d / "done").exists():
        shutil.rmtree(d, ignore_errors=True)
        simulate_dock(d, recorders=n, minutes=0.05, width=160, height=120, bitrate="200k", clip_seconds=3)
        (d / "done").write_text("ok")
    return d


def _digests(ports: list[Path]) -> dict[str, str]:
    out = {}
    for p in ports:
        for f in sorted(p.rglob("*")):
            if f.is_file() and f.name != "DEVICE_INFO.json":
                out[hashlib.sha256(f.read_bytes()).hexdigest()] = str(f.relative_to(p.parent))
    return out


def _rgw_env() -> dict[str, str] | None:
    env_file = CEPH_CONF.parent / "rgw.env"
    if not env_file.exists():
        return None
    env = dict(line.split("=", 1) for line in env_file.read_text().split() if "=" in line)
    return env


def _rgw_user(uid: str) -> tuple[str, str]:
    key, secret = f"{uid}-key", hashlib.sha256(uid.encode()).hexdigest()[:40]
    subprocess.run(
        [
            "radosgw-admin",
            "-c",
            str(CEPH_CONF),
            "-n",
            "client.rgw.a",
            "user",
            "create",
            "--uid",
            uid,
            "--display-name",
            uid,
            "--access-key",
            key,
            "--secret-key",
            secret,
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return key, secret


def setup_store(topo: Topology, s: Shift) -> dict[str, dict[str, str]]:
    """Bucket + policy; S3 env per component kind (station / reader / admin)."""
    rgw = _rgw_env()
    if rgw is None or not shutil.which("radosgw-admin"):
        raise SystemExit("Ceph RGW not running (bash .ci/ceph-rgw.sh as root): the county needs a shared store")
    tag = topo.tag
    bucket = f"liuhen-county-{tag}-{uuid.uuid4().hex[:4]}"
    owner = S3Settings(
        endpoint_url=rgw["LIUHEN_S3_ENDPOINT_URL"],
        bucket=bucket,
        access_key_id=rgw["AWS_ACCESS_KEY_ID"],
        secret_access_key=rgw["AWS_SECRET_ACCESS_KEY"],
    )
    create_bucket_if_missing(owner)
    users = {k: _rgw_user(f"lh-{k}-{tag}") for k in ("station", "reader", "admin")}
    arn = {k: f"arn:aws:iam:::user/lh-{k}-{tag}" for k in users}
    tmpl = (Path(__file__).resolve().parents[1] / "deploy" / "s3" / "bucket-policy.json.tmpl").read_text()
    policy = Template(tmpl).substitute(
        BUCKET=bucket,
        STATION_PRINCIPALS=json.dumps([arn["station"]]),
        READER_PRINCIPALS=json.dumps([arn["reader"]]),
        ADMIN_PRINCIPALS=json.dumps([arn["admin"]]),
        COMPONENT_PRINCIPALS=json.dumps([arn["station"], arn["reader"]]),
    )
    make_client(owner).put_bucket_policy(Bucket=bucket, Policy=policy)
    s.say(f"store: RGW bucket {bucket} with the per-component policy (users station/reader/admin)")
    common = {
        "LIUHEN_STORE": "s3",
        "LIUHEN_S3_ENDPOINT_URL": topo.url("store"),
        "LIUHEN_S3_BUCKET": bucket,
        "LIUHEN_S3_REGION": "us-east-1",
        "LIUHEN_S3_MAX_ATTEMPTS": "3",
        "LIUHEN_S3_CONNECT_TIMEOUT_S": "3",
    }
    return {k: {**common, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": sec} for k, (key, sec) in users.items()}


def setup_db(topo: Topology, s: Shift) -> dict[str, str]:
    """Migrations as the owner; one LOGIN role per host in its component role; URL per host."""
    owner = topo.url("db")
    with psycopg.connect(owner) as conn:
        migrate(conn)
    urls = {}
    with psycopg.connect(owner, autocommit=True) as conn:
        for host in topo.names():
            kind = "".join(ch for ch in host if not ch.isdigit())
            role = {"station": "liuhen_station", "worker": "liuhen_worker", "api": "liuhen_api"}.get(kind)
            if role is None:
                continue
            login = f"{host}_{topo.tag}"
            conn.execute(f'CREATE ROLE "{login}" LOGIN IN ROLE {role}')
            urls[host] = topo.url("db", user=login)
    s.say(f"db: migrated as owner; {len(urls)} component logins")
    return urls


def start_components(topo: Topology, s: Shift, db: dict[str, str], s3: dict[str, dict[str, str]]) -> dict[str, Any]:
    base = {
        "LIUHEN_BROKER_URL": topo.url("mq"),
        "PYTHONPATH": os.environ.get("PYTHONPATH", os.getcwd()),
        "LIUHEN_CHECKPOINT_INTERVAL_S": "5",
        "LIUHEN_DOCKS": "[]",
    }
    shared = s.root / "shared"  # derived files: shared by workers and API nodes (NFS in a deployment)
    shared.mkdir(exist_ok=True)
    starts: dict[str, Any] = {}
    for host in topo.names():
        if host.startswith("station"):
            dock = s.root / f"dock-{host}"
            dock.mkdir(exist_ok=True)
            env = {
                **base,
                **s3["station"],
                "LIUHEN_DATABASE_URL": db[host],
                "LIUHEN_DATA_DIR": str(s.root / host),
                "LIUHEN_ACTOR": f"station:{host}",
            }
            argv = [*LIUHEN, "dock", "watch", str(dock), "--interval", "0.5", "-j", "4"]
        elif host.startswith("worker"):
            env = {**base, **s3["reader"], "LIUHEN_DATABASE_URL": db[host], "LIUHEN_DATA_DIR": str(shared)}
            argv = [sys.executable, "-m", "dramatiq", "liuhen.worker", "-p", "1", "-t", "1"]
        elif host.startswith("api"):
            env = {**base, **s3["reader"], "LIUHEN_DATABASE_URL": db[host], "LIUHEN_DATA_DIR": str(shared)}
            argv = [*LIUHEN, "serve", "--host", topo.hosts[host].ip, "--port", "8000"]
        else:
            continue
        starts[host] = (argv, env)
        topo.run(host, argv, env=env, log=s.root / f"{host}.log")
    for host in (h for h in starts if h.startswith("api")):
        wait_tcp(topo.hosts[host].ip, 8000, 60, host)
    time.sleep(1.0)  # stations and workers start as fast as the API nodes; let them connect
    s.say(f"started {len(starts)} components ({topo.mode})")
    return starts


def restart(topo: Topology, s: Shift, starts: dict[str, Any], host: str, sig: int = signal.SIGKILL) -> None:
    n = topo.kill(host, sig)
    time.sleep(1.0)
    argv, env = starts[host]
    topo.run(host, argv, env=env, log=s.root / f"{host}.log")
    s.say(f"fault: {signal.Signals(sig).name} {host} ({n} process groups), restarted")


def dock_all(s: Shift, ports: list[Path], stations: int, t0: float) -> dict[str, float]:
    """Move recorder k into station (k mod N)'s dock at t0 + k·spread/n; return serial → dock time (epoch)."""
    staged = s.root / "undocked"
    shutil.copytree(ports[0].parent, staged, symlinks=True, ignore=shutil.ignore_patterns("done"))
    docked: dict[str, float] = {}
    for k, p in enumerate(ports):
        wait = t0 + k * s.spread_s / len(ports) - time.time()
        if wait > 0:
            time.sleep(wait)
        ident = json.loads((p / "DEVICE_INFO.json").read_text())
        dest = s.root / f"dock-station{k % stations + 1}" / p.name
        os.rename(staged / p.name, dest)
        docked[ident["device_serial"]] = time.time()
    return docked


def faults(topo: Topology, s: Shift, starts: dict[str, Any], t0: float) -> None:
    plan = [
        (0.25, lambda: restart(topo, s, starts, "station1")),
        (0.35, lambda: restart(topo, s, starts, "worker1")),
        (0.45, lambda: kill_api_mid_stream(topo, s, starts)),
        # a RabbitMQ restart takes ~10 s (the Erlang VM): it runs beside the next faults, not before them
        (0.55, lambda: threading.Thread(target=_then, args=(topo.restart_mq, s, "fault: RabbitMQ restarted")).start()),
        (0.70, lambda: _then(topo.restart_db, s, "fault: PostgreSQL restarted")),
        (0.80, lambda: store_outage(topo, s)),
    ]
    for frac, act in plan:
        wait = t0 + frac * s.spread_s - time.time()
        if wait > 0:
            time.sleep(wait)
        try:
            act()
        except Exception as exc:  # a fault that cannot be injected is reported, the run goes on
            s.say(f"fault failed: {exc}")


def kill_api_mid_stream(topo: Topology, s: Shift, starts: dict[str, Any]) -> None:
    nodes = (f"{topo.hosts['api1'].ip}:8000", f"{topo.hosts['api2'].ip}:8000")
    s.stream = api_killed_mid_stream(
        topo.url("db"), s.root / "shared", nodes, lambda: restart(topo, s, starts, "api1"), s.say
    )


def _then(act: Any, s: Shift, msg: str) -> None:
    act()
    s.say(msg)


def store_outage(topo: Topology, s: Shift) -> None:
    topo.store_down()
    s.say(f"fault: store unreachable for {s.store_down_s:.0f} s")
    time.sleep(s.store_down_s)
    topo.store_up()
    s.say("store reachable again")
