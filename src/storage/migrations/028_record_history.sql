-- One history table for every versioned record (src/kernel/versioned.ts writes it): the prior
-- versions of organisations, assets, market units, products, catalogue codes, data-quality rules
-- and disputes, each the wire shape of the superseded version. record_type is the audit trail's
-- record type; record_id is the record's ID (a catalogue code: catalogue || '/' || code, the ID
-- its audit records carry). No foreign key: one table serves every record type.
CREATE TABLE record_history (
  record_type   text NOT NULL,
  record_id     text NOT NULL,
  version       integer NOT NULL,
  data          jsonb NOT NULL,
  recorded_at   timestamptz NOT NULL,
  recorded_by   text NOT NULL,
  superseded_at timestamptz NOT NULL,
  PRIMARY KEY (record_type, record_id, version)
);

INSERT INTO record_history (record_type, record_id, version, data, recorded_at, recorded_by, superseded_at)
  SELECT 'organisation', organisation_id, version, data, recorded_at, recorded_by, superseded_at FROM organisation_history
  UNION ALL SELECT 'asset', asset_id, version, data, recorded_at, recorded_by, superseded_at FROM asset_history
  UNION ALL SELECT 'market_unit', market_unit_id, version, data, recorded_at, recorded_by, superseded_at FROM market_unit_history
  UNION ALL SELECT 'product', product_id, version, data, recorded_at, recorded_by, superseded_at FROM product_history
  UNION ALL SELECT 'catalogue_code', catalogue || '/' || code, version, data, recorded_at, recorded_by, superseded_at FROM catalogue_code_history
  UNION ALL SELECT 'data_quality_rule', code, version, data, recorded_at, recorded_by, superseded_at FROM dq_rule_history
  UNION ALL SELECT 'dispute', dispute_id, version, data, recorded_at, recorded_by, superseded_at FROM dispute_history;

DROP TABLE organisation_history, asset_history, market_unit_history, product_history, catalogue_code_history, dq_rule_history, dispute_history;
