import { z } from '@hono/zod-openapi';
import { withinAssetLimit } from '../access/asset-limit';
import { reach } from '../access/permissions';
import { recordedBy, systemPrincipal, type Principal } from '../access/principal';
import { parseIdentifier } from '../assets/service';
import { moveAssetFspIn, setAssetStatusIn } from '../assets/change';
import { applySwitchToUnits } from '../units/service';
import type { Asset } from '../assets/schema';
import { ASSET_COLS, toAsset, type AssetRow } from '../assets/store';
import { writeAudit } from '../audit/audit';
import { ConsentError, type ConsentCheck, type ConsentEvidence, type ConsentVerifier } from '../kernel/consent-port';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { Problem } from '../http/problem';
import { ULID_RE } from '../ids';
import { RULES, type RuleCode } from '../rules';
import { pgErrorCode, type Sql } from '../storage/db';
import { DAY_RE, addDays, firstDayFrom, londonDay, londonMidnight } from '../kernel/dates';

/**
 * Switching an asset between FSPs (UC-02.06) as an explicit state machine:
 *
 *   REQUESTED → PENDING (notice period) → EFFECTIVE
 *             ↘ REJECTED (by the hub)   ↘ CANCELLED (operator, consent revoked)   ↘ WITHDRAWN (gaining FSP)
 *                                       ↘ FAILED (due, but the hub could not apply it; the reason says why)
 *
 * A request is checked completely before anything is written: the asset(s) (by ID or any alias;
 * several assets behind one meter in one request), the gaining FSP, the notice period, the start of
 * the current FSP link, confirmed service windows of other FSPs over the whole effective day, and
 * the consumer's consent (ConsentVerifier port). The FSP link moves on the effective date by `applyDueSwitches`,
 * a job over the database that survives restarts. Every transition is audited with who and why,
 * and announced to the losing and gaining FSPs (and, through the recipients policy, the asset's
 * DNO and System Operators).
 */
export const SWITCH_STATUSES = ['REQUESTED', 'PENDING', 'EFFECTIVE', 'REJECTED', 'CANCELLED', 'WITHDRAWN', 'FAILED'] as const;
type Status = (typeof SWITCH_STATUSES)[number];
/**
 * The lifecycle as a table (the drawing above, docs/switching.md): which status may follow which. A
 * request is checked whole before it is written, then stored REQUESTED → PENDING in one transaction; EFFECTIVE, REJECTED, CANCELLED, WITHDRAWN and FAILED are
 * final. `transition` refuses anything else, so no code path can write a move the table lacks.
 */
export const SWITCH_NEXT: Readonly<Record<Status, readonly Status[]>> = {
  REQUESTED: ['PENDING'],
  PENDING: ['EFFECTIVE', 'REJECTED', 'CANCELLED', 'WITHDRAWN', 'FAILED'],
  EFFECTIVE: [],
  REJECTED: [],
  CANCELLED: [],
  WITHDRAWN: [],
  FAILED: [],
};
/** May a switch move from `from` (null: a new request) to `to`? */
export function maySwitchMove(from: Status | null, to: Status): boolean {
  return from === null ? to === 'REQUESTED' : SWITCH_NEXT[from].includes(to);
}
/** Statuses a switch can still leave: it is open. */
export const OPEN: readonly Status[] = SWITCH_STATUSES.filter((s) => SWITCH_NEXT[s].length > 0);

/** Most assets one switch request names (the assets behind one meter). */
export const MAX_SWITCH_ASSETS = 50;
const AssetRef = z.string().min(1).max(120);

export const SwitchInput = z
  .object({
    asset: AssetRef.optional().openapi({
      description:
        'The asset: its FMAR ID, or any alias as scheme:value (e.g. mpan:1312345678907). An alias that names several live assets the caller does not control is refused (SWITCH-ALIAS-AMBIGUOUS, listing them): name them in `assets`.',
      example: 'mpan:1312345678907',
    }),
    assets: z.array(AssetRef).min(1).max(MAX_SWITCH_ASSETS).optional().openapi({
      description:
        'Instead of `asset`: several assets switched by one request (e.g. a battery and a heat pump behind one meter), each by ID or alias. One consent for their meter covers them all; every asset is checked before any is written.',
    }),
    consent: z.string().min(1).max(16_384).openapi({
      description: 'The consumer’s consent: a consent token (JWT) from the Consumer Consent Service, or an opaque consent reference.',
    }),
    effectiveDate: z.string().regex(DAY_RE, 'REQUEST-FIELD-TYPE').optional().openapi({
      description:
        'Great Britain calendar day the switch takes effect (default: the first day the notice period and the start of the current FSP link allow).',
      example: '2026-07-01',
    }),
    reason: z.string().max(500).optional(),
  })
  .strict()
  .refine((v) => (v.asset === undefined) !== (v.assets === undefined), { message: 'SWITCH-ASSET-REFERENCE', path: ['asset'] })
  .openapi('SwitchInput');

