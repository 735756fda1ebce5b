-- Connection limits (UC-02.05, docs/connection-limits.md): what a DNO/IDNO allows at a connection
-- point (an MPAN), in kW, for a period. Versioned through the kernel (prior versions in
-- record_history, record type 'connection_limit'); withdrawn, never deleted.
CREATE TABLE connection_limit (
  id                  text PRIMARY KEY,              -- ULID, never reused
  mpan                text NOT NULL,                 -- 13-digit MPAN core of the connection point
  site_reference      text,                          -- the DNO's own reference for the site
  dno_organisation_id text NOT NULL REFERENCES organisation(id),  -- the DNO/IDNO that recorded it
  dno                 text NOT NULL,                 -- the licence area (dno-codes) the MPAN is on
  import_limit_kw     numeric(12,2) CHECK (import_limit_kw >= 0),
  export_limit_kw     numeric(12,2) CHECK (export_limit_kw >= 0),
  firmness            text NOT NULL CHECK (firmness IN ('FIRM', 'NON_FIRM', 'TIMED', 'DYNAMIC')),
  valid_from          timestamptz NOT NULL,
  valid_to            timestamptz,
  profile             jsonb,                         -- TIMED: the time bands and their limits
  scheme_reference    text,                          -- NON_FIRM / DYNAMIC: the DNO's flexible connection scheme (e.g. an ANM zone)
  status              text NOT NULL CHECK (status IN ('ACTIVE', 'WITHDRAWN')),
  withdrawn_at        timestamptz,
  version             integer NOT NULL DEFAULT 1,
  recorded_at         timestamptz NOT NULL,
  recorded_by         text NOT NULL,
  CONSTRAINT connection_limit_some_limit CHECK (import_limit_kw IS NOT NULL OR export_limit_kw IS NOT NULL),
  CONSTRAINT connection_limit_period CHECK (valid_to IS NULL OR valid_to > valid_from),
  -- One limit in force per connection point at any time: a new period ends the old one first.
  CONSTRAINT connection_limit_no_overlap EXCLUDE USING gist (mpan WITH =, tstzrange(valid_from, valid_to) WITH &&) WHERE (status = 'ACTIVE')
);
CREATE INDEX connection_limit_dno_org_idx ON connection_limit (dno_organisation_id, id);
CREATE INDEX connection_limit_mpan_idx ON connection_limit (mpan, id);

-- A market unit's members at one connection stay within its limit (src/quality: the facts
-- connection.* are the members' summed capacity at the asset's connection and that connection's limit).
-- Weight 0: it opens a finding but leaves every asset's score as it was.
INSERT INTO dq_rule (code, description, severity, weight, applies_to, kind, definition, recorded_at, recorded_by) VALUES
  ('DQ-UNIT-CONNECTION-LIMIT',
   'The members of a market unit at one connection (MPAN) have a summed capacity within that connection’s limit (export; import for demand).',
   'WARNING', 0, '{}', 'cross-source',
   'required(connection.marketUnitId) implies connection.unitCapacityKw <= connection.limitKw',
   now(), 'migration');
