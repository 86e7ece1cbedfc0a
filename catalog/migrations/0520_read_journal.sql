-- Read audit: one row per authorised API request that is not itself an access event (searches, case and
-- metadata reads, audit/oversight queries, and writes), written by api.auth.authorize in the same
-- transaction as the token lookup, before the route runs. api.readaudit.seal() seals unsealed rows into
-- the audit log as one `access.read_batch` event (digest of their canonical JSON lines) and sets
-- sealed_event; rows are append-only apart from that one-time stamp.
CREATE TABLE read_journal (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_name    text NOT NULL,
    role         text NOT NULL,
    token_id     bigint,
    route        text NOT NULL,
    method       text NOT NULL,
    path         text NOT NULL CHECK (length(path) <= 2048),
    query        text CHECK (length(query) <= 2048),
    status       smallint,
    client_ip    inet,
    sealed_event bigint
);
CREATE INDEX read_journal_unsealed ON read_journal (id) WHERE sealed_event IS NULL;
CREATE INDEX read_journal_sealed ON read_journal (sealed_event) WHERE sealed_event IS NOT NULL;
CREATE INDEX read_journal_user ON read_journal (user_name, at);
CREATE INDEX read_journal_route ON read_journal (route, at);
CREATE INDEX read_journal_at ON read_journal (at);

-- Append-only: no DELETE, no UPDATE except stamping sealed_event once (NULL -> event id).
CREATE FUNCTION read_journal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'read_journal is append-only (DELETE of row %)', OLD.id;
    END IF;
    IF OLD.sealed_event IS NOT NULL OR NEW.sealed_event IS NULL
       OR (to_jsonb(NEW) - 'sealed_event') IS DISTINCT FROM (to_jsonb(OLD) - 'sealed_event') THEN
        RAISE EXCEPTION 'read_journal is append-only (only sealing an unsealed row is allowed, row %)', OLD.id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER read_journal_append_only BEFORE UPDATE OR DELETE ON read_journal
    FOR EACH ROW EXECUTE FUNCTION read_journal_guard();