export const Switch = z
  .object({
    id: z.string(),
    assetId: z.string(),
    losingFspId: z.string(),
    gainingFspId: z.string(),
    status: z.enum(SWITCH_STATUSES),
    effectiveDate: z.string(),
    effectiveAt: z.string(),
    consent: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'What was verified (issuer, kid, jti, claims summary, token hash); never the token itself.' }),
    reason: z.string().nullable(),
    requestedAt: z.string(),
    requestedBy: z.string(),
    closedAt: z.string().nullable(),
    closedBy: z.string().nullable(),
    closeReason: z.string().nullable(),
    transitions: z
      .array(z.object({ from: z.string().nullable(), to: z.string(), at: z.string(), by: z.string(), reason: z.string().nullable() }))
      .optional(),
  })
  .openapi('Switch');
export type Switch = z.infer<typeof Switch>;
/** The answer to a request naming `assets`: one switch per asset, all written together. */
export const SwitchBatch = z.object({ items: z.array(Switch) }).openapi('SwitchBatch');

export interface SwitchOptions {
  verifier?: ConsentVerifier;
  noticeDays: number;
}

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
const dayOf = (v: unknown) => (typeof v === 'string' ? v.slice(0, 10) : new Date(v as Date).toISOString().slice(0, 10));
/** A row of asset_switch (007_switching.sql); `consent` holds the ConsentEvidence the request was verified with. */
interface SwitchRow {
  id: string;
  asset_id: string;
  losing_fsp_id: string;
  gaining_fsp_id: string;
  status: Status;
  effective_date: string | Date;
  effective_at: Date;
  consent: Record<string, unknown> & { tokenHash?: string };
  consent_jti: string;
  consent_issuer: string;
  reason: string | null;
  requested_at: Date;
  requested_by: string;
  closed_at: Date | null;
  closed_by: string | null;
  close_reason: string | null;
}
interface TransitionRow {
  switch_id: string;
  seq: number;
  from_status: Status | null;
  to_status: Status;
  at: Date;
  by: string;
  reason: string | null;
}

function toSwitch(r: SwitchRow, transitions?: TransitionRow[]): Switch {
  return {
    id: r.id,
    assetId: r.asset_id,
    losingFspId: r.losing_fsp_id,
    gainingFspId: r.gaining_fsp_id,
    status: r.status,
    effectiveDate: dayOf(r.effective_date),
    effectiveAt: iso(r.effective_at)!,
    consent: r.consent,
    reason: r.reason ?? null,
    requestedAt: iso(r.requested_at)!,
    requestedBy: r.requested_by,
    closedAt: iso(r.closed_at),
    closedBy: r.closed_by ?? null,
    closeReason: r.close_reason ?? null,
    ...(transitions
      ? {
          transitions: transitions.map((t) => ({
            from: t.from_status ?? null,
            to: t.to_status,
            at: iso(t.at)!,
            by: t.by,
            reason: t.reason ?? null,
          })),
        }
      : {}),
  };
}

async function transition(tx: Sql, id: string, from: Status | null, to: Status, at: Date, by: string, reason?: string | null) {
  if (!maySwitchMove(from, to)) throw new Error(`switch ${id}: ${from ?? '(new)'} → ${to} is not in SWITCH_NEXT`);
  await tx.query(
    `INSERT INTO asset_switch_transition (switch_id, seq, from_status, to_status, at, by, reason)
    SELECT $1, COALESCE(max(seq), 0) + 1, $2, $3, $4::timestamptz, $5, $6 FROM asset_switch_transition WHERE switch_id = $1`,
    [id, from, to, at.toISOString(), by, reason ?? null],
  );
}

/** What resolving a reference reads of each asset it names. */
interface Candidate {
  id: string;
  category: string;
  kw: number;
  fsp_id: string;
  deregistered_at: string | Date | null;
  import_mpan: string | null;
  export_mpan: string | null;
}

/** An asset a request names, with the start of its current FSP link (a switch may not take effect before it). */
interface Named {
  asset: Asset;
  linkSince: Date | null;
}

/** The assets a reference names (an ID, or an alias: several may stand behind one meter), whoever controls them. */
async function candidatesFor(tx: Sql, ref: string): Promise<Candidate[]> {
  const cols = `a.id, a.category, a.rated_capacity_kw::float8 AS kw, a.fsp_id, a.deregistered_at, a.import_mpan, a.export_mpan`;
  if (ULID_RE.test(ref)) return tx.query<Candidate>(`SELECT ${cols} FROM asset a WHERE a.id = $1`, [ref]);
  const idf = parseIdentifier(ref);
  return tx.query<Candidate>(
    `SELECT ${cols} FROM asset a WHERE a.id IN (SELECT asset_id FROM asset_alias WHERE scheme = $1 AND value = $2) ORDER BY a.id`,
    [idf.scheme, idf.value],
  );
}

const mpansOf = (c: Candidate) => ({ importMpan: c.import_mpan, exportMpan: c.export_mpan });

/**
 * The asset a reference names for this switch. The gaining FSP's own assets on the meter are no
 * reason to refuse. Whether another FSP's asset exists, and its state, is told only to a consent for
 * its meter: no asset is `notForThisConsent` after the token's own checks, a de-registered one is
 * SWITCH-ASSET-DEREGISTERED to a consent for its meter only, and several (a battery, a heat pump and
 * an EV charger behind one meter) are listed, category and capacity and no FSP, to such a consent
 * only, so that the gaining FSP can name the ones to switch. A consent verified here is not kept:
 * each of these answers rolls the transaction back.
 */
