-- Audit access (UC-05.06): keyset-paginated queries of the trail by organisation, actor, action and
-- time, each in id order (the cursor), so that a filtered page is an index range scan.
CREATE INDEX audit_log_organisation_idx ON audit_log (organisation_id, id) WHERE organisation_id IS NOT NULL;
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at, id);
CREATE INDEX audit_log_actor_sub_idx ON audit_log ((actor->>'sub'), id);
CREATE INDEX audit_log_actor_client_idx ON audit_log ((actor->>'client_id'), id) WHERE actor ? 'client_id';
CREATE INDEX audit_log_actor_act_idx ON audit_log ((actor->'act'->>'sub'), id) WHERE actor ? 'act';

-- Public analytics (UC-05.02): the only view of the asset register the analytics module reads.
-- Registered (not de-registered) assets, with the dimensions that may be published and the
-- controlling FSP (for the dominance rule) — no ID, name, MPAN, serial, postcode or coordinates,
-- so no query of the analytics module can return an individual asset.
CREATE VIEW analytics_registered_asset AS
SELECT dno,
       location->>'gspGroup' AS gsp_group,
       category,
       status,
       fsp_id,
       rated_capacity_kw,
       COALESCE(generation_capacity_kw, 0) AS generation_capacity_kw,
       COALESCE(demand_capacity_kw, 0) AS demand_capacity_kw
  FROM asset
 WHERE deregistered_at IS NULL;
