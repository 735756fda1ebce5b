-- Bulk reports: the full per-row results of a bulk request whose response lists only the first
-- 1,000 rejected rows (docs/api-guide.md, "Bulk registration"). Written in its own statement after
-- the batch's transaction, so a refused batch still writes nothing else. Readable only by the
-- submitting organisation, until expires_at; expired reports are deleted when a new one is written.
CREATE TABLE bulk_report (
  id              text PRIMARY KEY,              -- ULID
  organisation_id text NOT NULL,                 -- the submitting organisation (the only reader)
  dry_run         boolean NOT NULL,
  on_error        text NOT NULL CHECK (on_error IN ('stop', 'skip')),
  http_status     integer NOT NULL,              -- the status the request answered
  summary         jsonb NOT NULL,                -- total and counts by status and by rule code
  results         jsonb NOT NULL,                -- every rejected row: row, errors, warnings, existingAssetId
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL
);
CREATE INDEX bulk_report_expires ON bulk_report (expires_at);
