"""Test hook for the crash-consistency tests: ``LIUHEN_INGEST_CRASH=<point>:<n>``.

``crash_point(name)`` SIGKILLs this process the n-th time it passes the named point (``after_copy``,
``after_put``, ``after_tx``, ``after_sequence``, ``before_receipt``, ``after_receipt``). Unset, it is a
dictionary lookup and nothing else.
"""

from __future__ import annotations

import os
import signal
import threading

_lock = threading.Lock()
_counts: dict[str, int] = {}


def crash_point(name: str) -> None:
    spec = os.environ.get("LIUHEN_INGEST_CRASH")
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        hit = _counts[name] >= int(nth or 1)
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)
