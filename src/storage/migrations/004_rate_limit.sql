-- Abuse limits (src/http/rate-limit.ts owns both tables).
-- Request counts per key (client:<id>, org:<id>) and fixed window, shared by every hub instance.
-- UNLOGGED: a hot, disposable counter; after a crash PostgreSQL empties it and counting restarts.
CREATE UNLOGGED TABLE rate_limit_counter (
  key          text NOT NULL,
  window_start timestamptz NOT NULL,
  window_end   timestamptz NOT NULL,
  count        integer NOT NULL,
  PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limit_counter_window_end_idx ON rate_limit_counter (window_end);

-- Failed client authentications per key, and the lockout they earned. `lockouts` is how many times
-- the key was locked (each lock doubles); the row is forgotten, and the doubling with it, at expires_at.
CREATE TABLE rate_limit_lockout (
  key          text PRIMARY KEY,
  failures     integer NOT NULL,
  window_start timestamptz NOT NULL,
  locked_until timestamptz,
  lockouts     integer NOT NULL,
  expires_at   timestamptz NOT NULL
);
CREATE INDEX rate_limit_lockout_expires_at_idx ON rate_limit_lockout (expires_at);
