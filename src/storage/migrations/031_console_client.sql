-- The console (docs/console.md): a public client of the hub's own OpenID provider (authorization
-- code + PKCE, no secret). It belongs to no organisation: people of every organisation sign in
-- through it, and their tokens name their own organisation. Its redirect URIs and scopes are set at
-- each start from FMAR_BASE_URL and the permission matrix (ensureConsoleClient,
-- src/identity/clients.ts): a migration cannot know the hub's public URL.
ALTER TABLE api_client ALTER COLUMN organisation_id DROP NOT NULL;
ALTER TABLE api_client ADD CONSTRAINT api_client_organisation CHECK (organisation_id IS NOT NULL OR client_id = 'fmar-console');
INSERT INTO api_client (client_id, organisation_id, name, kind, auth_method, scopes, grant_types, redirect_uris, status, recorded_at, recorded_by)
VALUES ('fmar-console', NULL, 'FMAR console', 'web', 'none', '{}', '{authorization_code,refresh_token}', '{}', 'ACTIVE', now(), 'migration')
ON CONFLICT (client_id) DO NOTHING;
