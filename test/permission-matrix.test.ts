import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { apiRoute, routeActions } from '../src/access/api-route';
import { authorize, type AuthEnv } from '../src/access/auth';
import {
  NETWORK_ROLES,
  OWNER_ROLES,
  PERMISSIONS,
  SEES_ALL,
  CONSUMER_SCOPES,
  baselineScopes,
  routeAction,
  type Action,
  type Permission,
  type RouteAction,
} from '../src/access/permissions';
import { API_BASE, buildApp } from '../src/app';
import { consumerPrincipal, systemPrincipal } from '../src/access/principal';
import { signAccessToken } from '../identity/index';
import { registerAssets } from '../src/assets/service';
import { ORGANISATION_ROLES, type OrganisationRole } from '../src/access/roles';
import { Problem, problemResponse } from '../src/http/problem';
import { registerOrganisation } from '../src/organisations/service';
import { createClient, revokeClient } from '../src/identity/clients';
import { deactivateUser, inviteUser } from '../src/identity/users';
import { NEVER_DELEGATED, grantDelegation, revokeDelegation } from '../src/identity/delegations';
import { registerVen } from '../src/openadr/registrations';
import { registerVtn } from '../src/openadr/vtns';
import { writeEvents } from '../src/events/outbox';
import { createSubscription, rotateSecret } from '../src/webhooks/subscriptions';
import { createMarketUnit } from '../src/units/service';
import { recordEquivalence } from '../src/products/service';
import { recordLimit } from '../src/connection-limits/service';
import { grantShare } from '../src/sharing/service';
import { raiseDispute, withdrawDispute } from '../src/disputes/service';
import { enqueueCimImport } from '../src/cim/jobs';
import { tally } from '../src/assets/bulk-import';
import { saveBulkReport } from '../src/assets/bulk-report';
import { applyDueSwitches } from '../src/switching/switches';
import { DEMO, batteryInput, expectRefused, mpanFor, testHub, type TestHub } from './harness';

/**
 * The permission matrix, walked: every route under /api/v1 × every organisation role × a record of
 * the caller's own organisation and one of another, compared with what the action each route
 * declares (apiRoute, src/access/api-route.ts) and PERMISSIONS in src/access/permissions.ts say. The expected outcome is derived here from the data (roles, scope,
 * `visibility`), not from the code that enforces it. Requests are built so that no record changes
 * (If-Match "999", bodies that fail validation, an organisation with active assets to de-register;
 * POST /audit/verify seals the chain, which is harmless).
 */

let hub: TestHub;
const API = '/api/v1';
/** A party outside the walk, for the stranger's own switch. */
const DEMO_FSP = DEMO['fsp-b'];

interface AssetFacts {
  id: string;
  name: string;
  organisationId: string;
  fspId: string;
  dno: string;
}
interface Caller {
  role: OrganisationRole;
  org: string;
  dnoCodes: string[];
  token: string;
}
type Relation = 'own' | 'other';
type Target =
  | { kind: 'asset'; asset: AssetFacts }
  | { kind: 'organisation'; id: string }
  | { kind: 'client'; id: string; org: string }
  | { kind: 'user'; id: string; org: string }
  | { kind: 'delegation'; id: string; parties: string[] }
  | { kind: 'vtn'; id: string; operator: string }
  | { kind: 'ven'; id: string; org: string; vtnOperator: string }
  | { kind: 'switch'; id: string; parties: string[] }
  | { kind: 'contract'; id: string; parties: string[] }
  | { kind: 'webhook'; id: string; org: string }
  | { kind: 'unit'; id: string; fspId: string; dno: string }
  | { kind: 'scorecard'; scope: 'organisation' | 'dno'; key: string }
  | { kind: 'dispute'; id: string; parties: string[] }
  | { kind: 'product'; id: string }
  | { kind: 'equivalence'; id: string }
  | { kind: 'cimjob'; id: string; org: string }
  | { kind: 'bulkreport'; id: string; org: string }
  | { kind: 'submission'; id: string; parties: string[] }
  | { kind: 'limit'; id: string; parties: string[] }
  | { kind: 'share'; id: string; owner: string; recipient: string }
  | { kind: 'household'; id: string; what: 'consent' | 'dispute' };

const callers = new Map<OrganisationRole, Caller>();
const ownAsset = new Map<OrganisationRole, AssetFacts>();
let stranger: string;
let strangerAsset: AssetFacts;
/** Identity records per organisation, made already revoked/deactivated so that walking them writes nothing. */
const clientOf = new Map<string, string>();
const userOf = new Map<string, string>();
const delegationTo = new Map<string, string>();
let strangerDelegation: string;
/** Closed switches and terminated contracts per organisation (walking them changes nothing). */
const switchOf = new Map<string, string>();
const contractOf = new Map<string, string>();
/** OpenADR: a VTN each organisation operates; a VEN registration "of" each caller (its own, or the stranger's on the caller's VTN). */
const vtnOf = new Map<string, string>();
const venOf = new Map<string, { id: string; org: string; vtnOperator: string }>();
let strangerVen: { id: string; org: string; vtnOperator: string };
/** A webhook subscription per organisation, its secret just rotated (a second rotation is refused), with a pending delivery (replay is refused). */
const webhookOf = new Map<string, { id: string; eventId: string }>();
/** A dispute each organisation raised on itself, already withdrawn (comments, review, resolution and withdrawal are refused). */
const disputeOf = new Map<string, string>();
/** A market unit over each caller's own asset (and the stranger's); walking it is refused by If-Match "999" or an empty body. */
const unitOf = new Map<string, { id: string; fspId: string; dno: string }>();
let strangerUnit: { id: string; fspId: string; dno: string };
/** An equivalence between two catalogue products; products and equivalences are everyone's to read, so one record serves own and other. */
let walkerEquivalence: string;
/** An asset submission per organisation (submitted by it and naming it), already rejected: a decision is refused as SUBMISSION-STATE. */
const submissionOf = new Map<string, string>();
/** A queued CIM import job per organisation (never run: its report is refused as not finished). */
const cimJobOf = new Map<string, string>();
/** A stored bulk report per organisation (readable by that organisation alone). */
const bulkReportOf = new Map<string, string>();
/**
 * A connection limit at each caller's own asset's MPAN, recorded by the DNO (the IDNO for its own
 * network), and one at the stranger's asset's MPAN recorded by a DNO of that network: its parties
 * are the recording DNO and the FSP controlling the asset there.
 */
const limitOf = new Map<string, { id: string; parties: string[] }>();
let strangerLimit: { id: string; parties: string[] };
/**
 * A live data share per caller: the one it granted to the System Operator caller (passport only),
 * or, for the platforms, one granted to them: the FSP caller's (assets ALL) to the System Operator
 * and the aggregator caller's (assets ALL) to the IMP, so the platforms' pulls of their own share
 * are served. The stranger's goes to a platform no caller is. `asset`: an asset the share covers.
 */
const shareOf = new Map<string, { id: string; owner: string; recipient: string; asset: string }>();
let strangerShare: { id: string; owner: string; recipient: string; asset: string };
/**
 * A household (the consumer principal, docs/consumers.md) at the meter point of the FSP caller's
 * own asset: a consent recorded for its meter (already revoked: a revocation is refused) and a
 * dispute it raised (withdrawn); the "other" records are the stranger's asset, a consent at the
 * stranger's meter point and the stranger's dispute.
 */
const household = { mpan: '', token: '', subject: 'consumer:walker', ownConsent: '', otherConsent: '', ownDispute: '' };

