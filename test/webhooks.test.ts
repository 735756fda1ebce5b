import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrganisationRole } from '../src/access/roles';
import { systemPrincipal } from '../src/access/principal';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { DEMO_ORGANISATIONS, seedDemo } from '../src/demo/seed';
import { backoffMs, deliverDue, startDeliveryWorker, type DeliveryOptions } from '../src/webhooks/delivery';
import { writeEvents } from '../src/events/outbox';
import { RECIPIENT_POLICY, typeMatches } from '../src/events/recipients';
import { urlRefusal } from '../src/webhooks/subscriptions';
import { assemble } from '../src/node/setup';
import { registerOrganisation } from '../src/organisations/service';
import { RULES } from '../src/rules';
import type { Db } from '../src/storage/db';
import { pgliteDb } from '../src/storage/pglite';
import { postgresDb } from '../src/storage/postgres';
import { DEMO, TestClock, batteryInput, mpanFor, testHub, type TestHub } from './harness';
import { standardHooks } from '../src/hooks';

/**
 * Events for everyone (docs/events.md): recipients chosen by policy, webhook subscriptions, signed
 * at-least-once delivery with backoff, dead letters and replay, and a crash of the hub mid-delivery.
 * A real HTTP receiver verifies every Standard Webhooks signature with its own code (node:crypto).
 */

// ---- The receiver: one HTTP server, one endpoint per path, each with the secrets it trusts.
type Mode = 'ok' | 'fail' | 'hang' | 'gone' | 'busy';
interface Received {
  eventId: string;
  type: string;
  subject: string;
  verified: boolean;
  signatures: number;
  contentType: string;
  body: any;
}
interface Endpoint {
  secrets: string[];
  mode: Mode;
  received: Received[];
  acked: Received[];
  held: ServerResponse[];
}

class Receiver {
  server!: Server;
  base = '';
  endpoints = new Map<string, Endpoint>();
  /** The hub's clock, for the timestamp tolerance. */
  constructor(private now: () => Date) {}