async function resolveAsset(
  tx: Sql,
  o: SwitchOptions & { requestKey: string },
  ref: string,
  gaining: string,
  check: Omit<ConsentCheck, 'mpan'>,
): Promise<string> {
  const rows = await candidatesFor(tx, ref);
  const live = rows.filter((r) => !r.deregistered_at);
  const others = live.filter((r) => r.fsp_id !== gaining);
  if (others.length === 1) return others[0].id;
  if (others.length === 0) {
    // The caller reads its own asset anyway.
    if (live.length) throw new Problem('SWITCH-ALREADY-CONTROLLED');
    const gone = rows.find((r) => r.fsp_id !== gaining) ?? rows[0];
    await verifyConsentFor(tx, o, ref, gone && mpansOf(gone), check);
    throw new Problem('SWITCH-ASSET-DEREGISTERED');
  }
  await verifyConsentFor(tx, o, ref, mpansOf(others[0]), check);
  const matchingAssets = others.map((r) => ({ assetId: r.id, category: r.category, ratedCapacityKw: Number(r.kw) }));
  throw new Problem(
    'SWITCH-ALIAS-AMBIGUOUS',
    `${ref} names ${others.length} assets you do not control (${matchingAssets.map((m) => `${m.assetId}: ${m.category}, ${m.ratedCapacityKw} kW`).join('; ')}); name the ones to switch in "assets".`,
    { matchingAssets },
  );
}

/** The named assets, locked in ID order (two requests lock the same rows in the same order). */
async function lockAssets(tx: Sql, ids: string[]): Promise<Named[]> {
  const rows = await tx.query<AssetRow & { fsp_since: Date | null }>(
    `SELECT ${ASSET_COLS}, a.fsp_since FROM asset a WHERE a.id = ANY($1::text[]) ORDER BY a.id FOR UPDATE OF a`,
    [ids],
  );
  return rows.map((r) => ({ asset: toAsset(r), linkSince: r.fsp_since ? new Date(r.fsp_since) : null }));
}

/** The last of the first days each asset's current FSP link allows (a day starting at or after the link's start). */
function firstDayAfterLinks(named: Named[]): string | undefined {
  const days = named.flatMap((n) => (n.linkSince ? [firstDayFrom(n.linkSince)] : []));
  return days.length ? days.sort().at(-1) : undefined;
}

/**
 * The one answer for "no such asset" and "the consent is not for it (another meter, another FSP)":
 * same status, code and detail, naming only what the caller sent, so that a request cannot probe
 * which IDs, serial numbers or MPANs another FSP's assets have (docs/switching.md).
 */
function notForThisConsent(ref: string): Problem {
  return new Problem(
    'SWITCH-ASSET-UNKNOWN',
    `No asset ${ref} that this consent lets you switch: the ID or alias is unknown, or the consent is for another meter or another FSP. Check the asset reference and that the consent names its MPAN and your organisation.`,
  );
}

/** Consent errors that would tell an asset's MPAN (or that it exists) to a caller the consent is not for. */
const BINDING_MISMATCH = new Set(['CONSENT-MPAN-MISMATCH', 'CONSENT-FSP-MISMATCH']);

/**
 * Verify the consent for one of the asset's MPANs (either may be the one it names). With no asset,
 * or one without MPAN, the token is still checked, so that a bad token is answered the same
 * whether or not the asset exists; a binding mismatch is `notForThisConsent`.
 */
