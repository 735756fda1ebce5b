import { z } from '@hono/zod-openapi';
import { withinAssetLimit } from '../access/asset-limit';
import { reach } from '../access/permissions';
import { recordedBy, systemPrincipal, type Principal } from '../access/principal';
import { archiveVersion, closeFspLink, parseIdentifier } from '../assets/service';
import { assessStoredIn } from '../quality/service';
import { applySwitchToUnits } from '../units/service';
import type { Asset } from '../assets/schema';
import { ASSET_COLS, toAsset } from '../assets/store';
import { writeAudit } from '../audit/audit';
import { ConsentError, type ConsentCheck, type ConsentEvidence, type ConsentVerifier } from '../consent/port';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { Problem } from '../http/problem';
import { ULID_RE } from '../ids';
import { RULES, type RuleCode } from '../rules';
import { pgErrorCode, type Sql } from '../storage/db';
import { DAY_RE, addDays, firstDayFrom, londonDay, londonMidnight } from './dates';

/**
 * Switching an asset between FSPs (UC-02.06) as an explicit state machine:
 *
 *   REQUESTED → PENDING (notice period) → EFFECTIVE
 *             ↘ REJECTED (by the hub)   ↘ CANCELLED (operator, consent revoked)   ↘ WITHDRAWN (gaining FSP)
 *
 * A request is checked completely before anything is written: the asset (by ID or any alias), the
 * gaining FSP, the notice period, confirmed service windows of other FSPs, and the consumer's
 * consent (ConsentVerifier port). The FSP link moves on the effective date by `applyDueSwitches`,
 * a job over the database that survives restarts. Every transition is audited with who and why,
 * and announced to the losing and gaining FSPs (and, through the recipients policy, the asset's
 * DNO and System Operators).
 */
export const SWITCH_STATUSES = ['REQUESTED', 'PENDING', 'EFFECTIVE', 'REJECTED', 'CANCELLED', 'WITHDRAWN'] as const;
type Status = (typeof SWITCH_STATUSES)[number];
export const OPEN: readonly Status[] = ['REQUESTED', 'PENDING'];

export const SwitchInput = z.object({
  asset: z.string().min(1).max(120).openapi({ description: 'The asset: its FMAR ID, or any alias as scheme:value (e.g. mpan:1312345678907).', example: 'mpan:1312345678907' }),
  consent: z.string().min(1).max(16_384).openapi({ description: 'The consumer’s consent: a consent token (JWT) from the Consumer Consent Service, or an opaque consent reference.' }),
  effectiveDate: z.string().regex(DAY_RE, 'REQUEST-FIELD-TYPE').optional().openapi({ description: 'Great Britain calendar day the switch takes effect (default: the first day the notice period allows).', example: '2026-07-01' }),
  reason: z.string().max(500).optional(),
}).strict().openapi('SwitchInput');

export const Switch = z.object({
  id: z.string(), assetId: z.string(), losingFspId: z.string(), gainingFspId: z.string(), status: z.enum(SWITCH_STATUSES),
  effectiveDate: z.string(), effectiveAt: z.string(),
  consent: z.record(z.string(), z.any()).openapi({ description: 'What was verified (issuer, kid, jti, claims summary, token hash); never the token itself.' }),
  reason: z.string().nullable(), requestedAt: z.string(), requestedBy: z.string(),
  closedAt: z.string().nullable(), closedBy: z.string().nullable(), closeReason: z.string().nullable(),
  transitions: z.array(z.object({ from: z.string().nullable(), to: z.string(), at: z.string(), by: z.string(), reason: z.string().nullable() })).optional(),
}).openapi('Switch');
export type Switch = z.infer<typeof Switch>;

