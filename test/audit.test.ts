import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../src/access/principal';
import { sealAudit, verifyAudit, writeAudit } from '../src/audit/audit';
import { DEMO, batteryInput, testHub, type TestHub } from './harness';

/** UC-05.06: the audit trail (append-only, hash-chained) and the change-event outbox and feed. */

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

let counter = 0;
/** A request ID the hub made (a ULID): audit records carry the ID of the request that wrote them. */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const next = () => ++counter;

async function count(table: string, where = 'TRUE', params: unknown[] = []): Promise<number> {
  const [r] = await hub.db.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params);
  return Number(r.n);
}
async function tally() {
  return { audit: await count('audit_log'), events: await count('event_outbox') };
}
async function lastAudit() {
  const [r] = await hub.db.query<{ occurred_at: Date; [k: string]: any }>(`SELECT * FROM audit_log ORDER BY id DESC LIMIT 1`);
  return r;
}
async function lastEvent() {
  const [r] = await hub.db.query(`SELECT * FROM event_outbox ORDER BY id DESC LIMIT 1`);
  return r;
}

async function newOrg(extra: Record<string, unknown> = {}) {
  const n = next();
  const r = await hub.call('POST', '/api/v1/organisations', {
    as: 'operator',
    body: {
      legalName: `Audit Org ${n} Ltd`,
      organisationType: 'LTD',
      registrationNumber: String(15_000_000 + n),
      roles: ['FSP'],
      status: 'ACTIVE',
      ...extra,
    },
  });
  expect(r.status).toBe(201);
  return r.json;
}

