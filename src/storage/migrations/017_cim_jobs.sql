-- CIM import jobs: a large import runs in the background (docs/cim-profile.md, "Import jobs").
-- The job row carries the options, the requesting principal, progress and, once finished, the
-- report (or the problem that refused the import). Workers claim QUEUED jobs, or RUNNING ones whose
-- lease expired, with FOR UPDATE SKIP LOCKED, so several hubs share one queue; `attempt` fences a
-- worker whose lease was taken over: only the current attempt may finish the job.
CREATE TABLE cim_import_job (
  id                text PRIMARY KEY,            -- ULID
  organisation_id   text NOT NULL,               -- the requesting organisation (visibility)
  principal         jsonb NOT NULL,              -- who the import runs as (roles, scopes, DNO areas at request time)
  mode              text NOT NULL CHECK (mode IN ('enrich', 'bulk-load')),
  dry_run           boolean NOT NULL,
  unit              text NOT NULL CHECK (unit IN ('W', 'kW', 'MW')),
  default_organisation_id text,
  files             jsonb NOT NULL,              -- [{name, bytes}] of the uploaded files (kept after they are deleted)
  status            text NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')),
  phase             text,                        -- while RUNNING: parsing, writing
  bytes_total       bigint NOT NULL,
  bytes_parsed      bigint NOT NULL DEFAULT 0,
  objects_processed integer NOT NULL DEFAULT 0,
  equipment         integer NOT NULL DEFAULT 0,
  assets_matched    integer NOT NULL DEFAULT 0,
  attempt           integer NOT NULL DEFAULT 0,
  max_attempts      integer NOT NULL DEFAULT 3,
  lease_until       timestamptz,
  worker            text,
  http_status       integer,                     -- the status the synchronous import would have answered
  report            jsonb,                       -- the report (SUCCEEDED) or the problem (FAILED)
  created_at        timestamptz NOT NULL,
  started_at        timestamptz,
  finished_at       timestamptz,
  recorded_by       text NOT NULL
);
CREATE INDEX cim_import_job_queue_idx ON cim_import_job (created_at, id) WHERE status IN ('QUEUED', 'RUNNING');
CREATE INDEX cim_import_job_org_idx ON cim_import_job (organisation_id, id);

-- The uploaded files, kept only until the job finishes (deleted in the same statement batch).
CREATE TABLE cim_import_job_file (
  job_id  text NOT NULL REFERENCES cim_import_job(id) ON DELETE CASCADE,
  seq     integer NOT NULL,
  name    text NOT NULL,
  content bytea NOT NULL,
  PRIMARY KEY (job_id, seq)
);
