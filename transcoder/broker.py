"""Broker selection. Call ``setup_broker(settings)`` before importing ``transcoder.actors``.

- ``Settings.broker_url`` unset → ``StubBroker`` (in-process worker threads, see ``workers``);
- ``amqp://…`` → ``RabbitmqBroker``; ``redis://…`` → ``RedisBroker``.

``transcoder.actors`` calls ``ensure_broker()`` at import, which configures from ``LIUHEN_*`` env if
nobody did, so the module order is always safe. Calling ``setup_broker`` again with another URL
moves the already-declared actors to the new broker.
"""

from __future__ import annotations

import threading

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from liuhen.core.config import Settings
from liuhen.core.errors import ConfigError

_lock = threading.RLock()
_current: tuple[str | None, dramatiq.Broker] | None = None


def _make(url: str | None) -> dramatiq.Broker:
    if not url:
        broker: dramatiq.Broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    elif url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url)
    else:
        raise ConfigError(f"unsupported LIUHEN_BROKER_URL scheme: {url.split(':', 1)[0]}:// (amqp or redis)")
    if not any(isinstance(m, CurrentMessage) for m in broker.middleware):
        broker.add_middleware(CurrentMessage())
    return broker


def setup_broker(settings: Settings | None = None) -> dramatiq.Broker:
    """Configure (or return the already-configured) global dramatiq broker for ``settings``."""
    global _current
    url = (settings or Settings()).broker_url
    with _lock:
        if _current is not None and _current[0] == url:
            return _current[1]
        broker = _make(url)
        dramatiq.set_broker(broker)
        old = _current
        _current = (url, broker)
        if old is not None:
            for name in list(old[1].actors):
                actor = old[1].get_actor(name)
                actor.broker = broker
                broker.declare_actor(actor)
        return broker


def ensure_broker() -> dramatiq.Broker:
    with _lock:
        if _current is not None:
            return _current[1]
        return setup_broker(Settings())


def current_broker() -> dramatiq.Broker | None:
    return None if _current is None else _current[1]
