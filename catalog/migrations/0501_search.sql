-- API search at 10^6+ files: every filter gets an index that yields matches in id order (newest
-- first, keyset on id) or a bounded plan. Query shapes and the reasoning: api/search.py.

-- media_kind = x ORDER BY id DESC (a kind absent or rare must not be a sequential scan).
CREATE INDEX files_media_kind_id ON files (media_kind, id);

-- unit + time window (officer and device have (x, recorded_at) in 0001).
CREATE INDEX files_unit_time ON files (unit_code, recorded_at);

-- held = true: few files are under legal hold.
CREATE INDEX files_held_id ON files (id) WHERE legal_hold;

-- Recording-time windows walk id buckets of 16384 (api.search.BUCKET) newest first; an empty bucket
-- is one probe, a bucket with matches a short range scan. The expressions must match the query's; the
-- second is recorded_at in UTC (immutable, same order) so that files_recorded_at cannot serve the query;
-- id is included for index-only scans of a bucket.
CREATE INDEX files_time_bucket ON files ((id / 16384), (recorded_at AT TIME ZONE 'UTC')) INCLUDE (id);

-- Stage filters without a case: ordered file ids per stage (merge with the id walk) and a per-file
-- probe that is index-only.
CREATE INDEX links_stage_file ON links (stage, file_id) WHERE unlinked_at IS NULL;
CREATE INDEX links_file_stage ON links (file_id, stage) WHERE unlinked_at IS NULL;
