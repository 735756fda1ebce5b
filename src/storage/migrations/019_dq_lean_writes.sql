-- Data quality rows are written only by src/quality, in the transaction of the change that
-- evaluated them, for assets that exist (assets are never deleted, only de-registered) and rules
-- that exist (rules are never deleted, only deactivated). Their foreign keys checked what the code
-- already guarantees, at ~4 checks per registered asset on the bulk path (docs/performance.md,
-- "Data quality"), so they go, as the catalogue codes have none (docs/catalogues.md).
ALTER TABLE dq_asset_score DROP CONSTRAINT dq_asset_score_asset_id_fkey;
ALTER TABLE dq_finding DROP CONSTRAINT dq_finding_asset_id_fkey;
ALTER TABLE dq_finding DROP CONSTRAINT dq_finding_rule_code_fkey;