export interface SwitchOptions { verifier?: ConsentVerifier; noticeDays: number }

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
const dayOf = (v: unknown) => (typeof v === 'string' ? v.slice(0, 10) : new Date(v as Date).toISOString().slice(0, 10));
function toSwitch(r: any, transitions?: any[]): Switch {
  return {
    id: r.id, assetId: r.asset_id, losingFspId: r.losing_fsp_id, gainingFspId: r.gaining_fsp_id, status: r.status,
    effectiveDate: dayOf(r.effective_date), effectiveAt: iso(r.effective_at)!, consent: r.consent, reason: r.reason ?? null,
    requestedAt: iso(r.requested_at)!, requestedBy: r.requested_by, closedAt: iso(r.closed_at), closedBy: r.closed_by ?? null, closeReason: r.close_reason ?? null,
    ...(transitions ? { transitions: transitions.map((t) => ({ from: t.from_status ?? null, to: t.to_status, at: iso(t.at)!, by: t.by, reason: t.reason ?? null })) } : {}),
  };
}

async function transition(tx: Sql, id: string, from: Status | null, to: Status, at: Date, by: string, reason?: string | null) {
  await tx.query(`INSERT INTO asset_switch_transition (switch_id, seq, from_status, to_status, at, by, reason)
    SELECT $1, COALESCE(max(seq), 0) + 1, $2, $3, $4::timestamptz, $5, $6 FROM asset_switch_transition WHERE switch_id = $1`, [id, from, to, at.toISOString(), by, reason ?? null]);
}

/** The asset a request names, whoever controls it (the gaining FSP does not control it yet); undefined if none. */
async function resolveAsset(tx: Sql, ref: string) {
  let where: string;
  let params: unknown[];
  if (ULID_RE.test(ref)) { where = 'a.id = $1'; params = [ref]; }
  else {
    const idf = parseIdentifier(ref);
    where = `a.id = (SELECT asset_id FROM asset_alias WHERE scheme = $1 AND value = $2 ORDER BY active DESC LIMIT 1)`;
    params = [idf.scheme, idf.value];
  }
  const [row] = await tx.query(`SELECT ${ASSET_COLS} FROM asset a WHERE ${where} FOR UPDATE OF a`, params);
  return row ? toAsset(row) : undefined;
}

/**
 * The one answer for "no such asset" and "the consent is not for it (another meter, another FSP)":
 * same status, code and detail, naming only what the caller sent, so that a request cannot probe
 * which IDs, serial numbers or MPANs another FSP's assets have (docs/switching.md).
 */
function notForThisConsent(ref: string): Problem {
  return new Problem('SWITCH-ASSET-UNKNOWN', `No asset ${ref} that this consent lets you switch: the ID or alias is unknown, or the consent is for another meter or another FSP. Check the asset reference and that the consent names its MPAN and your organisation.`);
}

/** Consent errors that would tell an asset's MPAN (or that it exists) to a caller the consent is not for. */
const BINDING_MISMATCH = new Set(['CONSENT-MPAN-MISMATCH', 'CONSENT-FSP-MISMATCH']);

/**
 * Verify the consent for one of the asset's MPANs (either may be the one it names). With no asset,
 * or one without MPAN, the token is still checked, so that a bad token is answered the same
 * whether or not the asset exists; a binding mismatch is `notForThisConsent`.
 */
async function verifyConsentFor(tx: Sql, o: SwitchOptions & { requestKey: string }, ref: string, asset: Asset | undefined, check: Omit<ConsentCheck, 'mpan'>): Promise<ConsentEvidence> {
  const mpans = asset ? [asset.importMpan, asset.exportMpan].filter((m): m is string => !!m) : [];
  // No MPAN equals '': the token's own checks run, then the binding fails like a wrong meter's.
  for (const mpan of mpans.length ? mpans : ['']) {
    try {
      return await o.verifier!.verify({ ...check, mpan }, tx);
    } catch (e) {
      if (!(e instanceof ConsentError)) throw e;
      // A refused check records nothing, so trying the other MPAN is safe.
      if (!BINDING_MISMATCH.has(e.code)) throw consentProblem(e);
    }
  }
  throw notForThisConsent(ref);
}

