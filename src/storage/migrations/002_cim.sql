-- CIM exchange: network references a DSO's CIM model gives an asset (enrich import). One row per
-- asset and source organisation; a later import from the same DSO replaces it. The DSO's equipment
-- mRID is also kept as a `cim_mrid` alias on the asset.
CREATE TABLE cim_network_ref (
  asset_id               text NOT NULL REFERENCES asset(id),
  source_organisation_id text NOT NULL,
  equipment_mrid         text NOT NULL,
  connectivity_node_mrid text,
  substation_mrid        text,
  feeder_mrid            text,
  source_files           jsonb NOT NULL DEFAULT '[]'::jsonb,
  recorded_at            timestamptz NOT NULL,
  recorded_by            text NOT NULL,
  PRIMARY KEY (asset_id, source_organisation_id)
);
CREATE INDEX cim_network_ref_substation_idx ON cim_network_ref (substation_mrid);
