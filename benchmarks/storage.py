"""Storage benchmark: put/get throughput of 1 GiB objects per backend vs the plain peer.

    python -m benchmarks.storage [--quick] [--size-mb N] [--reps N] [--backends local,s3-moto,s3-rgw]

- local: ``LocalStore.put`` from a staging file on the same filesystem (link + SHA-256 verify +
  fsync) and from a stream (copy while hashing + fsync) vs ``cp`` + ``sync FILE``; ``get`` vs ``cat``.
- s3-moto: ``S3Store.put`` (SHA-256 checksums, verified multipart, Object Lock headers) vs
  ``boto3.upload_file`` of the same file to the same server (moto's server in a subprocess);
  ``get`` vs ``get_object().Body`` read. s3-rgw: the same against Ceph RGW when .ci/ceph-rgw.sh ran.

Page cache is warm for all (the source was just written), as it is for ingest's staging files.
Medians over ``--reps``; ratios are Liuhen throughput / peer throughput (>1 = faster than the peer).
Last line: one JSON object with the figures and the ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from liuhen.benchmarks.local import free_port
from liuhen.core.timefmt import utcnow
from liuhen.storage.local import LocalStore
from liuhen.storage.s3 import S3Settings, S3Store, create_bucket_if_missing, make_client

RGW_ENV = Path(os.environ.get("LIUHEN_TEST_RGW_ENV", "/tmp/liuhen-ceph/rgw.env"))


def _drain(chunks: Any) -> int:
    return sum(len(b) for b in chunks)


def _drain_get(store: Any, key: str) -> int:
    return _drain(store.get(key))


def _peer_get(peer: Any, bucket: str, key: str) -> int:
    return _drain(peer.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(1 << 20))


def _cp_sync(src: Path, dst: Path) -> None:
    subprocess.run(["cp", str(src), str(dst)], check=True)
    subprocess.run(["sync", str(dst)], check=True)


def _timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _mbps(size: int, secs: list[float]) -> float:
    return round(size / statistics.median(secs) / 1e6, 1)


def make_source(d: Path, size: int) -> tuple[Path, str]:
    path = d / "source.bin"
    h = hashlib.sha256()
    block = os.urandom(8 << 20)
    with open(path, "wb") as f:
        left = size
        i = 0
        while left:
            b = (i.to_bytes(8, "little") + block[8:])[: min(left, len(block))]
            f.write(b)
            h.update(b)
            left -= len(b)
            i += 1
        f.flush()
        os.fsync(f.fileno())
    return path, h.hexdigest()


def bench_local(work: Path, src: Path, sha: str, size: int, reps: int) -> dict[str, Any]:

    put_link, put_stream, cp_sync, get, cat = [], [], [], [], []
    for i in range(reps):
        store = LocalStore(work / f"store-{i}", warn=False)
        staged = store.root / "staging" / "clip.bin"
        staged.parent.mkdir()
        os.link(src, staged)  # ingest's staging file: same filesystem as the store
        key = f"bench/{uuid.uuid4().hex}"
        put_link.append(_timed(partial(store.put, key, staged, sha256=sha)))
        key2 = f"bench/{uuid.uuid4().hex}"
        with open(src, "rb") as f:
            put_stream.append(_timed(partial(store.put, key2, f, sha256=sha)))
        dst = work / f"cp-{i}.bin"
        cp_sync.append(
            _timed(partial(_cp_sync, src, dst))
        )
        get.append(_timed(partial(_drain_get, store, key2)))
        cat.append(_timed(partial(subprocess.run, ["cat", str(dst)], stdout=subprocess.DEVNULL, check=True)))
        dst.unlink()
        _force_rmtree(store.root)
    r = {
        "put_link_MBps": _mbps(size, put_link),
        "put_stream_MBps": _mbps(size, put_stream),
        "cp_sync_MBps": _mbps(size, cp_sync),
        "get_MBps": _mbps(size, get),
        "cat_MBps": _mbps(size, cat),
    }
    r["put_ratio"] = round(r["put_link_MBps"] / r["cp_sync_MBps"], 2)
    r["put_stream_ratio"] = round(r["put_stream_MBps"] / r["cp_sync_MBps"], 2)
    r["get_ratio"] = round(r["get_MBps"] / r["cat_MBps"], 2)
    return r


def _force_rmtree(p: Path) -> None:
    for dirpath, _dirs, files in os.walk(p):
        for fn in files:
            os.chmod(os.path.join(dirpath, fn), 0o644)
    shutil.rmtree(p, ignore_errors=True)


def bench_s3(
    endpoint: str, key_id: str, secret: str, src: Path, sha: str, size: int, reps: int, *, free_space: bool = False
) -> dict[str, Any]:
    """``free_space``: give our objects a retention just past the upload and dispose them after (RGW's
    memstore is small); otherwise they keep a 1-hour retention."""
    import boto3
    from boto3.s3.transfer import TransferConfig


    cfg = S3Settings(
        endpoint_url=endpoint,
        bucket=f"liuhen-bench-{uuid.uuid4().hex[:8]}",
        region="us-east-1",
        access_key_id=key_id,
        secret_access_key=secret,
    )
    create_bucket_if_missing(cfg)
    store = S3Store(cfg)
    raw = make_client(cfg)
    peer = boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key_id, aws_secret_access_key=secret, region_name="us-east-1"
    )
    tc = TransferConfig(
        multipart_threshold=cfg.multipart_threshold,
        multipart_chunksize=cfg.part_size,
        max_concurrency=cfg.max_concurrency,
    )
    put, up, get, down = [], [], [], []
    for _ in range(reps):
        key, pkey = f"bench/{uuid.uuid4().hex}", f"bench-peer/{uuid.uuid4().hex}"
        window = max(5.0, size / 40e6) if free_space else 3600.0
        until = datetime.now(UTC) + timedelta(seconds=window)
        put.append(_timed(partial(store.put, key, src, sha256=sha, retain_until=until)))
        up.append(_timed(partial(peer.upload_file, str(src), cfg.bucket, pkey, Config=tc)))
        get.append(_timed(partial(_drain_get, store, key)))
        down.append(
            _timed(partial(_peer_get, peer, cfg.bucket, pkey))
        )
        # free the space (RGW memstore is small): ours after its short retention, the peer's at once
        if free_space:
            time.sleep(max(0.0, (until - utcnow()).total_seconds() + 0.5))
            store.dispose(key)
        for v in raw.list_object_versions(Bucket=cfg.bucket, Prefix=pkey).get("Versions", []):
            raw.delete_object(Bucket=cfg.bucket, Key=pkey, VersionId=v["VersionId"])
    r = {
        "put_MBps": _mbps(size, put),
        "upload_file_MBps": _mbps(size, up),
        "get_MBps": _mbps(size, get),
        "get_object_MBps": _mbps(size, down),
    }
    r["put_ratio"] = round(r["put_MBps"] / r["upload_file_MBps"], 2)
    r["get_ratio"] = round(r["get_MBps"] / r["get_object_MBps"], 2)
    return r



def _rgw() -> tuple[str, str, str] | str:
    if not RGW_ENV.exists():
        return f"{RGW_ENV} missing (run .ci/ceph-rgw.sh)"
    env = dict(ln.split("=", 1) for ln in RGW_ENV.read_text().splitlines() if "=" in ln and not ln.startswith("#"))
    url = env["LIUHEN_S3_ENDPOINT_URL"]
    try:
        host, port = url.removeprefix("http://").split(":")
        socket.create_connection((host, int(port)), timeout=2).close()
    except (OSError, ValueError) as exc:
        return f"RGW not reachable at {url}: {exc}"
    return url, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="64 MiB objects, 2 reps (under a minute).")
    ap.add_argument("--size-mb", type=int, default=None, help="Object size in MiB (default 1024).")
    ap.add_argument("--reps", type=int, default=None, help="Repetitions (median reported; default 3).")
    ap.add_argument("--backends", default="local,s3-moto,s3-rgw")
    ap.add_argument("--dir", type=Path, default=None, help="Scratch directory (default: a temp dir).")
    a = ap.parse_args(argv)
    size = (a.size_mb or (64 if a.quick else 1024)) << 20
    reps = a.reps or (2 if a.quick else 3)
    backends = [b.strip() for b in a.backends.split(",") if b.strip()]
    work = Path(tempfile.mkdtemp(prefix="liuhen-bench-storage-", dir=a.dir))
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    moto = None
    try:
        src, sha = make_source(work, size)
        print(f"object size {size / 2**20:.0f} MiB, {reps} reps, medians; scratch {work}", file=sys.stderr)
        if "local" in backends:
            results["local"] = bench_local(work, src, sha, size, reps)
        if "s3-moto" in backends:
            port = free_port()
            moto = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            results["s3-moto"] = bench_s3(f"http://127.0.0.1:{port}", "testing", "testing", src, sha, size, reps)
        if "s3-rgw" in backends:
            rgw = _rgw()
            if isinstance(rgw, str):
                skipped["s3-rgw"] = rgw
            else:
                results["s3-rgw"] = bench_s3(*rgw, src, sha, size, min(reps, 2), free_space=True)
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait(10)
        _force_rmtree(work)

    print(f"\n{'backend':10} {'op':18} {'Liuhen MB/s':>12} {'peer':>22} {'peer MB/s':>10} {'ratio':>6}")
    for name, r in results.items():
        if name == "local":
            rows = [
                ("put (staged path)", r["put_link_MBps"], "cp + sync", r["cp_sync_MBps"], r["put_ratio"]),
                ("put (stream)", r["put_stream_MBps"], "cp + sync", r["cp_sync_MBps"], r["put_stream_ratio"]),
                ("get", r["get_MBps"], "cat", r["cat_MBps"], r["get_ratio"]),
            ]
        else:
            rows = [
                ("put", r["put_MBps"], "boto3.upload_file", r["upload_file_MBps"], r["put_ratio"]),
                ("get", r["get_MBps"], "get_object().Body", r["get_object_MBps"], r["get_ratio"]),
            ]
        for op, ours, peer, theirs, ratio in rows:
            print(f"{name:10} {op:18} {ours:>12} {peer:>22} {theirs:>10} {ratio:>6}")
    for name, why in skipped.items():
        print(f"{name}: skipped: {why}")
    ratios = {f"{n}_{k}": v for n, r in results.items() for k, v in r.items() if k.endswith("ratio")}
    print(json.dumps({"size_bytes": size, "reps": reps, "results": results, "ratios": ratios, "skipped": skipped}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
