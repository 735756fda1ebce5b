import type { z } from '@hono/zod-openapi';
import type { Principal } from '../access/principal';
import { recordedBy } from '../access/principal';
import { writeAudit } from '../audit/audit';
import { catalogueSnapshot } from '../catalogue/snapshot';
import type { Ctx } from '../context';
import { writeEvents, type ChangeEvent } from '../events/outbox';
import { Problem, type FieldError } from '../http/problem';
import { fieldErrorsFromZod } from '../http/validation';
import { ULID_RE } from '../ids';
import { changeVersioned, priorVersions } from '../kernel/versioned';
import { constraintName, pgErrorCode, type Sql } from '../storage/db';
import { connectionLimitChanged } from './hooks';
import { limitErrors, mpanErrors, networkOf } from './rules';
import { ConnectionLimitInput, ConnectionLimitPatch, type ConnectionLimit } from './schema';
import { LIMIT_COLS, assetDnosAt, limitVisibility, overlapping, selectLimit, toLimit, type LimitRow } from './store';

/** Connection limits (UC-02.05): recorded by the DNO/IDNO of the connection point, read by the FSPs there. docs/connection-limits.md. */

function refuse(errors: FieldError[]): Problem {
  return new Problem(errors[0].code, errors.map((e) => e.detail).join(' '), {}, errors);
}
function parse<T>(
  schema: { safeParse(raw: unknown): { success: true; data: T } | { success: false; error: z.ZodError } },
  raw: unknown,
  what: string,
): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new Problem('REQUEST-VALIDATION', `The ${what} is invalid.`, {}, fieldErrorsFromZod(r.error, raw));
  return r.data;
}
const notFound = (id: string) => new Problem('CONNECTION-LIMIT-NOT-FOUND', `No connection limit ${id}.`);
const overlap = (id: string, mpan: string) =>
  new Problem(
    'CONNECTION-LIMIT-OVERLAP',
    `Connection limit ${id} is in force at ${mpan} in an overlapping period: end or withdraw it first.`,
    {
      connectionLimitId: id,
    },
  );
/** Two overlapping periods written at the same moment: the exclusion constraint refuses the second. */
export const raced = (e: unknown) => {
  if (pgErrorCode(e) === '23P01' && constraintName(e) === 'connection_limit_no_overlap')
    return new Problem(
      'CONNECTION-LIMIT-OVERLAP',
      'A limit at this MPAN with an overlapping period was recorded at the same moment: read the MPAN’s limits and retry.',
    );
  return e;
};

/** What an event says of a limit: enough for the FSP to act without a read. */
function eventData(l: ConnectionLimit, extra: Record<string, unknown> = {}) {
  return {
    connectionLimitId: l.id,
    mpan: l.mpan,
    dno: l.dno,
    dnoOrganisationId: l.dnoOrganisationId,
    firmness: l.firmness,
    importLimitKw: l.importLimitKw,
    exportLimitKw: l.exportLimitKw,
    validFrom: l.validFrom,
    validTo: l.validTo,
    status: l.status,
    version: l.version,
    ...extra,
  };
}
const event = (type: string, l: ConnectionLimit, extra?: Record<string, unknown>): ChangeEvent => ({
  type,
  subject: l.id,
  organisationId: l.dnoOrganisationId,
  data: eventData(l, extra),
});

export interface LimitFilter {
  mpan?: string;
  dnoOrganisationId?: string;
  firmness?: string;
  status?: string;
  /** Only limits in force at this instant (ACTIVE, validFrom ≤ it < validTo). */
  activeAt?: string;
}

