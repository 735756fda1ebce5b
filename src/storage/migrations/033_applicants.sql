-- Self-service onboarding (UC-01.01, UC-01.02; docs/organisations.md, "Self-service onboarding"): a
-- person registers as an applicant before their organisation exists, submits the organisation
-- (registered PENDING_APPROVAL), and becomes its first ADMIN (an app_user) when the operator
-- approves it; a rejection keeps the operator's reason for the applicant to read. The applicant
-- reaches their application with a token shown once (only its SHA-256 is stored).
CREATE TABLE applicant (
  id               text PRIMARY KEY,
  email            text NOT NULL,
  name             text NOT NULL,
  password_hash    text NOT NULL,
  token_hash       text NOT NULL,
  organisation_id  text REFERENCES organisation(id),
  status           text NOT NULL CHECK (status IN ('REGISTERED', 'SUBMITTED', 'APPROVED', 'REJECTED')),
  decision_reason  text,
  decided_at       timestamptz,
  company_check    jsonb,                     -- the companies register's answer at submission, for the operator
  user_id          text REFERENCES app_user(id),
  version          integer NOT NULL DEFAULT 1,
  recorded_at      timestamptz NOT NULL,
  recorded_by      text NOT NULL,
  CONSTRAINT applicant_submitted CHECK ((status = 'REGISTERED') = (organisation_id IS NULL)),
  CONSTRAINT applicant_approved CHECK ((status = 'APPROVED') = (user_id IS NOT NULL))
);
CREATE UNIQUE INDEX applicant_email_key ON applicant (lower(email));
CREATE UNIQUE INDEX applicant_token_key ON applicant (token_hash);
CREATE UNIQUE INDEX applicant_organisation_key ON applicant (organisation_id) WHERE organisation_id IS NOT NULL;
