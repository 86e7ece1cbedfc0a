-- Redaction renders as a worker job (redaction.actors, queue liuhen.redact): the worker role reads the request
-- row and moves it through its states (draft → rendered | failed). It may not delete a redaction.
GRANT SELECT, UPDATE ON redactions TO liuhen_worker;

-- A supervisor's approval (on an API node) turns the verified preview into the final 'redacted' derivative in
-- the same transaction as redaction.approve. API nodes may add exactly that kind of derivative row — never a
-- proxy, thumbnail or anything else workers make, and never change or delete one (no UPDATE/DELETE grant).
GRANT INSERT ON derivatives TO liuhen_api;

CREATE OR REPLACE FUNCTION derivatives_api_inserts_only_redacted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind <> 'redacted' AND (
        current_user = 'liuhen_api' OR EXISTS (
            SELECT 1 FROM pg_auth_members m
            JOIN pg_roles g ON g.oid = m.roleid
            JOIN pg_roles u ON u.oid = m.member
            WHERE g.rolname = 'liuhen_api' AND u.rolname = current_user)
    ) THEN
        RAISE EXCEPTION 'API nodes may only add redacted copies to derivatives, not %', NEW.kind;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER derivatives_api_inserts_only_redacted BEFORE INSERT ON derivatives
    FOR EACH ROW EXECUTE FUNCTION derivatives_api_inserts_only_redacted();
