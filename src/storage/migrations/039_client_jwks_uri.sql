-- A private_key_jwt client may publish its keys at a URL instead of giving them (docs/identity.md,
-- "Keys at a URL"): jwks_uri, fetched by the OpenID provider. Such a client has exactly one of the two.
ALTER TABLE api_client ADD COLUMN jwks_uri text;
ALTER TABLE api_client DROP CONSTRAINT api_client_credential;
ALTER TABLE api_client ADD CONSTRAINT api_client_credential CHECK (
  (auth_method = 'private_key_jwt' AND (jwks IS NOT NULL) <> (jwks_uri IS NOT NULL)) OR
  (auth_method IN ('client_secret_basic', 'client_secret_post') AND secret_hash IS NOT NULL AND jwks_uri IS NULL) OR
  (auth_method = 'none' AND jwks_uri IS NULL));
