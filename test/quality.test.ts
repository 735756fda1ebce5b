import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Asset } from '../src/assets/schema';
import { buildApp } from '../src/app';
import { DefinitionError, evaluate, parseDefinition, type Facts } from '../src/quality/language';
import { MemoryRegistries, httpMcsRegister, httpMeterPointRegistry, runChecks } from '../src/quality/registries';
import { assess, assetFacts, compileRule, statusAfterValidation, type Validation } from '../src/quality/rules';
import { evaluateStaleness } from '../src/quality/service';
import { dnoForDistributor } from '../src/catalogue/codes';
import { RULES } from '../src/rules';
import { DEMO, batteryInput, consentFor, mpanFor, rowCounts, testHub, type TestHub } from './harness';

/** Data quality (docs/data-quality.md): the rule language, every default rule, findings, scorecards, validation, access. */

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

const DQ = '/api/v1/data-quality';
let n = 0;

async function register(as: string, extra: Record<string, unknown> = {}): Promise<Asset> {
  const i = ++n;
  const body: Record<string, unknown> = batteryInput(8000 + i, { serialNumber: `DQ-${i}`, ...extra });
  // The consumer's consent, as UC-02.01 asks: DQ-CONSENT-REFERENCE stays out of the way of the rules tested here.
  const fsp = (extra.fspId ?? extra.organisationId ?? DEMO[as as keyof typeof DEMO]) as string;
  body.consentReference ??= (await consentFor(hub, (body.importMpan ?? body.exportMpan) as string, fsp)).token;
  const r = await hub.call('POST', '/api/v1/assets', { as, body });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}
/** The rules an asset fails: its open findings (WARNING, ERROR) and its advisories (INFO). */
async function openCodes(assetId: string): Promise<string[]> {
  const r = await hub.call('GET', `/api/v1/assets/${assetId}/findings`, { as: 'operator' });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return [...r.json.items.map((f: any) => f.ruleCode), ...r.json.advisories.map((x: any) => x.ruleCode)].sort();
}
/** Without a serial number: DQ-SERIAL-REQUIRED (WARNING) opens a finding row. */
const NO_SERIAL = { serialNumber: undefined };

/* ---------------------------------------------------------------------------------------------- */

describe('the rule language', () => {
  const error = (text: string): DefinitionError => {
    try {
      parseDefinition(text);
    } catch (e) {
      if (e instanceof DefinitionError) return e;
      throw e;
    }
    throw new Error(`${text} parsed`);
  };

  it.each([
    ['required(serialNumber', 'DQ-RULE-SYNTAX', 21],
    ['ratedCapacityKw <= "x"', 'DQ-RULE-TYPE', 19],
    ['ratedCapacityKw < 5 and foo == 1', 'DQ-RULE-FIELD-UNKNOWN', 24],
    ['lower(name) == "x"', 'DQ-RULE-FUNCTION-UNKNOWN', 0],
    ['name matches "(a+)+$"', 'DQ-RULE-PATTERN-INVALID', 13],
    ['name matches "["', 'DQ-RULE-PATTERN-INVALID', 13],
    ['name matches "(a)\\\\1"', 'DQ-RULE-PATTERN-INVALID', 13],
    ['', 'DQ-RULE-SYNTAX', 0],
    ['name == "x" name == "y"', 'DQ-RULE-SYNTAX', 12],
    ['ratedCapacityKw between 10 and 5', 'DQ-RULE-SYNTAX', 31],
    ['category in ["BESS", 3]', 'DQ-RULE-TYPE', 21],
    ['dno = "X"', 'DQ-RULE-SYNTAX', 4],
    ['name == "unterminated', 'DQ-RULE-SYNTAX', 8],
    ['daysSince(name) < 3', 'DQ-RULE-TYPE', 10],
    ['ratedCapacityKw', 'DQ-RULE-SYNTAX', 15],
  ])('%s → %s at offset %i', (text, code, offset) => {
    const e = error(text);
    expect(e.code).toBe(code);
    expect(e.position.offset).toBe(offset);
  });

  it('reports line and column on a multi-line definition', () => {
    const e = error('required(name)\n  and ratedCapacityKw >> 3');
    expect(e.code).toBe('DQ-RULE-SYNTAX');
    expect(e.position).toEqual({ offset: 38, line: 2, column: 24 });
  });

  it('refuses nesting past 32 levels instead of recursing without bound', () => {
    expect(error(`${'not ('.repeat(40)}required(name)${')'.repeat(40)}`).code).toBe('DQ-RULE-SYNTAX');
  });

  it('evaluates: absent values pass (only required fails on absence), implies, in, between, dates, mpanDno, daysSince', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const ev = (text: string, facts: Record<string, unknown>) => evaluate(parseDefinition(text), facts as any, now, dnoForDistributor);
    expect(ev('generationCapacityKw <= ratedCapacityKw', { ratedCapacityKw: 5 })).toBe(true);
    expect(ev('generationCapacityKw <= ratedCapacityKw', { ratedCapacityKw: 5, generationCapacityKw: 6 })).toBe(false);
    expect(ev('required(serialNumber)', { serialNumber: '' })).toBe(false);
    expect(ev('connectionStatus == "CONNECTED" implies required(connectionType)', { connectionStatus: 'PLANNED' })).toBe(true);
    expect(ev('connectionStatus == "CONNECTED" implies required(connectionType)', { connectionStatus: 'CONNECTED' })).toBe(false);
    expect(ev('category in ["BESS", "SOLAR_PV"]', { category: 'HVAC' })).toBe(false);
    expect(ev('not (category in ["BESS"]) or ratedCapacityKw between 1 and 10', { category: 'BESS', ratedCapacityKw: 10 })).toBe(true);
    expect(ev('commissioningDate <= today', { commissioningDate: '2026-06-02' })).toBe(false);
    expect(ev('recordedAt <= effectiveDate', { recordedAt: '2026-05-01T10:00:00.000Z', effectiveDate: '2026-05-01' })).toBe(true);
    expect(ev('mpanDno(importMpan) == dno', { importMpan: mpanFor(1), dno: 'SPEN_SPM' })).toBe(true);
    expect(ev('mpanDno(importMpan) == dno', { importMpan: mpanFor(1, '10'), dno: 'SPEN_SPM' })).toBe(false);
    expect(ev('daysSince(recordedAt) <= 30', { recordedAt: '2026-04-01T00:00:00Z' })).toBe(false);
    expect(ev('dno == null', { dno: null })).toBe(true);
    expect(ev('dno != null', { dno: null })).toBe(false);
  });
});

