-- A person in several organisations (docs/identity.md, "A person in several organisations"): the
-- person's first row is their home (email, password, sign-in); each further organisation that adds
-- them holds a membership row naming the home row in person_id, with that organisation's user role
-- and no password of its own. Every row stays one organisation's person (tokens, scopes, audit).
ALTER TABLE app_user ADD COLUMN person_id text;
DROP INDEX app_user_email_key;
CREATE UNIQUE INDEX app_user_email_key ON app_user (lower(email)) WHERE person_id IS NULL;
CREATE UNIQUE INDEX app_user_email_organisation_key ON app_user (lower(email), organisation_id);
CREATE INDEX app_user_person_idx ON app_user (person_id) WHERE person_id IS NOT NULL;
