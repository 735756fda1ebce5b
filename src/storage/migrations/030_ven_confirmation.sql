-- VEN registrations a dispatch platform can trust (docs/openadr.md, "Confirmation by the VTN's
-- operator"). A registration on a VTN whose operator is a registered dispatch platform (an ACTIVE
-- organisation with the SYSTEM_OPERATOR or INDEPENDENT_MARKET_PLATFORM role) is UNCONFIRMED until
-- that operator confirms it, or CONFIRMED at once when the operator records it itself; the operator
-- may reject it with a reason (REJECTED, and the registration is cancelled). On any other VTN a
-- registration is SELF_DECLARED, as every registration was before this migration.
ALTER TABLE ven_registration
  ADD COLUMN confirmation text NOT NULL DEFAULT 'SELF_DECLARED'
    CONSTRAINT ven_registration_confirmation CHECK (confirmation IN ('SELF_DECLARED', 'UNCONFIRMED', 'CONFIRMED', 'REJECTED')),
  ADD COLUMN confirmation_reason text,
  ADD COLUMN confirmation_at timestamptz;

-- Live registrations recorded before confirmation existed, on a VTN run by a registered dispatch
-- platform, await its confirmation: nobody confirmed them.
UPDATE ven_registration r SET confirmation = 'UNCONFIRMED'
  FROM openadr_vtn v JOIN organisation o ON o.id = v.operator_id
 WHERE v.id = r.vtn AND r.status <> 'CANCELLED' AND o.status = 'ACTIVE'
   AND o.roles && ARRAY['SYSTEM_OPERATOR', 'INDEPENDENT_MARKET_PLATFORM']::text[];

-- "Confirmed registrations only" (resolution) and the operator's queue of unconfirmed ones.
CREATE INDEX ven_registration_confirmation_idx ON ven_registration (vtn, confirmation) WHERE status <> 'CANCELLED';

-- A 2.0b answer with a non-2xx responseCode is the VTN's refusal, never a live registration:
-- those recorded before import checked it are refused (and so cancelled, releasing their VEN IDs).
UPDATE ven_registration
   SET status = 'CANCELLED', confirmation = 'REJECTED', confirmation_at = recorded_at,
       confirmation_reason = 'the VTN refused it (2.0b responseCode ' || (details->>'responseCode') || ')'
 WHERE protocol = '2.0b' AND status <> 'CANCELLED'
   AND details->>'responseCode' IS NOT NULL AND details->>'responseCode' !~ '^2[0-9][0-9]$';