/* ---------------------------------------------------------------------------------------------- */

describe('the default rules, each by its code', () => {
  const now = new Date('2026-06-01T09:00:00Z');
  const EXPORT = mpanFor(4242);
  const good: Asset = {
    id: '01JDQ00000000000000000GOOD',
    friendlyCode: null,
    name: 'Roof PV',
    category: 'SOLAR_PV',
    organisationId: 'o',
    fspId: 'o',
    status: 'PENDING_VALIDATION',
    ratedCapacityKw: 5,
    generationCapacityKw: 4,
    demandCapacityKw: null,
    energySource: 'SOLAR',
    demandTechnology: null,
    energyConversionType: null,
    manufacturer: 'Acme',
    model: 'P1',
    serialNumber: 'SN-0001',
    commissioningDate: '2025-01-01',
    effectiveDate: '2025-02-01',
    connectionStatus: 'CONNECTED',
    connectionType: 'FIRM',
    dno: 'SPEN_SPM',
    importMpan: null,
    exportMpan: EXPORT,
    location: { postcode: 'G1 1AA', gspGroup: '_N' },
    consentReference: 'consent-jti-1',
    aliases: [],
    version: 1,
    recordedAt: '2026-05-01T09:00:00.000Z',
    recordedBy: 't',
    deregisteredAt: null,
  };
  const okChecks: Validation = {
    meterPoint: { status: 'ok', mpan: EXPORT, distributorId: '13', dno: 'SPEN_SPM', gspGroup: '_N', energised: true },
    mcs: { status: 'ok', serialNumber: 'SN-0001', category: 'SOLAR_PV', certificate: 'MCS-1' },
  };
  const validated = { validatedAt: '2026-05-20T09:00:00.000Z', validation: okChecks };
  const checks = (v: Partial<Validation['meterPoint']> = {}, m: Partial<Validation['mcs']> = {}) => ({
    validatedAt: validated.validatedAt,
    validation: { meterPoint: { ...okChecks.meterPoint!, ...v }, mcs: { ...okChecks.mcs!, ...m } } as Validation,
  });

  // Each case changes the good asset (or its checks, or the facts of its connection) so that exactly that rule fails.
  const CASES: [string, Partial<Asset>, { validatedAt: string | null; validation: Validation | null } | undefined, Facts?][] = [
    ['DQ-SERIAL-REQUIRED', { serialNumber: null }, validated],
    ['DQ-DEVICE-IDENTITY', { model: null }, validated],
    ['DQ-POSTCODE-PRESENT', { location: { gspGroup: '_N' } }, validated],
    ['DQ-SERIAL-FORMAT', { serialNumber: '-AB' }, validated],
    ['DQ-EV-CAPACITY-RANGE', { category: 'EV_CHARGER', ratedCapacityKw: 500, generationCapacityKw: null }, validated],
    ['DQ-CONNECTION-TYPE-KNOWN', { connectionType: null }, validated],
    ['DQ-CAPACITY-WITHIN-RATED', { generationCapacityKw: 6 }, validated],
    ['DQ-COMMISSIONED-BEFORE-EFFECTIVE', { effectiveDate: '2024-12-01' }, validated],
    ['DQ-BESS-EXPORT-MPAN', { category: 'BESS', exportMpan: null, importMpan: mpanFor(4243) }, validated],
    ['DQ-MPAN-DNO-MATCH', { dno: 'UKPN_EPN' }, undefined],
    ['DQ-STALE-RECORD', { recordedAt: '2025-01-01T00:00:00.000Z' }, undefined],
    ['DQ-MPAN-REGISTERED', {}, checks({ status: 'not-found', distributorId: null, dno: null, gspGroup: null, energised: null })],
    ['DQ-MPAN-DISTRIBUTOR-REGISTRY', {}, checks({ distributorId: '12', dno: 'UKPN_LPN' })],
    ['DQ-MPAN-GSP-GROUP', {}, checks({ gspGroup: '_A' })],
    ['DQ-MPAN-ENERGISED', {}, checks({ energised: false })],
    ['DQ-MCS-CERTIFICATE', {}, checks({}, { status: 'not-found', certificate: null })],
    ['DQ-EXTERNAL-UNAVAILABLE', {}, checks({ status: 'unavailable', distributorId: null, dno: null, gspGroup: null, energised: null })],
    ['DQ-CONSENT-REFERENCE', { consentReference: null }, validated],
    [
      'DQ-UNIT-CONNECTION-LIMIT',
      {},
      validated,
      {
        'connection.marketUnitId': '01JD8X6N2Q7ZB4Y3W5V6T7S8R9',
        'connection.mpan': EXPORT,
        'connection.unitCapacityKw': 10,
        'connection.limitKw': 8,
      },
    ],
  ];
  let rules: ReturnType<typeof compileRule>[];
  beforeAll(async () => {
    const r = await hub.call('GET', `${DQ}/rules?active=true`, { as: 'operator' });
    rules = r.json.items.map(compileRule);
  });

  it('the seeded rules are exactly the cases here, each in src/rules.ts, covering every kind', async () => {
    expect(rules.map((r) => r.code).sort()).toEqual(CASES.map((c) => c[0]).sort());
    for (const r of rules) expect(RULES[r.code as keyof typeof RULES], r.code).toMatchObject({ kind: 'warning', title: r.description });
    expect(new Set(rules.map((r) => r.kind))).toEqual(new Set(['field', 'cross-field', 'cross-source', 'staleness', 'external-check']));
  });

  it('a good, validated asset fails none and scores 100', () => {
    const a = assess(good, rules, assetFacts(good, validated), now);
    expect(a.failing).toEqual([]);
    expect(a.score).toBe(100);
  });

  it.each(CASES)('%s fails alone', (code, change, v, connection) => {
    const asset = { ...good, ...change } as Asset;
    const a = assess(asset, rules, { ...assetFacts(asset, v), ...connection }, now);
    expect(a.failing.map((f) => f.code)).toEqual([code]);
    expect(a.failing[0].detail).toContain(RULES[code as keyof typeof RULES].title);
    const total = rules.filter((r) => a.evaluated.includes(r.code)).reduce((s, r) => s + r.weight, 0);
    expect(a.score).toBe(Math.round(100 * (1 - rules.find((r) => r.code === code)!.weight / total)));
  });

  it('external checks apply only once a validation ran, and only to the MPAN and serial they were made for', () => {
    expect(assess(good, rules, assetFacts(good, undefined), now).evaluated).not.toContain('DQ-MPAN-REGISTERED');
    const moved = { ...good, exportMpan: mpanFor(4244) };
    const f = assetFacts(moved, checks({ status: 'not-found' }));
    expect(f['meterPoint.status']).toBeUndefined();
    expect(assess(moved, rules, f, now).failing).toEqual([]);
  });

  it('Verified / Query: an ERROR finding queries, an unanswered registry never verifies', () => {
    expect(statusAfterValidation('PENDING_VALIDATION', [], true)).toBe('VERIFIED');
    expect(statusAfterValidation('PENDING_VALIDATION', [{ severity: 'WARNING' }], true)).toBe('VERIFIED');
    expect(statusAfterValidation('VERIFIED', [{ severity: 'ERROR' }], true)).toBe('QUERY');
    expect(statusAfterValidation('PENDING_VALIDATION', [], false)).toBe('PENDING_VALIDATION');
  });
});