/**
 * The first day on or after `day` that no CONFIRMED contract of another FSP covers. Windows are
 * followed one after another, so back-to-back windows push the date past all of them.
 */
export async function earliestFreeDay(tx: Sql, assetId: string, gainingFspId: string, day: string): Promise<{ day: string; blocking: string[] }> {
  const blocking: string[] = [];
  let d = day;
  for (let i = 0; i < 100; i++) {
    const at = londonMidnight(d).toISOString();
    const [w] = await tx.query(`SELECT id, upper(period) AS until FROM contract WHERE asset_id = $1 AND status = 'CONFIRMED' AND fsp_id <> $2 AND period @> $3::timestamptz ORDER BY upper(period) DESC LIMIT 1`, [assetId, gainingFspId, at]);
    if (!w) return { day: d, blocking };
    blocking.push(w.id);
    d = firstDayFrom(new Date(w.until));
  }
  throw new Problem('SWITCH-SERVICE-WINDOW', 'The asset is under confirmed service windows for the foreseeable future.');
}

function consentProblem(e: ConsentError): Problem {
  const code = (e.code in RULES ? e.code : 'CONSENT-TOKEN-INVALID') as RuleCode;
  return new Problem(code, e.detail, e.retryAfterSec ? { retryAfterSec: e.retryAfterSec } : {});
}

/** Request a switch (UC-02.06 steps 2–5). Nothing is written unless every check passes. */
export async function requestSwitch(ctx: Ctx, p: Principal, input: z.infer<typeof SwitchInput>, o: SwitchOptions & { requestKey: string }): Promise<Switch> {
  if (!p.roles.some((r) => r === 'FSP' || r === 'AGGREGATOR')) throw new Problem('SWITCH-GAINING-ROLE');
  if (!o.verifier) throw new Problem('CONSENT-SERVICE-UNAVAILABLE', 'No consent service is configured on this hub (FMAR_CONSENT_ISSUER, docs/consent.md).');
  const now = ctx.clock.now();
  const today = londonDay(now);
  const earliest = addDays(today, o.noticeDays);
  const effectiveDate = input.effectiveDate ?? earliest;
  if (effectiveDate < earliest) throw new Problem('SWITCH-NOTICE-PERIOD', `The notice period is ${o.noticeDays} day(s): the earliest effective date is ${earliest}.`, { earliestEffectiveDate: earliest });
  const gaining = p.organisationId;
  try {
    return await ctx.db.transaction(async (tx) => {
      const found = await resolveAsset(tx, input.asset);
      // The caller reads its own asset anyway; any other asset's state is told only to a consent for it.
      if (found?.fspId === gaining) throw new Problem('SWITCH-ALREADY-CONTROLLED');
      const evidence = await verifyConsentFor(tx, o, input.asset, found, { consent: input.consent, gainingFspId: gaining, effectiveDate, requestKey: o.requestKey, at: now });
      const asset = found!;
      if (asset.deregisteredAt) throw new Problem('SWITCH-ASSET-DEREGISTERED');
      const [open] = await tx.query(`SELECT id FROM asset_switch WHERE asset_id = $1 AND status IN ('REQUESTED', 'PENDING')`, [asset.id]);
      if (open) throw new Problem('SWITCH-IN-PROGRESS', `Switch ${open.id} of this asset is open.`, { existingSwitchId: open.id });
      const free = await earliestFreeDay(tx, asset.id, gaining, effectiveDate);
      if (free.day !== effectiveDate) {
        throw new Problem('SWITCH-SERVICE-WINDOW', `Confirmed service window(s) ${free.blocking.join(', ')} of another FSP cover ${effectiveDate}; the earliest effective date is ${free.day}.`, { earliestEffectiveDate: free.day, blockingContracts: free.blocking });
      }
      const id = ctx.ids.next();
      const by = recordedBy(p);
      const [row] = await tx.query(
        `INSERT INTO asset_switch (id, asset_id, losing_fsp_id, gaining_fsp_id, status, effective_date, effective_at, consent, consent_jti, consent_issuer, reason, requested_at, requested_by)
         VALUES ($1, $2, $3, $4, 'PENDING', $5::date, $6::timestamptz, $7::jsonb, $8, $9, $10, $11::timestamptz, $12) RETURNING *`,
        [id, asset.id, asset.fspId, gaining, effectiveDate, londonMidnight(effectiveDate).toISOString(), evidence, evidence.jti, evidence.issuer, input.reason ?? null, now.toISOString(), by]);
      await transition(tx, id, null, 'REQUESTED', now, by, input.reason);
      await transition(tx, id, 'REQUESTED', 'PENDING', now, by, `consent verified (${evidence.method}, jti ${evidence.jti}); notice until ${effectiveDate}`);
      await writeAudit(tx, p, now, [{ action: 'switch.requested', recordType: 'switch', recordId: id, organisationId: gaining, detail: { assetId: asset.id, losingFspId: asset.fspId, gainingFspId: gaining, effectiveDate, consent: { issuer: evidence.issuer, jti: evidence.jti, tokenHash: evidence.tokenHash } } }]);
      const data = { switchId: id, assetId: asset.id, losingFspId: asset.fspId, gainingFspId: gaining, effectiveDate, status: 'PENDING', dno: asset.dno };
      await writeEvents(tx, ctx.ids, now, [
        { type: 'fmar.switch.requested', subject: id, organisationId: asset.fspId, data },
        { type: 'fmar.switch.requested', subject: id, organisationId: gaining, data },
      ]);
      return toSwitch(row);
    });
  } catch (e) {
    if (pgErrorCode(e) === '23505') throw new Problem('SWITCH-IN-PROGRESS', 'Another switch of this asset was requested at the same moment.');
    throw e;
  }
}

