"""``liuhen export`` and ``liuhen verify``, side by side: make an evidence bag, check one.

``liuhen export`` checks the supervisor-approved request first (``export.service.run_export``);
``liuhen verify`` runs the very verifier shipped inside bags (``liuhen.core.verifier``).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from liuhen.commands.cases import AS, JSON, _emit, _runtime, _who
from liuhen.core.timefmt import parse_utc
from liuhen.core.verifier import render, verify_bag
from liuhen.export.disclosure import run_disclosure
from liuhen.export.service import run_export
from liuhen.integrity import keys as logkeys
from liuhen.wiring import open_runtime


def export_cmd(
    case_no: str = typer.Argument(..., help="案号"),
    out: Path = typer.Option(..., "--out", help="Directory to write the bag to."),
    request_id: int = typer.Option(..., "--request", help="The approved export request id."),
    stage: str | None = typer.Option(None, help="Only this stage."),
    t_from: str | None = typer.Option(None, "--from", help="ISO 8601 start."),
    t_to: str | None = typer.Option(None, "--to", help="ISO 8601 end."),
    disclosure: bool = typer.Option(False, "--disclosure", help="Approved redacted copies only, no originals."),
    redaction: list[int] = typer.Option(None, "--redaction", help="With --disclosure: only this redaction id "
                                        "(repeatable; default every approved redaction of the case's files)."),
    as_user: str | None = AS,
    as_json: bool = JSON,
) -> None:
    """Export a case as a verifiable BagIt bag (checks the approved request first); --disclosure makes a
    bag of approved redacted copies with verify_redaction.py for a party who may not see originals."""

    with _runtime() as rt:
        if disclosure:
            if stage or t_from or t_to:
                raise typer.BadParameter("--disclosure takes no --stage/--from/--to", param_hint="--disclosure")
            path, result = run_disclosure(rt, case_no, _who(rt, as_user), request_id=request_id, out_dir=out,
                                          redaction_ids=redaction or ())
            _emit({"case_no": case_no, **result.as_json(), "path": path}, as_json)
            return
        path, result = run_export(rt, case_no, _who(rt, as_user), request_id=request_id, out_dir=out, stage=stage,
                                  t_from=parse_utc(t_from), t_to=parse_utc(t_to))
    _emit({"case_no": case_no, **result.as_json(), "path": path}, as_json)


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
            keys += logkeys.verifier_keys(rt.catalog, rt.settings) or [logkeys.public_key(rt.settings)]
    report = verify_bag(bag, trusted_keys=keys or None, workers=workers)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render(report))
    raise typer.Exit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
    app.command("verify")(verify_cmd)
