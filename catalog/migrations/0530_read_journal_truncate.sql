-- The read journal refuses TRUNCATE like the audit log tables (0100/0101): its row triggers (0520) do not
-- fire on TRUNCATE, so `TRUNCATE read_journal` used to empty it unnoticed (issue 16, item 2). Someone who
-- can disable triggers is still caught: `liuhen audit verify` recomputes every sealed batch from its rows.
CREATE TRIGGER read_journal_no_truncate BEFORE TRUNCATE ON read_journal
    FOR EACH STATEMENT EXECUTE FUNCTION log_immutable_guard();
