-- The audit log. An event row is written in the caller's transaction with idx NULL (pending);
-- the sequencer assigns gapless indices (idx) and leaf hashes in id order.
CREATE TABLE log_events (
    id             bigserial PRIMARY KEY,
    body           bytea NOT NULL,
    type           text NOT NULL,
    actor          text NOT NULL,
    subject_sha256 text,
    case_no        text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    idx            bigint UNIQUE,
    leaf_hash      bytea
);
CREATE INDEX log_events_pending ON log_events (id) WHERE idx IS NULL;
CREATE INDEX log_events_subject ON log_events (subject_sha256);
CREATE INDEX log_events_case ON log_events (case_no);
CREATE INDEX log_events_type_time ON log_events (type, created_at);