/** One organisation with exactly that role, per role; a stranger (FSP) owns the "other" records. */
beforeAll(async () => {
  hub = await testHub();
  const sys = hub.system;
  const passport = { contacts: { primary: { firstName: 'Pat', lastName: 'Matrix', email: 'pat@matrix.example' } } };
  const strangerOrg = await registerOrganisation(hub.ctx, sys, {
    legalName: 'Matrix Stranger Ltd',
    organisationType: 'LTD',
    registrationNumber: '09800099',
    roles: ['FSP'],
    status: 'ACTIVE',
    passport,
  });
  stranger = strangerOrg.id;
  const dnoCodesOf = (r: OrganisationRole) => (r === 'DNO' ? ['SPEN_SPM'] : r === 'IDNO' ? ['IDNO_24'] : []);
  const rows: Record<string, unknown>[] = [];
  const facts: AssetFacts[] = [];
  for (const [i, role] of ORGANISATION_ROLES.entries()) {
    const org = await registerOrganisation(hub.ctx, sys, {
      legalName: `Matrix ${role} Ltd`,
      organisationType: 'LTD',
      registrationNumber: `0980${String(i).padStart(4, '0')}`,
      roles: [role],
      status: 'ACTIVE',
      dnoCodes: dnoCodesOf(role),
      passport,
    });
    callers.set(role, {
      role,
      org: org.id,
      dnoCodes: dnoCodesOf(role),
      token: await hub.token({ org: org.id, roles: [role], sub: `matrix-${role}` }),
    });
    // Its own asset, on its own network for a DNO/IDNO; controlled by itself if it may control, else by the stranger.
    const idno = role === 'IDNO';
    const a = {
      name: `Matrix asset ${String(i).padStart(2, '0')}`,
      organisationId: org.id,
      fspId: role === 'FSP' || role === 'AGGREGATOR' ? org.id : stranger,
      dno: idno ? 'IDNO_24' : 'SPEN_SPM',
    };
    // generationCapacityKw without an export MPAN: a WARNING data quality finding (DQ-BESS-EXPORT-MPAN), listed by the findings route.
    rows.push(
      batteryInput(7000 + i, {
        name: a.name,
        organisationId: a.organisationId,
        fspId: a.fspId,
        dno: a.dno,
        importMpan: mpanFor(7000 + i, idno ? '24' : '13'),
        serialNumber: `MX-${i}`,
        generationCapacityKw: 2,
      }),
    );
    facts.push({ id: '', ...a });
  }
  // The other organisation's asset: the stranger's, on a network no caller operates.
  const other = { name: 'Matrix asset 99', organisationId: stranger, fspId: stranger, dno: 'UKPN_EPN' };
  rows.push(
    batteryInput(7099, {
      name: other.name,
      organisationId: stranger,
      fspId: stranger,
      dno: other.dno,
      importMpan: mpanFor(7099, '10'),
      serialNumber: 'MX-99',
      generationCapacityKw: 2,
    }),
  );
  facts.push({ id: '', ...other });
  const out = await registerAssets(hub.ctx, sys, rows, { source: 'test' });
  expect(out.ok, JSON.stringify(out.results.filter((r) => r.status === 'rejected'))).toBe(true);
  out.assets.forEach((a, i) => {
    facts[i].id = a.id;
  });
  ORGANISATION_ROLES.forEach((role, i) => ownAsset.set(role, facts[i]));
  strangerAsset = facts[facts.length - 1];
  for (const a of facts) {
    const { unit } = await createMarketUnit(hub.ctx, sys, {
      name: `Unit of ${a.name}`,
      type: 'SPU',
      product: 'NESO-DFS',
      assetIds: [a.id],
    });
    const u = { id: unit.id, fspId: unit.fspId, dno: a.dno };
    if (a === strangerAsset) strangerUnit = u;
    else unitOf.set(a.organisationId, u);
  }
  walkerEquivalence = (await recordEquivalence(hub.ctx, sys, { productA: 'NESO-QR', productB: 'NESO-SR', kind: 'SUBSTITUTABLE' })).id;
  const until = new Date(hub.clock.now().getTime() + 86_400_000).toISOString();
  const extra = await registerOrganisation(hub.ctx, sys, {
    legalName: 'Matrix Bystander Ltd',
    organisationType: 'LTD',
    registrationNumber: '09800098',
    roles: ['INSTALLER'],
    status: 'ACTIVE',
    passport,
  });
  for (const org of [...[...callers.values()].map((c) => c.org), stranger]) {
    const c = await createClient(hub.ctx, sys, { name: 'walker', kind: 'machine', authMethod: 'client_secret_basic', organisationId: org });
    await revokeClient(hub.ctx, sys, c.clientId);
    clientOf.set(org, c.clientId);
    const u = await inviteUser(
      hub.ctx,
      sys,
      org,
      { email: `walker-${org}@matrix.example`, name: 'Walker', userRole: 'MEMBER' },
      'http://hub.test',
    );
    await deactivateUser(hub.ctx, sys, org, u.id);
    userOf.set(org, u.id);
    if (org !== stranger) {
      const d = await grantDelegation(hub.ctx, sys, { delegatorId: stranger, delegateId: org, scopes: ['assets:read'], validTo: until });
      await revokeDelegation(hub.ctx, sys, d.id);
      delegationTo.set(org, d.id);
    }
  }
  const sd = await grantDelegation(hub.ctx, sys, { delegatorId: stranger, delegateId: extra.id, scopes: ['assets:read'], validTo: until });
  await revokeDelegation(hub.ctx, sys, sd.id);
  strangerDelegation = sd.id;
  for (const [i, org] of [...[...callers.values()].map((c) => c.org), stranger].entries()) {
    const vtn = await registerVtn(hub.ctx, sys, {
      code: `MX${String(i).padStart(2, '0')}`,
      name: `Matrix VTN ${i}`,
      protocol: '3.1',
      baseUrl: `https://vtn${i}.matrix.example`,
      operatorId: org,
    });
    vtnOf.set(org, vtn.id);
  }
  const ven = async (org: string, vtnOperator: string, n: string) => {
    const r = await registerVen(hub.ctx, sys, {
      vtn: vtnOf.get(vtnOperator)!,
      venId: `mx-ven-${n}`,
      venName: `Matrix VEN ${n}`,
      organisationId: org,
    });
    return { id: r.id, org, vtnOperator };
  };
  for (const c of callers.values())
    venOf.set(c.org, c.role === 'FSP' || c.role === 'AGGREGATOR' ? await ven(c.org, stranger, c.role) : await ven(stranger, c.org, c.role));
  strangerVen = await ven(stranger, stranger, 'stranger');
  await inviteUser(hub.ctx, sys, stranger, { email: 'walker-taken@matrix.example', name: 'Taken', userRole: 'VIEWER' }, 'http://hub.test');
  const at = hub.clock.now().toISOString();
  for (const org of [...[...callers.values()].map((c) => c.org), stranger]) {
    const sid = hub.ports.ids.next();
    await hub.db.query(
      `INSERT INTO asset_switch (id, asset_id, losing_fsp_id, gaining_fsp_id, status, effective_date, effective_at, consent, consent_jti, consent_issuer, requested_at, requested_by, closed_at, closed_by)
      VALUES ($1, $2, $3, $4, 'WITHDRAWN', '2026-07-01', $5::timestamptz, '{}'::jsonb, $1, 'walker', $5::timestamptz, 'walker', $5::timestamptz, 'walker')`,
      [sid, strangerAsset.id, stranger, org === stranger ? DEMO_FSP : org, at],
    );
    switchOf.set(org, sid);
    const kid = hub.ports.ids.next();
    await hub.db.query(
      `INSERT INTO contract (id, system_operator_id, fsp_id, asset_id, product, period, status, recorded_at, recorded_by)
      VALUES ($1, $2, $2, $3, 'DFS', tstzrange('2026-07-01', '2026-08-01'), 'TERMINATED', $4::timestamptz, 'walker')`,
      [kid, org, strangerAsset.id, at],
    );
    contractOf.set(org, kid);
  }
  for (const org of [...[...callers.values()].map((c) => c.org), stranger]) {
    const w = await createSubscription(
      hub.ctx,
      { ...sys, organisationId: org },
      { url: 'https://hooks.matrix.example/in', eventTypes: ['*'] },
      { production: false },
    );
    await rotateSecret(hub.ctx, sys, w.id);
    const eventId = await hub.db.transaction(async (tx) => {
      await writeEvents(tx, hub.ctx.ids, hub.clock.now(), [{ type: 'fmar.test.walker', subject: org, organisationId: org, data: {} }]);
      return (await tx.query(`SELECT id FROM event_outbox WHERE type = 'fmar.test.walker' AND subject = $1`, [org]))[0].id as string;
    });
    webhookOf.set(org, { id: w.id, eventId });
  }
  for (const [org, role] of [...[...callers.values()].map((c) => [c.org, c.role] as const), [stranger, 'FSP'] as const]) {
    const raiser = { subject: 'walker', organisationId: org, roles: [role], scopes: baselineScopes([role]), dnoCodes: dnoCodesOf(role) };
    const d = await raiseDispute(hub.ctx, raiser, {
      recordType: 'organisation',
      recordId: org,
      fields: ['tradingName'],
      claim: { summary: 'Walker dispute' },
      evidence: [{ description: 'Walker evidence', url: 'https://evidence.example.com/walker.pdf' }],
    });
    await withdrawDispute(hub.ctx, raiser, d.id);
    disputeOf.set(org, d.id);
  }
  for (const [org, role] of [...[...callers.values()].map((c) => [c.org, c.role] as const), [stranger, 'DNO'] as const]) {
    const j = await enqueueCimImport(
      hub.ctx,
      { subject: 'walker', organisationId: org, roles: [role], scopes: baselineScopes([role]), dnoCodes: dnoCodesOf(role) },
      [{ name: 'walker.xml', content: new TextEncoder().encode('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>') }],
      { mode: 'enrich', dryRun: true, unit: 'W', maxBytes: 1_000_000 },
    );
    cimJobOf.set(org, j.id);
  }
  for (const org of [...[...callers.values()].map((c) => c.org), stranger]) {
    const r = await saveBulkReport(
      hub.ctx,
      { ...systemPrincipal('walker'), organisationId: org },
      { dryRun: true, onError: 'stop', status: 422, total: 0, tally: tally([]), rejected: [] },
    );
    bulkReportOf.set(org, r);
    const id = hub.ctx.ids.next();
    const at = hub.clock.now().toISOString();
    await hub.db.query(
      `INSERT INTO asset_submission (id, submitter_id, fsp_id, status, input, reason, submitted_at, submitted_by, decided_at, decided_by)
      VALUES ($1, $2, $2, 'REJECTED', '{}'::jsonb, 'walker', $3::timestamptz, 'walker', $3::timestamptz, 'walker')`,
      [id, org, at],
    );
    submissionOf.set(org, id);
  }
  const recorder = (role: 'DNO' | 'IDNO', org = callers.get(role)!.org, dnoCodes = dnoCodesOf(role)) => ({
    subject: 'walker',
    organisationId: org,
    roles: [role],
    scopes: baselineScopes([role]),
    dnoCodes,
  });
  for (const [i, role] of ORGANISATION_ROLES.entries()) {
    const by = role === 'IDNO' ? recorder('IDNO') : recorder('DNO');
    const l = await recordLimit(hub.ctx, by, {
      mpan: mpanFor(7000 + i, role === 'IDNO' ? '24' : '13'),
      exportLimitKw: 10,
      firmness: 'FIRM',
    });
    limitOf.set(callers.get(role)!.org, { id: l.id, parties: [by.organisationId, ownAsset.get(role)!.fspId] });
  }
  const strangerDno = await registerOrganisation(hub.ctx, sys, {
    legalName: 'Matrix Stranger DNO plc',
    organisationType: 'PLC',
    registrationNumber: '09800096',
    roles: ['DNO'],
    status: 'ACTIVE',
    dnoCodes: ['UKPN_EPN'],
    passport,
  });
  const sl = await recordLimit(hub.ctx, recorder('DNO', strangerDno.id, ['UKPN_EPN']), {
    mpan: mpanFor(7099, '10'),
    exportLimitKw: 10,
    firmness: 'FIRM',
  });
  strangerLimit = { id: sl.id, parties: [strangerDno.id, stranger] };
  const so = callers.get('SYSTEM_OPERATOR')!.org;
  const imp = callers.get('INDEPENDENT_MARKET_PLATFORM')!.org;
  const validTo = new Date(hub.clock.now().getTime() + 30 * 86_400_000).toISOString();
  const share = async (role: OrganisationRole, recipientId: string, assets: 'NONE' | 'ALL') => {
    const c = callers.get(role)!;
    const by = { subject: 'walker', organisationId: c.org, roles: [role], scopes: baselineScopes([role]), dnoCodes: c.dnoCodes };
    const g = await grantShare(hub.ctx, by, { recipientId, assets, validTo });
    return { id: g.id, owner: c.org, recipient: recipientId, asset: assets === 'ALL' ? ownAsset.get(role)!.id : strangerAsset.id };
  };
  for (const role of ORGANISATION_ROLES) {
    if (role === 'SYSTEM_OPERATOR' || role === 'INDEPENDENT_MARKET_PLATFORM') continue;
    shareOf.set(callers.get(role)!.org, await share(role, so, role === 'FSP' ? 'ALL' : 'NONE'));
  }
  shareOf.set(so, shareOf.get(callers.get('FSP')!.org)!);
  shareOf.set(imp, await share('AGGREGATOR', imp, 'ALL'));
  const bystander = await registerOrganisation(hub.ctx, sys, {
    legalName: 'Matrix Bystander Platform plc',
    organisationType: 'PLC',
    registrationNumber: '09800095',
    roles: ['INDEPENDENT_MARKET_PLATFORM'],
    status: 'ACTIVE',
    passport,
  });
  const ss = await grantShare(
    hub.ctx,
    { subject: 'walker', organisationId: stranger, roles: ['FSP'], scopes: baselineScopes(['FSP']), dnoCodes: [] },
    { recipientId: bystander.id, validTo },
  );
  strangerShare = { id: ss.id, owner: stranger, recipient: bystander.id, asset: strangerAsset.id };
  // The household at the FSP caller's meter point, its consent (revoked) and its dispute (withdrawn).
  const fspIndex = ORGANISATION_ROLES.indexOf('FSP');
  household.mpan = mpanFor(7000 + fspIndex);
  household.token = await signAccessToken(
    hub.keys,
    {
      iss: hub.cfg.issuer,
      aud: hub.cfg.audience,
      sub: household.subject,
      ttlSec: 3600,
      jti: 'walker-household',
      consumer: { mpans: [household.mpan] },
      scope: CONSUMER_SCOPES.join(' '),
    },
    hub.clock.now(),
  );
  for (const [which, mpan, asset] of [
    ['ownConsent', household.mpan, ownAsset.get('FSP')!.id],
    ['otherConsent', mpanFor(7099, '10'), strangerAsset.id],
  ] as const) {
    const sid = hub.ports.ids.next();
    await hub.db.query(
      `INSERT INTO asset_switch (id, asset_id, losing_fsp_id, gaining_fsp_id, status, effective_date, effective_at, consent, consent_jti, consent_issuer, requested_at, requested_by, closed_at, closed_by)
      VALUES ($1, $2, $3, $3, 'WITHDRAWN', '2026-07-01', $4::timestamptz, $5::jsonb, $1, 'walker', $4::timestamptz, 'walker', $4::timestamptz, 'walker')`,
      [sid, asset, stranger, at, { claims: { mpan, fsp: stranger }, tokenHash: `walker-${sid}` }],
    );
    household[which] = sid;
  }
  await hub.db.query(
    `INSERT INTO consent_revocation (issuer, jti, revoked_at, source, recorded_at, recorded_by) VALUES ('walker', $1, $2::timestamptz, 'operator', $2::timestamptz, 'walker')`,
    [household.ownConsent, at],
  );
  const consumer = consumerPrincipal(household.subject, [household.mpan], [...CONSUMER_SCOPES]);
  const hd = await raiseDispute(hub.ctx, consumer, {
    recordType: 'asset',
    recordId: ownAsset.get('FSP')!.id,
    fields: ['ratedCapacityKw'],
    claim: { summary: 'Walker household dispute' },
    evidence: [{ description: 'Walker evidence', url: 'https://evidence.example.com/walker.pdf' }],
  });
  await withdrawDispute(hub.ctx, consumer, hd.id);
  household.ownDispute = hd.id;
}, 60_000);
afterAll(async () => {
  await hub?.close();
});

