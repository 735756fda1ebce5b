-- OpenADR 3.1 resources: which of its organisation's assets a VEN registration stands for. A VEN
-- without any live binding stands for every asset its organisation controls. See docs/openadr.md.

-- Target of the bindings' (registration, vtn) foreign key: a binding's VTN is its registration's.
ALTER TABLE ven_registration ADD CONSTRAINT ven_registration_vtn_key UNIQUE (id, vtn);

CREATE TABLE ven_resource (
  id              text PRIMARY KEY,                    -- ULID of the binding; the 3.1 object ID is <venID>_<assetID>
  registration_id text NOT NULL,
  vtn             text NOT NULL,
  asset_id        text NOT NULL REFERENCES asset(id),
  resource_name   text NOT NULL,                       -- default the asset ID
  targets         text[] NOT NULL DEFAULT '{}',        -- set by BL, beside the derived DNO:/GSP_GROUP: targets
  attributes      jsonb NOT NULL DEFAULT '[]',         -- further valuesMap attributes; the register's own come from the asset
  created_at      timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL,
  recorded_by     text NOT NULL,
  deleted_at      timestamptz,                         -- the binding was removed (the asset stays registered)
  CONSTRAINT ven_resource_registration_fkey FOREIGN KEY (registration_id, vtn) REFERENCES ven_registration (id, vtn)
);
-- An asset is a resource of at most one VEN per VTN.
CREATE UNIQUE INDEX ven_resource_asset_key ON ven_resource (vtn, asset_id) WHERE deleted_at IS NULL;
-- OpenADR: a resourceName is unique among the resources of a VEN.
CREATE UNIQUE INDEX ven_resource_name_key ON ven_resource (registration_id, resource_name) WHERE deleted_at IS NULL;
CREATE INDEX ven_resource_registration_idx ON ven_resource (registration_id, asset_id) WHERE deleted_at IS NULL;