export async function listLimits(ctx: Ctx, p: Principal, f: LimitFilter, page: { limit: number; after?: string }) {
  const params: unknown[] = [];
  const conds = [limitVisibility(p, params)];
  const eq = (col: string, v: string | undefined) => {
    if (v !== undefined) {
      params.push(v);
      conds.push(`${col} = $${params.length}`);
    }
  };
  eq('l.mpan', f.mpan);
  eq('l.dno_organisation_id', f.dnoOrganisationId);
  eq('l.firmness', f.firmness);
  eq('l.status', f.status);
  if (f.activeAt) {
    params.push(f.activeAt);
    conds.push(
      `l.status = 'ACTIVE' AND l.valid_from <= $${params.length}::timestamptz AND (l.valid_to IS NULL OR l.valid_to > $${params.length}::timestamptz)`,
    );
  }
  if (page.after) {
    params.push(page.after);
    conds.push(`l.id > $${params.length}`);
  }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<LimitRow>(
    `SELECT ${LIMIT_COLS} FROM connection_limit l WHERE ${conds.join(' AND ')} ORDER BY l.id LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, page.limit).map(toLimit);
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

export async function getLimit(ctx: Ctx, p: Principal, id: string): Promise<ConnectionLimit> {
  const l = ULID_RE.test(id) ? await selectLimit(ctx.db, p, id) : undefined;
  if (!l) throw notFound(id);
  return l;
}

/** Every version, newest first: the current one, then record_history. */
export async function limitHistory(ctx: Ctx, p: Principal, id: string): Promise<ConnectionLimit[]> {
  const current = await getLimit(ctx, p, id);
  return [current, ...(await priorVersions<ConnectionLimit>(ctx.db, 'connection_limit', id))];
}

/** The licence area the caller may record the MPAN under, or CONNECTION-LIMIT-NOT-NETWORK. */
async function networkFor(ctx: Ctx, tx: Sql, p: Principal, mpan: string): Promise<string> {
  const codes = await catalogueSnapshot(ctx.db, ctx.clock, tx);
  const dno = networkOf(codes.dnoForDistributor(mpan.slice(0, 2)), await assetDnosAt(tx, mpan), p.dnoCodes);
  if (!dno)
    throw new Problem(
      'CONNECTION-LIMIT-NOT-NETWORK',
      `MPAN ${mpan} is not on the networks of organisation ${p.organisationId} (dnoCodes ${p.dnoCodes.join(', ') || 'none'}).`,
    );
  return dno;
}

export async function recordLimit(ctx: Ctx, actor: Principal, raw: unknown): Promise<ConnectionLimit> {
  try {
    return await ctx.db.transaction((tx) => recordLimitIn(tx, ctx, actor, raw));
  } catch (e) {
    throw raced(e);
  }
}

/**
 * Record a limit in the caller's transaction (the API's and the CIM import's one way in). Every
 * refusal is a Problem thrown before anything is written, so a caller may catch it and go on; a dry
 * run checks everything and writes nothing (the limit it returns has no history).
 */
export async function recordLimitIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  raw: unknown,
  o: { dryRun?: boolean } = {},
): Promise<ConnectionLimit> {
  const input = parse(ConnectionLimitInput, raw, 'connection limit');
  const now = ctx.clock.now();
  const at = now.toISOString();
  const shape = {
    importLimitKw: input.importLimitKw ?? null,
    exportLimitKw: input.exportLimitKw ?? null,
    firmness: input.firmness,
    validFrom: new Date(input.validFrom ?? at).toISOString(),
    validTo: input.validTo ? new Date(input.validTo).toISOString() : null,
    profile: input.profile ?? null,
    schemeReference: input.schemeReference ?? null,
  };
  const errors = [...mpanErrors(input.mpan), ...limitErrors(shape)];
  if (errors.length) throw refuse(errors);
  const dno = await networkFor(ctx, tx, actor, input.mpan);
  const other = await overlapping(tx, input.mpan, shape.validFrom, shape.validTo);
  if (other) throw overlap(other, input.mpan);
  if (o.dryRun)
    return {
      id: '',
      mpan: input.mpan,
      siteReference: input.siteReference ?? null,
      dnoOrganisationId: actor.organisationId,
      dno,
      ...shape,
      status: 'ACTIVE',
      withdrawnAt: null,
      version: 0,
      recordedAt: at,
      recordedBy: recordedBy(actor),
    };
  const id = ctx.ids.next();
  await tx.query(
    `INSERT INTO connection_limit (id, mpan, site_reference, dno_organisation_id, dno, import_limit_kw, export_limit_kw, firmness, valid_from, valid_to,
      profile, scheme_reference, status, recorded_at, recorded_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz, $10::timestamptz, $11::jsonb, $12, 'ACTIVE', $13::timestamptz, $14)`,
    [
      id,
      input.mpan,
      input.siteReference ?? null,
      actor.organisationId,
      dno,
      shape.importLimitKw,
      shape.exportLimitKw,
      shape.firmness,
      shape.validFrom,
      shape.validTo,
      shape.profile, // an object: both database adapters send it as JSON once (a string would be encoded twice on postgres.js)
      shape.schemeReference,
      at,
      recordedBy(actor),
    ],
  );
  const [row] = await tx.query<LimitRow>(`SELECT ${LIMIT_COLS} FROM connection_limit l WHERE l.id = $1`, [id]);
  const limit = toLimit(row);
  await writeAudit(tx, actor, now, [
    {
      action: 'connection-limit.recorded',
      recordType: 'connection_limit',
      recordId: id,
      organisationId: limit.dnoOrganisationId,
      detail: { ...limit },
    },
  ]);
  await writeEvents(tx, ctx.ids, now, [event('fmar.connection-limit.recorded', limit)]);
  await ctx.hooks.run(connectionLimitChanged, tx, { ctx, now, mpans: [limit.mpan] });
  return limit;
}

/** JSON with its keys in one order: a profile read back from jsonb keeps its keys in the database's order, not the writer's. */
const canonical = (v: unknown): string =>
  v !== null && typeof v === 'object'
    ? Array.isArray(v)
      ? `[${v.map(canonical).join(',')}]`
      : `{${Object.keys(v)
          .sort()
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
    : JSON.stringify(v);
export const sameValue = (a: unknown, b: unknown) => canonical(a ?? null) === canonical(b ?? null);

export const KEYS = [
  'siteReference',
  'importLimitKw',
  'exportLimitKw',
  'firmness',
  'validFrom',
  'validTo',
  'profile',
  'schemeReference',
] as const;

/** The limit a patch makes of `before`, checked as it will stand; the fields that change, from → to. */
async function patched(tx: Sql, before: ConnectionLimit, patch: ConnectionLimitPatch) {
  const next: ConnectionLimit = { ...before };
  for (const k of KEYS) {
    const v = patch[k];
    if (v === undefined) continue;
    (next as Record<string, unknown>)[k] = v !== null && (k === 'validFrom' || k === 'validTo') ? new Date(v as string).toISOString() : v;
  }
  const errors = limitErrors(next);
  if (errors.length) throw refuse(errors);
  const other = await overlapping(tx, next.mpan, next.validFrom, next.validTo, before.id);
  if (other) throw overlap(other, next.mpan);
  const changes: Record<string, [unknown, unknown]> = Object.fromEntries(
    KEYS.filter((k) => !sameValue(before[k], next[k])).map((k) => [k, [before[k], next[k]]]),
  );
  return { next, changes };
}

/** Update with If-Match; the prior version is kept (record_history). Only the DNO/IDNO that recorded it. */
export async function updateLimit(ctx: Ctx, actor: Principal, id: string, raw: unknown, ifMatch: number): Promise<ConnectionLimit> {
  try {
    return await ctx.db.transaction(async (tx) => (await updateLimitIn(tx, ctx, actor, id, raw, ifMatch)).limit);
  } catch (e) {
    throw raced(e);
  }
}

/**
 * Update in the caller's transaction (the API's and the CIM import's one way in): refusals are
 * Problems thrown before anything is written; a dry run checks and returns what would change.
 */
export async function updateLimitIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  id: string,
  raw: unknown,
  ifMatch: number,
  o: { dryRun?: boolean } = {},
): Promise<{ limit: ConnectionLimit; changes: Record<string, [unknown, unknown]> }> {
  const patch = parse(ConnectionLimitPatch, raw, 'update');
  const now = ctx.clock.now();
  const lock = (t: Sql) => (ULID_RE.test(id) ? selectLimit(t, actor, id, { forUpdate: true, mode: 'write' }) : Promise.resolve(undefined));
  const guard = (before: ConnectionLimit) => {
    if (before.status === 'WITHDRAWN') throw new Problem('CONNECTION-LIMIT-WITHDRAWN', `Connection limit ${id} is withdrawn.`);
  };
  if (o.dryRun) {
    const before = await lock(tx);
    if (!before) throw notFound(id);
    guard(before);
    const { next, changes } = await patched(tx, before, patch);
    return { limit: next, changes };
  }
  let changes: Record<string, [unknown, unknown]> = {};
  const { after } = await changeVersioned<ConnectionLimit, LimitRow>(tx, ctx, actor, now, {
    table: 'connection_limit',
    alias: 'l',
    key: { id },
    label: `Connection limit ${id}`,
    returning: LIMIT_COLS,
    toRecord: toLimit,
    ifMatch,
    lock,
    notFound: () => notFound(id),
    guard,
    history: 'connection_limit',
    set: async (before) => {
      const p = await patched(tx, before, patch);
      changes = p.changes;
      const next = p.next;
      return {
        sql: `site_reference = $1, import_limit_kw = $2, export_limit_kw = $3, firmness = $4, valid_from = $5::timestamptz, valid_to = $6::timestamptz,
          profile = $7::jsonb, scheme_reference = $8`,
        params: [
          next.siteReference,
          next.importLimitKw,
          next.exportLimitKw,
          next.firmness,
          next.validFrom,
          next.validTo,
          next.profile,
          next.schemeReference,
        ],
      };
    },
    audit: (_, after) => [
      {
        action: 'connection-limit.updated',
        recordType: 'connection_limit',
        recordId: id,
        organisationId: after.dnoOrganisationId,
        detail: { version: after.version, changes },
      },
    ],
    events: (_, after) => [event('fmar.connection-limit.updated', after, { changed: Object.keys(changes) })],
  });
  await ctx.hooks.run(connectionLimitChanged, tx, { ctx, now, mpans: [after.mpan] });
  return { limit: after, changes };
}

/** Withdraw (never delete): kept, status WITHDRAWN, readable with its history. */
export async function withdrawLimit(ctx: Ctx, actor: Principal, id: string, ifMatch: number, reason?: string): Promise<ConnectionLimit> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const { after } = await changeVersioned<ConnectionLimit, LimitRow>(tx, ctx, actor, now, {
      table: 'connection_limit',
      alias: 'l',
      key: { id },
      label: `Connection limit ${id}`,
      returning: LIMIT_COLS,
      toRecord: toLimit,
      ifMatch,
      lock: (t) => (ULID_RE.test(id) ? selectLimit(t, actor, id, { forUpdate: true, mode: 'write' }) : Promise.resolve(undefined)),
      notFound: () => notFound(id),
      guard: (before) => {
        if (before.status === 'WITHDRAWN') throw new Problem('CONNECTION-LIMIT-WITHDRAWN', `Connection limit ${id} is already withdrawn.`);
      },
      history: 'connection_limit',
      set: () => ({ sql: `status = 'WITHDRAWN', withdrawn_at = $1::timestamptz`, params: [now.toISOString()] }),
      audit: (_, after) => [
        {
          action: 'connection-limit.withdrawn',
          recordType: 'connection_limit',
          recordId: id,
          organisationId: after.dnoOrganisationId,
          detail: { version: after.version, reason: reason ?? null },
        },
      ],
      events: (_, after) => [event('fmar.connection-limit.withdrawn', after, { reason: reason ?? null })],
    });
    await ctx.hooks.run(connectionLimitChanged, tx, { ctx, now, mpans: [after.mpan] });
    return after;
  });
}
