import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeActions } from '../src/access/api-route';
import { CONSUMER_SCOPES, PERMISSIONS, routeAction, type Permission } from '../src/access/permissions';
import { signAccessToken } from '../identity/index';
import { API_BASE } from '../src/app';
import type { OrganisationRole } from '../src/access/roles';
import { registerOrganisation } from '../src/organisations/service';
import { isRuleCode } from '../src/rules';
import { rowCounts, testHub, type TestHub } from './harness';

/**
 * A schema-driven fuzz of every write endpoint (docs/security.md, "Fuzzing"): requests generated
 * from the hub's own /openapi.json for every POST, PUT, PATCH and DELETE operation, sent in
 * process as an organisation whose role may call the route. Wrong types, missing required fields,
 * huge strings, unicode (NUL, lone surrogates, astral, right-to-left), nested junk, top-level
 * junk, broken JSON, wrong content types, bad path IDs, bad If-Match and Idempotency-Key headers.
 * Every answer must be below 500; every error answer a problem with a rule code (RFC 9457
 * application/problem+json; the OpenADR 3.1 endpoints answer the OpenADR problem, application/json,
 * with the rule code as an extension); and an error answer writes nothing: the row counts of the
 * register's tables are the same before and after it. Fixed seed: the same requests on every run.
 */

const SEED = 20_261_207;
const RUNS_PER_OPERATION = 36;
/** Every table a write touches; not the idempotency store (it keeps 4xx answers for replay, by design), sessions or rate limits. */
const TABLES = [
  'audit_log',
  'event_outbox',
  'event_recipient',
  'organisation',
  'record_history',
  'asset',
  'asset_alias',
  'asset_natural_key',
  'asset_fsp_link',
  'asset_switch',
  'asset_switch_transition',
  'contract',
  'consent_replay',
  'consent_revocation',
  'api_client',
  'app_user',
  'delegation',
  'webhook_subscription',
  'webhook_delivery',
  'openadr_vtn',
  'ven_registration',
  'ven_resource',
  'market_unit',
  'market_unit_member',
  'product',
  'product_equivalence',
  'qualification',
  'catalogue_code',
  'dispute',
  'dispute_comment',
  'dq_rule',
  'dq_finding',
  'cim_import_job',
  'cim_import_job_file',
  'cim_network_ref',
  'connection_limit',
  'data_share',
] as const;

type Json = unknown;
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  $ref?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  example?: unknown;
  format?: string;
  minimum?: number;
  minItems?: number;
  const?: unknown;
}
interface Operation {
  method: string;
  path: string;
  contentType?: string;
  schema?: Schema;
  headers: string[];
  token: string;
  openadr: boolean;
}

let hub: TestHub;
let doc: { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, Schema> } };
const ops: Operation[] = [];
/** Real records, so that a path can name something that exists (and the body is what is refused). */
let realAsset: string;

beforeAll(async () => {
  hub = await testHub();
  const r = await hub.call('GET', '/openapi.json');
  expect(r.status).toBe(200);
  doc = r.json;
  [{ id: realAsset }] = await hub.db.query(`SELECT id FROM asset WHERE friendly_code = 'ALPHA-BESS-1'`);
  const tokens = new Map<OrganisationRole, string>();
  const tokenFor = async (role: OrganisationRole) => {
    if (!tokens.has(role)) {
      let [o] = await hub.db.query<{ id: string }>(
        `SELECT id FROM organisation WHERE $1 = ANY(roles) AND status = 'ACTIVE' ORDER BY id LIMIT 1`,
        [role],
      );
      o ??= await registerOrganisation(hub.ctx, hub.system, {
        legalName: `Fuzz ${role} Ltd`,
        organisationType: 'LTD',
        registrationNumber: `0977${String(tokens.size).padStart(4, '0')}`,
        roles: [role],
        status: 'ACTIVE',
      });
      tokens.set(role, await hub.token({ org: o.id, roles: [role], sub: `fuzz-${role}` }));
    }
    return tokens.get(role)!;
  };
  // A household's routes (docs/consumers.md) take a household's token: the demo battery's meter point.
  const household = await signAccessToken(
    hub.keys,
    {
      iss: hub.cfg.issuer,
      aud: hub.cfg.audience,
      sub: 'consumer:fuzz',
      ttlSec: 3600,
      jti: 'fuzz-household',
      consumer: { mpans: ['1312345678907'] },
      scope: CONSUMER_SCOPES.join(' '),
    },
    hub.clock.now(),
  );
  const declared = routeActions(hub.app, { under: API_BASE }).actions;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      // The OpenADR token endpoints (the register-wide base URL's and each VTN's) take no access token: on Node they forward to the provider, in a process without one they answer 501 naming it (docs/openadr.md).
      if (!['post', 'put', 'patch', 'delete'].includes(method) || path.endsWith('/auth/token')) continue;
      const entry = declared.get(`${method.toUpperCase()} ${path}`);
      const action = entry ? routeAction(entry, false) : undefined;
      const p: Permission | undefined = action && action !== 'refused' ? PERMISSIONS[action] : undefined;
      // The operator for routes any role may call; OpenADR 3.1 writes are the VEN's (an FSP).
      const role: OrganisationRole = path.startsWith('/openadr/') ? 'FSP' : !p || p.roles === 'any' ? 'MARKET_FACILITATOR' : p.roles[0];
      const content = op.requestBody?.content ?? {};
      const contentType = Object.keys(content)[0];
      const headers = ((op.parameters ?? []) as { in: string; name: string }[])
        .filter((x) => x.in === 'header')
        .map((x) => x.name.toLowerCase());
      ops.push({
        method: method.toUpperCase(),
        path,
        contentType,
        schema: contentType ? content[contentType].schema : undefined,
        headers,
        token: p?.consumer ? household : await tokenFor(role),
        openadr: path.startsWith('/openadr/'),
      });
    }
  }
}, 120_000);
afterAll(async () => {
  await hub?.close();
});

