import { isAssetLimited } from '../access/asset-limit';
import type { Principal } from '../access/principal';
import { recordedBy, seesAll } from '../access/principal';
import { writeAudit, type AuditEntry } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents, type ChangeEvent } from '../events/outbox';
import { Problem, fieldError, type FieldError } from '../http/problem';
import { fieldErrorsFromZod, unstorableTextAt } from '../http/validation';
import { ULID_RE } from '../ids';
import { constraintName, pgErrorCode, type Sql } from '../storage/db';
import { changeAsset, closeFspLink, lockAsset } from './change';
import { priorVersionAsOf, priorVersions } from '../kernel/versioned';
import { assetDeregistering, assetMemberChanged, assetsChanged } from './hooks';
import { parseWithCodes } from '../catalogue/schema';
import { catalogueSnapshot } from '../catalogue/snapshot';
import { UNIQUE_ALIAS_SCHEMES, aliasRegister, aliasScope, allAliases, checkAsset, naturalKeys, normaliseAlias, warning } from './rules';
import { AssetInput, AssetPatch, DESCRIBED_FIELDS, type Asset, type AssetFields, type Warning } from './schema';
import { ASSET_COLS, assetVisibility, selectAsset, toAsset, type AssetRow } from './store';
import { consentAudit, storeAssetConsent, storedConsentMpan, verifyAssetConsent } from './consent';
import type { ConsentEvidence } from '../kernel/consent-port';

export interface RowResult {
  row: number;
  id?: string;
  /** existing: the row is an asset already registered (same natural key or ID, organisation and content); `id` names it. */
  status: 'registered' | 'valid' | 'existing' | 'rejected';
  errors?: FieldError[];
  warnings?: Warning[];
  /** Set when the row is a duplicate of a registered asset. */
  existingAssetId?: string;
  conflict?: FieldError['code'];
}

export interface BatchOutcome {
  ok: boolean;
  dryRun: boolean;
  results: RowResult[];
  assets: Asset[];
}

interface Prepared {
  row: number;
  id: string;
  orgId: string;
  fspId: string;
  fields: AssetFields;
  warnings: Warning[];
  justification?: string;
  knownId?: string;
  /** What verifying the row's consentReference found. */ consent?: ConsentEvidence;
}

export interface BatchOptions {
  dryRun?: boolean;
  source?: string;
  /** false: no data quality evaluation (bench/quality.ts) */
  dataQuality?: boolean;
  /** stop (default): one bad row and nothing is written; skip: the valid rows are written, the bad ones reported. */
  onError?: 'stop' | 'skip';
  /** The file line of each row: results and messages name rows by it (default: the row's index). */
  lines?: number[];
  /** A resumable import (bulk API, CLI): rows already registered count as done (`existing`), not as duplicates. */
  resume?: boolean;
  /** The asset ID each row carries (an export's `id`): a resumed import matches it. */
  knownIds?: (string | undefined)[];
  /** Keys claimed by earlier batches of the same file (key → line), so an in-file duplicate across batches names its row. */
  seen?: Map<string, number>;
  /** Run in the caller's transaction (an accepted submission); the caller rolls it back when the outcome is not ok. */
  tx?: Sql;
}

/** A refused batch (or a dry run) whose consent checks wrote in the transaction: thrown to roll it back, its outcome returned. */
class RolledBack extends Error {
  constructor(readonly outcome: BatchOutcome) {
    super('batch rolled back');
  }
}

const dateOf = (d: Date) => d.toISOString().slice(0, 10);

/** Registering organisation and controlling FSP: the caller's own unless the operator names them. */
function resolveParties(p: Principal, input: AssetInput): { orgId?: string; fspId?: string; error?: FieldError } {
  if (seesAll(p)) {
    if (!input.organisationId) return { error: fieldError('organisationId', 'ASSET-ORGANISATION-REQUIRED') };
    return { orgId: input.organisationId, fspId: input.fspId ?? input.organisationId };
  }
  if (input.organisationId && input.organisationId !== p.organisationId)
    return {
      error: fieldError(
        'organisationId',
        'AUTH-ROLE-FORBIDDEN',
        'An FSP registers assets for itself (delegations come with the identity provider).',
      ),
    };
  if (input.fspId && input.fspId !== p.organisationId)
    return { error: fieldError('fspId', 'AUTH-ROLE-FORBIDDEN', 'An FSP registers assets it controls itself; control moves by switching.') };
  return { orgId: p.organisationId, fspId: p.organisationId };
}

/**
 * UC-02.01: register a batch of assets atomically (a single registration is a batch of one).
 * Every row is checked before anything is written; one bad row and nothing is written (with
 * onError=skip the valid rows are written, in one transaction, and the bad ones reported).
 */
export async function registerAssets(ctx: Ctx, actor: Principal, rows: unknown[], opts: BatchOptions = {}): Promise<BatchOutcome> {
  let attempt: { out: BatchOutcome; claimed: Map<string, number> };
  try {
    attempt = await registerBatch(ctx, actor, rows, opts);
  } catch (e) {
    // A resumed import raced another import of the same rows and lost: once the winner has committed, they are existing rows here.
    if (!(opts.resume && e instanceof Problem && RACE_CODES.includes(e.code))) throw e;
    attempt = await registerBatch(ctx, actor, rows, opts);
  }
  for (const [k, line] of attempt.claimed) opts.seen?.set(k, line);
  if (opts.lines) for (const r of attempt.out.results) r.row = opts.lines[r.row];
  return attempt.out;
}

/** The problems a unique key taken by a concurrent writer becomes (conflictFromConstraint). */
const RACE_CODES: string[] = ['ASSET-DUPLICATE', 'ASSET-FRIENDLY-CODE-TAKEN', 'ASSET-ALIAS-TAKEN'];

async function registerBatch(
  ctx: Ctx,
  actor: Principal,
  rows: unknown[],
  opts: BatchOptions,
): Promise<{ out: BatchOutcome; claimed: Map<string, number> }> {
  const claimed = new Map<string, number>();
  return { out: await checkAndWrite(ctx, actor, rows, opts, claimed), claimed };
}

