-- Redaction (liuhen.redaction): reviewed, verifiable redacted copies for disclosure.
-- draft (region list saved) → rendered (preview copy on disk, checked by the verifier)
-- → final (approved by a supervisor other than the drafter; the previewed bytes become a derivative
--    of kind 'redacted' with its derivation event). Only 'final' redactions may be disclosed or exported.
-- The audit log (redaction.draft, redaction.approve, derivation events) is the proof; this table is the index.

ALTER TABLE derivatives DROP CONSTRAINT IF EXISTS derivatives_kind_check;
ALTER TABLE derivatives ADD CONSTRAINT derivatives_kind_check
    CHECK (kind IN ('proxy', 'thumbnail', 'contact_sheet', 'preview', 'audio', 'redacted'));

CREATE TABLE redactions (
    id                  bigserial PRIMARY KEY,
    file_id             bigint NOT NULL REFERENCES files (id),
    state               text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'rendered', 'final', 'failed')),
    regions             jsonb NOT NULL,
    regions_sha256      text NOT NULL CHECK (regions_sha256 ~ '^[0-9a-f]{64}$'),
    detection           jsonb,
    params              jsonb NOT NULL DEFAULT '{}',
    preview_path        text,
    preview_sha256      text CHECK (preview_sha256 IS NULL OR preview_sha256 ~ '^[0-9a-f]{64}$'),
    preview_size        bigint,
    mime                text,
    verify_report       jsonb,
    error               text,
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    draft_event_id      bigint REFERENCES log_events (id),
    approved_by         text,
    approved_at         timestamptz,
    approve_event_id    bigint REFERENCES log_events (id),
    derivative_id       bigint REFERENCES derivatives (id),
    CHECK (state <> 'final' OR (approved_by IS NOT NULL AND derivative_id IS NOT NULL)),
    CHECK (approved_by IS NULL OR approved_by <> created_by)
);
CREATE INDEX redactions_file ON redactions (file_id, created_at);
CREATE INDEX redactions_final ON redactions (file_id) WHERE state = 'final';