function resolve(s: Schema | undefined): Schema {
  let x = s ?? {};
  for (let i = 0; x.$ref && i < 10; i++) x = doc.components?.schemas?.[x.$ref.split('/').pop()!] ?? {};
  if (x.allOf?.length) return resolve(x.allOf[0]);
  if (x.anyOf?.length) return resolve(x.anyOf.find((a) => resolve(a).type !== 'null') ?? x.anyOf[0]);
  if (x.oneOf?.length) return resolve(x.oneOf[0]);
  return x;
}

/** A plausible value for a schema: its example, first enum value, or the simplest of its type (the mutations break it). */
function plausible(s: Schema | undefined, depth = 0): Json {
  const x = resolve(s);
  if (x.example !== undefined) return x.example;
  if (x.const !== undefined) return x.const;
  if (x.enum?.length) return x.enum[0];
  const type = Array.isArray(x.type) ? x.type.find((t) => t !== 'null') : x.type;
  if (type === 'object' || x.properties) {
    const out: Record<string, Json> = {};
    if (depth < 4) for (const k of x.required ?? []) out[k] = plausible(x.properties?.[k], depth + 1);
    return out;
  }
  if (type === 'array') return depth < 4 ? Array.from({ length: x.minItems ?? 1 }, () => plausible(x.items, depth + 1)) : [];
  if (type === 'integer' || type === 'number') return x.minimum ?? 1;
  if (type === 'boolean') return true;
  if (x.format === 'date-time') return '2026-07-01T00:00:00Z';
  if (x.format === 'date') return '2026-07-01';
  return 'fuzz';
}

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF\uD800',
  '💥'.repeat(500),
  '\u202Eevil\u202C',
  'Z̷̢͠a̶l̴g̸o̵',
  "'; DROP TABLE asset; --",
  '${7*7}{{7*7}}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'x'.repeat(100_000),
  'é'.repeat(300_000),
  '1e309',
  'NaN',
  '-0',
  '0x10',
  '   01JDEM0000000000000000FSPA   ',
];
const junk: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null,
    true,
    false,
    0,
    -1,
    1e308,
    -1e308,
    2 ** 53 + 1,
    0.1,
    [],
    {},
    [[[[[]]]]],
    { __proto__: { admin: true } },
    { constructor: { prototype: {} } },
  ),
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 2 }), { maxKeys: 5 }),
);
const deep = (n: number): Json => {
  let v: Json = 'bottom';
  for (let i = 0; i < n; i++) v = i % 2 ? { a: v } : [v];
  return v;
};
const BAD_JSON = [
  '{',
  '{"a":',
  '[1,2',
  'nul',
  '{"a":1}}',
  '\u0000',
  '{"a":"\\ud800"}',
  '{"a": 1e99999}',
  '"just a string"',
  '{"__proto__": {"x": 1}}',
  '\uFEFF{}',
  '',
];
const BAD_CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  'application/jsonx',
  '*/*',
  'application/problem+json',
];
const BAD_IDS = [
  '',
  ' ',
  '..',
  '%2e%2e',
  '%00',
  '%FF',
  'x'.repeat(5000),
  '%F0%9F%99%82',
  "'%20OR%201=1--",
  '01JZZZZZZZZZZZZZZZZZZZZZZZ',
  '01jdem0000000000000000fspa',
  '%5C',
  'null',
  '-1',
  '9'.repeat(40),
  'NESO-DFS%00',
];
const BAD_IF_MATCH = [
  '',
  '"',
  'W/"1"',
  '"-1"',
  '"1.5"',
  '"99999999999999999999999"',
  '*',
  '"1", "2"',
  'x'.repeat(9000),
  '"0"',
  '1',
  '"NaN"',
];
const BAD_IDEMPOTENCY_KEYS = [' ', 'é', 'x'.repeat(300), 'a b', '\t', 'ключ'.normalize() === 'ключ' ? 'k\u00ff' : 'k'];

