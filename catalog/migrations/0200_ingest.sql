-- Ingest: what resuming, receipts and the clerk's view need on top of the core tables.
ALTER TABLE ingest_sessions
    ADD COLUMN recorder_key   text,
    ADD COLUMN flags          text[] NOT NULL DEFAULT '{}',
    ADD COLUMN error          text,
    ADD COLUMN actor          text,
    ADD COLUMN receipt_sha256 text,
    ADD COLUMN updated_at     timestamptz NOT NULL DEFAULT now();
CREATE INDEX ingest_sessions_recorder ON ingest_sessions (recorder_key, started_at);
CREATE INDEX ingest_sessions_status ON ingest_sessions (status) WHERE status = 'running';

ALTER TABLE session_files
    ADD COLUMN mtime_ns      bigint,
    ADD COLUMN raw_path_hex  text,
    ADD COLUMN sm3           text,
    ADD COLUMN recorder_key  text,
    ADD COLUMN resumed       boolean NOT NULL DEFAULT false,
    ADD COLUMN updated_at    timestamptz NOT NULL DEFAULT now();
-- Resume: a file already stored from the same recorder at the same path, size and mtime is not copied again.
CREATE INDEX session_files_resume ON session_files (recorder_key, source_path, size, mtime_ns)
    WHERE status = 'stored';
CREATE INDEX session_files_sha ON session_files (sha256);
