"""What a disclosure export may carry: approved (final) redacted copies with their proof material.

Contract for the export package:
- ``final_for_file(rt, sha256)`` → every final redaction of that original, oldest first;
- ``require_final(rt, redaction_id)`` → the same record for one redaction, or ``RedactionNotApproved``;
- ``bag_script()`` (re-exported from ``bagscript``) → source of ``verify_redaction.py`` for the bag;
- a record's ``files()`` names what to put in the bag: the redacted copy, ``regions.json`` (the exact
  region list; its SHA-256 is ``regions_sha256``) and ``derivation.json`` (the derivation event's data).
The original itself is NOT part of a disclosure bag (the receiving party may not see it); the verifier
then needs the original from whoever holds it — the bag README should say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liuhen.redaction.bagscript import SCRIPT_NAME, bag_script
from liuhen.redaction.errors import RedactionNotApproved, RedactionNotFound
from liuhen.redaction.regions_core import canonical
from liuhen.runtime import Runtime

__all__ = ["SCRIPT_NAME", "ApprovedRedaction", "bag_script", "final_for_file", "require_final"]

_SQL = (
    "SELECT r.id, r.state, r.regions, r.regions_sha256, r.approved_by, r.approved_at, r.created_by, "
    "r.draft_event_id, r.approve_event_id, d.id AS derivative_id, d.sha256 AS redacted_sha256, d.size, d.mime, "
    "d.path, d.recipe, d.event_id AS derivation_event_id, f.sha256 AS original_sha256, f.id AS file_id "
    "FROM redactions r JOIN files f ON f.id = r.file_id LEFT JOIN derivatives d ON d.id = r.derivative_id "
)


@dataclass(frozen=True)
class ApprovedRedaction:
    id: int
    file_id: int
    original_sha256: str
    redacted_sha256: str
    size: int
    mime: str
    path: Path  # absolute path of the redacted copy
    regions: dict[str, Any]
    regions_sha256: str
    derivation: dict[str, Any]  # the derivation event's data (I7)
    derivation_event_id: int
    derivative_id: int
    approve_event_id: int
    draft_event_id: int
    drafted_by: str
    approved_by: str
    approved_at: Any

    def files(self) -> dict[str, bytes | Path]:
        """Bag-relative name → bytes or a path to copy (names are unique per redaction id)."""
        base = f"redactions/{self.id}"
        return {
            f"{base}/redacted{self.path.suffix}": self.path,
            f"{base}/regions.json": canonical(self.regions),
            f"{base}/derivation.json": json.dumps(self.derivation, sort_keys=True, indent=2,
                                                  default=str).encode("utf-8"),
        }


def _record(rt: Runtime, r: dict[str, Any]) -> ApprovedRedaction:
    return ApprovedRedaction(
        id=r["id"], file_id=r["file_id"], original_sha256=r["original_sha256"], redacted_sha256=r["redacted_sha256"],
        size=r["size"], mime=r["mime"], path=rt.settings.derived_dir / r["path"], regions=r["regions"],
        regions_sha256=r["regions_sha256"], derivation=r["recipe"], derivation_event_id=r["derivation_event_id"],
        derivative_id=r["derivative_id"], approve_event_id=r["approve_event_id"],
        draft_event_id=r["draft_event_id"], drafted_by=r["created_by"],
        approved_by=r["approved_by"], approved_at=r["approved_at"],
    )


def final_for_file(rt: Runtime, sha256: str) -> list[ApprovedRedaction]:
    rows = rt.catalog.all(_SQL + "WHERE f.sha256 = %s AND r.state = 'final' ORDER BY r.id", (sha256.lower(),))
    return [_record(rt, r) for r in rows]


def require_final(rt: Runtime, redaction_id: int) -> ApprovedRedaction:
    row = rt.catalog.one(_SQL + "WHERE r.id = %s", (redaction_id,))
    if row is None:
        raise RedactionNotFound(f"no redaction {redaction_id}")
    if row["state"] != "final":
        raise RedactionNotApproved(f"redaction {redaction_id} is {row['state']}: only approved redactions can be "
                                   "disclosed or exported")
    return _record(rt, row)
