import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { jsonLogger, requestIdOf } from '../src/http/request-log';
import { asyncStdout } from '../src/node/log-output';
import { DEMO, batteryInput, testHub, type TestHub } from './harness';

/**
 * Structured request logs (docs/operations.md, "Logs"): one JSON line per request with its ID, route
 * template, status, duration, organisation and client, and the rule code of a refusal; the ID is
 * answered in X-Request-Id, is the `instance` of problem bodies and is carried into audit records.
 */

let hub: TestHub;
const lines: Record<string, unknown>[] = [];
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

beforeAll(async () => {
  hub = await testHub({ log: jsonLogger('info', (l) => lines.push(JSON.parse(l) as Record<string, unknown>)) });
});
afterAll(() => hub.close());

/** The log line of the request answered with this ID (exactly one). */
function lineOf(id: string) {
  const found = lines.filter((l) => l.requestId === id);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('a line per request', () => {
  it('names the route template, status, organisation and client; the ID is made when none is given', async () => {
    const created = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(901) });
    expect(created.status).toBe(201);
    const r = await hub.call('GET', `/api/v1/assets/${created.json.id}`, { as: 'fsp-a' });
    expect(r.status).toBe(200);
    const id = r.headers.get('x-request-id')!;
    expect(id).toMatch(ULID);
    const line = lineOf(id);
    expect(Object.keys(line).sort()).toEqual([
      'clientId',
      'durationMs',
      'level',
      'method',
      'msg',
      'organisationId',
      'requestId',
      'route',
      'status',
      'time',
    ]);
    const claims = JSON.parse(Buffer.from((await hub.token('fsp-a')).split('.')[1], 'base64url').toString()) as { client_id: string };
    expect(line.clientId).toBe(claims.client_id);
    expect(line).toMatchObject({
      level: 'info',
      msg: 'request',
      method: 'GET',
      route: '/api/v1/assets/:id',
      status: 200,
      organisationId: DEMO['fsp-a'],
    });
    expect(typeof line.durationMs).toBe('number');
  });

  it('a refusal: the rule code in the line, the ID as the problem’s instance', async () => {
    const r = await hub.call('PATCH', '/api/v1/assets/01JZZZZZZZZZZZZZZZZZZZZZZZ', {
      as: 'fsp-a',
      body: { name: 'x' },
      headers: { 'if-match': '"1"' },
    });
    expect(r.status).toBe(404);
    const id = r.headers.get('x-request-id')!;
    expect(r.json.instance).toBe(`urn:fmar:request:${id}`);
    expect(lineOf(id)).toMatchObject({ status: 404, code: r.json.code, route: '/api/v1/assets/:id', method: 'PATCH' });
    expect(r.json.code).toBe('ASSET-NOT-FOUND');
  });

  it('an unknown route and an unauthenticated call are logged too, with their codes and no organisation', async () => {
    const unknown = await hub.call('GET', '/api/v1/no-such-thing', { as: 'fsp-a' });
    expect(unknown.status).toBe(404);
    expect(lineOf(unknown.headers.get('x-request-id')!)).toMatchObject({ route: '(unmatched)', status: 404, code: 'ROUTE-NOT-FOUND' });
    const anonymous = await hub.call('GET', '/api/v1/assets');
    expect(anonymous.status).toBe(401);
    const line = lineOf(anonymous.headers.get('x-request-id')!);
    expect(line).toMatchObject({ route: '/api/v1/assets', status: 401, code: anonymous.json.code });
    expect(line.organisationId).toBeUndefined();
  });

  it('never holds the token, the body or the query', async () => {
    const token = await hub.token('fsp-a');
    const r = await hub.call('GET', '/api/v1/assets?limit=3&name=secret-query-text', { as: token });
    expect(r.status).toBe(200);
    const text = JSON.stringify(lineOf(r.headers.get('x-request-id')!));
    for (const leak of [token, token.split('.')[2], 'secret-query-text', 'authorization', 'Bearer']) expect(text).not.toContain(leak);
  });
});

