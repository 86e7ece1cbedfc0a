-- Verified exports (integrity.export): one row per bag handed over. The bag's tag-manifest digest is
-- also in the `export` audit event (event_id), so the log — not this table — is the proof.
CREATE TABLE exports (
    id                 bigserial PRIMARY KEY,
    case_id            bigint NOT NULL REFERENCES cases (id),
    case_no            text NOT NULL,
    selection          jsonb NOT NULL DEFAULT '{}',
    out_path           text NOT NULL,
    files              integer NOT NULL CHECK (files >= 0),
    bytes              bigint NOT NULL CHECK (bytes >= 0),
    tagmanifest_sha256 text NOT NULL CHECK (tagmanifest_sha256 ~ '^[0-9a-f]{64}$'),
    checkpoint_size    bigint NOT NULL,
    event_id           bigint NOT NULL REFERENCES log_events (id),
    actor              text NOT NULL,
    request_id         text,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exports_case ON exports (case_no, created_at);
