-- Tighter append-only guards for the audit log (integrity, I6/I8). Replaces 0100's log_events guard and
-- guards the tables 0100/0101 left open. Like 0100's, these stop accidents, bugs and anyone without the
-- power to disable triggers; a superuser who disables them is still caught by `liuhen audit verify`.
--
-- log_events: never deleted, pending or not (a pending event is already acknowledged, I8). A pending row
--   may be updated exactly once, by the sequencer: idx and leaf_hash set (leaf_hash must be
--   SHA-256(0x00 || body)), every other column unchanged. A sequenced row never changes.
-- log_inbox: never updated; a row may be deleted only by the sequencer's move, i.e. when log_events holds a
--   sequenced row with the same id and the same body by the end of the deleting statement.
-- log_keys: insert-only, except that retired_at may be set once (NULL -> a time).
-- log_state: the tree size never shrinks; the row is never deleted.

CREATE OR REPLACE FUNCTION log_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit log is append-only: event % cannot be deleted (idx %)', OLD.id, OLD.idx;
    END IF;
    IF OLD.idx IS NOT NULL THEN
        RAISE EXCEPTION 'audit log is append-only: leaf % cannot be modified', OLD.idx;
    END IF;
    IF NEW.idx IS NULL OR NEW.leaf_hash IS NULL
       OR NEW.id IS DISTINCT FROM OLD.id OR NEW.body IS DISTINCT FROM OLD.body
       OR NEW.type IS DISTINCT FROM OLD.type OR NEW.actor IS DISTINCT FROM OLD.actor
       OR NEW.subject_sha256 IS DISTINCT FROM OLD.subject_sha256 OR NEW.case_no IS DISTINCT FROM OLD.case_no
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'audit log is append-only: pending event % may only be given its index and leaf hash', OLD.id;
    END IF;
    IF NEW.leaf_hash <> sha256('\x00'::bytea || NEW.body) THEN
        RAISE EXCEPTION 'audit log is append-only: leaf hash of event % is not SHA-256(0x00 || body)', OLD.id;
    END IF;
    RETURN NEW;
END $$;

-- log_inbox
CREATE FUNCTION log_inbox_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: inbox event % cannot be modified', OLD.id;
END $$;
CREATE TRIGGER log_inbox_append_only BEFORE UPDATE ON log_inbox
    FOR EACH ROW EXECUTE FUNCTION log_inbox_no_update();

-- Statement-level, after the whole statement: the sequencer's move is one statement (DELETE ... RETURNING
-- feeding INSERT INTO log_events), so its inserted rows are visible here.
CREATE FUNCTION log_inbox_moved_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lost bigint;
BEGIN
    SELECT g.id INTO lost FROM gone g LEFT JOIN log_events e ON e.id = g.id
     WHERE e.id IS NULL OR e.idx IS NULL OR e.body IS DISTINCT FROM g.body LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'audit log is append-only: inbox event % can only leave the inbox by being sequenced '
                        'into log_events', lost;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER log_inbox_move_only AFTER DELETE ON log_inbox
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION log_inbox_moved_only();
CREATE TRIGGER log_inbox_no_truncate BEFORE TRUNCATE ON log_inbox
    FOR EACH STATEMENT EXECUTE FUNCTION log_immutable_guard();

-- log_keys
CREATE FUNCTION log_keys_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit table log_keys is append-only: key % cannot be deleted', OLD.key_id;
    END IF;
    IF OLD.retired_at IS NOT NULL OR NEW.retired_at IS NULL
       OR NEW.key_id IS DISTINCT FROM OLD.key_id OR NEW.name IS DISTINCT FROM OLD.name
       OR NEW.vkey IS DISTINCT FROM OLD.vkey OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'audit table log_keys is append-only: key % may only be retired, once', OLD.key_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER log_keys_append_only BEFORE UPDATE OR DELETE ON log_keys
    FOR EACH ROW EXECUTE FUNCTION log_keys_guard();
CREATE TRIGGER log_keys_no_truncate BEFORE TRUNCATE ON log_keys
    FOR EACH STATEMENT EXECUTE FUNCTION log_immutable_guard();

-- log_state
CREATE FUNCTION log_state_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit log is append-only: the tree size row cannot be deleted';
    END IF;
    IF NEW.size < OLD.size OR NEW.one IS DISTINCT FROM OLD.one THEN
        RAISE EXCEPTION 'audit log is append-only: the tree size cannot shrink (% -> %)', OLD.size, NEW.size;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER log_state_grow_only BEFORE UPDATE OR DELETE ON log_state
    FOR EACH ROW EXECUTE FUNCTION log_state_guard();
CREATE TRIGGER log_state_no_truncate BEFORE TRUNCATE ON log_state
    FOR EACH STATEMENT EXECUTE FUNCTION log_immutable_guard();
