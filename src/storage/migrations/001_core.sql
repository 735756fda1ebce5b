-- FMAR core: organisations, assets, aliases, FSP links, history, audit, events.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE organisation (
  id                  text PRIMARY KEY,                -- ULID, never reassigned
  legal_name          text NOT NULL,
  trading_name        text,
  organisation_type   text NOT NULL,
  organisation_type_description text,
  registration_number text NOT NULL,
  roles               text[] NOT NULL,
  identifiers         jsonb NOT NULL DEFAULT '[]',
  passport            jsonb NOT NULL DEFAULT '{}',
  dno_codes           text[] NOT NULL DEFAULT '{}',     -- network areas a DNO/IDNO operates
  status              text NOT NULL,
  version             integer NOT NULL DEFAULT 1,
  recorded_at         timestamptz NOT NULL,
  recorded_by         text NOT NULL,
  deregistered_at     timestamptz,
  CONSTRAINT organisation_roles_nonempty CHECK (cardinality(roles) > 0)
);
CREATE UNIQUE INDEX organisation_registration_number_key ON organisation (upper(registration_number));

CREATE TABLE organisation_history (
  organisation_id text NOT NULL REFERENCES organisation(id),
  version         integer NOT NULL,
  data            jsonb NOT NULL,
  recorded_at     timestamptz NOT NULL,
  recorded_by     text NOT NULL,
  superseded_at   timestamptz NOT NULL,
  PRIMARY KEY (organisation_id, version)
);

CREATE TABLE asset (
  id                     text PRIMARY KEY,             -- ULID, never reused
  organisation_id        text NOT NULL REFERENCES organisation(id),
  fsp_id                 text NOT NULL REFERENCES organisation(id),  -- current controlling FSP (mirrors the open link)
  friendly_code          text,
  name                   text NOT NULL,
  category               text NOT NULL,
  status                 text NOT NULL,
  rated_capacity_kw      numeric(12,2) NOT NULL CHECK (rated_capacity_kw > 0),
  generation_capacity_kw numeric(12,2) CHECK (generation_capacity_kw >= 0),
  demand_capacity_kw     numeric(12,2) CHECK (demand_capacity_kw >= 0),
  energy_source          text,
  demand_technology      text,
  manufacturer           text,
  model                  text,
  serial_number          text,
  commissioning_date     date,
  effective_date         date,
  connection_status      text NOT NULL,
  connection_type        text,
  dno                    text,
  import_mpan            text,
  export_mpan            text,
  location               jsonb,
  consent_reference      text,
  version                integer NOT NULL DEFAULT 1,
  recorded_at            timestamptz NOT NULL,
  recorded_by            text NOT NULL,
  deregistered_at        timestamptz,
  CONSTRAINT asset_mpans_differ CHECK (import_mpan IS NULL OR export_mpan IS NULL OR import_mpan <> export_mpan)
);
-- A friendly code names one live asset of its organisation; de-registration releases it (the ULID stays unique for ever).
CREATE UNIQUE INDEX asset_friendly_code_key ON asset (organisation_id, friendly_code) WHERE friendly_code IS NOT NULL AND deregistered_at IS NULL;
CREATE INDEX asset_fsp_idx ON asset (fsp_id, id);
CREATE INDEX asset_dno_idx ON asset (dno, id);

-- A true duplicate is the same MPAN + category + serial: one live asset per key.
CREATE TABLE asset_natural_key (
  natural_key text PRIMARY KEY,
  asset_id    text NOT NULL REFERENCES asset(id)
);

CREATE TABLE asset_alias (
  scheme          text NOT NULL,
  value           text NOT NULL,
  asset_id        text NOT NULL REFERENCES asset(id),
  organisation_id text NOT NULL,
  active          boolean NOT NULL DEFAULT true,
  PRIMARY KEY (scheme, value, asset_id)
);
CREATE INDEX asset_alias_asset_idx ON asset_alias (asset_id);
-- Schemes whose values identify one device nationally.
CREATE UNIQUE INDEX asset_alias_unique_national ON asset_alias (scheme, value) WHERE active AND scheme IN ('evse', 'ecr');
-- The FSP's own reference is unique within that organisation.
CREATE UNIQUE INDEX asset_alias_unique_fsp_ref ON asset_alias (organisation_id, value) WHERE active AND scheme = 'fsp_ref';

CREATE TABLE asset_history (
  asset_id      text NOT NULL REFERENCES asset(id),
  version       integer NOT NULL,
  data          jsonb NOT NULL,
  recorded_at   timestamptz NOT NULL,
  recorded_by   text NOT NULL,
  superseded_at timestamptz NOT NULL,
  PRIMARY KEY (asset_id, version)
);

-- Which FSP holds commercial control of an asset, over which period; periods never overlap.
CREATE TABLE asset_fsp_link (
  asset_id    text NOT NULL REFERENCES asset(id),
  fsp_id      text NOT NULL REFERENCES organisation(id),
  valid       tstzrange NOT NULL,
  recorded_at timestamptz NOT NULL,
  recorded_by text NOT NULL,
  CONSTRAINT asset_fsp_link_no_overlap EXCLUDE USING gist (asset_id WITH =, valid WITH &&)
);

-- Append-only, hash-chained audit trail. Writers insert unsealed rows (seq NULL) in their own
-- transaction; a sealer later assigns seq and the chain hash in commit-visible order, so writers
-- never contend on a chain head.
CREATE TABLE audit_log (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at     timestamptz NOT NULL,
  actor           jsonb NOT NULL,
  organisation_id text,
  action          text NOT NULL,
  record_type     text NOT NULL,
  record_id       text NOT NULL,
  detail          jsonb NOT NULL DEFAULT '{}',
  seq             bigint UNIQUE,
  prev_hash       text,
  hash            text
);
CREATE INDEX audit_log_record_idx ON audit_log (record_type, record_id, id);
CREATE INDEX audit_log_unsealed_idx ON audit_log (id) WHERE seq IS NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.seq IS NOT NULL OR NEW.seq IS NULL OR NEW.hash IS NULL
     OR (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash') IS DISTINCT FROM (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
    RAISE EXCEPTION 'audit_log rows are sealed once and never changed' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Transactional outbox: written in the change's transaction, delivered later.
CREATE TABLE event_outbox (
  id          text PRIMARY KEY,                        -- ULID: the pull feed's cursor
  type        text NOT NULL,
  subject     text NOT NULL,
  organisation_id text,
  data        jsonb NOT NULL,
  occurred_at timestamptz NOT NULL
);

-- Keys the hub signs with (development tokens now; the OpenID provider later).
CREATE TABLE signing_key (
  kid         text PRIMARY KEY,
  purpose     text NOT NULL,
  alg         text NOT NULL,
  private_jwk jsonb NOT NULL,
  public_jwk  jsonb NOT NULL,
  created_at  timestamptz NOT NULL,
  retired_at  timestamptz
);

-- Replayed responses for writes that carried an Idempotency-Key.
CREATE TABLE idempotency_record (
  organisation_id text NOT NULL,
  key             text NOT NULL,
  request_hash    text NOT NULL,
  status          integer NOT NULL,
  body            jsonb NOT NULL,
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (organisation_id, key)
);
