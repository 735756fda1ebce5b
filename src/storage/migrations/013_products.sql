-- Products, qualification and equivalences (UC-04.01 to UC-04.03). See docs/products.md.

-- The product catalogue, as data: never deleted, retired by status INACTIVE with its validTo.
-- owner_organisation_id is the owning System Operator; NULL until the operator records one (a fresh
-- register holds no SO organisation yet): `market` then says which kind of SO owns it.
CREATE TABLE product (
  id                    text PRIMARY KEY,           -- e.g. NESO-DFS, DSO-SUSTAIN-PEAK; stable, never reused
  name                  text NOT NULL,
  description           text,
  market                text NOT NULL CHECK (market IN ('NESO', 'DSO')),
  service_type          text NOT NULL,
  owner_organisation_id text REFERENCES organisation(id),
  status                text NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
  valid_from            timestamptz NOT NULL,
  valid_to              timestamptz,
  version               integer NOT NULL DEFAULT 1,
  recorded_at           timestamptz NOT NULL,
  recorded_by           text NOT NULL,
  CONSTRAINT product_id_market CHECK (id LIKE market || '-%'),
  CONSTRAINT product_period CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX product_owner_idx ON product (owner_organisation_id);

-- Prior versions of a product: the wire shape of each superseded version.
CREATE TABLE product_history (
  product_id    text NOT NULL REFERENCES product(id),
  version       integer NOT NULL,
  data          jsonb NOT NULL,
  recorded_at   timestamptz NOT NULL,
  recorded_by   text NOT NULL,
  superseded_at timestamptz NOT NULL,
  PRIMARY KEY (product_id, version)
);

-- Qualification outcomes, recorded by the product's System Operator (FMAR records, it does not
-- assess). Append-only: a new record for the same unit and product names the one it supersedes;
-- UNIQUE (supersedes) lets only one record supersede another, so the current one is unambiguous.
CREATE TABLE qualification (
  id                 text PRIMARY KEY,              -- ULID
  market_unit_id     text NOT NULL REFERENCES market_unit(id),
  product_id         text NOT NULL REFERENCES product(id),
  outcome            text NOT NULL CHECK (outcome IN ('QUALIFIED', 'FAILED')),
  valid_from         timestamptz NOT NULL,
  valid_to           timestamptz,
  reference          text,
  notes              text,
  system_operator_id text NOT NULL REFERENCES organisation(id),
  supersedes         text UNIQUE REFERENCES qualification(id),
  recorded_at        timestamptz NOT NULL,
  recorded_by        text NOT NULL,
  CONSTRAINT qualification_period CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX qualification_unit_idx ON qualification (market_unit_id, product_id, id);
CREATE INDEX qualification_product_idx ON qualification (product_id, id);

-- The table of equivalences (UC-04.03): EQUIVALENT is symmetric; SUBSTITUTABLE reads "a unit
-- qualified for product_a may offer product_b". One active entry per pair of products.
CREATE TABLE product_equivalence (
  id           text PRIMARY KEY,                    -- ULID
  product_a    text NOT NULL REFERENCES product(id),
  product_b    text NOT NULL REFERENCES product(id),
  kind         text NOT NULL CHECK (kind IN ('EQUIVALENT', 'SUBSTITUTABLE')),
  notes        text,
  status       text NOT NULL CHECK (status IN ('ACTIVE', 'WITHDRAWN')),
  version      integer NOT NULL DEFAULT 1,
  recorded_at  timestamptz NOT NULL,
  recorded_by  text NOT NULL,
  withdrawn_at timestamptz,
  CONSTRAINT product_equivalence_not_self CHECK (product_a <> product_b)
);
CREATE UNIQUE INDEX product_equivalence_one_per_pair ON product_equivalence (LEAST(product_a, product_b), GREATEST(product_a, product_b)) WHERE status = 'ACTIVE';
CREATE INDEX product_equivalence_a_idx ON product_equivalence (product_a) WHERE status = 'ACTIVE';
CREATE INDEX product_equivalence_b_idx ON product_equivalence (product_b) WHERE status = 'ACTIVE';

-- The catalogue of 2027 (docs/products.md): NESO's response, reserve, constraint and demand
-- products and the ENA common DSO flexibility products. Recorded by the operator through this
-- migration; no owner until the operator records the owning System Operator organisation.
INSERT INTO product (id, name, description, market, service_type, status, valid_from, recorded_at, recorded_by) VALUES
  ('NESO-SFFR', 'Static Firm Frequency Response', 'Pre-fault static frequency response.', 'NESO', 'FREQUENCY_RESPONSE', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('NESO-DC', 'Dynamic Containment', 'Post-fault dynamic frequency response.', 'NESO', 'FREQUENCY_RESPONSE', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('NESO-DM', 'Dynamic Moderation', 'Pre-fault dynamic frequency response for fast frequency changes.', 'NESO', 'FREQUENCY_RESPONSE', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('NESO-DR', 'Dynamic Regulation', 'Pre-fault dynamic frequency response for continuous small deviations.', 'NESO', 'FREQUENCY_RESPONSE', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('NESO-QR', 'Quick Reserve', 'Reserve delivered within minutes of instruction.', 'NESO', 'RESERVE', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('NESO-SR', 'Slow Reserve', 'Reserve delivered within tens of minutes of instruction.', 'NESO', 'RESERVE', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('NESO-BR', 'Balancing Reserve', 'Day-ahead procured reserve capacity for balancing.', 'NESO', 'RESERVE', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('NESO-LCM', 'Local Constraint Market', 'Flexibility to relieve transmission constraints in a local area.', 'NESO', 'CONSTRAINT_MANAGEMENT', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('NESO-MW-DISPATCH', 'MW Dispatch', 'Dispatch of distribution-connected units for transmission constraints.', 'NESO', 'CONSTRAINT_MANAGEMENT', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('NESO-DFS', 'Demand Flexibility Service', 'Demand turn-down or turn-up against a baseline.', 'NESO', 'DEMAND_FLEXIBILITY', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('DSO-SUSTAIN-PEAK', 'Sustain Peak Management', 'ENA common product: scheduled peak reduction agreed ahead of time.', 'DSO', 'CONSTRAINT_MANAGEMENT', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('DSO-SUSTAIN', 'Sustain', 'ENA common product: scheduled utilisation to manage network loading.', 'DSO', 'CONSTRAINT_MANAGEMENT', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('DSO-SECURE', 'Secure', 'ENA common product: availability plus utilisation to manage pre-fault constraints.', 'DSO', 'CONSTRAINT_MANAGEMENT', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('DSO-DYNAMIC', 'Dynamic', 'ENA common product: availability plus utilisation after a network fault.', 'DSO', 'CONSTRAINT_MANAGEMENT', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)'),
  ('DSO-RESTORE', 'Restore', 'ENA common product: support for restoring supply after an outage.', 'DSO', 'CONSTRAINT_MANAGEMENT', 'ACTIVE', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'fmar-operator (migration 013)');