describe('every change writes its audit row and its event, in its transaction', () => {
  it('the demo seed is audited: one registration row and one event per organisation and asset', async () => {
    const orgs = await count('organisation');
    const assets = await count('asset');
    expect(await count('audit_log', `action = 'organisation.registered'`)).toBe(orgs);
    expect(await count('audit_log', `action = 'asset.registered'`)).toBe(assets);
    expect(await count('event_outbox', `type = 'fmar.organisation.registered'`)).toBe(orgs);
    expect(await count('event_outbox', `type = 'fmar.asset.registered'`)).toBe(assets);
  });

  it('organisation register, update and de-register: one audit row and one event each, with actor and time', async () => {
    let before = await tally();
    const org = await newOrg();
    expect(await tally()).toEqual({ audit: before.audit + 1, events: before.events + 1 });
    let a = await lastAudit();
    expect(a).toMatchObject({
      action: 'organisation.registered',
      record_type: 'organisation',
      record_id: org.id,
      organisation_id: org.id,
      seq: null,
    });
    expect(a.actor).toEqual({
      sub: 'test-operator',
      org: DEMO.operator,
      client_id: `dev-${DEMO.operator}`,
      request_id: expect.stringMatching(ULID),
    });
    expect(new Date(a.occurred_at).toISOString()).toBe(org.recordedAt);
    let e = await lastEvent();
    expect(e).toMatchObject({ type: 'fmar.organisation.registered', subject: org.id, organisation_id: org.id });
    expect(e.data).toMatchObject({ organisationId: org.id, roles: ['FSP'], status: 'ACTIVE' });

    before = await tally();
    hub.clock.advance(1000);
    const upd = await hub.call('PATCH', `/api/v1/organisations/${org.id}`, {
      as: 'operator',
      body: { tradingName: 'Audited' },
      headers: { 'if-match': '"1"' },
    });
    expect(upd.status).toBe(200);
    expect(await tally()).toEqual({ audit: before.audit + 1, events: before.events + 1 });
    a = await lastAudit();
    expect(a).toMatchObject({ action: 'organisation.updated', record_id: org.id, detail: { version: 2, changed: ['tradingName'] } });
    expect(new Date(a.occurred_at).toISOString()).toBe(upd.json.recordedAt);
    e = await lastEvent();
    expect(e).toMatchObject({ type: 'fmar.organisation.updated', subject: org.id, data: { version: 2, changed: ['tradingName'] } });

    before = await tally();
    const del = await hub.call('DELETE', `/api/v1/organisations/${org.id}`, { as: 'operator' });
    expect(del.status).toBe(200);
    expect(await tally()).toEqual({ audit: before.audit + 1, events: before.events + 1 });
    expect((await lastAudit()).action).toBe('organisation.deregistered');
    expect(await lastEvent()).toMatchObject({ type: 'fmar.organisation.deregistered', subject: org.id, organisation_id: org.id });
  });

  it('asset register, update and de-register: one audit row and one event each', async () => {
    let before = await tally();
    // No serial number: a WARNING data quality finding opens (DQ-SERIAL-REQUIRED), closed by the de-registration below.
    const reg = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(next(), { serialNumber: undefined }) });
    expect(reg.status).toBe(201);
    const id = reg.json.id;
    expect(await tally()).toEqual({ audit: before.audit + 1, events: before.events + 1 });
    expect(await lastAudit()).toMatchObject({
      action: 'asset.registered',
      record_type: 'asset',
      record_id: id,
      organisation_id: DEMO['fsp-a'],
      detail: { version: 1, fspId: DEMO['fsp-a'], source: 'api' },
    });
    expect(await lastEvent()).toMatchObject({
      type: 'fmar.asset.registered',
      subject: id,
      organisation_id: DEMO['fsp-a'],
      data: { assetId: id, category: 'BESS', dno: 'SPEN_SPM', version: 1 },
    });

    before = await tally();
    const name = await hub.call('PATCH', `/api/v1/assets/${id}`, {
      as: 'fsp-a',
      body: { name: 'Renamed battery' },
      headers: { 'if-match': '"1"' },
    });
    expect(name.status).toBe(200);
    expect(await tally()).toEqual({ audit: before.audit + 1, events: before.events + 1 });
    expect(await lastAudit()).toMatchObject({
      action: 'asset.updated',
      record_id: id,
      detail: { version: 2, changes: { name: [reg.json.name, 'Renamed battery'] } },
    });
    expect(await lastEvent()).toMatchObject({
      type: 'fmar.asset.updated',
      subject: id,
      data: { version: 2, changed: ['name'], materialChange: false },
    });

    const cap = await hub.call('PATCH', `/api/v1/assets/${id}`, {
      as: 'fsp-a',
      body: { ratedCapacityKw: 9 },
      headers: { 'if-match': '"2"' },
    });
    expect(cap.status).toBe(200);
    expect(await lastEvent()).toMatchObject({
      type: 'fmar.asset.updated',
      data: { version: 3, changed: ['ratedCapacityKw'], materialChange: true },
    });

    // The asset still has open data quality findings (docs/data-quality.md): de-registration closes them,
    // announced as one fmar.data-quality.finding-closed event beside the asset's own event.
    const openFindings = await count('dq_finding', 'asset_id = $1 AND resolved_at IS NULL', [id]);
    expect(openFindings).toBeGreaterThan(0);
    before = await tally();
    const lastBefore = (await lastEvent()).id;
    const del = await hub.call('DELETE', `/api/v1/assets/${id}`, { as: 'fsp-a' });
    expect(del.status).toBe(200);
    expect(await tally()).toEqual({ audit: before.audit + 1, events: before.events + 2 });
    expect(await lastAudit()).toMatchObject({ action: 'asset.deregistered', record_id: id, detail: { version: 4 } });
    const written = await hub.db.query(`SELECT type, subject, organisation_id, data FROM event_outbox WHERE id > $1 ORDER BY id`, [
      lastBefore,
    ]);
    expect(written.map((e: any) => e.type)).toEqual(['fmar.asset.deregistered', 'fmar.data-quality.finding-closed']);
    expect(written[0]).toMatchObject({ subject: id, organisation_id: DEMO['fsp-a'], data: { assetId: id, version: 4 } });
    expect(written[1]).toMatchObject({ subject: id });
    expect(await count('dq_finding', 'asset_id = $1 AND resolved_at IS NULL', [id])).toBe(0);

    const trail = await hub.call('GET', `/api/v1/audit?recordType=asset&recordId=${id}`, { as: 'operator' });
    expect(trail.json.items.map((x: any) => x.action)).toEqual([
      'asset.registered',
      'asset.updated',
      'asset.updated',
      'asset.deregistered',
    ]);
    expect(await count('event_outbox', `subject = $1 AND type LIKE 'fmar.asset.%'`, [id])).toBe(4);
  });

  it('refused changes write neither audit rows nor events', async () => {
    const before = await tally();
    const a = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(next(), { name: 'Bad!' }) });
    expect(a.status).toBe(422);
    const o = await hub.call('POST', '/api/v1/organisations', {
      as: 'operator',
      body: { legalName: 'Dup', organisationType: 'LTD', registrationNumber: '09000002', roles: ['FSP'] },
    });
    expect(o.status).toBe(409);
    const u = await hub.call('PATCH', `/api/v1/organisations/${DEMO['fsp-b']}`, {
      as: 'operator',
      body: { tradingName: 'x' },
      headers: { 'if-match': '"99"' },
    });
    expect(u.status).toBe(412);
    expect(await tally()).toEqual(before);
  });

  it('a failure after the audit row is written rolls the audit row back with the change', async () => {
    const reg = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(next()) });
    const id = reg.json.id;
    const before = { ...(await tally()), history: await count('record_history') };
    // The outbox insert comes after the asset update and the audit insert: make it fail.
    await hub.db.query(`ALTER TABLE event_outbox ADD CONSTRAINT test_no_updates CHECK (type <> 'fmar.asset.updated') NOT VALID`);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const r = await hub.call('PATCH', `/api/v1/assets/${id}`, {
        as: 'fsp-a',
        body: { name: 'Never stored' },
        headers: { 'if-match': '"1"' },
      });
      expect(r.status).toBe(500);
      expect(r.json.code).toBe('INTERNAL-ERROR');
      expect(logged).toHaveBeenCalled();
    } finally {
      logged.mockRestore();
      await hub.db.query(`ALTER TABLE event_outbox DROP CONSTRAINT test_no_updates`);
    }
    expect({ ...(await tally()), history: await count('record_history') }).toEqual(before);
    const cur = await hub.call('GET', `/api/v1/assets/${id}`, { as: 'fsp-a' });
    expect(cur.json).toMatchObject({ version: 1, name: reg.json.name });
    expect(await count('audit_log', `record_id = $1 AND action = 'asset.updated'`, [id])).toBe(0);
  });
});

