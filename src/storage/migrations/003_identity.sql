-- Identity: the hub's own OAuth 2 / OpenID provider (identity/), its API clients, people and
-- delegations. See docs/identity.md.

-- Signing keys are kept for verification until every token they signed has expired.
ALTER TABLE signing_key ADD COLUMN expires_at timestamptz;

-- API clients an organisation registers (machine clients, and web/native apps for people).
-- Secrets are stored as a SHA-256 hash of a 256-bit random value (shown once); JWKS clients
-- authenticate with private_key_jwt.
CREATE TABLE api_client (
  client_id          text PRIMARY KEY,
  organisation_id    text NOT NULL REFERENCES organisation(id),
  name               text NOT NULL,
  kind               text NOT NULL CHECK (kind IN ('machine', 'web', 'native')),
  auth_method        text NOT NULL CHECK (auth_method IN ('private_key_jwt', 'client_secret_basic', 'client_secret_post', 'none')),
  jwks               jsonb,
  secret_hash        text,
  credential_expires_at timestamptz,
  expiry_notified_at timestamptz,
  scopes             text[] NOT NULL,
  grant_types        text[] NOT NULL,
  redirect_uris      text[] NOT NULL DEFAULT '{}',
  status             text NOT NULL CHECK (status IN ('ACTIVE', 'REVOKED')),
  demo               boolean NOT NULL DEFAULT false,
  version            integer NOT NULL DEFAULT 1,
  recorded_at        timestamptz NOT NULL,
  recorded_by        text NOT NULL,
  revoked_at         timestamptz,
  CONSTRAINT api_client_credential CHECK (
    (auth_method = 'private_key_jwt' AND jwks IS NOT NULL) OR
    (auth_method IN ('client_secret_basic', 'client_secret_post') AND secret_hash IS NOT NULL) OR
    (auth_method = 'none'))
);
CREATE INDEX api_client_organisation_idx ON api_client (organisation_id);

-- People. A user belongs to one organisation; user_role is what they may do within it.
CREATE TABLE app_user (
  id                  text PRIMARY KEY,
  organisation_id     text NOT NULL REFERENCES organisation(id),
  email               text NOT NULL,
  name                text NOT NULL,
  user_role           text NOT NULL CHECK (user_role IN ('ADMIN', 'MEMBER', 'VIEWER')),
  status              text NOT NULL CHECK (status IN ('INVITED', 'ACTIVE', 'DEACTIVATED')),
  password_hash       text,
  invitation_hash     text,
  invitation_expires_at timestamptz,
  failed_logins       integer NOT NULL DEFAULT 0,
  locked_until        timestamptz,
  version             integer NOT NULL DEFAULT 1,
  recorded_at         timestamptz NOT NULL,
  recorded_by         text NOT NULL,
  deactivated_at      timestamptz
);
CREATE UNIQUE INDEX app_user_email_key ON app_user (lower(email));
CREATE INDEX app_user_organisation_idx ON app_user (organisation_id);
CREATE UNIQUE INDEX app_user_invitation_key ON app_user (invitation_hash) WHERE invitation_hash IS NOT NULL;

-- Delegations (UC-05.04): the delegator (an FSP) lets the delegate act for it with a subset of
-- its scopes, optionally only on some assets, for a bounded time.
CREATE TABLE delegation (
  id             text PRIMARY KEY,
  delegator_id   text NOT NULL REFERENCES organisation(id),
  delegate_id    text NOT NULL REFERENCES organisation(id),
  scopes         text[] NOT NULL CHECK (cardinality(scopes) > 0),
  asset_ids      text[],
  valid_from     timestamptz NOT NULL,
  valid_to       timestamptz NOT NULL,
  status         text NOT NULL CHECK (status IN ('ACTIVE', 'REVOKED')),
  reason         text,
  recorded_at    timestamptz NOT NULL,
  recorded_by    text NOT NULL,
  revoked_at     timestamptz,
  revoked_by     text,
  CONSTRAINT delegation_period CHECK (valid_to > valid_from),
  CONSTRAINT delegation_parties CHECK (delegator_id <> delegate_id)
);
CREATE INDEX delegation_delegate_idx ON delegation (delegate_id);
CREATE INDEX delegation_delegator_idx ON delegation (delegator_id);

-- oidc-provider's models (sessions, grants, codes, refresh tokens, opaque access tokens, replay
-- detection of client assertion jti, interactions). Clients are not stored here: they come from
-- api_client. Expired rows are swept by the Node entry.
CREATE TABLE oidc_payload (
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
CREATE INDEX oidc_payload_grant_idx ON oidc_payload (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_payload_uid_idx ON oidc_payload (uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_payload_expires_idx ON oidc_payload (expires_at);
CREATE INDEX oidc_payload_account_idx ON oidc_payload (model, account_id) WHERE account_id IS NOT NULL;
