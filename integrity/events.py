"""Audit events and their canonical leaf bytes (RFC 8785 JCS).

Leaf bytes = JCS of ``{"v":1,"type":…,"time":…,"actor":…,"subject":{…},"data":{…}}``.
Event types (PREMIS-aligned where one fits) are listed in ``EVENT_TYPES``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

import rfc8785

from liuhen.core.config import os_user
from liuhen.core.timefmt import utcnow

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
        # publication (公示), calendar, evaluation, annual report — liuhen.publication
        "calendar.load",
        "publication.due",
        "publication.deadline",
        "publication.approve",
        "publication.publish",
        "publication.update",
        "publication.revoke",
        "publication.rule",
        "evaluation.finding",
        "report.annual",
        "redaction.draft",
        "redaction.approve",
    }
)


def utc_now_iso() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Who really caused the events recorded in this context: set once per CLI command by the shell
# (``liuhen.cli``), so every event any package records meanwhile carries ``via`` and ``os_user``.
_ORIGIN: ContextVar[dict[str, str] | None] = ContextVar("liuhen_event_origin", default=None)


@contextmanager
def origin(via: str = "cli") -> Iterator[dict[str, str]]:
    """Every event recorded inside the block (this context) gets ``via`` and ``os_user`` in its data."""
    token = _ORIGIN.set({"via": via, "os_user": os_user()})
    try:
        yield _ORIGIN.get() or {}
    finally:
        _ORIGIN.reset(token)


def set_origin(via: str = "cli") -> None:
    """``origin`` for the rest of this context (a CLI process: set once, before the command runs)."""
    _ORIGIN.set({"via": via, "os_user": os_user()})


def current_origin() -> dict[str, str]:
    return dict(_ORIGIN.get() or {})


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

    def stamped(self) -> Event:
        """This event with the current origin merged into its data (unchanged when none is set)."""
        o = _ORIGIN.get()
        return replace(self, data={**self.data, **o}) if o else self

    @classmethod
    def from_leaf(cls, leaf: bytes) -> Event:
        d = json.loads(leaf)
        return cls(type=d["type"], actor=d["actor"], subject=d["subject"], data=d["data"], time=d["time"])
