-- API: users and hashed bearer tokens, supervised retrieval (requests, approvals, access records),
-- the configurable recording list (音像记录事项清单), and search indexes for 10^6 files.

CREATE TABLE api_users (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    role       text NOT NULL
               CHECK (role IN ('clerk', 'reviewer', 'legal_reviewer', 'supervisor', 'admin', 'external')),
    unit_code  text,
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled   boolean NOT NULL DEFAULT false
);

-- Only sha256(token) is stored; the token itself is shown once, when issued.
CREATE TABLE api_tokens (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES api_users (id),
    token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    prefix      text NOT NULL,
    label       text,
    issued_by   text NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz,
    revoked_by  text,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- 调阅审批: a request to download originals or export a case; a supervisor approves or rejects it.
CREATE TABLE access_requests (
    id           bigserial PRIMARY KEY,
    requester    text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('download', 'export')),
    case_no      text,
    file_sha256  text[] NOT NULL DEFAULT '{}',
    purpose      text NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    decided_by   text,
    decided_at   timestamptz,
    decision_note text,
    expires_at   timestamptz,
    event_id     bigint,
    decision_event_id bigint,
    CHECK (case_no IS NOT NULL OR cardinality(file_sha256) > 0)
);
CREATE INDEX access_requests_requester ON access_requests (requester, requested_at);
CREATE INDEX access_requests_status ON access_requests (status, requested_at);

-- One row per access (view, stream start, download, request, approval, export), written in the same
-- transaction as its audit-log event, so "who accessed what, when and why" is one indexed query.
CREATE TABLE access_events (
    id          bigserial PRIMARY KEY,
    event_id    bigint NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    user_name   text NOT NULL,
    role        text,
    user_unit   text,
    token_id    bigint,
    kind        text NOT NULL
                CHECK (kind IN ('view', 'stream', 'download', 'request', 'approval', 'export')),
    purpose     text,
    file_id     bigint,
    sha256      text,
    derivative_id bigint,
    case_no     text,
    request_id  bigint,
    object_unit text,
    outside_unit boolean NOT NULL DEFAULT false
);
CREATE INDEX access_events_user ON access_events (user_name, at);
CREATE INDEX access_events_sha ON access_events (sha256, at);
CREATE INDEX access_events_case ON access_events (case_no, at);
CREATE INDEX access_events_at ON access_events (at);
CREATE INDEX access_events_session ON access_events (token_id, file_id, kind, at);

-- 音像记录事项清单: which activity kinds need full AV recording, AV as circumstances require, or text.
CREATE TABLE recording_list (
    kind      text PRIMARY KEY,
    recording text NOT NULL CHECK (recording IN ('full_av', 'av_as_needed', 'text')),
    label     text NOT NULL
);
INSERT INTO recording_list (kind, recording, label) VALUES
    ('seizure', 'full_av', '查封扣押'),
    ('sealing', 'full_av', '查封'),
    ('forced_demolition', 'full_av', '强制拆除'),
    ('questioning_room', 'full_av', '办案场所询问'),
    ('onsite_inspection', 'av_as_needed', '现场检查'),
    ('evidence_collection', 'av_as_needed', '调查取证'),
    ('hearing', 'av_as_needed', '听证'),
    ('lodged_service', 'av_as_needed', '留置送达'),
    ('announcement_service', 'av_as_needed', '公告送达'),
    ('document_review', 'text', '书面审查'),
    ('text_record', 'text', '文字记录');

-- Search: keyset pagination on id with the common filters; digest prefix lookups.
CREATE INDEX files_officer_id ON files (officer_no, id);
CREATE INDEX files_device_id ON files (device_serial, id);
CREATE INDEX files_unit_id ON files (unit_code, id);
CREATE INDEX files_sha256_prefix ON files (sha256 text_pattern_ops);
CREATE INDEX links_stage ON links (case_id, stage) WHERE unlinked_at IS NULL;
CREATE INDEX links_activity ON links (activity_id) WHERE unlinked_at IS NULL;