/** Hono's `/assets/:id` as the route table's `/assets/{id}`. */
const openApiPath = (p: string) => p.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');

/** Every route the app serves under /api/v1, once per method and path; `use()` middleware is not a route. */
function appRoutes(): string[] {
  const keys = new Set<string>();
  for (const r of hub.app.routes) {
    if (!r.path.startsWith(`${API}/`) || (r.method === 'ALL' && r.path.endsWith('*'))) continue;
    keys.add(`${r.method.toUpperCase()} ${openApiPath(r.path)}`);
  }
  return [...keys].sort();
}

/** The route → action table the app read from its route declarations. */
const declared = () => routeActions(hub.app, { under: API_BASE });
const entryOf = (key: string): RouteAction | undefined => declared().actions.get(key);

/** Does a caller with this role reach the record under the action's object-level rule (the data, read here)? */
function reaches(action: Action, c: Caller, t: Target): boolean {
  const p: Permission = PERMISSIONS[action];
  if ((p.seesAll ?? SEES_ALL).includes(c.role) || p.visibility === 'all' || p.visibility === 'none') return true;
  if (t.kind === 'organisation') return t.id === c.org;
  if (t.kind === 'client' || t.kind === 'user') return t.org === c.org;
  if (t.kind === 'delegation' || t.kind === 'switch' || t.kind === 'contract') return t.parties.includes(c.org);
  if (t.kind === 'vtn') return t.operator === c.org;
  if (t.kind === 'ven') return t.org === c.org || t.vtnOperator === c.org;
  if (t.kind === 'webhook') return t.org === c.org;
  if (t.kind === 'dispute' || t.kind === 'submission') return t.parties.includes(c.org);
  // Connection limits: the recording DNO and the FSP controlling an asset at the MPAN (seesAll answered above).
  if (t.kind === 'limit') return t.parties.includes(c.org);
  // Data shares: both parties read one; only the owner changes it; only the platform it names pulls through it.
  if (t.kind === 'share')
    return action === 'data-shares.write'
      ? t.owner === c.org
      : action === 'data-shares.pull'
        ? t.recipient === c.org
        : [t.owner, t.recipient].includes(c.org);
  if (t.kind === 'cimjob') return t.org === c.org;
  if (t.kind === 'bulkreport') return t.org === c.org;
  // Products and equivalences: the catalogue is everyone's to read (visibility 'all' answered above).
  if (t.kind === 'product' || t.kind === 'equivalence') return true;
  // A household's records are reached by the household's token only (walked in its own test below).
  if (t.kind === 'household') return false;
  // Data quality scorecards: an owner its organisation's, a network operator those of its licence areas.
  if (t.kind === 'scorecard')
    return t.scope === 'organisation'
      ? OWNER_ROLES.includes(c.role) && t.key === c.org
      : NETWORK_ROLES.includes(c.role) && c.dnoCodes.includes(t.key);
  if (t.kind === 'unit') {
    if (p.visibility === 'own') return t.fspId === c.org;
    return (OWNER_ROLES.includes(c.role) && t.fspId === c.org) || (NETWORK_ROLES.includes(c.role) && c.dnoCodes.includes(t.dno));
  }
  // Control follows the FSP link: FSPs and aggregators reach the assets they control now; an asset owner those it owns.
  const own =
    ((c.role === 'FSP' || c.role === 'AGGREGATOR') && t.asset.fspId === c.org) ||
    (c.role === 'ASSET_OWNER' && t.asset.organisationId === c.org);
  switch (p.visibility) {
    case 'own':
      return own;
    case 'own-or-network':
      return (OWNER_ROLES.includes(c.role) && own) || (NETWORK_ROLES.includes(c.role) && c.dnoCodes.includes(t.asset.dno));
    case 'own-organisation':
      return false;
  }
}

/**
 * How the walker fills a route: the record its path names, or (`list`) the record a list or export
 * is filtered to; the body and headers that reach the permission check and then write nothing.
 * A route the walker cannot fill fails the test: teach it here.
 */
