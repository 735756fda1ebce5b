-- The energy conversion type of Elexon's FMAR asset data definitions v1.1 (EnergyConversionType,
-- "Asset Registration — Extended"), which the draft names without a definition or a code list:
-- how the asset meets the network, as a catalogue the operator can extend (docs/decisions.md,
-- "Data items compared with Elexon's definitions"). Optional on every asset.
ALTER TABLE asset ADD COLUMN energy_conversion_type text;

INSERT INTO catalogue (name, title, description, policy, code_pattern, used_by) VALUES
  ('energy-conversion-types', 'Energy conversion types', 'How the asset converts energy at its connection to the network (its grid interface).', 'extensible', '^[A-Z][A-Z0-9_]{1,39}$', ARRAY['asset.energyConversionType']);

INSERT INTO catalogue_code (catalogue, code, label, description, active, attributes, recorded_at, recorded_by)
SELECT x.catalogue, x.code, x.label, x.description, true, '{}'::jsonb, '2026-12-07T00:00:00Z'::timestamptz, 'migration:033'
  FROM (VALUES
  ('energy-conversion-types', 'INVERTER', 'Power electronic converter (inverter)', 'Connected through power electronics: PV, batteries, fuel cells, V2G chargers, full-converter wind turbines (CIM PowerElectronicsConnection).'),
  ('energy-conversion-types', 'SYNCHRONOUS_MACHINE', 'Synchronous machine', 'A rotating synchronous generator: engines and turbines of CHP, gas and diesel sets, most hydro (CIM SynchronousMachine).'),
  ('energy-conversion-types', 'ASYNCHRONOUS_MACHINE', 'Asynchronous (induction) machine', 'A rotating induction machine connected directly: some wind turbines and small hydro (CIM AsynchronousMachine).'),
  ('energy-conversion-types', 'DIRECT_LOAD', 'Direct load', 'Electricity consumed without conversion back to the network: resistive, motor or compressor loads such as heat pumps, boilers, HVAC (CIM EnergyConsumer).'),
  ('energy-conversion-types', 'OTHER', 'Other', 'None of the above.')
  ) AS x(catalogue, code, label, description);