/* ---------------------------------------------------------------------------------------------- */

describe('maintaining rules', () => {
  const body = {
    code: 'DQ-TEST-NAME-SHORT',
    description: 'Names are short.',
    severity: 'INFO',
    weight: 3,
    kind: 'field',
    definition: 'name matches "^.{1,20}$"',
  };

  it('the operator creates, reads, changes (If-Match) and lists a rule; history keeps every version; audited', async () => {
    const c = await hub.call('POST', `${DQ}/rules`, { as: 'operator', body });
    expect(c.status, JSON.stringify(c.json)).toBe(201);
    expect(c.json).toMatchObject({ ...body, appliesTo: [], active: true, version: 1 });
    expect(c.headers.get('etag')).toBe('"1"');
    expect((await hub.call('POST', `${DQ}/rules`, { as: 'operator', body })).json.code).toBe('DQ-RULE-EXISTS');
    const url = `${DQ}/rules/${body.code}`;
    expect((await hub.call('PATCH', url, { as: 'operator', body: { weight: 4 } })).status).toBe(428);
    expect((await hub.call('PATCH', url, { as: 'operator', body: { weight: 4 }, headers: { 'if-match': '"7"' } })).status).toBe(412);
    const u = await hub.call('PATCH', url, { as: 'operator', body: { weight: 4, appliesTo: ['BESS'] }, headers: { 'if-match': '"1"' } });
    expect(u.status, JSON.stringify(u.json)).toBe(200);
    expect(u.json).toMatchObject({ weight: 4, appliesTo: ['BESS'], version: 2 });
    const h = await hub.call('GET', `${url}/history`, { as: 'fsp-a' });
    expect(h.json.items.map((r: any) => [r.version, r.weight])).toEqual([
      [2, 4],
      [1, 3],
    ]);
    const audit = await hub.db.query(
      `SELECT action FROM audit_log WHERE record_type = 'data_quality_rule' AND record_id = $1 ORDER BY id`,
      [body.code],
    );
    expect(audit.map((a) => a.action)).toEqual(['data-quality-rule.created', 'data-quality-rule.updated']);
    const list = await hub.call('GET', `${DQ}/rules?kind=field`, { as: 'dno' });
    expect(list.json.items.map((r: any) => r.code)).toContain(body.code);
    expect((await hub.call('GET', `${DQ}/rules/DQ-NOPE`, { as: 'operator' })).json.code).toBe('DQ-RULE-NOT-FOUND');
  });

  it('a rule targets a category the operator added to the catalogue; one the catalogue lacks is 422 ASSET-CATEGORY-UNKNOWN, nothing written', async () => {
    const added = await hub.call('POST', '/api/v1/catalogues/asset-categories/codes', {
      as: 'operator',
      body: { code: 'DQFLYWHEEL', label: 'Flywheel', attributes: { kind: 'storage', defaultEnergySource: 'GRID' } },
    });
    expect(added.status, JSON.stringify(added.json)).toBe(201);
    const rule = { ...body, code: 'DQ-TEST-FLYWHEEL', appliesTo: ['DQFLYWHEEL', 'BESS'] };
    const before = await rowCounts(hub.db, ['dq_rule', 'record_history', 'audit_log']);
    const unknown = await hub.call('POST', `${DQ}/rules`, { as: 'operator', body: { ...rule, appliesTo: ['BESS', 'DQGYROSCOPE'] } });
    expect(unknown.status).toBe(422);
    expect(unknown.json.errors).toEqual([expect.objectContaining({ field: 'appliesTo.1', code: 'ASSET-CATEGORY-UNKNOWN' })]);
    expect(await rowCounts(hub.db, ['dq_rule', 'record_history', 'audit_log'])).toEqual(before);
    const c = await hub.call('POST', `${DQ}/rules`, { as: 'operator', body: rule });
    expect(c.status, JSON.stringify(c.json)).toBe(201);
    expect(c.json.appliesTo).toEqual(['DQFLYWHEEL', 'BESS']);
    const mid = await rowCounts(hub.db, ['dq_rule', 'record_history', 'audit_log']);
    const p = await hub.call('PATCH', `${DQ}/rules/${rule.code}`, {
      as: 'operator',
      body: { appliesTo: ['DQGYROSCOPE'] },
      headers: { 'if-match': '"1"' },
    });
    expect(p.status).toBe(422);
    expect(p.json.errors).toEqual([expect.objectContaining({ field: 'appliesTo.0', code: 'ASSET-CATEGORY-UNKNOWN' })]);
    expect(await rowCounts(hub.db, ['dq_rule', 'record_history', 'audit_log'])).toEqual(mid);
  });

  it('a definition that does not parse is a 422 with the rule code and its position, and nothing is written', async () => {
    const before = await rowCounts(hub.db, ['dq_rule', 'audit_log']);
    const r = await hub.call('POST', `${DQ}/rules`, {
      as: 'operator',
      body: { ...body, code: 'DQ-TEST-BAD', definition: 'ratedCapacityKw >= "big"' },
    });
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ code: 'DQ-RULE-TYPE', position: { offset: 19, line: 1, column: 20 } });
    expect(r.json.errors[0]).toMatchObject({ field: 'definition', code: 'DQ-RULE-TYPE' });
    const k = await hub.call('POST', `${DQ}/rules`, { as: 'operator', body: { ...body, code: 'DQ-TEST-BAD', kind: 'staleness' } });
    expect(k.json.code).toBe('DQ-RULE-KIND-MISMATCH');
    const p = await hub.call('PATCH', `${DQ}/rules/${body.code}`, {
      as: 'operator',
      body: { definition: 'name matches "(x*)*"' },
      headers: { 'if-match': '"2"' },
    });
    expect(p.json.code).toBe('DQ-RULE-PATTERN-INVALID');
    expect(await rowCounts(hub.db, ['dq_rule', 'audit_log'])).toEqual(before);
  });

  it('only the operator writes rules', async () => {
    expect((await hub.call('POST', `${DQ}/rules`, { as: 'fsp-a', body: { ...body, code: 'DQ-TEST-FSP' } })).status).toBe(403);
    expect((await hub.call('DELETE', `${DQ}/rules/${body.code}`, { as: 'dno' })).status).toBe(403);
  });

  it('deactivating a rule closes its open findings and drops its advisories (scores and scorecards follow); reactivating it applies again at the next change', async () => {
    const a = await register('fsp-a', NO_SERIAL);
    expect(await openCodes(a.id)).toEqual(expect.arrayContaining(['DQ-SERIAL-REQUIRED', 'DQ-DEVICE-IDENTITY']));
    let version = 1;
    // A WARNING rule (a finding row, announced when it closes) and an INFO rule (an advisory).
    for (const code of ['DQ-SERIAL-REQUIRED', 'DQ-DEVICE-IDENTITY']) {
      const rule = (await hub.call('GET', `${DQ}/rules/${code}`, { as: 'operator' })).json;
      const d = await hub.call('DELETE', `${DQ}/rules/${code}`, { as: 'operator', headers: { 'if-match': `"${rule.version}"` } });
      expect(d.status, JSON.stringify(d.json)).toBe(200);
      expect(d.json.active).toBe(false);
      expect(await openCodes(a.id)).not.toContain(code);
      await expectScorecardsConsistent();
      expect((await hub.call('DELETE', `${DQ}/rules/${code}`, { as: 'operator' })).json.code).toBe('DQ-RULE-INACTIVE');
      const closed = await hub.db.query<{ data: any }>(
        `SELECT data FROM event_outbox WHERE type = 'fmar.data-quality.finding-closed' AND data->'assetIds' ? $1`,
        [a.id],
      );
      expect(closed.flatMap((ev) => ev.data.findings.map((f: any) => f.ruleCode))).toEqual(['DQ-SERIAL-REQUIRED']);
      const r = await hub.call('PATCH', `${DQ}/rules/${code}`, {
        as: 'operator',
        body: { active: true },
        headers: { 'if-match': `"${d.json.version}"` },
      });
      expect(r.json.active).toBe(true);
      expect(await openCodes(a.id)).not.toContain(code);
      const u = await hub.call('PATCH', `/api/v1/assets/${a.id}`, {
        as: 'fsp-a',
        body: { name: `Renamed ${version}` },
        headers: { 'if-match': `"${version}"` },
      });
      version = u.json.version;
      expect(await openCodes(a.id)).toContain(code);
    }
    await expectScorecardsConsistent();
  });
});

