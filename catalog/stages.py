"""Case stages, in order, as the catalog's CHECK constraints spell them (migrations/0001_core.sql)."""

from __future__ import annotations

STAGES = ("filing", "investigation", "review", "decision", "service", "execution", "closure")
STAGE_LABELS = {
    "filing": "立案",
    "investigation": "调查取证",
    "review": "审查",
    "decision": "决定",
    "service": "送达",
    "execution": "执行",
    "closure": "结案",
}


def stages_from(stage: str) -> tuple[str, ...]:
    """``stage`` and every stage after it."""
    return STAGES[STAGES.index(stage) :]
