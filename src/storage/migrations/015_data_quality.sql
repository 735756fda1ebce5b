-- Data quality (docs/data-quality.md): rules maintained as data by the operator, a live list of
-- findings per asset, a score per asset and scorecards kept by deltas.

CREATE TABLE dq_rule (
  code        text PRIMARY KEY CHECK (code ~ '^DQ-[A-Z0-9]+(-[A-Z0-9]+)*$' AND length(code) <= 64),
  description text NOT NULL,
  severity    text NOT NULL CHECK (severity IN ('ERROR', 'WARNING', 'INFO')),
  weight      integer NOT NULL CHECK (weight BETWEEN 0 AND 100),
  applies_to  text[] NOT NULL DEFAULT '{}',      -- asset categories; empty: every category
  kind        text NOT NULL CHECK (kind IN ('field', 'cross-field', 'cross-source', 'staleness', 'external-check')),
  definition  text NOT NULL,                     -- the rule language (src/quality/language.ts), parsed on write
  active      boolean NOT NULL DEFAULT true,
  version     integer NOT NULL DEFAULT 1,
  recorded_at timestamptz NOT NULL,
  recorded_by text NOT NULL
);

CREATE TABLE dq_rule_history (
  code          text NOT NULL REFERENCES dq_rule(code),
  version       integer NOT NULL,
  data          jsonb NOT NULL,
  recorded_at   timestamptz NOT NULL,
  recorded_by   text NOT NULL,
  superseded_at timestamptz NOT NULL,
  PRIMARY KEY (code, version)
);

-- One row per evaluated asset: its score, the parties it was counted for (so that a later change
-- subtracts exactly what was added), and the last external validation.
CREATE TABLE dq_asset_score (
  asset_id        text PRIMARY KEY REFERENCES asset(id),
  score           integer NOT NULL CHECK (score BETWEEN 0 AND 100),
  counted         boolean NOT NULL,              -- false once the asset is de-registered
  organisation_id text NOT NULL,
  fsp_id          text NOT NULL,
  dno             text,
  evaluated_at    timestamptz NOT NULL,
  validated_at    timestamptz,
  validation      jsonb
);

-- The live list: at most one open finding per asset and rule; resolved_at closes it.
CREATE TABLE dq_finding (
  id              text PRIMARY KEY,              -- ULID: keyset order
  asset_id        text NOT NULL REFERENCES asset(id),
  rule_code       text NOT NULL REFERENCES dq_rule(code),
  severity        text NOT NULL,
  detail          text NOT NULL,
  organisation_id text NOT NULL,
  fsp_id          text NOT NULL,
  dno             text,
  opened_at       timestamptz NOT NULL,
  resolved_at     timestamptz
);
CREATE UNIQUE INDEX dq_finding_open_idx ON dq_finding (asset_id, rule_code) WHERE resolved_at IS NULL;
CREATE INDEX dq_finding_asset_idx ON dq_finding (asset_id, id);
CREATE INDEX dq_finding_fsp_idx ON dq_finding (fsp_id, id);
-- The owner, only where it is not the FSP (most assets): one index entry fewer per finding on the bulk path.
CREATE INDEX dq_finding_owner_idx ON dq_finding (organisation_id, id) WHERE organisation_id <> fsp_id;

-- Scorecards, per organisation (controlling FSP and owner, each asset once) and per DNO, moved
-- by deltas in the transaction of each change: never recomputed from the asset table on read.
CREATE TABLE dq_scorecard (
  scope        text NOT NULL CHECK (scope IN ('organisation', 'dno')),
  key          text NOT NULL,
  assets       bigint NOT NULL DEFAULT 0,
  score_sum    bigint NOT NULL DEFAULT 0,
  open_error   bigint NOT NULL DEFAULT 0,
  open_warning bigint NOT NULL DEFAULT 0,
  open_info    bigint NOT NULL DEFAULT 0,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);

CREATE TABLE dq_scorecard_rule (
  scope     text NOT NULL,
  key       text NOT NULL,
  rule_code text NOT NULL,
  open      bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, key, rule_code)
);

