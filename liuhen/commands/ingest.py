"""CLI: ``liuhen ingest PATH``, ``liuhen dock watch DOCK...``, ``liuhen dock sessions``, ``liuhen receipt ID``."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from liuhen.core.config import get_settings
from liuhen.core.errors import NotFound
from liuhen.core.timefmt import local
from liuhen.ingest.layout import discover
from liuhen.ingest.offload import ingest_path
from liuhen.ingest.progress import RichProgress
from liuhen.ingest.receipts import STORED, VERIFIED, Receipt, load_receipt, reverify
from liuhen.ingest.sessions import list_sessions
from liuhen.ingest.watch import DockWatcher
from liuhen.integrity.fixity import check_file
from liuhen.runtime import Runtime
from liuhen.transcoder import jobs as tsvc
from liuhen.transcoder.broker import setup_broker
from liuhen.wiring import open_runtime

dock_app = typer.Typer(help="Dock stations: watch docks, list offload sessions.", no_args_is_help=True)


def _print_receipt(r: Receipt, *, verbose: bool = False) -> None:
    con = Console()
    verdict = "[bold green]SAFE TO WIPE[/]" if r.safe_to_wipe else "[bold red]NOT SAFE TO WIPE[/]"
    dev = r.device or {}
    con.print(
        f"[bold]{r.port}[/] {dev.get('device_serial') or r.recorder_key} officer {dev.get('officer_no') or '?'} "
        f"session {r.session_id} — {verdict}  ({r.counts}, {r.bytes_total / 1e6:.1f} MB"
        f"{', receipt log #' + str(r.receipt_log_index) if r.receipt_log_index is not None else ''})"
    )
    zone = get_settings().display_tz
    started = local(datetime.fromisoformat(r.started_at), zone) if r.started_at else "?"
    finished = local(datetime.fromisoformat(r.finished_at), zone) if r.finished_at else "not finished"
    con.print(f"  offloaded {started} → {finished}", highlight=False)
    if r.flags:
        con.print(f"  recorder flags: {', '.join(r.flags)}")
    for why in r.reasons:
        con.print(f"  [red]•[/] {why}", markup=True, highlight=False)
    if verbose:
        t = Table("status", "path", "size", "sha256", "log#", "flags", box=None)
        for f in r.files:
            t.add_row(
                f.status + (" (resumed)" if f.resumed else ""),
                f.path,
                str(f.size if f.size is not None else ""),
                (f.sha256 or "")[:16],
                "" if f.log_index is None else str(f.log_index),
                ",".join(f.flags),
            )
        con.print(t)


def ingest_cmd(
    path: Path = typer.Argument(..., help="A recorder port directory, or a dock directory of ports."),
    json_out: bool = typer.Option(False, "--json", help="Print the receipts as a JSON array."),
    parallelism: int | None = typer.Option(
        None, "--parallelism", "-j", min=1, max=64, help="Recorders offloaded at once (LIUHEN_INGEST_PARALLELISM)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List every file of every receipt."),
    progress: bool = typer.Option(True, help="Show progress bars (off with --json or when not a terminal)."),
) -> None:
    """Ingest one recorder or a whole dock once and print the offload receipts.

    Exit status: 0 when every recorder is SAFE TO WIPE, 1 when some are not (see the reasons) or none
    was found, 2 when the path is not a directory or a service cannot start.
    """

    discover(path)  # a mistyped or unmounted path fails here, before any service starts
    with open_runtime() as rt:
        actor = rt.settings.actor_name()
        if progress and not json_out and sys.stderr.isatty():
            with RichProgress(Console(stderr=True)) as bars:
                receipts = ingest_path(rt, path, actor=actor, progress=bars, parallelism=parallelism)
        else:
            receipts = ingest_path(rt, path, actor=actor, parallelism=parallelism)
        waiting = pending_transcodes(rt)
    if waiting:
        typer.echo(
            f"{waiting} file(s) wait for transcoding (proxies, thumbnails, fingerprints) and nothing here runs it: "
            "run `liuhen transcode --pending` now, or keep `liuhen serve` running.",
            err=True,
        )
    if json_out:
        typer.echo(json.dumps([r.to_dict() for r in receipts], ensure_ascii=False, indent=2))
    else:
        if not receipts:
            typer.secho(f"{path}: no docked recorder found", err=True)
        for r in receipts:
            _print_receipt(r, verbose=verbose)
    if not receipts or not all(r.safe_to_wipe for r in receipts):
        raise typer.Exit(1)


@dock_app.command("watch")
def watch_cmd(
    docks: list[Path] = typer.Argument(None, help="Dock directories (default: LIUHEN_DOCKS)."),
    parallelism: int | None = typer.Option(None, "--parallelism", "-j", min=1, max=64, help="Recorders at once."),
    interval: float = typer.Option(2.0, min=0.1, help="Seconds between polls of the docks."),
) -> None:
    """Watch docks: offload each recorder when it docks; report it SAFE TO WIPE or why not. Ctrl-C stops.

    Started while the database is unreachable, it says so and waits for it; a recorder whose offload
    meets an outage is NOT SAFE TO WIPE with the reason and is tried again within seconds."""

    with open_runtime(wait=True) as rt:
        paths = list(docks or rt.settings.docks)
        if not paths:
            raise typer.BadParameter("name at least one dock directory (or set LIUHEN_DOCKS)")

        def done(r: Receipt) -> None:
            _print_receipt(r)

        # with a broker, each new original goes to the transcoder workers at ingest priority (a station)
        if rt.settings.broker_url:
            setup_broker(rt.settings)
        on_stored = tsvc.enqueue if rt.settings.broker_url else None
        w = DockWatcher(rt, paths, parallelism=parallelism, interval=interval, on_receipt=done, on_stored=on_stored)
        w.start()
        typer.echo(f"watching {', '.join(map(str, paths))} (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            w.stop()


@dock_app.command("sessions")
def sessions_cmd(
    limit: int = typer.Option(20, min=1, help="How many recent sessions."),
    json_out: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """List recent offload sessions with their progress and SAFE TO WIPE verdict."""

    with open_runtime() as rt:
        rows = list_sessions(rt, limit=limit)
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    t = Table("id", "recorder", "port", "status", "files", "MB", "safe", "started")
    for s in rows:
        t.add_row(
            str(s["id"]),
            s["recorder_key"] or "",
            s["port"],
            s["status"],
            f"{s['files_done']}/{s['files_total']}",
            f"{s['bytes_done'] / 1e6:.1f}/{s['bytes_total'] / 1e6:.1f}",
            "yes" if s["safe_to_wipe"] else "no",
            local(s["started_at"], get_settings().display_tz),
        )
    Console().print(t)


def pending_transcodes(rt: Runtime) -> int:
    """Stored originals whose transcoding (probe, proxy, thumbnails, fingerprint) has not run yet."""
    row = rt.catalog.one("SELECT count(*) AS n FROM files WHERE status = 'stored' AND media_status = 'pending'")
    return int(row["n"]) if row else 0


FIXITY_COLUMNS = ("id, sha256, sm3, size, storage_key, storage_version, device_serial, officer_no, unit_code, "
                  "recorded_at, original_name, ingest_event_id")
METADATA_CHECK = ("metadata: the store's record of each object (digest, size, retention), the catalog row and "
                  "the log index; the bytes were not re-read")
CONTENT_CHECK = "content: every original re-read from the store and re-hashed, and compared with the log"


def recheck_content(rt: Runtime, r: Receipt) -> None:
    """Re-hash every verified entry's original (``integrity.fixity.check_file``); demote any mismatch."""
    for f in r.files:
        if f.status != VERIFIED or f.file_id is None:
            continue
        row = rt.catalog.one(f"SELECT {FIXITY_COLUMNS} FROM files WHERE id = %s", (f.file_id,))
        if row is None:
            continue
        res, _ = check_file(rt.catalog, rt.store, row)
        if not res.ok:
            f.status, f.error = STORED, "content_mismatch: " + "; ".join(res.problems)
            r.reasons.append(f"{f.path}: {f.status}: {f.error}")
    r.safe_to_wipe = r.safe_to_wipe and all(f.status != STORED for f in r.files)


