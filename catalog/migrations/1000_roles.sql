-- Least privilege per component (docs/deployment.md). Four NOLOGIN group roles; every host logs in as its
-- own LOGIN role that is a member of exactly one of them, e.g.
--     CREATE ROLE station_jz01 LOGIN PASSWORD '…' IN ROLE liuhen_station;
-- Migrations run as the owner of the database objects (the migrator); none of the four roles owns a table,
-- so none can ALTER, DROP or TRUNCATE one, disable or drop a trigger, or create objects. Superusers and the
-- owner stay able to, which is why `liuhen audit verify` recomputes the log from the leaf bodies anyway.
--
--   liuhen_station  dock stations: register recorders, sessions, files and pending/sequenced log events;
--                   progress and receipt columns of their own sessions; nothing that names, sizes, keys or
--                   retains a stored original once written (files: only sm3 once known, flags, ingest_event_id).
--   liuhen_worker   transcoder workers: read originals' rows, write derivatives, fingerprints, job rows and
--                   files.media_* columns.
--   liuhen_api      API nodes (and the background jobs `serve` runs there): read everything, record access
--                   (access_events, read_journal, access_requests), cases/stages/links/holds, checkpoints,
--                   disposal's status flip (the store refuses deleting anything still retained).
--   liuhen_readonly auditors and reporting: SELECT only.
-- Nobody but the owner may change files.retention_until, files.sha256/size/storage_key, delete a row of
-- files/sessions/derivatives/access records, or touch the log other than appending (the 0100/0102 triggers
-- police the sequencer's one-time UPDATE and the inbox move; every writer may be the group-commit leader).
--
-- Roles are cluster-wide, so creation tolerates roles made by another database's run (or a DBA beforehand:
-- then the migrator needs no CREATEROLE). Grants are per database.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['liuhen_station', 'liuhen_worker', 'liuhen_api', 'liuhen_readonly'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created concurrently by a migration of another database on this cluster
            END;
        END IF;
    END LOOP;
END $$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO liuhen_station, liuhen_worker, liuhen_api, liuhen_readonly;

-- Every component reads the migration record (to check it runs against the schema it expects).
GRANT SELECT ON schema_migrations TO liuhen_station, liuhen_worker, liuhen_api, liuhen_readonly;

-- The audit log, for every writer: pending events (record), group-commit inbox (append_many) and the
-- sequencer (one-time idx/leaf_hash, tree nodes, size). Triggers allow nothing else.
GRANT SELECT, INSERT ON log_events, log_inbox, log_nodes TO liuhen_station, liuhen_worker, liuhen_api;
GRANT UPDATE (idx, leaf_hash) ON log_events TO liuhen_station, liuhen_worker, liuhen_api;
GRANT DELETE ON log_inbox TO liuhen_station, liuhen_worker, liuhen_api;
GRANT SELECT, UPDATE (size) ON log_state TO liuhen_station, liuhen_worker, liuhen_api;
GRANT SELECT ON log_keys, checkpoints TO liuhen_station, liuhen_worker, liuhen_api;
GRANT USAGE ON SEQUENCE log_events_id_seq TO liuhen_station, liuhen_worker, liuhen_api;

-- Stations
GRANT SELECT, INSERT ON recorders, officers, ingest_sessions, session_files, files TO liuhen_station;
GRANT UPDATE (officer_no, officer_name, unit_code, firmware, last_seen) ON recorders TO liuhen_station;
GRANT UPDATE (name, unit_code) ON officers TO liuhen_station;
GRANT UPDATE (status, finished_at, files_done, bytes_done, safe_to_wipe, receipt, receipt_event_id,
              receipt_sha256, error, flags, updated_at) ON ingest_sessions TO liuhen_station;
GRANT UPDATE (status, file_id, sha256, sm3, event_id, flags, recorded_at, resumed, error, updated_at)
    ON session_files TO liuhen_station;
GRANT UPDATE (sm3, flags, ingest_event_id) ON files TO liuhen_station;
GRANT USAGE ON SEQUENCE recorders_id_seq, ingest_sessions_id_seq, session_files_id_seq, files_id_seq
    TO liuhen_station;

-- Transcoder workers
GRANT SELECT ON files TO liuhen_worker;
GRANT UPDATE (media_status, media_error, media_info, media_kind, duration_s) ON files TO liuhen_worker;
GRANT SELECT, INSERT ON derivatives, fingerprint_sets, transcode_jobs TO liuhen_worker;
GRANT SELECT, INSERT, DELETE ON fingerprints TO liuhen_worker;  -- derived data, rewritten per file
GRANT UPDATE (finished_at, outcome, error, seconds) ON transcode_jobs TO liuhen_worker;
-- SELECT … FOR UPDATE (one processor per derivative) needs UPDATE on some column: the row's own timestamp.
GRANT UPDATE (created_at) ON derivatives, fingerprint_sets TO liuhen_worker;
GRANT USAGE ON SEQUENCE derivatives_id_seq, transcode_jobs_id_seq TO liuhen_worker;

-- API nodes
GRANT SELECT ON ALL TABLES IN SCHEMA public TO liuhen_api, liuhen_readonly;
GRANT INSERT ON access_events, read_journal, access_requests, cases, case_stages, activities, links,
    legal_reviews, exports, api_users, api_tokens, recording_list, checkpoints, log_keys TO liuhen_api;
GRANT UPDATE (sealed_event) ON read_journal TO liuhen_api;
GRANT UPDATE (status, decided_by, decided_at, decision_note, expires_at, event_id, decision_event_id)
    ON access_requests TO liuhen_api;
GRANT UPDATE (stage) ON cases TO liuhen_api;
GRANT UPDATE (unlinked_by, unlinked_at, unlink_event_id) ON links TO liuhen_api;
GRANT UPDATE (recording, label) ON recording_list TO liuhen_api;
GRANT UPDATE (role, unit_code, disabled) ON api_users TO liuhen_api;
GRANT UPDATE (revoked_at, revoked_by, last_used_at) ON api_tokens TO liuhen_api;
GRANT UPDATE (retired_at) ON log_keys TO liuhen_api;
GRANT UPDATE (legal_hold, status) ON files TO liuhen_api;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO liuhen_api;
-- written by API nodes in the packages after the core (unit grants, redaction, publication, console):
-- append-only records get INSERT only; working state rows INSERT and UPDATE; nobody deletes
GRANT INSERT ON case_unit_grants, exports, redactions, calendar_years, publication_rules, publications,
    publication_versions, evaluation_findings, feed_consumers, feed_deliveries, console_credentials,
    console_sessions, console_playback, console_auth_log TO liuhen_api;
GRANT UPDATE ON case_unit_grants, redactions, calendar_years, publication_rules, publications,
    feed_consumers, feed_deliveries, console_credentials, console_sessions TO liuhen_api;

-- Tables later migrations create: readable by API nodes and auditors; writes are granted by the
-- migration that adds the table (see docs/deployment.md).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO liuhen_api, liuhen_readonly;
