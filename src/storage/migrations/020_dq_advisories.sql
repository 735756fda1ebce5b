-- INFO-severity results are advisories: counted on the asset's score row, not kept as finding rows.
-- A register of 100M assets would otherwise hold one or two advisory rows per asset, each with four
-- index entries (≈1 KB per asset, docs/scaling.md), written in every registration's transaction
-- (docs/performance.md, "Data quality"). Scores and scorecards count them as before; the asset's
-- findings read lists them (docs/data-quality.md, "Findings and advisories").
ALTER TABLE dq_asset_score ADD COLUMN advisories text[] NOT NULL DEFAULT '{}';

-- Open INFO findings move onto their asset's score row; their rows go (they were live, not history:
-- resolved findings of any severity stay).
UPDATE dq_asset_score s SET advisories = f.codes
  FROM (SELECT asset_id, array_agg(rule_code ORDER BY rule_code) AS codes FROM dq_finding
         WHERE resolved_at IS NULL AND severity = 'INFO' GROUP BY asset_id) f
 WHERE f.asset_id = s.asset_id;
DELETE FROM dq_finding WHERE resolved_at IS NULL AND severity = 'INFO';