interface Request_ {
  path: string;
  target?: Target;
  list?: boolean;
  body?: unknown;
  text?: string;
  contentType?: string;
  headers: Record<string, string>;
}
const LIST_QUERY: Record<string, (a: AssetFacts) => string> = {
  [`GET ${API}/assets`]: (a) => `?organisationId=${a.organisationId}`,
  [`GET ${API}/assets/export`]: (a) => `?organisationId=${a.organisationId}`,
  [`GET ${API}/cim/export`]: (a) => `?organisationId=${a.organisationId}`,
  [`GET ${API}/audit`]: (a) => `?recordType=asset&recordId=${a.id}`,
  [`GET ${API}/audit/export`]: (a) => `?recordType=asset&recordId=${a.id}`,
  // Every walker asset has open findings (no manufacturer, model or postcode).
  [`GET ${API}/data-quality/findings`]: (a) => `?organisationId=${a.organisationId}`,
};
const BODY: Record<string, Pick<Request_, 'body' | 'text' | 'contentType'>> = {
  [`PATCH ${API}/assets/{id}`]: { body: { name: 'Renamed by the walker' } },
  [`PATCH ${API}/organisations/{id}`]: { body: { tradingName: 'Renamed by the walker' } },
  [`POST ${API}/assets/bulk`]: { text: '', contentType: 'application/x-ndjson' },
  [`POST ${API}/cim/import`]: { text: '', contentType: 'application/rdf+xml' },
  [`POST ${API}/cim/import-jobs`]: { text: '', contentType: 'application/rdf+xml' },
  // Valid bodies that stop after the visibility check without writing: an email already taken, a
  // JWKS for a secret client (or an already revoked one), an already revoked delegation.
  [`POST ${API}/organisations/{id}/users`]: { body: { email: 'walker-taken@matrix.example', name: 'Walker' } },
  [`POST ${API}/clients/{clientId}/rotate`]: { body: { jwks: { keys: [] } } },
  [`POST ${API}/delegations/{id}/revoke`]: { body: { reason: 'walker' } },
  [`POST ${API}/contracts/{id}/status`]: { body: { status: 'CONFIRMED' } },
  // Valid bodies on a withdrawn dispute: refused as an illegal transition after the visibility check.
  [`POST ${API}/disputes/{id}/comments`]: { body: { body: 'walker' } },
  [`POST ${API}/consumer/disputes/{id}/comments`]: { body: { body: 'walker' } },
  // A valid rejection of an already rejected submission: refused as SUBMISSION-STATE after the visibility check.
  [`POST ${API}/asset-submissions/{id}/reject`]: { body: { reason: 'walker' } },
  [`POST ${API}/disputes/{id}/resolve`]: { body: { outcome: 'NO_ACTION_REQUIRED', note: 'walker' } },
  // An asset nobody holds: refused as OPENADR-RESOURCE-ASSET after the visibility check, nothing bound.
  [`POST ${API}/ven-registrations/{id}/resources`]: { body: { asset: 'walker-no-such-asset' } },
  // An empty 2.0b document: refused as malformed after the permission check.
  [`POST ${API}/ven-registrations/oadr2b`]: { text: '', contentType: 'application/xml' },
  // An unknown check: refused after the permission check, before any registry is asked.
  [`POST ${API}/assets/{id}/validate`]: { body: { checks: ['walker'] } },
};

/**
 * Path parameters the walker fills, by route prefix and name: the caller's own record or another
 * organisation's, and the target whose visibility decides the expected answer. A mapped route with
 * a parameter not listed here fails the walk: add a line (and a record in beforeAll).
 */
const FILL: {
  prefix: string;
  param: string;
  fill: (c: Caller, rel: Relation, subject?: AssetFacts) => { value: string; target: Target };
}[] = [
  {
    prefix: `${API}/assets/bulk/reports/`,
    param: 'id',
    fill: (c, rel) => {
      const org = rel === 'own' ? c.org : stranger;
      return { value: bulkReportOf.get(org)!, target: { kind: 'bulkreport', id: bulkReportOf.get(org)!, org } };
    },
  },
  {
    prefix: `${API}/consumer/assets/`,
    param: 'id',
    fill: (_c, rel) => {
      const asset = rel === 'own' ? ownAsset.get('FSP')! : strangerAsset;
      return { value: asset.id, target: { kind: 'asset', asset } };
    },
  },
  {
    prefix: `${API}/consumer/consents/`,
    param: 'id',
    fill: (_c, rel) => {
      const id = rel === 'own' ? household.ownConsent : household.otherConsent;
      return { value: id, target: { kind: 'household', id, what: 'consent' } };
    },
  },
  {
    prefix: `${API}/consumer/disputes/`,
    param: 'id',
    fill: (_c, rel) => {
      const id = rel === 'own' ? household.ownDispute : disputeOf.get(stranger)!;
      return { value: id, target: { kind: 'household', id, what: 'dispute' } };
    },
  },
  {
    prefix: `${API}/assets/`,
    param: 'id',
    fill: (c, rel, subject) => {
      const asset = subject ?? (rel === 'own' ? ownAsset.get(c.role)! : strangerAsset);
      return { value: asset.id, target: { kind: 'asset', asset } };
    },
  },
  {
    prefix: `${API}/clients/`,
    param: 'clientId',
    fill: (c, rel) => {
      const org = rel === 'own' ? c.org : stranger;
      const id = clientOf.get(org)!;
      return { value: id, target: { kind: 'client', id, org } };
    },
  },
  {
    prefix: `${API}/organisations/`,
    param: 'userId',
    fill: (c, rel) => {
      const org = rel === 'own' ? c.org : stranger;
      const id = userOf.get(org)!;
      return { value: id, target: { kind: 'user', id, org } };
    },
  },
  {
    prefix: `${API}/delegations/`,
    param: 'id',
    fill: (c, rel) => {
      const id = rel === 'own' ? delegationTo.get(c.org)! : strangerDelegation;
      return { value: id, target: { kind: 'delegation', id, parties: rel === 'own' ? [stranger, c.org] : [stranger, 'bystander'] } };
    },
  },
  {
    prefix: `${API}/vtns/`,
    param: 'id',
    fill: (c, rel) => {
      const operator = rel === 'own' ? c.org : stranger;
      const id = vtnOf.get(operator)!;
      return { value: id, target: { kind: 'vtn', id, operator } };
    },
  },
  {
    prefix: `${API}/ven-registrations/`,
    param: 'id',
    fill: (c, rel) => {
      const v = rel === 'own' ? venOf.get(c.org)! : strangerVen;
      return { value: v.id, target: { kind: 'ven', ...v } };
    },
  },
  {
    // An asset the VEN has no binding of: refused as OPENADR-RESOURCE-IMPLICIT after the visibility check.
    prefix: `${API}/ven-registrations/`,
    param: 'assetId',
    fill: (c, rel) => {
      const v = rel === 'own' ? venOf.get(c.org)! : strangerVen;
      return { value: 'walker-unbound-asset', target: { kind: 'ven', ...v } };
    },
  },
  {
    prefix: `${API}/switches/`,
    param: 'id',
    fill: (c, rel) => {
      const org = rel === 'own' ? c.org : stranger;
      const id = switchOf.get(org)!;
      return { value: id, target: { kind: 'switch', id, parties: org === stranger ? [stranger, DEMO_FSP] : [stranger, org] } };
    },
  },
  {
    prefix: `${API}/contracts/`,
    param: 'id',
    fill: (c, rel) => {
      const org = rel === 'own' ? c.org : stranger;
      const id = contractOf.get(org)!;
      return { value: id, target: { kind: 'contract', id, parties: [org] } };
    },
  },
  {
    prefix: `${API}/market-units/`,
    param: 'id',
    fill: (c, rel) => {
      const u = rel === 'own' ? unitOf.get(c.org)! : strangerUnit;
      return { value: u.id, target: { kind: 'unit', ...u } };
    },
  },
  { prefix: `${API}/products/`, param: 'id', fill: () => ({ value: 'NESO-DFS', target: { kind: 'product', id: 'NESO-DFS' } }) },
  {
    prefix: `${API}/product-equivalences/`,
    param: 'id',
    fill: () => ({ value: walkerEquivalence, target: { kind: 'equivalence', id: walkerEquivalence } }),
  },
  {
    prefix: `${API}/webhooks/`,
    param: 'id',
    fill: (c, rel) => {
      const org = rel === 'own' ? c.org : stranger;
      const id = webhookOf.get(org)!.id;
      return { value: id, target: { kind: 'webhook', id, org } };
    },
  },
  {
    prefix: `${API}/cim/import-jobs/`,
    param: 'id',
    fill: (c, rel) => {
      const org = rel === 'own' ? c.org : stranger;
      return { value: cimJobOf.get(org)!, target: { kind: 'cimjob', id: cimJobOf.get(org)!, org } };
    },
  },
  {
    prefix: `${API}/asset-submissions/`,
    param: 'id',
    fill: (c, rel) => {
      const org = rel === 'own' ? c.org : stranger;
      const id = submissionOf.get(org)!;
      return { value: id, target: { kind: 'submission', id, parties: [org] } };
    },
  },
  {
    prefix: `${API}/connection-limits/`,
    param: 'id',
    fill: (c, rel) => {
      const l = rel === 'own' ? limitOf.get(c.org)! : strangerLimit;
      return { value: l.id, target: { kind: 'limit', ...l } };
    },
  },
  {
    prefix: `${API}/data-shares/`,
    param: 'id',
    fill: (c, rel) => {
      const { asset: _a, ...t } = rel === 'own' ? shareOf.get(c.org)! : strangerShare;
      return { value: t.id, target: { kind: 'share', ...t } };
    },
  },
  {
    prefix: `${API}/data-shares/`,
    param: 'assetId',
    fill: (c, rel) => {
      const { asset, ...t } = rel === 'own' ? shareOf.get(c.org)! : strangerShare;
      return { value: asset, target: { kind: 'share', ...t } };
    },
  },
  {
    prefix: `${API}/disputes/`,
    param: 'id',
    fill: (c, rel) => {
      const org = rel === 'own' ? c.org : stranger;
      const id = disputeOf.get(org)!;
      return { value: id, target: { kind: 'dispute', id, parties: [org] } };
    },
  },
  {
    prefix: `${API}/webhooks/`,
    param: 'eventId',
    fill: (c, rel) => {
      const org = rel === 'own' ? c.org : stranger;
      const w = webhookOf.get(org)!;
      return { value: w.eventId, target: { kind: 'webhook', id: w.id, org } };
    },
  },
  {
    prefix: `${API}/organisations/`,
    param: 'id',
    fill: (c, rel) => {
      const id = rel === 'own' ? c.org : stranger;
      return { value: id, target: { kind: 'organisation', id } };
    },
  },
  {
    prefix: `${API}/data-quality/rules/`,
    param: 'code',
    fill: (c) => ({ value: 'DQ-SERIAL-REQUIRED', target: { kind: 'organisation', id: c.org } }),
  },
  // Catalogues are everyone's to read (visibility all); the walker's empty PATCH changes nothing (CATALOGUE-CHANGE-EMPTY).
  { prefix: `${API}/catalogues/`, param: 'name', fill: (c) => ({ value: 'energy-sources', target: { kind: 'organisation', id: c.org } }) },
  { prefix: `${API}/catalogues/`, param: 'code', fill: (c) => ({ value: 'SOLAR', target: { kind: 'organisation', id: c.org } }) },
  {
    prefix: `${API}/data-quality/scorecards/organisations/`,
    param: 'id',
    fill: (c, rel) => {
      const key = rel === 'own' ? c.org : stranger;
      return { value: key, target: { kind: 'scorecard', scope: 'organisation', key } };
    },
  },
  {
    prefix: `${API}/data-quality/scorecards/dnos/`,
    param: 'code',
    fill: (c, rel) => {
      const key = rel === 'own' ? (c.dnoCodes[0] ?? 'SPEN_SPM') : 'UKPN_EPN';
      return { value: key, target: { kind: 'scorecard', scope: 'dno', key } };
    },
  },
];