async function checkAndWrite(
  ctx: Ctx,
  actor: Principal,
  rows: unknown[],
  opts: BatchOptions,
  claimed: Map<string, number>,
): Promise<BatchOutcome> {
  if (isAssetLimited(actor)) throw new Problem('AUTH-DELEGATION-ASSETS-LIMITED');
  const now = ctx.clock.now();
  const today = dateOf(now);
  const results: RowResult[] = [];
  const prepared: Prepared[] = [];

  // One catalogue snapshot for the whole batch (src/catalogue/snapshot.ts), never a query per row.
  const codes = await catalogueSnapshot(ctx.db, ctx.clock);
  rows.forEach((raw, row) => {
    const unstorable = unstorableTextAt(raw);
    if (unstorable !== undefined) {
      results.push({ row, status: 'rejected', errors: [fieldError(unstorable, 'REQUEST-TEXT-INVALID')] });
      return;
    }
    const parsed = parseWithCodes(codes, () => AssetInput.safeParse(raw));
    if (!parsed.success) {
      results.push({ row, status: 'rejected', errors: fieldErrorsFromZod(parsed.error, raw) });
      return;
    }
    const { organisationId: _o, fspId: _f, justification, ...fields } = parsed.data;
    const parties = resolveParties(actor, parsed.data);
    const checked = checkAsset(fields, today, codes);
    const errors = [...(parties.error ? [parties.error] : []), ...checked.errors];
    if (errors.length) {
      results.push({ row, status: 'rejected', errors, warnings: checked.warnings });
      return;
    }
    prepared.push({
      row,
      id: '',
      orgId: parties.orgId!,
      fspId: parties.fspId!,
      fields: checked.asset,
      warnings: checked.warnings,
      justification,
      knownId: opts.knownIds?.[row],
    });
    results.push({ row, status: 'valid' });
  });
  // Fresh random IDs (never the previous + 1), handed out sorted: within a batch, ID order is still row order.
  const ids = prepared.map(() => ctx.ids.nextUnguessable()).sort();
  prepared.forEach((p, i) => {
    p.id = ids[i];
  });

  const lineOf = (row: number) => opts.lines?.[row] ?? row;
  inBatchConflicts(prepared, results, lineOf, opts.seen ?? new Map(), claimed);

  const write = async (tx: Sql): Promise<BatchOutcome> => {
    await storedConflicts(tx, prepared, results, seesAll(actor), !!opts.resume);
    for (const p of prepared) {
      const r = results[p.row];
      if (r.status === 'rejected' || r.status === 'existing') continue;
      const needs = p.warnings.filter((w) => w.needsJustification);
      if (needs.length && !p.justification) {
        r.status = 'rejected';
        r.errors = needs.map((w) =>
          fieldError(w.field, w.code as FieldError['code'], `${w.detail} Resend with a justification to register it anyway.`),
        );
      }
      r.warnings = p.warnings.length ? p.warnings : undefined;
    }
    // onError=stop: one bad row and nothing is written, no consent used.
    if (opts.onError !== 'skip' && results.some((r) => r.status === 'rejected'))
      return { ok: false, dryRun: !!opts.dryRun, results, assets: [] };
    // Consents last: only rows valid in every other way use them up (a consent is single use).
    await verifyConsents(
      tx,
      ctx,
      prepared.filter((p) => results[p.row].status === 'valid'),
      results,
      now,
    );
    const ok = results.every((r) => r.status !== 'rejected');
    const fresh = prepared.filter((p) => results[p.row].status === 'valid');
    // IDs are issued only when rows are written: a dry run or a refused batch names none, and rolls back the consents it claimed.
    if ((!ok && opts.onError !== 'skip') || opts.dryRun || fresh.length === 0)
      throw new RolledBack({ ok, dryRun: !!opts.dryRun, results, assets: [] });
    const assets = await insertAssets(tx, ctx, actor, now, fresh, opts.source ?? 'api');
    // Data quality (src/quality): score, findings and scorecards in the registration's transaction.
    if (opts.dataQuality !== false) await ctx.hooks.run(assetsChanged, tx, { ctx, now, assets, fresh: true });
    for (const p of fresh) Object.assign(results[p.row], { status: 'registered', id: p.id });
    return { ok, dryRun: false, results, assets };
  };

  if (prepared.length === 0) return { ok: false, dryRun: !!opts.dryRun, results, assets: [] };
  try {
    return await (opts.tx ? write(opts.tx) : ctx.db.transaction(write));
  } catch (e) {
    if (e instanceof RolledBack) return e.outcome;
    // A concurrent writer took a unique key between our check and our insert.
    if (pgErrorCode(e) === '23505') {
      const problem = conflictFromConstraint(constraintName(e));
      if (problem.code === 'ASSET-DUPLICATE') {
        const keys = prepared.flatMap((p) => naturalKeys(p.fields));
        const [existing] = await ctx.db.query<{ asset_id: string }>(
          `SELECT asset_id FROM asset_natural_key WHERE natural_key IN (SELECT jsonb_array_elements_text($1::jsonb)) LIMIT 1`,
          [keys],
        );
        if (existing)
          throw new Problem(
            'ASSET-DUPLICATE',
            `This MPAN, category and serial number were registered concurrently as asset ${existing.asset_id}.`,
            { existingAssetId: existing.asset_id },
          );
      }
      throw problem;
    }
    throw e;
  }
}

/** Verify each row's consentReference (one request key per batch: rows behind one meter may share a consent); the row keeps the consent's ID. */
async function verifyConsents(tx: Sql, ctx: Ctx, prepared: Prepared[], results: RowResult[], now: Date) {
  const requestKey = `asset-registration:${ctx.ids.next()}`;
  for (const p of prepared) {
    const consent = p.fields.consentReference;
    if (!consent) continue;
    const { evidence, error } = await verifyAssetConsent(tx, ctx.consent, {
      consent,
      mpans: [p.fields.importMpan, p.fields.exportMpan],
      fspId: p.fspId,
      requestKey,
      at: now,
    });
    if (error) {
      reject(results[p.row], error);
      continue;
    }
    p.consent = evidence;
    p.fields = { ...p.fields, consentReference: evidence!.jti };
  }
}

function conflictFromConstraint(name: string | undefined): Problem {
  switch (name) {
    case 'asset_natural_key_pkey':
      return new Problem(
        'ASSET-DUPLICATE',
        'Another registration of the same MPAN + category + serial committed first; look it up by MPAN.',
      );
    case 'asset_friendly_code_key':
      return new Problem('ASSET-FRIENDLY-CODE-TAKEN');
    case 'asset_alias_unique_national':
    case 'asset_alias_unique_ecr':
    case 'asset_alias_unique_fsp_ref':
      return new Problem('ASSET-ALIAS-TAKEN');
    default:
      return new Problem('ASSET-DUPLICATE', `Conflicting registration (${name ?? 'unique key'}).`);
  }
}

function reject(r: RowResult, e: FieldError, extra: Partial<RowResult> = {}) {
  r.status = 'rejected';
  r.errors = [...(r.errors ?? []), e];
  Object.assign(r, extra);
}

/**
 * Rows of one batch (or file: `seen` holds what earlier batches claimed) that claim the same natural
 * key, friendly code or unique alias. This batch's claims go to `claimed`, kept only if the batch completes.
 */