async function verifyConsentFor(
  tx: Sql,
  o: SwitchOptions & { requestKey: string },
  ref: string,
  asset: { importMpan: string | null; exportMpan: string | null } | undefined,
  check: Omit<ConsentCheck, 'mpan'>,
): Promise<ConsentEvidence> {
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
 * The first day on or after `day` that no CONFIRMED contract of another FSP overlaps at any time
 * (the whole Europe/London day, 23, 24 or 25 hours, not only its midnight). Windows are followed
 * one after another, so back-to-back windows push the date past all of them.
 */
export async function earliestFreeDay(
  tx: Sql,
  assetId: string,
  gainingFspId: string,
  day: string,
): Promise<{ day: string; blocking: string[] }> {
  const blocking: string[] = [];
  let d = day;
  for (let i = 0; i < 100; i++) {
    const dayRange = [londonMidnight(d).toISOString(), londonMidnight(addDays(d, 1)).toISOString()];
    const [w] = await tx.query<{ id: string; until: Date }>(
      `SELECT id, upper(period) AS until FROM contract WHERE asset_id = $1 AND status = 'CONFIRMED' AND fsp_id <> $2
      AND period && tstzrange($3::timestamptz, $4::timestamptz) ORDER BY upper(period) DESC LIMIT 1`,
      [assetId, gainingFspId, ...dayRange],
    );
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

/** The first day on or after `day` that no confirmed window of another FSP overlaps, for every asset. */
async function freeDayForAll(tx: Sql, named: Named[], gaining: string, day: string): Promise<{ day: string; blocking: string[] }> {
  const blocking = new Set<string>();
  let d = day;
  for (let round = 0; round < 100; round++) {
    let moved = false;
    for (const n of named) {
      const free = await earliestFreeDay(tx, n.asset.id, gaining, d);
      free.blocking.forEach((b) => blocking.add(b));
      if (free.day !== d) {
        d = free.day;
        moved = true;
      }
    }
    if (!moved) return { day: d, blocking: [...blocking] };
  }
  throw new Problem('SWITCH-SERVICE-WINDOW', 'The assets are under confirmed service windows for the foreseeable future.');
}

/** Every check of one named asset that needs no consent; the first broken one refuses the whole request. */
const assetOf = (n: Named, several: boolean) => (several ? ` (asset ${n.asset.id})` : '');

function checkControl(n: Named, gaining: string, several: boolean) {
  if (n.asset.deregisteredAt) throw new Problem('SWITCH-ASSET-DEREGISTERED', `The asset is de-registered${assetOf(n, several)}.`);
  if (n.asset.fspId === gaining) throw new Problem('SWITCH-ALREADY-CONTROLLED', `You already control the asset${assetOf(n, several)}.`);
}

async function checkNoOpenSwitch(tx: Sql, n: Named, several: boolean) {
  const [open] = await tx.query<{ id: string }>(`SELECT id FROM asset_switch WHERE asset_id = $1 AND status IN ('REQUESTED', 'PENDING')`, [
    n.asset.id,
  ]);
  if (open)
    throw new Problem('SWITCH-IN-PROGRESS', `Switch ${open.id} of this asset${assetOf(n, several)} is open.`, {
      existingSwitchId: open.id,
    });
}

/** Write one PENDING switch of one asset, with its transitions, audit record and events. */
async function insertSwitch(
  ctx: Ctx,
  tx: Sql,
  p: Principal,
  asset: Asset,
  evidence: ConsentEvidence,
  effectiveDate: string,
  reason: string | undefined,
  now: Date,
): Promise<Switch> {
  const id = ctx.ids.next();
  const by = recordedBy(p);
  const gaining = p.organisationId;
  const [row] = await tx.query<SwitchRow>(
    `INSERT INTO asset_switch (id, asset_id, losing_fsp_id, gaining_fsp_id, status, effective_date, effective_at, consent, consent_jti, consent_issuer, reason, requested_at, requested_by)
     VALUES ($1, $2, $3, $4, 'PENDING', $5::date, $6::timestamptz, $7::jsonb, $8, $9, $10, $11::timestamptz, $12) RETURNING *`,
    [
      id,
      asset.id,
      asset.fspId,
      gaining,
      effectiveDate,
      londonMidnight(effectiveDate).toISOString(),
      evidence,
      evidence.jti,
      evidence.issuer,
      reason ?? null,
      now.toISOString(),
      by,
    ],
  );
  await transition(tx, id, null, 'REQUESTED', now, by, reason);
  await transition(
    tx,
    id,
    'REQUESTED',
    'PENDING',
    now,
    by,
    `consent verified (${evidence.method}, jti ${evidence.jti}); notice until ${effectiveDate}`,
  );
  await writeAudit(tx, p, now, [
    {
      action: 'switch.requested',
      recordType: 'switch',
      recordId: id,
      organisationId: gaining,
      detail: {
        assetId: asset.id,
        losingFspId: asset.fspId,
        gainingFspId: gaining,
        effectiveDate,
        consent: { issuer: evidence.issuer, jti: evidence.jti, tokenHash: evidence.tokenHash },
      },
    },
  ]);
  const data = {
    switchId: id,
    assetId: asset.id,
    losingFspId: asset.fspId,
    gainingFspId: gaining,
    effectiveDate,
    status: 'PENDING',
    dno: asset.dno,
  };
  await writeEvents(tx, ctx.ids, now, [
    { type: 'fmar.switch.requested', subject: id, organisationId: asset.fspId, data },
    { type: 'fmar.switch.requested', subject: id, organisationId: gaining, data },
  ]);
  return toSwitch(row);
}

/**
 * Request a switch (UC-02.06 steps 2–5) of one asset (`asset`) or several (`assets`, the design's
 * "asset ID(s)"): one switch per asset, all with the same effective date. Nothing is written unless
 * every check passes for every asset.
 */
export async function requestSwitch(
  ctx: Ctx,
  p: Principal,
  input: z.infer<typeof SwitchInput>,
  o: SwitchOptions & { requestKey: string },
): Promise<Switch[]> {
  if (!p.roles.some((r) => r === 'FSP' || r === 'AGGREGATOR')) throw new Problem('SWITCH-GAINING-ROLE');
  if (!o.verifier)
    throw new Problem(
      'CONSENT-SERVICE-UNAVAILABLE',
      'No consent service is configured on this hub (FMAR_CONSENT_ISSUER, docs/consent.md).',
    );
  const now = ctx.clock.now();
  const earliest = addDays(londonDay(now), o.noticeDays);
  if (input.effectiveDate !== undefined && input.effectiveDate < earliest)
    throw new Problem('SWITCH-NOTICE-PERIOD', `The notice period is ${o.noticeDays} day(s): the earliest effective date is ${earliest}.`, {
      earliestEffectiveDate: earliest,
    });
  const gaining = p.organisationId;
  const refs = input.assets ?? [input.asset!];
  try {
    return await ctx.db.transaction(async (tx) => {
      const check = { consent: input.consent, gainingFspId: gaining, requestKey: o.requestKey, at: now };
      const refOf = new Map<string, string>();
      for (const ref of refs)
        refOf.set(await resolveAsset(tx, o, ref, gaining, { ...check, effectiveDate: input.effectiveDate ?? earliest }), ref);
      const named = await lockAssets(tx, [...refOf.keys()]);
      // Their state may have changed since they were resolved.
      for (const n of named) checkControl(n, gaining, named.length > 1);
      const linkDay = firstDayAfterLinks(named);
      const allowed = linkDay && linkDay > earliest ? linkDay : earliest;
      const effectiveDate = input.effectiveDate ?? allowed;
      // The consent is verified, and its single use claimed, before anything about the assets' state is
      // told: a consent sent twice at once is CONSENT-REPLAYED for all but one request, and a caller
      // without a consent for the meter learns nothing; a refusal after it rolls the claim back.
      const evidence: ConsentEvidence[] = [];
      for (const n of named) evidence.push(await verifyConsentFor(tx, o, refOf.get(n.asset.id)!, n.asset, { ...check, effectiveDate }));
      // The new link starts when the current one has begun: never before it (the range would be empty).
      if (linkDay && effectiveDate < linkDay) {
        throw new Problem(
          'SWITCH-EFFECTIVE-BEFORE-LINK',
          `The asset's current FSP link started after ${effectiveDate} began; the earliest effective date is ${allowed}.`,
          { earliestEffectiveDate: allowed },
        );
      }
      for (const n of named) await checkNoOpenSwitch(tx, n, named.length > 1);
      const free = await freeDayForAll(tx, named, gaining, effectiveDate);
      if (free.day !== effectiveDate) {
        throw new Problem(
          'SWITCH-SERVICE-WINDOW',
          `Confirmed service window(s) ${free.blocking.join(', ')} of another FSP overlap ${effectiveDate}; the earliest effective date is ${free.day}.`,
          { earliestEffectiveDate: free.day, blockingContracts: free.blocking },
        );
      }
      const out: Switch[] = [];
      for (const [i, n] of named.entries())
        out.push(await insertSwitch(ctx, tx, p, n.asset, evidence[i], effectiveDate, input.reason, now));
      return out;
    });
  } catch (e) {
    if (pgErrorCode(e) === '23505')
      throw new Problem('SWITCH-IN-PROGRESS', 'Another switch of this asset was requested at the same moment.');
    throw e;
  }
}

function visible(p: Principal, params: unknown[]): string {
  const limit = withinAssetLimit(p, params, 'asset_id');
  if (reach('switches.read', p.roles).all) return limit;
  params.push(p.organisationId);
  return `(${limit} AND (losing_fsp_id = $${params.length} OR gaining_fsp_id = $${params.length}))`;
}

async function switchRow(tx: Sql, p: Principal, id: string, lock = false): Promise<SwitchRow> {
  const params: unknown[] = [id];
  const [r] = await tx.query<SwitchRow>(
    `SELECT * FROM asset_switch WHERE id = $1 AND ${visible(p, params)}${lock ? ' FOR UPDATE' : ''}`,
    params,
  );
  if (!r) throw new Problem('SWITCH-NOT-FOUND', `No switch ${id}.`);
  return r;
}

export async function getSwitch(ctx: Ctx, p: Principal, id: string): Promise<Switch> {
  const r = await switchRow(ctx.db, p, id);
  const t = await ctx.db.query<TransitionRow>(`SELECT * FROM asset_switch_transition WHERE switch_id = $1 ORDER BY seq`, [id]);
  return toSwitch(r, t);
}

export async function listSwitches(ctx: Ctx, p: Principal, q: { assetId?: string; status?: string }): Promise<Switch[]> {
  const params: unknown[] = [];
  let where = visible(p, params);
  if (q.assetId) {
    params.push(q.assetId);
    where += ` AND asset_id = $${params.length}`;
  }
  if (q.status) {
    params.push(q.status);
    where += ` AND status = $${params.length}`;
  }
  return (await ctx.db.query<SwitchRow>(`SELECT * FROM asset_switch WHERE ${where} ORDER BY requested_at DESC, id LIMIT 1000`, params)).map(
    (r) => toSwitch(r),
  );
}

async function close(
  ctx: Ctx,
  p: Principal,
  id: string,
  to: 'WITHDRAWN' | 'CANCELLED',
  reason: string | undefined,
  allowed: (r: SwitchRow) => boolean,
): Promise<Switch> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const r = await switchRow(tx, p, id, true);
    if (!allowed(r)) throw new Problem('SWITCH-NOT-PARTY');
    if (!maySwitchMove(r.status, to)) throw new Problem('SWITCH-STATE', `Switch ${id} is ${r.status}.`);
    return closeRow(ctx, tx, p, r, to, reason ?? null, now);
  });
}