function visible(p: Principal, params: unknown[]): string {
  const limit = withinAssetLimit(p, params, 'asset_id');
  if (reach('switches.read', p.roles).all) return limit;
  params.push(p.organisationId);
  return `(${limit} AND (losing_fsp_id = $${params.length} OR gaining_fsp_id = $${params.length}))`;
}

async function switchRow(tx: Sql, p: Principal, id: string, lock = false) {
  const params: unknown[] = [id];
  const [r] = await tx.query(`SELECT * FROM asset_switch WHERE id = $1 AND ${visible(p, params)}${lock ? ' FOR UPDATE' : ''}`, params);
  if (!r) throw new Problem('SWITCH-NOT-FOUND', `No switch ${id}.`);
  return r;
}

export async function getSwitch(ctx: Ctx, p: Principal, id: string): Promise<Switch> {
  const r = await switchRow(ctx.db, p, id);
  const t = await ctx.db.query(`SELECT * FROM asset_switch_transition WHERE switch_id = $1 ORDER BY seq`, [id]);
  return toSwitch(r, t);
}

export async function listSwitches(ctx: Ctx, p: Principal, q: { assetId?: string; status?: string }): Promise<Switch[]> {
  const params: unknown[] = [];
  let where = visible(p, params);
  if (q.assetId) { params.push(q.assetId); where += ` AND asset_id = $${params.length}`; }
  if (q.status) { params.push(q.status); where += ` AND status = $${params.length}`; }
  return (await ctx.db.query(`SELECT * FROM asset_switch WHERE ${where} ORDER BY requested_at DESC, id LIMIT 1000`, params)).map((r) => toSwitch(r));
}

async function close(ctx: Ctx, p: Principal, id: string, to: 'WITHDRAWN' | 'CANCELLED', reason: string | undefined, allowed: (r: any) => boolean): Promise<Switch> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const r = await switchRow(tx, p, id, true);
    if (!allowed(r)) throw new Problem('SWITCH-NOT-PARTY');
    if (!OPEN.includes(r.status)) throw new Problem('SWITCH-STATE', `Switch ${id} is ${r.status}.`);
    return closeRow(ctx, tx, p, r, to, reason ?? null, now);
  });
}

