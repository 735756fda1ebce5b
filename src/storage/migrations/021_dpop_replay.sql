-- DPoP proofs already used at the API (RFC 9449 §11.1), shared by every hub instance on this
-- database: one row per proof, keyed by the SHA-256 of its jti, kept until the proof could no
-- longer be accepted anyway (expires_at), then purged by the provider sweep.
CREATE TABLE dpop_replay (
  jti_hash   text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX dpop_replay_expires_idx ON dpop_replay (expires_at);
