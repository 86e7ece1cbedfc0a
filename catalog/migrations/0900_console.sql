-- Web console: passwords of api_users (argon2id), lockout counters, server-side sessions, and an
-- append-only log of sign-in events (failures, lockouts, logouts, password changes).
-- Roles and units stay in api_users: one set of people for the API (tokens) and the console (passwords).

CREATE TABLE console_credentials (
    user_id        bigint PRIMARY KEY REFERENCES api_users (id),
    password_hash  text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    must_change    boolean NOT NULL DEFAULT true,   -- a password set by someone else must be changed first
    changed_at     timestamptz NOT NULL DEFAULT now(),
    failed_count   integer NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
    last_failed_at timestamptz,
    locked_until   timestamptz
);

-- Only sha256(session token) is stored; the token lives in an HttpOnly SameSite=Strict cookie.
CREATE TABLE console_sessions (
    id           bigserial PRIMARY KEY,
    token_hash   text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    user_id      bigint NOT NULL REFERENCES api_users (id),
    csrf_token   text NOT NULL CHECK (length(csrf_token) >= 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,              -- absolute timeout
    ended_at     timestamptz,
    end_reason   text CHECK (end_reason IN ('logout', 'idle', 'absolute', 'password_change', 'disabled', 'admin')),
    client_ip    inet,
    user_agent   text
);
CREATE INDEX console_sessions_open ON console_sessions (user_id) WHERE ended_at IS NULL;

-- A stated purpose for playing one file in one session (the access event is recorded when it is granted).
CREATE TABLE console_playback (
    id          bigserial PRIMARY KEY,
    session_id  bigint NOT NULL REFERENCES console_sessions (id),
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    purpose     text NOT NULL CHECK (length(purpose) > 0),
    granted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_playback_session ON console_playback (session_id, sha256);

CREATE TABLE console_auth_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    user_name  text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('login', 'failure', 'lockout', 'locked_attempt', 'logout', 'expired',
                                             'password_set', 'password_change', 'unlock')),
    client_ip  inet,
    detail     text
);
CREATE INDEX console_auth_log_user ON console_auth_log (user_name, at);

CREATE FUNCTION console_auth_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'console_auth_log is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER console_auth_log_no_change BEFORE UPDATE OR DELETE ON console_auth_log
    FOR EACH ROW EXECUTE FUNCTION console_auth_log_append_only();
CREATE TRIGGER console_auth_log_no_truncate BEFORE TRUNCATE ON console_auth_log
    FOR EACH STATEMENT EXECUTE FUNCTION console_auth_log_append_only();
