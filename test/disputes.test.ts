import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, batteryInput, mpanFor, testHub, type TestHub, expectRefused, invalid } from './harness';

/** UC-05.03: raise, discuss, review, resolve (Corrected / No Action Required) and withdraw disputes over the API. */

let hub: TestHub;
let regulator: string;
beforeAll(async () => {
  hub = await testHub();
  const reg = await hub.call('POST', '/api/v1/organisations', {
    as: 'operator',
    body: {
      legalName: 'Dispute Regulator',
      organisationType: 'PUBLIC_AUTHORITY',
      registrationNumber: '16900001',
      roles: ['REGULATOR'],
      status: 'ACTIVE',
    },
  });
  expect(reg.status, JSON.stringify(reg.json)).toBe(201);
  regulator = await hub.token({ org: reg.json.id, roles: ['REGULATOR'], sub: 'test-regulator' });
});
afterAll(async () => {
  await hub?.close();
});

const API = '/api/v1/disputes';
const TABLES = ['dispute', 'dispute_comment', 'record_history', 'asset', 'audit_log', 'event_outbox', 'event_recipient'];
let n = 0;

async function asset(as: 'fsp-a' | 'fsp-b' = 'fsp-a'): Promise<{ id: string; version: number; importMpan: string }> {
  const i = ++n;
  const r = await hub.call('POST', '/api/v1/assets', { as, body: batteryInput(8000 + i, { serialNumber: `DSP-${i}` }) });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return { id: r.json.id, version: r.json.version, importMpan: r.json.importMpan };
}

const evidence = [
  { description: 'Letter from the supplier naming the MPAN', url: 'https://evidence.example.com/letter.pdf' },
  {
    description: 'Photo of the meter',
    document: { name: 'meter.jpg', sha256: 'a'.repeat(64), mediaType: 'image/jpeg', sizeBytes: 120_000 },
  },
];
/** A dispute on an asset's import MPAN; other fields come with a claim without proposed values. */
const disputeBody = (recordId: string, extra: Record<string, unknown> = {}) => ({
  recordType: 'asset',
  recordId,
  fields: ['importMpan'],
  evidence,
  ...extra,
  claim:
    extra.claim ??
    (extra.fields
      ? { summary: 'Wrong value.' }
      : { summary: 'The import MPAN is the neighbour’s.', proposedValues: { importMpan: mpanFor(8999) } }),
});
async function raise(as: string, body: unknown) {
  const r = await hub.call('POST', API, { as, body });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}

/** The request is refused with this status and rule code, and nothing is written (test/harness.ts). */
const refused = (req: () => Promise<{ status: number; json: any; text?: string }>, status: number, code: string) =>
  expectRefused(hub.db, TABLES, req, status, code);

const withoutInstance = ({ instance: _instance, ...problem }: Record<string, unknown>) => problem;

/** The organisations an event of this type about this dispute was addressed to (event_recipient). */
async function recipients(disputeId: string, type: string): Promise<string[]> {
  const rows = await hub.db.query<{ organisation_id: string }>(
    `SELECT r.organisation_id FROM event_recipient r JOIN event_outbox e ON e.id = r.event_id WHERE e.subject = $1 AND e.type = $2 ORDER BY 1`,
    [disputeId, type],
  );
  return rows.map((r) => r.organisation_id);
}
/** The event types about this dispute in an organisation's pull feed. */
async function feed(as: string, disputeId: string): Promise<string[]> {
  const r = await hub.call('GET', '/api/v1/events?limit=1000', { as });
  expect(r.status).toBe(200);
  return r.json.items.filter((e: any) => e.subject === disputeId).map((e: any) => e.type);
}
const post =
  (path: string, as: string, body?: unknown, headers: Record<string, string> = {}) =>
  () =>
    hub.call('POST', path, { as, body, headers });

