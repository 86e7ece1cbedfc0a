-- The audit log (integrity). RFC 9162 Merkle tree over canonical JSON event bodies.
--
-- log_events: one row per event. Writers insert it in their own transaction with idx NULL
--   (pending, but already durable = acknowledged, I8); the sequencer (one at a time, advisory lock)
--   assigns gapless indices idx = 0, 1, 2, … and leaf_hash = SHA-256(0x00 || body).
-- log_nodes: the hash of every complete perfect subtree of height >= 1, keyed (level, idx): the
--   subtree over leaves [idx * 2^level, (idx + 1) * 2^level). Leaf hashes (level 0) stay in
--   log_events. Appends write O(1) amortised / O(log n) worst-case rows; proofs and roots read
--   O(log n) of them and never scan the leaves.
-- log_state: the one row holding the current tree size (updated under the sequencer lock).
-- log_keys: every checkpoint signing key ever used (public half only), for verifying old checkpoints.
-- checkpoints: every signed checkpoint ever published (C2SP tlog-checkpoint in a C2SP signed note).
CREATE TABLE log_events (
    id             bigserial PRIMARY KEY,
    body           bytea NOT NULL,
    type           text NOT NULL,
    actor          text NOT NULL,
    subject_sha256 text,
    case_no        text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    idx            bigint UNIQUE CHECK (idx >= 0),
    leaf_hash      bytea CHECK (leaf_hash IS NULL OR length(leaf_hash) = 32),
    CHECK ((idx IS NULL) = (leaf_hash IS NULL))
);
CREATE INDEX log_events_pending ON log_events (id) WHERE idx IS NULL;
CREATE INDEX log_events_subject ON log_events (subject_sha256);
CREATE INDEX log_events_case ON log_events (case_no);
CREATE INDEX log_events_type_time ON log_events (type, created_at);

CREATE TABLE log_nodes (
    level smallint NOT NULL CHECK (level >= 1 AND level < 64),
    idx   bigint NOT NULL CHECK (idx >= 0),
    hash  bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
);

CREATE TABLE log_state (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    size bigint NOT NULL CHECK (size >= 0)
);
INSERT INTO log_state (one, size) VALUES (true, 0);

CREATE TABLE log_keys (
    key_id     text PRIMARY KEY,            -- hex of the 4-byte signed-note key hash
    name       text NOT NULL,
    vkey       text NOT NULL UNIQUE,        -- "<name>+<hex key id>+<base64(0x01 || ed25519 pub)>"
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz
);

CREATE TABLE checkpoints (
    id         bigserial PRIMARY KEY,
    origin     text NOT NULL,
    size       bigint NOT NULL CHECK (size >= 0),
    root       bytea NOT NULL CHECK (length(root) = 32),
    note       text NOT NULL,               -- the full signed note, verbatim
    key_ids    text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX checkpoints_size ON checkpoints (size, id);

-- Append-only guards (I6). They stop accidents and honest mistakes; a superuser can disable them,
-- which is why `liuhen audit verify` recomputes everything from the leaf bodies anyway.
CREATE FUNCTION log_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.idx IS NOT NULL THEN
            RAISE EXCEPTION 'audit log is append-only: leaf % cannot be deleted', OLD.idx;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.idx IS NOT NULL OR NEW.body IS DISTINCT FROM OLD.body OR NEW.type IS DISTINCT FROM OLD.type
       OR NEW.actor IS DISTINCT FROM OLD.actor OR NEW.subject_sha256 IS DISTINCT FROM OLD.subject_sha256
       OR NEW.case_no IS DISTINCT FROM OLD.case_no OR NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE EXCEPTION 'audit log is append-only: event % cannot be modified', OLD.id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER log_events_append_only BEFORE UPDATE OR DELETE ON log_events
    FOR EACH ROW EXECUTE FUNCTION log_events_guard();

CREATE FUNCTION log_immutable_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit table % is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER log_nodes_append_only BEFORE UPDATE OR DELETE ON log_nodes
    FOR EACH ROW EXECUTE FUNCTION log_immutable_guard();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION log_immutable_guard();
CREATE TRIGGER log_events_no_truncate BEFORE TRUNCATE ON log_events
    FOR EACH STATEMENT EXECUTE FUNCTION log_immutable_guard();
CREATE TRIGGER log_nodes_no_truncate BEFORE TRUNCATE ON log_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION log_immutable_guard();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION log_immutable_guard();