async function closeRow(ctx: Ctx, tx: Sql, p: Principal, r: SwitchRow, to: Status, reason: string | null, now: Date): Promise<Switch> {
  const by = recordedBy(p);
  const [u] = await tx.query<SwitchRow>(
    `UPDATE asset_switch SET status = $2, closed_at = $3::timestamptz, closed_by = $4, close_reason = $5 WHERE id = $1 RETURNING *`,
    [r.id, to, now.toISOString(), by, reason],
  );
  await transition(tx, r.id, r.status, to, now, by, reason);
  await writeAudit(tx, p, now, [
    {
      action: `switch.${to.toLowerCase()}`,
      recordType: 'switch',
      recordId: r.id,
      organisationId: r.gaining_fsp_id,
      detail: { assetId: r.asset_id, reason },
    },
  ]);
  const data = {
    switchId: r.id,
    assetId: r.asset_id,
    losingFspId: r.losing_fsp_id,
    gainingFspId: r.gaining_fsp_id,
    effectiveDate: dayOf(r.effective_date),
    status: to,
    reason,
  };
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
 * resumes where it stopped. A switch that cannot be applied (its effective time before the current
 * FSP link started, or a data error while moving the link) is closed FAILED with the reason, in a
 * transaction of its own, and the switches due after it proceed. Returns the switches it closed.
 */
export async function applyDueSwitches(
  ctx: Ctx,
  o: { isRevoked?: (tx: Sql, issuer: string, jti: string, tokenHash: string) => Promise<boolean>; limit?: number } = {},
): Promise<{ id: string; status: Status }[]> {
  const out: { id: string; status: Status }[] = [];
  const system = systemPrincipal('switch-scheduler');
  for (;;) {
    const now = ctx.clock.now();
    let claimed: string | undefined;
    const done = await ctx.db
      .transaction(async (tx) => {
        const [r] = await tx.query<SwitchRow>(
          `SELECT * FROM asset_switch WHERE status = 'PENDING' AND effective_at <= $1::timestamptz ORDER BY effective_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [now.toISOString()],
        );
        if (!r) return undefined;
        claimed = r.id;
        // In the claiming transaction (one connection on PGlite): no other connection is needed.
        if (o.isRevoked && (await o.isRevoked(tx, r.consent_issuer, r.consent_jti, r.consent?.tokenHash ?? ''))) {
          await closeRow(ctx, tx, system, r, 'CANCELLED', 'consent revoked before the switch took effect', now);
          return { id: r.id, status: 'CANCELLED' as Status };
        }
        const day = dayOf(r.effective_date);
        const free = await earliestFreeDay(tx, r.asset_id, r.gaining_fsp_id, day);
        if (free.day !== day) {
          await closeRow(
            ctx,
            tx,
            system,
            r,
            'REJECTED',
            `confirmed service window(s) ${free.blocking.join(', ')} of another FSP cover ${day}`,
            now,
          );
          return { id: r.id, status: 'REJECTED' as Status };
        }
        const [a] = await tx.query<AssetRow & { fsp_since: Date | null }>(
          `SELECT ${ASSET_COLS}, a.fsp_since FROM asset a WHERE a.id = $1 FOR UPDATE OF a`,
          [r.asset_id],
        );
        const asset = toAsset(a);
        if (asset.deregisteredAt || asset.fspId !== r.losing_fsp_id) {
          await closeRow(
            ctx,
            tx,
            system,
            r,
            'REJECTED',
            asset.deregisteredAt ? 'the asset was de-registered' : 'the asset changed FSP meanwhile',
            now,
          );
          return { id: r.id, status: 'REJECTED' as Status };
        }
        const at = new Date(r.effective_at).toISOString();
        if (a.fsp_since && new Date(a.fsp_since) > new Date(r.effective_at)) {
          await closeRow(
            ctx,
            tx,
            system,
            r,
            'FAILED',
            `the effective time ${at} is before the asset's current FSP link started (${new Date(a.fsp_since).toISOString()}); request a new switch`,
            now,
          );
          return { id: r.id, status: 'FAILED' as Status };
        }
        const by = `switch ${r.id}`;
        // The asset's own change: a new version with the gaining FSP's link; data quality follows control (its findings move to the gaining FSP's scorecard).
        await moveAssetFspIn(tx, ctx, system, now, {
          asset,
          toFspId: r.gaining_fsp_id,
          effectiveAt: at,
          by,
          audit: (after) => ({
            action: 'asset.fsp-changed',
            recordType: 'asset',
            recordId: r.asset_id,
            organisationId: asset.organisationId,
            detail: { version: after.version, from: r.losing_fsp_id, to: r.gaining_fsp_id, switchId: r.id },
          }),
          events: (after) => [
            {
              type: 'fmar.asset.fsp-changed',
              subject: r.asset_id,
              organisationId: r.gaining_fsp_id,
              data: { assetId: r.asset_id, version: after.version, fromFspId: r.losing_fsp_id, toFspId: r.gaining_fsp_id, switchId: r.id },
            },
          ],
        });
        const units = await applySwitchToUnits(tx, ctx, system, {
          assetId: r.asset_id,
          gainingFspId: r.gaining_fsp_id,
          switchId: r.id,
          now,
        });
        await tx.query(
          `UPDATE asset_switch SET status = 'EFFECTIVE', closed_at = $2::timestamptz, closed_by = 'switch-scheduler' WHERE id = $1`,
          [r.id, now.toISOString()],
        );
        await transition(tx, r.id, 'PENDING', 'EFFECTIVE', now, 'switch-scheduler', `FSP link moved at ${at}`);
        await writeAudit(tx, system, now, [
          {
            action: 'switch.effective',
            recordType: 'switch',
            recordId: r.id,
            organisationId: r.gaining_fsp_id,
            detail: {
              assetId: r.asset_id,
              losingFspId: r.losing_fsp_id,
              gainingFspId: r.gaining_fsp_id,
              effectiveAt: at,
              marketUnitsMoved: units.moved,
              marketUnitsFlagged: units.flagged,
            },
          },
        ]);
        const data = {
          switchId: r.id,
          assetId: r.asset_id,
          losingFspId: r.losing_fsp_id,
          gainingFspId: r.gaining_fsp_id,
          effectiveAt: at,
          status: 'EFFECTIVE',
          dno: asset.dno,
        };
        await writeEvents(tx, ctx.ids, now, [
          { type: 'fmar.switch.effective', subject: r.id, organisationId: r.losing_fsp_id, data },
          { type: 'fmar.switch.effective', subject: r.id, organisationId: r.gaining_fsp_id, data },
        ]);
        return { id: r.id, status: 'EFFECTIVE' as Status };
      })
      .catch(async (e: unknown) => {
        if (!claimed || !cannotApply(e)) throw e;
        return failSwitch(ctx, claimed, `it could not be applied: ${e instanceof Error ? e.message : String(e)}`);
      });
    if (!done) return out;
    out.push(done);
    if (o.limit && out.length >= o.limit) return out;
  }
}

