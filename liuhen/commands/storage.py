"""CLI: ``liuhen storage check|dispose|head|ls``."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import typer

from liuhen.cases.retention import dispose_expired
from liuhen.core.config import get_settings
from liuhen.storage.base import key_for
from liuhen.storage.check import run_check
from liuhen.storage.factory import open_store
from liuhen.wiring import open_runtime

storage_app = typer.Typer(
    help="The write-once object store: conformance check, disposal, inspection.", no_args_is_help=True
)


def _settings() -> Any:

    return get_settings()


def _info_dict(info: Any) -> dict[str, Any]:
    d = asdict(info)
    for k in ("retain_until", "created_at"):
        if d.get(k) is not None:
            d[k] = d[k].isoformat()
    return d


@storage_app.command("check")
def check_cmd(
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    canary_hours: float = typer.Option(24.0, min=0.01, help="COMPLIANCE retention of the canary objects."),
) -> None:
    """Probe the configured store: try every forbidden operation on canary objects.

    Reports each operation as refused / ALLOWED / n/a / error, at the store-API level and at the
    backend level (raw S3 calls, raw filesystem calls). Exit status 1 if anything is ALLOWED or
    could not be determined.
    """

    store = open_store(_settings())
    report = run_check(store, canary_retention=timedelta(hours=canary_hours))
    if json_out:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        typer.echo(f"store: {report.store}")
        for r in report.results:
            typer.echo(f"  {r.op:34} {r.level:10} {r.outcome:8} {r.detail}")
        for n in report.notes:
            typer.echo(f"  note: {n}")
        verdict = (
            "write-once: every forbidden operation refused"
            if report.conformant
            else ("NOT write-once: " + ", ".join(f"{r.op} ({r.level}) {r.outcome}" for r in report.failures))
        )
        typer.echo(verdict)
    if not report.conformant:
        raise typer.Exit(1)


@storage_app.command("dispose")
def dispose_cmd(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be disposed; remove nothing."),
    limit: int = typer.Option(10_000, min=1, help="At most this many originals per run."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Dispose of originals whose retention expired, with no legal hold and no active case link.

    The only way an original is removed; each removal is a ``disposal`` audit event. Exits 1 when an
    original was found missing from the store (an incident: logged as a failed fixity check).
    """

    with open_runtime() as rt:
        rep = dispose_expired(rt.catalog, rt.store, rt.settings.actor_name(), dry_run=dry_run, limit=limit)
    if json_out:
        typer.echo(json.dumps(rep.to_dict(), indent=2))
    else:
        verb = "would dispose" if dry_run else "disposed"
        typer.echo(f"{verb} {len(rep.disposed)} original(s); skipped {len(rep.skipped)}")
        for sha in rep.disposed:
            typer.echo(f"  {verb}: {sha}")
        for sha, why in rep.skipped.items():
            typer.echo(f"  skipped {sha}: {why}")
        for sha in rep.missing:
            typer.secho(f"  MISSING FROM STORE (fixity failure recorded): {sha}", fg=typer.colors.RED, err=True)
    if not rep.ok:
        raise typer.Exit(1)


@storage_app.command("head")
def head_cmd(
    keys: list[str] = typer.Argument(..., help="Object keys, or SHA-256 digests of originals."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON lines."),
) -> None:
    """Show size, SHA-256, version, retention and legal hold of stored objects."""

    store = open_store(_settings())
    for k in keys:
        key = key_for(k) if len(k) == 64 and "/" not in k else k
        info = store.head(key)
        if json_out:
            typer.echo(json.dumps(_info_dict(info)))
        else:
            until = info.retain_until.isoformat() if info.retain_until else "-"
            typer.echo(
                f"{info.key}  {info.size} B  sha256 {info.sha256}  version {info.version}  "
                f"{info.retention_mode or '-'} until {until}  legal hold {'ON' if info.legal_hold else 'off'}"
            )


@storage_app.command("ls")
def ls_cmd(
    prefix: str = typer.Argument("sha256/", help="Key prefix."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON lines."),
) -> None:
    """List stored objects under a prefix."""

    for info in open_store(_settings()).list(prefix):
        typer.echo(json.dumps(_info_dict(info)) if json_out else f"{info.key}\t{info.size}")


def register(app: typer.Typer) -> None:
    app.add_typer(storage_app, name="storage")