function inBatchConflicts(
  prepared: Prepared[],
  results: RowResult[],
  lineOf: (row: number) => number,
  seen: Map<string, number>,
  claimed: Map<string, number>,
) {
  for (const p of prepared) {
    const keys = [
      ...naturalKeys(p.fields).map((k) => ['nk:' + k, 'importMpan']),
      ...(p.fields.friendlyCode ? [[`fc:${p.orgId}:${p.fields.friendlyCode}`, 'friendlyCode']] : []),
      ...(p.fields.aliases ?? [])
        .filter((a) => UNIQUE_ALIAS_SCHEMES.includes(a.scheme))
        .map((a) => [`al:${a.scheme}:${aliasScope(a.scheme, p.orgId, p.fields.dno)}:${a.value}`, 'aliases']),
    ];
    for (const [k, field] of keys) {
      const other = claimed.get(k) ?? seen.get(k);
      if (other !== undefined) reject(results[p.row], fieldError(field, 'BULK-DUPLICATE-IN-BATCH', `Same ${field} as row ${other}.`));
      else claimed.set(k, lineOf(p.row));
    }
  }
}

/**
 * Checks against what is stored: parties, duplicates, taken codes and aliases, MPANs of other organisations.
 * Lists are `= ANY($1::text[])`: an index scan per value, or a hashed array in a sequential scan, never
 * the quadratic join the planner chose for `IN (SELECT jsonb_array_elements_text(…))` on a freshly analyzed table.
 */
async function storedConflicts(tx: Sql, prepared: Prepared[], results: RowResult[], namesOthers: boolean, resume: boolean) {
  let live = prepared.filter((p) => results[p.row].status !== 'rejected');
  if (live.length === 0) return;
  const nk = live.flatMap((p) => naturalKeys(p.fields));
  const existingNk = new Map<string, string>(
    nk.length
      ? (
          await tx.query<{ natural_key: string; asset_id: string }>(
            `SELECT natural_key, asset_id FROM asset_natural_key WHERE natural_key = ANY($1::text[])`,
            [nk],
          )
        ).map((r) => [r.natural_key, r.asset_id])
      : [],
  );
  if (resume) await alreadyRegistered(tx, live, results, existingNk);
  live = live.filter((p) => results[p.row].status === 'valid');
  if (live.length === 0) return;
  const orgIds = [...new Set(live.flatMap((p) => [p.orgId, p.fspId]))];
  const orgs = new Map(
    (
      await tx.query<{ id: string; status: string; roles: string[] }>(
        `SELECT id, status, to_jsonb(roles) AS roles FROM organisation WHERE id = ANY($1::text[])`,
        [orgIds],
      )
    ).map((o) => [o.id, o]),
  );
  // Pairs are probed one by one (a nested loop on the unique index, whatever the statistics say):
  // `(a, b) IN (SELECT …)` or two `= ANY` lists let the planner scan every code of the organisation
  // per batch when the table has no statistics yet, quadratic over a bulk load.
  const fc = live.filter((p) => p.fields.friendlyCode);
  const takenFc = new Set(
    fc.length
      ? (
          await tx.query<{ k: string }>(
            `SELECT x.o || ':' || x.c AS k FROM unnest($1::text[], $2::text[]) AS x(o, c)
      WHERE EXISTS (SELECT 1 FROM asset a WHERE a.organisation_id = x.o AND a.friendly_code = x.c AND a.deregistered_at IS NULL)`,
            [fc.map((p) => p.orgId), fc.map((p) => p.fields.friendlyCode!)],
          )
        ).map((r) => r.k)
      : [],
  );
  const ua = live.flatMap((p) =>
    (p.fields.aliases ?? [])
      .filter((a) => UNIQUE_ALIAS_SCHEMES.includes(a.scheme))
      .map((a) => ({ ...a, scope: aliasScope(a.scheme, p.orgId, p.fields.dno) })),
  );
  const takenAlias = new Set(
    ua.length
      ? (
          await tx.query<{ k: string }>(
            `SELECT x.s || ':' || x.scope || ':' || x.v AS k FROM unnest($1::text[], $2::text[], $3::text[]) AS x(s, v, scope)
      WHERE EXISTS (SELECT 1 FROM asset_alias al WHERE al.scheme = x.s AND al.value = x.v AND al.active
        AND (x.s <> 'fsp_ref' OR al.organisation_id = x.scope) AND (x.s <> 'ecr' OR al.register = x.scope))`,
            [ua.map((a) => a.scheme), ua.map((a) => a.value), ua.map((a) => a.scope)],
          )
        ).map((r) => r.k)
      : [],
  );
  const mpans = [...new Set(live.flatMap((p) => [p.fields.importMpan, p.fields.exportMpan].filter(Boolean) as string[]))];
  const mpanOrgs = new Map<string, Set<string>>();
  // The live assets on each MPAN as (organisation, category, serial): stored ones, then this batch's rows as they are checked.
  const onMpan = new Map<string, MpanHolder[]>();
  if (mpans.length) {
    for (const r of await tx.query<{ value: string; organisation_id: string; category: string; serial_number: string | null }>(
      `SELECT al.value, al.organisation_id, a.category, a.serial_number FROM asset_alias al JOIN asset a ON a.id = al.asset_id
        WHERE al.scheme = 'mpan' AND al.active AND al.value = ANY($1::text[])`,
      [mpans],
    )) {
      if (!mpanOrgs.has(r.value)) mpanOrgs.set(r.value, new Set());
      mpanOrgs.get(r.value)!.add(r.organisation_id);
      holdersOf(onMpan, r.value).push({ orgId: r.organisation_id, category: r.category, serial: r.serial_number });
    }
  }
  for (const p of live) {
    const r = results[p.row];
    const org = orgs.get(p.orgId);
    const fsp = orgs.get(p.fspId);
    if (!org) reject(r, fieldError('organisationId', 'ORG-NOT-FOUND', `No organisation ${p.orgId}.`));
    else if (org.status !== 'ACTIVE')
      reject(r, fieldError('organisationId', 'ORG-NOT-ACTIVE', `Organisation ${p.orgId} is ${org.status}.`));
    if (!fsp) reject(r, fieldError('fspId', 'ORG-NOT-FOUND', `No organisation ${p.fspId}.`));
    else if (fsp.status !== 'ACTIVE') reject(r, fieldError('fspId', 'ORG-NOT-ACTIVE', `Organisation ${p.fspId} is ${fsp.status}.`));
    else if (!fsp.roles.some((x) => x === 'FSP' || x === 'AGGREGATOR')) reject(r, fieldError('fspId', 'ORG-NOT-FSP'));
    for (const k of naturalKeys(p.fields)) {
      const existing = existingNk.get(k);
      if (existing)
        reject(r, fieldError('serialNumber', 'ASSET-DUPLICATE', `Already registered as ${existing}.`), {
          existingAssetId: existing,
          conflict: 'ASSET-DUPLICATE',
        });
    }
    if (p.fields.friendlyCode && takenFc.has(`${p.orgId}:${p.fields.friendlyCode}`))
      reject(r, fieldError('friendlyCode', 'ASSET-FRIENDLY-CODE-TAKEN'), { conflict: 'ASSET-FRIENDLY-CODE-TAKEN' });
    for (const a of p.fields.aliases ?? []) {
      if (takenAlias.has(`${a.scheme}:${aliasScope(a.scheme, p.orgId, p.fields.dno)}:${a.value}`))
        reject(
          r,
          fieldError(
            'aliases',
            'ASSET-ALIAS-TAKEN',
            `${a.scheme}:${a.value} already identifies another asset${a.scheme === 'ecr' ? ` in ${p.fields.dno}'s register` : ''}.`,
          ),
          { conflict: 'ASSET-ALIAS-TAKEN' },
        );
    }
    for (const m of [p.fields.importMpan, p.fields.exportMpan]) {
      const others = m ? [...(mpanOrgs.get(m) ?? [])].filter((o) => o !== p.orgId) : [];
      if (others.length)
        p.warnings.push(
          warning(
            'ASSET-MPAN-OTHER-ORGANISATION',
            m === p.fields.importMpan ? 'importMpan' : 'exportMpan',
            `MPAN ${m} is already linked to an asset of ${namesOthers ? `organisation ${others.join(', ')}` : 'another organisation'}.`,
          ),
        );
      if (m && holdersOf(onMpan, m).some((h) => sameAssetUnproven(h, p.orgId, p.fields))) p.warnings.push(sameCategoryWarning(m, p.fields));
    }
    for (const m of new Set([p.fields.importMpan, p.fields.exportMpan]))
      if (m) holdersOf(onMpan, m).push({ orgId: p.orgId, category: p.fields.category, serial: p.fields.serialNumber ?? null });
  }
}

