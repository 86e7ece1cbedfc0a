"""Audit-log benchmark: durable appends/s and proof latency on PostgreSQL, side by side with pymerkle.

    python -m benchmarks.auditlog [--quick] [--url postgresql://postgres@127.0.0.1:5432/postgres]

* Appends are *durable*: each call returns only after its PostgreSQL COMMIT (synchronous_commit on,
  fsync on). "batched" = ``log.append_many`` with 100 events per commit (group commit, the sequencer's
  throughput path); "single" = ``log.append`` one event per call (record + sequence).
* 8 writers = 8 OS processes, each with its own connection pool, writing at once.
* Proof latency: random indices, ``proof.inclusion_proof`` / ``proof.consistency_proof`` against the
  full tree, each a fresh transaction + one query for O(log n) stored hashes. Trees are seeded in bulk
  (COPY of leaves + subtree hashes computed in one pass), growing 10^4 → 10^5 → 10^6.
* Peer: pymerkle's SqliteTree (RFC 6962 hashing; roots are cross-checked equal) on the same leaves.

Runs in a scratch database it creates and drops. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any

import psycopg

from catalog.db import Catalog, migrate
from integrity import log, proof, rfc6962, tree
from integrity.events import Event

BATCH = 100


def _with_db(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in info.items() if v is not None})


def body(i: int) -> bytes:
    """Canonical (RFC 8785) JSON of a typical access event, formatted directly for bulk seeding."""
    return (b'{"actor":"bench","data":{"i":%d},"subject":{"sha256":"%064x"},'
            b'"time":"2024-01-01T00:00:00.000000Z","type":"access.view","v":1}' % (i, i))


def ev(i: int) -> Event:
    return Event("access.view", "bench", subject={"sha256": f"{i:064x}"}, data={"i": i})


# ----- appends -----

def _writer(url: str, seconds: float, batch: int, start_at: float, q: Any) -> None:
    cat = Catalog(url, max_size=2).open()
    n, i = 0, os.getpid() * 10_000_000
    while time.time() < start_at:
        time.sleep(0.001)
    end = time.time() + seconds
    while time.time() < end:
        if batch > 1:
            log.append_many(cat, [ev(i + k) for k in range(batch)])
            n += batch
            i += batch
        else:
            log.append(cat, ev(i))
            n += 1
            i += 1
    cat.close()
    q.put(n)


def appends(url: str, writers: int, seconds: float, batch: int) -> float:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    start_at = time.time() + 1.5  # let the spawned interpreters import first
    ps = [ctx.Process(target=_writer, args=(url, seconds, batch, start_at, q)) for _ in range(writers)]
    for p in ps:
        p.start()
    total = sum(q.get(timeout=seconds + 120) for _ in ps)
    for p in ps:
        p.join()
    return total / seconds


# ----- seeding and proofs -----

def seed_to(cat: Catalog, target: int) -> float:
    """Grow the log to ``target`` leaves by bulk COPY; return seconds taken."""
    t0 = time.perf_counter()
    with cat.tx() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (log.SEQUENCER_LOCK,))
        size = tree.stored_size(conn)
        front = tree.frontier(conn, size)
        step = 200_000
        while size < target:
            n = min(step, target - size)
            bodies = [body(i) for i in range(size, size + n)]
            hashes = [rfc6962.leaf_hash(b) for b in bodies]
            with conn.cursor().copy(
                "COPY log_events (body, type, actor, subject_sha256, idx, leaf_hash) FROM STDIN"
            ) as cp:
                for k, (b, h) in enumerate(zip(bodies, hashes, strict=True)):
                    cp.write_row((b, "access.view", "bench", f"{size + k:064x}", size + k, h))
            front, created = rfc6962.extend(front, size, hashes)
            tree.store_nodes(conn, created)
            size += n
        conn.execute("UPDATE log_state SET size = %s", (size,))
    with psycopg.connect(cat.url, autocommit=True) as c:
        c.execute("VACUUM ANALYZE log_events")
        c.execute("VACUUM ANALYZE log_nodes")
    return time.perf_counter() - t0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def proof_latency(cat: Catalog, size: int, n: int) -> dict[str, float]:
    rnd = random.Random(size)  # noqa: S311 (sampling indices)
    inc, con = [], []
    for _ in range(n):
        i = rnd.randrange(size)
        t = time.perf_counter()
        proof.inclusion_proof(cat, i, size)
        inc.append((time.perf_counter() - t) * 1e3)
        old = rnd.randrange(1, size)
        t = time.perf_counter()
        proof.consistency_proof(cat, old, size)
        con.append((time.perf_counter() - t) * 1e3)
    return {"inc_p50": statistics.median(inc), "inc_p99": pct(inc, 99),
            "con_p50": statistics.median(con), "con_p99": pct(con, 99)}


# ----- pymerkle -----

def pymerkle_run(sizes: list[int], n_proofs: int, n_appends: int, check_root: dict[int, bytes]) -> dict[str, Any]:
    import pymerkle

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        t = pymerkle.SqliteTree(os.path.join(d, "pm.db"))
        t0 = time.perf_counter()
        for i in range(n_appends):
            t.append_entry(body(10**9 + i))  # single durable append (one SQLite commit each)
        out["appends_per_s"] = n_appends / (time.perf_counter() - t0)
        t.close()
        t = pymerkle.SqliteTree(os.path.join(d, "pm2.db"))
        have = 0
        for size in sizes:
            t.append_entries([body(i) for i in range(have, size)])
            have = size
            if size in check_root:
                assert t.get_root(size) == check_root[size], "pymerkle and liuhen roots differ"
            rnd = random.Random(size)  # noqa: S311 (sampling indices)
            inc = []
            for _ in range(n_proofs):
                i = rnd.randrange(size)
                s = time.perf_counter()
                t.prove_inclusion(i + 1, size)  # pymerkle indices are 1-based
                inc.append((time.perf_counter() - s) * 1e3)
            out[size] = {"inc_p50": statistics.median(inc), "inc_p99": pct(inc, 99)}
        t.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small run (< 60 s)")
    ap.add_argument("--url", default=os.environ.get("LIUHEN_BENCH_DATABASE_URL",
                                                    "postgresql://postgres@127.0.0.1:5432/postgres"))
    a = ap.parse_args(argv)
    sizes = [10_000, 100_000] if a.quick else [10_000, 100_000, 1_000_000]
    secs = 3.0 if a.quick else 8.0
    n_proofs = 200 if a.quick else 1000
    name = f"liuhen_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(a.url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(a.url, name)
    res: dict[str, Any] = {}
    try:
        with psycopg.connect(url) as c:
            migrate(c)
        # appends first, on an empty log
        res["batched_1"] = appends(url, 1, secs, BATCH)
        res["batched_8"] = appends(url, 8, secs, BATCH)
        res["single_1"] = appends(url, 1, secs / 2, 1)
        res["single_8"] = appends(url, 8, secs / 2, 1)
        with psycopg.connect(url, autocommit=True) as c:  # fresh tree for the proof part
            c.execute(f'DROP DATABASE IF EXISTS "{name}_p" WITH (FORCE)')
        purl = _with_db(a.url, f"{name}_p")
        with psycopg.connect(a.url, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}_p"')
        try:
            with psycopg.connect(purl) as c:
                migrate(c)
            cat = Catalog(purl, max_size=2).open()
            roots: dict[int, bytes] = {}
            for size in sizes:
                res[f"seed_{size}_s"] = seed_to(cat, size)
                roots[size] = log.root(cat, size)
                res[size] = proof_latency(cat, size, n_proofs)
            cat.close()
        finally:
            with psycopg.connect(a.url, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}_p" WITH (FORCE)')
        pm = pymerkle_run(sizes, min(n_proofs, 200), 300 if a.quick else 1000, roots)
    finally:
        with psycopg.connect(a.url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(f"Liuhen audit log vs pymerkle {'(quick)' if a.quick else ''} — {os.cpu_count()} cores, "
          f"PostgreSQL fsync on; appends measured over {secs:.0f} s")
    print(f"{'durable appends/s':<44}{'liuhen':>12}{'pymerkle':>12}")
    print(f"{'1 writer, batched (100/commit)':<44}{res['batched_1']:>12.0f}{'':>12}")
    print(f"{'8 writers, batched (100/commit)':<44}{res['batched_8']:>12.0f}{'':>12}")
    print(f"{'1 writer, one event per commit':<44}{res['single_1']:>12.0f}{pm['appends_per_s']:>12.0f}")
    print(f"{'8 writers, one event per commit each':<44}{res['single_8']:>12.0f}{'':>12}")
    print(f"\n{'leaves':>10}{'seed s':>9}{'incl p50':>10}{'incl p99':>10}{'cons p50':>10}{'cons p99':>10}"
          f"{'pm incl p50':>13}{'pm incl p99':>13}   (ms)")
    for s in sizes:
        r, p = res[s], pm.get(s, {})
        print(f"{s:>10}{res[f'seed_{s}_s']:>9.1f}{r['inc_p50']:>10.3f}{r['inc_p99']:>10.3f}{r['con_p50']:>10.3f}"
              f"{r['con_p99']:>10.3f}{p.get('inc_p50', float('nan')):>13.3f}{p.get('inc_p99', float('nan')):>13.3f}")
    big = sizes[-1]
    summary = {
        "appends_per_s": round(res["batched_1"]),
        "appends_per_s_8_writers": round(res["batched_8"]),
        "appends_per_s_single_commit": round(res["single_1"]),
        "appends_per_s_8_writers_single_commit": round(res["single_8"]),
        "inclusion_p50_ms_1e4": round(res[10_000]["inc_p50"], 4),
        "inclusion_p99_ms_1e4": round(res[10_000]["inc_p99"], 4),
        "inclusion_p99_ms_1e5": round(res[100_000]["inc_p99"], 4),
        "inclusion_p99_ms_1e6": round(res[1_000_000]["inc_p99"], 4) if 1_000_000 in res else None,
        "consistency_p99_ms_largest": round(res[big]["con_p99"], 4),
        "largest_tree": big,
        "pymerkle_appends_per_s": round(pm["appends_per_s"]),
        "pymerkle_inclusion_p99_ms_largest": round(pm[big]["inc_p99"], 4),
        "ratio_appends_vs_pymerkle": round(res["single_1"] / pm["appends_per_s"], 2),
        "ratio_batched_appends_vs_pymerkle": round(res["batched_1"] / pm["appends_per_s"], 2),
        "ratio_inclusion_p99_pymerkle_over_liuhen": round(pm[big]["inc_p99"] / res[big]["inc_p99"], 2),
        "quick": a.quick,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
