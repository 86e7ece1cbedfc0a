"""Who acts: a signed-in person or a token holder, with their role and unit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    unit_code: str | None = None
    token_id: int | None = None
    user_id: int | None = None
