"""Which checkpoint keys `audit verify` trusts (I6): never a key that is only in the database.

The trust anchors are the keys on disk in the key directory (and keys passed with --trusted-key);
a rotation extends trust only through an endorsement signed by an already-trusted key. Someone with
SQL write access but no trusted private key can rewrite leaves, nodes and checkpoints and register
their own key in ``log_keys`` — and `liuhen audit verify` must still fail.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liuhen.catalog.db import Catalog
from liuhen.core.config import Settings, get_settings
from liuhen.integrity import audit, checkpoint, log, note, rfc6962
from liuhen.integrity import keys as logkeys
from liuhen.integrity.events import Event


def ev(i: int) -> Event:
    return Event("access.view", "officer:1", subject={"sha256": f"{i:064x}"}, data={"i": i})


@pytest.fixture
def populated(catalog: Catalog, settings: Settings) -> Catalog:
    log.append_many(catalog, [ev(i) for i in range(12)])
    checkpoint.publish(catalog, settings)
    log.append_many(catalog, [ev(i) for i in range(12, 20)])
    checkpoint.publish(catalog, settings)
    return catalog


def _register_key(catalog: Catalog, s: note.Signer) -> None:
    v = s.verifier
    with catalog.tx() as conn:
        conn.execute("INSERT INTO log_keys (key_id, name, vkey) VALUES (%s, %s, %s)", (v.key_id.hex(), v.name, v.vkey))


def _rewrite_history(catalog: Catalog, origin: str, attacker: note.Signer) -> None:
    """A superuser attacker: edit leaf 5, recompute every leaf hash and stored subtree, replace every
    checkpoint with one signed by their own key, and register that key in log_keys."""
    with catalog.tx() as conn:
        for t in ("log_events", "log_nodes", "checkpoints", "log_keys"):
            conn.execute(f"ALTER TABLE {t} DISABLE TRIGGER USER")
        body = bytes(conn.execute("SELECT body FROM log_events WHERE idx = 5").fetchone()["body"])  # type: ignore[index]
        forged = body.replace(b"officer:1", b"officer:666")
        conn.execute("UPDATE log_events SET body = %s, leaf_hash = %s WHERE idx = 5",
                     (forged, rfc6962.leaf_hash(forged)))
        hashes = [bytes(r["leaf_hash"]) for r in conn.execute("SELECT leaf_hash FROM log_events ORDER BY idx")]
        _, created = rfc6962.extend([], 0, hashes)
        conn.execute("DELETE FROM log_nodes")
        for (lvl, i), h in created:
            if lvl > 0:
                conn.execute("INSERT INTO log_nodes (level, idx, hash) VALUES (%s, %s, %s)", (lvl, i, h))
        conn.execute("DELETE FROM checkpoints")
        conn.execute("DELETE FROM log_keys")
        for size in (12, len(hashes)):
            root = rfc6962.root(hashes[:size])
            text = note.sign(checkpoint.CheckpointBody(origin, size, root).text(), [attacker])
            conn.execute("INSERT INTO checkpoints (origin, size, root, note, key_ids) VALUES (%s, %s, %s, %s, %s)",
                         (origin, size, root, text, [attacker.verifier.key_id.hex()]))
        for t in ("log_events", "log_nodes", "checkpoints", "log_keys"):
            conn.execute(f"ALTER TABLE {t} ENABLE TRIGGER USER")
    _register_key(catalog, attacker)


def test_I6_a_key_only_in_log_keys_is_not_trusted_after_full_rewrite(populated: Catalog, settings: Settings) -> None:
    attacker = note.Signer.generate(settings.log_origin)
    _rewrite_history(populated, settings.log_origin, attacker)
    # the forged history is internally consistent: only the trust rule can catch it
    rep = audit.verify_log(populated, key_dir=settings.key_dir)
    assert not rep.ok
    assert attacker.verifier.vkey not in rep.trusted_keys
    assert rep.untrusted_keys == [attacker.verifier.vkey]
    joined = "\n".join(rep.problems)
    assert f"log_keys: key {attacker.verifier.vkey}" in joined and "is not trusted" in joined
    assert joined.count("no signature by a trusted key") == 2
    # and the exporter's key list does not carry the attacker's key
    assert logkeys.verifier_keys(populated, settings) == [logkeys.public_key(settings)]
    assert logkeys.verifier_keys(populated) == []  # no anchor, no trust


def test_I6_inserted_key_and_checkpoint_signed_only_by_it_fail_cli(
    populated: Catalog, settings: Settings, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reviewer's demonstration: insert a key + a checkpoint signed only by it -> exit 1."""
    attacker = note.Signer.generate(settings.log_origin)
    _register_key(populated, attacker)
    cp = checkpoint.latest(populated)
    assert cp is not None
    text = note.sign(cp.body, [attacker])
    with populated.tx() as conn:
        conn.execute("INSERT INTO checkpoints (origin, size, root, note, key_ids) VALUES (%s, %s, %s, %s, %s)",
                     (cp.origin, cp.size, cp.root, text, [attacker.verifier.key_id.hex()]))
    monkeypatch.setenv("LIUHEN_DATABASE_URL", pg_url)
    monkeypatch.setenv("LIUHEN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LIUHEN_STORE", "memory")
    get_settings.cache_clear()
    from liuhen.cli import app

    try:
        res = CliRunner().invoke(app, ["audit", "verify", "--json"])
        assert res.exit_code == 1, res.output
        out = json.loads(res.output)
        assert out["untrusted_keys"] == [attacker.verifier.vkey]
        assert any("no signature by a trusted key" in p for p in out["problems"])
        # trusting the attacker's key explicitly is the operator's choice, and then it verifies
        res = CliRunner().invoke(app, ["audit", "verify", "--trusted-key", attacker.verifier.vkey])
        assert res.exit_code == 0, res.output
        # an independent audit with no local key and no key given trusts nothing
        res = CliRunner().invoke(app, ["audit", "verify", "--no-key-dir"])
        assert res.exit_code == 1 and "no trusted key" in res.output
    finally:
        get_settings.cache_clear()