type Mutation = { kind: string; body?: string; contentType?: string | null; pathValue?: string; headers?: Record<string, string> };

/** Put `v` at the key path in a copy of `base` (an object): the mutated body. */
function setAt(base: Json, key: string | undefined, v: Json): Json {
  if (!key || typeof base !== 'object' || base === null || Array.isArray(base)) return v;
  return { ...(base as Record<string, Json>), [key]: v };
}

function mutations(op: Operation): fc.Arbitrary<Mutation> {
  const schema = resolve(op.schema);
  const base = plausible(op.schema);
  const keys = Object.keys(schema.properties ?? {});
  const key = keys.length ? fc.constantFrom(...keys) : fc.constant(undefined);
  const json = (v: Json) => JSON.stringify(v) ?? 'null';
  const arbs: fc.Arbitrary<Mutation>[] = [
    fc.tuple(key, junk).map(([k, v]) => ({ kind: `field ${k ?? '(body)'} of the wrong type`, body: json(setAt(base, k, v)) })),
    fc
      .tuple(key, fc.constantFrom(...NASTY_STRINGS))
      .map(([k, v]) => ({ kind: `field ${k ?? '(body)'} a hostile string`, body: json(setAt(base, k, v)) })),
    fc.constantFrom(...(schema.required ?? ['(none)'])).map((k) => {
      const b = { ...(base as object) } as Record<string, Json>;
      delete b[k];
      return { kind: `required ${k} missing`, body: json(b) };
    }),
    fc
      .tuple(key, fc.constantFrom(40, 2_000))
      .map(([k, n]) => ({ kind: `field ${k ?? '(body)'} nested ${n} deep`, body: json(setAt(base, k, deep(n))) })),
    fc.constantFrom(...BAD_JSON).map((t) => ({ kind: 'broken JSON', body: t })),
    junk.map((v) => ({ kind: 'top-level junk', body: json(v) })),
    fc.string({ maxLength: 12 }).map((k) => ({ kind: 'unknown field', body: json({ ...(base as object), [`zz${k}`]: 1 }) })),
    fc
      .constantFrom(...BAD_CONTENT_TYPES, null)
      .map((ct) => ({ kind: `content type ${ct ?? '(none)'}`, body: json(base), contentType: ct })),
    fc.constantFrom(...BAD_IF_MATCH).map((v) => ({ kind: `If-Match ${v.slice(0, 20)}`, body: json(base), headers: { 'if-match': v } })),
    fc
      .constantFrom(...BAD_IDEMPOTENCY_KEYS)
      .map((v) => ({ kind: `Idempotency-Key ${v.slice(0, 20)}`, body: json(base), headers: { 'idempotency-key': v } })),
  ];
  if (op.path.includes('{'))
    arbs.push(fc.constantFrom(...BAD_IDS).map((v) => ({ kind: `path ID ${v.slice(0, 20)}`, body: json(base), pathValue: v })));
  return fc.oneof(...arbs);
}

/** The path with its parameters: the mutation's bad value, else an asset that exists (for asset routes) or an ID that does not. */
function pathOf(op: Operation, m: Mutation): string {
  return op.path.replace(/\{(\w+)\}/g, (_all, name: string) => {
    if (m.pathValue !== undefined) return m.pathValue;
    if (op.path.startsWith('/api/v1/assets/') && name === 'id') return realAsset;
    return name === 'name' ? 'energy-sources' : '01JZZZZZZZZZZZZZZZZZZZZZZZ';
  });
}

