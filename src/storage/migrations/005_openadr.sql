-- OpenADR: the VTNs (dispatch platforms) the register knows and the VEN registrations of
-- organisations on them, keyed by (protocol, VTN, VEN ID). See docs/openadr.md.

-- A VTN record. OpenADR 2.0b names a VTN by its vtnID; 3.x has no vtnID, a VTN is known by its
-- base URL. `code` is the short namespace of the VTN's object IDs (Elexon's draft: SPEN-<uuid>).
CREATE TABLE openadr_vtn (
  id           text PRIMARY KEY,                       -- ULID
  code         text NOT NULL,
  name         text NOT NULL,
  operator_id  text NOT NULL REFERENCES organisation(id),
  protocol     text NOT NULL CHECK (protocol IN ('2.0b', '3.0', '3.1')),
  vtn_id       text,
  base_url     text,
  status       text NOT NULL CHECK (status IN ('ACTIVE', 'RETIRED')),
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL,
  recorded_at  timestamptz NOT NULL,
  recorded_by  text NOT NULL,
  CONSTRAINT openadr_vtn_reference CHECK (
    (protocol = '2.0b' AND vtn_id IS NOT NULL) OR (protocol <> '2.0b' AND vtn_id IS NULL AND base_url IS NOT NULL)),
  -- Target of the registrations' (vtn, protocol) foreign key: a registration's protocol is its VTN's.
  CONSTRAINT openadr_vtn_protocol_key UNIQUE (id, protocol)
);
CREATE UNIQUE INDEX openadr_vtn_code_key ON openadr_vtn (upper(code));
CREATE UNIQUE INDEX openadr_vtn_vtn_id_key ON openadr_vtn (vtn_id) WHERE vtn_id IS NOT NULL;
CREATE UNIQUE INDEX openadr_vtn_base_url_key ON openadr_vtn (base_url) WHERE base_url IS NOT NULL;
CREATE INDEX openadr_vtn_operator_idx ON openadr_vtn (operator_id);

-- A VEN registration: organisation O holds VEN ID V on VTN T (protocol P). A cancelled
-- registration is kept (audit, history) and releases its VEN ID and venName on that VTN.
CREATE TABLE ven_registration (
  id              text PRIMARY KEY,                    -- ULID; also the object ID in the OpenADR 3.1 view
  organisation_id text NOT NULL REFERENCES organisation(id),
  vtn             text NOT NULL,
  protocol        text NOT NULL,
  ven_id          text NOT NULL,                       -- assigned by the VTN
  ven_name        text NOT NULL,
  client_id       text,                                -- OpenADR 3.x clientID, where there is one
  registration_id text,                                -- OpenADR 2.0b registrationID
  targets         text[] NOT NULL DEFAULT '{}',
  attributes      jsonb NOT NULL DEFAULT '[]',         -- further valuesMap attributes written through OpenADR 3.1
  details         jsonb NOT NULL DEFAULT '{}',         -- 2.0b: profiles, poll frequency as imported
  status          text NOT NULL CHECK (status IN ('ACTIVE', 'SUSPENDED', 'CANCELLED')),
  valid_from      timestamptz NOT NULL,
  valid_to        timestamptz,
  version         integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL,
  recorded_by     text NOT NULL,
  CONSTRAINT ven_registration_vtn_fkey FOREIGN KEY (vtn, protocol) REFERENCES openadr_vtn (id, protocol),
  CONSTRAINT ven_registration_validity CHECK (valid_to IS NULL OR valid_to > valid_from),
  CONSTRAINT ven_registration_registration_id CHECK ((protocol = '2.0b') = (registration_id IS NOT NULL))
);
-- The key of the FMAR design, among live registrations: (protocol, VTN, VEN ID). The VTN fixes the
-- protocol (the foreign key above), so (vtn, ven_id) is that key; it is the resolution's index.
CREATE UNIQUE INDEX ven_registration_key ON ven_registration (vtn, ven_id) WHERE status <> 'CANCELLED';
-- OpenADR: venName is unique within the scope of a VTN.
CREATE UNIQUE INDEX ven_registration_name_key ON ven_registration (vtn, ven_name) WHERE status <> 'CANCELLED';
CREATE INDEX ven_registration_organisation_idx ON ven_registration (organisation_id, id);
CREATE INDEX ven_registration_client_idx ON ven_registration (client_id, id) WHERE client_id IS NOT NULL;