async function closeRow(ctx: Ctx, tx: Sql, p: Principal, r: any, to: Status, reason: string | null, now: Date): Promise<Switch> {
  const by = recordedBy(p);
  const [u] = await tx.query(`UPDATE asset_switch SET status = $2, closed_at = $3::timestamptz, closed_by = $4, close_reason = $5 WHERE id = $1 RETURNING *`, [r.id, to, now.toISOString(), by, reason]);
  await transition(tx, r.id, r.status, to, now, by, reason);
  await writeAudit(tx, p, now, [{ action: `switch.${to.toLowerCase()}`, recordType: 'switch', recordId: r.id, organisationId: r.gaining_fsp_id, detail: { assetId: r.asset_id, reason } }]);
  const data = { switchId: r.id, assetId: r.asset_id, losingFspId: r.losing_fsp_id, gainingFspId: r.gaining_fsp_id, effectiveDate: dayOf(r.effective_date), status: to, reason };
  await writeEvents(tx, ctx.ids, now, [
    { type: `fmar.switch.${to.toLowerCase()}`, subject: r.id, organisationId: r.losing_fsp_id, data },
    { type: `fmar.switch.${to.toLowerCase()}`, subject: r.id, organisationId: r.gaining_fsp_id, data },
  ]);
  return toSwitch(u);
}

/** The gaining FSP withdraws its request while it is open. */
export function withdrawSwitch(ctx: Ctx, p: Principal, id: string, reason?: string) {
  return close(ctx, p, id, 'WITHDRAWN', reason, (r) => r.gaining_fsp_id === p.organisationId);
}

/** The operator cancels an open switch (e.g. after a dispute). */
export function cancelSwitch(ctx: Ctx, p: Principal, id: string, reason?: string) {
  return close(ctx, p, id, 'CANCELLED', reason, () => reach('switches.cancel', p.roles).all);
}

/**
 * Apply every PENDING switch whose effective instant has come (UC-02.06 steps 6–7): re-check the
 * consent has not been revoked and that no confirmed window of another FSP covers the day (a
 * window confirmed after the request rejects it), then move the FSP link: close the losing FSP's
 * period at the effective instant, open the gaining FSP's, archive the asset version. One
 * transaction per switch, claimed with SKIP LOCKED, so several hubs can run it and a restart
 * resumes where it stopped. Returns the switches it closed.
 */
