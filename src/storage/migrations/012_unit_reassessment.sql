-- A switch that takes one asset out of a multi-asset market unit changes the unit's composition:
-- the unit is flagged Re-assessment Required until its System Operator qualifies it again
-- (UC-02.06 step 6; docs/switching.md).
ALTER TABLE market_unit ADD COLUMN reassessment_required boolean NOT NULL DEFAULT false;
ALTER TABLE market_unit ADD COLUMN reassessment_reason text;
