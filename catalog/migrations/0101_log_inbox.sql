-- Group-commit inbox for the audit log (integrity).
--
-- log.append_many() finding the sequencer busy commits its events here instead of queueing behind the
-- sequencer's WAL flush: durable at that COMMIT (I8), but not acknowledged until sequenced. The sequencer
-- moves inbox rows into log_events (with idx and leaf_hash) in the same transaction that deletes them,
-- so an event is in exactly one of the two tables at every committed instant. Ids come from log_events'
-- own sequence, so an event keeps its id when moved and ids stay comparable across both tables (the
-- sequencer takes pending rows of both in id order).
--
-- Why a separate table: a pending row in log_events costs an INSERT into six indexes and later a non-HOT
-- UPDATE into five more; an inbox row costs one index, and the move is one INSERT.
CREATE TABLE log_inbox (
    id             bigint PRIMARY KEY DEFAULT nextval('log_events_id_seq'::regclass),
    body           bytea NOT NULL,
    type           text NOT NULL,
    actor          text NOT NULL,
    subject_sha256 text,
    case_no        text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