describe('the request ID', () => {
  it('keeps a sane X-Request-Id, else takes the trace ID of a traceparent, else makes one', async () => {
    const ask = async (headers: Record<string, string>) =>
      (await hub.call('GET', '/api/v1/catalogues', { as: 'fsp-a', headers })).headers.get('x-request-id');
    expect(await ask({ 'x-request-id': 'caller-42.a_b' })).toBe('caller-42.a_b');
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(await ask({ traceparent: `00-${trace}-00f067aa0ba902b7-01` })).toBe(trace);
    expect(await ask({ 'x-request-id': 'has space', traceparent: `00-${trace}-00f067aa0ba902b7-01` })).toBe(trace);
    expect(await ask({ 'x-request-id': 'x'.repeat(129) })).toMatch(ULID);
    expect(await ask({ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` })).toMatch(ULID);
    expect(await ask({ 'x-request-id': 'quote"d' })).toMatch(ULID);
  });

  it('is carried into the audit records the request wrote', async () => {
    const r = await hub.call('POST', '/api/v1/assets', {
      as: 'fsp-a',
      body: batteryInput(902),
      headers: { 'x-request-id': 'register-902' },
    });
    expect(r.status).toBe(201);
    const [row] = await hub.db.query<{ actor: { request_id?: string; org: string } }>(
      `SELECT actor FROM audit_log WHERE record_type = 'asset' AND record_id = $1 AND action = 'asset.registered'`,
      [r.json.id],
    );
    expect(row.actor).toMatchObject({ request_id: 'register-902', org: DEMO['fsp-a'] });
  });

  it('requestIdOf, alone', () => {
    const h = (m: Record<string, string>) => (n: string) => m[n];
    expect(requestIdOf(h({}), () => 'fresh')).toBe('fresh');
    expect(requestIdOf(h({ 'x-request-id': ' id-1 ' }), () => 'fresh')).toBe('id-1');
    expect(requestIdOf(h({ traceparent: '00-ABCDEF0123456789ABCDEF0123456789-00f067aa0ba902b7-01' }), () => 'fresh')).toBe(
      'abcdef0123456789abcdef0123456789',
    );
    expect(requestIdOf(h({ traceparent: 'garbage' }), () => 'fresh')).toBe('fresh');
  });
});

describe('the level', () => {
  it('drops lines below it; FMAR_LOG_LEVEL takes the five levels and refuses others', () => {
    const out: string[] = [];
    const log = jsonLogger(
      'warn',
      (l) => out.push(l),
      () => new Date('2026-12-07T10:00:00Z'),
    );
    log.write('info', 'request', { a: 1 });
    log.write('error', 'unhandled error', { b: 2 });
    expect(out).toEqual(['{"time":"2026-12-07T10:00:00.000Z","level":"error","msg":"unhandled error","b":2}']);
    expect(loadConfig({}).logLevel).toBe('info');
    expect(loadConfig({ FMAR_LOG_LEVEL: 'Silent' }).logLevel).toBe('silent');
    expect(() => loadConfig({ FMAR_LOG_LEVEL: 'verbose' })).toThrow(ConfigError);
  });
});

describe('the line and its output', () => {
  it('is one JSON object: fixed keys first, undefined fields left out, numbers as numbers, strings escaped', () => {
    const out: string[] = [];
    const log = jsonLogger(
      'info',
      (l) => out.push(l),
      () => new Date('2026-12-07T10:00:00Z'),
    );
    log.write('info', 'request', { route: '/a/"b"', status: 200, durationMs: 1.5, code: undefined, ok: true, nested: { n: NaN } });
    expect(out).toEqual([
      '{"time":"2026-12-07T10:00:00.000Z","level":"info","msg":"request","route":"/a/\\"b\\"","status":200,"durationMs":1.5,"ok":true,"nested":{"n":null}}',
    ]);
  });

  it('standard output on Node is written off the event loop, every line once and in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmar-log-'));
    const fd = openSync(join(dir, 'out'), 'w');
    try {
      const write = asyncStdout(fd);
      for (let i = 0; i < 5000; i++) write(JSON.stringify({ i }));
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 5000; i < 10000; i++) write(JSON.stringify({ i }));
      let got: string[] = [];
      for (let t = 0; t < 100 && got.length < 10000; t++) {
        await new Promise((r) => setTimeout(r, 20));
        got = readFileSync(join(dir, 'out'), 'utf8').split('\n').filter(Boolean);
      }
      expect(got).toEqual(Array.from({ length: 10000 }, (_, i) => JSON.stringify({ i })));
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
