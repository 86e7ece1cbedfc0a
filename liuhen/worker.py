"""Entry point for worker processes: ``dramatiq liuhen.worker [-p N -t M]``.

Configures the broker from ``LIUHEN_BROKER_URL`` (and the rest of ``LIUHEN_*``), then declares the
actors and tells them how to build their Runtime (catalog pool, store) on their first message.
"""

from __future__ import annotations

from liuhen.core.config import Settings
from liuhen.transcoder.broker import setup_broker

broker = setup_broker(Settings())

from liuhen.redaction import actors as redaction_actors  # noqa: E402  (must follow setup_broker)
from liuhen.transcoder import actors  # noqa: E402  (must follow setup_broker)
from liuhen.wiring import build_runtime  # noqa: E402

actors.set_runtime_factory(build_runtime)

__all__ = ["actors", "broker", "redaction_actors"]
