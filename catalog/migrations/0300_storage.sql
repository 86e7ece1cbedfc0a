-- Storage: the disposal job's candidate scan (expired, unheld, still stored originals).
CREATE INDEX IF NOT EXISTS files_disposal ON files (retention_until) WHERE status = 'stored' AND NOT legal_hold;