def test_I6_rotation_chain_extends_trust_only_through_valid_endorsements(
    populated: Catalog, settings: Settings, tmp_path: Path
) -> None:
    first = logkeys.public_key(settings)
    second = checkpoint.rotate_key(populated, settings, actor="admin")
    third = checkpoint.rotate_key(populated, settings, actor="admin")
    rep = audit.verify_log(populated, key_dir=settings.key_dir)
    assert rep.ok, rep.problems
    assert set(logkeys.verifier_keys(populated, settings)) == {first, second, third}

    # forward: an auditor holding only the first key reaches the later ones through the endorsements
    only_first = tmp_path / "k1"
    only_first.mkdir()
    (only_first / logkeys.PUB_FILE).write_text(first + "\n")
    assert set(logkeys.key_trust(populated, only_first).keys) == {first, second, third}
    # backward: a key dir holding only the current key vouches for the old ones (back_endorsement)
    only_third = tmp_path / "k3"
    only_third.mkdir()
    shutil.copy(settings.key_dir / logkeys.PUB_FILE, only_third / logkeys.PUB_FILE)
    assert set(logkeys.key_trust(populated, only_third).keys) == {first, second, third}
    assert audit.verify_log(populated, key_dir=only_third).ok

    # a forged rotation from the trusted key to the attacker's, endorsed by the attacker: rejected
    attacker = note.Signer.generate(settings.log_origin)
    bad_sig = attacker.sign((logkeys.ROTATION_CONTEXT + attacker.verifier.vkey + "\n").encode())
    log.append(populated, Event("key.rotate", "attacker", subject={"key_id": attacker.verifier.key_id.hex()},
                                data={"old_vkey": third, "new_vkey": attacker.verifier.vkey,
                                      "endorsement": base64.b64encode(bad_sig).decode()}))
    # and a rotation claiming to lead from the attacker's key *to* the trusted one: the attacker can
    # endorse the trusted key, but cannot make the trusted key endorse theirs back
    fwd = attacker.sign((logkeys.ROTATION_CONTEXT + third + "\n").encode())
    back = attacker.sign((logkeys.BACK_CONTEXT + attacker.verifier.vkey + "\n").encode())
    log.append(populated, Event("key.rotate", "attacker", subject={},
                                data={"old_vkey": attacker.verifier.vkey, "new_vkey": third,
                                      "endorsement": base64.b64encode(fwd).decode(),
                                      "back_endorsement": base64.b64encode(back).decode()}))
    _register_key(populated, attacker)
    trust = logkeys.key_trust(populated, settings.key_dir)
    assert attacker.verifier.vkey not in trust.keys and trust.untrusted == [attacker.verifier.vkey]
    assert any("without a valid endorsement by the trusted key" in p for p in trust.problems)
    assert not audit.verify_log(populated, key_dir=settings.key_dir).ok


def test_I6_indexed_columns_must_match_the_leaf_body(populated: Catalog, settings: Settings) -> None:
    """Lookups by type/subject (fixity's ingestion event, key rotations) read columns beside the body:
    an edit of those columns alone (the leaf hash still matches) is reported too."""
    with populated.tx() as conn:
        conn.execute("ALTER TABLE log_events DISABLE TRIGGER USER")
        conn.execute("UPDATE log_events SET subject_sha256 = %s, type = 'ingestion' WHERE idx = 3", ("e" * 64,))
        conn.execute("ALTER TABLE log_events ENABLE TRIGGER USER")
    rep = audit.verify_log(populated, key_dir=settings.key_dir)
    real = f"{3:064x}"
    assert f"leaf 3: column subject_sha256 is {'e' * 64!r}, the leaf body says {real!r}" in rep.problems
    assert "leaf 3: column type is 'ingestion', the leaf body says 'access.view'" in rep.problems
