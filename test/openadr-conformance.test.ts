import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OADR_SCOPES } from '../openadr/index';
import { OPENADR_SPEC, openadrContract } from './openadr-conformance';
import { oas30Schema } from './openadr-oas30';
import { OVERLAY, applyOverlay, objectTypesAllowed, undeclaredScopes } from './openadr-overlay';

/**
 * The conformance setup itself (test/openadr-conformance.ts): the document read as OpenAPI 3.0
 * (test/openadr-oas30.ts), and an overlay that corrects only genuine defects, each shown to be in the
 * published document (test/openadr-overlay.ts, its source note).
 */

const published = () => parse(readFileSync(OPENADR_SPEC, 'utf8'));
const problem = (status: number) => ({ type: 'urn:fmar:rule:X', title: 't', status, detail: 'd' });
const answer = (status: number, body: unknown) => ({
  status: 400,
  contentType: 'application/json',
  body: { ...problem(status), ...(body as object) },
});

describe('OpenAPI 3.0 schema objects read as 3.0 defines them', () => {
  it('exclusiveMaximum: true makes maximum exclusive; false is the default; the numeric form stays', () => {
    expect(oas30Schema({ type: 'integer', minimum: 100, maximum: 600, exclusiveMaximum: true })).toEqual({
      type: 'integer',
      minimum: 100,
      exclusiveMaximum: 600,
    });
    expect(oas30Schema({ minimum: 0, exclusiveMinimum: true, maximum: 9, exclusiveMaximum: false })).toEqual({
      exclusiveMinimum: 0,
      maximum: 9,
    });
    expect(oas30Schema({ exclusiveMaximum: 5 })).toEqual({ exclusiveMaximum: 5 });
  });

  it('nullable adds null to type only; an enum keeps refusing null; defaults, examples and enums are values, not schemas', () => {
    expect(oas30Schema({ type: 'array', items: { type: 'string' }, nullable: true })).toEqual({
      type: ['array', 'null'],
      items: { type: 'string' },
    });
    expect(oas30Schema({ type: 'string', enum: ['A'], nullable: true })).toEqual({ type: ['string', 'null'], enum: ['A'] });
    expect(oas30Schema({ allOf: [{ $ref: '#/x' }], nullable: true })).toEqual({ allOf: [{ $ref: '#/x' }] });
    expect(oas30Schema({ type: 'object', default: { nullable: true, exclusiveMaximum: true }, example: { nullable: true } })).toEqual({
      type: 'object',
      default: { nullable: true, exclusiveMaximum: true },
      example: { nullable: true },
    });
  });

  it('a writeOnly property may not be in a response', () => {
    expect(oas30Schema({ type: 'object', properties: { secret: { type: 'string', writeOnly: true }, id: { type: 'string' } } })).toEqual({
      type: 'object',
      properties: { secret: { not: {}, description: 'writeOnly: not in responses' }, id: { type: 'string' } },
    });
  });

  it('the published problem.status (maximum 600, exclusiveMaximum true) validates as 100 ≤ status < 600, without any overlay', () => {
    const doc = published();
    expect(doc.components.schemas.problem.properties.status).toMatchObject({ minimum: 100, maximum: 600, exclusiveMaximum: true });
    const contract = openadrContract({ overlay: false });
    expect(contract.check('GET', '/vens', answer(599, {}))).toEqual([]);
    expect(contract.check('GET', '/vens', answer(600, {}))).toEqual([
      'GET /vens 400: body/status must be < 600 {"comparison":"<","limit":600}',
    ]);
    expect(contract.check('GET', '/vens', answer(99, {}))).toEqual([
      'GET /vens 400: body/status must be >= 100 {"comparison":">=","limit":100}',
    ]);
    expect(contract.check('GET', '/vens', answer(400.5, {}))).toEqual([
      'GET /vens 400: body/status must be integer {"type":"integer"}',
      'GET /vens 400: body/status must match format "int32" {"format":"int32"}',
    ]);
  });
});

describe('the overlay corrects only genuine defects, each shown in the published document', () => {
  it('has four entries, every one present in the published document and gone after the overlay', () => {
    expect(OVERLAY.map((e) => e.defect)).toEqual([
      'ven response schema is unsatisfiable (objectType VEN vs BL_VEN_REQUEST)',
      'resource response schema is unsatisfiable (objectType RESOURCE vs BL_RESOURCE_REQUEST)',
      'BlVenRequest.targets.default is a stray string',
      'scope read_bl is used but not declared',
    ]);
    const doc = published();
    expect(OVERLAY.map((e) => e.present(doc))).toEqual([true, true, true, true]);
    applyOverlay(doc);
    expect(OVERLAY.map((e) => e.present(doc))).toEqual([false, false, false, false]);
  });

  it('evidence: ven and resource allow no objectType; the targets default fails its own schema; read_bl is used by five operations, declared nowhere', () => {
    const doc = published();
    expect([objectTypesAllowed(doc, 'ven'), objectTypesAllowed(doc, 'resource')]).toEqual([[], []]);
    expect(doc.components.schemas.objectTypes.enum).toEqual(['PROGRAM', 'EVENT', 'REPORT', 'SUBSCRIPTION', 'VEN', 'RESOURCE']);
    const targets = doc.components.schemas.BlVenRequest.properties.targets;
    expect(targets.default).toBe('null          -');
    expect(readFileSync(OPENADR_SPEC, 'utf8').split('\n')[2008]).toBe('         default: null          -');
    const contract = openadrContract({ overlay: false });
    // The default against its own schema (a nullable array of targets), through the same validator.
    const asTargets = (v: unknown) =>
      contract.check('PUT', '/vens/{venID}', {
        status: 200,
        contentType: 'application/json',
        body: {
          id: 'v',
          createdDateTime: '2026-01-01T00:00:00Z',
          modificationDateTime: '2026-01-01T00:00:00Z',
          objectType: 'VEN',
          clientID: 'c',
          venName: 'n',
          targets: v,
        },
      });
    expect(asTargets(targets.default).filter((e) => e.includes('/targets'))).toEqual([
      'PUT /vens/{venID} 200: body/targets must be array,null {"type":["array","null"]}',
    ]);
    expect(asTargets(null).filter((e) => e.includes('/targets'))).toEqual([]);
    expect(undeclaredScopes(doc)).toEqual(['read_bl']);
    const users = Object.entries(doc.paths).filter(([, ops]: [string, any]) =>
      ops.get?.security?.some((s: any) => s.oAuth2ClientCredentials?.includes('read_bl')),
    );
    expect(users.map(([p]) => p)).toEqual([
      '/notifiers/mqtt/topics/events',
      '/notifiers/mqtt/topics/reports',
      '/notifiers/mqtt/topics/subscriptions',
      '/notifiers/mqtt/topics/vens',
      '/notifiers/mqtt/topics/resources',
    ]);
  });

  it('the scopes the hub issues for OpenADR are exactly those the published document declares', () => {
    const declared = published().components.securitySchemes.oAuth2ClientCredentials.flows.clientCredentials.scopes;
    expect(OADR_SCOPES).toEqual(declared);
  });
});
