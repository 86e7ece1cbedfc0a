"""``liuhen audit …``: checkpoints, leaves, proofs, full verification, fixity, key rotation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from liuhen.cases import readaudit
from liuhen.core.codec import b64
from liuhen.integrity import audit as auditmod
from liuhen.integrity import checkpoint, fixity, log, proof, tlogproof
from liuhen.integrity import keys as logkeys
from liuhen.wiring import open_runtime

audit = typer.Typer(name="audit", help="The Merkle audit log: checkpoints, proofs, verification, fixity.",
                    no_args_is_help=True)


def _out(obj: dict[str, Any], as_json: bool, text: str) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str) if as_json else text)


JSON = typer.Option(False, "--json", help="Print JSON.")


@audit.command("checkpoint")
def checkpoint_cmd(
    publish: bool = typer.Option(False, "--publish", help="Sequence pending events and publish a new checkpoint."),
    as_json: bool = JSON,
) -> None:
    """The latest signed checkpoint: origin, size, root (base64) and the signed note text."""

    with open_runtime() as rt:
        cp = checkpoint.publish(rt.catalog, rt.settings) if publish else checkpoint.latest(rt.catalog)
        if cp is None:
            cp = checkpoint.publish(rt.catalog, rt.settings)
            typer.secho("no checkpoint yet: published the first one", err=True)
        d = cp.as_json() | {"public_key": logkeys.public_key(rt.settings)}
        _out(d, as_json, f"origin {cp.origin}\nsize {cp.size}\nroot {cp.root_b64}\n\n{cp.note}")


@audit.command("sequence")
def sequence_cmd(as_json: bool = JSON) -> None:
    """Give every pending (committed, not yet indexed) event its log index now; print the tree size.

    Commands that record events should sequence before they exit; this is the safety net (cron, ops).
    """

    with open_runtime() as rt:
        before = log.pending_count(rt.catalog)
        size = log.sequence(rt.catalog)
        left = log.pending_count(rt.catalog)
    _out({"size": size, "sequenced": before - left, "pending": left}, as_json,
         f"sequenced {before - left} pending event(s); log size {size}")


@audit.command("leaf")
def leaf_cmd(index: int = typer.Argument(..., min=0, help="Leaf index."), as_json: bool = JSON) -> None:
    """The exact leaf bytes (base64) and the decoded event."""

    with open_runtime() as rt:
        try:
            lf = log.leaf(rt.catalog, index)
        except LookupError as exc:
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(2) from exc
        d = {"index": lf.idx, "event_id": lf.event_id, "leaf": b64(lf.body), "leaf_hash": b64(lf.leaf_hash),
             "event": json.loads(lf.body)}
        _out(d, as_json, f"leaf {lf.idx} (event {lf.event_id})\nbytes {d['leaf']}\nhash {d['leaf_hash']}\n"
                         f"{lf.body.decode()}")


@audit.command("inclusion")
def inclusion_cmd(
    index: int = typer.Argument(..., min=0, help="Leaf index."),
    size: int | None = typer.Option(None, "--size", help="Tree size (default: the latest checkpoint's)."),
    tlog_proof: bool = typer.Option(False, "--tlog-proof", help="Print a C2SP tlog-proof instead."),
    as_json: bool = JSON,
) -> None:
    """Inclusion proof for leaf INDEX against tree size N (list of base64 hashes). Publishes nothing."""

    with open_runtime() as rt:
        cp = checkpoint.at_size(rt.catalog, size) if size is not None else checkpoint.latest(rt.catalog)
        if cp is not None and cp.size <= index and size is None:
            cp = None
        # read-only: without a checkpoint covering the leaf, prove against the log's current size
        n = size if size is not None else (cp.size if cp is not None else log.size(rt.catalog))
        try:
            hashes = proof.inclusion_proof(rt.catalog, index, n)
        except ValueError as exc:
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(2) from exc
        if tlog_proof:
            if cp is None or cp.size != n:
                typer.secho(f"error: no checkpoint at size {n} (publish one: liuhen audit checkpoint --publish)",
                            err=True, fg=typer.colors.RED)
                raise typer.Exit(2)
            typer.echo(tlogproof.format(index, hashes, cp.note), nl=False)
            return
        proof_b64 = [b64(h) for h in hashes]
        d = {"index": index, "size": n, "proof": proof_b64,
             "root": b64(proof.inclusion_with_root(rt.catalog, index, n)[2]),
             "checkpoint": cp.note if cp is not None and cp.size == n else None}
        _out(d, as_json, "\n".join(proof_b64) if proof_b64 else "(empty proof)")


@audit.command("consistency")
def consistency_cmd(
    old: int = typer.Argument(..., min=1, help="Older tree size (>= 1)."),
    new: int = typer.Argument(..., min=1, help="Newer tree size."),
    as_json: bool = JSON,
) -> None:
    """Consistency proof between two tree sizes (list of base64 hashes)."""

    with open_runtime() as rt:
        try:
            hashes = proof.consistency_proof(rt.catalog, old, new)
        except ValueError as exc:
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(2) from exc
        proof_b64 = [b64(h) for h in hashes]
        d = {"old": old, "new": new, "proof": proof_b64,
             "old_root": b64(log.root(rt.catalog, old)), "new_root": b64(log.root(rt.catalog, new))}
        _out(d, as_json, "\n".join(proof_b64) if proof_b64 else "(empty proof)")


@audit.command("verify")
def verify_cmd(
    key: list[str] = typer.Option(
        [], "--trusted-key", "--key",
        help="A verifier key obtained out of band to trust (repeatable), besides the key directory's."),
    no_key_dir: bool = typer.Option(
        False, "--no-key-dir", help="Do not trust the keys on disk in the key directory (independent audit)."),
    as_json: bool = JSON,
) -> None:
    """Recompute the root from every leaf; check every checkpoint and signature. Exit 1 on any mismatch.

    Trusted keys: those on disk in the key directory and --trusted-key, plus keys they endorsed in
    key.rotate events. A key present only in the database (log_keys) is reported as a problem.
    Also: every ingestion event has its catalog files row, and every sealed read-journal batch
    matches its access.read_batch event. Read-only: publishes nothing.
    """

    with open_runtime() as rt:
        rep = auditmod.verify_log(rt.catalog, vkeys=key or None,
                                  key_dir=None if no_key_dir else Path(rt.settings.key_dir))
        rep.problems += readaudit.check(rt.catalog)  # sealed read-journal batches vs their events
    text = (f"OK: {rep.leaves_checked} leaves, {rep.nodes_checked} stored subtrees, "
            f"{rep.checkpoints_checked} checkpoints verified; root {rep.root}")
    text += "".join(f"\nnote: {n}" for n in rep.notes)
    if not rep.ok:
        text = f"FAILED: {len(rep.problems)} problem(s)\n" + "\n".join(f"  - {p}" for p in rep.problems)
    _out(rep.as_json(), as_json, text)
    if not rep.ok:
        raise typer.Exit(1)


@audit.command("fixity")
def fixity_cmd(
    sample: int | None = typer.Option(None, "--sample", min=1, help="Check N random originals (default: all)."),
    as_json: bool = JSON,
) -> None:
    """Re-hash stored originals; compare store, catalog and log; log a fixity.check event per file."""

    with open_runtime() as rt:
        rep = fixity.run(rt.catalog, rt.store, rt.settings.actor_name(),
                         mode="sample" if sample else "full", sample=sample or 0)
    lines = [f"{'OK' if rep.ok else 'FAILED'}: {rep.checked} checked, {rep.failed} failed, "
             f"{rep.bytes_hashed} bytes hashed ({rep.mode})"]
    for r in rep.results:
        lines += [f"  file {r.file_id} {r.sha256}: {p}" for p in r.problems]
    _out(rep.as_json(), as_json, "\n".join(lines))
    if not rep.ok:
        raise typer.Exit(1)


@audit.command("rotate-key")
def rotate_key_cmd(as_json: bool = JSON) -> None:
    """Replace the checkpoint signing key (logged as a key.rotate event; old checkpoints stay verifiable)."""

    with open_runtime() as rt:
        old = logkeys.public_key(rt.settings)
        new = checkpoint.rotate_key(rt.catalog, rt.settings, rt.settings.actor_name())
        cp = checkpoint.latest(rt.catalog)
    _out({"old_key": old, "new_key": new, "checkpoint": cp.note if cp else None}, as_json,
         f"rotated\nold {old}\nnew {new}")


@audit.command("public-key")
def public_key_cmd(as_json: bool = JSON) -> None:
    """The current verifier key (signed-note format), every trusted key, and any untrusted log_keys row.

    Publishes no checkpoint. On a data dir without a signing key yet, generates it (and says so)."""

    with open_runtime() as rt:
        created = not (Path(rt.settings.key_dir) / logkeys.KEY_FILE).exists()
        cur = logkeys.public_key(rt.settings)  # generates the signing key on first use (says so below)
        if created:
            typer.secho(f"generated the checkpoint signing key in {rt.settings.key_dir}", err=True)
        trust = logkeys.key_trust(rt.catalog, Path(rt.settings.key_dir))
    _out({"public_key": cur, "all_keys": trust.keys, "untrusted_keys": trust.untrusted}, as_json, cur)


def register(app: typer.Typer) -> None:
    app.add_typer(audit, name="audit")
