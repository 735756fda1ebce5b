-- The open (current) FSP link lives on the asset row; asset_fsp_link keeps the closed periods.
-- Registration then writes no link row: the GiST exclusion index on asset_fsp_link was the largest
-- single cost of bulk registration (docs/performance.md). The guarantee is unchanged: closed
-- periods never overlap (the exclusion constraint stays on them), and the open period starts where
-- the last closed one ends, because the only writers (switch, de-registration) close it at the same
-- instant as they open the next (src/assets/service.ts, src/switching/switches.ts).
ALTER TABLE asset ADD COLUMN fsp_since timestamptz;              -- start of the open link; NULL once de-registered
ALTER TABLE asset ADD COLUMN fsp_since_recorded_at timestamptz;  -- when the open link was recorded
ALTER TABLE asset ADD COLUMN fsp_since_recorded_by text;         -- who recorded it

UPDATE asset a SET fsp_since = lower(l.valid), fsp_since_recorded_at = l.recorded_at, fsp_since_recorded_by = l.recorded_by
  FROM asset_fsp_link l WHERE l.asset_id = a.id AND upper_inf(l.valid);
DELETE FROM asset_fsp_link WHERE upper_inf(valid);
ALTER TABLE asset_fsp_link ADD CONSTRAINT asset_fsp_link_closed CHECK (NOT upper_inf(valid));
ALTER TABLE asset ADD CONSTRAINT asset_fsp_since_open CHECK (fsp_since IS NULL OR deregistered_at IS NULL);