/**
 * A resumed import: a row whose asset is already registered (the asset its `id` names, or the one
 * holding its natural key) under the same organisation with the same described fields is done:
 * status `existing` with that asset's ID. The same ID or natural key with other content is
 * ASSET-DUPLICATE. One query for the whole batch, and only when some row has a candidate.
 */
async function alreadyRegistered(tx: Sql, live: Prepared[], results: RowResult[], existingNk: Map<string, string>) {
  const candidates = new Set<string>();
  for (const p of live) {
    if (p.knownId && ULID_RE.test(p.knownId)) candidates.add(p.knownId);
    for (const k of naturalKeys(p.fields)) if (existingNk.has(k)) candidates.add(existingNk.get(k)!);
  }
  if (candidates.size === 0) return;
  const stored = new Map(
    (
      await tx.query<AssetRow>(`SELECT ${ASSET_COLS} FROM asset a WHERE a.id = ANY($1::text[]) AND a.deregistered_at IS NULL`, [
        [...candidates],
      ])
    ).map((r) => [r.id, toAsset(r)]),
  );
  for (const p of live) {
    // The row's own ID only counts within its organisation: another organisation's ID is not revealed, just ignored.
    const named = p.knownId ? stored.get(p.knownId) : undefined;
    const byId = named && named.organisationId === p.orgId ? named : undefined;
    const byKey = naturalKeys(p.fields)
      .map((k) => stored.get(existingNk.get(k) ?? ''))
      .find((a) => a !== undefined);
    const match = byId ?? byKey;
    if (match && match.organisationId === p.orgId && sameContent(match, p.fields)) {
      Object.assign(results[p.row], { status: 'existing', id: match.id });
    } else if (byId && !byKey) {
      reject(
        results[p.row],
        fieldError(
          'id',
          'ASSET-DUPLICATE',
          `Asset ${byId.id} is registered with other content; change it with PATCH /api/v1/assets/${byId.id}, or drop the row's id to register a new asset.`,
        ),
        { existingAssetId: byId.id, conflict: 'ASSET-DUPLICATE' },
      );
    }
  }
}

/** The described fields, key order and alias order aside, as one comparable string. */
function contentOf(a: Partial<Record<string, unknown>>): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v)
          .filter(([, x]) => x !== null && x !== undefined)
          .sort(([x], [y]) => (x < y ? -1 : 1))
          .map(([k, x]) => [k, canon(x)]),
      );
    return v;
  };
  const aliases = [...((a.aliases as { scheme: string; value: string }[] | undefined) ?? [])].sort((x, y) =>
    x.scheme + ':' + x.value < y.scheme + ':' + y.value ? -1 : 1,
  );
  return JSON.stringify(
    DESCRIBED_FIELDS.map((k) => {
      const v = k === 'aliases' ? aliases : canon(a[k]);
      return v === undefined || (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) ? null : v;
    }),
  );
}

const sameContent = (stored: Asset, fields: AssetFields) => contentOf(stored) === contentOf(fields as Record<string, unknown>);

interface MpanHolder {
  orgId: string;
  category: string;
  serial: string | null;
}
function holdersOf(m: Map<string, MpanHolder[]>, mpan: string): MpanHolder[] {
  let l = m.get(mpan);
  if (!l) m.set(mpan, (l = []));
  return l;
}

/**
 * A live asset that may be this very one: same organisation, same category, same MPAN, and no pair
 * of serials that proves two devices (equal serials are a true duplicate, refused before this).
 */
function sameAssetUnproven(h: MpanHolder, orgId: string, f: AssetFields): boolean {
  return h.orgId === orgId && h.category === f.category && (!h.serial || !f.serialNumber);
}

function sameCategoryWarning(mpan: string, f: AssetFields): Warning {
  return warning(
    'ASSET-MPAN-SAME-CATEGORY',
    mpan === f.importMpan ? 'importMpan' : 'exportMpan',
    `Your organisation already has a live ${f.category} asset on MPAN ${mpan}, and without both serial numbers the two cannot be told apart (its capacity would count twice).`,
  );
}

function assetRow(
  p: { id: string; orgId: string; fspId: string; fields: AssetFields },
  status: Asset['status'],
  version: number,
  at: string,
  by: string,
) {
  const f = p.fields;
  return {
    id: p.id,
    organisation_id: p.orgId,
    fsp_id: p.fspId,
    friendly_code: f.friendlyCode ?? null,
    name: f.name,
    category: f.category,
    status,
    rated_capacity_kw: f.ratedCapacityKw,
    generation_capacity_kw: f.generationCapacityKw ?? null,
    demand_capacity_kw: f.demandCapacityKw ?? null,
    energy_source: f.energySource ?? null,
    demand_technology: f.demandTechnology ?? null,
    energy_conversion_type: f.energyConversionType ?? null,
    manufacturer: f.manufacturer ?? null,
    model: f.model ?? null,
    serial_number: f.serialNumber ?? null,
    commissioning_date: f.commissioningDate ?? null,
    effective_date: f.effectiveDate ?? null,
    connection_status: f.connectionStatus,
    connection_type: f.connectionType ?? null,
    dno: f.dno ?? null,
    import_mpan: f.importMpan ?? null,
    export_mpan: f.exportMpan ?? null,
    location: f.location ?? null,
    consent_reference: f.consentReference ?? null,
    version,
    recorded_at: at,
    recorded_by: by,
  };
}