/** A refusal or a data error (SQLSTATE class 22 or 23) will fail again at every run; a lost connection may not. */
function cannotApply(e: unknown): boolean {
  const code = pgErrorCode(e);
  return e instanceof Problem || (!!code && (code.startsWith('22') || code.startsWith('23')));
}

/** Close a due switch FAILED (audited, both FSPs told), after its own transaction rolled back. */
async function failSwitch(ctx: Ctx, id: string, reason: string): Promise<{ id: string; status: Status }> {
  const system = systemPrincipal('switch-scheduler');
  return ctx.db.transaction(async (tx) => {
    const [r] = await tx.query<SwitchRow>(`SELECT * FROM asset_switch WHERE id = $1 FOR UPDATE`, [id]);
    if (r.status !== 'PENDING') return { id, status: r.status as Status };
    await closeRow(ctx, tx, system, r, 'FAILED', reason, ctx.clock.now());
    return { id, status: 'FAILED' as Status };
  });
}

/**
 * A consent was revoked (UC-05.05): pending switches relying on it are cancelled, and an asset
 * whose current control rests on it (an EFFECTIVE switch with that consent, or the consent it was
 * registered under: asset_consent) becomes SUSPENDED_CONSENT_REVOKED. Returns what changed.
 */
export async function applyConsentRevocation(
  ctx: Ctx,
  p: Principal,
  r: { issuer: string; jti?: string; tokenHash?: string; reason?: string },
): Promise<{ cancelled: string[]; suspended: string[] }> {
  const now = ctx.clock.now();
  const cancelled: string[] = [];
  const suspended: string[] = [];
  await ctx.db.transaction(async (tx) => {
    const rows = await tx.query<SwitchRow>(
      `SELECT * FROM asset_switch WHERE consent_issuer = $1 AND (consent_jti = $2 OR consent->>'tokenHash' = $3) ORDER BY requested_at FOR UPDATE`,
      [r.issuer, r.jti ?? '', r.tokenHash ?? ''],
    );
    for (const s of rows) {
      if (OPEN.includes(s.status)) {
        await closeRow(ctx, tx, p, s, 'CANCELLED', `consent revoked${r.reason ? `: ${r.reason}` : ''}`, now);
        cancelled.push(s.id);
      } else if (s.status === 'EFFECTIVE') {
        if (
          await suspendAsset(ctx, tx, p, now, { assetId: s.asset_id, fspId: s.gaining_fsp_id, consentJti: s.consent_jti, switchId: s.id })
        )
          suspended.push(s.asset_id);
      }
    }
    // Assets registered (or updated) under the consent (src/assets/consent.ts), while the FSP it names still controls them.
    const registered = await tx.query<{ asset_id: string; fsp_id: string; consent_jti: string }>(
      `SELECT asset_id, fsp_id, consent_jti FROM asset_consent WHERE consent_issuer = $1 AND (consent_jti = $2 OR token_hash = $3) ORDER BY asset_id`,
      [r.issuer, r.jti ?? '', r.tokenHash ?? ''],
    );
    for (const c of registered) {
      if (suspended.includes(c.asset_id)) continue;
      if (await suspendAsset(ctx, tx, p, now, { assetId: c.asset_id, fspId: c.fsp_id, consentJti: c.consent_jti, registration: true }))
        suspended.push(c.asset_id);
    }
  });
  return { cancelled, suspended };
}

