"""`audit verify`: recompute from every leaf, check every checkpoint; tampering in SQL is detected (I6)."""

from __future__ import annotations

import base64

import pytest

from liuhen.catalog.db import Catalog
from liuhen.core.config import Settings
from liuhen.integrity import audit, checkpoint, log, note, proof, rfc6962, tlogproof
from liuhen.integrity import keys as logkeys
from liuhen.integrity.errors import VerificationError
from liuhen.integrity.events import Event


def ev(i: int) -> Event:
    return Event("access.view", "officer:1", subject={"sha256": f"{i:064x}"}, data={"i": i})


@pytest.fixture
def populated(catalog: Catalog, settings: Settings) -> Catalog:
    log.append_many(catalog, [ev(i) for i in range(13)])
    checkpoint.publish(catalog, settings)
    log.append_many(catalog, [ev(i) for i in range(13, 40)])
    checkpoint.publish(catalog, settings)
    return catalog


def _tamper(catalog: Catalog, sql: str, params: tuple = ()) -> None:  # type: ignore[type-arg]
    """What an attacker with SQL access does: switch the append-only guard off, edit, switch it back."""
    with catalog.tx() as conn:
        conn.execute("ALTER TABLE log_events DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE log_nodes DISABLE TRIGGER USER")
        conn.execute(sql, params)
        conn.execute("ALTER TABLE log_events ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE log_nodes ENABLE TRIGGER USER")


def test_clean_log_verifies(populated: Catalog, settings: Settings) -> None:
    rep = audit.verify_log(populated, key_dir=settings.key_dir)
    assert rep.ok, rep.problems
    assert (rep.leaves_checked, rep.checkpoints_checked) == (40, 2)
    assert rep.nodes_checked == 40 - bin(40).count("1")
    assert rep.root == base64.b64encode(log.root(populated)).decode()


def test_edited_leaf_body_is_detected(populated: Catalog, settings: Settings) -> None:
    body = log.leaf(populated, 5).body.replace(b"officer:1", b"officer:2")
    _tamper(populated, "UPDATE log_events SET body = %s WHERE idx = 5", (body,))
    rep = audit.verify_log(populated, key_dir=settings.key_dir)
    assert not rep.ok
    assert any(p.startswith("leaf 5: body hashes to") for p in rep.problems)
    with pytest.raises(VerificationError, match="leaf 5"):
        rep.raise_for_problems()


def test_edited_body_and_leaf_hash_is_detected_by_checkpoints(populated: Catalog, settings: Settings) -> None:
    body = log.leaf(populated, 20).body.replace(b"officer:1", b"officer:9")
    _tamper(populated, "UPDATE log_events SET body = %s, leaf_hash = %s WHERE idx = 20",
            (body, rfc6962.leaf_hash(body)))
    rep = audit.verify_log(populated, key_dir=settings.key_dir)
    assert any("size 40): root expected" in p for p in rep.problems), rep.problems
    assert any(p.startswith("stored subtree (1, 10)") for p in rep.problems)


def test_deleted_leaf_and_forged_checkpoint_detected(populated: Catalog, settings: Settings) -> None:
    _tamper(populated, "DELETE FROM log_events WHERE idx = 39")
    forged = note.Signer.generate(settings.log_origin)
    text = note.sign(checkpoint.CheckpointBody(settings.log_origin, 39, bytes(32)).text(), [forged])
    with populated.tx() as conn:
        conn.execute("INSERT INTO checkpoints (origin, size, root, note, key_ids) VALUES (%s, 39, %s, %s, %s)",
                     (settings.log_origin, bytes(32), text, ["x"]))
    rep = audit.verify_log(populated, key_dir=settings.key_dir)
    joined = "\n".join(rep.problems)
    assert "log_state says 40, log_events holds 39" in joined
    assert "size 40 is beyond the log" in joined
    assert "no signature by a trusted key" in joined
    assert "smaller than an earlier checkpoint" in joined


def test_tlog_proof_roundtrip_and_rejections(populated: Catalog, settings: Settings) -> None:
    vkey = logkeys.public_key(settings)
    text = tlogproof.for_event(populated, 7, extra=b"case A-1")
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra " + base64.b64encode(b"case A-1").decode() + "\nindex 7\n")
    parsed = tlogproof.parse(text)
    assert parsed.index == 7 and parsed.extra == b"case A-1"
    assert parsed.hashes == proof.inclusion_proof(populated, 7, 40)
    leaf = log.leaf(populated, 7).body
    assert tlogproof.verify(text, leaf, [vkey], origin=settings.log_origin) == 40
    with pytest.raises(VerificationError, match="inclusion of leaf 7"):
        tlogproof.verify(text, log.leaf(populated, 8).body, [vkey])
    swapped = text.replace("index 7\n", "index 6\n")
    with pytest.raises(VerificationError):
        tlogproof.verify(swapped, leaf, [vkey])
    with pytest.raises(VerificationError, match="header"):
        tlogproof.parse(text.replace("@v1", "@v2", 1))
    # against an older checkpoint (size 13) too
    old = checkpoint.at_size(populated, 13)
    assert old is not None
    assert tlogproof.verify(tlogproof.for_event(populated, 3, old), log.leaf(populated, 3).body, [vkey]) == 13
    with pytest.raises(ValueError, match="no published checkpoint covers leaf 20"):
        tlogproof.for_event(populated, 20, old)
