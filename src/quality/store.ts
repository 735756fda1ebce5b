import { withinAssetLimit } from '../access/asset-limit';
import { reach } from '../access/permissions';
import type { Principal } from '../access/principal';
import type { Sql } from '../storage/db';
import { ownAssetReach } from '../assets/store';
import { compileRule, type CompiledRule } from './rules';
import type { DqRule, Finding, Scorecard, ScorecardPoint } from './schema';

/** SQL that belongs to the data quality tables: row mappings, visibility, set-based writes. */

export const RULE_COLS = `code, description, severity, weight, to_jsonb(applies_to) AS applies_to, kind, definition, active, version, recorded_at, recorded_by`;

export interface RuleRow {
  code: string;
  description: string;
  severity: DqRule['severity'];
  weight: number;
  applies_to: string[] | null;
  kind: DqRule['kind'];
  definition: string;
  active: boolean;
  version: number;
  recorded_at: Date;
  recorded_by: string;
}

export function toRule(r: RuleRow): DqRule {
  return {
    code: r.code,
    description: r.description,
    severity: r.severity,
    weight: Number(r.weight),
    appliesTo: r.applies_to ?? [],
    kind: r.kind,
    definition: r.definition,
    active: !!r.active,
    version: Number(r.version),
    recordedAt: new Date(r.recorded_at).toISOString(),
    recordedBy: r.recorded_by,
  };
}

export const FINDING_COLS = `f.id, f.asset_id, f.rule_code, f.severity, f.detail, f.organisation_id, f.fsp_id, f.dno, f.opened_at, f.resolved_at`;

export interface FindingRow {
  id: string;
  asset_id: string;
  rule_code: string;
  severity: Finding['severity'];
  detail: string;
  organisation_id: string;
  fsp_id: string;
  dno: string | null;
  opened_at: Date;
  resolved_at: Date | null;
}

export function toFinding(r: FindingRow): Finding {
  return {
    id: r.id,
    assetId: r.asset_id,
    ruleCode: r.rule_code,
    severity: r.severity,
    detail: r.detail,
    organisationId: r.organisation_id,
    fspId: r.fsp_id,
    dno: r.dno ?? null,
    status: r.resolved_at ? 'resolved' : 'open',
    openedAt: new Date(r.opened_at).toISOString(),
    resolvedAt: r.resolved_at ? new Date(r.resolved_at).toISOString() : null,
  };
}

// Compiled rules by code and version: a rule's tree never changes within a version.
const compiled = new Map<string, CompiledRule>();

/** The active rules, compiled, in code order (one query per evaluated batch). */
export async function activeRules(tx: Sql): Promise<CompiledRule[]> {
  const rows = await tx.query<RuleRow>(`SELECT ${RULE_COLS} FROM dq_rule WHERE active ORDER BY code`);
  return rows.map((r) => {
    const key = `${r.code}@${r.version}`;
    let c = compiled.get(key);
    if (!c) {
      c = compileRule(toRule(r));
      compiled.set(key, c);
    }
    return c;
  });
}

/**
 * Which findings a caller reaches (the reach PERMISSIONS gives data-quality.read), over `f`:
 * owners the findings on assets they control or own, DNOs/IDNOs those on their networks.
 */
export function findingVisibility(p: Principal, params: unknown[]): string {
  const limit = withinAssetLimit(p, params, 'f.asset_id');
  const r = reach('data-quality.read', p.roles);
  if (r.all) return limit;
  const parts: string[] = [];
  // As assets.read: the FSP controlling the asset, or its ASSET_OWNER organisation; never the registering FSP after a switch.
  if (r.own) parts.push(...ownAssetReach(p, params, 'read', 'f'));
  if (r.network && p.dnoCodes.length) {
    params.push(p.dnoCodes);
    parts.push(`f.dno IN (SELECT jsonb_array_elements_text($${params.length}::jsonb))`);
  }
  return parts.length ? `(${limit} AND (${parts.join(' OR ')}))` : 'FALSE';
}

/** Whether a caller reaches a scorecard: its own organisation's; a DNO/IDNO those of its licence areas. */
export function reachesScorecard(p: Principal, scope: 'organisation' | 'dno', key: string): boolean {
  const r = reach('data-quality.read', p.roles);
  if (r.all) return true;
  if (scope === 'organisation') return r.own && key === p.organisationId;
  return r.network && p.dnoCodes.includes(key);
}

export async function readScorecard(db: Sql, scope: 'organisation' | 'dno', key: string): Promise<Scorecard> {
  const [row] = await db.query<{
    assets: number;
    score_sum: number | string;
    open_error: number;
    open_warning: number;
    open_info: number;
    updated_at: Date | null;
    by_rule: Record<string, number> | null;
  }>(
    `SELECT assets, score_sum, open_error, open_warning, open_info, updated_at,
      (SELECT COALESCE(jsonb_object_agg(rule_code, open ORDER BY rule_code), '{}'::jsonb) FROM dq_scorecard_rule WHERE scope = $1 AND key = $2 AND open <> 0) AS by_rule
    FROM dq_scorecard WHERE scope = $1 AND key = $2`,
    [scope, key],
  );
  const assets = Number(row?.assets ?? 0);
  return {
    scope,
    key,
    assets,
    averageScore: assets ? Math.round((Number(row.score_sum) / assets) * 100) / 100 : null,
    openFindings: { ERROR: Number(row?.open_error ?? 0), WARNING: Number(row?.open_warning ?? 0), INFO: Number(row?.open_info ?? 0) },
    openFindingsByRule: Object.fromEntries(Object.entries(row?.by_rule ?? {}).map(([k, v]) => [k, Number(v)])),
    updatedAt: row?.updated_at ? new Date(row.updated_at).toISOString() : null,
  };
}