const RECORDSET = `x(id text, organisation_id text, fsp_id text, friendly_code text, name text, category text, status text, rated_capacity_kw numeric,
  generation_capacity_kw numeric, demand_capacity_kw numeric, energy_source text, demand_technology text, energy_conversion_type text, manufacturer text, model text, serial_number text,
  commissioning_date date, effective_date date, connection_status text, connection_type text, dno text, import_mpan text, export_mpan text, location jsonb,
  consent_reference text, version int, recorded_at timestamptz, recorded_by text)`;
const INSERT_COLS = `id, organisation_id, fsp_id, friendly_code, name, category, status, rated_capacity_kw, generation_capacity_kw, demand_capacity_kw, energy_source,
  demand_technology, energy_conversion_type, manufacturer, model, serial_number, commissioning_date, effective_date, connection_status, connection_type, dno, import_mpan, export_mpan,
  location, consent_reference, version, recorded_at, recorded_by`;

async function insertAliases(
  tx: Sql,
  items: { asset_id: string; organisation_id: string; scheme: string; value: string; register: string | null }[],
) {
  if (!items.length) return;
  await tx.query(
    `INSERT INTO asset_alias (scheme, value, asset_id, organisation_id, register) SELECT x.scheme, x.value, x.asset_id, x.organisation_id, x.register
    FROM json_to_recordset($1::json) AS x(scheme text, value text, asset_id text, organisation_id text, register text) ON CONFLICT (scheme, value, asset_id) DO NOTHING`,
    [items],
  );
}

async function insertNaturalKeys(tx: Sql, items: { natural_key: string; asset_id: string }[]) {
  if (!items.length) return;
  await tx.query(
    `INSERT INTO asset_natural_key (natural_key, asset_id) SELECT x.natural_key, x.asset_id FROM json_to_recordset($1::json) AS x(natural_key text, asset_id text)`,
    [items],
  );
}

async function insertAssets(tx: Sql, ctx: Ctx, actor: Principal, now: Date, prepared: Prepared[], source: string): Promise<Asset[]> {
  const at = now.toISOString();
  const by = recordedBy(actor);
  const rows = prepared.map((p) => assetRow(p, 'PENDING_VALIDATION', 1, at, by));
  // json, not jsonb: the batch is read once, and parsing it as json costs about half of building jsonb (bench/bulk.ts).
  // The open FSP link is the asset row's own (fsp_since…): no asset_fsp_link row until it closes (migration 018).
  await tx.query(
    `INSERT INTO asset (${INSERT_COLS}, fsp_since, fsp_since_recorded_at, fsp_since_recorded_by)
    SELECT ${INSERT_COLS.replace(/(\w+)/g, 'x.$1')}, x.recorded_at, x.recorded_at, x.recorded_by FROM json_to_recordset($1::json) AS ${RECORDSET}`,
    [rows],
  );
  await insertAliases(
    tx,
    prepared.flatMap((p) =>
      allAliases(p.fields).map((a) => ({
        ...a,
        asset_id: p.id,
        organisation_id: p.orgId,
        register: aliasRegister(a.scheme, p.fields.dno),
      })),
    ),
  );
  await insertNaturalKeys(
    tx,
    prepared.flatMap((p) => naturalKeys(p.fields).map((k) => ({ natural_key: k, asset_id: p.id }))),
  );
  const audit: AuditEntry[] = prepared.map((p) => ({
    action: 'asset.registered',
    recordType: 'asset',
    recordId: p.id,
    organisationId: p.orgId,
    detail: {
      version: 1,
      fspId: p.fspId,
      source,
      ...(p.consent ? { consent: consentAudit(p.consent) } : {}),
      ...(p.justification
        ? { justification: p.justification, overridden: p.warnings.filter((w) => w.needsJustification).map((w) => w.code) }
        : {}),
    },
  }));
  await writeAudit(tx, actor, now, audit);
  await storeAssetConsent(
    tx,
    prepared.filter((p) => p.consent).map((p) => ({ assetId: p.id, fspId: p.fspId, evidence: p.consent! })),
    at,
    by,
  );
  const events: ChangeEvent[] = prepared.map((p) => ({
    type: 'fmar.asset.registered',
    subject: p.id,
    organisationId: p.fspId,
    data: { assetId: p.id, organisationId: p.orgId, fspId: p.fspId, category: p.fields.category, dno: p.fields.dno ?? null, version: 1 },
  }));
  await writeEvents(tx, ctx.ids, now, events);
  return rows.map((r, i) => toAsset({ ...r, deregistered_at: null, aliases: prepared[i].fields.aliases ?? [] }));
}

/** Register one asset: the batch path with one row, its outcome turned into the right problem. */
export async function registerAsset(
  ctx: Ctx,
  actor: Principal,
  raw: unknown,
  opts: Pick<BatchOptions, 'tx' | 'source'> = {},
): Promise<{ asset: Asset; warnings: Warning[] }> {
  const out = await registerAssets(ctx, actor, [raw], opts);
  const r = out.results[0];
  if (r.status === 'rejected') {
    if (r.existingAssetId)
      throw new Problem('ASSET-DUPLICATE', `This MPAN, category and serial number are already registered as asset ${r.existingAssetId}.`, {
        existingAssetId: r.existingAssetId,
      });
    if (r.conflict) throw new Problem(r.conflict, undefined, {}, r.errors);
    // A refused consent is the problem itself (its own status: 422, 409 when revoked or used, …), not a generic validation failure.
    const consent = r.errors?.find((e) => e.field === 'consentReference' && e.code.startsWith('CONSENT-'));
    if (consent && r.errors!.length === 1) throw new Problem(consent.code, consent.detail, {}, r.errors);
    const needs =
      r.errors?.filter(
        (e) => e.code === 'ASSET-CAPACITY-HIGH' || e.code === 'ASSET-MPAN-OTHER-ORGANISATION' || e.code === 'ASSET-MPAN-SAME-CATEGORY',
      ) ?? [];
    if (needs.length && needs.length === r.errors!.length)
      throw new Problem(needs[0].code, needs.map((e) => e.detail).join(' '), { warnings: r.warnings }, r.errors);
    throw new Problem(
      'REQUEST-VALIDATION',
      `${r.errors?.length ?? 0} field(s) invalid`,
      r.warnings?.length ? { warnings: r.warnings } : {},
      r.errors,
    );
  }
  return { asset: out.assets[0], warnings: r.warnings ?? [] };
}

export function assertAssetId(id: string) {
  if (!ULID_RE.test(id)) throw new Problem('ASSET-ID-FORMAT', `"${id}" is not an asset ID.`);
}

export async function getAsset(ctx: Ctx, p: Principal, id: string, asOf?: Date): Promise<Asset> {
  assertAssetId(id);
  const row = await selectAsset(ctx.db, p, id);
  if (!row) throw new Problem('ASSET-NOT-FOUND', `No asset ${id}.`);
  const current = toAsset(row);
  if (!asOf || new Date(current.recordedAt) <= asOf) return current;
  const prior = await priorVersionAsOf<Asset>(ctx.db, 'asset', id, asOf);
  if (!prior) throw new Problem('ASSET-AS-OF-BEFORE-REGISTRATION', `Asset ${id} was registered after ${asOf.toISOString()}.`);
  return prior;
}

