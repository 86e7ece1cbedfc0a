-- Units are boundaries (cases/scope.py). An explicit, audited grant lets another unit act on one case
-- (联合办案, a joint case) and on the clips linked to it; each grant is a logged ``case.grant`` event.
CREATE TABLE case_unit_grants (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    unit_code   text NOT NULL,
    granted_by  text NOT NULL,
    reason      text NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    event_id    bigint,
    UNIQUE (case_id, unit_code)
);
CREATE INDEX case_unit_grants_unit ON case_unit_grants (unit_code, case_id);