/** `subject`: the asset an asset route names, instead of the caller's own or the stranger's. */
function build(key: string, c: Caller, rel: Relation, subject?: AssetFacts): Request_ {
  const [method, pattern] = key.split(' ');
  let target: Target | undefined;
  const path = pattern.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const f = FILL.find((x) => x.param === name && pattern.startsWith(x.prefix));
    if (f) {
      const v = f.fill(c, rel, subject);
      target = v.target;
      return v.value;
    }
    // An unmapped route is refused before anything reads its parameters.
    if (!entryOf(key)) return 'unmapped';
    throw new Error(`the walker cannot fill {${name}}: add it to FILL in test/permission-matrix.test.ts`);
  });
  const list = LIST_QUERY[key];
  const headers: Record<string, string> = { authorization: `Bearer ${c.token}` };
  if (method === 'PATCH' || method === 'DELETE') headers['if-match'] = '"999"';
  const withBody = ['POST', 'PUT', 'PATCH'].includes(method) && !key.endsWith('/audit/verify');
  const body = BODY[key] ?? (withBody ? { body: {} } : {});
  if (list) {
    const asset = subject ?? (rel === 'own' ? ownAsset.get(c.role)! : strangerAsset);
    return { path: path + list(asset), target: { kind: 'asset', asset }, list: true, headers, ...body };
  }
  return { path, target, headers, ...body };
}

async function send(method: string, r: Request_) {
  const headers = { ...r.headers };
  let body: string | undefined;
  if (r.text !== undefined) {
    body = r.text;
    headers['content-type'] = r.contentType ?? 'application/json';
  } else if (r.body !== undefined) {
    body = JSON.stringify(r.body);
    headers['content-type'] = 'application/json';
  }
  const res = await hub.app.request(r.path, { method, headers, body });
  const text = await res.text();
  let code: string | undefined;
  if ((res.headers.get('content-type') ?? '').includes('problem+json')) code = JSON.parse(text).code;
  return { status: res.status, code, text };
}

/** What the matrix says should happen, and a check of what did. */
function verdict(
  key: string,
  c: Caller,
  rel: Relation,
  r: Request_,
  got: { status: number; code?: string; text: string },
): string | undefined {
  const entry = entryOf(key);
  const is = (status: number, code?: string) => got.status === status && (code === undefined || got.code === code);
  if (!entry) return is(403, 'AUTH-ROUTE-UNMAPPED') ? undefined : 'an unmapped route must be refused with 403 AUTH-ROUTE-UNMAPPED';
  const action = typeof entry === 'string' ? entry : rel === 'own' ? entry.own : entry.other;
  if (action === 'refused')
    return is(403, 'AUTH-ROLE-FORBIDDEN') ? undefined : 'refused on the own organisation by the route: expected 403 AUTH-ROLE-FORBIDDEN';
  const p: Permission = PERMISSIONS[action];
  if (!baselineScopes([c.role]).includes(p.scope))
    return is(403, 'AUTH-SCOPE-MISSING') ? undefined : `${action} needs ${p.scope}: expected 403 AUTH-SCOPE-MISSING`;
  if (p.roles !== 'any' && !p.roles.includes(c.role))
    return is(403, 'AUTH-ROLE-FORBIDDEN') ? undefined : `${action} is not for ${c.role}: expected 403 AUTH-ROLE-FORBIDDEN`;
  if (got.status >= 500 || [401, 403].includes(got.status)) return `${action} is allowed: expected no 401/403/5xx`;
  const visible = r.target ? reaches(action, c, r.target) : true;
  if (r.list && r.target?.kind === 'asset') {
    if (got.status !== 200) return `${action} is allowed: expected 200`;
    const shown = got.text.includes(r.target.asset.id) || got.text.includes(r.target.asset.name);
    if (shown !== visible)
      return visible
        ? `the ${rel} asset is visible (${p.visibility}) but missing from the answer`
        : `the ${rel} asset is not visible (${p.visibility}) but is in the answer`;
    return undefined;
  }
  if (!visible) {
    const notFound = {
      asset: 'ASSET-NOT-FOUND',
      webhook: 'WEBHOOK-NOT-FOUND',
      organisation: 'ORG-NOT-FOUND',
      client: 'CLIENT-NOT-FOUND',
      user: 'ORG-NOT-FOUND',
      delegation: 'DELEGATION-NOT-FOUND',
      vtn: 'OPENADR-VTN-NOT-FOUND',
      ven: 'OPENADR-VEN-NOT-FOUND',
      switch: 'SWITCH-NOT-FOUND',
      contract: 'CONTRACT-NOT-FOUND',
      unit: 'UNIT-NOT-FOUND',
      scorecard: 'DQ-SCORECARD-NOT-FOUND',
      dispute: 'DISPUTE-NOT-FOUND',
      cimjob: 'CIM-JOB-NOT-FOUND',
      bulkreport: 'BULK-REPORT-NOT-FOUND',
      product: 'PRODUCT-NOT-FOUND',
      equivalence: 'EQUIVALENCE-NOT-FOUND',
      submission: 'SUBMISSION-NOT-FOUND',
      limit: 'CONNECTION-LIMIT-NOT-FOUND',
      share: 'DATA-SHARE-NOT-FOUND',
      household: 'CONSUMER-CONSENT-NOT-FOUND',
    }[r.target?.kind ?? 'organisation'];
    const hint = got.status === 422 ? ' (validation answered first: give the route a valid body in BODY)' : '';
    return is(404, notFound) ? undefined : `the ${rel} record is not visible (${p.visibility}): expected 404 ${notFound}${hint}`;
  }
  return got.status === 404 ? `the ${rel} record is visible (${p.visibility}): expected no 404` : undefined;
}

/** Run tasks a few at a time: one in-process app, one database. */
async function pool<T>(items: T[], n: number, f: (x: T) => Promise<void>) {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await f(items[i++]);
    }),
  );
}