/** Every version, newest first: the current record then the kept prior versions. */
export async function assetHistory(ctx: Ctx, p: Principal, id: string): Promise<Asset[]> {
  const current = await getAsset(ctx, p, id);
  return [current, ...(await priorVersions<Asset>(ctx.db, 'asset', id))];
}

export interface AssetFilter {
  organisationId?: string;
  fspId?: string;
  dno?: string;
  category?: string;
  status?: string;
  gspGroup?: string;
  identifier?: { scheme: string; value: string };
  includeDeregistered?: boolean;
}

/** Build the WHERE clause of a filtered, visible asset query (params appended). */
export function assetWhere(p: Principal, f: AssetFilter, params: unknown[]): string {
  const conds = [assetVisibility(p, params)];
  const eq = (col: string, v: string | undefined) => {
    if (v !== undefined) {
      params.push(v);
      conds.push(`a.${col} = $${params.length}`);
    }
  };
  eq('organisation_id', f.organisationId);
  eq('fsp_id', f.fspId);
  eq('dno', f.dno);
  eq('category', f.category);
  eq('status', f.status);
  if (f.gspGroup !== undefined) {
    params.push(f.gspGroup);
    conds.push(`a.location->>'gspGroup' = $${params.length}`);
  }
  if (f.identifier) {
    params.push(f.identifier.scheme, f.identifier.value);
    conds.push(`a.id IN (SELECT asset_id FROM asset_alias WHERE scheme = $${params.length - 1} AND value = $${params.length})`);
  } else if (!f.includeDeregistered && f.status === undefined) {
    conds.push(`a.deregistered_at IS NULL`);
  }
  return conds.join(' AND ');
}

/** Parse `scheme:value` into a normalised alias lookup. */
export function parseIdentifier(s: string): { scheme: string; value: string } {
  const i = s.indexOf(':');
  const scheme = i > 0 ? s.slice(0, i).toLowerCase() : '';
  const value = i > 0 ? normaliseAlias(scheme, s.slice(i + 1)) : undefined;
  if (!value)
    throw new Problem(
      'ASSET-IDENTIFIER-QUERY',
      `"${s}" is not scheme:value with a valid value (e.g. mpan:1312345678907, evse:GB*ABC*E12345*1).`,
    );
  return { scheme, value };
}

/** Keyset page of visible assets, ordered by ID. */
export async function listAssets(ctx: Ctx, p: Principal, f: AssetFilter, page: { limit: number; after?: string }) {
  const params: unknown[] = [];
  let where = assetWhere(p, f, params);
  if (page.after) {
    params.push(page.after);
    where += ` AND a.id > $${params.length}`;
  }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<AssetRow>(
    `SELECT ${ASSET_COLS} FROM asset a WHERE ${where} ORDER BY a.id LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, page.limit).map(toAsset);
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

/**
 * How many visible assets match a filter, and their rated capacity, by status and category (the
 * console's dashboard): counts only, no asset's own data.
 */
export async function assetSummary(ctx: Ctx, p: Principal, f: AssetFilter) {
  const params: unknown[] = [];
  const rows = await ctx.db.query<{ status: Asset['status']; category: string; assets: number; rated_capacity_kw: number }>(
    `SELECT a.status, a.category, count(*)::int AS assets, coalesce(sum(a.rated_capacity_kw), 0)::float8 AS rated_capacity_kw
       FROM asset a WHERE ${assetWhere(p, f, params)} GROUP BY a.status, a.category ORDER BY a.status, a.category`,
    params,
  );
  return rows.map((r) => ({ status: r.status, category: r.category, assets: r.assets, ratedCapacityKw: Number(r.rated_capacity_kw) }));
}

/** Visible assets matching a filter, page by page in ID order (keyset, never OFFSET): memory stays flat. */
export async function* assetPages(ctx: Ctx, p: Principal, f: AssetFilter, pageSize: number): AsyncGenerator<Asset[]> {
  let after = '';
  for (;;) {
    const params: unknown[] = [];
    const where = assetWhere(p, f, params);
    params.push(after, pageSize);
    const rows = await ctx.db.query<AssetRow>(
      `SELECT ${ASSET_COLS} FROM asset a WHERE ${where} AND a.id > $${params.length - 1} ORDER BY a.id LIMIT $${params.length}`,
      params,
    );
    if (rows.length) yield rows.map(toAsset);
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1].id;
  }
}

const MATERIAL = [
  'ratedCapacityKw',
  'generationCapacityKw',
  'demandCapacityKw',
  'category',
  'importMpan',
  'exportMpan',
  'dno',
  'connectionType',
];

/** A change of these in a member is material to a qualified market unit (capacity, category, connection): it needs re-assessment. */
const MEMBER_MATERIAL = [...MATERIAL, 'connectionStatus'];

/** What the authenticity checks (src/quality/registries.ts) read: a change to any of them makes a Verified or Query asset Pending Validation again. */
const AUTHENTICITY: (keyof AssetFields)[] = ['importMpan', 'exportMpan', 'serialNumber', 'dno', 'category', 'ratedCapacityKw'];
const mcsCertificates = (a: Pick<AssetFields, 'aliases'>) =>
  JSON.stringify(
    (a.aliases ?? [])
      .filter((x) => x.scheme === 'mcs')
      .map((x) => x.value)
      .sort(),
  );

/** The status after an update: a Verified or Query asset whose checked fields changed is validated again (UC-02.03). */
export function statusAfterUpdate(before: Asset, after: AssetFields): Asset['status'] {
  if (before.status !== 'VERIFIED' && before.status !== 'QUERY') return before.status;
  const changed =
    AUTHENTICITY.some((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null)) ||
    mcsCertificates(before) !== mcsCertificates(after);
  return changed ? 'PENDING_VALIDATION' : before.status;
}

/**
 * A consent in an update: a new consentReference is verified as at registration (bound to the
 * asset's MPAN and its FSP); null forgets the stored one; an MPAN change leaving the stored consent
 * bound to an MPAN the asset no longer has needs a new consent in the same change.
 */
async function consentInUpdate(
  tx: Sql,
  ctx: Ctx,
  before: Asset,
  patch: AssetPatch,
  after: AssetFields,
  now: Date,
): Promise<ConsentEvidence | undefined> {
  const given = patch.consentReference;
  if (given && given !== before.consentReference) {
    const { evidence, error } = await verifyAssetConsent(tx, ctx.consent, {
      consent: given,
      mpans: [after.importMpan, after.exportMpan],
      fspId: before.fspId,
      requestKey: `asset-update:${before.id}:${ctx.ids.next()}`,
      at: now,
    });
    if (error) throw new Problem(error.code, error.detail, {}, [error]);
    return evidence;
  }
  if (given === null) {
    await tx.query(`DELETE FROM asset_consent WHERE asset_id = $1`, [before.id]);
    return undefined;
  }
  const bound = await storedConsentMpan(tx, before.id);
  if (bound && bound !== after.importMpan && bound !== after.exportMpan) {
    const detail = `The asset's consent is bound to MPAN ${bound}, which it no longer has; send a consentReference for the new MPAN in the same change (or consentReference: null to record the asset without one).`;
    throw new Problem('CONSENT-MPAN-MISMATCH', detail, {}, [fieldError('consentReference', 'CONSENT-MPAN-MISMATCH', detail)]);
  }
  return undefined;
}

