-- Core catalog: recorders, ingest sessions, stored originals, derivatives, cases and their stages.
-- Digests are lowercase hex. Times are timestamptz (UTC on the wire).

CREATE TABLE recorders (
    id            bigserial PRIMARY KEY,
    device_serial text NOT NULL UNIQUE,
    officer_no    text,
    officer_name  text,
    unit_code     text,
    firmware      text,
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE officers (
    officer_no text PRIMARY KEY,
    name       text,
    unit_code  text
);

-- One row per stored original, addressed by content (I1): identical content is stored once.
CREATE TABLE files (
    id               bigserial PRIMARY KEY,
    sha256           text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    sm3              text CHECK (sm3 IS NULL OR sm3 ~ '^[0-9a-f]{64}$'),
    size             bigint NOT NULL CHECK (size >= 0),
    media_kind       text NOT NULL DEFAULT 'unknown'
                     CHECK (media_kind IN ('video', 'audio', 'photo', 'unknown')),
    ext              text,
    original_name    text,
    device_serial    text,
    officer_no       text,
    unit_code        text,
    recorded_at      timestamptz,
    duration_s       double precision,
    storage_key      text NOT NULL,
    storage_version  text,
    retention_until  timestamptz,
    legal_hold       boolean NOT NULL DEFAULT false,
    status           text NOT NULL DEFAULT 'stored' CHECK (status IN ('stored', 'disposed')),
    media_status     text NOT NULL DEFAULT 'pending'
                     CHECK (media_status IN ('pending', 'ok', 'corrupt', 'unsupported')),
    media_info       jsonb,
    media_error      text,
    flags            text[] NOT NULL DEFAULT '{}',
    ingest_event_id  bigint,
    ingested_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_recorded_at ON files (recorded_at);
CREATE INDEX files_officer ON files (officer_no, recorded_at);
CREATE INDEX files_device ON files (device_serial, recorded_at);
CREATE INDEX files_flags ON files USING gin (flags);

-- One offload of one docked recorder.
CREATE TABLE ingest_sessions (
    id            bigserial PRIMARY KEY,
    recorder_id   bigint REFERENCES recorders (id),
    device_serial text,
    dock_path     text NOT NULL,
    port          text NOT NULL,
    status        text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'complete', 'incomplete', 'failed')),
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    files_total   integer NOT NULL DEFAULT 0,
    files_done    integer NOT NULL DEFAULT 0,
    bytes_total   bigint NOT NULL DEFAULT 0,
    bytes_done    bigint NOT NULL DEFAULT 0,
    safe_to_wipe  boolean NOT NULL DEFAULT false,
    identity      jsonb,
    receipt       jsonb,
    receipt_event_id bigint
);

-- A source file seen on a recorder in a session; file_id is set once it is stored (I2).
CREATE TABLE session_files (
    id            bigserial PRIMARY KEY,
    session_id    bigint NOT NULL REFERENCES ingest_sessions (id),
    source_path   text NOT NULL,
    size          bigint,
    mtime         timestamptz,
    file_id       bigint REFERENCES files (id),
    sha256        text,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'stored', 'failed')),
    error         text,
    flags         text[] NOT NULL DEFAULT '{}',
    recorded_at   timestamptz,
    event_id      bigint,
    UNIQUE (session_id, source_path)
);
CREATE INDEX session_files_file ON session_files (file_id);

-- Derived, reproducible artefacts (proxies, thumbnails, previews, contact sheets). Not locked.
CREATE TABLE derivatives (
    id             bigserial PRIMARY KEY,
    file_id        bigint NOT NULL REFERENCES files (id),
    kind           text NOT NULL CHECK (kind IN ('proxy', 'thumbnail', 'contact_sheet', 'preview', 'audio')),
    seq            integer NOT NULL DEFAULT 0,
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size           bigint NOT NULL,
    path           text NOT NULL,
    mime           text NOT NULL,
    recipe         jsonb NOT NULL,
    event_id       bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (file_id, kind, seq)
);

CREATE TABLE cases (
    id         bigserial PRIMARY KEY,
    case_no    text NOT NULL UNIQUE,
    agency     text NOT NULL,
    unit_code  text,
    subject    text NOT NULL,
    case_type  text NOT NULL CHECK (case_type IN ('permit', 'penalty', 'coercive', 'levy', 'inspection')),
    major      boolean NOT NULL DEFAULT false,
    stage      text NOT NULL DEFAULT 'filing'
               CHECK (stage IN ('filing', 'investigation', 'review', 'decision', 'service', 'execution', 'closure')),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Stage history: one row each time a case enters a stage.
CREATE TABLE case_stages (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id),
    stage      text NOT NULL
               CHECK (stage IN ('filing', 'investigation', 'review', 'decision', 'service', 'execution', 'closure')),
    entered_at timestamptz NOT NULL DEFAULT now(),
    entered_by text NOT NULL,
    event_id   bigint
);
CREATE INDEX case_stages_case ON case_stages (case_id, entered_at);

CREATE TABLE legal_reviews (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id),
    reviewer   text NOT NULL,
    opinion    text NOT NULL,
    approved   boolean NOT NULL,
    reviewed_at timestamptz NOT NULL DEFAULT now(),
    event_id   bigint
);

CREATE TABLE activities (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    stage       text NOT NULL
                CHECK (stage IN ('filing', 'investigation', 'review', 'decision', 'service', 'execution', 'closure')),
    kind        text NOT NULL,
    recording   text NOT NULL CHECK (recording IN ('full_av', 'av_as_needed', 'text')),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    place       text,
    officers    text[] NOT NULL DEFAULT '{}',
    note        text,
    CHECK (ends_at >= starts_at)
);
CREATE INDEX activities_case ON activities (case_id, stage);

-- Clip (or a time range within it) linked to a case stage / activity. Unlinking keeps the row.
CREATE TABLE links (
    id           bigserial PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES cases (id),
    stage        text NOT NULL
                 CHECK (stage IN ('filing', 'investigation', 'review', 'decision', 'service', 'execution', 'closure')),
    activity_id  bigint REFERENCES activities (id),
    file_id      bigint NOT NULL REFERENCES files (id),
    t_start_s    double precision,
    t_end_s      double precision,
    proves       text,
    linked_by    text NOT NULL,
    linked_at    timestamptz NOT NULL DEFAULT now(),
    link_event_id bigint,
    unlinked_by  text,
    unlinked_at  timestamptz,
    unlink_event_id bigint,
    CHECK (t_start_s IS NULL OR t_end_s IS NULL OR t_end_s >= t_start_s)
);
CREATE INDEX links_case ON links (case_id) WHERE unlinked_at IS NULL;
CREATE INDEX links_file ON links (file_id) WHERE unlinked_at IS NULL;
