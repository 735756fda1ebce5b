-- An Embedded Capacity Register reference is unique within one DNO's register (DCUSA Schedule 31),
-- not nationally: ECR alias rows carry the asset's DNO as their register and are unique per register.
ALTER TABLE asset_alias ADD COLUMN register text;
UPDATE asset_alias al SET register = a.dno FROM asset a WHERE al.scheme = 'ecr' AND a.id = al.asset_id;
DROP INDEX asset_alias_unique_national;
CREATE UNIQUE INDEX asset_alias_unique_national ON asset_alias (scheme, value) WHERE active AND scheme = 'evse';
CREATE UNIQUE INDEX asset_alias_unique_ecr ON asset_alias (register, value) WHERE active AND scheme = 'ecr';

-- Public analytics are published as dated snapshots (docs/analytics.md): one row per UTC day, taken
-- at the first request of that day and never changed, holding the released finest contributions
-- (cell × controlling FSP) the day's tables are computed from. Owned by src/analytics.
CREATE TABLE analytics_snapshot (
  snapshot_date date PRIMARY KEY,
  taken_at      timestamptz NOT NULL,
  contributions jsonb NOT NULL
);

-- Reads of private data name every organisation whose data was served in detail.organisations
-- (src/audit/reads.ts); an organisation lists the reads of its data through this index.
CREATE INDEX audit_log_private_read_orgs ON audit_log USING gin ((detail->'organisations'))
  WHERE action IN ('asset.read', 'organisation.passport-read', 'switch.consent-read');
