import type { CimIssue, ExtractedAsset, ExtractedLimit, SourceLocation } from '../../cim/index';
import { checkPermission } from '../access/auth';
import type { Principal } from '../access/principal';
import { KEYS, recordLimitIn, sameValue, updateLimitIn } from '../connection-limits/service';
import { ConnectionLimitInput } from '../connection-limits/schema';
import { ownLimitFrom } from '../connection-limits/store';
import type { Ctx } from '../context';
import { Problem } from '../http/problem';
import type { RuleCode } from '../rules';
import type { Sql } from '../storage/db';

/**
 * A DNO sets connection limits by CIM import (docs/connection-limits.md): the limits an enrich reads
 * on the file's equipment (cim/limits.ts) are recorded, or update the DNO's own limit at the same
 * MPAN from the same instant, through the connection limits' own service (its rules, its network
 * check, history, audit, events). Each limit that fails is reported with its rule code and the
 * others are written, as an enrich reports each equipment it cannot match.
 */

export interface LimitImportItem {
  /** The OperationalLimitSet's mRID (the first, when several sets of the file carry the same limit). */
  mrid: string;
  at: SourceLocation;
  mpan?: string;
  validFrom?: string;
  outcome: 'recorded' | 'would-record' | 'updated' | 'would-update' | 'unchanged' | 'rejected';
  connectionLimitId?: string;
  /** Updated: each changed field, from → to. */
  changes?: Record<string, { from: unknown; to: unknown }>;
  /** Rejected: the rule and why. */
  code?: RuleCode;
  detail?: string;
}

export interface LimitsReport {
  /** Distinct limits the file carries (the same limit on several assets' equipment counts once). */
  read: number;
  recorded: number;
  updated: number;
  unchanged: number;
  rejected: number;
  wouldRecord: number;
  wouldUpdate: number;
  items: LimitImportItem[];
}

/** An instant in the register's form, or the text as written (the rules then refuse it). */
const instant = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : v);

/** The limits of the file, one per connection point and start; two different ones for the same pair are a conflict. */
function distinct(extracted: ExtractedAsset[], now: string) {
  const byKey = new Map<string, { limit: ExtractedLimit; conflict?: ExtractedLimit }>();
  const unreadable: ExtractedLimit[] = [];
  for (const l of extracted.flatMap((e) => e.limits ?? [])) {
    if (!l.input) {
      if (!unreadable.some((u) => u.mrid === l.mrid)) unreadable.push(l);
      continue;
    }
    const key = `${String(l.input.mpan)}|${String(instant(l.input.validFrom ?? now))}`;
    const have = byKey.get(key);
    if (!have) byKey.set(key, { limit: l });
    else if (!have.conflict && !sameValue(have.limit.input, l.input)) have.conflict = l;
  }
  return { limits: [...byKey.values()], unreadable };
}

export async function importLimits(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  extracted: ExtractedAsset[],
  issues: (Omit<CimIssue, 'code'> & { code: RuleCode })[],
  dryRun: boolean,
): Promise<LimitsReport | undefined> {
  const now = ctx.clock.now().toISOString();
  const { limits, unreadable } = distinct(extracted, now);
  if (!limits.length && !unreadable.length) return undefined;
  const items: LimitImportItem[] = [];
  const reject = (l: ExtractedLimit, code: RuleCode, detail: string) => {
    items.push({ mrid: l.mrid, at: l.at, mpan: l.input?.mpan as string | undefined, outcome: 'rejected', code, detail });
    issues.push({ code, message: `OperationalLimitSet ${l.mrid}: ${detail}`, object: l.mrid, ...l.at });
  };
  for (const l of unreadable) reject(l, 'CIM-LIMIT-UNREADABLE', l.problems.join(' '));
  let refused: Problem | undefined;
  try {
    checkPermission(actor, 'connection-limits.write');
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    refused = e;
  }
  for (const { limit: l, conflict } of limits) {
    const input = l.input!;
    if (conflict) {
      const detail = `it and OperationalLimitSet ${conflict.mrid} give MPAN ${String(input.mpan)} different limits from the same instant; neither was recorded.`;
      reject(l, 'CIM-LIMIT-CONFLICT', detail);
      continue;
    }
    if (refused) {
      reject(l, refused.code, refused.message);
      continue;
    }
    try {
      items.push(await applyOne(tx, ctx, actor, l, input, dryRun, now));
    } catch (e) {
      // A refusal of the service is thrown before it writes anything: report it and go on with the next limit.
      if (!(e instanceof Problem)) throw e;
      // A field the API's schema refuses is named by its own rule (CONNECTION-LIMIT-KW, ...), not the request's.
      const code = e.code === 'REQUEST-VALIDATION' && e.errors[0] ? e.errors[0].code : e.code;
      const fields = e.errors.map((f) => `${f.field}: ${f.detail}`).filter((d) => d !== e.message);
      reject(l, code, [e.message, ...(e.code === 'REQUEST-VALIDATION' ? fields : [])].join(' '));
    }
  }
  const count = (o: LimitImportItem['outcome']) => items.filter((i) => i.outcome === o).length;
  return {
    read: limits.length + unreadable.length,
    recorded: count('recorded'),
    updated: count('updated'),
    unchanged: count('unchanged'),
    rejected: count('rejected'),
    wouldRecord: count('would-record'),
    wouldUpdate: count('would-update'),
    items,
  };
}

/** Record the limit, or update the caller's own limit at the MPAN from the same instant to what the file says (absent = none). */
async function applyOne(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  l: ExtractedLimit,
  input: Record<string, unknown>,
  dryRun: boolean,
  now: string,
): Promise<LimitImportItem> {
  const base = { mrid: l.mrid, at: l.at, mpan: input.mpan as string };
  const validFrom = instant(input.validFrom ?? now);
  // Only a limit the schema takes is looked up: a malformed instant must not reach the database (it would end the transaction).
  const existing =
    ConnectionLimitInput.safeParse(input).success && typeof validFrom === 'string'
      ? await ownLimitFrom(tx, actor.organisationId, input.mpan as string, validFrom)
      : undefined;
  if (!existing) {
    const limit = await recordLimitIn(tx, ctx, actor, input, { dryRun });
    return dryRun
      ? { ...base, validFrom: limit.validFrom, outcome: 'would-record' }
      : { ...base, validFrom: limit.validFrom, outcome: 'recorded', connectionLimitId: limit.id };
  }
  const patch: Record<string, unknown> = {};
  for (const k of KEYS) patch[k] = input[k] ?? null;
  patch.validFrom = existing.validFrom;
  const wanted: Record<string, unknown> = { ...patch, validTo: patch.validTo === null ? null : instant(patch.validTo) };
  const item = { ...base, validFrom: existing.validFrom, connectionLimitId: existing.id };
  if (KEYS.every((k) => sameValue(existing[k], wanted[k]))) return { ...item, outcome: 'unchanged' };
  const { changes } = await updateLimitIn(tx, ctx, actor, existing.id, patch, existing.version, { dryRun });
  return {
    ...item,
    outcome: dryRun ? 'would-update' : 'updated',
    changes: Object.fromEntries(Object.entries(changes).map(([k, [from, to]]) => [k, { from, to }])),
  };
}