def receipt_cmd(
    session_id: int = typer.Argument(..., help="Ingest session id (see `liuhen dock sessions`)."),
    json_out: bool = typer.Option(False, "--json", help="JSON output."),
    recheck: bool = typer.Option(
        False, help="Re-check every file now against the store's metadata, the catalog and the log."
    ),
    content: bool = typer.Option(
        False, "--content", help="With --recheck: also re-read and re-hash every original (slow: reads all bytes)."
    ),
) -> None:
    """Show the stored offload receipt of a session."""

    if content and not recheck:
        raise typer.BadParameter("--content goes with --recheck")
    with open_runtime() as rt:
        r = reverify(rt, session_id) if recheck else load_receipt(rt, session_id)
        if r is not None and content:
            recheck_content(rt, r)
    if r is None:
        raise NotFound(f"session {session_id} has no stored receipt")
    checked = None if not recheck else ("content" if content else "metadata")
    if json_out:
        typer.echo(json.dumps({**r.to_dict(), "checked": checked}, ensure_ascii=False, indent=2))
        return
    _print_receipt(r, verbose=True)
    if checked == "metadata":
        typer.echo(f"Checked {METADATA_CHECK}. To re-hash the originals too: liuhen receipt {session_id} "
                   "--recheck --content")
    elif checked == "content":
        typer.echo(f"Checked {CONTENT_CHECK}.")


def register(app: Any) -> None:
    app.command("ingest")(ingest_cmd)
    app.command("receipt")(receipt_cmd)
    app.add_typer(dock_app, name="dock")
