-- Consumer consent (UC-05.05): single use of consents, and the revocations the hub has recorded.
-- Owned by src/consent/ (binding.ts, revocation.ts). See docs/consent.md.

-- Each consent (a token's jti, or a reference's consent ID) is used by one request. The same
-- consent again with the same request_key is a retry of that request and is accepted; any other
-- reuse is refused (CONSENT-REPLAYED). A row can go once expires_at has passed: the token is
-- refused as expired by then. NULL keeps it (a reference consent with no end).
CREATE TABLE consent_replay (
  issuer      text NOT NULL,
  jti         text NOT NULL,
  request_key text NOT NULL,
  token_hash  text NOT NULL,                        -- base64url SHA-256 of the consent as presented
  method      text NOT NULL CHECK (method IN ('jwt', 'reference')),
  first_seen  timestamptz NOT NULL,
  expires_at  timestamptz,
  PRIMARY KEY (issuer, jti)
);
CREATE INDEX consent_replay_expiry_idx ON consent_replay (expires_at) WHERE expires_at IS NOT NULL;

-- A consent the consumer withdrew, named by its jti, by the hash of the token, or both. Recording
-- one is idempotent (the unique indexes); a recorded revocation refuses the consent (CONSENT-REVOKED).
CREATE TABLE consent_revocation (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  issuer      text NOT NULL,
  jti         text,
  token_hash  text,
  revoked_at  timestamptz NOT NULL,
  reason      text,
  source      text NOT NULL CHECK (source IN ('notice', 'operator', 'status-list', 'reference')),
  recorded_at timestamptz NOT NULL,
  recorded_by text NOT NULL,
  CONSTRAINT consent_revocation_subject CHECK (jti IS NOT NULL OR token_hash IS NOT NULL)
);
CREATE UNIQUE INDEX consent_revocation_jti_key ON consent_revocation (issuer, jti) WHERE jti IS NOT NULL;
CREATE UNIQUE INDEX consent_revocation_hash_key ON consent_revocation (issuer, token_hash) WHERE token_hash IS NOT NULL;
