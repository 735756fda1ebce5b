-- Data shares (UC-05.01, docs/sharing.md): an organisation lets a named platform organisation pull
-- its passport and, if it says so, its assets (all, or a list) through the API for a period.
-- Versioned through the kernel (prior versions in record_history, record type 'data_share');
-- revoked, never deleted.
CREATE TABLE data_share (
  id            text PRIMARY KEY,                                   -- ULID, never reused
  owner_id      text NOT NULL REFERENCES organisation(id),          -- the organisation whose data is shared
  recipient_id  text NOT NULL REFERENCES organisation(id),          -- the platform organisation that pulls it
  assets        text NOT NULL CHECK (assets IN ('NONE', 'ALL', 'LISTED')),
  asset_ids     text[],                                             -- LISTED: the assets shared, sorted
  valid_from    timestamptz NOT NULL,
  valid_to      timestamptz NOT NULL,
  purpose       text,
  status        text NOT NULL CHECK (status IN ('ACTIVE', 'REVOKED')),
  revoked_at    timestamptz,
  revoke_reason text,
  version       integer NOT NULL DEFAULT 1,
  recorded_at   timestamptz NOT NULL,
  recorded_by   text NOT NULL,
  CONSTRAINT data_share_parties CHECK (owner_id <> recipient_id),
  CONSTRAINT data_share_period CHECK (valid_to > valid_from),
  CONSTRAINT data_share_listed CHECK ((assets = 'LISTED') = (asset_ids IS NOT NULL)),
  -- One share between two organisations at a time: a new period is granted once the old one has ended or been revoked.
  CONSTRAINT data_share_no_overlap EXCLUDE USING gist (owner_id WITH =, recipient_id WITH =, tstzrange(valid_from, valid_to) WITH &&)
    WHERE (status = 'ACTIVE')
);
CREATE INDEX data_share_owner_idx ON data_share (owner_id, id);
CREATE INDEX data_share_recipient_idx ON data_share (recipient_id, id);