export interface CardDelta {
  scope: 'organisation' | 'dno';
  key: string;
  assets: number;
  score_sum: number;
  open_error: number;
  open_warning: number;
  open_info: number;
}
export interface RuleDelta {
  scope: 'organisation' | 'dno';
  key: string;
  rule_code: string;
  open: number;
}

/**
 * Apply summed deltas: one statement per table per batch, rows in key order (so two writers lock
 * the same counter rows in the same order), whatever the batch size. A bulk load by one FSP moves
 * its counter row once.
 */
export async function applyDeltas(tx: Sql, at: string, cards: CardDelta[], rules: RuleDelta[]) {
  if (cards.length) {
    const rows = [...cards].sort((a, b) => (a.scope + a.key < b.scope + b.key ? -1 : 1)).map((r, n) => ({ ...r, n }));
    await tx.query(
      `INSERT INTO dq_scorecard AS c (scope, key, assets, score_sum, open_error, open_warning, open_info, updated_at)
      SELECT x.scope, x.key, x.assets, x.score_sum, x.open_error, x.open_warning, x.open_info, $1::timestamptz
        FROM json_to_recordset($2::json) AS x(scope text, key text, assets bigint, score_sum bigint, open_error bigint, open_warning bigint, open_info bigint, n int)
       ORDER BY x.n
      ON CONFLICT (scope, key) DO UPDATE SET assets = c.assets + EXCLUDED.assets, score_sum = c.score_sum + EXCLUDED.score_sum,
        open_error = c.open_error + EXCLUDED.open_error, open_warning = c.open_warning + EXCLUDED.open_warning, open_info = c.open_info + EXCLUDED.open_info,
        updated_at = EXCLUDED.updated_at`,
      [at, rows],
    );
  }
  if (rules.length) {
    const rows = [...rules]
      .sort((a, b) => (a.scope + a.key + a.rule_code < b.scope + b.key + b.rule_code ? -1 : 1))
      .map((r, n) => ({ ...r, n }));
    await tx.query(
      `INSERT INTO dq_scorecard_rule AS c (scope, key, rule_code, open)
      SELECT x.scope, x.key, x.rule_code, x.open FROM json_to_recordset($1::json) AS x(scope text, key text, rule_code text, open bigint, n int) ORDER BY x.n
      ON CONFLICT (scope, key, rule_code) DO UPDATE SET open = c.open + EXCLUDED.open`,
      [rows],
    );
  }
}

/** An open finding on an asset the FSP controls (src/notices/). */
export interface OpenFindingFacts {
  id: string;
  asset_id: string;
  rule_code: string;
  severity: string;
  detail: string;
  opened_at: Date;
}

/** Open findings of these severities on the assets this FSP controls now, oldest first (at most `limit`). */
export async function openFindingsOfFsp(db: Sql, fspId: string, severities: string[], limit: number): Promise<OpenFindingFacts[]> {
  return db.query<OpenFindingFacts>(
    `SELECT id, asset_id, rule_code, severity, detail, opened_at FROM dq_finding
      WHERE fsp_id = $1 AND resolved_at IS NULL AND severity = ANY($2::text[]) ORDER BY id LIMIT $3`,
    [fspId, severities, limit],
  );
}

/**
 * Record today's point (UTC day of `at`) of every scorecard: one statement, a copy of the counter
 * rows. A second run on the same day replaces the day's points with the counters of now, so the
 * job may run as often as it likes and a day keeps one point per scorecard. Returns how many
 * points it wrote.
 */
export async function recordScorecardDay(db: Sql, at: Date): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH w AS (
      INSERT INTO dq_scorecard_day AS d (scope, key, day, assets, score_sum, open_error, open_warning, open_info, recorded_at)
      SELECT scope, key, $1::date, assets, score_sum, open_error, open_warning, open_info, $2::timestamptz FROM dq_scorecard
      ORDER BY scope, key
      ON CONFLICT (scope, key, day) DO UPDATE SET assets = EXCLUDED.assets, score_sum = EXCLUDED.score_sum,
        open_error = EXCLUDED.open_error, open_warning = EXCLUDED.open_warning, open_info = EXCLUDED.open_info,
        recorded_at = EXCLUDED.recorded_at
      RETURNING 1)
    SELECT count(*)::int AS n FROM w`,
    [at.toISOString().slice(0, 10), at.toISOString()],
  );
  return Number(rows[0]?.n ?? 0);
}

/** The points of one scorecard from `from` to `to` (UTC days, both included), oldest first. */
export async function readScorecardDays(
  db: Sql,
  scope: 'organisation' | 'dno',
  key: string,
  from: string,
  to: string,
): Promise<ScorecardPoint[]> {
  const rows = await db.query<{
    day: string;
    assets: number | string;
    score_sum: number | string;
    open_error: number | string;
    open_warning: number | string;
    open_info: number | string;
  }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, assets, score_sum, open_error, open_warning, open_info
    FROM dq_scorecard_day WHERE scope = $1 AND key = $2 AND day BETWEEN $3::date AND $4::date ORDER BY day`,
    [scope, key, from, to],
  );
  return rows.map((r) => {
    const assets = Number(r.assets);
    return {
      day: r.day,
      assets,
      averageScore: assets ? Math.round((Number(r.score_sum) / assets) * 100) / 100 : null,
      openFindings: { ERROR: Number(r.open_error), WARNING: Number(r.open_warning), INFO: Number(r.open_info) },
    };
  });
}
