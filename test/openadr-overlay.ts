/**
 * Corrections to the official OpenADR 3.1.0 OpenAPI document (test/fixtures/openadr/
 * openadr3.1.0.yaml, unmodified; see test/fixtures/SOURCES.md), applied in test setup to a copy of
 * the parsed document before responses are validated against it. Only genuine defects are
 * corrected: what OpenAPI 3.0 itself allows is read as 3.0 defines it (./openadr-oas30.ts), not
 * overlaid. Each entry says what the document gets wrong, the evidence, and why the correction is
 * the document's evident intent; `present` finds the defect in the published document, and
 * test/openadr-conformance.test.ts checks that each is there and that the overlay removes it.
 *
 * The four items (source note):
 * 1. `ven` is unsatisfiable. Evidence: `ven` = allOf [objectMetadata, BlVenRequest];
 *    objectMetadata.objectType is `$ref: objectTypes` (enum PROGRAM, EVENT, REPORT, SUBSCRIPTION,
 *    VEN, RESOURCE) and BlVenRequest.objectType is enum [BL_VEN_REQUEST]: the two enums share no
 *    value, so no JSON value validates (the test shows the published document refusing a real ven).
 * 2. `resource` is unsatisfiable the same way: objectTypes against BlResourceRequest.objectType
 *    enum [BL_RESOURCE_REQUEST].
 * 3. `BlVenRequest.targets.default` is the string "null          -" (line 2009 of the file reads
 *    `default: null          -`: a stray "-" makes YAML read a string). OpenAPI 3.0 says a default
 *    "MUST conform to the defined type for the Schema Object": the schema is a nullable array, the
 *    string is not (the test validates the default against its own schema). Every sibling's default
 *    is null. It does not change what ajv accepts (ajv applies no defaults here); it is corrected so
 *    that a validator that does apply defaults would not insert a string.
 * 4. The scope `read_bl` is required by five MQTT topic operations (GET /notifiers/mqtt/topics/
 *    events, reports, subscriptions, vens, resources) but the oAuth2ClientCredentials scheme
 *    does not declare it among its scopes (OpenAPI 3.0: the flow's `scopes` are "the available
 *    scopes"). The register serves no MQTT and does not issue read_bl (docs/openadr.md, "Scopes").
 *
 * Not a defect, so not overlaid: `problem.status` has `maximum: 600, exclusiveMaximum: true`, which
 * is OpenAPI 3.0's (JSON Schema Wright draft 00's) boolean form of "< 600"; ./openadr-oas30.ts reads it so.
 */

type Doc = Record<string, any>;

export interface OverlayEntry {
  defect: string;
  /** Whether the defect is in `doc` (the published document has every one). */
  present(doc: Doc): boolean;
  apply(doc: Doc): void;
}

/** `schema` without its `objectType` member (property and requirement). */
function withoutObjectType(schema: Doc): Doc {
  const { objectType: _drop, ...properties } = schema.properties;
  return { ...schema, properties, required: (schema.required as string[]).filter((r) => r !== 'objectType') };
}

/** The objectType values an allOf of objectMetadata and a request schema allows: none when unsatisfiable. */
export function objectTypesAllowed(doc: Doc, schema: 'ven' | 'resource'): string[] {
  const s = doc.components.schemas;
  const [meta, request] = (s[schema].allOf as Doc[]).map((x) => s[(x.$ref as string).split('/').pop()!]);
  const enumOf = (p: Doc | undefined): string[] | undefined =>
    p === undefined ? undefined : p.$ref ? s[(p.$ref as string).split('/').pop()!].enum : p.enum;
  const a = enumOf(meta.properties?.objectType);
  const b = enumOf(request.properties?.objectType);
  return a && b ? a.filter((x) => b.includes(x)) : (a ?? b ?? ['(any)']);
}

/** Scopes named by the document's security requirements but not declared by its OAuth scheme. */
export function undeclaredScopes(doc: Doc): string[] {
  const declared = Object.keys(doc.components.securitySchemes.oAuth2ClientCredentials.flows.clientCredentials.scopes);
  const used = new Set<string>();
  for (const ops of Object.values(doc.paths) as Doc[])
    for (const op of Object.values(ops) as Doc[])
      for (const req of op?.security ?? []) for (const s of req.oAuth2ClientCredentials ?? []) used.add(s);
  return [...used].filter((s) => !declared.includes(s)).sort();
}

export const OVERLAY: OverlayEntry[] = [
  {
    // The request discriminator belongs to the request, not to the server's object: real servers (the
    // Alliance's reference implementation, openleadr-rs) answer objectType "VEN". Compose the response
    // from the request's content without its discriminator.
    defect: 'ven response schema is unsatisfiable (objectType VEN vs BL_VEN_REQUEST)',
    present: (doc) => objectTypesAllowed(doc, 'ven').length === 0,
    apply(doc) {
      doc.components.schemas.BlVenRequestContent = withoutObjectType(doc.components.schemas.BlVenRequest);
      doc.components.schemas.ven.allOf[1] = { $ref: '#/components/schemas/BlVenRequestContent' };
    },
  },
  {
    defect: 'resource response schema is unsatisfiable (objectType RESOURCE vs BL_RESOURCE_REQUEST)',
    present: (doc) => objectTypesAllowed(doc, 'resource').length === 0,
    apply(doc) {
      doc.components.schemas.BlResourceRequestContent = withoutObjectType(doc.components.schemas.BlResourceRequest);
      doc.components.schemas.resource.allOf[1] = { $ref: '#/components/schemas/BlResourceRequestContent' };
    },
  },
  {
    defect: 'BlVenRequest.targets.default is a stray string',
    present: (doc) => typeof doc.components.schemas.BlVenRequest.properties.targets.default === 'string',
    apply(doc) {
      doc.components.schemas.BlVenRequest.properties.targets.default = null;
    },
  },
  {
    defect: 'scope read_bl is used but not declared',
    present: (doc) => undeclaredScopes(doc).includes('read_bl'),
    apply(doc) {
      doc.components.securitySchemes.oAuth2ClientCredentials.flows.clientCredentials.scopes.read_bl = 'BL can read MQTT notifier topics';
    },
  },
];

export function applyOverlay(doc: Doc): Doc {
  for (const e of OVERLAY) e.apply(doc);
  return doc;
}
