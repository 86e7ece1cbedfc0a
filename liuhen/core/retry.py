"""How long to wait before trying again: the one backoff rule of the daemons (stations, start-up)."""

from __future__ import annotations


def retry_delay(attempts: int, first_s: float, cap_s: float) -> float:
    """Seconds to wait after the ``attempts``-th failed try: ``first_s``, doubling, at most ``cap_s``."""
    return min(cap_s, first_s * 2.0 ** max(0, min(attempts - 1, 32)))