async function send(op: Operation, m: Mutation) {
  const headers: Record<string, string> = { authorization: `Bearer ${op.token}`, ...(await currentIfMatch(op, m)), ...(m.headers ?? {}) };
  const withBody = op.method !== 'DELETE' || op.contentType !== undefined;
  const contentType = m.contentType === undefined ? (op.contentType ?? 'application/json') : m.contentType;
  if (withBody && contentType) headers['content-type'] = contentType;
  const res = await hub.app.request(pathOf(op, m), { method: op.method, headers, body: withBody ? m.body : undefined });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text };
}

/** A PATCH of the real asset carries its current ETag, so that the body (not a stale If-Match) is what gets judged. */
async function currentIfMatch(op: Operation, m: Mutation): Promise<Record<string, string>> {
  if (op.method !== 'PATCH' || m.pathValue !== undefined || !pathOf(op, m).includes(realAsset)) return {};
  const [a] = await hub.db.query(`SELECT version FROM asset WHERE id = $1`, [realAsset]);
  return { 'if-match': `"${a.version}"` };
}

/** What is wrong with an answer, if anything. */
function fault(op: Operation, got: { status: number; type: string; text: string }, wrote: string[]): string | undefined {
  if (got.status >= 500) return `answered ${got.status}`;
  if (got.status < 400) return undefined;
  const want = op.openadr ? 'application/json' : 'application/problem+json';
  let parsed: { code?: unknown } | undefined;
  try {
    parsed = JSON.parse(got.text);
  } catch {
    /* checked below */
  }
  // A path that no longer names the operation (an empty or dot segment) is the hub's own 404, whatever the prefix.
  if (parsed?.code === 'ROUTE-NOT-FOUND' && got.status === 404)
    return got.type.startsWith('application/problem+json')
      ? wrote.length
        ? `404 but wrote to ${wrote.join(', ')}`
        : undefined
      : `404 as ${got.type}`;
  if (!got.type.startsWith(want)) return `${got.status} as ${got.type || '(no content type)'}, not ${want}`;
  let code: unknown;
  try {
    code = JSON.parse(got.text).code;
  } catch {
    return `${got.status} with a body that is not JSON`;
  }
  if (typeof code !== 'string' || !isRuleCode(code)) return `${got.status} without a rule code (${String(code)})`;
  if (wrote.length) return `${got.status} ${code} but wrote to ${wrote.join(', ')}`;
  return undefined;
}

describe('fuzzing every write endpoint from /openapi.json', () => {
  it('finds the write operations and a caller for each', () => {
    expect(ops.length).toBeGreaterThan(55);
    expect(ops.filter((o) => o.path.startsWith('/api/v1/')).length).toBeGreaterThan(50);
  });

  it('no 5xx, every error a problem with a rule code, nothing written behind an error', async () => {
    const failures = new Map<string, string>();
    let sent = 0;
    const stats = new Map<string, number>();
    const t0 = Date.now();
    let before = await rowCounts(hub.db, TABLES);
    for (const [i, op] of ops.entries()) {
      const cases = fc.sample(mutations(op), { seed: SEED + i, numRuns: RUNS_PER_OPERATION });
      for (const m of cases) {
        let got;
        try {
          got = await send(op, m);
        } catch (e) {
          failures.set(`${op.method} ${op.path} ${m.kind}`, `threw ${(e as Error).message}`);
          continue;
        }
        sent++;
        if (process.env.FUZZ_STATS) stats.set(`${got.status}`, (stats.get(`${got.status}`) ?? 0) + 1);
        const after = await rowCounts(hub.db, TABLES);
        const wrote = TABLES.filter((t) => after[t] !== before[t]);
        const wrong = fault(op, got, wrote);
        // One line per operation and fault: the first request that shows it.
        if (wrong && !failures.has(`${op.method} ${op.path} ${wrong}`))
          failures.set(`${op.method} ${op.path} ${wrong}`, `${m.kind} → ${got.text.slice(0, 200)}`);
        before = after;
      }
    }
    if (process.env.FUZZ_STATS) console.log(sent, Date.now() - t0, [...stats].sort());
    expect(sent).toBeGreaterThan(2_000);
    expect([...failures].map(([k, v]) => `${k}: ${v}`).sort()).toEqual([]);
  }, 180_000);
});
