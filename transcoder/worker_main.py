"""Entry point for worker processes: ``dramatiq transcoder.worker_main [-p N -t M]``.

Configures the broker from ``LIUHEN_BROKER_URL`` (and the rest of ``LIUHEN_*``), then declares the
actors. Each process builds its own Runtime (catalog pool, store) on its first message.
"""

from __future__ import annotations

from liuhen.config import Settings
from transcoder.broker import setup_broker

broker = setup_broker(Settings())

from transcoder import actors  # noqa: E402  (must follow setup_broker)

__all__ = ["actors", "broker"]
