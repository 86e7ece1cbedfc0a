"""`liuhen audit …` end to end on a real database (typer CliRunner, the real runtime; ``cli`` in conftest)."""

from __future__ import annotations

import base64
import json

from liuhen.catalog.db import Catalog
from liuhen.integrity import checkpoint, log, rfc6962, tlogproof
from liuhen.integrity.events import Event


def test_audit_commands_json(cli, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    log.append_many(catalog, [Event("access.view", "u", subject={"sha256": f"{i:064x}"}) for i in range(9)])
    cp = json.loads(cli("checkpoint", "--publish", "--json"))
    assert cp["size"] == 9 and cp["note"].startswith("liuhen.local/audit\n9\n")
    checkpoint.verify_note(cp["note"], [cp["public_key"]])
    leaf = json.loads(cli("leaf", "4", "--json"))
    assert base64.b64decode(leaf["leaf"]) == log.leaf(catalog, 4).body and leaf["event"]["actor"] == "u"
    inc = json.loads(cli("inclusion", "4", "--json"))
    assert inc["size"] == 9 and len(inc["proof"]) == len(rfc6962.inclusion_ranges(4, 9))
    tp = cli("inclusion", "4", "--tlog-proof")
    assert tlogproof.verify(tp, log.leaf(catalog, 4).body, [cp["public_key"]]) == 9
    con = json.loads(cli("consistency", "3", "9", "--json"))
    assert len(con["proof"]) == len(rfc6962.consistency_ranges(3, 9))
    ver = json.loads(cli("verify", "--json"))
    assert ver["ok"] and ver["leaves_checked"] == 9 and ver["checkpoints_checked"] == 1
    rot = json.loads(cli("rotate-key", "--json"))
    assert rot["old_key"] != rot["new_key"]
    assert json.loads(cli("verify", "--json"))["ok"]
    fx = json.loads(cli("fixity", "--json"))
    assert fx["ok"] and fx["checked"] == 0
    cli("leaf", "999", code=2)


def test_audit_verify_exits_nonzero_naming_the_mismatch(cli, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    log.append_many(catalog, [Event("access.view", "u", subject={"sha256": f"{i:064x}"}) for i in range(5)])
    cli("checkpoint", "--publish")
    with catalog.tx() as conn:
        conn.execute("ALTER TABLE log_events DISABLE TRIGGER USER")
        conn.execute("UPDATE log_events SET body = convert_to('{}', 'UTF8') WHERE idx = 2")
        conn.execute("ALTER TABLE log_events ENABLE TRIGGER USER")
    out = cli("verify", code=1)
    assert "FAILED" in out and "leaf 2: body hashes to" in out


def _checkpoints(catalog: Catalog) -> int:
    row = catalog.one("SELECT count(*) AS n FROM checkpoints")
    return int(row["n"]) if row else 0


def test_read_only_audit_commands_work_where_only_cli_commands_ran(cli, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    # a CLI-only data dir: events sequenced, no checkpoint ever published, no signing key on disk
    log.append_many(catalog, [Event("access.view", "u", subject={"sha256": f"{i:064x}"}) for i in range(3)])
    out = cli("verify")  # used to fail: "no trusted key: none on disk in the key directory"
    assert out.startswith("OK: 3 leaves") and "no checkpoint published yet" in out
    inc = json.loads(cli("inclusion", "1", "--size", "3", "--json"))
    assert inc["size"] == 3 and inc["checkpoint"] is None
    assert json.loads(cli("inclusion", "1", "--json"))["size"] == 3
    cli("public-key")
    assert _checkpoints(catalog) == 0  # no read command published a checkpoint as a side effect
    cli("inclusion", "1", "--tlog-proof", code=2)  # a tlog-proof needs a signed checkpoint: said, not made


def test_audit_verify_names_an_ingestion_without_its_files_row(cli, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    shas = [f"{i:064x}" for i in range(1, 4)]
    with catalog.tx() as conn:
        for sha in shas:
            conn.execute(
                "INSERT INTO files (sha256, size, storage_key) VALUES (%s, 1, %s)", (sha, f"originals/{sha}")
            )
            log.record(conn, Event("ingestion", "ingest", subject={"sha256": sha}))
    log.sequence(catalog)
    cli("checkpoint", "--publish")
    assert json.loads(cli("verify", "--json"))["ok"]
    with catalog.tx() as conn:  # how the probe did it: replica role skips the foreign-key triggers
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("DELETE FROM files WHERE sha256 = %s", (shas[1],))
    out = cli("verify", code=1)
    assert f"leaf 1: ingestion of {shas[1]} has no catalog files row" in out


def test_audit_verify_checks_sealed_read_journal_batches(cli, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    from liuhen.cases import readaudit

    with catalog.tx() as conn:
        for i in range(3):
            readaudit.journal(
                conn, user="u", role="clerk", token_id=None, route="/cases", method="GET",
                raw_path=f"/cases/{i}", query=None, client_host=None,
            )
    assert readaudit.seal(catalog) == 3
    cli("checkpoint", "--publish")
    assert json.loads(cli("verify", "--json"))["ok"]
    with catalog.tx() as conn:
        conn.execute("SET LOCAL session_replication_role = replica")  # past the row triggers
        conn.execute("DELETE FROM read_journal")
    out = cli("verify", code=1)
    assert "read batch event" in out and "sha256/count/first/last" in out


# I8 + I6: an event recorded by a CLI command is committed *and* gets its log index before the command
# exits — nothing is left pending for a sequencer that may never run (no server on a CLI-only install).
def test_I8_audit_sequence_indexes_events_other_commands_left_pending(cli, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    with catalog.tx() as conn:  # what api/storage/transcoder services do: record() in their transaction
        for i in range(3):
            log.record(conn, Event("access.view", "u", subject={"sha256": f"{i:064x}"}))
    assert log.pending_count(catalog) == 3
    out = json.loads(cli("sequence", "--json"))
    assert out == {"size": 3, "sequenced": 3, "pending": 0}
    assert log.pending_count(catalog) == 0 and log.size(catalog) == 3


def test_I8_every_audit_command_that_logs_leaves_nothing_pending(cli, catalog: Catalog) -> None:  # type: ignore[no-untyped-def]
    for args in (("checkpoint", "--publish"), ("rotate-key",), ("fixity",), ("public-key",)):
        before = log.size(catalog)
        cli(*args)
        assert log.pending_count(catalog) == 0, args
        if args[0] == "rotate-key":  # its key.rotate event is already a leaf
            assert log.size(catalog) == before + 1
