-- A due switch that cannot be applied (its effective time before the asset's current FSP link
-- started, or a data error while moving the link) is closed as FAILED with the reason, so that
-- the switches due after it still take effect.
ALTER TABLE asset_switch DROP CONSTRAINT asset_switch_status_check;
ALTER TABLE asset_switch ADD CONSTRAINT asset_switch_status_check
  CHECK (status IN ('REQUESTED', 'PENDING', 'EFFECTIVE', 'REJECTED', 'CANCELLED', 'WITHDRAWN', 'FAILED'));
