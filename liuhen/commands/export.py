"""``liuhen verify BAG [--json]``: check an evidence bag with the very verifier shipped inside bags.

(``liuhen export`` itself belongs to the API package: it checks the supervisor's approval first.)
"""

from __future__ import annotations

import json

import typer

from liuhen.core.verifier import render, verify_bag
from liuhen.integrity import checkpoint
from liuhen.wiring import open_runtime


def verify_cmd(
    bag: str = typer.Argument(..., help="The bag directory (holding bagit.txt)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
    trusted_key: list[str] = typer.Option(
        None, "--trusted-key", help="Pin the log's published verifier key (name+keyid+base64); repeatable."
    ),
    local_keys: bool = typer.Option(
        False, "--local-keys", help="Pin the verifier keys of this installation's audit log (needs the catalog)."
    ),
    workers: int = typer.Option(2, min=1, max=64, help="Files hashed in parallel."),
) -> None:
    """Verify an exported evidence bag offline: manifests, tag manifest, Ed25519 checkpoint signature,
    every event's tlog-proof, the consistency proof and each original's ingestion event. Exit 0 only
    when everything holds; otherwise each failure names the item, expected and computed values."""

    keys = list(trusted_key or [])
    if local_keys:

        with open_runtime() as rt:
            keys += checkpoint.verifier_keys(rt.catalog, rt.settings) or [checkpoint.public_key(rt.settings)]
    report = verify_bag(bag, trusted_keys=keys or None, workers=workers)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render(report))
    raise typer.Exit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify_cmd)