export async function applyDueSwitches(ctx: Ctx, o: { isRevoked?: (tx: Sql, issuer: string, jti: string, tokenHash: string) => Promise<boolean>; limit?: number } = {}): Promise<{ id: string; status: Status }[]> {
  const out: { id: string; status: Status }[] = [];
  const system = systemPrincipal('switch-scheduler');
  for (;;) {
    const now = ctx.clock.now();
    const done = await ctx.db.transaction(async (tx) => {
      const [r] = await tx.query(`SELECT * FROM asset_switch WHERE status = 'PENDING' AND effective_at <= $1::timestamptz ORDER BY effective_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`, [now.toISOString()]);
      if (!r) return undefined;
      // In the claiming transaction (one connection on PGlite): no other connection is needed.
      if (o.isRevoked && (await o.isRevoked(tx, r.consent_issuer, r.consent_jti, r.consent?.tokenHash ?? ''))) {
        await closeRow(ctx, tx, system, r, 'CANCELLED', 'consent revoked before the switch took effect', now);
        return { id: r.id, status: 'CANCELLED' as Status };
      }
      const day = dayOf(r.effective_date);
      const free = await earliestFreeDay(tx, r.asset_id, r.gaining_fsp_id, day);
      if (free.day !== day) {
        await closeRow(ctx, tx, system, r, 'REJECTED', `confirmed service window(s) ${free.blocking.join(', ')} of another FSP cover ${day}`, now);
        return { id: r.id, status: 'REJECTED' as Status };
      }
      const [a] = await tx.query(`SELECT ${ASSET_COLS} FROM asset a WHERE a.id = $1 FOR UPDATE OF a`, [r.asset_id]);
      const asset = toAsset(a);
      if (asset.deregisteredAt || asset.fspId !== r.losing_fsp_id) {
        await closeRow(ctx, tx, system, r, 'REJECTED', asset.deregisteredAt ? 'the asset was de-registered' : 'the asset changed FSP meanwhile', now);
        return { id: r.id, status: 'REJECTED' as Status };
      }
      const at = new Date(r.effective_at).toISOString();
      const by = `switch ${r.id}`;
      await archiveVersion(tx, asset, now.toISOString());
      await closeFspLink(tx, r.asset_id, at);
      await tx.query(`UPDATE asset SET fsp_id = $2, version = version + 1, recorded_at = $3::timestamptz, recorded_by = $4,
        fsp_since = $5::timestamptz, fsp_since_recorded_at = $3::timestamptz, fsp_since_recorded_by = $4 WHERE id = $1`, [r.asset_id, r.gaining_fsp_id, now.toISOString(), by, at]);
      // Data quality follows control: the asset's findings and score move to the gaining FSP's scorecard (src/quality).
      await assessStoredIn(tx, ctx, now, [r.asset_id]);
      const units = await applySwitchToUnits(tx, ctx, system, { assetId: r.asset_id, gainingFspId: r.gaining_fsp_id, switchId: r.id, now });
      await tx.query(`UPDATE asset_switch SET status = 'EFFECTIVE', closed_at = $2::timestamptz, closed_by = 'switch-scheduler' WHERE id = $1`, [r.id, now.toISOString()]);
      await transition(tx, r.id, 'PENDING', 'EFFECTIVE', now, 'switch-scheduler', `FSP link moved at ${at}`);
      await writeAudit(tx, system, now, [
        { action: 'switch.effective', recordType: 'switch', recordId: r.id, organisationId: r.gaining_fsp_id, detail: { assetId: r.asset_id, losingFspId: r.losing_fsp_id, gainingFspId: r.gaining_fsp_id, effectiveAt: at, marketUnitsMoved: units.moved, marketUnitsFlagged: units.flagged } },
        { action: 'asset.fsp-changed', recordType: 'asset', recordId: r.asset_id, organisationId: asset.organisationId, detail: { version: asset.version + 1, from: r.losing_fsp_id, to: r.gaining_fsp_id, switchId: r.id } },
      ]);
      const data = { switchId: r.id, assetId: r.asset_id, losingFspId: r.losing_fsp_id, gainingFspId: r.gaining_fsp_id, effectiveAt: at, status: 'EFFECTIVE', dno: asset.dno };
      await writeEvents(tx, ctx.ids, now, [
        { type: 'fmar.switch.effective', subject: r.id, organisationId: r.losing_fsp_id, data },
        { type: 'fmar.switch.effective', subject: r.id, organisationId: r.gaining_fsp_id, data },
        { type: 'fmar.asset.fsp-changed', subject: r.asset_id, organisationId: r.gaining_fsp_id, data: { assetId: r.asset_id, version: asset.version + 1, fromFspId: r.losing_fsp_id, toFspId: r.gaining_fsp_id, switchId: r.id } },
      ]);
      return { id: r.id, status: 'EFFECTIVE' as Status };
    });
    if (!done) return out;
    out.push(done);
    if (o.limit && out.length >= o.limit) return out;
  }
}

/**
 * A consent was revoked (UC-05.05): pending switches relying on it are cancelled, and an asset
 * whose current control rests on it (an EFFECTIVE switch with that consent) becomes
 * SUSPENDED_CONSENT_REVOKED. Returns what changed.
 */
