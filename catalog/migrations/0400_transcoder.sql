-- Transcoder: job attempts (which worker handled what, for operations and the scale-out test),
-- per-second perceptual fingerprints and their sets.

CREATE TABLE transcode_jobs (
    id          bigserial PRIMARY KEY,
    file_id     bigint NOT NULL REFERENCES files (id),
    worker      text NOT NULL,
    host        text NOT NULL,
    pid         integer NOT NULL,
    message_id  text,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text CHECK (outcome IS NULL OR outcome IN ('ok', 'corrupt', 'unsupported', 'skipped', 'error')),
    error       text,
    seconds     double precision
);
CREATE INDEX transcode_jobs_file ON transcode_jobs (file_id, started_at);
CREATE INDEX transcode_jobs_running ON transcode_jobs (started_at) WHERE finished_at IS NULL;

-- One fingerprint set per original: algorithm, how it was sampled, digest over (t, hash) pairs.
CREATE TABLE fingerprint_sets (
    file_id     bigint PRIMARY KEY REFERENCES files (id),
    algo        text NOT NULL,
    mode        text NOT NULL,
    seconds     integer NOT NULL,
    digest      text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    event_id    bigint,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- 64-bit DCT hash (stored as signed bigint) of the frame nearest second t of the original.
CREATE TABLE fingerprints (
    file_id bigint NOT NULL REFERENCES files (id),
    t       integer NOT NULL,
    hash    bigint NOT NULL,
    PRIMARY KEY (file_id, t)
);

CREATE INDEX files_media_pending ON files (id) WHERE media_status = 'pending';
