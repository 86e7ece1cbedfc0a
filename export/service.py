"""The export service step: check the approved request, log the export's start (before any byte), build the bag.

The CLI, the API route and the demo all call ``run_export``; the bag itself is built by ``export.build``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from liuhen.cases import access
from liuhen.cases.principal import Principal
from liuhen.export.build import ExportResult, export_case
from liuhen.runtime import Runtime


def run_export(
    runtime: Runtime,
    case_no: str,
    who: Principal | str,
    *,
    request_id: int,
    out_dir: Path | str | None = None,
    stage: str | None = None,
    t_from: datetime | None = None,
    t_to: datetime | None = None,
) -> tuple[str, ExportResult]:
    """Check the approved export request, log the export's start (before any byte is written), export."""
    principal = who if isinstance(who, Principal) else Principal(who, "cli")
    access.require_approved(runtime, request_id, principal, kind="export", case_no=case_no)
    with runtime.catalog.tx() as conn:
        c = conn.execute("SELECT unit_code FROM cases WHERE case_no = %s", (case_no,)).fetchone()
        access.record_access(
            conn,
            principal,
            "export",
            purpose=f"approved request {request_id}",
            case_no=case_no,
            case_unit=c["unit_code"] if c else None,
            request_id=request_id,
            data={
                "phase": "authorised",
                "stage": stage,
                "t_from": t_from.isoformat() if t_from else None,
                "t_to": t_to.isoformat() if t_to else None,
            },
        )
    if out_dir is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in case_no)
        out_dir = runtime.settings.export_dir / f"{safe}-{stamp}-r{request_id}"
    out = Path(out_dir)
    result = export_case(
        runtime, case_no, out, actor=principal.name, stage=stage, t_from=t_from, t_to=t_to, request_id=request_id
    )
    return str(out), result

