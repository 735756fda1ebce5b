/**
 * OpenAPI 3.0 Schema Objects as JSON Schema (draft-07, what ajv validates), keyword by keyword where
 * OpenAPI 3.0 differs (OpenAPI Specification 3.0.3, "Schema Object", which clarifies 3.0.0):
 *
 * - `exclusiveMaximum` / `exclusiveMinimum` are booleans that make `maximum` / `minimum` exclusive
 *   (JSON Schema Wright draft 00, as in draft 4): `maximum: 600, exclusiveMaximum: true` is `< 600`,
 *   draft 6 and later write it `exclusiveMaximum: 600`. A `false` is the default and is dropped.
 * - `nullable: true` adds null to the values `type` allows; it means nothing without `type`, and
 *   other constraints keep their meaning (an `enum` without null still refuses null) (3.0.3).
 * - `type` is one string (unchanged); `format` int32, int64, float, double, byte, binary and
 *   password are 3.0's own formats (declared on the validator, ./openadr-conformance.ts).
 * - `writeOnly: true` properties are not sent in responses ("SHOULD NOT be sent as part of the
 *   response"): a response carrying one fails. `readOnly` restricts requests only.
 * - `discriminator`, `xml`, `externalDocs`, `example` and `deprecated` annotate; they are declared
 *   as keywords without validation, so the validator's strict mode refuses anything else unknown.
 */

/** Keywords OpenAPI 3.0 adds to a Schema Object that only annotate (ajv knows deprecated, readOnly and writeOnly already). */
export const OAS30_ANNOTATIONS = ['discriminator', 'xml', 'externalDocs', 'example'];

type Json = unknown;

/** A Schema Object (and everything below it) as JSON Schema draft-07. */
export function oas30Schema(v: Json): Json {
  if (Array.isArray(v)) return v.map(oas30Schema);
  if (!v || typeof v !== 'object') return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = k === 'example' || k === 'default' || k === 'enum' ? x : oas30Schema(x);
  for (const [flag, bound] of [
    ['exclusiveMaximum', 'maximum'],
    ['exclusiveMinimum', 'minimum'],
  ] as const) {
    if (typeof o[flag] !== 'boolean') continue;
    if (o[flag] === true && typeof o[bound] === 'number') {
      o[flag] = o[bound];
      delete o[bound];
    } else delete o[flag];
  }
  if (o.nullable === true && typeof o.type === 'string') o.type = [o.type, 'null'];
  delete o.nullable;
  if (o.properties && typeof o.properties === 'object') {
    for (const [name, p] of Object.entries(o.properties as Record<string, Record<string, unknown>>))
      if (p && p.writeOnly === true)
        (o.properties as Record<string, unknown>)[name] = { not: {}, description: 'writeOnly: not in responses' };
  }
  return o;
}

/** The parts of an OpenAPI 3.0 document that hold Schema Objects, translated; the rest as it is. */
export function oas30Document(doc: { components: Record<string, unknown>; paths: Record<string, unknown> }): Json {
  return { components: oas30Schema(doc.components), paths: oas30Schema(doc.paths) };
}
