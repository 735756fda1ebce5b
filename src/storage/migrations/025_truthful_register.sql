-- The register tells the truth (docs/assets.md, docs/consent.md, docs/decisions.md).

-- The consent an asset was registered under (UC-02.01 step 2): what was verified, never the token,
-- as a switch keeps it. One row per asset; a later consent given in an update replaces it (the audit
-- keeps each). A revocation of the consent finds the asset here and suspends it.
CREATE TABLE asset_consent (
  asset_id       text PRIMARY KEY REFERENCES asset(id),
  fsp_id         text NOT NULL REFERENCES organisation(id),   -- the FSP the consent names
  consent        jsonb NOT NULL,                              -- ConsentEvidence (src/consent/port.ts)
  consent_issuer text NOT NULL,
  consent_jti    text NOT NULL,
  token_hash     text NOT NULL,
  recorded_at    timestamptz NOT NULL,
  recorded_by    text NOT NULL
);
CREATE INDEX asset_consent_jti_idx ON asset_consent (consent_issuer, consent_jti);
CREATE INDEX asset_consent_hash_idx ON asset_consent (consent_issuer, token_hash);

-- Submissions by installers and OEMs at the point of installation (UC-02.01 step 1): the asset as
-- submitted, PENDING until the named FSP accepts (the asset is then registered) or rejects it.
CREATE TABLE asset_submission (
  id               text PRIMARY KEY,
  submitter_id     text NOT NULL REFERENCES organisation(id),
  fsp_id           text NOT NULL REFERENCES organisation(id),
  status           text NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'REJECTED')),
  input            jsonb NOT NULL,
  asset_id         text REFERENCES asset(id),
  reason           text,
  submitted_at     timestamptz NOT NULL,
  submitted_by     text NOT NULL,
  decided_at       timestamptz,
  decided_by       text,
  CONSTRAINT asset_submission_decided CHECK ((status = 'PENDING') = (decided_at IS NULL)),
  CONSTRAINT asset_submission_accepted CHECK ((status = 'ACCEPTED') = (asset_id IS NOT NULL))
);
CREATE INDEX asset_submission_fsp_idx ON asset_submission (fsp_id, status, id);
CREATE INDEX asset_submission_submitter_idx ON asset_submission (submitter_id, status, id);

-- An asset registered without a consent reference is told so (an advisory, weight 0: assets
-- registered before consent was checked lose no score for what the register never asked).
INSERT INTO dq_rule (code, description, severity, weight, applies_to, kind, definition, recorded_at, recorded_by) VALUES
  ('DQ-CONSENT-REFERENCE', 'The consumer’s consent is recorded (a consentReference verified at registration or in an update).', 'INFO', 0, '{}', 'field', 'required(consentReference)', now(), 'migration');