-- The default rule set: one or more of each kind.
INSERT INTO dq_rule (code, description, severity, weight, applies_to, kind, definition, recorded_at, recorded_by) VALUES
  ('DQ-SERIAL-REQUIRED', 'A device serial number is recorded (needed to tell a duplicate from a second device).', 'WARNING', 10, '{}', 'field', 'required(serialNumber)', now(), 'migration'),
  ('DQ-DEVICE-IDENTITY', 'Manufacturer and model are recorded.', 'INFO', 5, '{}', 'field', 'required(manufacturer) and required(model)', now(), 'migration'),
  ('DQ-POSTCODE-PRESENT', 'The location has a postcode.', 'INFO', 5, '{}', 'field', 'required(location.postcode)', now(), 'migration'),
  ('DQ-SERIAL-FORMAT', 'A serial number is at least four letters, digits or dashes, starting with a letter or digit.', 'INFO', 5, '{}', 'field', 'serialNumber matches "^[A-Za-z0-9][A-Za-z0-9-]{3,63}$"', now(), 'migration'),
  ('DQ-EV-CAPACITY-RANGE', 'An EV charger is rated between 1.4 kW and 350 kW.', 'WARNING', 10, '{EV_CHARGER}', 'field', 'ratedCapacityKw between 1.4 and 350', now(), 'migration'),
  ('DQ-CONNECTION-TYPE-KNOWN', 'The connection type is recorded for a connected asset.', 'INFO', 5, '{}', 'cross-field', 'connectionStatus == "CONNECTED" implies required(connectionType)', now(), 'migration'),
  ('DQ-CAPACITY-WITHIN-RATED', 'Generation and demand capacities do not exceed the rated capacity.', 'ERROR', 20, '{}', 'cross-field', 'generationCapacityKw <= ratedCapacityKw and demandCapacityKw <= ratedCapacityKw', now(), 'migration'),
  ('DQ-COMMISSIONED-BEFORE-EFFECTIVE', 'The commissioning date is on or before the effective date, and not in the future.', 'ERROR', 20, '{}', 'cross-field', 'commissioningDate <= effectiveDate and commissioningDate <= today', now(), 'migration'),
  ('DQ-BESS-EXPORT-MPAN', 'A battery that can export has an export MPAN.', 'WARNING', 10, '{BESS}', 'cross-field', 'generationCapacityKw > 0 implies required(exportMpan)', now(), 'migration'),
  ('DQ-MPAN-DNO-MATCH', 'The DNO of each MPAN’s distributor ID is the declared DNO.', 'ERROR', 25, '{}', 'cross-source', 'mpanDno(importMpan) == dno and mpanDno(exportMpan) == dno', now(), 'migration'),
  ('DQ-STALE-RECORD', 'The record was changed or validated within the last 365 days.', 'WARNING', 10, '{}', 'staleness', 'daysSince(lastActivityAt) <= 365', now(), 'migration'),
  ('DQ-MPAN-REGISTERED', 'The meter point registry knows the MPAN.', 'ERROR', 25, '{}', 'external-check', 'meterPoint.status != "not-found"', now(), 'migration'),
  ('DQ-MPAN-DISTRIBUTOR-REGISTRY', 'The meter point registry’s distributor for the MPAN is the declared DNO.', 'ERROR', 20, '{}', 'external-check', 'meterPoint.dno == dno', now(), 'migration'),
  ('DQ-MPAN-GSP-GROUP', 'The meter point registry’s GSP group is the one in the location.', 'WARNING', 10, '{}', 'external-check', 'meterPoint.gspGroup == location.gspGroup', now(), 'migration'),
  ('DQ-MPAN-ENERGISED', 'The meter point is energised when the asset says it is connected.', 'WARNING', 10, '{}', 'external-check', 'connectionStatus == "CONNECTED" implies meterPoint.energised != false', now(), 'migration'),
  ('DQ-MCS-CERTIFICATE', 'An MCS certificate exists for the serial number and category.', 'ERROR', 20, '{SOLAR_PV,HEAT_PUMP,WIND_TURBINE}', 'external-check', 'mcs.status != "not-found"', now(), 'migration'),
  ('DQ-EXTERNAL-UNAVAILABLE', 'Every external registry answered the last validation (failing closed: an unanswered check is not a pass).', 'WARNING', 5, '{}', 'external-check', 'meterPoint.status != "unavailable" and mcs.status != "unavailable"', now(), 'migration');