describe('the event feed (GET /api/v1/events)', () => {
  it('returns CloudEvents oldest first, and pages with the after cursor', async () => {
    const all = await hub.call('GET', '/api/v1/events?limit=1000', { as: 'operator' });
    expect(all.status).toBe(200);
    const rows = await hub.db.query(`SELECT id, type, subject FROM event_outbox ORDER BY id`);
    expect(all.json.items.map((e: any) => e.id)).toEqual(rows.map((r) => r.id));
    expect(all.json.items[0]).toMatchObject({
      specversion: '1.0',
      source: 'http://hub.test',
      datacontenttype: 'application/json',
      type: rows[0].type,
      subject: rows[0].subject,
    });
    expect(all.json.nextCursor).toBe(rows.at(-1)!.id);

    const walked: string[] = [];
    let after = '';
    for (;;) {
      const page = await hub.call('GET', `/api/v1/events?limit=4${after ? `&after=${after}` : ''}`, { as: 'operator' });
      expect(page.status).toBe(200);
      if (page.json.items.length === 0) {
        expect(page.json.nextCursor).toBe(after);
        break;
      }
      walked.push(...page.json.items.map((e: any) => e.id));
      after = page.json.nextCursor;
    }
    expect(walked).toEqual(rows.map((r) => r.id));

    // Only what happened after the cursor.
    const cursor = rows.at(-1)!.id;
    const reg = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(next()) });
    const fresh = await hub.call('GET', `/api/v1/events?after=${cursor}`, { as: 'operator' });
    expect(fresh.json.items).toEqual([
      expect.objectContaining({ type: 'fmar.asset.registered', subject: reg.json.id, time: reg.json.recordedAt }),
    ]);
  });

  it('an FSP sees only events about its own records', async () => {
    const a = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(next()) });
    const b = await hub.call('POST', '/api/v1/assets', { as: 'fsp-b', body: batteryInput(next()) });
    expect([a.status, b.status]).toEqual([201, 201]);
    const feedB = await hub.call('GET', '/api/v1/events?limit=1000', { as: 'fsp-b' });
    expect(feedB.status).toBe(200);
    const subjects = feedB.json.items.map((e: any) => e.subject);
    expect(subjects).toContain(b.json.id);
    expect(subjects).toContain(DEMO['fsp-b']);
    expect(subjects).not.toContain(a.json.id);
    const own = new Set([
      DEMO['fsp-b'],
      ...(await hub.db.query(`SELECT id FROM asset WHERE fsp_id = $1 OR organisation_id = $1`, [DEMO['fsp-b']])).map((r) => r.id),
    ]);
    expect(subjects.every((s: string) => own.has(s))).toBe(true);
    expect(feedB.json.items.length).toBe(await count('event_outbox', 'organisation_id = $1', [DEMO['fsp-b']]));

    const feedA = await hub.call('GET', '/api/v1/events?limit=1000', { as: 'fsp-a' });
    expect(feedA.json.items.map((e: any) => e.subject)).not.toContain(b.json.id);
  });

  it('organisations without events:read are refused; a bad limit is 400', async () => {
    const r = await hub.call('GET', '/api/v1/events', { as: 'installer' });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('AUTH-SCOPE-MISSING');
    const l = await hub.call('GET', '/api/v1/events?limit=0', { as: 'operator' });
    expect(l.status).toBe(400);
  });
});