describe('raising a dispute', () => {
  it('raises a dispute on an asset the DNO sees, notifies the raiser, the asset’s parties and the operator', async () => {
    const a = await asset('fsp-a');
    const r = await hub.call('POST', API, { as: 'dno', body: disputeBody(a.id) });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json).toMatchObject({
      recordType: 'asset',
      recordId: a.id,
      fields: ['importMpan'],
      status: 'OPEN',
      outcome: null,
      version: 1,
      raisedBy: { organisationId: DEMO.dno, actor: 'test-dno' },
      evidence,
    });
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.headers.get('location')).toBe(`${API}/${r.json.id}`);
    const all = [DEMO.dno, DEMO['fsp-a'], DEMO.operator].sort();
    expect(await recipients(r.json.id, 'fmar.dispute.raised')).toEqual(all);
    for (const who of ['dno', 'fsp-a', 'operator']) expect(await feed(who, r.json.id), who).toEqual(['fmar.dispute.raised']);
    expect(await feed('fsp-b', r.json.id)).toEqual([]);
    const [audit] = await hub.db.query(
      `SELECT action, organisation_id, detail FROM audit_log WHERE record_type = 'dispute' AND record_id = $1`,
      [r.json.id],
    );
    expect(audit).toMatchObject({
      action: 'dispute.raised',
      organisation_id: DEMO.dno,
      detail: { recordType: 'asset', recordId: a.id, status: 'OPEN' },
    });
  });

  it('refuses a second open dispute by the same organisation on the same record and fields, naming it', async () => {
    const a = await asset('fsp-a');
    const first = await raise('fsp-a', disputeBody(a.id, { fields: ['importMpan', 'dno'], claim: { summary: 'Wrong network' } }));
    const p = await refused(
      post(API, 'fsp-a', disputeBody(a.id, { fields: ['dno', 'importMpan', 'dno'], claim: { summary: 'Again' } })),
      409,
      'DISPUTE-DUPLICATE',
    );
    expect(p.existingDisputeId).toBe(first.id);
    expect(p.detail).toContain(first.id);
    // Other fields, or another organisation, are another dispute.
    await raise('fsp-a', disputeBody(a.id, { fields: ['dno'], claim: { summary: 'Wrong network' } }));
    await raise('dno', disputeBody(a.id, { fields: ['importMpan', 'dno'], claim: { summary: 'Wrong network' } }));
    // Once the first is closed (withdrawn, here without a body), the same fields may be disputed again.
    const w = await hub.call('POST', `${API}/${first.id}/withdraw`, { as: 'fsp-a' });
    expect([w.status, w.json.status, w.json.resolutionNote]).toEqual([200, 'WITHDRAWN', null]);
    await raise('fsp-a', disputeBody(a.id, { fields: ['importMpan', 'dno'], claim: { summary: 'Wrong network, again' } }));
  });

  it('answers a dispute on a record the caller cannot see exactly as the record’s own read answers a missing one', async () => {
    const a = await asset('fsp-a');
    const missing = '01JD8X6N2Q7ZB4Y3W5V6T7S8R9';
    for (const as of ['fsp-b', 'installer']) {
      // Each answer names its own request (instance); everything else is the same.
      const hidden = withoutInstance(await refused(post(API, as, disputeBody(a.id)), 404, 'ASSET-NOT-FOUND'));
      const absent = withoutInstance(await refused(post(API, as, disputeBody(missing)), 404, 'ASSET-NOT-FOUND'));
      expect(hidden).toEqual(JSON.parse(JSON.stringify(absent).replaceAll(missing, a.id)));
      // The other FSP reads assets and gets the same 404; the installer may not read assets at all.
      const own = await hub.call('GET', `/api/v1/assets/${a.id}`, { as });
      if (as === 'fsp-b') expect([own.status, withoutInstance(own.json)]).toEqual([404, hidden]);
      else expect([own.status, own.json.code]).toEqual([403, 'AUTH-SCOPE-MISSING']);
    }
    // A market unit the caller does not control: the unit's own 404.
    const u = await hub.call('POST', '/api/v1/market-units', {
      as: 'fsp-a',
      body: { name: 'Disputed unit', type: 'SPG', product: 'NESO-DFS', assetIds: [a.id, (await asset('fsp-a')).id] },
    });
    expect(u.status, JSON.stringify(u.json)).toBe(201);
    await refused(
      post(API, 'fsp-b', {
        recordType: 'market_unit',
        recordId: u.json.id,
        fields: ['name'],
        claim: { summary: 'Not its name' },
        evidence,
      }),
      404,
      'UNIT-NOT-FOUND',
    );
  });

  it('refuses bad fields, claims and evidence with their rule codes, writing nothing', async () => {
    const a = await asset('fsp-a');
    const bad = (extra: Record<string, unknown>) => post(API, 'fsp-a', disputeBody(a.id, extra));
    const doc = { description: 'A document', document: { sha256: 'b'.repeat(64), mediaType: 'application/pdf' } };
    await refused(
      bad({ evidence: [{ description: 'Plain http', url: 'http://evidence.example.com/x.pdf' }] }),
      422,
      invalid('evidence.0.url', 'DISPUTE-EVIDENCE-URL'),
    );
    await refused(
      bad({ evidence: [{ description: 'Credentials', url: 'https://user:pw@evidence.example.com/x.pdf' }] }),
      422,
      invalid('evidence.0.url', 'DISPUTE-EVIDENCE-URL'),
    );
    await refused(
      bad({ evidence: [{ description: 'Not a URL', url: 'https//nowhere' }] }),
      422,
      invalid('evidence.0.url', 'DISPUTE-EVIDENCE-URL'),
    );
    await refused(
      bad({ evidence: [{ description: 'Both', url: 'https://evidence.example.com/x.pdf', document: doc.document }] }),
      422,
      invalid('evidence.0', 'DISPUTE-EVIDENCE-SOURCE'),
    );
    await refused(bad({ evidence: [{ description: 'Neither' }] }), 422, invalid('evidence.0', 'DISPUTE-EVIDENCE-SOURCE'));
    await refused(
      bad({ evidence: [{ ...doc, document: { ...doc.document, sha256: 'B'.repeat(64) } }] }),
      422,
      invalid('evidence.0.document.sha256', 'DISPUTE-EVIDENCE-DIGEST'),
    );
    await refused(
      bad({ evidence: [{ ...doc, document: { ...doc.document, sha256: 'ab' } }] }),
      422,
      invalid('evidence.0.document.sha256', 'DISPUTE-EVIDENCE-DIGEST'),
    );
    await refused(
      bad({ evidence: [{ ...doc, document: { ...doc.document, mediaType: 'pdf' } }] }),
      422,
      invalid('evidence.0.document.mediaType', 'DISPUTE-EVIDENCE-MEDIA-TYPE'),
    );
    await refused(
      bad({ evidence: [{ ...doc, document: { ...doc.document, sizeBytes: 200_000_000 } }] }),
      422,
      invalid('evidence.0.document.sizeBytes', 'DISPUTE-EVIDENCE-SIZE'),
    );
    await refused(bad({ evidence: [{ ...doc, description: '' }] }), 422, invalid('evidence.0.description', 'DISPUTE-EVIDENCE-DESCRIPTION'));
    await refused(bad({ evidence: Array.from({ length: 21 }, () => doc) }), 422, invalid('evidence', 'DISPUTE-EVIDENCE-TOO-MANY'));
    // A dispute is raised with evidence: none, or an empty list, is refused.
    await refused(bad({ evidence: [] }), 422, invalid('evidence', 'DISPUTE-EVIDENCE-REQUIRED'));
    const { evidence: _e, ...withoutEvidence } = disputeBody(a.id);
    await refused(post(API, 'fsp-a', withoutEvidence), 422, invalid('evidence', 'DISPUTE-EVIDENCE-REQUIRED'));
    await refused(bad({ fields: [] }), 422, invalid('fields', 'DISPUTE-FIELDS-EMPTY'));
    await refused(bad({ fields: ['colour'] }), 422, 'DISPUTE-FIELD-UNKNOWN');
    await refused(bad({ fields: ['location..x'] }), 422, invalid('fields.0', 'DISPUTE-FIELD-UNKNOWN'));
    await refused(bad({ fields: ['version'] }), 422, 'DISPUTE-FIELD-UNKNOWN');
    await refused(bad({ claim: { summary: '' } }), 422, invalid('claim.summary', 'DISPUTE-CLAIM-FORMAT'));
    await refused(bad({ claim: { summary: 'x', proposedValues: { dno: 'UKPN_EPN' } } }), 422, 'DISPUTE-PROPOSED-FIELD');
    await refused(bad({ recordType: 'contract' }), 422, invalid('recordType', 'DISPUTE-RECORD-TYPE-UNKNOWN'));
    await refused(bad({ colour: 'red' }), 422, invalid('colour', 'REQUEST-UNKNOWN-FIELD'));
    // A nested path of a known field is accepted.
    expect(
      (await raise('fsp-a', disputeBody(a.id, { fields: ['location.gspGroup'], claim: { summary: 'Wrong GSP group' } }))).fields,
    ).toEqual(['location.gspGroup']);
  });
});

