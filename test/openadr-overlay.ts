/**
 * Corrections to the official OpenADR 3.1.0 OpenAPI document (test/fixtures/openadr/
 * openadr3.1.0.yaml, unmodified; see test/fixtures/SOURCES.md), applied in test setup to a copy of the parsed
 * document before responses are validated against it. Each entry says what the document gets
 * wrong and why the correction is the document's evident intent. Nothing else is changed.
 */

type Doc = Record<string, any>;

export interface OverlayEntry {
  defect: string;
  apply(doc: Doc): void;
}

/** `schema` without its `objectType` member (property and requirement). */
function withoutObjectType(schema: Doc): Doc {
  const { objectType: _drop, ...properties } = schema.properties;
  return { ...schema, properties, required: (schema.required as string[]).filter((r) => r !== 'objectType') };
}

export const OVERLAY: OverlayEntry[] = [
  {
    // `ven` is allOf [objectMetadata, BlVenRequest]: objectMetadata.objectType must be one of
    // objectTypes (PROGRAM … VEN, RESOURCE) while BlVenRequest.objectType must be BL_VEN_REQUEST, so no
    // object satisfies both and every real ven fails. The request discriminator belongs to the request,
    // not to the server's object: real servers (the Alliance's reference implementation, openleadr-rs)
    // answer objectType "VEN". Compose the response from the request's content without its discriminator.
    defect: 'ven response schema is unsatisfiable (objectType VEN vs BL_VEN_REQUEST)',
    apply(doc) {
      doc.components.schemas.BlVenRequestContent = withoutObjectType(doc.components.schemas.BlVenRequest);
      doc.components.schemas.ven.allOf[1] = { $ref: '#/components/schemas/BlVenRequestContent' };
    },
  },
  {
    // The same defect for `resource`: objectMetadata.objectType (RESOURCE) against
    // BlResourceRequest.objectType (BL_RESOURCE_REQUEST).
    defect: 'resource response schema is unsatisfiable (objectType RESOURCE vs BL_RESOURCE_REQUEST)',
    apply(doc) {
      doc.components.schemas.BlResourceRequestContent = withoutObjectType(doc.components.schemas.BlResourceRequest);
      doc.components.schemas.resource.allOf[1] = { $ref: '#/components/schemas/BlResourceRequestContent' };
    },
  },
  {
    // `problem.status` says `maximum: 600, exclusiveMaximum: true`: OpenAPI 3.0's (JSON Schema
    // draft 4's) boolean form, which draft 6 and later (and ajv) refuse. The intent is status < 600.
    defect: 'problem.status uses the draft-4 boolean exclusiveMaximum',
    apply(doc) {
      const status = doc.components.schemas.problem.properties.status;
      delete status.maximum;
      status.exclusiveMaximum = 600;
    },
  },
  {
    // `BlVenRequest.targets` has `default: null          -`: a stray "-" on the line makes YAML read
    // the string "null          -" as the default. The intent (as in every sibling) is null.
    defect: 'BlVenRequest.targets.default is a stray string',
    apply(doc) {
      doc.components.schemas.BlVenRequest.properties.targets.default = null;
    },
  },
  {
    // Six MQTT topic endpoints require the scope read_bl, which the oAuth2ClientCredentials scheme
    // never declares. Declared here so the document is self-consistent (the register serves no MQTT).
    defect: 'scope read_bl is used but not declared',
    apply(doc) {
      doc.components.securitySchemes.oAuth2ClientCredentials.flows.clientCredentials.scopes.read_bl = 'BL can read MQTT notifier topics';
    },
  },
];

export function applyOverlay(doc: Doc): Doc {
  for (const e of OVERLAY) e.apply(doc);
  return doc;
}