describe('the audit trail API', () => {
  it('lists a record’s trail oldest first, also when its row IDs cross a power of ten', async () => {
    const reg = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(next()) });
    const id = reg.json.id;
    const firstId = Number((await lastAudit()).id);
    // Jump the identity past the next power of ten: as text, '1000…' sorts before the first row's ID.
    const jump = 10 ** String(firstId).length * 10;
    await hub.db.query(`SELECT setval(pg_get_serial_sequence('audit_log', 'id'), $1::bigint)`, [jump]);
    for (let v = 1; v <= 2; v++) {
      const r = await hub.call('PATCH', `/api/v1/assets/${id}`, {
        as: 'fsp-a',
        body: { name: `Version ${v + 1}` },
        headers: { 'if-match': `"${v}"` },
      });
      expect(r.status).toBe(200);
    }
    expect(Number((await lastAudit()).id)).toBeGreaterThan(jump);
    const trail = await hub.call('GET', `/api/v1/audit?recordType=asset&recordId=${id}`, { as: 'operator' });
    expect(trail.json.items.map((x: any) => x.action)).toEqual(['asset.registered', 'asset.updated', 'asset.updated']);
    expect(trail.json.items.map((x: any) => x.detail.version)).toEqual([1, 2, 3]);
    expect(Number(trail.json.items[0].id)).toBe(firstId);
  });

  it('is for the operator (and regulator) only', async () => {
    const r = await hub.call('GET', `/api/v1/audit?recordType=organisation&recordId=${DEMO['fsp-a']}`, { as: 'fsp-a' });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('AUTH-SCOPE-MISSING');
    const v = await hub.call('POST', '/api/v1/audit/verify', { as: 'fsp-a' });
    expect(v.status).toBe(403);
    const bad = await hub.call('GET', '/api/v1/audit?recordType=widget&recordId=x', { as: 'operator' });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('REQUEST-QUERY-INVALID');
  });
});

/** The last sealed record as stored: the head a verified chain reports. */
async function storedHead() {
  const [h] = await hub.db.query<{ seq: string; hash: string }>(
    `SELECT seq::text AS seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY audit_log.seq DESC LIMIT 1`,
  );
  return h;
}

