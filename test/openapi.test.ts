import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENADR_BASE } from '../openadr/index';
import { RULES, isRuleCode } from '../src/rules';
import { testHub, type TestHub } from './harness';

/** The OpenAPI document describes the app as built: every route, its security, its problems. */

let hub: TestHub;
let doc: any;
beforeAll(async () => {
  hub = await testHub();
  const r = await hub.call('GET', '/openapi.json');
  expect(r.status).toBe(200);
  doc = r.json;
});
afterAll(async () => {
  await hub?.close();
});

// Not part of the JSON API: health, the documents themselves, the invitation page (HTML for people's
// browsers), the consent service's signed revocation notices (application/jwt, docs/consent.md) and
// the development-only consent-service simulator; the landing page, favicon and hashed page assets (src/http/pages.ts);
// the readiness probe (docs/operations.md); the console's page and its hashed files (src/http/console-routes.ts);
// the household sign-in's browser redirects and the stand-in's OpenID provider endpoints (docs/consumers.md).
const IGNORED = new Set([
  '/healthz',
  '/readyz',
  '/console',
  '/console/',
  '/console/assets/:name',
  '/openapi.json',
  '/docs',
  '/',
  '/favicon.ico',
  '/assets/:file',
  '/.well-known/jwks.json',
  '/invitations/:token',
  '/consent/revocations',
  '/dev/consent-service',
  '/dev/consent-service/jwks',
  '/dev/consent-service/consents',
  '/dev/consent-service/revocations',
  '/auth/consumer/sign-in',
  '/auth/consumer/callback',
  '/dev/consent-service/.well-known/openid-configuration',
  '/dev/consent-service/authorize',
  '/dev/consent-service/token',
  '/dev/consent-service/userinfo',
]);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
/** Hono's `/assets/:id` (or `:id{regex}`) as OpenAPI's `/assets/{id}`. */
const openApiPath = (p: string) => p.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');

function appRoutes(): string[] {
  const out = new Set<string>();
  for (const r of hub.app.routes) {
    if (r.method === 'ALL' || IGNORED.has(r.path)) continue;
    out.add(`${r.method.toLowerCase()} ${openApiPath(r.path)}`);
  }
  return [...out].sort();
}
function documented(): string[] {
  return Object.entries(doc.paths as Record<string, any>)
    .flatMap(([p, item]) => METHODS.filter((m) => item[m]).map((m) => `${m} ${p}`))
    .sort();
}
const operations = () =>
  documented().map((k) => {
    const [m, p] = k.split(' ');
    return { method: m, path: p, op: doc.paths[p][m] };
  });

/** Every value under `example` / `examples` keys, and every `code` property in them. */
function exampleCodes(v: unknown, inExample = false, out: string[] = []): string[] {
  if (Array.isArray(v)) {
    for (const x of v) exampleCodes(x, inExample, out);
    return out;
  }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const ex = inExample || k === 'example' || k === 'examples';
      if (ex && k === 'code' && typeof x === 'string') out.push(x);
      exampleCodes(x, ex, out);
    }
  }
  return out;
}
/** Rule-code-shaped words anywhere in the document's text (descriptions, summaries, examples). */
function mentionedCodes(v: unknown, out = new Set<string>()): Set<string> {
  if (typeof v === 'string')
    for (const m of v.matchAll(/\b(?:REQUEST|ROUTE|METHOD|INTERNAL|AUTH|ORG|ASSET|BULK)-[A-Z0-9]+(?:-[A-Z0-9]+)*\b/g)) out.add(m[0]);
  else if (Array.isArray(v)) for (const x of v) mentionedCodes(x, out);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      mentionedCodes(k, out);
      mentionedCodes(x, out);
    }
  return out;
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with a bearer security scheme', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBeTruthy();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('documents every route the app serves, with its method, and nothing else', () => {
    const routes = appRoutes();
    expect(routes.length).toBeGreaterThan(10);
    expect(routes.filter((r) => !documented().includes(r))).toEqual([]);
    expect(documented().filter((d) => !routes.includes(d))).toEqual([]);
  });

  it('every operation under /api requires a bearer token and documents the 401 problem', () => {
    const api = operations().filter((o) => o.path.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(10);
    for (const { method, path, op } of api) {
      const where = `${method} ${path}`;
      expect(op.security, where).toEqual(expect.arrayContaining([expect.objectContaining({ bearerAuth: [] })]));
      expect(op.responses['401']?.content?.['application/problem+json'], where).toBeTruthy();
      expect(op.summary, where).toBeTruthy();
    }
  });

  it('every 4xx response is an application/problem+json Problem (OpenADR 3.1: its own problem, as application/json)', () => {
    for (const { method, path, op } of operations()) {
      // The OpenADR endpoints answer as the official OpenADR document declares (docs/openadr.md).
      const [type, schema] = path.startsWith(`${OPENADR_BASE}/`)
        ? ['application/json', 'OadrProblem']
        : ['application/problem+json', 'Problem'];
      for (const [status, res] of Object.entries<any>(op.responses)) {
        if (!/^4\d\d$/.test(status)) continue;
        expect(Object.keys(res.content ?? {}), `${method} ${path} ${status}`).toEqual([type]);
        expect(res.content[type].schema.$ref).toBe(`#/components/schemas/${schema}`);
      }
    }
  });

  it('names only rule codes that exist, in examples and in prose', () => {
    const codes = [...exampleCodes(doc), ...mentionedCodes(doc)];
    expect(codes.filter((c) => !isRuleCode(c))).toEqual([]);
  });

  it('every status a route returns to a plain or a wrong request is documented, with a real rule code', async () => {
    const missing = '01JD8X6N2Q7ZB4Y3W5V6T7S8R9';
    const tried: string[] = [];
    for (const { method, path, op } of operations()) {
      if (!path.startsWith('/api/')) continue;
      const declared = Object.keys(op.responses);
      const attempts: { as?: string; path: string; body?: unknown; headers?: Record<string, string> }[] = [
        { path: path.replace('{id}', missing) },
        { as: 'operator', path: path.replace('{id}', missing), body: method === 'get' || method === 'delete' ? undefined : {} },
        {
          as: 'operator',
          path: path.replace('{id}', 'not-an-id'),
          body: method === 'get' || method === 'delete' ? undefined : { unknownField: 1 },
          headers: { 'if-match': '"1"' },
        },
        { as: 'installer', path: path.replace('{id}', missing), body: method === 'get' || method === 'delete' ? undefined : {} },
      ];
      for (const a of attempts) {
        const url = a.path + (a.path.endsWith('/events') || a.path.endsWith('/audit') ? '?recordType=asset&recordId=x' : '');
        const r = await hub.call(method.toUpperCase(), url, { as: a.as ?? null, body: a.body, headers: a.headers });
        const where = `${method.toUpperCase()} ${url} as ${a.as ?? 'nobody'} → ${r.status} ${r.json?.code ?? ''}`;
        tried.push(where);
        expect(r.status, where).toBeLessThan(500);
        expect(declared, where).toContain(String(r.status));
        if (r.status >= 400) {
          expect(r.headers.get('content-type'), where).toBe('application/problem+json');
          expect(isRuleCode(r.json.code), where).toBe(true);
          expect(RULES[r.json.code as keyof typeof RULES].status, where).toBe(r.status);
          for (const e of r.json.errors ?? []) expect(isRuleCode(e.code), where).toBe(true);
        }
      }
    }
    expect(tried.length).toBeGreaterThan(40);
  });
});