/* ---------------------------------------------------------------------------------------------- */

describe('findings: a live list', () => {
  it('opens at registration, stays one per asset and rule, closes when a change fixes it; one event per change; INFO results are advisories', async () => {
    const a = await register('fsp-a', NO_SERIAL);
    expect(await openCodes(a.id)).toEqual(['DQ-CONNECTION-TYPE-KNOWN', 'DQ-DEVICE-IDENTITY', 'DQ-POSTCODE-PRESENT', 'DQ-SERIAL-REQUIRED']);
    const first = await hub.call('GET', `/api/v1/assets/${a.id}/findings`, { as: 'fsp-a' });
    expect(first.json.items).toMatchObject([{ ruleCode: 'DQ-SERIAL-REQUIRED', severity: 'WARNING', status: 'open' }]);
    expect(first.json.advisories.map((x: any) => x.ruleCode)).toEqual([
      'DQ-CONNECTION-TYPE-KNOWN',
      'DQ-DEVICE-IDENTITY',
      'DQ-POSTCODE-PRESENT',
    ]);
    expect(first.json.advisories[1].description).toBe('Manufacturer and model are recorded.');
    const u1 = await hub.call('PATCH', `/api/v1/assets/${a.id}`, {
      as: 'fsp-a',
      body: { name: 'Still no postcode' },
      headers: { 'if-match': '"1"' },
    });
    expect(u1.status).toBe(200);
    // The same finding row is kept (one per asset and rule); advisories are never rows.
    expect(await hub.db.query(`SELECT id FROM dq_finding WHERE asset_id = $1`, [a.id])).toEqual([{ id: first.json.items[0].id }]);
    const u2 = await hub.call('PATCH', `/api/v1/assets/${a.id}`, {
      as: 'fsp-a',
      body: { serialNumber: 'DQ-FIXED-1', location: { postcode: 'G1 1AA' }, manufacturer: 'Acme', model: 'B1', connectionType: 'FIRM' },
      headers: { 'if-match': '"2"' },
    });
    expect(u2.status).toBe(200);
    const page = await hub.call('GET', `/api/v1/assets/${a.id}/findings?status=all`, { as: 'fsp-a' });
    expect(page.json.score).toBe(100);
    expect(page.json.advisories).toEqual([]);
    expect(page.json.items).toHaveLength(1);
    expect(page.json.items.every((f: any) => f.status === 'resolved' && f.resolvedAt)).toBe(true);
    const events = await hub.db.query<{ type: string; data: any }>(
      `SELECT type, data FROM event_outbox WHERE type LIKE 'fmar.data-quality.finding-%' AND data->>'assetId' = $1`,
      [a.id],
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'fmar.data-quality.finding-closed',
      data: { fspId: DEMO['fsp-a'], organisationId: DEMO['fsp-a'] },
    });
    expect(events[0].data.findings.map((f: any) => f.ruleCode).sort()).toEqual(['DQ-SERIAL-REQUIRED']);
    const [rc] = await hub.db.query(
      `SELECT count(*)::int AS n FROM event_recipient er JOIN event_outbox e ON e.id = er.event_id WHERE e.type = 'fmar.data-quality.finding-closed' AND e.data->>'assetId' = $1 AND er.organisation_id = $2`,
      [a.id, DEMO['fsp-a']],
    );
    expect(rc.n).toBe(1);
  });

  it('de-registration closes every open finding and leaves the scorecards', async () => {
    const a = await register('fsp-b');
    const card = async () => (await hub.call('GET', `${DQ}/scorecards/organisations/${DEMO['fsp-b']}`, { as: 'fsp-b' })).json;
    const before = await card();
    const d = await hub.call('DELETE', `/api/v1/assets/${a.id}`, { as: 'fsp-b' });
    expect(d.status).toBe(200);
    expect(await openCodes(a.id)).toEqual([]);
    const after = await card();
    expect(after.assets).toBe(before.assets - 1);
    expect(after.openFindings.INFO).toBe(before.openFindings.INFO - 3);
  });

  it('lists with filters and keyset pages', async () => {
    const ids = [(await register('fsp-b', NO_SERIAL)).id, (await register('fsp-b', NO_SERIAL)).id];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await hub.call(
        'GET',
        `${DQ}/findings?organisationId=${DEMO['fsp-b']}&ruleCode=DQ-SERIAL-REQUIRED&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        { as: 'fsp-b' },
      );
      expect(r.status).toBe(200);
      seen.push(...r.json.items.map((f: any) => f.assetId));
      cursor = r.json.nextCursor;
    } while (cursor);
    for (const id of ids) expect(seen).toContain(id);
    expect(new Set(seen).size).toBe(seen.length);
    expect((await hub.call('GET', `${DQ}/findings?assetId=${ids[0]}&status=bogus`, { as: 'fsp-b' })).status).toBe(400);
  });
});

/* ---------------------------------------------------------------------------------------------- */

/**
 * The counters, recomputed from scratch: registered assets per organisation (controlling or owning)
 * and per DNO from the asset table, open findings from the findings table and advisories from the score
 * rows. Every counter row must equal its recomputation.
 */
async function expectScorecardsConsistent() {
  const recomputed = await hub.db.query(`
    WITH parties AS (
      SELECT a.id, 'organisation' AS scope, a.organisation_id AS key FROM asset a WHERE a.deregistered_at IS NULL
      UNION SELECT a.id, 'organisation', a.fsp_id FROM asset a WHERE a.deregistered_at IS NULL
      UNION SELECT a.id, 'dno', a.dno FROM asset a WHERE a.deregistered_at IS NULL AND a.dno IS NOT NULL)
    SELECT p.scope, p.key, count(*)::int AS assets, sum(s.score)::int AS score_sum,
      sum((SELECT count(*) FROM dq_finding f WHERE f.asset_id = p.id AND f.resolved_at IS NULL AND f.severity = 'ERROR'))::int AS open_error,
      sum((SELECT count(*) FROM dq_finding f WHERE f.asset_id = p.id AND f.resolved_at IS NULL AND f.severity = 'WARNING'))::int AS open_warning,
      sum(cardinality(s.advisories) + (SELECT count(*) FROM dq_finding f WHERE f.asset_id = p.id AND f.resolved_at IS NULL AND f.severity = 'INFO'))::int AS open_info
    FROM parties p JOIN dq_asset_score s ON s.asset_id = p.id GROUP BY 1, 2 ORDER BY 1, 2`);
  const stored = await hub.db
    .query(`SELECT scope, key, assets::int, score_sum::int, open_error::int, open_warning::int, open_info::int FROM dq_scorecard
    WHERE assets <> 0 OR score_sum <> 0 OR open_error <> 0 OR open_warning <> 0 OR open_info <> 0 ORDER BY 1, 2`);
  expect(stored).toEqual(recomputed);
  const byRule = await hub.db.query(`
    WITH parties AS (
      SELECT a.id, 'organisation' AS scope, a.organisation_id AS key FROM asset a WHERE a.deregistered_at IS NULL
      UNION SELECT a.id, 'organisation', a.fsp_id FROM asset a WHERE a.deregistered_at IS NULL
      UNION SELECT a.id, 'dno', a.dno FROM asset a WHERE a.deregistered_at IS NULL AND a.dno IS NOT NULL)
    SELECT p.scope, p.key, f.rule_code, count(*)::int AS open FROM parties p
      JOIN (SELECT asset_id, rule_code FROM dq_finding WHERE resolved_at IS NULL
            UNION ALL SELECT asset_id, unnest(advisories) FROM dq_asset_score) f ON f.asset_id = p.id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
  expect(await hub.db.query(`SELECT scope, key, rule_code, open::int FROM dq_scorecard_rule WHERE open <> 0 ORDER BY 1, 2, 3`)).toEqual(
    byRule,
  );
  // Every registered asset has a score row that counts it.
  const [gap] = await hub.db.query(
    `SELECT count(*)::int AS n FROM asset a LEFT JOIN dq_asset_score s ON s.asset_id = a.id WHERE a.deregistered_at IS NULL AND (s.asset_id IS NULL OR NOT s.counted)`,
  );
  expect(gap.n).toBe(0);
}

describe('scorecards', () => {
  it('counters moved by deltas equal a recomputation after a mixed sequence of register / bulk / update / deregister (property-style)', async () => {
    let seed = 20260601;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
    const live: { id: string; as: 'fsp-a' | 'fsp-b' | 'operator'; version: number }[] = [];
    const variant = () =>
      pick([
        {},
        { manufacturer: 'Acme', model: 'X' },
        { location: { postcode: 'G1 1AA' } },
        { dno: 'UKPN_EPN' },
        { serialNumber: undefined },
        { generationCapacityKw: 3 },
        { connectionType: 'FIRM' },
        { dno: 'SPEN_SPD' },
      ]);
    for (let step = 0; step < 45; step++) {
      const op = live.length < 4 ? 0 : Math.floor(rnd() * 4);
      if (op === 0) {
        const as = pick(['fsp-a', 'fsp-b', 'operator'] as const);
        const body = batteryInput(9000 + ++n, {
          serialNumber: `PROP-${n}`,
          ...variant(),
          ...(as === 'operator' ? { organisationId: DEMO['fsp-b'], fspId: DEMO['fsp-a'] } : {}),
        });
        const r = await hub.call('POST', '/api/v1/assets', { as, body });
        expect(r.status, JSON.stringify(r.json)).toBe(201);
        live.push({ id: r.json.id, as, version: 1 });
      } else if (op === 1) {
        const rows = Array.from({ length: 3 + Math.floor(rnd() * 5) }, () =>
          JSON.stringify(batteryInput(9000 + ++n, { serialNumber: `PROP-${n}`, ...variant() })),
        ).join('\n');
        const as = pick(['fsp-a', 'fsp-b'] as const);
        const r = await hub.call('POST', '/api/v1/assets/bulk', { as, text: rows, contentType: 'application/x-ndjson' });
        expect(r.status, JSON.stringify(r.json)).toBe(201);
        for (const x of r.json.results) live.push({ id: x.id, as, version: 1 });
      } else if (op === 2) {
        const t = pick(live);
        const patch = pick([
          { location: { postcode: 'G2 2BB' } },
          { location: null },
          { manufacturer: 'Acme', model: 'Y' },
          { model: null },
          { dno: 'UKPN_EPN' },
          { dno: 'SPEN_SPM' },
          { connectionType: 'DYNAMIC' },
        ]);
        const r = await hub.call('PATCH', `/api/v1/assets/${t.id}`, {
          as: t.as === 'operator' ? 'operator' : t.as,
          body: patch,
          headers: { 'if-match': `"${t.version}"` },
        });
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        t.version = r.json.version;
      } else {
        const i = Math.floor(rnd() * live.length);
        const t = live[i];
        const r = await hub.call('DELETE', `/api/v1/assets/${t.id}`, { as: t.as });
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        live.splice(i, 1);
      }
      if (step % 15 === 14) await expectScorecardsConsistent();
    }
    await expectScorecardsConsistent();
  }, 120_000);

  it('reads the counters: an organisation’s (controlled or owned, each asset once) and a DNO’s', async () => {
    const a = await register('operator', {
      organisationId: DEMO['fsp-b'],
      fspId: DEMO['fsp-a'],
      location: { postcode: 'G1 1AA' },
      manufacturer: 'Acme',
      model: 'Z',
      connectionType: 'FIRM',
    });
    const s = await hub.call('GET', `${DQ}/scorecards/organisations/${DEMO['fsp-b']}`, { as: 'fsp-b' });
    expect(s.status).toBe(200);
    expect(s.json).toMatchObject({ scope: 'organisation', key: DEMO['fsp-b'] });
    expect(s.json.assets).toBeGreaterThan(0);
    expect(s.json.averageScore).toBeGreaterThan(0);
    const [n1] = await hub.db.query(
      `SELECT count(*)::int AS n FROM asset WHERE deregistered_at IS NULL AND (organisation_id = $1 OR fsp_id = $1)`,
      [DEMO['fsp-b']],
    );
    expect(s.json.assets).toBe(n1.n);
    const d = await hub.call('GET', `${DQ}/scorecards/dnos/SPEN_SPM`, { as: 'dno' });
    expect(d.status).toBe(200);
    expect(d.json.openFindingsByRule['DQ-POSTCODE-PRESENT']).toBeGreaterThan(0);
    expect(await openCodes(a.id)).toEqual([]);
  });
});

/* ---------------------------------------------------------------------------------------------- */

describe('access', () => {
  it('FSPs read their own findings and scorecard only; DNOs their licence areas; the operator and regulator everything', async () => {
    const a = await register('fsp-a', { ...NO_SERIAL, generationCapacityKw: 3 }); // two WARNING findings
    const other = await hub.call('GET', `/api/v1/assets/${a.id}/findings`, { as: 'fsp-b' });
    expect(other.status).toBe(404);
    expect(other.json.code).toBe('ASSET-NOT-FOUND');
    const list = await hub.call('GET', `${DQ}/findings?assetId=${a.id}`, { as: 'fsp-b' });
    expect(list.json.items).toEqual([]);
    expect((await hub.call('GET', `${DQ}/findings?assetId=${a.id}`, { as: 'fsp-a' })).json.items.length).toBe(2);
    expect((await hub.call('GET', `${DQ}/scorecards/organisations/${DEMO['fsp-a']}`, { as: 'fsp-b' })).json.code).toBe(
      'DQ-SCORECARD-NOT-FOUND',
    );
    expect((await hub.call('GET', `${DQ}/scorecards/dnos/SPEN_SPM`, { as: 'fsp-a' })).json.code).toBe('DQ-SCORECARD-NOT-FOUND');
    expect((await hub.call('GET', `${DQ}/scorecards/dnos/UKPN_EPN`, { as: 'dno' })).json.code).toBe('DQ-SCORECARD-NOT-FOUND');
    expect((await hub.call('GET', `${DQ}/scorecards/organisations/${DEMO['dno']}`, { as: 'dno' })).status).toBe(404);
    expect((await hub.call('GET', `${DQ}/findings?assetId=${a.id}`, { as: 'dno' })).json.items.length).toBe(2);
    const regulator = await hub.token({ org: DEMO.operator, roles: ['REGULATOR'] });
    expect((await hub.call('GET', `${DQ}/scorecards/organisations/${DEMO['fsp-a']}`, { as: regulator })).status).toBe(200);
    expect((await hub.call('GET', `${DQ}/findings?assetId=${a.id}`, { as: 'installer' })).status).toBe(403);
    expect((await hub.call('POST', `/api/v1/assets/${a.id}/validate`, { as: 'fsp-a' })).status).toBe(403);
  });
});

/* ---------------------------------------------------------------------------------------------- */

describe('validation: Pending Validation → Verified / Query', () => {
  const mem = new MemoryRegistries();
  let app: ReturnType<typeof buildApp>;
  beforeAll(() => {
    app = buildApp({ ...hub.ports, registries: mem });
  });
  async function validate(id: string, as: 'operator' | 'fsp-a' = 'operator', body?: unknown) {
    const headers: Record<string, string> = { authorization: `Bearer ${await hub.token(as)}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.request(`/api/v1/assets/${id}/validate`, {
      method: 'POST',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  }
  const known = (mpan: string, gspGroup: string | null = null) =>
    mem.points.set(mpan, { mpan, distributorId: mpan.slice(0, 2), gspGroup, energised: true });

  it('all checks answered and no ERROR finding → VERIFIED: a new asset version, audited, with its event', async () => {
    const a = await register('fsp-a');
    known(a.importMpan!);
    const r = await validate(a.id);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({
      status: 'VERIFIED',
      previousStatus: 'PENDING_VALIDATION',
      checks: { meterPoint: { status: 'ok', dno: 'SPEN_SPM' }, mcs: { status: 'not-applicable' } },
    });
    const asset = (await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' })).json;
    expect(asset).toMatchObject({ status: 'VERIFIED', version: 2 });
    const hist = (await hub.call('GET', `/api/v1/assets/${a.id}/history`, { as: 'fsp-a' })).json.items;
    expect(hist.map((v: any) => v.status)).toEqual(['VERIFIED', 'PENDING_VALIDATION']);
    const [au] = await hub.db.query<{ detail: any }>(
      `SELECT detail FROM audit_log WHERE record_id = $1 AND action = 'asset.status-changed'`,
      [a.id],
    );
    expect(au.detail.changes.status).toEqual(['PENDING_VALIDATION', 'VERIFIED']);
    const [ev] = await hub.db.query(`SELECT data FROM event_outbox WHERE type = 'fmar.asset.status-changed' AND subject = $1`, [a.id]);
    expect(ev.data).toMatchObject({ fromStatus: 'PENDING_VALIDATION', status: 'VERIFIED', version: 2 });
  });

  it('an unknown MPAN is an ERROR finding → QUERY; once the registry knows it, revalidation → VERIFIED and the finding closes', async () => {
    const a = await register('fsp-a');
    const r = await validate(a.id);
    expect(r.json.status).toBe('QUERY');
    expect(r.json.openFindings.map((f: any) => f.ruleCode)).toContain('DQ-MPAN-REGISTERED');
    known(a.importMpan!);
    const again = await validate(a.id);
    expect(again.json).toMatchObject({ status: 'VERIFIED', previousStatus: 'QUERY' });
    expect(await openCodes(a.id)).not.toContain('DQ-MPAN-REGISTERED');
  });

  it('a registry that is down fails closed: an "unavailable" finding, never VERIFIED; no registry configured is the same', async () => {
    const a = await register('fsp-a');
    known(a.importMpan!);
    mem.down.meterPoints = true;
    const r = await validate(a.id);
    mem.down.meterPoints = false;
    expect(r.json).toMatchObject({ status: 'PENDING_VALIDATION', checks: { meterPoint: { status: 'unavailable' } } });
    expect(await openCodes(a.id)).toContain('DQ-EXTERNAL-UNAVAILABLE');
    const bare = await hub.call('POST', `/api/v1/assets/${a.id}/validate`, { as: 'operator' });
    expect(bare.json.status).toBe('PENDING_VALIDATION');
    const up = await validate(a.id);
    expect(up.json.status).toBe('VERIFIED');
    expect(await openCodes(a.id)).not.toContain('DQ-EXTERNAL-UNAVAILABLE');
  });

  it('MCS: a heat pump without a certificate is queried; a bad request names no registry; a de-registered asset is not validated', async () => {
    const hp = await register('fsp-a', { category: 'HEAT_PUMP', demandTechnology: 'HEAT_PUMP' });
    known(hp.importMpan!);
    expect((await validate(hp.id)).json).toMatchObject({ status: 'QUERY', checks: { mcs: { status: 'not-found' } } });
    mem.certificates.set(`${hp.serialNumber}|HEAT_PUMP`, { certificateNumber: 'MCS-77' });
    expect((await validate(hp.id)).json.status).toBe('VERIFIED');
    const calls = mem.calls;
    expect((await validate(hp.id, 'operator', { checks: ['nope'] })).status).toBe(422);
    expect(mem.calls).toBe(calls);
    const gone = await register('fsp-a');
    await hub.call('DELETE', `/api/v1/assets/${gone.id}`, { as: 'fsp-a' });
    expect((await validate(gone.id)).json.code).toBe('DQ-VALIDATION-NOT-APPLICABLE');
    await expectScorecardsConsistent();
  });
});

/* ---------------------------------------------------------------------------------------------- */

describe('the HTTP registry adapters', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (req.headers['x-api-key'] !== 'k') {
        res.writeHead(401).end();
        return;
      }
      if (url.pathname === '/meter-points/1312345678907') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ mpan: '1312345678907', distributorId: '13', gspGroup: '_N', energised: true }));
        return;
      }
      if (url.pathname === '/meter-points/1000000000009') {
        res.writeHead(200).end('not json');
        return;
      }
      if (url.pathname === '/meter-points/2000000000000') {
        setTimeout(() => res.writeHead(200).end('{}'), 500);
        return;
      }
      if (url.pathname === '/installations') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ certificates: url.searchParams.get('serialNumber') === 'S1' ? [{ certificateNumber: 'MCS-1' }] : [] }));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as any).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('answers found, not found, and fails closed on bad answers, timeouts, refusals and an unreachable host', async () => {
    const mp = httpMeterPointRegistry({ baseUrl: base, apiKey: 'k', timeoutMs: 200 });
    const mcs = httpMcsRegister({ baseUrl: base, apiKey: 'k', timeoutMs: 200 });
    const check = (mpan: string, reg = { meterPoints: mp, mcs }) =>
      runChecks(reg, { importMpan: mpan, exportMpan: null, serialNumber: 'S1', category: 'SOLAR_PV', ratedCapacityKw: 4 });
    expect(await check('1312345678907')).toEqual({
      meterPoint: { status: 'ok', mpan: '1312345678907', distributorId: '13', dno: 'SPEN_SPM', gspGroup: '_N', energised: true },
      mcs: { status: 'ok', serialNumber: 'S1', category: 'SOLAR_PV', ratedCapacityKw: 4, certificate: 'MCS-1' },
    });
    expect((await check('1312345678916')).meterPoint?.status).toBe('not-found');
    expect((await check('1000000000009')).meterPoint?.status).toBe('unavailable');
    expect((await check('2000000000000')).meterPoint?.status).toBe('unavailable');
    const noKey = httpMeterPointRegistry({ baseUrl: base, timeoutMs: 200 });
    expect((await check('1312345678907', { meterPoints: noKey, mcs })).meterPoint?.status).toBe('unavailable');
    const nowhere = httpMeterPointRegistry({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 200 });
    expect((await check('1312345678907', { meterPoints: nowhere, mcs })).meterPoint?.status).toBe('unavailable');
    expect(
      await runChecks({}, { importMpan: '1312345678907', exportMpan: null, serialNumber: 'S2', category: 'SOLAR_PV', ratedCapacityKw: 4 }),
    ).toMatchObject({ meterPoint: { status: 'unavailable' }, mcs: { status: 'unavailable' } });
  });
});

/* ---------------------------------------------------------------------------------------------- */

describe('staleness, by the periodic job', () => {
  it('opens DQ-STALE-RECORD once a record is older than the limit, once; a change closes it', async () => {
    const a = await register('fsp-b', { location: { postcode: 'G1 1AA' }, manufacturer: 'Acme', model: 'S', connectionType: 'FIRM' });
    expect(await evaluateStaleness(hub.ctx)).toBe(0);
    hub.clock.advance(400 * 86_400_000);
    try {
      const touched = await evaluateStaleness(hub.ctx);
      expect(touched).toBeGreaterThan(0);
      expect(await openCodes(a.id)).toEqual(['DQ-STALE-RECORD']);
      expect(await evaluateStaleness(hub.ctx)).toBe(0);
      const [ev] = await hub.db.query<{ data: any }>(
        `SELECT data FROM event_outbox WHERE type = 'fmar.data-quality.finding-opened' AND data->'assetIds' ? $1`,
        [a.id],
      );
      expect(ev.data.findings.find((f: any) => f.assetId === a.id).ruleCode).toBe('DQ-STALE-RECORD');
      const u = await hub.call('PATCH', `/api/v1/assets/${a.id}`, {
        as: 'fsp-b',
        body: { name: 'Touched' },
        headers: { 'if-match': '"1"' },
      });
      expect(u.status).toBe(200);
      expect(await openCodes(a.id)).toEqual([]);
      await expectScorecardsConsistent();
    } finally {
      hub.clock.advance(-400 * 86_400_000);
    }
  });
});