describe('the hash chain', () => {
  it('sealAudit seals every row; verifyAudit reports ok', async () => {
    const total = await count('audit_log');
    const sealedNow = await sealAudit(hub.db);
    expect(sealedNow).toBe(total);
    expect(await count('audit_log', 'seq IS NULL')).toBe(0);
    const seqs = (await hub.db.query(`SELECT seq::int AS seq FROM audit_log ORDER BY id`)).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(await verifyAudit(hub.db)).toEqual({
      ok: true,
      sealed: total,
      unsealed: 0,
      head: { seq: String(total), hash: (await storedHead()).hash },
    });
    expect(await sealAudit(hub.db)).toBe(0);
  });

  it('seals in batches and continues the chain across calls', async () => {
    for (let i = 0; i < 3; i++)
      expect((await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(next()) })).status).toBe(201);
    const unsealed = await count('audit_log', 'seq IS NULL');
    expect(unsealed).toBe(3);
    expect((await verifyAudit(hub.db)).unsealed).toBe(3);
    expect(await sealAudit(hub.db, 2)).toBe(3);
    const report = await verifyAudit(hub.db, 4);
    expect(report).toEqual({ ok: true, sealed: await count('audit_log'), unsealed: 0, head: await storedHead() });
  });

  it('POST /api/v1/audit/verify as the operator seals pending rows and reports ok', async () => {
    await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(next()) });
    const r = await hub.call('POST', '/api/v1/audit/verify', { as: 'operator' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true, sealed: await count('audit_log'), unsealed: 0, head: await storedHead() });
    const trail = await hub.call('GET', `/api/v1/audit?recordType=organisation&recordId=${DEMO['fsp-a']}`, { as: 'operator' });
    expect(trail.json.items[0].seq).toMatch(/^\d+$/);
  });

  it('the table is append-only: UPDATE and DELETE raise errors, sealed or not', async () => {
    const [sealed] = await hub.db.query(`SELECT id::text AS id FROM audit_log WHERE seq IS NOT NULL ORDER BY id LIMIT 1`);
    await expect(hub.db.query(`UPDATE audit_log SET detail = '{"x":1}'::jsonb WHERE id = $1::bigint`, [sealed.id])).rejects.toThrow(
      /never changed|append-only/,
    );
    await expect(hub.db.query(`UPDATE audit_log SET seq = 999999, hash = 'x' WHERE id = $1::bigint`, [sealed.id])).rejects.toThrow(
      /never changed|append-only/,
    );
    await expect(hub.db.query(`DELETE FROM audit_log WHERE id = $1::bigint`, [sealed.id])).rejects.toThrow(/append-only/);
    await expect(hub.db.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);

    const made = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(next()) });
    expect(made.status, made.text).toBe(201);
    const open = await hub.db.query(`SELECT id::text AS id, action, seq FROM audit_log WHERE record_id = $1 ORDER BY id`, [made.json.id]);
    expect(open.map((o) => [o.action, o.seq])).toEqual([['asset.registered', null]]); // not sealed yet
    await expect(hub.db.query(`UPDATE audit_log SET action = 'asset.forged' WHERE id = $1::bigint`, [open[0].id])).rejects.toThrow(
      /never changed|append-only/,
    );
    await expect(hub.db.query(`DELETE FROM audit_log WHERE id = $1::bigint`, [open[0].id])).rejects.toThrow(/append-only/);
    // Sealing (seq, prev_hash, hash only) is the one update allowed.
    await sealAudit(hub.db);
    expect((await verifyAudit(hub.db)).ok).toBe(true);
  });

  it('a changed sealed row is named as firstBroken (seq and id); restoring it mends the chain', async () => {
    await sealAudit(hub.db);
    const [victim] = await hub.db.query(`SELECT id::text AS id, seq::text AS seq, detail FROM audit_log WHERE seq = 5`);
    await hub.db.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`);
    try {
      await hub.db.query(`UPDATE audit_log SET detail = detail || '{"forged": true}'::jsonb WHERE id = $1::bigint`, [victim.id]);
    } finally {
      await hub.db.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`);
    }
    const report = await verifyAudit(hub.db);
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toEqual({ seq: '5', id: victim.id, reason: 'content does not match its hash' });
    expect(report.sealed).toBe(4);

    const api = await hub.call('POST', '/api/v1/audit/verify', { as: 'operator' });
    expect(api.status).toBe(200);
    expect(api.json.ok).toBe(false);
    expect(api.json.firstBroken).toMatchObject({ seq: '5', id: victim.id });

    await hub.db.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`);
    try {
      await hub.db.query(`UPDATE audit_log SET detail = $2::jsonb WHERE id = $1::bigint`, [victim.id, victim.detail]);
    } finally {
      await hub.db.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`);
    }
    expect((await verifyAudit(hub.db)).ok).toBe(true);
  });

  it('a re-hashed row still breaks the chain at the next record', async () => {
    const [victim] = await hub.db.query(`SELECT id::text AS id, seq::text AS seq, hash, action FROM audit_log WHERE seq = 3`);
    const [following] = await hub.db.query(`SELECT id::text AS id FROM audit_log WHERE seq = 4`);
    await hub.db.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`);
    try {
      await hub.db.query(`UPDATE audit_log SET hash = $2 WHERE id = $1::bigint`, [victim.id, 'f'.repeat(64)]);
      const r = await verifyAudit(hub.db);
      expect(r.ok).toBe(false);
      expect(r.firstBroken).toMatchObject({ seq: '3', id: victim.id });
      // A forger who fixes the row's hash still leaves the next record's prev_hash pointing at the old one.
      await hub.db.query(`UPDATE audit_log SET hash = $2 WHERE id = $1::bigint`, [victim.id, victim.hash]);
      await hub.db.query(`UPDATE audit_log SET prev_hash = $2 WHERE id = $1::bigint`, [following.id, 'e'.repeat(64)]);
      const r2 = await verifyAudit(hub.db);
      expect(r2.firstBroken).toEqual({ seq: '4', id: following.id, reason: 'prev_hash does not match the previous record' });
      await hub.db.query(`UPDATE audit_log SET prev_hash = $2 WHERE id = $1::bigint`, [following.id, victim.hash]);
    } finally {
      await hub.db.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`);
    }
    expect((await verifyAudit(hub.db)).ok).toBe(true);
  });

  it('a deleted sealed row is reported as a sequence gap at the record after it', async () => {
    const [victim] = await hub.db.query(`SELECT id::text AS id FROM audit_log WHERE seq = 7`);
    const [after] = await hub.db.query(`SELECT id::text AS id FROM audit_log WHERE seq = 8`);
    await hub.db.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`);
    try {
      await hub.db.query(`DELETE FROM audit_log WHERE id = $1::bigint`, [victim.id]);
    } finally {
      await hub.db.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`);
    }
    const report = await verifyAudit(hub.db);
    expect(report.ok).toBe(false);
    expect(report.sealed).toBe(6);
    expect(report.firstBroken).toEqual({ seq: '8', id: after.id, reason: 'sequence gap: expected 7' });
    const api = await hub.call('POST', '/api/v1/audit/verify', { as: 'operator' });
    expect(api.json).toMatchObject({ ok: false, firstBroken: { seq: '8', reason: 'sequence gap: expected 7' } });
  });
});

