"""Clerk's dock station: live state of every port (polled), SAFE TO WIPE per recorder, receipts, today's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from liuhen.console import labels
from liuhen.console.errors import PageForbidden
from liuhen.console.web import gate
from liuhen.core.errors import NotFound

router = APIRouter()

_LATEST = (
    "SELECT DISTINCT ON (dock_path, port) s.*, s.identity->>'officer_no' AS officer FROM ingest_sessions s "
    "WHERE s.started_at >= %s OR s.status = 'running' ORDER BY dock_path, port, s.started_at DESC, s.id DESC"
)


def port_state(s: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What the station shows for one port: progress, rate, ETA, flags, and why it is not safe to wipe."""
    running = s["status"] == "running"
    elapsed = max(((s["finished_at"] or now) - s["started_at"]).total_seconds(), 1e-3)
    rate = s["bytes_done"] / elapsed
    left = max(s["bytes_total"] - s["bytes_done"], 0)
    receipt = s.get("receipt") or {}
    return {
        "id": s["id"], "port": s["port"], "device": s["device_serial"], "officer": s["officer"],
        "files_done": s["files_done"], "files_total": s["files_total"],
        "bytes_done": s["bytes_done"], "bytes_total": s["bytes_total"],
        "mb_s": rate / 1e6, "eta_s": (left / rate) if running and rate > 0 else None,
        "running": running, "safe_to_wipe": bool(s["safe_to_wipe"]) and not running,
        "flags": list(receipt.get("flags") or []), "reasons": list(receipt.get("reasons") or [])[:50],
    }


def _today(ctx_zone: Any) -> datetime:
    now = datetime.now(ctx_zone)
    return now.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


@router.get("/dock", name="console.dock")
def dock(request: Request) -> Response:
    ctx = gate(request, "console.dock")
    history = ctx.runtime.catalog.all(
        "SELECT s.*, s.identity->>'officer_no' AS officer FROM ingest_sessions s WHERE started_at >= %s "
        "ORDER BY started_at DESC LIMIT 500",
        (_today(ctx.settings.zone),),
    )
    words = {k: ctx._(v) for k, v in labels.DOCK_WORDS.items()}
    return ctx.render("dock.html", history=history, dock_i18n=words, active="/dock")


@router.get("/dock/state", name="console.dock_state")
def dock_state(request: Request) -> Response:
    ctx = gate(request, "console.dock_state")
    now = datetime.now(UTC)
    rows = ctx.runtime.catalog.all(_LATEST, (now - timedelta(hours=12),))
    ports = [port_state(r, now) for r in rows]
    for p in ports:
        p["receipt_url"] = ctx.url(f"/dock/receipts/{p['id']}")
    return JSONResponse({"ports": ports, "at": now.isoformat()}, headers={"Cache-Control": "no-store"})


@router.get("/dock/receipts/{session_id}", name="console.receipt")
def receipt(request: Request, session_id: int) -> Response:
    ctx = gate(request, "console.receipt")
    if not 0 < session_id < 2**62:
        raise PageForbidden("bad receipt id")
    s = ctx.runtime.catalog.one(
        "SELECT s.*, s.identity->>'officer_no' AS officer FROM ingest_sessions s WHERE id = %s", (session_id,)
    )
    if s is None:
        raise NotFound(f"no offload session {session_id}")
    files = ctx.runtime.catalog.all(
        "SELECT sf.*, e.idx AS log_index FROM session_files sf LEFT JOIN log_events e ON e.id = sf.event_id "
        "WHERE sf.session_id = %s ORDER BY sf.source_path",
        (session_id,),
    )
    return ctx.render("receipt.html", s=s, files=files, active="/dock")
