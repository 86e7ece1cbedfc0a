"""``liuhen match FILE [--json]`` and ``liuhen transcode [FILE_ID|--pending]``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from liuhen.runtime import Runtime
from liuhen.transcoder.broker import setup_broker
from liuhen.transcoder.jobs import enqueue_pending
from liuhen.transcoder.match import build_index, match_file
from liuhen.transcoder.service import process_file
from liuhen.transcoder.workers import InProcessWorkers
from liuhen.wiring import open_runtime


def unfingerprinted(rt: Runtime) -> int:
    """Stored videos without a fingerprint set (not transcoded yet, or transcoding failed)."""
    row = rt.catalog.one(
        "SELECT count(*) AS n FROM files f WHERE f.status = 'stored' AND f.media_kind IN ('video', 'unknown') "
        "AND f.media_status IN ('pending', 'ok') "
        "AND NOT EXISTS (SELECT 1 FROM fingerprint_sets s WHERE s.file_id = f.id)"
    )
    return int(row["n"]) if row else 0


def register(app: typer.Typer) -> None:
    @app.command("match")
    def match_cmd(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A video clip to look for."),
        max_distance: float = typer.Option(10.0, help="Largest mean Hamming distance (of 64 bits) to report."),
        limit: int = typer.Option(10, min=1, help="Most matches to list."),
        json_out: bool = typer.Option(False, "--json", help="Print matches as JSON."),
    ) -> None:
        """Find stored originals that contain FILE (perceptual fingerprints), with time offsets and scores."""

        with open_runtime() as rt:
            matches = match_file(rt, file, max_distance=max_distance, limit=limit)
            unprinted = unfingerprinted(rt)
        if unprinted:
            typer.echo(
                f"note: {unprinted} stored video(s) have no fingerprint yet and could not match; "
                "run `liuhen transcode --pending` (or keep `liuhen serve` running) and try again.",
                err=True,
            )
        if json_out:
            typer.echo(json.dumps([m.to_json() for m in matches], ensure_ascii=False, indent=2))
            return
        if not matches:
            typer.echo("no match")
            raise typer.Exit(1)
        for m in matches:
            typer.echo(
                f"file {m.file_id} {m.sha256[:16]}… at {m.offset_s:+d} s  score {m.score:.3f} "
                f"(mean distance {m.mean_distance:.1f}/64 over {m.overlap_s} s)  {m.original_name or ''}"
            )

    @app.command("match-index")
    def match_index_cmd() -> None:
        """(Re)build the match index beside the catalog ($LIUHEN_DATA_DIR/matchindex); matching then uses it."""
        with open_runtime() as rt:
            n = build_index(rt)
        typer.echo(f"match index built: {n} seconds of fingerprints")

    @app.command("transcode")
    def transcode_cmd(
        file_id: int | None = typer.Argument(None, help="File id to process now (in this process)."),
        pending: bool = typer.Option(False, "--pending", help="Enqueue every file still pending."),
        force: bool = typer.Option(False, help="Process even if already done (existing derivatives kept)."),
        json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Probe and derive proxies/thumbnails/fingerprints for one file, or enqueue all pending files."""

        if (file_id is None) == (not pending):
            raise typer.BadParameter("give a FILE_ID or --pending (not both)")
        with open_runtime() as rt:
            if file_id is not None:
                from dataclasses import asdict


                res = process_file(rt, file_id, force=force)
                if json_out:
                    typer.echo(json.dumps(asdict(res), indent=2, default=str))
                else:
                    typer.echo(f"file {file_id}: {res.status} {res.error or ''}".rstrip())
                    for d in res.derivatives:
                        typer.echo(f"  {d.kind}[{d.seq}] {d.path} sha256 {d.sha256[:16]}…")
                if res.status in ("corrupt", "unsupported"):
                    raise typer.Exit(1)
                return
            setup_broker(rt.settings)

            if rt.settings.broker_url is None:

                with InProcessWorkers(rt) as w:
                    ids = enqueue_pending(rt)
                    w.join_idle()
            else:
                ids = enqueue_pending(rt)
            typer.echo(json.dumps({"enqueued": ids}) if json_out else f"{len(ids)} pending files enqueued")