describe('reading disputes', () => {
  it('shows a dispute to its raiser, the record’s parties, the operator and the regulator, and to nobody else', async () => {
    const a = await asset('fsp-a');
    const d = await raise('dno', disputeBody(a.id));
    for (const as of ['dno', 'fsp-a', 'operator', regulator])
      expect((await hub.call('GET', `${API}/${d.id}`, { as })).status, as).toBe(200);
    for (const as of ['fsp-b', 'installer']) {
      const r = await hub.call('GET', `${API}/${d.id}`, { as });
      expect([r.status, r.json.code]).toEqual([404, 'DISPUTE-NOT-FOUND']);
      expect((await hub.call('GET', `${API}/${d.id}/history`, { as })).status).toBe(404);
    }
    const ids = async (as: string, q = '') => (await hub.call('GET', `${API}?limit=1000${q}`, { as })).json.items.map((x: any) => x.id);
    expect(await ids('fsp-a')).toContain(d.id);
    expect(await ids('fsp-b')).not.toContain(d.id);
    expect(await ids('operator', `&recordId=${a.id}&status=OPEN&raisedBy=${DEMO.dno}&recordType=asset`)).toEqual([d.id]);
    expect(await ids('operator', `&recordId=${a.id}&status=RESOLVED`)).toEqual([]);
  });

  it('pages with a keyset cursor', async () => {
    const a = await asset('fsp-a');
    const made = [
      await raise('fsp-a', disputeBody(a.id, { fields: ['name'] })),
      await raise('fsp-a', disputeBody(a.id, { fields: ['dno'] })),
      await raise('fsp-a', disputeBody(a.id, { fields: ['category'] })),
    ]
      .map((d) => d.id)
      .sort();
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 5; i++) {
      const r = await hub.call('GET', `${API}?recordId=${a.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { as: 'fsp-a' });
      seen.push(...r.json.items.map((x: any) => x.id));
      if (!r.json.nextCursor) break;
      cursor = r.json.nextCursor;
    }
    expect(seen).toEqual(made);
  });
});

describe('the lifecycle', () => {
  it('comments, review and a CORRECTED resolution that updates the asset through its own rules, in one transaction', async () => {
    const a = await asset('fsp-a');
    const d = await raise('dno', disputeBody(a.id));
    // Parties comment while open; others cannot reach the dispute.
    const c = await hub.call('POST', `${API}/${d.id}/comments`, {
      as: 'fsp-a',
      body: { body: 'We agree; the MPAN was mistyped.', evidence: [evidence[0]] },
    });
    expect(c.status, JSON.stringify(c.json)).toBe(201);
    expect(c.json).toMatchObject({ organisationId: DEMO['fsp-a'], body: 'We agree; the MPAN was mistyped.', evidence: [evidence[0]] });
    await refused(post(`${API}/${d.id}/comments`, 'fsp-b', { body: 'Nosy' }), 404, 'DISPUTE-NOT-FOUND');
    await refused(post(`${API}/${d.id}/comments`, 'fsp-a', { body: '' }), 422, invalid('body', 'DISPUTE-COMMENT-FORMAT'));
    expect(await recipients(d.id, 'fmar.dispute.comment-added')).toEqual([DEMO.dno, DEMO['fsp-a'], DEMO.operator].sort());
    expect((await hub.call('GET', `${API}/${d.id}`, { as: 'dno' })).json.comments.map((x: any) => x.id)).toEqual([c.json.id]);

    const good = {
      outcome: 'CORRECTED',
      note: 'Checked against the supplier letter.',
      correction: { version: a.version, changes: { importMpan: mpanFor(8999) } },
    };
    // Only the operator reviews and resolves, and only in order.
    await refused(post(`${API}/${d.id}/resolve`, 'operator', good), 409, 'DISPUTE-TRANSITION-ILLEGAL');
    await refused(post(`${API}/${d.id}/review`, 'fsp-a'), 403, 'AUTH-ROLE-FORBIDDEN');
    await refused(post(`${API}/${d.id}/review`, 'operator', undefined, { 'if-match': '"7"' }), 412, 'REQUEST-PRECONDITION-FAILED');
    const rv = await hub.call('POST', `${API}/${d.id}/review`, { as: 'operator' });
    expect(rv.status, JSON.stringify(rv.json)).toBe(200);
    expect(rv.json).toMatchObject({ status: 'UNDER_REVIEW', version: 2 });
    await refused(post(`${API}/${d.id}/review`, 'operator'), 409, 'DISPUTE-TRANSITION-ILLEGAL');
    await refused(post(`${API}/${d.id}/resolve`, 'fsp-a', good), 403, 'AUTH-ROLE-FORBIDDEN');
    await refused(post(`${API}/${d.id}/resolve`, 'dno', good), 403, 'AUTH-ROLE-FORBIDDEN');
    await refused(post(`${API}/${d.id}/resolve`, 'operator', { outcome: 'CORRECTED' }), 422, 'DISPUTE-CORRECTION-REQUIRED');
    await refused(post(`${API}/${d.id}/resolve`, 'operator', { outcome: 'FIXED' }), 422, invalid('outcome', 'DISPUTE-OUTCOME-UNKNOWN'));

    // A failed correction leaves the asset and the dispute exactly as they were: the asset's own codes come back.
    const stale = await refused(
      post(`${API}/${d.id}/resolve`, 'operator', { ...good, correction: { ...good.correction, version: a.version + 5 } }),
      412,
      'REQUEST-PRECONDITION-FAILED',
    );
    expect(stale.currentVersion).toBe(a.version);
    const valid = mpanFor(8998);
    const badCheckDigit = valid.slice(0, 12) + String((Number(valid[12]) + 1) % 10);
    const badCorrection = await refused(
      post(`${API}/${d.id}/resolve`, 'operator', { ...good, correction: { version: a.version, changes: { importMpan: badCheckDigit } } }),
      422,
      invalid('correction.changes.importMpan', 'ASSET-MPAN-CHECKDIGIT'),
    );
    expect(badCorrection.errors).toContainEqual(
      expect.objectContaining({ field: 'correction.changes.importMpan', code: 'ASSET-MPAN-CHECKDIGIT' }),
    );
    await refused(
      post(`${API}/${d.id}/resolve`, 'operator', { ...good, correction: { version: a.version, changes: { colour: 'red' } } }),
      422,
      invalid('correction.changes.colour', 'REQUEST-UNKNOWN-FIELD'),
    );
    // A code its catalogue does not hold is found by the correction's own parse (the database's catalogues, not a process-wide list).
    const unknownCode = await refused(
      post(`${API}/${d.id}/resolve`, 'operator', {
        ...good,
        correction: { version: a.version, changes: { connectionStatus: 'NOT-A-STATUS' } },
      }),
      422,
      invalid('correction.changes.connectionStatus', 'ASSET-CONNECTION-STATUS-UNKNOWN'),
    );
    expect(unknownCode.detail).toBe('The update is invalid.');
    const unchanged = await hub.call('GET', `${API}/${d.id}`, { as: 'operator' });
    expect(unchanged.json).toMatchObject({ status: 'UNDER_REVIEW', version: 2, outcome: null, correction: null });
    expect((await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' })).json.version).toBe(a.version);

    const r = await hub.call('POST', `${API}/${d.id}/resolve`, { as: 'operator', body: good, headers: { 'if-match': '"2"' } });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({
      status: 'RESOLVED',
      outcome: 'CORRECTED',
      resolutionNote: good.note,
      version: 3,
      correction: { expectedVersion: a.version, changes: good.correction.changes, resultingVersion: a.version + 1 },
    });
    expect(r.json.closedAt).not.toBeNull();
    const after = await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' });
    expect(after.json).toMatchObject({ version: a.version + 1, importMpan: mpanFor(8999) });
    const history = await hub.call('GET', `/api/v1/assets/${a.id}/history`, { as: 'fsp-a' });
    expect(history.json.items.map((x: any) => [x.version, x.importMpan])).toEqual([
      [a.version + 1, mpanFor(8999)],
      [a.version, a.importMpan],
    ]);
    const [audit] = await hub.db.query(
      `SELECT detail FROM audit_log WHERE record_type = 'asset' AND record_id = $1 AND action = 'asset.updated'`,
      [a.id],
    );
    expect(audit.detail).toMatchObject({
      disputeId: d.id,
      version: a.version + 1,
      changes: { importMpan: [expect.any(String), mpanFor(8999)] },
    });
    const [resolved] = await hub.db.query(
      `SELECT detail FROM audit_log WHERE record_type = 'dispute' AND record_id = $1 AND action = 'dispute.resolved'`,
      [d.id],
    );
    expect(resolved.detail).toMatchObject({ correctedVersion: a.version + 1, status: 'RESOLVED' });
    expect(await recipients(d.id, 'fmar.dispute.resolved')).toEqual([DEMO.dno, DEMO['fsp-a'], DEMO.operator].sort());
    expect(await feed('fsp-a', d.id)).toEqual([
      'fmar.dispute.raised',
      'fmar.dispute.comment-added',
      'fmar.dispute.under-review',
      'fmar.dispute.resolved',
    ]);
    const h = await hub.call('GET', `${API}/${d.id}/history`, { as: 'dno' });
    expect(h.json.items.map((x: any) => [x.version, x.status])).toEqual([
      [3, 'RESOLVED'],
      [2, 'UNDER_REVIEW'],
      [1, 'OPEN'],
    ]);

    // Closed: no comments, no withdrawal, no second resolution.
    await refused(post(`${API}/${d.id}/comments`, 'fsp-a', { body: 'Late' }), 409, 'DISPUTE-TRANSITION-ILLEGAL');
    await refused(post(`${API}/${d.id}/withdraw`, 'dno', {}), 409, 'DISPUTE-TRANSITION-ILLEGAL');
    await refused(post(`${API}/${d.id}/resolve`, 'operator', good), 409, 'DISPUTE-TRANSITION-ILLEGAL');
    // Resolved disputes no longer block a new one on the same fields.
    await raise('dno', disputeBody(a.id));
  });

  it('resolves NO_ACTION_REQUIRED only with a reason and without a correction', async () => {
    const a = await asset('fsp-a');
    const d = await raise('fsp-a', disputeBody(a.id, { fields: ['ratedCapacityKw'], claim: { summary: 'Capacity is 6 kW' } }));
    expect((await hub.call('POST', `${API}/${d.id}/review`, { as: 'operator' })).status).toBe(200);
    await refused(post(`${API}/${d.id}/resolve`, 'operator', { outcome: 'NO_ACTION_REQUIRED' }), 422, 'DISPUTE-REASON-REQUIRED');
    await refused(
      post(`${API}/${d.id}/resolve`, 'operator', { outcome: 'NO_ACTION_REQUIRED', note: 'x', correction: { version: 1, changes: {} } }),
      422,
      'DISPUTE-CORRECTION-UNEXPECTED',
    );
    const r = await hub.call('POST', `${API}/${d.id}/resolve`, {
      as: 'operator',
      body: { outcome: 'NO_ACTION_REQUIRED', note: 'The commissioning sheet says 5 kW.' },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({
      status: 'RESOLVED',
      outcome: 'NO_ACTION_REQUIRED',
      resolutionNote: 'The commissioning sheet says 5 kW.',
      correction: null,
    });
    expect((await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' })).json.version).toBe(a.version);
  });

  it('lets only the raiser withdraw, before resolution', async () => {
    const a = await asset('fsp-a');
    const d = await raise('dno', disputeBody(a.id));
    await refused(post(`${API}/${d.id}/withdraw`, 'fsp-a', {}), 403, 'DISPUTE-NOT-RAISER');
    // The operator reads it but is no party to withdraw: as if missing.
    await refused(post(`${API}/${d.id}/withdraw`, 'operator', {}), 404, 'DISPUTE-NOT-FOUND');
    await refused(post(`${API}/${d.id}/withdraw`, 'fsp-b', {}), 404, 'DISPUTE-NOT-FOUND');
    const w = await hub.call('POST', `${API}/${d.id}/withdraw`, { as: 'dno', body: { reason: 'Raised on the wrong asset' } });
    expect(w.status, JSON.stringify(w.json)).toBe(200);
    expect(w.json).toMatchObject({ status: 'WITHDRAWN', outcome: null, resolutionNote: 'Raised on the wrong asset', version: 2 });
    expect(await recipients(d.id, 'fmar.dispute.withdrawn')).toEqual([DEMO.dno, DEMO['fsp-a'], DEMO.operator].sort());
    await refused(post(`${API}/${d.id}/withdraw`, 'dno', {}), 409, 'DISPUTE-TRANSITION-ILLEGAL');
    await refused(post(`${API}/${d.id}/review`, 'operator'), 409, 'DISPUTE-TRANSITION-ILLEGAL');
    await refused(post(`${API}/${d.id}/comments`, 'dno', { body: 'Late' }), 409, 'DISPUTE-TRANSITION-ILLEGAL');
  });

  it('corrects an organisation and a market unit through their own updates, linking the dispute', async () => {
    const org = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-b']}`, { as: 'operator' });
    const d = await raise('fsp-a', {
      recordType: 'organisation',
      recordId: DEMO['fsp-b'],
      fields: ['tradingName'],
      claim: { summary: 'They trade as Beta Flex', proposedValues: { tradingName: 'Beta Flex' } },
      evidence,
    });
    expect(await recipients(d.id, 'fmar.dispute.raised')).toEqual([DEMO['fsp-a'], DEMO['fsp-b'], DEMO.operator].sort());
    expect((await hub.call('POST', `${API}/${d.id}/review`, { as: 'operator' })).status).toBe(200);
    // The organisation's own rule code comes back.
    await refused(
      post(`${API}/${d.id}/resolve`, 'operator', {
        outcome: 'CORRECTED',
        correction: { version: org.json.version, changes: { legalName: '' } },
      }),
      422,
      invalid('correction.changes.legalName', 'ORG-LEGAL-NAME'),
    );
    const r = await hub.call('POST', `${API}/${d.id}/resolve`, {
      as: 'operator',
      body: { outcome: 'CORRECTED', correction: { version: org.json.version, changes: { tradingName: 'Beta Flex' } } },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.correction.resultingVersion).toBe(org.json.version + 1);
    expect((await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-b']}`, { as: 'fsp-b' })).json).toMatchObject({
      tradingName: 'Beta Flex',
      version: org.json.version + 1,
    });
    const [audit] = await hub.db.query(
      `SELECT detail FROM audit_log WHERE record_type = 'organisation' AND record_id = $1 AND action = 'organisation.updated' ORDER BY id DESC LIMIT 1`,
      [DEMO['fsp-b']],
    );
    expect(audit.detail).toMatchObject({ disputeId: d.id, changed: ['tradingName'] });

    const members = [(await asset('fsp-a')).id, (await asset('fsp-a')).id];
    const u = await hub.call('POST', '/api/v1/market-units', {
      as: 'fsp-a',
      body: { name: 'Unit to correct', type: 'SPG', product: 'NESO-DFS', assetIds: members },
    });
    expect(u.status, JSON.stringify(u.json)).toBe(201);
    const ud = await raise('operator', {
      recordType: 'market_unit',
      recordId: u.json.id,
      fields: ['name'],
      claim: { summary: 'Misspelt' },
      evidence,
    });
    expect(await recipients(ud.id, 'fmar.dispute.raised')).toEqual([DEMO['fsp-a'], DEMO.operator].sort());
    expect((await hub.call('POST', `${API}/${ud.id}/review`, { as: 'operator' })).status).toBe(200);
    await refused(
      post(`${API}/${ud.id}/resolve`, 'operator', { outcome: 'CORRECTED', correction: { version: 1, changes: { assetIds: [] } } }),
      422,
      invalid('correction.changes.assetIds', 'UNIT-EMPTY'),
    );
    const ur = await hub.call('POST', `${API}/${ud.id}/resolve`, {
      as: 'operator',
      body: { outcome: 'CORRECTED', correction: { version: 1, changes: { name: 'Unit corrected' } } },
    });
    expect(ur.status, JSON.stringify(ur.json)).toBe(200);
    expect((await hub.call('GET', `/api/v1/market-units/${u.json.id}`, { as: 'fsp-a' })).json).toMatchObject({
      name: 'Unit corrected',
      version: 2,
    });
    const [ua] = await hub.db.query(
      `SELECT detail FROM audit_log WHERE record_type = 'market_unit' AND record_id = $1 AND action = 'market-unit.updated'`,
      [u.json.id],
    );
    expect(ua.detail).toMatchObject({ disputeId: ud.id, version: 2 });
  });

  it('caps the evidence a dispute holds across its comments', async () => {
    const a = await asset('fsp-a');
    const item = { description: 'More', url: 'https://evidence.example.com/more.pdf' };
    const d = await raise('fsp-a', disputeBody(a.id, { fields: ['serialNumber'], evidence: Array.from({ length: 20 }, () => item) }));
    expect(
      (
        await hub.call('POST', `${API}/${d.id}/comments`, {
          as: 'fsp-a',
          body: { body: 'More evidence', evidence: Array.from({ length: 20 }, () => item) },
        })
      ).status,
    ).toBe(201);
    await refused(
      post(`${API}/${d.id}/comments`, 'fsp-a', { body: 'Too much', evidence: Array.from({ length: 11 }, () => item) }),
      409,
      'DISPUTE-EVIDENCE-LIMIT',
    );
    expect(
      (
        await hub.call('POST', `${API}/${d.id}/comments`, {
          as: 'operator',
          body: { body: 'Ten more is the limit', evidence: Array.from({ length: 10 }, () => item) },
        })
      ).status,
    ).toBe(201);
  });
});
