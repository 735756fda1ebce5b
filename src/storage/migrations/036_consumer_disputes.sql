-- A household raises disputes about its asset's data (docs/consumers.md). It is no organisation:
-- its dispute names it by its pseudonym (`consumer:…`, the subject of its token) instead, and so do
-- its comments. Exactly one of the two names the raiser or author.
ALTER TABLE dispute ALTER COLUMN raised_by_org DROP NOT NULL;
ALTER TABLE dispute ADD COLUMN raised_by_consumer text;
ALTER TABLE dispute ADD CONSTRAINT dispute_raiser CHECK ((raised_by_org IS NULL) <> (raised_by_consumer IS NULL));
-- One open dispute per household, record and set of fields, as dispute_one_open is per organisation.
CREATE UNIQUE INDEX dispute_one_open_consumer ON dispute (raised_by_consumer, record_type, record_id, fields)
  WHERE raised_by_consumer IS NOT NULL AND status IN ('OPEN', 'UNDER_REVIEW');
CREATE INDEX dispute_consumer_idx ON dispute (raised_by_consumer, id) WHERE raised_by_consumer IS NOT NULL;

ALTER TABLE dispute_comment ALTER COLUMN organisation_id DROP NOT NULL;
ALTER TABLE dispute_comment ADD COLUMN consumer text;
ALTER TABLE dispute_comment ADD CONSTRAINT dispute_comment_author CHECK ((organisation_id IS NULL) <> (consumer IS NULL));