  async start() {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.base = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }
  async stop() {
    for (const e of this.endpoints.values()) for (const r of e.held) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
  endpoint(path: string, mode: Mode = 'ok'): string {
    this.endpoints.set(path, { secrets: [], mode, received: [], acked: [], held: [] });
    return `${this.base}${path}`;
  }
  get(path: string) {
    return this.endpoints.get(path)!;
  }

  /** Standard Webhooks 1.0: HMAC-SHA256 over `id.timestamp.body` with the base64 key after `whsec_`, any `v1,` entry matching, timestamp within 5 minutes. */
  verify(secrets: string[], h: IncomingMessage['headers'], body: string): boolean {
    const id = h['webhook-id'] as string | undefined;
    const ts = h['webhook-timestamp'] as string | undefined;
    const sig = h['webhook-signature'] as string | undefined;
    if (!id || !ts || !sig || !/^\d+$/.test(ts) || Math.abs(this.now().getTime() / 1000 - Number(ts)) > 300) return false;
    const macs = secrets.map((s) =>
      createHmac('sha256', Buffer.from(s.replace(/^whsec_/, ''), 'base64'))
        .update(`${id}.${ts}.${body}`)
        .digest(),
    );
    return sig.split(' ').some((entry) => {
      const [version, value] = entry.split(',');
      const got = Buffer.from(value ?? '', 'base64');
      return version === 'v1' && macs.some((m) => m.length === got.length && timingSafeEqual(m, got));
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const e = this.endpoints.get(req.url ?? '');
      if (!e || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw);
      const r: Received = {
        eventId: req.headers['webhook-id'] as string,
        type: body.type,
        subject: body.subject,
        body,
        contentType: req.headers['content-type'] ?? '',
        verified: this.verify(e.secrets, req.headers, raw) && body.id === req.headers['webhook-id'],
        signatures: String(req.headers['webhook-signature'] ?? '').split(' ').length,
      };
      e.received.push(r);
      if (!r.verified) {
        res.writeHead(401).end();
        return;
      }
      if (e.mode === 'hang') {
        e.held.push(res);
        res.on('close', () => {});
        (res as any).received = r;
        return;
      }
      if (e.mode === 'fail') {
        res.writeHead(500).end('no');
        return;
      }
      if (e.mode === 'busy') {
        res.writeHead(503, { 'retry-after': '3600' }).end();
        return;
      }
      if (e.mode === 'gone') {
        res.writeHead(410).end();
        return;
      }
      e.acked.push(r);
      res.writeHead(204).end();
    });
  }

  /** Answer the held requests 200 (the receiver processed them, whether or not the hub hears it). */
  release(path: string) {
    const e = this.get(path);
    for (const res of e.held.splice(0)) {
      e.acked.push((res as any).received);
      res.writeHead(200).end();
    }
  }
}

const OPTS: DeliveryOptions = { source: 'http://hub.test', production: false, random: () => 1 };
const API = '/api/v1';
let hub: TestHub;
let receiver: Receiver;
let counter = 0;
const next = () => ++counter;
/** A System Operator organisation and its token. */
let so: { id: string; token: string };

beforeAll(async () => {
  hub = await testHub();
  receiver = new Receiver(() => hub.clock.now());
  await receiver.start();
  const org = await registerOrganisation(hub.ctx, hub.system, {
    legalName: 'Webhook SO Ltd',
    organisationType: 'LTD',
    registrationNumber: '09700001',
    roles: ['SYSTEM_OPERATOR'],
    status: 'ACTIVE',
  });
  so = { id: org.id, token: await hub.token({ org: org.id, roles: ['SYSTEM_OPERATOR'] }) };
});
afterAll(async () => {
  await receiver?.stop();
  await hub?.close();
});

async function subscribe(as: keyof typeof DEMO | string, path: string, body: Record<string, unknown> = {}, mode: Mode = 'ok') {
  const url = receiver.endpoint(path, mode);
  const r = await hub.call('POST', `${API}/webhooks`, { as, body: { url, ...body } });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  receiver.get(path).secrets = [r.json.secret];
  return r.json;
}
/** Delete subscriptions so that later passes of the worker do not see them. */
async function unsubscribe(...subs: { id: string; organisationId: string }[]) {
  for (const s of subs) expect((await hub.call('DELETE', `${API}/webhooks/${s.id}`, { as: 'operator' })).status).toBe(204);
}
async function register(as: keyof typeof DEMO, extra: Record<string, unknown> = {}) {
  const r = await hub.call('POST', `${API}/assets`, { as, body: batteryInput(next() + 500, extra) });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}
async function eventOf(subject: string, type = 'fmar.asset.registered'): Promise<string> {
  const [r] = await hub.db.query<{ id: string }>(`SELECT id FROM event_outbox WHERE subject = $1 AND type = $2`, [subject, type]);
  return r.id;
}
async function recipients(eventId: string): Promise<Record<string, string[]>> {
  const rows = await hub.db.query(`SELECT organisation_id, reasons FROM event_recipient WHERE event_id = $1`, [eventId]);
  return Object.fromEntries(rows.map((r) => [r.organisation_id, r.reasons]));
}
/** Run the worker until nothing is due now. */
async function drain(o: Partial<DeliveryOptions> = {}) {
  let total = 0;
  for (let i = 0; i < 20; i++) {
    const r = await deliverDue(hub.db, hub.clock, { ...OPTS, ...o });
    total += r.claimed;
    if (r.claimed === 0) return total;
  }
  throw new Error('the worker never ran dry');
}
const ukpn = () => ({ dno: 'UKPN_EPN', importMpan: mpanFor(2_000_000 + next(), '10') });

describe('recipients by policy', () => {
  it('an asset’s events go to its FSP, its owner and the DNO of its network, not to whoever made the change', async () => {
    // The operator registers for Alpha: the operator made the change but is no recipient.
    const r = await hub.call('POST', `${API}/assets`, {
      as: 'operator',
      body: batteryInput(next() + 500, { organisationId: DEMO['fsp-a'], fspId: DEMO['fsp-a'] }),
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(await recipients(await eventOf(r.json.id))).toEqual({
      // Alpha registered it as an FSP, not an ASSET_OWNER: it is told as the controlling FSP only (control follows the FSP link).
      [DEMO['fsp-a']]: ['asset-fsp', 'record-organisation'],
      [DEMO.dno]: ['dno'],
    });
    // Off the demo DNO's network (UKPN_EPN): the DNO is not told.
    const off = await register('fsp-b', ukpn());
    expect(Object.keys(await recipients(await eventOf(off.id)))).toEqual([DEMO['fsp-b']]);

    // The pull feed follows: the DNO sees the SPEN asset's event and not the UKPN one; Beta not Alpha's.
    const dnoFeed = (await hub.call('GET', `${API}/events?limit=1000`, { as: 'dno' })).json.items.map((e: any) => e.subject);
    expect(dnoFeed).toContain(r.json.id);
    expect(dnoFeed).not.toContain(off.id);
    const beta = (await hub.call('GET', `${API}/events?limit=1000`, { as: 'fsp-b' })).json.items.map((e: any) => e.subject);
    expect(beta).toContain(off.id);
    expect(beta).not.toContain(r.json.id);
  });

  it('a switch announced once per party reaches each party once, the DNO and the System Operators, and nobody else', async () => {
    const asset = await register('fsp-a');
    const data = { switchId: 'SW-1', assetId: asset.id, losingFspId: DEMO['fsp-a'], gainingFspId: DEMO['fsp-b'], status: 'PENDING' };
    // As the switching module writes it: one copy for each FSP.
    await hub.db.transaction((tx) =>
      writeEvents(tx, hub.ctx.ids, hub.clock.now(), [
        { type: 'fmar.switch.requested', subject: 'SW-1', organisationId: DEMO['fsp-a'], data },
        { type: 'fmar.switch.requested', subject: 'SW-1', organisationId: DEMO['fsp-b'], data },
      ]),
    );
    const rows = await hub.db.query(
      `SELECT r.organisation_id, r.event_id, e.organisation_id AS named, r.reasons FROM event_recipient r JOIN event_outbox e ON e.id = r.event_id WHERE e.subject = 'SW-1'`,
    );
    const by = Object.fromEntries(rows.map((r) => [r.organisation_id, r]));
    expect(Object.keys(by).sort()).toEqual([DEMO['fsp-a'], DEMO['fsp-b'], DEMO.dno, so.id].sort());
    expect(rows).toHaveLength(4); // each once
    expect(by[DEMO['fsp-a']]).toMatchObject({ named: DEMO['fsp-a'], reasons: ['asset-fsp', 'losing-fsp', 'record-organisation'] });
    expect(by[DEMO['fsp-b']]).toMatchObject({ named: DEMO['fsp-b'], reasons: ['gaining-fsp', 'record-organisation'] });
    expect(by[DEMO.dno].reasons).toEqual(['dno']);
    expect(by[so.id].reasons).toEqual(['system-operator']);
    // An FSP's feed carries the change once.
    const alpha = (await hub.call('GET', `${API}/events?limit=1000`, { as: 'fsp-a' })).json.items.filter((e: any) => e.subject === 'SW-1');
    expect(alpha).toHaveLength(1);
    // The System Operator sees every event on the feed (events.read) and now receives this one by webhook.
    expect(
      (await hub.call('GET', `${API}/events?limit=1000`, { as: so.token })).json.items.filter((e: any) => e.subject === 'SW-1'),
    ).toHaveLength(2);
  });

  it('a delegation reaches both parties once each', async () => {
    const d = await hub.call('POST', `${API}/delegations`, {
      as: 'fsp-a',
      body: { delegateId: DEMO['fsp-b'], scopes: ['assets:read'], validTo: new Date(hub.clock.now().getTime() + 86_400_000).toISOString() },
    });
    expect(d.status, JSON.stringify(d.json)).toBe(201);
    for (const as of ['fsp-a', 'fsp-b'] as const) {
      const feed = (await hub.call('GET', `${API}/events?limit=1000`, { as })).json.items.filter((e: any) => e.subject === d.json.id);
      expect(
        feed.map((e: any) => e.type),
        as,
      ).toEqual(['fmar.delegation.granted']);
    }
  });

  it('docs/events.md names every reason of the policy and every webhook rule code', () => {
    const md = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../docs/events.md'), 'utf8');
    for (const r of RECIPIENT_POLICY) expect(md, r.reason).toContain(`\`${r.reason}\``);
    for (const code of Object.keys(RULES).filter((c) => c.startsWith('WEBHOOK-'))) expect(md, code).toContain(code);
  });
});

describe('webhook subscriptions', () => {
  it('creates with a secret shown once, reads, lists, updates with If-Match, and keeps other organisations out', async () => {
    const s = await subscribe('fsp-a', '/crud', { description: 'ops', eventTypes: ['fmar.asset.*', 'fmar.asset.*'] });
    expect(s).toMatchObject({
      organisationId: DEMO['fsp-a'],
      eventTypes: ['fmar.asset.*'],
      allEvents: false,
      enabled: true,
      pendingDeliveries: 0,
      deadLetters: 0,
      version: 1,
    });
    expect(s.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(s.secret.slice(6), 'base64')).toHaveLength(32);
    const got = await hub.call('GET', `${API}/webhooks/${s.id}`, { as: 'fsp-a' });
    expect(got.status).toBe(200);
    expect(got.json.secret).toBeUndefined();
    expect(got.text).not.toContain(s.secret.slice(6));
    expect(got.headers.get('etag')).toBe('"1"');
    expect((await hub.call('GET', `${API}/webhooks`, { as: 'fsp-a' })).json.items.map((x: any) => x.id)).toContain(s.id);
    expect((await hub.call('GET', `${API}/webhooks`, { as: 'fsp-b' })).json.items.map((x: any) => x.id)).not.toContain(s.id);
    expect((await hub.call('GET', `${API}/webhooks/${s.id}`, { as: 'fsp-b' })).json.code).toBe('WEBHOOK-NOT-FOUND');
    expect(
      (await hub.call('PATCH', `${API}/webhooks/${s.id}`, { as: 'fsp-b', body: { enabled: false }, headers: { 'if-match': '"1"' } }))
        .status,
    ).toBe(404);

    expect((await hub.call('PATCH', `${API}/webhooks/${s.id}`, { as: 'fsp-a', body: { enabled: false } })).json.code).toBe(
      'REQUEST-IF-MATCH-REQUIRED',
    );
    expect(
      (await hub.call('PATCH', `${API}/webhooks/${s.id}`, { as: 'fsp-a', body: { enabled: false }, headers: { 'if-match': '"7"' } }))
        .status,
    ).toBe(412);
    const off = await hub.call('PATCH', `${API}/webhooks/${s.id}`, {
      as: 'fsp-a',
      body: { enabled: false, description: null },
      headers: { 'if-match': '"1"' },
    });
    expect(off.status, JSON.stringify(off.json)).toBe(200);
    expect(off.json).toMatchObject({ enabled: false, description: null, version: 2 });
    const audit = await hub.db.query(
      `SELECT action FROM audit_log WHERE record_type = 'webhook_subscription' AND record_id = $1 ORDER BY id`,
      [s.id],
    );
    expect(audit.map((a) => a.action)).toEqual(['webhook.created', 'webhook.updated']);
    expect(JSON.stringify(await hub.db.query(`SELECT detail FROM audit_log WHERE record_id = $1`, [s.id]))).not.toContain(s.secret);
    expect((await hub.call('DELETE', `${API}/webhooks/${s.id}`, { as: 'fsp-a', headers: { 'if-match': '"1"' } })).status).toBe(412);
    // The precondition answers as every versioned record's does (src/kernel/versioned.ts).
    const stale = await hub.call('PATCH', `${API}/webhooks/${s.id}`, {
      as: 'fsp-a',
      body: { enabled: true },
      headers: { 'if-match': '"1"' },
    });
    expect([stale.status, stale.json.code, stale.json.detail, stale.json.currentVersion]).toEqual([
      412,
      'REQUEST-PRECONDITION-FAILED',
      `Subscription ${s.id} is at version 2, not 1.`,
      2,
    ]);
    expect((await hub.call('DELETE', `${API}/webhooks/${s.id}`, { as: 'fsp-a', headers: { 'if-match': '"2"' } })).status).toBe(204);
    expect((await hub.call('GET', `${API}/webhooks/${s.id}`, { as: 'fsp-a' })).status).toBe(404);
  });

  it('refuses bad subscriptions with their rule codes, creating nothing', async () => {
    const before = (await hub.db.query(`SELECT count(*)::int AS n FROM webhook_subscription`))[0].n;
    const bad: [Record<string, unknown>, string][] = [
      [{ url: 'http://hooks.example.com/in' }, 'WEBHOOK-URL-SCHEME'],
      [{ url: 'ftp://127.0.0.1/in' }, 'WEBHOOK-URL-SCHEME'],
      [{ url: 'not a url' }, 'WEBHOOK-URL-INVALID'],
      [{ url: 'https://user:pw@hooks.example.com/in' }, 'WEBHOOK-URL-INVALID'],
      [{ url: 'https://hooks.example.com/in', eventTypes: ['fmar.*.registered'] }, 'WEBHOOK-EVENT-TYPE'],
      [{ url: 'https://hooks.example.com/in', eventTypes: ['FMAR.asset'] }, 'WEBHOOK-EVENT-TYPE'],
      [{ url: 'https://hooks.example.com/in', allEvents: true }, 'WEBHOOK-ALL-EVENTS'],
    ];
    for (const [body, code] of bad) {
      const r = await hub.call('POST', `${API}/webhooks`, { as: 'fsp-a', body });
      expect([r.status, r.json.errors?.[0]?.code], JSON.stringify(body)).toEqual([422, code]);
    }
    expect((await hub.call('POST', `${API}/webhooks`, { as: 'installer', body: { url: 'https://hooks.example.com/in' } })).json.code).toBe(
      'AUTH-SCOPE-MISSING',
    );
    expect((await hub.db.query(`SELECT count(*)::int AS n FROM webhook_subscription`))[0].n).toBe(before);
    // The operator (sees every event) may take every event.
    const all = await hub.call('POST', `${API}/webhooks`, {
      as: 'operator',
      body: { url: 'https://hooks.example.com/all', allEvents: true },
    });
    expect([all.status, all.json.allEvents]).toEqual([201, true]);
    await unsubscribe(all.json);
  });

  it('in production refuses non-https and non-public addresses (the SSRF guard), and allows public ones', () => {
    const prod = { production: true };
    for (const url of [
      'http://127.0.0.1/in',
      'http://localhost:8080/in',
      'https://127.0.0.1/in',
      'https://10.1.2.3/in',
      'https://172.20.0.1/in',
      'https://192.168.1.1/in',
      'https://169.254.169.254/latest/meta-data',
      'https://100.64.0.1/',
      'https://0.0.0.0/',
      'https://2130706433/',
      'https://0x7f.1/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[fd00::1]/',
      'https://[fe80::1]/',
      'https://[::]/',
      'https://[64:ff9b::a00:1]/',
      'https://localhost/',
      'https://localhost./',
      'https://127.0.0.1./',
      'https://metadata.internal/',
      'https://printer.local/',
      'https://intranet/',
      'https://intranet./',
    ]) {
      expect(urlRefusal(url, prod)?.code, url).toMatch(/^WEBHOOK-URL-(SCHEME|PRIVATE)$/);
    }
    for (const url of [
      'https://hooks.example.com/in',
      'https://8.8.8.8/in',
      'https://[2001:4860:4860::8888]/in',
      'https://hooks.example.com:8443/in?x=1',
    ])
      expect(urlRefusal(url, prod), url).toBeUndefined();
    // Development: http for the local machine only.
    expect(urlRefusal('http://127.0.0.1:9/in', { production: false })).toBeUndefined();
    expect(urlRefusal('http://[::1]:9/in', { production: false })).toBeUndefined();
    expect(urlRefusal('http://10.0.0.1/in', { production: false })?.code).toBe('WEBHOOK-URL-SCHEME');
  });

  it('type filters: exact, prefix.* and *', () => {
    expect(typeMatches('*', 'fmar.asset.registered')).toBe(true);
    expect(typeMatches('fmar.asset.*', 'fmar.asset.registered')).toBe(true);
    expect(typeMatches('fmar.asset.*', 'fmar.assets.registered')).toBe(false);
    expect(typeMatches('fmar.asset.*', 'fmar.asset')).toBe(false);
    expect(typeMatches('fmar.switch.effective', 'fmar.switch.effective')).toBe(true);
    expect(typeMatches('fmar.switch.effective', 'fmar.switch.effective-x')).toBe(false);
  });
});

describe('delivery', () => {
  it('delivers a change to the subscriptions of its recipients only, as a signed CloudEvent, per their filters', async () => {
    const a = await subscribe('fsp-a', '/a', { eventTypes: ['fmar.asset.*'] });
    const b = await subscribe('fsp-b', '/b', { eventTypes: ['*'] });
    const d = await subscribe('dno', '/d', { eventTypes: ['fmar.asset.registered'] });
    const s = await subscribe(so.token, '/so', { eventTypes: ['fmar.asset.*'] });
    const asset = await register('fsp-a');
    const client = await hub.call('POST', `${API}/clients`, {
      as: 'fsp-a',
      body: { name: 'filter check', authMethod: 'client_secret_basic' },
    });
    expect(client.status).toBe(201);
    const assetEvent = await eventOf(asset.id);
    const clientEvent = await eventOf(client.json.clientId, 'fmar.client.created');
    // The deliveries exist from the commit of the change, before any worker runs.
    expect((await hub.call('GET', `${API}/webhooks/${a.id}/deliveries`, { as: 'fsp-a' })).json.items).toEqual([
      expect.objectContaining({ eventId: assetEvent, status: 'PENDING', attempts: 0 }),
    ]);

    expect(await drain()).toBe(2);
    const [got] = receiver.get('/a').acked;
    expect(receiver.get('/a').received).toHaveLength(1);
    expect(got).toMatchObject({ eventId: assetEvent, verified: true, signatures: 1, type: 'fmar.asset.registered', subject: asset.id });
    expect(got.contentType).toBe('application/cloudevents+json; charset=utf-8');
    expect(got.body).toEqual({
      specversion: '1.0',
      id: assetEvent,
      source: 'http://hub.test',
      type: 'fmar.asset.registered',
      subject: asset.id,
      time: asset.recordedAt,
      datacontenttype: 'application/json',
      data: expect.objectContaining({ assetId: asset.id, fspId: DEMO['fsp-a'], dno: 'SPEN_SPM' }),
    });
    // The DNO of the network hears of it; Beta (another FSP) and the SO (not a recipient of registrations) do not; Alpha's filter keeps the client event out.
    expect(receiver.get('/d').acked.map((x) => x.eventId)).toEqual([assetEvent]);
    expect(receiver.get('/b').received).toEqual([]);
    expect(receiver.get('/so').received).toEqual([]);
    expect(receiver.get('/a').received.map((x) => x.eventId)).not.toContain(clientEvent);
    const listed = await hub.call('GET', `${API}/webhooks/${a.id}/deliveries`, { as: 'fsp-a' });
    expect(listed.json.items).toEqual([
      expect.objectContaining({
        eventId: assetEvent,
        type: 'fmar.asset.registered',
        status: 'DELIVERED',
        attempts: 1,
        lastStatus: 204,
        lastError: null,
        nextAttemptAt: null,
      }),
    ]);
    await unsubscribe(a, b, d, s);
  });

  it('retries a failing receiver with exponential backoff, dead-letters after the bound, shows it, and replays it', async () => {
    const f = await subscribe('fsp-b', '/fail', {}, 'fail');
    const asset = await register('fsp-b', ukpn());
    const ev = await eventOf(asset.id);
    const row = async () =>
      (
        await hub.db.query<{ next_attempt_at: Date; [k: string]: any }>(
          `SELECT * FROM webhook_delivery WHERE subscription_id = $1 AND event_id = $2`,
          [f.id, ev],
        )
      )[0];
    const waits: number[] = [];
    for (let n = 1; n <= 10; n++) {
      const before = hub.clock.now().getTime();
      expect((await deliverDue(hub.db, hub.clock, OPTS)).claimed, `attempt ${n}`).toBe(1);
      // Not due again before its backoff.
      expect((await deliverDue(hub.db, hub.clock, OPTS)).claimed).toBe(0);
      const r = await row();
      expect(r.attempts).toBe(n);
      if (n < 10) {
        expect(r).toMatchObject({ status: 'PENDING', last_status: 500, last_error: 'HTTP 500' });
        waits.push(new Date(r.next_attempt_at).getTime() - before);
        hub.clock.set(new Date(r.next_attempt_at).toISOString());
      } else {
        expect(r.status).toBe('DEAD');
        expect(r.last_error).toBe('HTTP 500; gave up after 10 attempt(s)');
      }
    }
    // 30 s × 2^(n−1) (random = 1: the top of the jitter range).
    expect(waits).toEqual([30, 60, 120, 240, 480, 960, 1920, 3840, 7680].map((s) => s * 1000));
    expect(receiver.get('/fail').received).toHaveLength(10);
    expect(receiver.get('/fail').received.every((x) => x.verified && x.eventId === ev)).toBe(true);
    hub.clock.advance(86_400_000);
    expect(await drain()).toBe(0); // a dead letter is never retried by itself

    // Visible: the count on the subscription, the list filtered to DEAD.
    expect((await hub.call('GET', `${API}/webhooks/${f.id}`, { as: 'fsp-b' })).json).toMatchObject({
      deadLetters: 1,
      pendingDeliveries: 0,
    });
    const dead = await hub.call('GET', `${API}/webhooks/${f.id}/deliveries?status=DEAD`, { as: 'fsp-b' });
    expect(dead.json.items).toEqual([
      expect.objectContaining({
        eventId: ev,
        status: 'DEAD',
        attempts: 10,
        lastStatus: 500,
        deadAt: expect.any(String),
        nextAttemptAt: null,
      }),
    ]);

    // Replay one: delivered once the receiver is fixed.
    receiver.get('/fail').mode = 'ok';
    const replay = await hub.call('POST', `${API}/webhooks/${f.id}/deliveries/${ev}/replay`, { as: 'fsp-b' });
    expect(replay.status, JSON.stringify(replay.json)).toBe(200);
    expect(replay.json).toMatchObject({ status: 'PENDING', attempts: 0 });
    expect((await hub.call('POST', `${API}/webhooks/${f.id}/deliveries/${ev}/replay`, { as: 'fsp-b' })).json.code).toBe(
      'WEBHOOK-DELIVERY-PENDING',
    );
    expect((await hub.call('POST', `${API}/webhooks/${f.id}/deliveries/${ev}/replay`, { as: 'fsp-a' })).json.code).toBe(
      'WEBHOOK-NOT-FOUND',
    );
    expect(
      (await hub.call('POST', `${API}/webhooks/${f.id}/deliveries/01JZZZZZZZZZZZZZZZZZZZZZZZ/replay`, { as: 'fsp-b' })).json.code,
    ).toBe('WEBHOOK-DELIVERY-NOT-FOUND');
    expect(await drain()).toBe(1);
    expect(receiver.get('/fail').acked.map((x) => x.eventId)).toEqual([ev]);
    expect((await row()).status).toBe('DELIVERED');

    // Bulk: every dead letter of the subscription, after a dead-lettering by age (3 days from scheduling).
    receiver.get('/fail').mode = 'fail';
    const more = [await register('fsp-b', ukpn()), await register('fsp-b', ukpn())];
    expect(await drain()).toBe(2);
    hub.clock.advance(3 * 86_400_000);
    expect(await drain()).toBe(2);
    const deadNow = (await hub.call('GET', `${API}/webhooks/${f.id}/deliveries?status=DEAD`, { as: 'fsp-b' })).json.items;
    expect(deadNow.map((x: any) => [x.subject, x.attempts]).sort()).toEqual(more.map((m) => [m.id, 2]).sort());
    receiver.get('/fail').mode = 'ok';
    const bulk = await hub.call('POST', `${API}/webhooks/${f.id}/deliveries/replay`, { as: 'fsp-b' });
    expect(bulk.json).toEqual({ replayed: 2 });
    expect(await drain()).toBe(2);
    expect(
      receiver
        .get('/fail')
        .acked.map((x) => x.subject)
        .sort(),
    ).toEqual([asset.id, ...more.map((m) => m.id)].sort());
    expect((await hub.call('GET', `${API}/webhooks/${f.id}`, { as: 'fsp-b' })).json).toMatchObject({
      deadLetters: 0,
      pendingDeliveries: 0,
    });
    expect(
      await hub.db.query(`SELECT detail FROM audit_log WHERE record_id = $1 AND action = 'webhook.delivery-replayed' ORDER BY id`, [f.id]),
    ).toEqual([{ detail: { eventIds: [ev], from: 'DEAD' } }, { detail: { count: 2, from: 'DEAD' } }]);
    await unsubscribe(f);
  });

  it('honours Retry-After, and disables a subscription whose receiver answers 410 Gone', async () => {
    const busy = await subscribe('fsp-b', '/busy', {}, 'busy');
    const asset = await register('fsp-b', ukpn());
    expect(await drain()).toBe(1);
    const [r] = await hub.db.query<{ next_attempt_at: Date; last_status: number | null; subject: string }>(
      `SELECT d.next_attempt_at, d.last_status, e.subject FROM webhook_delivery d JOIN event_outbox e ON e.id = d.event_id WHERE d.subscription_id = $1`,
      [busy.id],
    );
    expect([new Date(r.next_attempt_at).getTime() - hub.clock.now().getTime(), r.last_status, r.subject]).toEqual([
      3_600_000,
      503,
      asset.id,
    ]);
    await unsubscribe(busy);

    const gone = await subscribe('fsp-b', '/gone', {}, 'gone');
    await register('fsp-b', ukpn());
    expect(await drain()).toBe(1);
    const s = (await hub.call('GET', `${API}/webhooks/${gone.id}`, { as: 'fsp-b' })).json;
    expect(s).toMatchObject({ enabled: false, disabledReason: 'The receiver answered 410 Gone.', deadLetters: 1 });
    // Disabled: new events make no deliveries.
    await register('fsp-b', ukpn());
    expect((await hub.call('GET', `${API}/webhooks/${gone.id}/deliveries`, { as: 'fsp-b' })).json.items).toHaveLength(1);
    await unsubscribe(gone);
  });

  it('signs with both secrets for 24 h after a rotation, then with the new one only', async () => {
    const w = await subscribe('fsp-b', '/rot');
    const old = receiver.get('/rot').secrets[0];
    const rotated = await hub.call('POST', `${API}/webhooks/${w.id}/rotate-secret`, { as: 'fsp-b' });
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).toMatch(/^whsec_/);
    expect(rotated.json.secret).not.toBe(old);
    expect(rotated.json.previousSecretExpiresAt).toBe(new Date(hub.clock.now().getTime() + 86_400_000).toISOString());
    expect((await hub.call('POST', `${API}/webhooks/${w.id}/rotate-secret`, { as: 'fsp-b' })).json.code).toBe('WEBHOOK-ROTATION-OPEN');

    // A receiver still on the old secret verifies, and one on the new.
    receiver.get('/rot').secrets = [old];
    await register('fsp-b', ukpn());
    await drain();
    receiver.get('/rot').secrets = [rotated.json.secret];
    await register('fsp-b', ukpn());
    await drain();
    expect(receiver.get('/rot').received.map((x) => [x.verified, x.signatures])).toEqual([
      [true, 2],
      [true, 2],
    ]);
    hub.clock.advance(86_400_001);
    receiver.get('/rot').secrets = [old];
    await register('fsp-b', ukpn());
    await drain({ maxAttempts: 1 });
    expect(receiver.get('/rot').received.at(-1)).toMatchObject({ verified: false, signatures: 1 });

    // A leaked secret: revokePrevious ends it at once.
    const again = await hub.call('POST', `${API}/webhooks/${w.id}/rotate-secret`, { as: 'fsp-b', body: { revokePrevious: true } });
    expect([again.status, again.json.previousSecretExpiresAt]).toEqual([200, null]);
    await unsubscribe(w);
  });
});

describe('a test delivery (POST /webhooks/{id}/test)', () => {
  it('sends a signed test event through the delivery path to that subscription alone, records the answer, and only for its owner', async () => {
    const w = await subscribe('fsp-b', '/test-ok', { eventTypes: ['fmar.switch.*'] });
    const other = await subscribe('fsp-b', '/test-other');
    const all = await subscribe('operator', '/test-all', { allEvents: true });
    const r = await hub.call('POST', `${API}/webhooks/${w.id}/test`, { as: 'fsp-b' });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const eventId = r.json.eventId;
    expect(r.json).toEqual({
      subscriptionId: w.id,
      eventId,
      type: 'fmar.webhook.test',
      subject: w.id,
      status: 'DELIVERED',
      attempts: 1,
      nextAttemptAt: null,
      lastAttemptAt: hub.clock.now().toISOString(),
      lastStatus: 204,
      lastError: null,
      deliveredAt: hub.clock.now().toISOString(),
      deadAt: null,
      createdAt: hub.clock.now().toISOString(),
    });
    // Signed as every delivery, whatever the subscription's filters; no other subscription, no feed.
    expect(receiver.get('/test-ok').acked.map((x) => [x.eventId, x.verified, x.type, x.body.data])).toEqual([
      [eventId, true, 'fmar.webhook.test', { subscriptionId: w.id, url: w.url, requestedBy: expect.any(String) }],
    ]);
    expect([receiver.get('/test-other').received, receiver.get('/test-all').received]).toEqual([[], []]);
    expect(await drain()).toBe(0);
    const feed = await hub.call('GET', `${API}/events?limit=1000`, { as: 'operator' });
    expect(feed.json.items.map((e: { id: string }) => e.id)).not.toContain(eventId);
    expect((await hub.call('GET', `${API}/webhooks/${w.id}/deliveries`, { as: 'fsp-b' })).json.items).toEqual([
      expect.objectContaining({ eventId, status: 'DELIVERED', lastStatus: 204 }),
    ]);
    const [audit] = await hub.db.query(`SELECT action, detail FROM audit_log WHERE record_id = $1 AND action = 'webhook.test-sent'`, [
      w.id,
    ]);
    expect(audit).toEqual({ action: 'webhook.test-sent', detail: { eventId } });

    // Another organisation, even the operator, does not reach it.
    for (const as of ['fsp-a', 'operator'] as const) {
      const refused = await hub.call('POST', `${API}/webhooks/${w.id}/test`, { as });
      expect([refused.status, refused.json.code]).toEqual([404, 'WEBHOOK-NOT-FOUND']);
    }
    await unsubscribe(w, other, all);
  });

  it('records a failing receiver’s answer, retried like any delivery; a disabled subscription is refused', async () => {
    const f = await subscribe('fsp-b', '/test-fail', {}, 'fail');
    const r = await hub.call('POST', `${API}/webhooks/${f.id}/test`, { as: 'fsp-b' });
    expect([r.status, r.json.status, r.json.attempts, r.json.lastStatus, r.json.lastError]).toEqual([200, 'PENDING', 1, 500, 'HTTP 500']);
    // The first retry as any delivery's: 30 s, jittered down to half.
    const wait = new Date(r.json.nextAttemptAt).getTime() - hub.clock.now().getTime();
    expect(wait >= 15_000 && wait <= 30_000, `${wait} ms`).toBe(true);

    const s = (await hub.call('GET', `${API}/webhooks/${f.id}`, { as: 'fsp-b' })).json;
    const off = await hub.call('PATCH', `${API}/webhooks/${f.id}`, {
      as: 'fsp-b',
      body: { enabled: false },
      headers: { 'if-match': `"${s.version}"` },
    });
    expect(off.status).toBe(200);
    const before = await hub.db.query(`SELECT count(*)::int AS n FROM event_outbox`);
    const refused = await hub.call('POST', `${API}/webhooks/${f.id}/test`, { as: 'fsp-b' });
    expect([refused.status, refused.json.code, refused.json.detail]).toEqual([
      409,
      'WEBHOOK-TEST-DISABLED',
      `${f.url} is disabled: enable it, then send the test again.`,
    ]);
    expect(await hub.db.query(`SELECT count(*)::int AS n FROM event_outbox`)).toEqual(before);
    await unsubscribe(f);
  });
});

describe('the worker loop (as src/node.ts runs it)', () => {
  it('delivers on its own, runs a pass when woken, and stops', async () => {
    const w = await subscribe('fsp-b', '/loop');
    const errors: unknown[] = [];
    const worker = startDeliveryWorker(hub.db, hub.clock, { ...OPTS, intervalMs: 60_000, onError: (e) => errors.push(e) });
    const until = async (n: number) => {
      for (let i = 0; i < 300 && receiver.get('/loop').acked.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    try {
      await register('fsp-b', ukpn());
      worker.wake(); // the interval is a minute: only the wake makes this pass
      await until(1);
      expect(receiver.get('/loop').acked).toHaveLength(1);
    } finally {
      await worker.stop();
    }
    await register('fsp-b', ukpn());
    worker.wake();
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.get('/loop').acked).toHaveLength(1); // stopped: no more passes
    expect(errors).toEqual([]);
    await unsubscribe(w);
  });

  it('several workers at once share the due deliveries without sending one twice (FOR UPDATE SKIP LOCKED)', async () => {
    const w = await subscribe('fsp-b', '/many');
    const n = 24;
    const made = [];
    for (let i = 0; i < n; i++) made.push((await register('fsp-b', ukpn())).id);
    const reports = await Promise.all([1, 2, 3].map(() => deliverDue(hub.db, hub.clock, { ...OPTS, batchSize: 10 })));
    expect(reports.reduce((t, r) => t + r.claimed, 0)).toBe(n);
    expect(
      receiver
        .get('/many')
        .acked.map((x) => x.subject)
        .sort(),
    ).toEqual(made.sort());
    await unsubscribe(w);
  });

  it('backs off exponentially with jitter between half and all of the step, capped', () => {
    const o = { baseDelayMs: 30_000, maxDelayMs: 6 * 3_600_000 };
    expect([1, 2, 3].map((n) => backoffMs(n, o, () => 0))).toEqual([15_000, 30_000, 60_000]);
    expect([1, 2, 3].map((n) => backoffMs(n, o, () => 1))).toEqual([30_000, 60_000, 120_000]);
    expect(backoffMs(30, o, () => 1)).toBe(6 * 3_600_000);
  });
});

// ---- A hub that can be killed and started again on the same database.
async function persistentDb(): Promise<{ open: () => Promise<Db>; drop: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const dir = mkdtempSync(join(tmpdir(), 'fmar-webhooks-'));
    return { open: () => pgliteDb(dir), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `fmar_test_webhooks_${Date.now()}`;
  const admin = postgresDb(url, { max: 1 });
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.close();
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    open: async () => postgresDb(u.toString(), { max: 4 }),
    drop: async () => {
      const a = postgresDb(url, { max: 1 });
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.close();
    },
  };
}

async function startHub(store: { open: () => Promise<Db> }, clock: TestClock) {
  const db = await store.open();
  const cfg = loadConfig({
    FMAR_MODE: 'development',
    FMAR_BASE_URL: 'http://hub.test',
    FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '0',
    FMAR_RATE_LIMIT_ORG_PER_MINUTE: '0',
  });
  const h = await assemble(cfg, db, clock);
  const app = buildApp(h.ports);
  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const o = DEMO_ORGANISATIONS.find((d) => d.key === key)!;
    const token = await h.signer!.sign({ sub: `test-${key}`, org: o.id, roles: o.roles as OrganisationRole[] });
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  return { db, call, ctx: { db, clock, ids: h.ports.ids, hooks: standardHooks() } };
}

describe('a crash of the hub mid-delivery', () => {
  it('loses no event and delivers none to the wrong party: every delivery is made again after the restart', async () => {
    const clock = new TestClock();
    const store = await persistentDb();
    const rx = new Receiver(() => clock.now());
    await rx.start();
    try {
      let h = await startHub(store, clock);
      await seedDemo(h.ctx, systemPrincipal('seed'));
      const subs: Record<string, { key: string; id: string }> = {};
      for (const [key, path] of [
        ['fsp-a', '/a'],
        ['fsp-b', '/b'],
        ['dno', '/d'],
      ] as const) {
        const r = await h.call('POST', `${API}/webhooks`, key, { url: rx.endpoint(path, key === 'fsp-a' ? 'hang' : 'ok') });
        expect(r.status, JSON.stringify(r.json)).toBe(201);
        rx.get(path).secrets = [r.json.secret];
        subs[path] = { key, id: r.json.id };
      }
      // Alpha: 3 assets on SPEN (Alpha + the DNO); Beta: 2 on SPEN (Beta + DNO), 2 on UKPN (Beta only).
      const made: { id: string; fsp: string; dno: string }[] = [];
      const reg = async (key: 'fsp-a' | 'fsp-b', n: number, dno: 'SPEN_SPM' | 'UKPN_EPN') => {
        const r = await h.call(
          'POST',
          `${API}/assets`,
          key,
          batteryInput(9000 + n, dno === 'UKPN_EPN' ? { dno, importMpan: mpanFor(9000 + n, '10') } : {}),
        );
        expect(r.status, JSON.stringify(r.json)).toBe(201);
        made.push({ id: r.json.id, fsp: DEMO[key], dno });
      };
      for (let i = 0; i < 3; i++) await reg('fsp-a', i, 'SPEN_SPM');
      for (let i = 3; i < 5; i++) await reg('fsp-b', i, 'SPEN_SPM');
      for (let i = 5; i < 7; i++) await reg('fsp-b', i, 'UKPN_EPN');

      // The worker claims everything and POSTs; Alpha's receiver holds its answers; the hub dies.
      const inFlight = deliverDue(h.db, clock, { ...OPTS, timeoutMs: 30_000 }).then(
        () => 'recorded',
        (e: Error) => `failed: ${e.message}`,
      );
      for (let i = 0; i < 200 && rx.get('/a').held.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      expect(rx.get('/a').held).toHaveLength(3);
      await h.db.close();
      rx.release('/a'); // Alpha processed them, but the hub never heard.
      expect(await inFlight).toMatch(/^failed/);

      // Restart on the same database; more changes arrive; the leases run out; the worker goes on.
      h = await startHub(store, clock);
      rx.get('/a').mode = 'ok';
      await reg('fsp-a', 7, 'UKPN_EPN');
      const pass = () => deliverDue(h.db, clock, OPTS);
      expect((await pass()).claimed).toBe(1); // only the new one: the others are still leased
      clock.advance(60_001);
      for (let i = 0; i < 5 && (await pass()).claimed > 0; i++);
      expect(await h.db.query(`SELECT status, count(*)::int AS n FROM webhook_delivery GROUP BY status`)).toEqual([
        { status: 'DELIVERED', n: 3 + 1 + 4 + 5 },
      ]);

      // Each receiver got exactly the events of its organisation's records and network, each at least once, all verified.
      const eventIds = async (ids: string[]) =>
        (
          await h.db.query(`SELECT id FROM event_outbox WHERE type = 'fmar.asset.registered' AND subject = ANY($1::text[]) ORDER BY id`, [
            ids,
          ])
        ).map((r) => r.id);
      const expected = {
        '/a': await eventIds(made.filter((m) => m.fsp === DEMO['fsp-a']).map((m) => m.id)),
        '/b': await eventIds(made.filter((m) => m.fsp === DEMO['fsp-b']).map((m) => m.id)),
        '/d': await eventIds(made.filter((m) => m.dno === 'SPEN_SPM').map((m) => m.id)),
      };
      for (const [path, ids] of Object.entries(expected)) {
        const e = rx.get(path);
        expect(
          e.received.every((x) => x.verified),
          path,
        ).toBe(true);
        expect([...new Set(e.acked.map((x) => x.eventId))].sort(), path).toEqual(ids);
        expect([...new Set(e.received.map((x) => x.eventId))].sort(), `${path}: nothing else`).toEqual(ids);
      }
      // At least once: what was in flight when the hub died came again (the receiver dedupes by webhook-id).
      expect(rx.get('/a').acked.length).toBe(3 * 2 + 1);
      expect(rx.get('/b').acked.length).toBe(4 * 2);
      expect(rx.get('/d').acked.length).toBe(5 * 2);
      await h.db.close();
    } finally {
      await rx.stop();
      await store.drop();
    }
  });
});