describe('the permission matrix', () => {
  it('names every route under /api/v1, and only routes the app serves', () => {
    const routes = appRoutes();
    expect(routes.length).toBeGreaterThan(15);
    expect(declared().missing, 'routes declared without an action').toEqual([]);
    expect(
      routes.filter((k) => !entryOf(k)),
      'routes the app serves that declare no action (declare them with apiRoute)',
    ).toEqual([]);
    expect(
      [...declared().actions.keys()].filter((k) => !routes.includes(k)),
      'declared actions of routes the app does not serve',
    ).toEqual([]);
  });

  it('every role has an organisation to walk with', () => {
    expect([...callers.keys()].sort()).toEqual([...ORGANISATION_ROLES].sort());
  });

  it('the household (consumer principal): its own records on the consumer routes, other households’ refused, every other route refused', async () => {
    const failures: string[] = [];
    const notFound = { asset: 'ASSET-NOT-FOUND', consent: 'CONSUMER-CONSENT-NOT-FOUND', dispute: 'DISPUTE-NOT-FOUND' };
    const caller: Caller = { role: 'FSP', org: household.subject, dnoCodes: [], token: household.token };
    let walked = 0;
    for (const key of appRoutes()) {
      const entry = entryOf(key);
      const targeted = key.includes('{') || key.endsWith('/consumer/assets') || key.endsWith('/consumer/consents');
      for (const rel of targeted ? (['own', 'other'] as const) : (['own'] as const)) {
        let r: Request_;
        try {
          r = build(key, caller, rel);
        } catch {
          r = { path: key.split(' ')[1].replace(/\{\w+\}/g, 'x'), headers: { authorization: `Bearer ${household.token}` } };
        }
        r.headers = { ...r.headers, authorization: `Bearer ${household.token}` };
        // A route refused on the caller's own organisation: the walker fills {id} with the household's pseudonym as "own".
        const action = entry ? routeAction(entry, r.path.includes(`/organisations/${household.subject}`)) : undefined;
        const consumerRoute = action !== undefined && action !== 'refused' && (PERMISSIONS[action] as Permission).consumer === true;
        // The list routes filtered to a meter point: its own, or another household's.
        if (consumerRoute && (key.endsWith('/consumer/assets') || key.endsWith('/consumer/consents')))
          r.path = `${key.split(' ')[1]}?mpan=${rel === 'own' ? household.mpan : mpanFor(7099, '10')}`;
        const got = await send(key.split(' ')[0], r);
        walked++;
        const is = (status: number, code: string) => got.status === status && got.code === code;
        let wrong: string | undefined;
        if (action === 'refused')
          wrong = is(403, 'AUTH-ROLE-FORBIDDEN') ? undefined : 'refused on the own organisation: expected 403 AUTH-ROLE-FORBIDDEN';
        else if (!consumerRoute)
          wrong = is(403, 'AUTH-SCOPE-MISSING') ? undefined : 'not a consumer action: expected 403 AUTH-SCOPE-MISSING';
        else if (rel === 'other') {
          const t = r.target;
          const code = !t
            ? 'CONSUMER-MPAN-NOT-BOUND'
            : t.kind === 'asset'
              ? notFound.asset
              : t.kind === 'household'
                ? notFound[t.what]
                : '?';
          wrong = is(code === 'CONSUMER-MPAN-NOT-BOUND' ? 403 : 404, code) ? undefined : `another household’s record: expected ${code}`;
        } else if (got.status >= 500 || [401, 403, 404].includes(got.status)) wrong = 'its own record: expected no 401/403/404/5xx';
        else if (key === `GET ${API}/consumer/assets` && !got.text.includes(ownAsset.get('FSP')!.id)) wrong = 'its own asset is missing';
        if (wrong) failures.push(`${key} ${rel} (${r.path}) → ${got.status} ${got.code ?? ''}: ${wrong}`);
      }
    }
    expect(walked).toBeGreaterThan(150);
    expect(failures).toEqual([]);
  }, 120_000);

  it('every route × role × own/other record answers as the matrix says', async () => {
    const cases: { key: string; c: Caller; rel: Relation }[] = [];
    const failures: string[] = [];
    for (const key of appRoutes()) {
      try {
        build(key, callers.get('FSP')!, 'own');
      } catch (e) {
        failures.push(`${key}: ${(e as Error).message}`);
        continue;
      }
      // A route that names no record and takes no filter asks the same question for own and other.
      const targeted = key.includes('{') || LIST_QUERY[key] !== undefined;
      for (const c of callers.values())
        for (const rel of targeted ? (['own', 'other'] as const) : (['own'] as const)) cases.push({ key, c, rel });
    }
    await pool(cases, 6, async ({ key, c, rel }) => {
      const method = key.split(' ')[0];
      const r = build(key, c, rel);
      const got = await send(method, r);
      const wrong = verdict(key, c, rel, r, got);
      if (wrong) failures.push(`${key} as ${c.role} on ${rel} (${method} ${r.path}) → ${got.status} ${got.code ?? ''}: ${wrong}`);
    });
    expect(cases.length).toBeGreaterThan(300);
    expect(failures.sort()).toEqual([]);
  }, 120_000);

  it('a token with a permitted role but without the action’s scope gets AUTH-SCOPE-MISSING', async () => {
    const failures: string[] = [];
    await pool([...declared().actions], 4, async ([key, entry]) => {
      const action = typeof entry === 'string' ? entry : entry.other;
      const p: Permission = PERMISSIONS[action];
      // A household's action: its token without that scope (the household holds no role to walk with).
      const c = p.consumer ? callers.get('FSP')! : callers.get(ORGANISATION_ROLES.find((r) => p.roles === 'any' || p.roles.includes(r))!)!;
      const token = p.consumer
        ? await signAccessToken(
            hub.keys,
            {
              iss: hub.cfg.issuer,
              aud: hub.cfg.audience,
              sub: household.subject,
              ttlSec: 3600,
              jti: `walker-scopeless-${action}`,
              consumer: { mpans: [household.mpan] },
              scope: CONSUMER_SCOPES.filter((s) => s !== p.scope).join(' '),
            },
            hub.clock.now(),
          )
        : await hub.token({
            org: c.org,
            roles: [c.role],
            sub: 'matrix-scopeless',
            scope: baselineScopes([c.role])
              .filter((s) => s !== p.scope)
              .join(' '),
          });
      const scope = p.scope;
      // The scope is checked before anything reads the path, so any value fills a parameter the walker cannot.
      let r: Request_;
      try {
        r = build(key, { ...c, token }, 'other');
      } catch {
        r = {
          path: key.split(' ')[1].replace(/\{\w+\}/g, 'x'),
          headers: { authorization: `Bearer ${token}` },
          body: ['GET', 'DELETE'].includes(key.split(' ')[0]) ? undefined : {},
        };
      }
      const got = await send(key.split(' ')[0], r);
      const body = got.code ? JSON.parse(got.text) : {};
      if (got.status !== 403 || got.code !== 'AUTH-SCOPE-MISSING' || body.requiredScope !== scope)
        failures.push(`${key} without ${scope} → ${got.status} ${got.code ?? ''}`);
    });
    expect(failures).toEqual([]);
  });

  it('on its own organisation, only a role that may update any organisation changes the operator-held fields', async () => {
    const update: Permission = PERMISSIONS['organisations.update'];
    const failures: string[] = [];
    for (const c of callers.values()) {
      const headers = { authorization: `Bearer ${c.token}`, 'if-match': '"999"' };
      const got = await send('PATCH', { path: `${API}/organisations/${c.org}`, body: { roles: ['MARKET_FACILITATOR'] }, headers });
      const may = update.roles === 'any' || update.roles.includes(c.role);
      // 412: past every permission check, stopped by the stale If-Match, so nothing is written.
      if (may ? got.status !== 412 : got.status !== 403 || got.code !== 'AUTH-ROLE-FORBIDDEN')
        failures.push(`${c.role} → ${got.status} ${got.code ?? ''}`);
    }
    expect(failures).toEqual([]);
  });

  it('shows another organisation’s passport only to the roles that see everything', async () => {
    for (const c of callers.values()) {
      const got = await send('GET', { path: `${API}/organisations/${stranger}`, headers: { authorization: `Bearer ${c.token}` } });
      expect(got.status, c.role).toBe(200);
      expect(JSON.parse(got.text).passport !== null, c.role).toBe(SEES_ALL.includes(c.role));
    }
  });
});

describe('control follows the FSP link', () => {
  /**
   * One asset, walked on every asset route before and after a switch moves its FSP link from the
   * losing FSP to the gaining FSP: for the losing FSP, a delegate acting for it, the gaining FSP,
   * the DNO of its network and the operator. The expected outcome comes from the matrix and the
   * asset's facts (who controls it now), as in the walk above.
   */
  it('the losing FSP and its delegate lose every asset route at the switch; the gaining FSP gains them; the DNO and the operator keep theirs', async () => {
    const sys = hub.system;
    const passport = { contacts: { primary: { firstName: 'Pat', lastName: 'Matrix', email: 'pat@matrix.example' } } };
    const org = async (name: string, no: string) =>
      (
        await registerOrganisation(hub.ctx, sys, {
          legalName: name,
          organisationType: 'LTD',
          registrationNumber: no,
          roles: ['FSP'],
          status: 'ACTIVE',
          passport,
        })
      ).id;
    const losing = await org('Matrix Losing FSP Ltd', '09800201');
    const gaining = await org('Matrix Gaining FSP Ltd', '09800202');
    const delegateOrg = await org('Matrix Delegate Ltd', '09800203');
    const out = await registerAssets(
      hub.ctx,
      sys,
      [
        batteryInput(7200, {
          name: 'Matrix switched asset',
          organisationId: losing,
          fspId: losing,
          importMpan: mpanFor(7200),
          serialNumber: 'MX-SW',
        }),
      ],
      { source: 'test' },
    );
    const asset: AssetFacts = {
      id: out.assets[0].id,
      name: 'Matrix switched asset',
      organisationId: losing,
      fspId: losing,
      dno: 'SPEN_SPM',
    };
    const scopes = ['assets:read', 'assets:write', 'data-quality:read', 'openadr:read'];
    const d = await grantDelegation(hub.ctx, sys, {
      delegatorId: losing,
      delegateId: delegateOrg,
      scopes,
      validTo: new Date(hub.clock.now().getTime() + 7 * 86_400_000).toISOString(),
    });
    await hub.token({ org: delegateOrg, roles: ['FSP'] }); // the delegate's own API client, named by its delegated token
    const delegateToken = () =>
      hub.signer.sign({
        sub: 'matrix-delegate',
        org: losing,
        roles: ['FSP'],
        scope: scopes.join(' '),
        clientId: `dev-${delegateOrg}`,
        act: { sub: 'matrix-delegate', org: delegateOrg },
        extra: { delegation_id: d.id },
      });
    const parties = async (): Promise<{ who: string; c: Caller }[]> => [
      {
        who: 'losing FSP',
        c: { role: 'FSP', org: losing, dnoCodes: [], token: await hub.token({ org: losing, roles: ['FSP'], sub: 'matrix-losing' }) },
      },
      { who: 'delegate of the losing FSP', c: { role: 'FSP', org: losing, dnoCodes: [], token: await delegateToken() } },
      {
        who: 'gaining FSP',
        c: { role: 'FSP', org: gaining, dnoCodes: [], token: await hub.token({ org: gaining, roles: ['FSP'], sub: 'matrix-gaining' }) },
      },
      { who: 'DNO', c: callers.get('DNO')! },
      { who: 'operator', c: callers.get('MARKET_FACILITATOR')! },
    ];
    // Every route that names an asset, or lists and exports assets.
    const assetRoutes = appRoutes().filter(
      (k) => k.split(' ')[1].startsWith(`${API}/assets`) && (k.includes('{id}') || LIST_QUERY[k] !== undefined),
    );
    expect(assetRoutes.length).toBeGreaterThan(8);
    const walk = async (phase: string) => {
      const failures: string[] = [];
      const seen: Record<string, boolean> = {};
      for (const { who, c } of await parties()) {
        for (const key of assetRoutes) {
          const entry = entryOf(key)!;
          const action = typeof entry === 'string' ? entry : entry.other;
          // The delegate's token carries the delegated scopes only: it walks the routes they open.
          if (who.startsWith('delegate') && !scopes.includes(PERMISSIONS[action].scope)) continue;
          const r = build(key, c, 'other', asset);
          const got = await send(key.split(' ')[0], r);
          const wrong = verdict(key, c, 'other', r, got);
          if (wrong) failures.push(`${phase}: ${key} as ${who} → ${got.status} ${got.code ?? ''}: ${wrong}`);
          if (key === `GET ${API}/assets/{id}`) seen[who] = got.status === 200;
        }
      }
      expect(failures).toEqual([]);
      return seen;
    };
    expect(await walk('before')).toEqual({
      'losing FSP': true,
      'delegate of the losing FSP': true,
      'gaining FSP': false,
      DNO: true,
      operator: true,
    });

    hub.clock.advance(3_600_000);
    const at = hub.clock.now().toISOString();
    const sid = hub.ports.ids.next();
    await hub.db.query(
      `INSERT INTO asset_switch (id, asset_id, losing_fsp_id, gaining_fsp_id, status, effective_date, effective_at, consent, consent_jti, consent_issuer, requested_at, requested_by)
      VALUES ($1, $2, $3, $4, 'PENDING', $5::date, $6::timestamptz, '{}'::jsonb, $1, 'walker', $6::timestamptz, 'walker')`,
      [sid, asset.id, losing, gaining, at.slice(0, 10), at],
    );
    expect((await applyDueSwitches(hub.ctx)).filter((x) => x.id === sid)).toEqual([{ id: sid, status: 'EFFECTIVE' }]);
    asset.fspId = gaining;
    expect(await walk('after')).toEqual({
      'losing FSP': false,
      'delegate of the losing FSP': false,
      'gaining FSP': true,
      DNO: true,
      operator: true,
    });
  }, 60_000);
});

