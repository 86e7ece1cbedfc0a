"""The catalog commits of an offload: a batch of stored files, and the last batch with the receipt.

A batch is one transaction that registers its files (``register.register_file``) and, when the log's
sequencer lock is free, sequences the log itself (``integrity.log.sequencing_tx``) before it commits:
rows, events and indices in one WAL flush. The last batch of a recorder goes further: in the same
transaction its entries are re-checked (the store's ``head`` now, the rows and indices as this
transaction sees them — I2), SAFE TO WIPE is decided (I3) and the receipt is recorded and sequenced.
One commit makes it all durable together, so the receipt never claims more than is committed: before
the commit nothing of it exists, after it everything does.

When another station holds the sequencer, a transaction does not wait for it while holding its rows:
it commits them with their events pending, then waits with every other waiting station for the
holder's commit (``integrity.log.await_sequenced``: shared, so all wake at once — the holder's last
run usually indexed them already; otherwise one of them sequences for all), and the receipt follows
(``receipts.finalize``, itself group-committed the same way).

If a batch transaction fails, each file is retried in its own transaction (one bad file fails alone)
and sequenced afterwards; if the last one fails, the same step-by-step way is taken. When the catalog
itself is unreachable there is nothing to retry against: the batch's files are marked failed with that
reason and the error goes to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from liuhen.catalog.errors import CatalogUnavailable
from liuhen.ingest import register
from liuhen.ingest.errors import error_code
from liuhen.ingest.faults import crash_point
from liuhen.ingest.receipts import (
    FAILED,
    FileReceipt,
    Head,
    add_missing_heads,
    catalog_rows,
    check_entries,
    decide,
    finalize,
    log_indices,
    record_receipt,
    store_heads,
)
from liuhen.ingest.register import RecorderCtx, StoredFile
from liuhen.integrity.log import await_sequenced, sequencing_tx

log = logging.getLogger("liuhen.ingest")


def flush(ctx: RecorderCtx) -> None:
    """Register the batch (one transaction, sequenced in it when the sequencer is free, else right
    after it together with whoever is waiting), then ``on_stored``. A crash before the commit leaves
    objects without rows (the next run's put is a no-op and registers them)."""
    items, ctx.batch = ctx.batch, []
    if not items:
        return
    saved = snapshot([b.fr for b in items])
    try:
        with sequencing_tx(ctx.runtime.catalog) as stx:
            inserted = _register(stx.conn, ctx, items)
            crash_point("after_tx")
            sequenced = stx.try_sequence()
    except Exception as exc:
        log.warning("ingest %s: batch of %d failed (%s); registering one by one", ctx.receipt.port, len(items), exc)
        restore([b.fr for b in items], saved)
        inserted = _one_by_one(ctx, items)
        sequenced = False
    if not sequenced:
        _sequence_quietly(ctx, _event_ids(b.fr for b in items))
    crash_point("after_sequence")
    _announce(ctx, items, inserted)


def finish(ctx: RecorderCtx) -> None:
    """The last batch and the verified receipt: in one transaction when the sequencer is free (see the
    module doc); when it is busy, the batch is committed and the receipt made after the sequencing.

    Raises only when the receipt could not be stored at all (the caller reports NOT SAFE TO WIPE).
    """
    items, ctx.batch = ctx.batch, []
    frs = ctx.receipt.files
    saved = snapshot(frs)
    # the store is asked before the transaction opens (a recorder's hundreds of S3 HEADs hold no rows),
    # once: the step-by-step receipt below asks only for what this did not
    heads = store_heads(ctx.runtime, (f.storage_key for f in frs if f.storage_key))
    try:
        inserted, receipted = _batch_with_receipt(ctx, items, heads)
    except CatalogUnavailable as exc:
        restore(frs, saved)
        for b in items:
            b.fr.status, b.fr.error = FAILED, f"{error_code(exc)}: {exc}"
        _announce(ctx, items, [False] * len(items))
        raise
    except Exception as exc:
        log.warning("ingest %s: last batch with its receipt failed (%s); step by step", ctx.receipt.port, exc)
        restore(frs, saved)
        ctx.batch = items
        flush(ctx)
        crash_point("before_receipt")
        # every entry's event, the resumed files' too (an interrupted run may have left them pending)
        await_sequenced(ctx.runtime.catalog, _event_ids(frs))
        finalize(ctx.runtime, ctx.receipt, heads)
        return
    _announce(ctx, items, inserted)
    if not receipted:  # the sequencer was busy: the batch is committed, its events pending
        # woken with every waiting station at the holder's commit, which usually indexed them already
        await_sequenced(ctx.runtime.catalog, _event_ids(frs))
        crash_point("after_sequence")
        finalize(ctx.runtime, ctx.receipt, heads)


def _register(conn: Any, ctx: RecorderCtx, items: list[StoredFile]) -> list[bool]:
    with conn.pipeline():  # statements whose results nobody waits for go with the next one
        return [register.register_file(conn, ctx, b) for b in items]


def _batch_with_receipt(
    ctx: RecorderCtx, items: list[StoredFile], heads: dict[str, Head]
) -> tuple[list[bool], bool]:
    """Register; then, if the sequencer is free: sequence, re-check, decide, record the receipt and
    sequence it — one transaction. What can be read before the sequencer lock is (the store's
    ``heads``, asked by the caller; rows and indices given earlier; a key missing from ``heads`` is
    asked and added). Returns (inserted per item, whether the receipt was made)."""
    rt, receipt = ctx.runtime, ctx.receipt
    with sequencing_tx(rt.catalog) as stx:
        inserted = _register(stx.conn, ctx, items)
        crash_point("after_tx")
        rows = catalog_rows(stx.conn, receipt)
        earlier = log_indices(stx.conn, receipt)
        add_missing_heads(rt, heads, rows)
        if not stx.try_sequence():
            return inserted, False  # commits the batch (pending events)
        crash_point("after_sequence")
        idx = {e: i if i is not None else stx.assigned.get(e) for e, i in earlier.items()}
        if None in idx.values():  # sequenced by another station between the read and the lock
            idx = log_indices(stx.conn, receipt)
        check_entries(receipt, rows, heads, idx)
        decide(receipt)
        crash_point("before_receipt")
        event_id = record_receipt(stx.conn, receipt)
        stx.try_sequence()
        index = stx.assigned.get(event_id)
    receipt.receipt_event_id, receipt.receipt_log_index = event_id, index
    return inserted, True


def _one_by_one(ctx: RecorderCtx, items: list[StoredFile]) -> list[bool]:
    inserted = []
    for b in items:
        try:
            with ctx.runtime.catalog.tx() as conn:
                inserted.append(register.register_file(conn, ctx, b))
        except Exception as one:
            b.fr.status, b.fr.error = FAILED, f"{error_code(one)}: {one}"
            log.warning("ingest %s/%s failed: %s", ctx.receipt.port, b.fr.path, b.fr.error)
            register.mark_failed(ctx, b.fr)
            inserted.append(False)
    return inserted


def _event_ids(frs: Iterable[FileReceipt]) -> list[int]:
    return sorted({f.event_id for f in frs if f.event_id is not None})


def _sequence_quietly(ctx: RecorderCtx, ids: list[int]) -> None:
    try:
        await_sequenced(ctx.runtime.catalog, ids)
    except Exception as exc:  # the events are committed (pending); the receipt's sequencing retries
        log.warning("ingest %s: sequencing failed: %s", ctx.receipt.port, exc)


def _announce(ctx: RecorderCtx, items: list[StoredFile], inserted: list[bool]) -> None:
    """Progress for each committed file, and ``on_stored`` for each new original (never fails the ingest)."""
    for b, new in zip(items, inserted, strict=True):
        ctx.progress.file_done(ctx.recorder_key, b.fr.path, b.fr.status)
        if new and ctx.on_stored is not None and b.fr.file_id is not None:
            try:
                ctx.on_stored(b.fr.file_id)
            except Exception as exc:  # downstream trouble never fails an ingest
                log.warning("on_stored(%s) failed: %s", b.fr.file_id, exc)


def snapshot(frs: list[FileReceipt]) -> list[dict[str, Any]]:
    """Each entry's fields (lists copied), to undo what a rolled-back transaction wrote into them."""
    return [{k: v[:] if isinstance(v, list) else v for k, v in vars(f).items()} for f in frs]


def restore(frs: list[FileReceipt], saved: list[dict[str, Any]]) -> None:
    for f, s in zip(frs, saved, strict=True):
        vars(f).update(s)
