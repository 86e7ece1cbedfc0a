"""Audit events and their canonical leaf bytes (RFC 8785 JCS).

Leaf bytes = JCS of ``{"v":1,"type":…,"time":…,"actor":…,"subject":{…},"data":{…}}``.
Event types (PREMIS-aligned where one fits) are listed in ``EVENT_TYPES``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import rfc8785

EVENT_TYPES = frozenset(
    {
        "ingestion",
        "receipt",
        "fixity.check",
        "derivation",
        "link",
        "unlink",
        "case.create",
        "case.grant",
        "case.grant_revoke",
        "activity.create",
        "stage.change",
        "legal_review",
        "access.view",
        "access.stream",
        "access.read_batch",
        "access.download",
        "access.request",
        "access.approval",
        "export",
        "retention.extend",
        "hold.set",
        "hold.release",
        "disposal",
        "key.rotate",
        "recording_list.change",
        "token.issue",
        "token.revoke",
    }
)


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Event:
    type: str
    actor: str
    subject: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    time: str = field(default_factory=utc_now_iso)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown audit event type {self.type!r}")
        if not self.actor:
            raise ValueError("an audit event needs an actor")

    def body(self) -> dict[str, Any]:
        return {
            "v": 1,
            "type": self.type,
            "time": self.time,
            "actor": self.actor,
            "subject": self.subject,
            "data": self.data,
        }

    def leaf_bytes(self) -> bytes:
        return rfc8785.dumps(self.body())

    @classmethod
    def from_leaf(cls, leaf: bytes) -> Event:
        d = json.loads(leaf)
        return cls(type=d["type"], actor=d["actor"], subject=d["subject"], data=d["data"], time=d["time"])
