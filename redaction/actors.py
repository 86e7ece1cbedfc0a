"""dramatiq actor: rendering a redaction as a worker job, thin over ``service.run`` (like the transcoder's).

``POST /files/{sha256}/redactions`` records the request (``service.submit``: state ``draft``, job
``queued``) and sends ``liuhen_redact(id)``; a worker (``dramatiq liuhen.worker``, or the in-process
workers of ``liuhen serve`` when no broker is configured) detects, tracks, renders and verifies it.
Re-delivery is harmless (``run`` returns a redaction that is no longer queued as it is). Media and
region errors are recorded on the redaction (state ``failed``) and end the message; infrastructure
errors are retried. The worker's Runtime is the transcoder's (``transcoder.actors.current_runtime``).
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq

from liuhen.redaction import service
from liuhen.redaction.errors import RedactionMediaFailed, RedactionNotFound, RegionSpecInvalid
from liuhen.transcoder.actors import current_runtime
from liuhen.transcoder.broker import ensure_broker

log = logging.getLogger(__name__)
ensure_broker()
QUEUE = "liuhen.redact"
TIME_LIMIT_MS = 6 * 3600 * 1000  # a long recording at ≥ 0.5× realtime


@dramatiq.actor(actor_name="liuhen_redact", queue_name=QUEUE, max_retries=3, min_backoff=5_000,
                max_backoff=300_000, time_limit=TIME_LIMIT_MS,
                throws=(RedactionNotFound, RedactionMediaFailed, RegionSpecInvalid))
def redact(redaction_id: int) -> None:
    out = service.run(current_runtime(), int(redaction_id))
    log.info("redaction %s: %s (verified %s)", redaction_id, out["state"], out["verified"])


def enqueue(redaction_id: int) -> Any:
    """Send the render job of a submitted redaction."""
    return redact.send(int(redaction_id))