/**
 * A delegate limited to named assets, walked: the stranger (an FSP) delegates every delegable scope
 * to another organisation on ONE asset (the walker's "other" asset, N). The stranger also controls
 * a second asset O (and the non-FSP callers' assets), with a switch, a contract, a market unit, a
 * dispute and findings on it. On every route the delegate is either refused, or answers with
 * nothing about any asset but N: no ID of O's records, nor of the stranger's other assets, appears in
 * any answer, and a record about O named in the path is a 404 as if missing.
 */
describe('a delegate limited to named assets', () => {
  let delegate: Caller;
  let delegatedScopes: string[];
  /** Records about the named asset (N) and about the stranger's other asset (O), by path parameter. */
  const named: Record<string, string> = {};
  const unnamed: Record<string, string> = {};
  /** IDs that must never appear in an answer to the delegate. */
  const forbidden: string[] = [];

  beforeAll(async () => {
    const sys = hub.system;
    const out = await registerAssets(
      hub.ctx,
      sys,
      [
        batteryInput(7098, {
          name: 'Matrix asset 98',
          organisationId: stranger,
          fspId: stranger,
          dno: 'UKPN_EPN',
          importMpan: mpanFor(7098, '10'),
          serialNumber: 'MX-98',
          generationCapacityKw: 2,
        }),
      ],
      { source: 'test' },
    );
    expect(out.ok).toBe(true);
    const o = out.assets[0].id;
    const { unit } = await createMarketUnit(hub.ctx, sys, {
      name: 'Unit of Matrix asset 98',
      type: 'SPU',
      product: 'NESO-DFS',
      assetIds: [o],
    });
    const at = hub.clock.now().toISOString();
    const sid = hub.ports.ids.next();
    await hub.db.query(
      `INSERT INTO asset_switch (id, asset_id, losing_fsp_id, gaining_fsp_id, status, effective_date, effective_at, consent, consent_jti, consent_issuer, requested_at, requested_by, closed_at, closed_by)
      VALUES ($1, $2, $3, $4, 'WITHDRAWN', '2026-07-01', $5::timestamptz, '{}'::jsonb, $1, 'walker', $5::timestamptz, 'walker', $5::timestamptz, 'walker')`,
      [sid, o, stranger, DEMO_FSP, at],
    );
    const kid = hub.ports.ids.next();
    await hub.db.query(
      `INSERT INTO contract (id, system_operator_id, fsp_id, asset_id, product, period, status, recorded_at, recorded_by)
      VALUES ($1, $2, $3, $4, 'DFS', tstzrange('2026-07-01', '2026-08-01'), 'TERMINATED', $5::timestamptz, 'walker')`,
      [kid, callers.get('SYSTEM_OPERATOR')!.org, stranger, o, at],
    );
    const raiser = { subject: 'walker', organisationId: stranger, roles: ['FSP' as const], scopes: baselineScopes(['FSP']), dnoCodes: [] };
    const dispute = async (id: string) => {
      const d = await raiseDispute(hub.ctx, raiser, {
        recordType: 'asset',
        recordId: id,
        fields: ['name'],
        claim: { summary: 'Walker dispute on an asset' },
        evidence: [{ description: 'Walker evidence', url: 'https://evidence.example.com/walker.pdf' }],
      });
      await withdrawDispute(hub.ctx, raiser, d.id);
      return d.id;
    };
    Object.assign(named, {
      asset: strangerAsset.id,
      switch: switchOf.get(stranger)!,
      contract: contractOf.get(stranger)!,
      unit: strangerUnit.id,
      dispute: await dispute(strangerAsset.id),
    });
    Object.assign(unnamed, { asset: o, switch: sid, contract: kid, unit: unit.id, dispute: await dispute(o) });
    const others = await hub.db.query(`SELECT id FROM asset WHERE fsp_id = $1 AND id <> $2`, [stranger, strangerAsset.id]);
    const otherUnits = await hub.db.query(`SELECT id FROM market_unit WHERE fsp_id = $1 AND id <> $2`, [stranger, strangerUnit.id]);
    forbidden.push(...others.map((r) => r.id as string), ...otherUnits.map((r) => r.id as string), sid, kid, unnamed.dispute);
    expect(forbidden).toContain(o);
    const org = await registerOrganisation(hub.ctx, sys, {
      legalName: 'Matrix Delegate Ltd',
      organisationType: 'LTD',
      registrationNumber: '09800097',
      roles: ['AGGREGATOR'],
      status: 'ACTIVE',
      passport: { contacts: { primary: { firstName: 'Del', lastName: 'Egate', email: 'del@matrix.example' } } },
    });
    delegatedScopes = baselineScopes(['FSP']).filter((s) => !NEVER_DELEGATED.has(s));
    const d = await grantDelegation(hub.ctx, sys, {
      delegatorId: stranger,
      delegateId: org.id,
      scopes: delegatedScopes,
      assetIds: [strangerAsset.id],
      validTo: new Date(hub.clock.now().getTime() + 86_400_000).toISOString(),
    });
    await hub.signer.sign({ sub: 'x', org: org.id, roles: ['AGGREGATOR'] }); // makes the delegate's development client exist
    const clientId = `dev-${org.id}`;
    const token = await hub.signer.sign({
      sub: stranger,
      org: stranger,
      roles: ['FSP'],
      scope: delegatedScopes.join(' '),
      act: { sub: clientId, org: org.id },
      clientId,
      extra: { delegation_id: d.id },
    });
    delegate = { role: 'FSP', org: stranger, dnoCodes: [], token };
  }, 60_000);

  /** Path parameters by prefix: the record about N or about O; other parameters name the stranger's own records. */
  const RECORDS: [string, string, string][] = [
    [`${API}/assets/`, 'id', 'asset'],
    [`${API}/switches/`, 'id', 'switch'],
    [`${API}/contracts/`, 'id', 'contract'],
    [`${API}/market-units/`, 'id', 'unit'],
    [`${API}/disputes/`, 'id', 'dispute'],
  ];
  const NOT_FOUND: Record<string, string> = {
    asset: 'ASSET-NOT-FOUND',
    switch: 'SWITCH-NOT-FOUND',
    contract: 'CONTRACT-NOT-FOUND',
    unit: 'UNIT-NOT-FOUND',
    dispute: 'DISPUTE-NOT-FOUND',
  };
  /** Lists read in full (events: past the default page, so that events about O would be in it). */
  const QUERY: Record<string, (asset: string) => string> = {
    [`GET ${API}/events`]: () => '?limit=1000',
    [`GET ${API}/switches`]: () => '',
    [`GET ${API}/contracts`]: () => '',
    [`GET ${API}/market-units`]: () => '?limit=200',
    [`GET ${API}/disputes`]: () => '',
    [`GET ${API}/qualifications`]: () => '',
    [`GET ${API}/assets`]: (a) => `?organisationId=${stranger}&limit=200&x=${a}`.replace(/&x=.*/, ''),
    [`GET ${API}/assets/export`]: () => `?organisationId=${stranger}`,
    [`GET ${API}/data-quality/findings`]: () => `?organisationId=${stranger}&limit=200`,
  };
  /** Routes an allowed action still refuses to a limited delegate, in the service: what they answer is about more than N (or a new asset). */
  const SERVICE_REFUSED: Record<string, [number, string]> = {
    [`GET ${API}/data-quality/scorecards/organisations/{id}`]: [403, 'AUTH-DELEGATION-ASSETS-ONLY'],
    [`GET ${API}/data-quality/scorecards/organisations/{id}/history`]: [403, 'AUTH-DELEGATION-ASSETS-ONLY'],
  };
  /** What the FSP itself would answer on the named asset's record: the stranger is the losing FSP of its switch, and only the gaining FSP withdraws. */
  const AS_THE_FSP: Record<string, [number, string]> = { [`POST ${API}/switches/{id}/withdraw`]: [403, 'SWITCH-NOT-PARTY'] };

  function request(key: string, which: 'named' | 'unnamed'): Request_ & { kind?: string } {
    const [method, pattern] = key.split(' ');
    let kind: string | undefined;
    const path = pattern.replace(/\{(\w+)\}/g, (_m, name: string) => {
      const rec = RECORDS.find(([prefix, param]) => param === name && pattern.startsWith(prefix));
      if (rec) {
        kind = rec[2];
        return (which === 'named' ? named : unnamed)[rec[2]];
      }
      const f = FILL.find((x) => x.param === name && pattern.startsWith(x.prefix));
      if (!f) throw new Error(`the walker cannot fill {${name}}`);
      return f.fill({ ...delegate, role: 'FSP' }, 'other').value;
    });
    const headers: Record<string, string> = { authorization: `Bearer ${delegate.token}` };
    if (method === 'PATCH' || method === 'DELETE') headers['if-match'] = '"999"';
    const withBody = ['POST', 'PUT', 'PATCH'].includes(method) && !key.endsWith('/audit/verify');
    const body = BODY[key] ?? (withBody ? { body: {} } : {});
    const q = QUERY[key]?.(which === 'named' ? strangerAsset.id : unnamed.asset) ?? '';
    return { path: path + q, headers, ...body, kind };
  }

  function verdictOf(
    key: string,
    which: 'named' | 'unnamed',
    r: { kind?: string; path: string },
    got: { status: number; code?: string; text: string },
  ): string | undefined {
    // Organisation routes are filled with the stranger's ID: the delegate's own (token) organisation.
    const action = routeAction(entryOf(key)!, true);
    const is = (status: number, code: string) => got.status === status && got.code === code;
    if (action === 'refused') return is(403, 'AUTH-ROLE-FORBIDDEN') ? undefined : 'expected 403 AUTH-ROLE-FORBIDDEN';
    const p: Permission = PERMISSIONS[action];
    if (!delegatedScopes.includes(p.scope))
      return is(403, 'AUTH-SCOPE-MISSING') ? undefined : `${p.scope} is never delegated: expected 403 AUTH-SCOPE-MISSING`;
    if (p.roles !== 'any' && !p.roles.includes('FSP'))
      return is(403, 'AUTH-ROLE-FORBIDDEN') ? undefined : 'expected 403 AUTH-ROLE-FORBIDDEN';
    if (!p.assetLimit)
      return is(403, 'AUTH-DELEGATION-ASSETS-ONLY')
        ? undefined
        : `${action} says nothing of the asset limit: expected 403 AUTH-DELEGATION-ASSETS-ONLY`;
    // A refusal may echo the ID the request sent; anything else it names is a leak.
    const leaked = forbidden.filter((id) => got.text.includes(id) && !r.path.includes(id));
    if (leaked.length) return `the answer names records about assets outside the delegation: ${leaked.join(', ')}`;
    const refused = SERVICE_REFUSED[key];
    if (refused) return is(...refused) ? undefined : `expected ${refused.join(' ')}`;
    if (which === 'named' && AS_THE_FSP[key])
      return is(...AS_THE_FSP[key]) ? undefined : `expected ${AS_THE_FSP[key].join(' ')}, as the FSP itself`;
    if (got.status >= 500 || [401, 403].includes(got.status)) return `${action} applies the asset limit: expected no 401/403/5xx`;
    if (r.kind && which === 'unnamed')
      return is(404, NOT_FOUND[r.kind])
        ? undefined
        : `a ${r.kind} about an asset outside the delegation: expected 404 ${NOT_FOUND[r.kind]}`;
    if (r.kind && which === 'named' && got.status === 404) return `a ${r.kind} about the named asset: expected no 404`;
    return undefined;
  }

  it('every route refuses the delegate or answers only about its named asset', async () => {
    const failures: string[] = [];
    const cases: { key: string; which: 'named' | 'unnamed' }[] = [];
    for (const key of appRoutes()) {
      if (!entryOf(key)) continue;
      const targeted =
        RECORDS.some(([prefix, param]) => key.includes(`{${param}}`) && key.split(' ')[1].startsWith(prefix)) || QUERY[key] !== undefined;
      for (const which of targeted ? (['named', 'unnamed'] as const) : (['named'] as const)) cases.push({ key, which });
    }
    await pool(cases, 4, async ({ key, which }) => {
      const method = key.split(' ')[0];
      const r = request(key, which);
      const got = await send(method, r);
      const wrong = verdictOf(key, which, r, got);
      if (wrong) failures.push(`${key} on ${which} (${method} ${r.path}) → ${got.status} ${got.code ?? ''}: ${wrong}`);
    });
    expect(cases.length).toBeGreaterThan(140);
    expect(failures.sort()).toEqual([]);
  }, 120_000);

  it('the reported leak: switches (with consent evidence), contracts and events of the FSP’s other asset are not listed', async () => {
    const get = async (path: string) => (await send('GET', { path, headers: { authorization: `Bearer ${delegate.token}` } })).text;
    expect(await get(`${API}/switches`)).not.toContain(unnamed.switch);
    expect(await get(`${API}/contracts`)).not.toContain(unnamed.contract);
    expect(await get(`${API}/events?limit=1000`)).not.toContain(unnamed.asset);
  });

  it('raises disputes only on its named asset: not on the organisation, nor on a market unit, and writes nothing', async () => {
    const headers = { authorization: `Bearer ${delegate.token}` };
    const raise =
      (recordType: string, recordId: string, field = 'name') =>
      async () => {
        const r = await send('POST', {
          path: `${API}/disputes`,
          headers,
          body: {
            recordType,
            recordId,
            fields: [field],
            claim: { summary: 'Delegate dispute' },
            evidence: [{ description: 'Delegate evidence', url: 'https://evidence.example.com/delegate.pdf' }],
          },
        });
        return { status: r.status, json: JSON.parse(r.text), text: r.text };
      };
    const tables = ['dispute', 'audit_log', 'event_outbox'];
    await expectRefused(hub.db, tables, raise('organisation', stranger, 'tradingName'), 403, 'AUTH-DELEGATION-ASSETS-ONLY');
    await expectRefused(hub.db, tables, raise('market_unit', named.unit), 403, 'AUTH-DELEGATION-ASSETS-ONLY');
    await expectRefused(hub.db, tables, raise('asset', unnamed.asset), 404, 'ASSET-NOT-FOUND');
  });

  it('reads the switch, contract, events and findings of its named asset (the limit cuts, it does not blank)', async () => {
    const get = async (path: string) => (await send('GET', { path, headers: { authorization: `Bearer ${delegate.token}` } })).text;
    expect(await get(`${API}/switches`)).toContain(named.switch);
    expect(await get(`${API}/contracts`)).toContain(named.contract);
    expect(await get(`${API}/events?limit=1000`)).toContain(strangerAsset.id);
    expect(await get(`${API}/data-quality/findings?organisationId=${stranger}&limit=200`)).toContain(strangerAsset.id);
    expect(await get(`${API}/market-units?limit=200`)).toContain(named.unit);
  });
});

