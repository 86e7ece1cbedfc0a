"""``liuhen redact SHA256 …`` and ``liuhen redaction approve|show|list|verify|bag-script``."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer

from liuhen.redaction import actors, service
from liuhen.redaction.bagscript import SCRIPT_NAME, bag_script
from liuhen.redaction.centerface import CenterFace
from liuhen.redaction.detect import DETECT_SIDE, STRIDE, DetectParams
from liuhen.redaction.regions import load, parse_box_spec, parse_range
from liuhen.redaction.regions_core import METHODS
from liuhen.redaction.verifier import verify
from liuhen.wiring import open_runtime

redaction_app = typer.Typer(help="Redacted copies for disclosure: approve, inspect, verify.", no_args_is_help=True)


def _emit(obj: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))
        return
    for k, v in obj.items():
        if k != "region_list":
            typer.echo(f"{k}: {v}")


@redaction_app.command("approve")
def approve_cmd(
    redaction_id: int = typer.Argument(..., help="Redaction id (from `liuhen redact`)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Approve a verified preview (someone other than the drafter): it becomes the final derivative."""
    with open_runtime() as rt:
        _emit(service.approve(rt, redaction_id, rt.settings.actor_name()), json_out)


@redaction_app.command("show")
def show_cmd(
    redaction_id: int = typer.Argument(...),
    regions_only: bool = typer.Option(False, "--regions", help="Print only the region list (JSON) — edit and "
                                      "re-submit with `liuhen redact SHA256 --regions FILE`."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """A redaction's state, digests and verification result."""
    with open_runtime() as rt:
        got = service.get(rt, redaction_id)
    if regions_only:
        typer.echo(json.dumps(got["region_list"], indent=2))
        return
    _emit(got, json_out)


@redaction_app.command("list")
def list_cmd(sha256: str = typer.Argument(...), json_out: bool = typer.Option(False, "--json")) -> None:
    """Every redaction of an original."""
    with open_runtime() as rt:
        rows = service.list_for_file(rt, sha256)
    if json_out:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    for r in rows:
        typer.echo(f"{r['id']}  {r['state']:<8} regions {r['regions']} (faces {r['faces']})  "
                   f"verified {r['verified']}  by {r['created_by']}  approved {r['approved_by'] or '-'}")


@redaction_app.command("verify")
def verify_cmd(
    original: Path = typer.Argument(..., exists=True, dir_okay=False),
    redacted: Path = typer.Argument(..., exists=True, dir_okay=False),
    regions: Path = typer.Argument(..., exists=True, dir_okay=False, help="The region list (regions.json)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Check a redacted copy: unchanged outside the regions, hidden inside, audio muted where listed."""
    rep = verify(original, redacted, load(regions))
    if json_out:
        typer.echo(json.dumps(asdict(rep), indent=2))
    else:
        typer.echo(f"{'OK' if rep.ok else 'FAILED'}: {rep.frames} frames, regions sha256 {rep.regions_digest}")
        for f in rep.failures[:20]:
            typer.echo(f"  {f}")
    if not rep.ok:
        raise typer.Exit(1)


@redaction_app.command("bag-script")
def bag_script_cmd(out: Path = typer.Argument(Path(SCRIPT_NAME), help="Where to write the script.")) -> None:
    """Write the standalone verifier (Python + numpy + ffmpeg) that disclosure bags carry."""
    out.write_text(bag_script(), encoding="utf-8")
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    @app.command("redact")
    def redact_cmd(
        sha256: str = typer.Argument(..., help="SHA-256 of the stored original (video or photo)."),
        faces: bool = typer.Option(False, "--faces", help="Detect and track faces (CenterFace)."),
        region: list[str] = typer.Option([], "--region", help="T0-T1:X,Y,W,H box to hide (seconds; repeatable)."),
        keep: list[str] = typer.Option([], "--keep", help="T0-T1:X,Y,W,H: hide everything EXCEPT this box."),
        mute: list[str] = typer.Option([], "--mute", help="T0-T1 audio range to silence (repeatable)."),
        tone: bool = typer.Option(False, "--tone", help="Replace muted ranges by a 1 kHz tone."),
        method: str = typer.Option("blur", "--method", help=f"One of {', '.join(METHODS)}."),
        regions: Path | None = typer.Option(None, "--regions", exists=True, dir_okay=False,
                                            help="A full region list (e.g. an edited `redaction show --regions`)."),
        stride: int = typer.Option(STRIDE, min=1, help="Detect on every n-th frame (tracking covers the rest)."),
        detect_side: int = typer.Option(DETECT_SIDE, min=320, max=3840, help="Detector input's longer side (fixed per "
                                        "run): 960 finds faces ≥ 40 px in 1080p, 1280 (default) also most 30 px ones."),
        no_wait: bool = typer.Option(False, "--no-wait", help="Queue the render job for the workers (needs "
                                     "LIUHEN_BROKER_URL) and return at once; default: render here and wait."),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Draft a redaction, render its preview and verify it; a supervisor then approves it."""
        if method not in METHODS:
            raise typer.BadParameter(f"--method must be one of {', '.join(METHODS)}")
        req = service.Request(
            faces=faces, boxes=[parse_box_spec(s) for s in region], keep=[parse_box_spec(s) for s in keep],
            mutes=[parse_range(s) for s in mute], tone=tone, method=method,
            regions=load(regions) if regions else None,
            detect=DetectParams(stride=stride, method=method, max_side=detect_side),
        )
        detector = CenterFace.for_side(detect_side) if faces else None
        with open_runtime() as rt:
            if no_wait and not rt.settings.broker_url:
                raise typer.BadParameter("no worker broker configured (LIUHEN_BROKER_URL); run without --no-wait",
                                         param_hint="--no-wait")
            rid = service.submit(rt, sha256, req, rt.settings.actor_name())
            if no_wait:
                actors.enqueue(rid)
                _emit(service.get(rt, rid), json_out)
                return
            _emit(service.run(rt, rid, detector), json_out)

    app.add_typer(redaction_app, name="redaction")
