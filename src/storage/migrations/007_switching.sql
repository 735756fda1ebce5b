-- Switching assets between FSPs (UC-02.06) and the contracts whose confirmed service windows a
-- switch may not cross. See docs/switching.md.

-- Contracts recorded by System Operators: an FSP delivers a product with an asset (or a market
-- unit, once units exist) over a period. A CONFIRMED contract is a service window.
CREATE TABLE contract (
  id                 text PRIMARY KEY,
  system_operator_id text NOT NULL REFERENCES organisation(id),
  fsp_id             text NOT NULL REFERENCES organisation(id),
  asset_id           text REFERENCES asset(id),
  market_unit_id     text,
  product            text NOT NULL,
  period             tstzrange NOT NULL,
  status             text NOT NULL CHECK (status IN ('OFFERED', 'CONFIRMED', 'TERMINATED')),
  reference          text,
  version            integer NOT NULL DEFAULT 1,
  recorded_at        timestamptz NOT NULL,
  recorded_by        text NOT NULL,
  CONSTRAINT contract_subject CHECK (asset_id IS NOT NULL OR market_unit_id IS NOT NULL),
  CONSTRAINT contract_period CHECK (NOT isempty(period) AND NOT lower_inf(period) AND NOT upper_inf(period))
);
CREATE INDEX contract_asset_idx ON contract USING gist (asset_id, period) WHERE status = 'CONFIRMED';
CREATE INDEX contract_fsp_idx ON contract (fsp_id);
CREATE INDEX contract_so_idx ON contract (system_operator_id);

-- A switch request and its state: REQUESTED -> PENDING (notice period) -> EFFECTIVE, or
-- REJECTED / CANCELLED / WITHDRAWN. At most one open switch per asset.
CREATE TABLE asset_switch (
  id               text PRIMARY KEY,
  asset_id         text NOT NULL REFERENCES asset(id),
  losing_fsp_id    text NOT NULL REFERENCES organisation(id),
  gaining_fsp_id   text NOT NULL REFERENCES organisation(id),
  status           text NOT NULL CHECK (status IN ('REQUESTED', 'PENDING', 'EFFECTIVE', 'REJECTED', 'CANCELLED', 'WITHDRAWN')),
  effective_date   date NOT NULL,
  effective_at     timestamptz NOT NULL,
  consent          jsonb NOT NULL,
  consent_jti      text NOT NULL,
  consent_issuer   text NOT NULL,
  reason           text,
  requested_at     timestamptz NOT NULL,
  requested_by     text NOT NULL,
  closed_at        timestamptz,
  closed_by        text,
  close_reason     text
);
CREATE UNIQUE INDEX asset_switch_one_open ON asset_switch (asset_id) WHERE status IN ('REQUESTED', 'PENDING');
CREATE INDEX asset_switch_due_idx ON asset_switch (effective_at) WHERE status = 'PENDING';
CREATE INDEX asset_switch_consent_idx ON asset_switch (consent_issuer, consent_jti);
CREATE INDEX asset_switch_losing_idx ON asset_switch (losing_fsp_id);
CREATE INDEX asset_switch_gaining_idx ON asset_switch (gaining_fsp_id);

CREATE TABLE asset_switch_transition (
  switch_id   text NOT NULL REFERENCES asset_switch(id),
  seq         integer NOT NULL,
  from_status text,
  to_status   text NOT NULL,
  at          timestamptz NOT NULL,
  by          text NOT NULL,
  reason      text,
  PRIMARY KEY (switch_id, seq)
);
