-- Market units (UC-03.01 to UC-03.04): a group of assets an FSP bids as one, for one product.
-- SPU: one accounting point; SPG: several. See docs/units.md.
CREATE TABLE market_unit (
  id              text PRIMARY KEY,             -- ULID, never reused
  fsp_id          text NOT NULL REFERENCES organisation(id),  -- the controlling FSP
  name            text NOT NULL,
  unit_type       text NOT NULL CHECK (unit_type IN ('SPU', 'SPG')),
  product         text NOT NULL,                -- a product code; validated against the catalogue once it exists
  status          text NOT NULL CHECK (status IN ('ACTIVE', 'DEREGISTERED')),
  version         integer NOT NULL DEFAULT 1,
  recorded_at     timestamptz NOT NULL,
  recorded_by     text NOT NULL,
  deregistered_at timestamptz
);
CREATE INDEX market_unit_fsp_idx ON market_unit (fsp_id, id);

-- Composition. `product` is copied from the unit so that one partial unique index keeps an asset
-- in at most one active unit per product; a de-registered unit keeps its rows, inactive.
CREATE TABLE market_unit_member (
  market_unit_id text NOT NULL REFERENCES market_unit(id),
  asset_id       text NOT NULL REFERENCES asset(id),
  product        text NOT NULL,
  active         boolean NOT NULL DEFAULT true,
  PRIMARY KEY (market_unit_id, asset_id)
);
CREATE UNIQUE INDEX market_unit_member_one_per_product ON market_unit_member (asset_id, product) WHERE active;
CREATE INDEX market_unit_member_asset_idx ON market_unit_member (asset_id) WHERE active;

-- Prior versions, as asset_history: the wire shape of each superseded version.
CREATE TABLE market_unit_history (
  market_unit_id text NOT NULL REFERENCES market_unit(id),
  version        integer NOT NULL,
  data           jsonb NOT NULL,
  recorded_at    timestamptz NOT NULL,
  recorded_by    text NOT NULL,
  superseded_at  timestamptz NOT NULL,
  PRIMARY KEY (market_unit_id, version)
);