/**
 * Suspended – Consent Revoked: the asset's control by `fspId` rested on the revoked consent. Nothing
 * happens when the asset has since changed FSP, is de-registered or already suspended. Returns
 * whether it was suspended.
 */
async function suspendAsset(
  ctx: Ctx,
  tx: Sql,
  p: Principal,
  now: Date,
  o: { assetId: string; fspId: string; consentJti: string; switchId?: string; registration?: boolean },
): Promise<boolean> {
  const [a] = await tx.query<AssetRow>(
    `SELECT ${ASSET_COLS} FROM asset a WHERE a.id = $1 AND a.fsp_id = $2 AND a.deregistered_at IS NULL AND a.status <> 'SUSPENDED_CONSENT_REVOKED' FOR UPDATE OF a`,
    [o.assetId, o.fspId],
  );
  if (!a) return false;
  const asset = toAsset(a);
  const source = o.switchId ? { switchId: o.switchId } : { registrationConsent: true };
  await setAssetStatusIn(tx, ctx, p, now, {
    asset,
    status: 'SUSPENDED_CONSENT_REVOKED',
    audit: (after) => ({
      action: 'asset.suspended',
      recordType: 'asset',
      recordId: asset.id,
      organisationId: asset.organisationId,
      detail: { version: after.version, reason: 'consent revoked', consentJti: o.consentJti, ...source },
    }),
    events: () => [
      {
        type: 'fmar.asset.consent-revoked',
        subject: asset.id,
        organisationId: asset.fspId,
        data: {
          assetId: asset.id,
          status: 'SUSPENDED_CONSENT_REVOKED',
          fromStatus: asset.status,
          consentJti: o.consentJti,
          ...source,
          dno: asset.dno,
        },
      },
    ],
  });
  return true;
}