describe('authorize', () => {
  const text = { 200: { description: 'Text', content: { 'text/plain': { schema: z.string() } } } };
  const IdParam = z.object({ id: z.string() });
  /** Routes declared as the hub declares them: two with their action, one without, and one outside the OpenAPI declarations. */
  function declaredRoutes() {
    const routes = new OpenAPIHono<AuthEnv>();
    routes.openapi(
      apiRoute({ method: 'get', path: '/assets/{id}', action: 'assets.read', request: { params: IdParam }, responses: text }),
      (c) => c.text(`asset ${c.req.valid('param').id}`, 200),
    );
    routes.openapi(createRoute({ method: 'get', path: '/assets/{id}/no-action', request: { params: IdParam }, responses: text }), (c) =>
      c.text('reached', 200),
    );
    routes.get('/assets/:id/undeclared', (c) => c.text('reached'));
    routes.openapi(
      apiRoute({
        method: 'delete',
        path: '/organisations/{id}',
        action: { own: 'refused', other: 'organisations.deregister' },
        request: { params: IdParam },
        responses: text,
      }),
      (c) => c.text('deleted', 200),
    );
    return routes;
  }

  /** A bare app with authorize behind a fixed principal of organisation ORG-A, mounted like the hub's /api/v1. */
  function bare(role: OrganisationRole = 'FSP') {
    const routes = declaredRoutes();
    const app = new OpenAPIHono<AuthEnv>();
    app.onError((e) => (e instanceof Problem ? problemResponse(e) : new Response('error', { status: 500 })));
    const api = new OpenAPIHono<AuthEnv>();
    api.use('*', async (c, next) => {
      c.set('principal', { ...systemPrincipal(), organisationId: 'ORG-A', roles: [role], scopes: baselineScopes([role]) });
      await next();
    });
    api.use('*', authorize(routeActions(routes, { prefix: API }).actions));
    api.route('/', routes);
    app.route(API, api);
    return app;
  }

  it('finds the matched route through mounted sub-apps and applies its declared action', async () => {
    const res = await bare().request(`${API}/assets/01JD8X6N2Q7ZB4Y3W5V6T7S8R9`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('asset 01JD8X6N2Q7ZB4Y3W5V6T7S8R9');
    expect((await bare('INSTALLER').request(`${API}/assets/01JD8X6N2Q7ZB4Y3W5V6T7S8R9`)).status).toBe(403);
  });

  it('a route declared without an action is caught when the table is read (buildApp refuses to build with one)', () => {
    const { actions, missing } = routeActions(declaredRoutes(), { prefix: API });
    expect(missing).toEqual([`GET ${API}/assets/{id}/no-action`]);
    expect([...actions.keys()]).toEqual([`GET ${API}/assets/{id}`, `DELETE ${API}/organisations/{id}`]);
  });

  it('the hub declares an action for every route under /api/v1, and builds', () => {
    expect(declared().missing).toEqual([]);
    expect(() => buildApp(hub.ports)).not.toThrow();
  });

  it('fails closed: a route with no declared action is refused with AUTH-ROUTE-UNMAPPED', async () => {
    for (const path of ['no-action', 'undeclared']) {
      const res = await bare().request(`${API}/assets/01JD8X6N2Q7ZB4Y3W5V6T7S8R9/${path}`);
      expect(res.status, path).toBe(403);
      expect((await res.json()).code, path).toBe('AUTH-ROUTE-UNMAPPED');
    }
  });

  it('leaves a path that matches no route to the 404', async () => {
    expect((await bare().request(`${API}/nothing-here`)).status).toBe(404);
  });

  it('tells own from other organisation by the {id} in the path', async () => {
    const del = async (id: string) => {
      const res = await bare('MARKET_FACILITATOR').request(`${API}/organisations/${id}`, { method: 'DELETE' });
      return [res.status, res.status === 200 ? await res.text() : (await res.json()).code];
    };
    expect(await del('ORG-A')).toEqual([403, 'AUTH-ROLE-FORBIDDEN']);
    expect(await del('ORG-B')).toEqual([200, 'deleted']);
    expect(await del('ORG%2DA')).toEqual([403, 'AUTH-ROLE-FORBIDDEN']);
  });
});
