-- Disputes and corrections (UC-05.03): a party disputes fields of a record it can see, with
-- evidence; the operator reviews and resolves it (Corrected, through the record's own update, or
-- No Action Required), or the raiser withdraws it. See docs/disputes.md.
CREATE TABLE dispute (
  id              text PRIMARY KEY,             -- ULID, never reused
  record_type     text NOT NULL CHECK (record_type IN ('asset', 'organisation', 'market_unit')),
  record_id       text NOT NULL,                -- no foreign key: one column names records of several tables
  fields          text[] NOT NULL,              -- field paths in dispute, distinct and sorted
  claim           jsonb NOT NULL,               -- { summary, proposedValues? }
  evidence        jsonb NOT NULL DEFAULT '[]',  -- the items sent with the dispute (comments carry their own)
  status          text NOT NULL CHECK (status IN ('OPEN', 'UNDER_REVIEW', 'RESOLVED', 'WITHDRAWN')),
  outcome         text CHECK (outcome IN ('CORRECTED', 'NO_ACTION_REQUIRED')),
  resolution_note text,
  correction      jsonb,                        -- { expectedVersion, changes, resultingVersion } when Corrected
  raised_by_org   text NOT NULL REFERENCES organisation(id),
  raised_by       text NOT NULL,                -- the person or client (and actor) who raised it
  raised_at       timestamptz NOT NULL,
  closed_at       timestamptz,
  version         integer NOT NULL DEFAULT 1,
  recorded_at     timestamptz NOT NULL,
  recorded_by     text NOT NULL,
  CHECK ((status = 'RESOLVED') = (outcome IS NOT NULL)),
  CHECK ((outcome = 'CORRECTED') = (correction IS NOT NULL)),
  CHECK ((status IN ('RESOLVED', 'WITHDRAWN')) = (closed_at IS NOT NULL))
);
-- One open dispute per organisation, record and set of fields (the service names the existing one).
CREATE UNIQUE INDEX dispute_one_open ON dispute (raised_by_org, record_type, record_id, fields) WHERE status IN ('OPEN', 'UNDER_REVIEW');
CREATE INDEX dispute_record_idx ON dispute (record_type, record_id, id);
CREATE INDEX dispute_raiser_idx ON dispute (raised_by_org, id);
CREATE INDEX dispute_status_idx ON dispute (status, id);

-- Comments and further evidence from the parties while the dispute is open; append-only.
CREATE TABLE dispute_comment (
  id              text PRIMARY KEY,             -- ULID
  dispute_id      text NOT NULL REFERENCES dispute(id),
  organisation_id text NOT NULL REFERENCES organisation(id),
  author          text NOT NULL,
  body            text NOT NULL,
  evidence        jsonb NOT NULL DEFAULT '[]',
  created_at      timestamptz NOT NULL
);
CREATE INDEX dispute_comment_dispute_idx ON dispute_comment (dispute_id, id);

-- Prior versions, as market_unit_history: the wire shape of each superseded version.
CREATE TABLE dispute_history (
  dispute_id    text NOT NULL REFERENCES dispute(id),
  version       integer NOT NULL,
  data          jsonb NOT NULL,
  recorded_at   timestamptz NOT NULL,
  recorded_by   text NOT NULL,
  superseded_at timestamptz NOT NULL,
  PRIMARY KEY (dispute_id, version)
);
