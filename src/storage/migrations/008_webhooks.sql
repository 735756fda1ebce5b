-- Events for everyone: who receives each event (the recipients policy), webhook subscriptions and
-- their deliveries. All written in the change's transaction by writeEvents (src/events/outbox.ts).
-- See docs/events.md.

-- The organisations an event is for, and why (src/events/recipients.ts). One row per organisation
-- and event; the pull feed of an organisation that does not see every event reads this index.
CREATE TABLE event_recipient (
  organisation_id text NOT NULL,
  event_id        text NOT NULL REFERENCES event_outbox(id),
  reasons         text[] NOT NULL CHECK (cardinality(reasons) > 0),
  PRIMARY KEY (organisation_id, event_id)
);
CREATE INDEX event_recipient_event_idx ON event_recipient (event_id);

-- Events written before this migration were for the organisation they named.
INSERT INTO event_recipient (organisation_id, event_id, reasons)
SELECT organisation_id, id, ARRAY['record-organisation'] FROM event_outbox WHERE organisation_id IS NOT NULL;

-- The DNO rule of the policy looks organisations up by licence area.
CREATE INDEX organisation_dno_codes_idx ON organisation USING gin (dno_codes);

-- A webhook subscription of an organisation. The signing secret is kept as issued (the hub signs
-- with it, so a hash would not do); it is returned once, at creation and rotation.
CREATE TABLE webhook_subscription (
  id                         text PRIMARY KEY,                 -- ULID
  organisation_id            text NOT NULL REFERENCES organisation(id),
  url                        text NOT NULL,
  description                text,
  event_types                text[] NOT NULL CHECK (cardinality(event_types) > 0),
  all_events                 boolean NOT NULL DEFAULT false,   -- every event, for roles that see every event
  enabled                    boolean NOT NULL DEFAULT true,
  disabled_reason            text,
  secret                     text NOT NULL,
  previous_secret            text,
  previous_secret_expires_at timestamptz,
  version                    integer NOT NULL DEFAULT 1,
  created_at                 timestamptz NOT NULL,
  recorded_at                timestamptz NOT NULL,
  recorded_by                text NOT NULL
);
CREATE INDEX webhook_subscription_org_idx ON webhook_subscription (organisation_id, id);

-- One delivery per (subscription, event), created with the event. PENDING rows are due at
-- next_attempt_at; a worker that claims one moves next_attempt_at to the end of its lease, so a
-- delivery whose worker died becomes due again. DEAD rows are the dead letters.
CREATE TABLE webhook_delivery (
  subscription_id text NOT NULL REFERENCES webhook_subscription(id) ON DELETE CASCADE,
  event_id        text NOT NULL REFERENCES event_outbox(id),
  status          text NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  scheduled_at    timestamptz NOT NULL,                       -- start of this cycle (creation or replay): the age bound counts from it
  last_attempt_at timestamptz,
  last_status     integer,
  last_error      text,
  delivered_at    timestamptz,
  dead_at         timestamptz,
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (subscription_id, event_id)
);
CREATE INDEX webhook_delivery_due_idx ON webhook_delivery (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX webhook_delivery_open_idx ON webhook_delivery (subscription_id, status, event_id) WHERE status <> 'DELIVERED';
CREATE INDEX webhook_delivery_delivered_idx ON webhook_delivery (delivered_at) WHERE status = 'DELIVERED';
