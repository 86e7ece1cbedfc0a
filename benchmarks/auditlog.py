"""Audit-log benchmark: durable appends/s and proof latency on PostgreSQL, side by side with pymerkle.

    python -m benchmarks.auditlog [--quick] [--url postgresql://postgres@127.0.0.1:5432/postgres]

* Appends are *durable*: each call returns only after the COMMIT that gave its events their indices
  (synchronous_commit on, fsync on — checked and printed; the benchmark refuses to run otherwise).
  "batched" = ``log.append_many`` with 100 events per call; "single" = ``log.append``, one event per
  call. Building the events (RFC 8785 JSON, ~50 µs each in Python) is inside the measured loop.
* 8 writers = 8 OS processes, each with its own connection pool, writing at once (group commit: see
  ``integrity/log.py``).
* Proof latency: random indices, ``proof.inclusion_proof`` / ``proof.consistency_proof`` against the
  full tree through a warm connection pool (no connection set-up inside the timing; a few untimed
  proofs first so the prepared statement exists, as in a running server).
  **cold** = ``cached=False``: one round trip to PostgreSQL per proof, every time.
  **warm** = the in-process node cache on, the same random indices asked a second time (e.g. an export
  re-proving its events): no round trip. Trees are seeded in bulk (COPY of leaves + subtree hashes
  computed in one pass), growing 10^4 → 10^5 → 10^6.
* The machine is shared: the 1-minute load average and the median latency of a one-row durable commit
  (≈ the WAL flush cost) are measured and printed next to the figures they affect.
* Peer: pymerkle's SqliteTree (RFC 6962 hashing; roots are cross-checked equal) on the same leaves.

Runs in a scratch database it creates and drops. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any

import psycopg

from liuhen.catalog.db import Catalog, migrate, with_dbname
from liuhen.integrity import log, proof, rfc6962, tree
from liuhen.integrity.events import Event

BATCH = 100
REPEAT = 3




def body(i: int) -> bytes:
    """Canonical (RFC 8785) JSON of a typical access event, formatted directly for bulk seeding."""
    return (b'{"actor":"bench","data":{"i":%d},"subject":{"sha256":"%064x"},'
            b'"time":"2024-01-01T00:00:00.000000Z","type":"access.view","v":1}' % (i, i))


def ev(i: int) -> Event:
    return Event("access.view", "bench", subject={"sha256": f"{i:064x}"}, data={"i": i})


# ----- appends -----

def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _backend_cpu_s(dbname: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to ``dbname`` (Linux /proc)."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            if not cmd.startswith(b"postgres: ") or f" {dbname} ".encode() not in cmd:
                continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def _writer(url: str, seconds: float, batch: int, ready: Any, go: Any, q: Any, done: Any) -> None:
    cat = Catalog(url, max_size=2).open()
    log.size(cat)  # connection up, modules imported
    n, i = 0, os.getpid() * 10_000_000
    ready.put(os.getpid())
    go.wait()
    cpu0 = _cpu_s()
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
    q.put((n, _cpu_s() - cpu0))
    done.wait()  # keep the backends alive until the parent has read their CPU time
    cat.close()


def commit_latency_ms(url: str, n: int = 40) -> float:
    """Median latency of a one-row durable COMMIT on a scratch table (≈ one WAL flush)."""
    with psycopg.connect(url) as c:
        c.execute("CREATE TABLE IF NOT EXISTS bench_flush_p (i int)")
        c.commit()
        ts = []
        for i in range(n):
            t = time.perf_counter()
            c.execute("INSERT INTO bench_flush_p VALUES (%s)", (i,))
            c.commit()
            ts.append((time.perf_counter() - t) * 1e3)
        c.execute("DROP TABLE bench_flush_p")
        c.commit()
    return statistics.median(ts)


def durability_settings(url: str) -> dict[str, str]:
    with psycopg.connect(url) as c:
        return {k: str(c.execute(f"SHOW {k}").fetchone()[0])  # type: ignore[index]
                for k in ("synchronous_commit", "fsync", "wal_sync_method", "commit_delay")}


def load1() -> float:
    return round(os.getloadavg()[0], 1)


def appends(url: str, writers: int, seconds: float, batch: int) -> tuple[float, float]:
    """(events/s, CPU µs per event) over ``seconds`` with ``writers`` processes.

    The clock starts only when every writer has imported and connected (interpreter start-up would
    otherwise eat the measured window's CPU). CPU = the writers' own CPU time plus their PostgreSQL
    backends' (from /proc), over the measured window: what an event costs, whatever else the machine runs.
    """
    ctx = mp.get_context("spawn")
    q, ready, go, done = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Event()
    ps = [ctx.Process(target=_writer, args=(url, seconds, batch, ready, go, q, done)) for _ in range(writers)]
    for p in ps:
        p.start()
    for _ in ps:
        ready.get(timeout=120)
    dbname = str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    pg0 = _backend_cpu_s(dbname)
    go.set()
    got = [q.get(timeout=seconds + 120) for _ in ps]
    pg_cpu = _backend_cpu_s(dbname) - pg0
    done.set()
    for p in ps:
        p.join()
    total = sum(n for n, _ in got)
    cpu = sum(c for _, c in got) + pg_cpu
    return total / seconds, cpu / max(total, 1) * 1e6


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
    rnd = random.Random(size)
    for _ in range(10):  # untimed: pool connections up, statements prepared (a running server's state)
        proof.inclusion_proof(cat, rnd.randrange(size), size, cached=False)
        proof.consistency_proof(cat, rnd.randrange(1, size), size, cached=False)
    pairs = [(rnd.randrange(size), rnd.randrange(1, size)) for _ in range(n)]
    inc, con, warm, warm_con, floor = [], [], [], [], []
    load = load1()
    for i, old in pairs:  # cold: one round trip each
        t = time.perf_counter()
        tree.snapshot(cat, [])  # the same statement asking for no node: the round-trip floor
        floor.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        proof.inclusion_proof(cat, i, size, cached=False)
        inc.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        proof.consistency_proof(cat, old, size, cached=False)
        con.append((time.perf_counter() - t) * 1e3)
    tree.node_cache(cat).clear()
    for i, old in pairs:  # fill the cache (untimed) ...
        proof.inclusion_proof(cat, i, size)
        proof.consistency_proof(cat, old, size)
    for i, old in pairs:  # ... then warm: the same proofs again
        t = time.perf_counter()
        proof.inclusion_proof(cat, i, size)
        warm.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        proof.consistency_proof(cat, old, size)
        warm_con.append((time.perf_counter() - t) * 1e3)
    return {"inc_p50": statistics.median(inc), "inc_p99": pct(inc, 99),
            "con_p50": statistics.median(con), "con_p99": pct(con, 99),
            "warm_p50": statistics.median(warm), "warm_p99": pct(warm, 99),
            "warm_con_p99": pct(warm_con, 99), "floor_p50": statistics.median(floor), "floor_p99": pct(floor, 99),
            "load": max(load, load1())}


# ----- pymerkle -----

def pymerkle_run(sizes: list[int], n_proofs: int, n_appends: int, check_root: dict[int, bytes]) -> dict[Any, Any]:
    import pymerkle

    out: dict[Any, Any] = {}
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
            rnd = random.Random(size)
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
    url = with_dbname(a.url, name)
    res: dict[Any, Any] = {}
    try:
        with psycopg.connect(url) as c:
            migrate(c)
        dur = durability_settings(url)
        if dur["synchronous_commit"] != "on" or dur["fsync"] != "on":
            raise SystemExit(f"refusing to measure durable appends with {dur}")
        # appends first, on an empty log; each phase with the load and flush cost around it
        # Batched phases run REPEAT times (alternating) and report the median run: the machine is shared.
        phases = (("batched_1", 1, secs, BATCH, REPEAT), ("batched_8", 8, secs, BATCH, REPEAT),
                  ("single_1", 1, secs / 2, 1, 1), ("single_8", 8, secs / 2, 1, 1))
        for key, writers, s, batch, reps in phases:
            runs, loads, flushes, cpus = [], [], [], []
            for _ in range(reps):
                flushes.append(commit_latency_ms(url))
                loads.append(load1())
                rate, cpu_us = appends(url, writers, s, batch)
                runs.append(rate)
                cpus.append(cpu_us)
                loads.append(load1())
            res[key] = statistics.median(runs)
            res[f"{key}_cpu_us"] = statistics.median(cpus)
            res[f"{key}_runs"] = [round(r) for r in runs]
            res[f"{key}_ctx"] = (max(loads), statistics.median(flushes))
        with psycopg.connect(url, autocommit=True) as c:  # fresh tree for the proof part
            c.execute(f'DROP DATABASE IF EXISTS "{name}_p" WITH (FORCE)')
        purl = with_dbname(a.url, f"{name}_p")
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

    print(f"Liuhen audit log vs pymerkle {'(quick)' if a.quick else ''} — {os.cpu_count()} cores (shared), "
          f"PostgreSQL synchronous_commit={dur['synchronous_commit']} fsync={dur['fsync']} "
          f"wal_sync_method={dur['wal_sync_method']} commit_delay={dur['commit_delay']}; "
          f"appends measured over {secs:.0f} s (single: {secs / 2:.0f} s)")
    print(f"{'durable appends/s':<40}{'liuhen':>10}{'pymerkle':>10}{'load1':>8}{'commit ms':>11}"
          f"{'CPU µs/ev':>11}   runs")
    for key, label, peer in (("batched_1", "1 writer, 100 events per call", ""),
                             ("batched_8", "8 writers, 100 events per call each", ""),
                             ("single_1", "1 writer, one event per call", f"{pm['appends_per_s']:.0f}"),
                             ("single_8", "8 writers, one event per call each", "")):
        load, flush = res[f"{key}_ctx"]
        listed = "/".join(str(r) for r in res[f"{key}_runs"]) if len(res[f"{key}_runs"]) > 1 else ""
        print(f"{label:<40}{res[key]:>10.0f}{peer:>10}{load:>8.1f}{flush:>11.2f}{res[f'{key}_cpu_us']:>11.0f}"
              f"   {listed}")
    print(f"(batched: median of {REPEAT} runs, each run listed; commit ms = median one-row durable COMMIT just "
          "before a run ≈ one WAL flush; load1 = max 1-min load average around the runs;\n"
          " CPU µs/ev = writers' + their PostgreSQL backends' CPU time per event, incl. building the events in Python)")
    print(f"\n{'leaves':>10}{'seed s':>8}{'cold incl':>20}{'cold cons':>20}{'warm incl':>20}"
          f"{'pymerkle incl':>20}{'RT floor':>20}{'load1':>7}")
    print(f"{'':>18}" + f"{'p50 / p99 ms':>20}" * 5)
    for s in sizes:
        r, p = res[s], pm.get(s, {})
        print(f"{s:>10}{res[f'seed_{s}_s']:>8.1f}{r['inc_p50']:>11.3f} /{r['inc_p99']:>6.3f}"
              f"{r['con_p50']:>11.3f} /{r['con_p99']:>6.3f}{r['warm_p50']:>11.3f} /{r['warm_p99']:>6.3f}"
              f"{p.get('inc_p50', float('nan')):>11.3f} /{p.get('inc_p99', float('nan')):>6.1f}"
              f"{r['floor_p50']:>11.3f} /{r['floor_p99']:>6.3f}{r['load']:>7.1f}")
    print("cold = one prepared autocommit statement per proof (no in-process cache); "
          "warm = same proofs again from the in-process node cache (no round trip);\n"
          "RT floor = the same statement asking for zero nodes, interleaved with the cold proofs "
          "(what one round trip costs on this machine right now)")
    big = sizes[-1]
    summary = {
        "appends_per_s": round(res["batched_1"]),
        "appends_per_s_8_writers": round(res["batched_8"]),
        "appends_per_s_runs": res["batched_1_runs"],
        "appends_per_s_8_writers_runs": res["batched_8_runs"],
        "cpu_us_per_event_1_writer": round(res["batched_1_cpu_us"]),
        "cpu_us_per_event_8_writers": round(res["batched_8_cpu_us"]),
        "appends_per_s_single_commit": round(res["single_1"]),
        "appends_per_s_8_writers_single_commit": round(res["single_8"]),
        "inclusion_p50_ms_1e4": round(res[10_000]["inc_p50"], 4),
        "inclusion_p99_ms_1e4": round(res[10_000]["inc_p99"], 4),
        "inclusion_p99_ms_1e5": round(res[100_000]["inc_p99"], 4),
        "inclusion_p99_ms_1e6": round(res[1_000_000]["inc_p99"], 4) if 1_000_000 in res else None,
        "inclusion_p50_ms_1e6": round(res[1_000_000]["inc_p50"], 4) if 1_000_000 in res else None,
        "inclusion_p99_ms_1e6_warm": round(res[1_000_000]["warm_p99"], 4) if 1_000_000 in res else None,
        "inclusion_p99_ms_largest_warm": round(res[big]["warm_p99"], 4),
        "round_trip_floor_p99_ms_largest": round(res[big]["floor_p99"], 4),
        "proofs_cached": "inclusion_p99_ms_* are cold (one DB round trip); *_warm from the in-process cache",
        "consistency_p99_ms_largest": round(res[big]["con_p99"], 4),
        "largest_tree": big,
        "pymerkle_appends_per_s": round(pm["appends_per_s"]),
        "pymerkle_inclusion_p99_ms_largest": round(pm[big]["inc_p99"], 4),
        "ratio_appends_vs_pymerkle": round(res["single_1"] / pm["appends_per_s"], 2),
        "ratio_batched_appends_vs_pymerkle": round(res["batched_1"] / pm["appends_per_s"], 2),
        "ratio_inclusion_p99_pymerkle_over_liuhen": round(pm[big]["inc_p99"] / res[big]["inc_p99"], 2),
        "synchronous_commit": dur["synchronous_commit"],
        "commit_ms_median": round(res["batched_8_ctx"][1], 2),
        "load1_max": max(v[0] for k, v in res.items() if str(k).endswith("_ctx")),
        "durable": "synchronous_commit=on, fsync=on; each append returns after the COMMIT giving its index",
        "quick": a.quick,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
