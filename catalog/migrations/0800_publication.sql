-- Publication (公示), working-day calendar years, case-file evaluation (案卷评查) manual findings,
-- and the supervision feed's push consumers and deliveries. The audit log, not these tables, is the
-- proof: every state change here is written in the same transaction as its audit event (event_id).

-- Admin-loaded working-day tables (holidays and make-up working days of one year). The latest load of
-- a year is in force; earlier loads are kept.
CREATE TABLE calendar_years (
    id         bigserial PRIMARY KEY,
    year       integer NOT NULL CHECK (year BETWEEN 1950 AND 2199),
    table_json jsonb NOT NULL,
    source     text NOT NULL DEFAULT '',
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    loaded_by  text NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now(),
    event_id   bigint REFERENCES log_events (id)
);
CREATE INDEX calendar_years_year ON calendar_years (year, id);

-- Where a law sets another publication period for an agency (case_type '*' = all its types).
CREATE TABLE publication_rules (
    agency       text NOT NULL,
    case_type    text NOT NULL CHECK (case_type IN ('permit', 'penalty', 'coercive', 'levy', 'inspection', '*')),
    working_days integer NOT NULL CHECK (working_days BETWEEN 1 AND 366),
    legal_basis  text NOT NULL CHECK (length(legal_basis) > 0),
    set_by       text NOT NULL,
    set_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency, case_type)
);

-- One publication per decision: created when the case enters 'decision'.
-- state: due (not yet out) -> published -> updated (a corrected text went out) | revoked.
CREATE TABLE publications (
    id             bigserial PRIMARY KEY,
    case_id        bigint NOT NULL UNIQUE REFERENCES cases (id),
    case_no        text NOT NULL,
    agency         text NOT NULL,
    unit_code      text,
    case_type      text NOT NULL,
    decided_at     timestamptz NOT NULL,
    decided_on     date NOT NULL,
    working_days   integer NOT NULL,
    due_on         date NOT NULL,
    provisional    boolean NOT NULL,
    missing_years  integer[] NOT NULL DEFAULT '{}',
    basis          text NOT NULL DEFAULT '',
    state          text NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'published', 'updated', 'revoked')),
    conclusion     text NOT NULL DEFAULT '',
    draft_text     text NOT NULL,
    approved_text  text,
    approved_by    text,
    approved_at    timestamptz,
    public_text    text,
    first_published_at timestamptz,
    published_at   timestamptz,
    revoked_at     timestamptz,
    revoke_reason  text,
    version        integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    event_id       bigint REFERENCES log_events (id),
    CHECK (state = 'due' OR first_published_at IS NOT NULL),
    CHECK (state NOT IN ('published', 'updated') OR public_text IS NOT NULL)
);
CREATE INDEX publications_due ON publications (state, due_on);
CREATE INDEX publications_decided ON publications (decided_on);

-- Every text that went out (or was withdrawn), in order; the anonymous feed reads only this table.
CREATE TABLE publication_versions (
    id             bigserial PRIMARY KEY,
    publication_id bigint NOT NULL REFERENCES publications (id),
    version        integer NOT NULL,
    state          text NOT NULL CHECK (state IN ('published', 'updated', 'revoked')),
    text           text NOT NULL,
    approved_by    text,
    actor          text NOT NULL,
    at             timestamptz NOT NULL DEFAULT now(),
    event_id       bigint NOT NULL REFERENCES log_events (id),
    UNIQUE (publication_id, version)
);
CREATE INDEX publication_versions_at ON publication_versions (id);

-- Evaluators' manual findings (the automatic checklist is computed, not stored).
CREATE TABLE evaluation_findings (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id),
    code       text NOT NULL CHECK (length(code) > 0),
    deduction  integer NOT NULL CHECK (deduction BETWEEN 0 AND 100),
    message    text NOT NULL CHECK (length(message) > 0),
    evaluator  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    event_id   bigint REFERENCES log_events (id)
);
CREATE INDEX evaluation_findings_case ON evaluation_findings (case_id);

-- Supervision feed: push consumers (webhook) with their cursor, and every delivery attempt.
CREATE TABLE feed_consumers (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    url         text NOT NULL,
    next_index  bigint NOT NULL DEFAULT 0 CHECK (next_index >= 0),
    known_size  bigint NOT NULL DEFAULT 0 CHECK (known_size >= 0),
    batch_size  integer NOT NULL DEFAULT 500 CHECK (batch_size BETWEEN 1 AND 10000),
    enabled     boolean NOT NULL DEFAULT true,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE feed_deliveries (
    id           bigserial PRIMARY KEY,
    consumer_id  bigint NOT NULL REFERENCES feed_consumers (id),
    delivery_id  text NOT NULL,
    start_index  bigint NOT NULL,
    end_index    bigint NOT NULL,
    size         bigint NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    last_error   text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer_id, delivery_id)
);
CREATE INDEX feed_deliveries_pending ON feed_deliveries (status, next_attempt_at);
