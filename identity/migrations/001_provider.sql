-- The identity library's own tables: the OpenID provider's signing keys and cookie secrets, its
-- stored models, and DPoP replay detection. Every statement is idempotent: hub databases created
-- before the library kept its own migrations already have these tables (the hub's released
-- migrations 001, 003 and 021 made them), and there this migration changes nothing; a database
-- that only the library uses gets them from here.

-- Keys the provider signs with (purpose 'oidc'), cookie secrets (purpose 'cookie') and the
-- development signer's keys. A key is kept for verification until every token it signed has expired.
CREATE TABLE IF NOT EXISTS signing_key (
  kid         text PRIMARY KEY,
  purpose     text NOT NULL,
  alg         text NOT NULL,
  private_jwk jsonb NOT NULL,
  public_jwk  jsonb NOT NULL,
  created_at  timestamptz NOT NULL,
  retired_at  timestamptz
);
ALTER TABLE signing_key ADD COLUMN IF NOT EXISTS expires_at timestamptz;

-- oidc-provider's models (sessions, grants, codes, refresh tokens, opaque access tokens, replay
-- detection of client assertion jti, interactions). Clients are not stored here: the host finds
-- them (IdentityHost.findClient).
CREATE TABLE IF NOT EXISTS oidc_payload (
  model       text NOT NULL,
  id          text NOT NULL,
  payload     jsonb NOT NULL,
  grant_id    text,
  uid         text,
  user_code   text,
  account_id  text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, id)
);
CREATE INDEX IF NOT EXISTS oidc_payload_grant_idx ON oidc_payload (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_payload_uid_idx ON oidc_payload (uid) WHERE uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS oidc_payload_expires_idx ON oidc_payload (expires_at);
CREATE INDEX IF NOT EXISTS oidc_payload_account_idx ON oidc_payload (model, account_id) WHERE account_id IS NOT NULL;

-- DPoP proofs already used (RFC 9449 §11.1), shared by every instance on this database: one row per
-- proof, keyed by the SHA-256 of its jti, kept until the proof could no longer be accepted anyway.
CREATE TABLE IF NOT EXISTS dpop_replay (
  jti_hash   text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS dpop_replay_expires_idx ON dpop_replay (expires_at);
