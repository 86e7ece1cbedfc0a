"""Export bags for their recipients: the caller's approved export requests, and the bag itself (a ZIP of the
verifiable BagIt directory) built on demand — ``run_export`` checks the approval and logs the export first."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from liuhen.console.services import run_export
from liuhen.console.web import gate
from liuhen.core.errors import NotFound

router = APIRouter()


@router.get("/bags", name="console.bags")
def bags(request: Request) -> Response:
    """Only the caller's own approved export requests (an external recipient sees nothing else)."""
    ctx = gate(request, "console.bags")
    assert ctx.me is not None
    rows = ctx.runtime.catalog.all(
        "SELECT * FROM access_requests WHERE requester = %s AND kind = 'export' AND status = 'approved' "
        "AND (expires_at IS NULL OR expires_at > now()) ORDER BY id DESC LIMIT 200", (ctx.me.name,))
    for r in rows:
        r["ready"] = True
    return ctx.render("bags.html", bags=rows, active="/bags")


def zip_dir(src: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                z.write(p, Path(src.name) / p.relative_to(src))
    return dest


@router.get("/bags/{request_id}/download", name="console.bag_download")
def bag_download(request: Request, request_id: int) -> Response:
    ctx = gate(request, "console.bag_download")
    assert ctx.me is not None
    req = ctx.runtime.catalog.one("SELECT * FROM access_requests WHERE id = %s AND kind = 'export'", (request_id,))
    if req is None or req["requester"] != ctx.me.name or not req["case_no"]:
        raise NotFound(f"no export bag {request_id} for you")
    work = Path(tempfile.mkdtemp(prefix="liuhen-bag-"))
    try:
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in req["case_no"])
        bag = work / f"{safe}-r{request_id}"
        run_export(ctx.runtime, req["case_no"], ctx.principal, request_id=request_id, out_dir=bag)
        out = zip_dir(bag, work / f"{bag.name}.zip")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(out, media_type="application/zip", filename=out.name,
                        headers={"Cache-Control": "no-store"},
                        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True))