export async function applyConsentRevocation(ctx: Ctx, p: Principal, r: { issuer: string; jti?: string; tokenHash?: string; reason?: string }): Promise<{ cancelled: string[]; suspended: string[] }> {
  const now = ctx.clock.now();
  const cancelled: string[] = [];
  const suspended: string[] = [];
  await ctx.db.transaction(async (tx) => {
    const rows = await tx.query(`SELECT * FROM asset_switch WHERE consent_issuer = $1 AND (consent_jti = $2 OR consent->>'tokenHash' = $3) ORDER BY requested_at FOR UPDATE`, [r.issuer, r.jti ?? '', r.tokenHash ?? '']);
    for (const s of rows) {
      if (OPEN.includes(s.status)) {
        await closeRow(ctx, tx, p, s, 'CANCELLED', `consent revoked${r.reason ? `: ${r.reason}` : ''}`, now);
        cancelled.push(s.id);
      } else if (s.status === 'EFFECTIVE') {
        const [a] = await tx.query(`SELECT ${ASSET_COLS} FROM asset a WHERE a.id = $1 AND a.fsp_id = $2 AND a.deregistered_at IS NULL AND a.status <> 'SUSPENDED_CONSENT_REVOKED' FOR UPDATE OF a`, [s.asset_id, s.gaining_fsp_id]);
        if (!a) continue;
        const asset = toAsset(a);
        await archiveVersion(tx, asset, now.toISOString());
        await tx.query(`UPDATE asset SET status = 'SUSPENDED_CONSENT_REVOKED', version = version + 1, recorded_at = $2::timestamptz, recorded_by = $3 WHERE id = $1`, [asset.id, now.toISOString(), recordedBy(p)]);
        await writeAudit(tx, p, now, [{ action: 'asset.suspended', recordType: 'asset', recordId: asset.id, organisationId: asset.organisationId, detail: { version: asset.version + 1, reason: 'consent revoked', switchId: s.id, consentJti: s.consent_jti } }]);
        await writeEvents(tx, ctx.ids, now, [{ type: 'fmar.asset.consent-revoked', subject: asset.id, organisationId: asset.fspId, data: { assetId: asset.id, status: 'SUSPENDED_CONSENT_REVOKED', switchId: s.id, dno: asset.dno } }]);
        suspended.push(asset.id);
      }
    }
  });
  return { cancelled, suspended };
}

/**
 * The periodic status check (UC-05.05): for every open or effective switch whose consent token
 * carried a Token Status List reference, read its entry; INVALID or SUSPENDED counts as revoked
 * (recorded with source `status-list`, then handled as a revocation notice would be). A list that
 * cannot be read changes nothing and is reported, to be tried again at the next run.
 */
export async function checkConsentStatusLists(
  ctx: Ctx,
  o: { statusOf: (ref: { uri: string; index: number }) => Promise<number>; record: (r: { issuer: string; jti: string; tokenHash: string; status: number }) => Promise<unknown> },
): Promise<{ checked: number; revoked: string[]; unavailable: number }> {
  const rows = await ctx.db.query(`SELECT DISTINCT consent_issuer, consent_jti, consent->>'tokenHash' AS token_hash, consent->'statusList'->>'uri' AS uri, (consent->'statusList'->>'index')::int AS idx
    FROM asset_switch WHERE status IN ('PENDING', 'EFFECTIVE') AND jsonb_typeof(consent->'statusList') = 'object'`);
  const revoked: string[] = [];
  let unavailable = 0;
  const system = systemPrincipal('consent-status-list');
  for (const r of rows) {
    let status: number;
    try { status = await o.statusOf({ uri: r.uri, index: r.idx }); } catch (e) {
      if (e instanceof ConsentError) { unavailable++; continue; }
      throw e;
    }
    if (status === 0) continue;
    await o.record({ issuer: r.consent_issuer, jti: r.consent_jti, tokenHash: r.token_hash, status });
    await applyConsentRevocation(ctx, system, { issuer: r.consent_issuer, jti: r.consent_jti, tokenHash: r.token_hash, reason: status === 2 ? 'status list: suspended' : 'status list: invalid' });
    revoked.push(r.consent_jti);
  }
  return { checked: rows.length, revoked, unavailable };
}