/**
 * The periodic status check (UC-05.05): for every open or effective switch, and every asset still
 * controlled under its registration consent, whose consent token carried a Token Status List
 * reference, read its entry; INVALID or SUSPENDED counts as revoked
 * (recorded with source `status-list`, then handled as a revocation notice would be). A list that
 * cannot be read changes nothing and is reported, to be tried again at the next run.
 */
export async function checkConsentStatusLists(
  ctx: Ctx,
  o: {
    statusOf: (ref: { uri: string; index: number }) => Promise<number>;
    record: (r: { issuer: string; jti: string; tokenHash: string; status: number }) => Promise<unknown>;
  },
): Promise<{ checked: number; revoked: string[]; unavailable: number }> {
  const rows = await ctx.db.query<{
    consent_issuer: string;
    consent_jti: string;
    token_hash: string;
    uri: string;
    idx: number;
  }>(`SELECT DISTINCT consent_issuer, consent_jti, consent->>'tokenHash' AS token_hash, consent->'statusList'->>'uri' AS uri, (consent->'statusList'->>'index')::int AS idx
    FROM asset_switch WHERE status IN ('PENDING', 'EFFECTIVE') AND jsonb_typeof(consent->'statusList') = 'object'
    UNION SELECT c.consent_issuer, c.consent_jti, c.token_hash, c.consent->'statusList'->>'uri', (c.consent->'statusList'->>'index')::int
    FROM asset_consent c JOIN asset a ON a.id = c.asset_id AND a.fsp_id = c.fsp_id AND a.deregistered_at IS NULL AND a.status <> 'SUSPENDED_CONSENT_REVOKED'
    WHERE jsonb_typeof(c.consent->'statusList') = 'object'`);
  const revoked: string[] = [];
  let unavailable = 0;
  const system = systemPrincipal('consent-status-list');
  for (const r of rows) {
    let status: number;
    try {
      status = await o.statusOf({ uri: r.uri, index: r.idx });
    } catch (e) {
      if (e instanceof ConsentError) {
        unavailable++;
        continue;
      }
      throw e;
    }
    if (status === 0) continue;
    await o.record({ issuer: r.consent_issuer, jti: r.consent_jti, tokenHash: r.token_hash, status });
    await applyConsentRevocation(ctx, system, {
      issuer: r.consent_issuer,
      jti: r.consent_jti,
      tokenHash: r.token_hash,
      reason: status === 2 ? 'status list: suspended' : 'status list: invalid',
    });
    revoked.push(r.consent_jti);
  }
  return { checked: rows.length, revoked, unavailable };
}

/** A pending switch that will move an asset away from the FSP that controls it now (src/notices/). */
export interface SwitchAwayFacts {
  id: string;
  asset_id: string;
  gaining_fsp_id: string;
  effective_at: Date;
  requested_at: Date;
}

/** The open switches that will take assets away from this FSP, oldest first (at most `limit`). */
export async function switchesTakingAssetsFrom(db: Sql, fspId: string, limit: number): Promise<SwitchAwayFacts[]> {
  return db.query<SwitchAwayFacts>(
    `SELECT id, asset_id, gaining_fsp_id, effective_at, requested_at FROM asset_switch
      WHERE losing_fsp_id = $1 AND status IN ('REQUESTED', 'PENDING') ORDER BY requested_at, id LIMIT $2`,
    [fspId, limit],
  );
}