/**
 * UC-02.03 inside the caller's transaction: a dispute's correction (src/disputes) runs the same
 * update with its resolution, so a refused correction leaves both unchanged; the audit record names
 * the dispute.
 */
export function updateAssetIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  id: string,
  raw: unknown,
  ifMatch: number,
  opts: { disputeId?: string } = {},
) {
  return updateAsset(ctx, actor, id, raw, ifMatch, { ...opts, tx });
}

/** UC-02.03: update with If-Match; re-validates the whole record; keeps the prior version. */
export async function updateAsset(
  ctx: Ctx,
  actor: Principal,
  id: string,
  raw: unknown,
  ifMatch: number,
  opts: {
    tx?: Sql;
    disputeId?: string;
    /**
     * A CIM enrich of these files (src/cim) makes the change: it has checked that the importer may
     * enrich the asset (a DNO's network), so the asset is locked without the write reach; the
     * audit record names the files.
     */
    cimImport?: { files: string[] };
  } = {},
): Promise<{ asset: Asset; warnings: Warning[] }> {
  assertAssetId(id);
  // Code fields check against this database's catalogues in the parse (a dispute's correction comes here unparsed).
  const parsed = parseWithCodes(await catalogueSnapshot(ctx.db, ctx.clock, opts.tx), () => AssetPatch.safeParse(raw));
  if (!parsed.success) throw new Problem('REQUEST-VALIDATION', 'The update is invalid.', {}, fieldErrorsFromZod(parsed.error, raw));
  const { justification, ...patch } = parsed.data;
  const now = ctx.clock.now();
  const at = now.toISOString();
  const inTransaction = <T>(f: (tx: Sql) => Promise<T>) => (opts.tx ? f(opts.tx) : ctx.db.transaction(f));
  try {
    return await inTransaction(async (tx) => {
      let warnings: Warning[] = [];
      let needs: Warning[] = [];
      let consent: ConsentEvidence | undefined;
      let status: Asset['status'] | undefined;
      let changed: (typeof DESCRIBED_FIELDS)[number][] = [];
      const { after } = await changeAsset(tx, ctx, actor, now, {
        id,
        ifMatch,
        lock: async (t) => {
          if (opts.cimImport) return lockAsset(t, id);
          const row = await selectAsset(t, actor, id, { forUpdate: true, mode: 'write' });
          return row ? toAsset(row) : undefined;
        },
        guard: (b) => {
          if (b.deregisteredAt) throw new Problem('ASSET-DEREGISTERED');
        },
        set: async (before) => {
          const merged: Record<string, unknown> = {};
          for (const k of DESCRIBED_FIELDS) {
            const v = k in patch ? patch[k] : before[k];
            if (v !== null && v !== undefined) merged[k] = v;
          }
          if (!('energySource' in patch) && patch.category && patch.category !== before.category) delete merged.energySource;
          if (!('demandTechnology' in patch) && patch.category && patch.category !== before.category) delete merged.demandTechnology;
          const checked = checkAsset(merged as AssetFields, dateOf(now), await catalogueSnapshot(ctx.db, ctx.clock, tx), before);
          if (checked.errors.length) throw new Problem('REQUEST-VALIDATION', 'The updated asset breaks a rule.', {}, checked.errors);
          warnings = checked.warnings.filter(
            (w) =>
              w.code === 'ASSET-DNO-MISMATCH' ||
              (w.code === 'ASSET-CAPACITY-HIGH' && before.ratedCapacityKw !== checked.asset.ratedCapacityKw),
          );
          for (const m of [checked.asset.importMpan, checked.asset.exportMpan]) {
            if (!m || m === before.importMpan || m === before.exportMpan) continue;
            const others = await tx.query(
              `SELECT DISTINCT organisation_id FROM asset_alias WHERE scheme = 'mpan' AND active AND value = $1 AND organisation_id <> $2`,
              [m, before.organisationId],
            );
            if (others.length)
              warnings.push(
                warning(
                  'ASSET-MPAN-OTHER-ORGANISATION',
                  m === checked.asset.importMpan ? 'importMpan' : 'exportMpan',
                  `MPAN ${m} is already linked to an asset of ${seesAll(actor) ? `organisation ${others.map((o) => o.organisation_id).join(', ')}` : 'another organisation'}.`,
                ),
              );
          }
          warnings.push(...(await sameCategoryOnUpdate(tx, before, checked.asset)));
          needs = warnings.filter((w) => w.needsJustification);
          if (needs.length && !justification)
            throw new Problem(
              needs[0].code as FieldError['code'],
              needs.map((w) => w.detail).join(' '),
              { warnings },
              needs.map((w) => fieldError(w.field, w.code as FieldError['code'], w.detail)),
            );
          const nk = naturalKeys(checked.asset);
          if (nk.length) {
            const [dup] = await tx.query(
              `SELECT asset_id FROM asset_natural_key WHERE natural_key IN (SELECT jsonb_array_elements_text($1::jsonb)) AND asset_id <> $2`,
              [nk, id],
            );
            if (dup)
              throw new Problem(
                'ASSET-DUPLICATE',
                `This MPAN, category and serial number are already registered as asset ${dup.asset_id}.`,
                { existingAssetId: dup.asset_id },
              );
          }
          consent = await consentInUpdate(tx, ctx, before, patch, checked.asset, now);
          if (consent) checked.asset = { ...checked.asset, consentReference: consent.jti };
          status = statusAfterUpdate(before, checked.asset);
          // The asset's own dependent rows (aliases, natural keys, consent) change with it; the new version's read shows them.
          await tx.query(`DELETE FROM asset_alias WHERE asset_id = $1`, [id]);
          await insertAliases(
            tx,
            allAliases(checked.asset).map((a) => ({
              ...a,
              asset_id: id,
              organisation_id: before.organisationId,
              register: aliasRegister(a.scheme, checked.asset.dno),
            })),
          );
          await tx.query(`DELETE FROM asset_natural_key WHERE asset_id = $1`, [id]);
          await insertNaturalKeys(
            tx,
            nk.map((k) => ({ natural_key: k, asset_id: id })),
          );
          if (consent) await storeAssetConsent(tx, [{ assetId: id, fspId: before.fspId, evidence: consent }], at, recordedBy(actor));
          // Every described column from one recordset row; the kernel sets the version, recorded_at and recorded_by.
          const stored = assetRow(
            { id, orgId: before.organisationId, fspId: before.fspId, fields: checked.asset },
            status,
            before.version,
            at,
            recordedBy(actor),
          );
          const sets = Object.keys(stored)
            .filter((k) => !['id', 'version', 'recorded_at', 'recorded_by'].includes(k))
            .map((k) => `${k} = x.${k}`)
            .join(', ');
          return { sql: sets, params: [[stored]], from: `jsonb_to_recordset($1::jsonb) AS ${RECORDSET}` };
        },
        audit: (before, after) => {
          changed = DESCRIBED_FIELDS.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
          return [
            {
              action: 'asset.updated',
              recordType: 'asset',
              recordId: id,
              organisationId: before.organisationId,
              detail: {
                version: after.version,
                changes: Object.fromEntries(
                  [...changed, ...(status !== before.status ? ['status' as const] : [])].map((k) => [k, [before[k], after[k]]]),
                ),
                ...(consent ? { consent: consentAudit(consent) } : {}),
                ...(justification && needs.length ? { justification, overridden: needs.map((w) => w.code) } : {}),
                ...(opts.disputeId ? { disputeId: opts.disputeId } : {}),
                ...(opts.cimImport ? { source: 'cim-import', files: opts.cimImport.files } : {}),
              },
            },
          ];
        },
        events: (before, after) => [
          {
            type: 'fmar.asset.updated',
            subject: id,
            organisationId: before.fspId,
            data: { assetId: id, version: after.version, changed, materialChange: changed.some((k) => MATERIAL.includes(k)) },
          },
          // Data consumers learn the asset is no longer Verified (or Query) until the checks run again.
          ...(status !== before.status
            ? [
                {
                  type: 'fmar.asset.status-changed',
                  subject: id,
                  organisationId: before.fspId,
                  data: {
                    assetId: id,
                    version: after.version,
                    fromStatus: before.status,
                    status,
                    changed: ['status'],
                    reason: 'authenticity-relevant change',
                  },
                },
              ]
            : []),
        ],
      });
      await ctx.hooks.run(assetsChanged, tx, { ctx, now, assets: [after] });
      const memberChanges = changed.filter((k) => MEMBER_MATERIAL.includes(k));
      if (memberChanges.length)
        await ctx.hooks.run(assetMemberChanged, tx, { ctx, actor, assetId: id, version: after.version, changed: memberChanges, now });
      return { asset: after, warnings };
    });
  } catch (e) {
    if (pgErrorCode(e) === '23505') throw conflictFromConstraint(constraintName(e));
    throw e;
  }
}

