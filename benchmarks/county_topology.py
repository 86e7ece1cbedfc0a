"""A county on one machine: every component on its own host, made with network namespaces.

``Topology(root, stations=N, workers=M, apis=2).up()`` creates one bridge in the root namespace and one
network namespace per host (veth pair, address 10.<net>.0.<k>/24), then starts on its own hosts a private
PostgreSQL (Debian's 15 binaries, ``initdb`` as user postgres, trust for the bridge network) and a private
RabbitMQ node; the S3 store is Ceph RGW (``.ci/ceph-rgw.sh``) reached through a ``socat`` forwarder bound
to the bridge address (RGW listens on the root namespace's loopback only). Components are started with
``run(host, argv)`` = ``ip netns exec <ns> argv``; they reach the others only over the bridge.
``down()`` kills every process in the namespaces (all started here), deletes namespaces and bridge.

Without namespaces (not root, or ``ip netns`` refused) the same topology runs as processes on loopback
with separate ports; ``mode`` says which ran ("netns" or "loopback") and tests print it.
Faults: ``kill(host, sig)``, ``restart_mq()``, ``restart_db()``, ``store_down()`` / ``store_up()``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from liuhen.benchmarks.local import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
RABBIT = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


@dataclass
class Host:
    name: str
    ns: str | None  # None: the root namespace (loopback mode, or the store forwarder)
    ip: str



def wait_tcp(ip: str, port: int, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection((ip, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{what} did not answer on {ip}:{port} within {timeout:.0f} s")


def netns_possible() -> tuple[bool, str]:
    if os.geteuid() != 0:
        return False, "not root: ip netns needs CAP_SYS_ADMIN"
    if not shutil.which("ip"):
        return False, "no ip(8)"
    probe = f"lhprobe{uuid.uuid4().hex[:6]}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode:
        return False, f"ip netns add refused: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return True, "ip netns works"


@dataclass
class Topology:
    root: Path
    stations: int = 4
    workers: int = 2
    apis: int = 2
    use_netns: bool | None = None
    rgw: tuple[str, int] = ("127.0.0.1", 7480)
    mode: str = ""
    why: str = ""
    hosts: dict[str, Host] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    # faults run on more than one thread (a RabbitMQ restart beside the others): procs changes under it
    procs_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:4])

    # ---- hosts -------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return (
            ["db", "mq"]
            + [f"station{i + 1}" for i in range(self.stations)]
            + [f"worker{i + 1}" for i in range(self.workers)]
            + [f"api{i + 1}" for i in range(self.apis)]
        )

    def _sh(self, *argv: str) -> None:
        subprocess.run(argv, check=True, capture_output=True)

    def _make_netns(self) -> None:
        net = 100 + int(self.tag, 16) % 150
        br = f"lh{self.tag}br"
        self._sh("ip", "link", "add", br, "type", "bridge")
        self._sh("ip", "addr", "add", f"10.{net}.0.1/24", "dev", br)
        self._sh("ip", "link", "set", br, "up")
        self.hosts["store"] = Host("store", None, f"10.{net}.0.1")
        for k, name in enumerate(self.names(), start=2):
            ns, veth = f"lh-{self.tag}-{name}", f"lh{self.tag}v{k}"
            self._sh("ip", "netns", "add", ns)
            self._sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
            self._sh("ip", "link", "set", veth, "master", br, "up")
            self._sh("ip", "-n", ns, "addr", "add", f"10.{net}.0.{k}/24", "dev", "eth0")
            self._sh("ip", "-n", ns, "link", "set", "eth0", "up")
            self._sh("ip", "-n", ns, "link", "set", "lo", "up")
            self._sh("ip", "-n", ns, "route", "add", "default", "via", f"10.{net}.0.1")
            self.hosts[name] = Host(name, ns, f"10.{net}.0.{k}")
        self.ports.update(db=5432, mq=5672, store=self.rgw[1])

    def _make_loopback(self) -> None:
        for name in ["store", *self.names()]:
            self.hosts[name] = Host(name, None, "127.0.0.1")
        self.ports.update(db=free_port(), mq=free_port(), store=free_port())

    def up(self) -> Topology:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # postgres and rabbitmq run as their own users
        ok, why = netns_possible() if self.use_netns is not False else (False, "loopback requested")
        self.mode, self.why = ("netns", why) if ok else ("loopback", why)
        try:
            self._make_netns() if ok else self._make_loopback()
            self._launch_mq()  # the Erlang VM boots (seconds) while PostgreSQL is made and started
            self._start_db()
            self._wait_mq()
            self.store_up()
        except BaseException:
            self.down()
            raise
        return self

    # ---- processes ---------------------------------------------------------------------------------
    def run(
        self,
        host: str,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        log: Path | None = None,
        user: str | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` on ``host`` (own session, so ``kill`` reaches its children)."""
        h = self.hosts[host]
        cmd = list(argv)
        if user:
            cmd = ["runuser", "-u", user, "--", *cmd]
        if h.ns:
            cmd = ["ip", "netns", "exec", h.ns, *cmd]
        out = open(log, "ab") if log else subprocess.DEVNULL
        p = subprocess.Popen(
            cmd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        with self.procs_lock:
            self.procs.append((host, p))
        return p

    def kill(self, host: str, sig: int = signal.SIGKILL) -> int:
        """Signal every process this topology started on ``host``; return how many."""
        n = 0
        with self.procs_lock:
            procs = list(self.procs)
        for h, p in procs:
            if h == host and p.poll() is None:
                try:
                    os.killpg(p.pid, sig)
                    n += 1
                except ProcessLookupError:
                    pass
        return n

    def url(self, service: str, user: str = "postgres", db: str = "liuhen") -> str:
        h, port = self.hosts[service], self.ports[service]
        if service == "db":
            return f"postgresql://{user}@{h.ip}:{port}/{db}"
        if service == "mq":
            return f"amqp://guest:guest@{h.ip}:{port}/"
        return f"http://{h.ip}:{port}"

    # ---- services ----------------------------------------------------------------------------------
    def _start_db(self) -> None:
        d = self.root / "pg"
        if not (d / "PG_VERSION").exists():
            d.mkdir(parents=True, exist_ok=True)
            shutil.chown(d, "postgres", "postgres")
            r = subprocess.run(
                [
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(d),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                ],
                capture_output=True,
                text=True,
            )
            if r.returncode:
                raise RuntimeError(f"initdb in {d} failed: {r.stderr.strip()[-400:]}")
            with (d / "pg_hba.conf").open("a") as f:
                f.write("host all all 0.0.0.0/0 trust\n")
        sock = self.root / "pgsock"
        sock.mkdir(exist_ok=True)
        shutil.chown(sock, "postgres", "postgres")
        self.run(
            "db",
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(d),
                "-p",
                str(self.ports["db"]),
                "-c",
                f"listen_addresses={self.hosts['db'].ip}",
                "-c",
                f"unix_socket_directories={sock}",
                "-c",
                "max_connections=300",
            ],
            user="postgres",
            log=self.root / "pg.log",
        )
        wait_tcp(self.hosts["db"].ip, self.ports["db"], 30, "PostgreSQL")
        admin = self.url("db", db="postgres")
        for _ in range(50):
            try:
                with psycopg.connect(admin, autocommit=True) as c:
                    if not c.execute("SELECT 1 FROM pg_database WHERE datname = 'liuhen'").fetchone():
                        c.execute("CREATE DATABASE liuhen")
                return
            except psycopg.OperationalError:  # still starting up
                time.sleep(0.3)

    def _launch_mq(self) -> None:
        d = self.root / "mq"
        d.mkdir(exist_ok=True)
        shutil.chown(d, "rabbitmq", "rabbitmq")
        # components log in from other hosts; RabbitMQ's default lets guest in from loopback only
        (d / "rabbitmq.conf").write_text("loopback_users = none\n")
        env = {
            "RABBITMQ_NODENAME": f"lh{self.tag}@localhost",
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_PID_FILE": str(d / "pid"),
            "HOME": str(d),
            "RABBITMQ_NODE_PORT": str(self.ports["mq"]),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "plugins"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq"),
        }
        if self.mode == "loopback":
            env["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1"
        self._mq_env = env
        self.run("mq", [str(RABBIT)], env=env, user="rabbitmq", log=self.root / "mq.log")

    def _wait_mq(self) -> None:
        wait_tcp(self.hosts["mq"].ip, self.ports["mq"], 90, "RabbitMQ")

    def restart_mq(self) -> None:
        self.kill("mq", signal.SIGTERM)
        self._wait_gone("mq", 30)
        self.run("mq", [str(RABBIT)], env=self._mq_env, user="rabbitmq", log=self.root / "mq.log")
        wait_tcp(self.hosts["mq"].ip, self.ports["mq"], 90, "RabbitMQ")

    def restart_db(self) -> None:
        self.kill("db", signal.SIGINT)  # fast shutdown: clients see their connections drop
        self._wait_gone("db", 30)
        self._start_db()

    def _wait_gone(self, host: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        with self.procs_lock:
            gone = [p for h, p in self.procs if h == host]
        for p in gone:
            try:
                p.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        with self.procs_lock:
            self.procs[:] = [(h, p) for h, p in self.procs if not any(p is g for g in gone)]

    def store_up(self) -> None:
        """The store's address answers (forwarder to RGW)."""
        h = self.hosts["store"]
        self.run(
            "store",
            [
                "socat",
                f"TCP-LISTEN:{self.ports['store']},bind={h.ip},fork,reuseaddr",
                f"TCP:{self.rgw[0]}:{self.rgw[1]}",
            ],
        )
        wait_tcp(h.ip, self.ports["store"], 10, "the store forwarder")

    def store_down(self) -> None:
        """The store becomes unreachable: the forwarder and every connection through it are gone."""
        self.kill("store", signal.SIGKILL)
        self._wait_gone("store", 10)

    # ---- teardown ----------------------------------------------------------------------------------
    def down(self) -> None:
        with self.procs_lock:
            procs = list(self.procs)
        for h, p in procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM if h in ("db", "mq") else signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for _, p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        self.procs.clear()
        for host in self.hosts.values():
            if host.ns:
                pids = subprocess.run(["ip", "netns", "pids", host.ns], capture_output=True, text=True).stdout.split()
                for pid in pids:  # strays started inside our namespaces (e.g. epmd)
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                subprocess.run(["ip", "netns", "del", host.ns], capture_output=True)
        if self.mode == "netns":
            subprocess.run(["ip", "link", "del", f"lh{self.tag}br"], capture_output=True)
        self.hosts.clear()

    def __enter__(self) -> Topology:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()
