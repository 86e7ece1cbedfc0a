"""The ``liuhen`` command. Each package adds its own commands through ``<pkg>.cli.register(app)``."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import typer
from rich.console import Console

from liuhen.commands import audit, cases, export, ingest, publication, redaction, storage, tokens, transcoder, users
from liuhen.core.errors import LiuhenError
from liuhen.demo import run_demo
from liuhen.embedded import install_signal_handlers
from liuhen.integrity.events import origin
from liuhen.serve import serve
from liuhen.simulate import simulate_dock
from liuhen.wiring import open_runtime

app = typer.Typer(
    name="liuhen",
    help="Liuhen (留痕): evidence management and video processing for law-enforcement recorders.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Commands whose events are not "run by this OS user": serve records what HTTP callers do.
_NOT_CLI_ORIGIN = frozenset({"serve"})


@app.callback()
def _origin(ctx: typer.Context) -> None:
    """Set once for every command: the events it records carry ``via: "cli"`` and ``os_user``."""
    if ctx.invoked_subcommand in _NOT_CLI_ORIGIN:
        return
    scope = origin("cli")
    scope.__enter__()
    ctx.call_on_close(lambda: scope.__exit__(None, None, None))


@app.command("simulate-dock")
def simulate_dock_cmd(
    dock: Path = typer.Argument(..., help="Dock directory to create (one sub-directory per port)."),
    recorders: int = typer.Option(3, "--recorders", "-r", min=1, max=25, help="Docked recorders."),
    minutes: float = typer.Option(0.25, "--minutes", "-m", min=0.05, help="Minutes of H.264 video each."),
    small: bool = typer.Option(False, help="320x240 instead of 1080p (fast, for tests)."),
) -> None:
    """Lay out a dock with recorders holding real ffmpeg-made footage (H.264, HEVC, JPEG, WAV, truncated)."""
    kw = {"width": 320, "height": 240, "bitrate": "500k", "clip_seconds": 4.0} if small else {}
    recs = simulate_dock(dock, recorders=recorders, minutes=minutes, **kw)  # type: ignore[arg-type]
    for r in recs:
        size = sum(p.stat().st_size for p in r.files)
        typer.echo(f"{r.port}: {r.serial} officer {r.officer_no}: {len(r.files)} files, {size / 1e6:.1f} MB")


@app.command("migrate")
def migrate_cmd() -> None:
    """Apply catalog migrations to the configured database (idempotent)."""
    with open_runtime() as rt:
        row = rt.catalog.one("SELECT count(*) AS n FROM schema_migrations")
        typer.echo(f"catalog at {rt.settings.root}: {row['n'] if row else 0} migrations applied")


@app.command("demo")
def demo_cmd(
    recorders: int = typer.Option(3, min=1, max=25, help="Simulated recorders."),
    minutes: float = typer.Option(0.25, min=0.05, help="Minutes of 1080p H.264 per recorder."),
    small: bool = typer.Option(False, help="Use 320x240 footage (fast)."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run the whole pipeline on the embedded defaults: dock → ingest → transcode → case → export → verify."""
    try:
        # with --json stdout is exactly one JSON document: the summary table goes to stderr
        summary = run_demo(
            recorders=recorders, minutes=minutes, small=small, table_out=Console(stderr=True) if json_out else None
        )
    except KeyboardInterrupt:
        typer.secho(
            "demo interrupted: stopped cleanly (workers stopped, catalog closed, everything stored so far kept); "
            "run `liuhen demo` again to continue",
            err=True,
        )
        raise typer.Exit(130) from None
    if json_out:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    if not summary.get("ok"):
        raise typer.Exit(1)


@app.command("serve")
def serve_cmd(
    host: str | None = typer.Option(None, help="Bind address (default LIUHEN_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default LIUHEN_PORT or 8000)."),
    watch: bool = typer.Option(True, help="Also watch the configured docks (LIUHEN_DOCKS)."),
    workers: bool = typer.Option(True, help="Also run in-process transcoder workers (no broker set)."),
) -> None:
    """Run the service: the API, the dock watcher and the workers, on the configured components."""
    serve(host=host, port=port, watch=watch, workers=workers)


# Each area adds its own commands, in the order data flows.
for _area in (storage, audit, export, ingest, transcoder, tokens, cases, redaction, publication, users):
    _area.register(app)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_signal_handlers()
    try:
        app()
    except LiuhenError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.secho("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