/**
 * An update that moves the asset onto an MPAN, into a category or out of its serial number so that
 * it may be another live asset of its organisation (sameAssetUnproven) is warned as a registration is;
 * an update that changes none of the three is not warned again.
 */
async function sameCategoryOnUpdate(tx: Sql, before: Asset, after: AssetFields): Promise<Warning[]> {
  const moved = after.category !== before.category || (after.serialNumber ?? null) !== (before.serialNumber ?? null);
  const out: Warning[] = [];
  for (const m of new Set([after.importMpan, after.exportMpan])) {
    if (!m || (!moved && (m === before.importMpan || m === before.exportMpan))) continue;
    const [hit] = await tx.query(
      `SELECT 1 FROM asset_alias al JOIN asset a ON a.id = al.asset_id
      WHERE al.scheme = 'mpan' AND al.active AND al.value = $1 AND al.organisation_id = $2 AND a.category = $3 AND a.id <> $4
        AND ($5::text IS NULL OR a.serial_number IS NULL) LIMIT 1`,
      [m, before.organisationId, after.category, before.id, after.serialNumber ?? null],
    );
    if (hit) out.push(sameCategoryWarning(m, after));
  }
  return out;
}

/** UC-02.02: soft delete. The ID is archived, never reused, and still resolves. */
export async function deregisterAsset(ctx: Ctx, actor: Principal, id: string, opts: { ifMatch?: number; reason?: string }): Promise<Asset> {
  assertAssetId(id);
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.db.transaction(async (tx) => {
    const { after } = await changeAsset(tx, ctx, actor, now, {
      id,
      ifMatch: opts.ifMatch,
      lock: async (t) => {
        const row = await selectAsset(t, actor, id, { forUpdate: true, mode: 'write' });
        return row ? toAsset(row) : undefined;
      },
      guard: (b) => {
        if (b.deregisteredAt) throw new Problem('ASSET-DEREGISTERED');
      },
      set: async () => {
        await ctx.hooks.run(assetDeregistering, tx, { assetId: id });
        await closeFspLink(tx, id, at);
        await tx.query(`UPDATE asset_alias SET active = false WHERE asset_id = $1`, [id]);
        await tx.query(`DELETE FROM asset_natural_key WHERE asset_id = $1`, [id]);
        return {
          sql: `status = 'DEREGISTERED', deregistered_at = $1::timestamptz, fsp_since = NULL, fsp_since_recorded_at = NULL, fsp_since_recorded_by = NULL`,
          params: [at],
        };
      },
      audit: (before, after) => [
        {
          action: 'asset.deregistered',
          recordType: 'asset',
          recordId: id,
          organisationId: before.organisationId,
          detail: { version: after.version, reason: opts.reason ?? null },
        },
      ],
      events: (before, after) => [
        { type: 'fmar.asset.deregistered', subject: id, organisationId: before.fspId, data: { assetId: id, version: after.version } },
      ],
    });
    await ctx.hooks.run(assetsChanged, tx, { ctx, now, assets: [after] });
    return after;
  });
}

/** The FSP links of an asset over time (who controlled it when): the closed periods, then the open one on the asset row; with the asset read. */
export async function assetFspLinks(ctx: Ctx, p: Principal, id: string) {
  const asset = await getAsset(ctx, p, id);
  const rows = await ctx.db.query<{ fsp_id: string; valid_from: Date; valid_to: Date | null; recorded_at: Date; recorded_by: string }>(
    `SELECT fsp_id, lower(valid) AS valid_from, upper(valid) AS valid_to, recorded_at, recorded_by FROM asset_fsp_link WHERE asset_id = $1
    UNION ALL SELECT fsp_id, fsp_since, NULL, fsp_since_recorded_at, fsp_since_recorded_by FROM asset WHERE id = $1 AND fsp_since IS NOT NULL
    ORDER BY 2`,
    [id],
  );
  const links = rows.map((r) => ({
    fspId: r.fsp_id,
    validFrom: new Date(r.valid_from).toISOString(),
    validTo: r.valid_to ? new Date(r.valid_to).toISOString() : null,
    recordedAt: new Date(r.recorded_at).toISOString(),
    recordedBy: r.recorded_by,
  }));
  return { asset, links };
}