describe('audit access (UC-05.06): query, export and read-logging', () => {
  const T = (d: number) => new Date(Date.UTC(2030, 0, d)).toISOString();
  const who = (sub: string, extra: Partial<Principal> = {}): Principal => ({
    subject: sub,
    organisationId: DEMO['fsp-a'],
    roles: ['FSP'],
    scopes: [],
    dnoCodes: [],
    ...extra,
  });
  let orgX: string;

  beforeAll(async () => {
    orgX = `ORG-AUDIT-Q-${next()}`;
    // Known rows, far from the hub clock so that the time filter isolates them.
    await writeAudit(hub.db, who('q-alice', { clientId: 'q-client-1' }), new Date(T(1)), [
      { action: 'asset.registered', recordType: 'asset', recordId: 'Q-A1', organisationId: orgX },
    ]);
    await writeAudit(hub.db, who('q-alice', { clientId: 'q-client-1' }), new Date(T(2)), [
      { action: 'asset.updated', recordType: 'asset', recordId: 'Q-A1', organisationId: orgX, detail: { version: 2 } },
    ]);
    await writeAudit(hub.db, who('q-bob', { act: { sub: 'q-delegate', org: DEMO['fsp-b'] } }), new Date(T(3)), [
      { action: 'asset.updated', recordType: 'asset', recordId: 'Q-A2', organisationId: orgX },
    ]);
    await writeAudit(hub.db, who('=q-formula'), new Date(T(4)), [
      {
        action: 'organisation.updated',
        recordType: 'organisation',
        recordId: orgX,
        organisationId: orgX,
        detail: { note: 'a, "quoted"\nline' },
      },
    ]);
    await writeAudit(hub.db, who('q-alice', { clientId: 'q-client-2' }), new Date(T(5)), [
      { action: 'asset.deregistered', recordType: 'asset', recordId: 'Q-A1', organisationId: orgX },
    ]);
  });

  const query = async (qs: string, as = 'operator') => {
    const r = await hub.call('GET', `/api/v1/audit?${qs}`, { as });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return r.json as { items: any[]; nextCursor: string | null };
  };
  const ids = (items: any[]) => items.map((x) => `${x.recordId}:${x.action}`);

  it('filters by organisation, record, actor (sub, client, delegate), action (exact or prefix) and time', async () => {
    expect(ids((await query(`organisationId=${orgX}`)).items)).toEqual([
      'Q-A1:asset.registered',
      'Q-A1:asset.updated',
      'Q-A2:asset.updated',
      `${orgX}:organisation.updated`,
      'Q-A1:asset.deregistered',
    ]);
    expect(ids((await query(`recordType=asset&recordId=Q-A1`)).items)).toEqual([
      'Q-A1:asset.registered',
      'Q-A1:asset.updated',
      'Q-A1:asset.deregistered',
    ]);
    expect(ids((await query(`recordId=Q-A2`)).items)).toEqual(['Q-A2:asset.updated']);
    expect(ids((await query(`actorSub=q-alice`)).items)).toEqual([
      'Q-A1:asset.registered',
      'Q-A1:asset.updated',
      'Q-A1:asset.deregistered',
    ]);
    expect(ids((await query(`actorClient=q-client-2`)).items)).toEqual(['Q-A1:asset.deregistered']);
    expect(ids((await query(`actorAct=q-delegate`)).items)).toEqual(['Q-A2:asset.updated']);
    expect(ids((await query(`organisationId=${orgX}&action=asset.updated`)).items)).toEqual(['Q-A1:asset.updated', 'Q-A2:asset.updated']);
    expect(ids((await query(`organisationId=${orgX}&action=organisation.*`)).items)).toEqual([`${orgX}:organisation.updated`]);
    expect(ids((await query(`from=${T(2)}&to=${T(4)}`)).items)).toEqual(['Q-A1:asset.updated', 'Q-A2:asset.updated']);
    expect(ids((await query(`actorSub=q-alice&from=${T(2)}`)).items)).toEqual(['Q-A1:asset.updated', 'Q-A1:asset.deregistered']);
    expect((await query(`actorSub=nobody-at-all`)).items).toEqual([]);
    const one = (await query(`actorAct=q-delegate`)).items[0];
    expect(one).toMatchObject({
      occurredAt: T(3),
      organisationId: orgX,
      actor: { sub: 'q-bob', org: DEMO['fsp-a'], act: { sub: 'q-delegate', org: DEMO['fsp-b'] } },
    });
  });

  it('pages with the keyset cursor: the pages together are the whole answer, in order, once', async () => {
    const all = (await query(`organisationId=${orgX}&limit=1000`)).items;
    expect(all).toHaveLength(5);
    const walked: any[] = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const page = await query(`organisationId=${orgX}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      walked.push(...page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(walked.map((x) => x.id)).toEqual(all.map((x) => x.id));
    const bad = await hub.call('GET', `/api/v1/audit?cursor=${btoa(JSON.stringify({ after: 'abc' }))}`, { as: 'operator' });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('REQUEST-CURSOR-INVALID');
    const badTime = await hub.call('GET', '/api/v1/audit?from=yesterday', { as: 'operator' });
    expect(badTime.json.code).toBe('REQUEST-QUERY-INVALID');
  });

  it('exports a filter as NDJSON (the query’s records) and as CSV (escaped, no formulas)', async () => {
    const nd = await hub.call('GET', `/api/v1/audit/export?organisationId=${orgX}`, { as: 'operator' });
    expect(nd.status).toBe(200);
    expect(nd.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = nd.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual((await query(`organisationId=${orgX}`)).items);

    const csv = await hub.call('GET', `/api/v1/audit/export?organisationId=${orgX}&format=csv`, { as: 'operator' });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const rows = csv.text.split('\r\n');
    expect(rows[0]).toBe('id,seq,occurredAt,actorSub,actorOrg,actorClient,actorAct,organisationId,action,recordType,recordId,detail');
    expect(rows.filter((r) => r.length)).toHaveLength(6);
    expect(rows[1]).toBe(`${lines[0].id},,${T(1)},q-alice,${DEMO['fsp-a']},q-client-1,,${orgX},asset.registered,asset,Q-A1,{}`);
    expect(rows[3]).toContain(',q-bob,');
    expect(rows[3]).toContain(',q-delegate,');
    // The formula-looking actor is quoted as text; the detail's comma, quotes and newline are escaped.
    expect(csv.text).toContain(`,'=q-formula,`);
    expect(csv.text).toContain(`"{""note"":""a, \\""quoted\\""\\nline""}"`);
  });

  it('a query of the trail writes one audit.read record: who, which filter, when', async () => {
    hub.clock.advance(1000);
    const before = await count('audit_log', `action = 'audit.read'`);
    await query(`organisationId=${orgX}&action=asset.*&limit=7`);
    expect(await count('audit_log', `action = 'audit.read'`)).toBe(before + 1);
    const a = await lastAudit();
    expect(a).toMatchObject({
      action: 'audit.read',
      record_type: 'audit',
      record_id: 'query',
      organisation_id: null,
      detail: { filter: { organisationId: orgX, action: 'asset.*' }, limit: 7 },
    });
    expect(a.actor).toEqual({
      sub: 'test-operator',
      org: DEMO.operator,
      client_id: `dev-${DEMO.operator}`,
      request_id: expect.stringMatching(ULID),
    });
    expect(new Date(a.occurred_at).toISOString()).toBe(hub.clock.now().toISOString());
    // The log of reads is itself queryable.
    expect((await query(`recordType=audit&actorSub=test-operator&from=${hub.clock.now().toISOString()}`)).items[0]).toMatchObject({
      id: String(a.id),
      detail: { filter: { organisationId: orgX } },
    });
  });

  it('an export writes one audit.read record with its format; a refused read writes none', async () => {
    const before = await count('audit_log', `action = 'audit.read'`);
    await hub.call('GET', `/api/v1/audit/export?actorSub=q-alice&format=csv`, { as: 'operator' });
    expect(await lastAudit()).toMatchObject({
      action: 'audit.read',
      record_id: 'export',
      organisation_id: null,
      detail: { filter: { actorSub: 'q-alice' }, format: 'csv' },
    });
    const refused = await hub.call('GET', `/api/v1/audit/export?organisationId=${orgX}`, { as: 'fsp-a' });
    expect(refused.status).toBe(403);
    expect(await count('audit_log', `action = 'audit.read'`)).toBe(before + 1);
  });

  it('reading another organisation’s passport is logged (regulator, operator); reading one’s own is not', async () => {
    const reg = await hub.call('POST', '/api/v1/organisations', {
      as: 'operator',
      body: {
        legalName: `Audit Regulator ${next()}`,
        organisationType: 'PUBLIC_AUTHORITY',
        registrationNumber: String(16_000_000 + next()),
        roles: ['REGULATOR'],
        status: 'ACTIVE',
      },
    });
    expect(reg.status, JSON.stringify(reg.json)).toBe(201);
    const regulator = await hub.token({ org: reg.json.id, roles: ['REGULATOR'], sub: 'test-regulator' });
    const reads = () => count('audit_log', `action = 'organisation.passport-read'`);

    let before = await reads();
    const r = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: regulator });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.passport).not.toBeNull();
    expect(await reads()).toBe(before + 1);
    const a = await lastAudit();
    expect(a).toMatchObject({
      action: 'organisation.passport-read',
      record_type: 'organisation',
      record_id: DEMO['fsp-a'],
      organisation_id: DEMO['fsp-a'],
    });
    expect(a.actor).toMatchObject({ sub: 'test-regulator', org: reg.json.id });
    // It shows in the read organisation's own trail.
    const trail = await query(`recordType=organisation&recordId=${DEMO['fsp-a']}&action=organisation.passport-read`);
    expect(trail.items.at(-1)).toMatchObject({ actor: { sub: 'test-regulator' } });

    before = await reads();
    expect((await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-b']}`, { as: 'operator' })).status).toBe(200);
    expect(await reads()).toBe(before + 1);

    before = await reads();
    const total = await count('audit_log');
    expect((await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'fsp-a' })).status).toBe(200);
    expect((await hub.call('GET', `/api/v1/organisations/${reg.json.id}`, { as: regulator })).status).toBe(200);
    // Another FSP is served no passport: nothing private was read.
    const other = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'fsp-b' });
    expect(other.json.passport).toBeNull();
    expect((await hub.call('GET', '/api/v1/organisations/01JD8X6N2Q7ZB4Y3W5V6T7S8R9', { as: 'operator' })).status).toBe(404);
    expect(await reads()).toBe(before);
    expect(await count('audit_log')).toBe(total);
  });
});
