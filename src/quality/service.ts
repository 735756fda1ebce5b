import { refuseIfAssetLimited } from '../access/asset-limit';
import type { Principal } from '../access/principal';
import { recordedBy, systemPrincipal } from '../access/principal';
import type { Asset } from '../assets/schema';
import { setAssetStatusIn } from '../assets/change';
import { changeVersioned, priorVersions } from '../kernel/versioned';
import { ASSET_COLS, selectAsset, toAsset, type AssetRow } from '../assets/store';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents, type ChangeEvent } from '../events/outbox';
import { catalogueSnapshot } from '../catalogue/snapshot';
import { assetsAtMpans, assetsWithLimits, connectionFactsOf, type ConnectionFacts } from '../connection-limits/store';
import { Problem, fieldError } from '../http/problem';
import { fieldErrorsFromZod, isCalendarDate } from '../http/validation';
import { ULID_RE } from '../ids';
import type { Sql } from '../storage/db';
import { stalenessOf, type Facts } from './language';
import { allAnswered, runChecks, type ExternalRegistries } from './registries';
import { assess, assetFacts, compileDefinition, compileRule, statusAfterValidation, type CompiledRule, type Validation } from './rules';
import {
  DqRuleInput,
  DqRulePatch,
  ValidateInput,
  type Advisory,
  type DqRule,
  type Finding,
  type Scorecard,
  type ScorecardHistory,
  type Severity,
} from './schema';
import {
  FINDING_COLS,
  RULE_COLS,
  activeRules,
  applyDeltas,
  findingVisibility,
  reachesScorecard,
  readScorecard,
  readScorecardDays,
  recordScorecardDay,
  toFinding,
  toRule,
  type CardDelta,
  type FindingRow,
  type RuleDelta,
  type RuleRow,
} from './store';

/* ------------------------------------------------------------------------------------------------
 * Evaluation: in the transaction of the change that triggers it
 * ---------------------------------------------------------------------------------------------- */

interface Prior {
  score: number;
  counted: boolean;
  organisation_id: string;
  fsp_id: string;
  dno: string | null;
  validated_at: string | null;
  validation: Validation | null;
  advisories: string[];
}
interface OpenRow {
  id: string;
  asset_id: string;
  rule_code: string;
  severity: Severity;
}

/** `open`: the open findings (WARNING and ERROR rows); `advisories`: the INFO rules that fail, kept on the score row. */
export interface AssetOutcome {
  score: number;
  open: { id: string; ruleCode: string; severity: Severity }[];
  advisories: string[];
  opened: string[];
  closed: string[];
}

/** The scorecards an asset counts in: its controlling FSP and its owner (once if the same), and its DNO. */
function cardKeys(org: string, fsp: string, dno: string | null): ['organisation' | 'dno', string][] {
  const keys: ['organisation' | 'dno', string][] = [...new Set([org, fsp])].map((k) => ['organisation', k]);
  if (dno) keys.push(['dno', dno]);
  return keys;
}

class Deltas {
  cards = new Map<string, CardDelta>();
  rules = new Map<string, RuleDelta>();
  add(keys: ['organisation' | 'dno', string][], sign: 1 | -1, score: number, open: { rule_code: string; severity: Severity }[]) {
    for (const [scope, key] of keys) {
      const k = `${scope}\u0000${key}`;
      const c = this.cards.get(k) ?? { scope, key, assets: 0, score_sum: 0, open_error: 0, open_warning: 0, open_info: 0 };
      c.assets += sign;
      c.score_sum += sign * score;
      for (const f of open) {
        if (f.severity === 'ERROR') c.open_error += sign;
        else if (f.severity === 'WARNING') c.open_warning += sign;
        else c.open_info += sign;
        const rk = `${k}\u0000${f.rule_code}`;
        const r = this.rules.get(rk) ?? { scope, key, rule_code: f.rule_code, open: 0 };
        r.open += sign;
        this.rules.set(rk, r);
      }
      this.cards.set(k, c);
    }
  }
  nonZero() {
    return {
      cards: [...this.cards.values()].filter((c) => c.assets || c.score_sum || c.open_error || c.open_warning || c.open_info),
      rules: [...this.rules.values()].filter((r) => r.open),
    };
  }
}

export interface AssessOptions {
  /** The assets were inserted in this transaction: nothing to read back (no prior score, no findings). */
  fresh?: boolean;
  /** New external validation results, by asset ID. */
  validations?: Map<string, { at: string; validation: Validation }>;
}

/**
 * Evaluate the active rules on these assets (as they now are) and bring the live findings, the
 * scores and the scorecards in line, in the caller's transaction. Set-based: a fixed number of
 * statements per batch whatever its size. A de-registered asset closes its findings and leaves
 * the scorecards. One event per asset and direction lists the findings that opened or closed.
 */
export async function assessAssetsIn(
  tx: Sql,
  ctx: Ctx,
  now: Date,
  assets: Asset[],
  o: AssessOptions = {},
): Promise<Map<string, AssetOutcome>> {
  const out = new Map<string, AssetOutcome>();
  if (!assets.length) return out;
  const at = now.toISOString();
  const ids = assets.map((a) => a.id);
  const rules = await activeRules(tx);
  const prior = new Map<string, Prior>();
  const openBy = new Map<string, OpenRow[]>();
  if (!o.fresh) {
    for (const r of await tx.query<
      Omit<Prior, 'validated_at' | 'advisories'> & { asset_id: string; validated_at: Date | null; advisories: string[] | null }
    >(
      `SELECT asset_id, score, counted, organisation_id, fsp_id, dno, validated_at, validation, to_jsonb(advisories) AS advisories FROM dq_asset_score WHERE asset_id = ANY($1::text[])`,
      [ids],
    )) {
      prior.set(r.asset_id, {
        ...r,
        score: Number(r.score),
        validated_at: r.validated_at ? new Date(r.validated_at).toISOString() : null,
        advisories: r.advisories ?? [],
      });
    }
    for (const r of await tx.query<OpenRow>(
      `SELECT id, asset_id, rule_code, severity FROM dq_finding WHERE asset_id = ANY($1::text[]) AND resolved_at IS NULL`,
      [ids],
    )) {
      if (!openBy.has(r.asset_id)) openBy.set(r.asset_id, []);
      openBy.get(r.asset_id)!.push(r);
    }
  }
  // The connection facts cost one statement, read only when an active rule names them; a fresh asset is in no market unit.
  const connections =
    !o.fresh && rules.some(namesConnection)
      ? await connectionFactsOf(tx, ids, at, await demandCategories(ctx, tx))
      : new Map<string, ConnectionFacts>();
  const deltas = new Deltas();
  const scores: Record<string, unknown>[] = [];
  const inserts: Record<string, unknown>[] = [];
  const closes: string[] = [];
  const retag: Record<string, unknown>[] = [];
  type Change = { assetId: string; findingId: string; ruleCode: string; severity: Severity; score: number };
  const groups = new Map<string, { fspId: string; organisationId: string; opened: Change[]; closed: Change[] }>();
  // Counted for the metrics (fmar_dq_evaluations_total, fmar_dq_rule_failures_total).
  let passedAssets = 0;
  let failedAssets = 0;
  const failuresByRule = new Map<string, number>();
  for (const a of assets) {
    const p = prior.get(a.id);
    const fresh = o.validations?.get(a.id);
    const validatedAt = fresh?.at ?? p?.validated_at ?? null;
    const validation = fresh?.validation ?? p?.validation ?? null;
    const counted = !a.deregisteredAt;
    const result = counted
      ? assess(a, rules, withConnection(assetFacts(a, { validatedAt, validation }), connections.get(a.id)), now)
      : { score: p?.score ?? 100, failing: [] };
    if (counted) {
      if (result.failing.length) failedAssets++;
      else passedAssets++;
      for (const f of result.failing) failuresByRule.set(f.code, (failuresByRule.get(f.code) ?? 0) + 1);
    }
    // WARNING and ERROR results are finding rows (opened, kept, closed); INFO results are the score
    // row's advisories (rule codes). A rule whose severity changed moves between the two.
    const before = openBy.get(a.id) ?? [];
    const advisoriesBefore = p?.advisories ?? [];
    const failing = new Map(result.failing.filter((f) => f.severity !== 'INFO').map((f) => [f.code, f]));
    const advisories = result.failing.filter((f) => f.severity === 'INFO').map((f) => f.code);
    const kept = before.filter((f) => failing.has(f.rule_code));
    const closed = before.filter((f) => !failing.has(f.rule_code));
    const opened = [...failing.values()]
      .filter((f) => !before.some((b) => b.rule_code === f.code))
      .map((f) => ({ id: ctx.ids.next(), ...f }));
    const asInfo = (codes: string[]) => codes.map((c) => ({ rule_code: c, severity: 'INFO' as const }));
    if (p?.counted) deltas.add(cardKeys(p.organisation_id, p.fsp_id, p.dno), -1, p.score, [...before, ...asInfo(advisoriesBefore)]);
    if (counted)
      deltas.add(cardKeys(a.organisationId, a.fspId, a.dno), 1, result.score, [
        ...kept,
        ...opened.map((f) => ({ rule_code: f.code, severity: f.severity })),
        ...asInfo(advisories),
      ]);
    scores.push({
      asset_id: a.id,
      score: result.score,
      counted,
      organisation_id: a.organisationId,
      fsp_id: a.fspId,
      dno: a.dno,
      validated_at: validatedAt,
      validation,
      advisories,
    });
    for (const f of opened)
      inserts.push({
        id: f.id,
        asset_id: a.id,
        rule_code: f.code,
        severity: f.severity,
        detail: f.detail,
        organisation_id: a.organisationId,
        fsp_id: a.fspId,
        dno: a.dno,
      });
    closes.push(...closed.map((f) => f.id));
    if (p && kept.length && (p.organisation_id !== a.organisationId || p.fsp_id !== a.fspId || p.dno !== a.dno))
      retag.push({ asset_id: a.id, o: a.organisationId, f: a.fspId, d: a.dno });
    if (!o.fresh && (opened.length || closed.length)) {
      const g = `${a.fspId}\u0000${a.organisationId}`;
      if (!groups.has(g)) groups.set(g, { fspId: a.fspId, organisationId: a.organisationId, opened: [], closed: [] });
      groups
        .get(g)!
        .opened.push(
          ...opened.map((f) => ({ assetId: a.id, findingId: f.id, ruleCode: f.code, severity: f.severity, score: result.score })),
        );
      groups
        .get(g)!
        .closed.push(
          ...closed.map((f) => ({ assetId: a.id, findingId: f.id, ruleCode: f.rule_code, severity: f.severity, score: result.score })),
        );
    }
    out.set(a.id, {
      score: result.score,
      open: [
        ...kept.map((f) => ({ id: f.id, ruleCode: f.rule_code, severity: f.severity })),
        ...opened.map((f) => ({ id: f.id, ruleCode: f.code, severity: f.severity })),
      ],
      advisories,
      opened: opened.map((f) => f.code),
      closed: closed.map((f) => f.rule_code),
    });
  }
  await tx.query(
    `INSERT INTO dq_asset_score AS s (asset_id, score, counted, organisation_id, fsp_id, dno, evaluated_at, validated_at, validation, advisories)
    SELECT x.asset_id, x.score, x.counted, x.organisation_id, x.fsp_id, x.dno, $1::timestamptz, x.validated_at, x.validation, x.advisories
      FROM json_to_recordset($2::json) AS x(asset_id text, score int, counted boolean, organisation_id text, fsp_id text, dno text, validated_at timestamptz, validation jsonb, advisories text[])
    ${
      o.fresh
        ? ''
        : `ON CONFLICT (asset_id) DO UPDATE SET score = EXCLUDED.score, counted = EXCLUDED.counted, organisation_id = EXCLUDED.organisation_id, fsp_id = EXCLUDED.fsp_id,
      dno = EXCLUDED.dno, evaluated_at = EXCLUDED.evaluated_at, validated_at = EXCLUDED.validated_at, validation = EXCLUDED.validation, advisories = EXCLUDED.advisories`
    }`,
    [at, scores],
  );
  if (inserts.length) {
    await tx.query(
      `INSERT INTO dq_finding (id, asset_id, rule_code, severity, detail, organisation_id, fsp_id, dno, opened_at)
      SELECT x.id, x.asset_id, x.rule_code, x.severity, x.detail, x.organisation_id, x.fsp_id, x.dno, $1::timestamptz
        FROM json_to_recordset($2::json) AS x(id text, asset_id text, rule_code text, severity text, detail text, organisation_id text, fsp_id text, dno text)`,
      [at, inserts],
    );
  }
  if (closes.length) await tx.query(`UPDATE dq_finding SET resolved_at = $1::timestamptz WHERE id = ANY($2::text[])`, [at, closes]);
  if (retag.length) {
    await tx.query(
      `UPDATE dq_finding f SET organisation_id = x.o, fsp_id = x.f, dno = x.d FROM json_to_recordset($1::json) AS x(asset_id text, o text, f text, d text)
      WHERE f.asset_id = x.asset_id AND f.resolved_at IS NULL`,
      [retag],
    );
  }
  ctx.metrics?.dataQualityEvaluated(passedAssets, failedAssets, failuresByRule);
  const d = deltas.nonZero();
  await applyDeltas(tx, at, d.cards, d.rules);
  // One event per change, direction and party (controlling FSP + owner), listing every finding that
  // opened or closed: a bulk change is one event, not one per row. A registration announces none:
  // fmar.asset.registered stands for it, and its findings are read from the asset.
  const events: ChangeEvent[] = [];
  for (const g of groups.values()) {
    for (const [dir, list] of [
      ['opened', g.opened],
      ['closed', g.closed],
    ] as const) {
      if (!list.length) continue;
      const assetIds = [...new Set(list.map((c) => c.assetId))];
      events.push({
        type: `fmar.data-quality.finding-${dir}`,
        subject: assetIds[0],
        organisationId: g.fspId,
        data: {
          ...(assetIds.length === 1 ? { assetId: assetIds[0] } : {}),
          assetIds,
          fspId: g.fspId,
          organisationId: g.organisationId,
          findings: list,
        },
      });
    }
  }
  await writeEvents(tx, ctx.ids, now, events);
  return out;
}

const namesConnection = (r: CompiledRule) => r.named.some((f) => f.startsWith('connection.'));

/** The asset categories of kind demand (the catalogue's attribute): their capacity counts against an import limit. */
async function demandCategories(ctx: Ctx, tx: Sql): Promise<string[]> {
  const codes = await catalogueSnapshot(ctx.db, ctx.clock, tx);
  return codes
    .codes('asset-categories')
    .filter((c) => c.attributes.kind === 'demand')
    .map((c) => c.code);
}

function withConnection(f: Facts, c: ConnectionFacts | undefined): Facts {
  if (!c) return f;
  return {
    ...f,
    'connection.marketUnitId': c.marketUnitId,
    'connection.mpan': c.mpan,
    'connection.direction': c.direction,
    'connection.unitCapacityKw': c.unitCapacityKw,
    'connection.limitKw': c.limitKw,
  };
}

/**
 * Re-assess the assets whose connection facts may have moved: those at these MPANs (a connection
 * limit changed) or these assets (their market unit's members changed). Nothing when no active rule
 * names a connection fact; of the assets, only those at an MPAN with a limit recorded, or with an
 * open finding of such a rule, are read again.
 */
export async function assessConnectionsIn(tx: Sql, ctx: Ctx, now: Date, at: { mpans?: string[]; assetIds?: string[] }): Promise<void> {
  const rules = (await activeRules(tx)).filter(namesConnection);
  if (!rules.length) return;
  const ids = new Set(await assetsAtMpans(tx, at.mpans ?? []));
  if (at.assetIds?.length) {
    for (const id of await assetsWithLimits(tx, at.assetIds)) ids.add(id);
    const open = await tx.query<{ asset_id: string }>(
      `SELECT DISTINCT asset_id FROM dq_finding WHERE asset_id = ANY($1::text[]) AND resolved_at IS NULL AND rule_code = ANY($2::text[])`,
      [at.assetIds, rules.map((r) => r.code)],
    );
    for (const r of open) ids.add(r.asset_id);
  }
  await assessStoredIn(tx, ctx, now, [...ids].sort());
}

/** Evaluate stored assets by ID (locked against a concurrent change), e.g. after a de-registration or for a job. */
export async function assessStoredIn(
  tx: Sql,
  ctx: Ctx,
  now: Date,
  ids: string[],
  o: AssessOptions = {},
): Promise<Map<string, AssetOutcome>> {
  if (!ids.length) return new Map();
  const rows = await tx.query<AssetRow>(`SELECT ${ASSET_COLS} FROM asset a WHERE a.id = ANY($1::text[]) ORDER BY a.id FOR UPDATE OF a`, [
    ids,
  ]);
  return assessAssetsIn(tx, ctx, now, rows.map(toAsset), o);
}

/* ------------------------------------------------------------------------------------------------
 * Rules, maintained by the operator
 * ---------------------------------------------------------------------------------------------- */

/** A definition that does not parse (or does not fit its kind) is a 422 carrying its position. */
function checkDefinition(kind: DqRule['kind'], definition: string) {
  const { error } = compileDefinition(kind, definition);
  if (error) {
    const { position, ...fe } = error;
    throw new Problem(fe.code, fe.detail, position ? { position } : {}, [fe]);
  }
}

export async function listRules(ctx: Ctx, f: { active?: boolean; kind?: string }): Promise<DqRule[]> {
  const conds: string[] = ['TRUE'];
  const params: unknown[] = [];
  if (f.active !== undefined) {
    params.push(f.active);
    conds.push(`active = $${params.length}`);
  }
  if (f.kind !== undefined) {
    params.push(f.kind);
    conds.push(`kind = $${params.length}`);
  }
  return (await ctx.db.query<RuleRow>(`SELECT ${RULE_COLS} FROM dq_rule WHERE ${conds.join(' AND ')} ORDER BY code`, params)).map(toRule);
}

async function ruleRow(db: Sql, code: string, lock = false): Promise<DqRule> {
  const [r] = await db.query<RuleRow>(`SELECT ${RULE_COLS} FROM dq_rule WHERE code = $1${lock ? ' FOR UPDATE' : ''}`, [code]);
  if (!r) throw new Problem('DQ-RULE-NOT-FOUND', `No data quality rule ${code}.`);
  return toRule(r);
}

export const getRule = (ctx: Ctx, code: string) => ruleRow(ctx.db, code);

export async function ruleHistory(ctx: Ctx, code: string): Promise<DqRule[]> {
  const current = await ruleRow(ctx.db, code);
  return [current, ...(await priorVersions<DqRule>(ctx.db, 'data_quality_rule', code))];
}

/** `appliesTo` names codes of the asset-categories catalogue as it stands (codes the operator added included, inactive ones too: old assets keep them). */
async function checkCategories(ctx: Ctx, appliesTo: string[] | undefined): Promise<void> {
  if (!appliesTo?.length) return;
  const codes = await catalogueSnapshot(ctx.db, ctx.clock);
  const errors = appliesTo.flatMap((c, i) =>
    codes.get('asset-categories', c)
      ? []
      : [
          fieldError(
            `appliesTo.${i}`,
            'ASSET-CATEGORY-UNKNOWN',
            `${c} is not a code of the asset-categories catalogue (GET /api/v1/catalogues/asset-categories).`,
          ),
        ],
  );
  if (errors.length) throw new Problem('REQUEST-VALIDATION', 'The data quality rule names an unknown asset category.', {}, errors);
}

export async function createRule(ctx: Ctx, actor: Principal, raw: unknown): Promise<DqRule> {
  const parsed = DqRuleInput.safeParse(raw);
  if (!parsed.success)
    throw new Problem('REQUEST-VALIDATION', 'The data quality rule is invalid.', {}, fieldErrorsFromZod(parsed.error, raw));
  const r = parsed.data;
  checkDefinition(r.kind, r.definition);
  await checkCategories(ctx, r.appliesTo);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [taken] = await tx.query(`SELECT 1 FROM dq_rule WHERE code = $1`, [r.code]);
    if (taken) throw new Problem('DQ-RULE-EXISTS', `Rule ${r.code} exists.`);
    await tx.query(
      `INSERT INTO dq_rule (code, description, severity, weight, applies_to, kind, definition, recorded_at, recorded_by)
      VALUES ($1, $2, $3, $4, ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), $6, $7, $8::timestamptz, $9)`,
      [r.code, r.description, r.severity, r.weight, r.appliesTo ?? [], r.kind, r.definition, now.toISOString(), recordedBy(actor)],
    );
    const rule = await ruleRow(tx, r.code);
    await writeAudit(tx, actor, now, [
      { action: 'data-quality-rule.created', recordType: 'data_quality_rule', recordId: r.code, detail: { version: 1, rule } },
    ]);
    await writeEvents(tx, ctx.ids, now, [
      { type: 'fmar.data-quality.rule-created', subject: r.code, data: { ruleCode: r.code, version: 1 } },
    ]);
    return rule;
  });
}

/**
 * Change a rule (If-Match) or (de)activate it; the prior version is kept. Deactivation re-assesses
 * the assets with a finding of the rule in the same transaction, so their findings close and
 * their scores and scorecards move with them. Other changes apply at each asset's next
 * evaluation (a change, a validation, or the re-evaluation job).
 */
export async function updateRule(ctx: Ctx, actor: Principal, code: string, raw: unknown, ifMatch: number | undefined): Promise<DqRule> {
  const parsed = DqRulePatch.safeParse(raw);
  if (!parsed.success) throw new Problem('REQUEST-VALIDATION', 'The update is invalid.', {}, fieldErrorsFromZod(parsed.error, raw));
  const patch = parsed.data;
  await checkCategories(ctx, patch.appliesTo);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const keys = ['description', 'severity', 'weight', 'appliesTo', 'kind', 'definition', 'active'] as const;
    let reassessed = 0;
    const changesOf = (before: DqRule, after: DqRule) =>
      Object.fromEntries(keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).map((k) => [k, [before[k], after[k]]]));
    const deactivated = (before: DqRule, after: DqRule) => before.active && !after.active;
    const actionOf = (before: DqRule, after: DqRule) =>
      deactivated(before, after) ? 'deactivated' : !before.active && after.active ? 'reactivated' : 'updated';
    const { after } = await changeVersioned(tx, ctx, actor, now, {
      table: 'dq_rule',
      key: { code },
      label: `Rule ${code}`,
      returning: RULE_COLS,
      toRecord: toRule,
      ifMatch,
      lock: async (t) => ruleRow(t, code, true),
      notFound: () => new Problem('DQ-RULE-NOT-FOUND', `No data quality rule ${code}.`),
      history: 'data_quality_rule',
      set: (before) => {
        const next = { ...before, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as DqRule;
        if (patch.active === false && !before.active) throw new Problem('DQ-RULE-INACTIVE', `Rule ${code} is already inactive.`);
        if (patch.definition !== undefined || patch.kind !== undefined) checkDefinition(next.kind, next.definition);
        compileRule(next);
        return {
          sql: `description = $1, severity = $2, weight = $3, applies_to = ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), kind = $5, definition = $6, active = $7`,
          params: [next.description, next.severity, next.weight, next.appliesTo, next.kind, next.definition, next.active],
        };
      },
      afterWrite: async (before, after) => {
        if (!deactivated(before, after)) return;
        // Advisories have no index by rule: deactivating an INFO rule reads every score row (rare, the operator's).
        const ids = (
          await tx.query<{ asset_id: string }>(
            `SELECT asset_id FROM dq_finding WHERE rule_code = $1 AND resolved_at IS NULL
            UNION SELECT asset_id FROM dq_asset_score WHERE advisories @> ARRAY[$1::text] ORDER BY asset_id`,
            [code],
          )
        ).map((r) => r.asset_id);
        reassessed = (await assessStoredIn(tx, ctx, now, ids)).size;
      },
      audit: (before, after) => [
        {
          action: `data-quality-rule.${actionOf(before, after)}`,
          recordType: 'data_quality_rule',
          recordId: code,
          detail: {
            version: after.version,
            changes: changesOf(before, after),
            ...(deactivated(before, after) ? { reassessedAssets: reassessed } : {}),
          },
        },
      ],
      events: (before, after) => [
        {
          type: `fmar.data-quality.rule-${actionOf(before, after)}`,
          subject: code,
          data: { ruleCode: code, version: after.version, changed: Object.keys(changesOf(before, after)) },
        },
      ],
    });
    return after;
  });
}

/* ------------------------------------------------------------------------------------------------
 * Findings and scorecards
 * ---------------------------------------------------------------------------------------------- */

export interface FindingFilter {
  assetId?: string;
  organisationId?: string;
  ruleCode?: string;
  status?: 'open' | 'resolved' | 'all';
}

/** Keyset page of visible findings in ID order (open ones unless `status` says otherwise). */
export async function listFindings(
  ctx: Ctx,
  p: Principal,
  f: FindingFilter,
  page: { limit: number; after?: string },
): Promise<{ items: Finding[]; next?: string }> {
  const params: unknown[] = [];
  const conds = [findingVisibility(p, params)];
  if (f.assetId !== undefined) {
    params.push(f.assetId);
    conds.push(`f.asset_id = $${params.length}`);
  }
  // Written so that the partial owner index (organisation_id <> fsp_id) serves the second branch.
  if (f.organisationId !== undefined) {
    params.push(f.organisationId);
    conds.push(`(f.fsp_id = $${params.length} OR (f.organisation_id = $${params.length} AND f.organisation_id <> f.fsp_id))`);
  }
  if (f.ruleCode !== undefined) {
    params.push(f.ruleCode);
    conds.push(`f.rule_code = $${params.length}`);
  }
  const status = f.status ?? 'open';
  if (status === 'open') conds.push('f.resolved_at IS NULL');
  if (status === 'resolved') conds.push('f.resolved_at IS NOT NULL');
  if (page.after) {
    params.push(page.after);
    conds.push(`f.id > $${params.length}`);
  }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<FindingRow>(
    `SELECT ${FINDING_COLS} FROM dq_finding f WHERE ${conds.join(' AND ')} ORDER BY f.id LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, page.limit).map(toFinding);
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

/** An asset's own findings: 404 as if missing when the caller does not reach the asset. */
export async function assetFindings(
  ctx: Ctx,
  p: Principal,
  assetId: string,
  status: FindingFilter['status'],
  page: { limit: number; after?: string },
) {
  if (!ULID_RE.test(assetId)) throw new Problem('ASSET-ID-FORMAT', `"${assetId}" is not an asset ID.`);
  const row = await selectAsset(ctx.db, p, assetId);
  if (!row) throw new Problem('ASSET-NOT-FOUND', `No asset ${assetId}.`);
  const { score, advisories } = await scoreOf(ctx.db, assetId);
  const list = await listFindings(ctx, { ...systemPrincipal('asset-findings'), dnoCodes: [] }, { assetId, status }, page);
  return { score, advisories, ...list };
}

/** The asset's score row in one read: its score (null before any evaluation) and its advisories (INFO rules it fails, in code order, with each rule's description). */
async function scoreOf(db: Sql, assetId: string): Promise<{ score: number | null; advisories: Advisory[] }> {
  const [s] = await db.query<{ score: number; advisories: Advisory[] | null }>(
    `SELECT s.score, (SELECT COALESCE(json_agg(json_build_object('ruleCode', r.code, 'description', r.description) ORDER BY r.code), '[]'::json)
      FROM unnest(s.advisories) AS c(code) JOIN dq_rule r ON r.code = c.code) AS advisories FROM dq_asset_score s WHERE s.asset_id = $1`,
    [assetId],
  );
  return { score: s ? Number(s.score) : null, advisories: s?.advisories ?? [] };
}

/** A scorecard: counters read by key, never a scan of the assets. */
export async function getScorecard(ctx: Ctx, p: Principal, scope: 'organisation' | 'dno', key: string): Promise<Scorecard> {
  if (!reachesScorecard(p, scope, key)) throw new Problem('DQ-SCORECARD-NOT-FOUND', `No scorecard for ${scope} ${key}.`);
  // A scorecard counts every asset of the organisation or area: more than a limited delegate's named assets.
  refuseIfAssetLimited(p, `the ${scope} scorecard`);
  return readScorecard(ctx.db, scope, key);
}

/** Days a history read may span at most (from and to included). */
export const HISTORY_MAX_DAYS = 366;
/** Days a history read spans when `from` is not given (to and the 29 days before it). */
export const HISTORY_DEFAULT_DAYS = 30;

/**
 * A scorecard over time (docs/data-quality.md, "Scorecards over time"): its daily points from
 * `from` to `to` (UTC days, both included; default the 30 days to today), as the scorecard's read.
 */
export async function getScorecardHistory(
  ctx: Ctx,
  p: Principal,
  scope: 'organisation' | 'dno',
  key: string,
  q: { from?: string; to?: string },
): Promise<ScorecardHistory> {
  if (!reachesScorecard(p, scope, key)) throw new Problem('DQ-SCORECARD-NOT-FOUND', `No scorecard for ${scope} ${key}.`);
  refuseIfAssetLimited(p, `the ${scope} scorecard`);
  for (const f of ['from', 'to'] as const) {
    const v = q[f];
    if (v !== undefined && !isCalendarDate(v)) throw new Problem('DQ-HISTORY-DATE-INVALID', `${f} is not a calendar date (YYYY-MM-DD).`);
  }
  const to = q.to ?? ctx.clock.now().toISOString().slice(0, 10);
  const from = q.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - (HISTORY_DEFAULT_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  if (days < 1) throw new Problem('DQ-HISTORY-RANGE', `from (${from}) is after to (${to}).`);
  if (days > HISTORY_MAX_DAYS) throw new Problem('DQ-HISTORY-RANGE', `${days} days from ${from} to ${to}: at most ${HISTORY_MAX_DAYS}.`);
  return { scope, key, from, to, items: await readScorecardDays(ctx.db, scope, key, from, to) };
}

/** The scorecard-history job: today's point of every scorecard (a re-run replaces the day's points). */
export function recordScorecardHistory(ctx: Ctx): Promise<number> {
  return recordScorecardDay(ctx.db, ctx.clock.now());
}

/* ------------------------------------------------------------------------------------------------
 * External validation: Pending Validation → Verified / Query
 * ---------------------------------------------------------------------------------------------- */

const VALIDATED_STATUSES = ['PENDING_VALIDATION', 'VERIFIED', 'QUERY'];

/**
 * Validate one asset: ask the registries (outside any transaction), then, in one transaction,
 * record the answers, re-evaluate every rule (the external-check rules now apply) and set the
 * status: an open ERROR finding → QUERY; none, and every registry answered → VERIFIED; a registry
 * that did not answer leaves the status (failing closed). A status change is a new asset version,
 * audited and announced like any other asset change.
 */
export async function validateAsset(ctx: Ctx, actor: Principal, registries: ExternalRegistries, id: string, raw: unknown = {}) {
  const parsed = ValidateInput.safeParse(raw ?? {});
  if (!parsed.success)
    throw new Problem('REQUEST-VALIDATION', 'The validation request is invalid.', {}, fieldErrorsFromZod(parsed.error, raw));
  if (!ULID_RE.test(id)) throw new Problem('ASSET-ID-FORMAT', `"${id}" is not an asset ID.`);
  const row = await selectAsset(ctx.db, actor, id);
  if (!row) throw new Problem('ASSET-NOT-FOUND', `No asset ${id}.`);
  const asked = toAsset(row);
  if (asked.deregisteredAt || !VALIDATED_STATUSES.includes(asked.status))
    throw new Problem('DQ-VALIDATION-NOT-APPLICABLE', `Asset ${id} is ${asked.status}.`);
  const validation = await runChecks(registries, asked, parsed.data.checks);
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.db.transaction(async (tx) => {
    const current = toAsset((await tx.query<AssetRow>(`SELECT ${ASSET_COLS} FROM asset a WHERE a.id = $1 FOR UPDATE OF a`, [id]))[0]);
    if (current.deregisteredAt || !VALIDATED_STATUSES.includes(current.status))
      throw new Problem('DQ-VALIDATION-NOT-APPLICABLE', `Asset ${id} is ${current.status}.`);
    // The answers describe the MPAN and serial asked about; a concurrent change makes them moot (rules.ts ignores them).
    const outcome = (await assessAssetsIn(tx, ctx, now, [current], { validations: new Map([[id, { at, validation }]]) })).get(id)!;
    const status = statusAfterValidation(current.status, outcome.open, allAnswered(validation));
    let asset = current;
    if (status !== current.status) {
      asset = await setAssetStatusIn(tx, ctx, actor, now, {
        asset: current,
        status,
        audit: (after) => ({
          action: 'asset.status-changed',
          recordType: 'asset',
          recordId: id,
          organisationId: current.organisationId,
          detail: {
            version: after.version,
            changes: { status: [current.status, status] },
            reason: 'data-quality validation',
            openErrors: outcome.open.filter((f) => f.severity === 'ERROR').map((f) => f.ruleCode),
          },
        }),
        events: (after) => [
          {
            type: 'fmar.asset.status-changed',
            subject: id,
            organisationId: current.fspId,
            data: { assetId: id, version: after.version, fromStatus: current.status, status, changed: ['status'] },
          },
        ],
      });
      // The status is a fact of the rules too; the new version's evaluation keeps the scorecards exact.
      await assessAssetsIn(tx, ctx, now, [asset]);
    }
    const open = (
      await tx.query<FindingRow>(`SELECT ${FINDING_COLS} FROM dq_finding f WHERE f.asset_id = $1 AND f.resolved_at IS NULL ORDER BY f.id`, [
        id,
      ])
    ).map(toFinding);
    return {
      asset,
      result: {
        assetId: id,
        status: asset.status,
        previousStatus: current.status,
        score: outcome.score,
        checks: validation as Record<string, unknown>,
        openFindings: open,
        advisories: (await scoreOf(tx, id)).advisories,
      },
    };
  });
}

/**
 * The batch for a job (UC-02.01 step 6): validate the Pending Validation assets, one transaction
 * each. The queue is the status itself: registration and a change to a checked field put an asset
 * in it. An asset a registry could not answer for stays Pending Validation and is asked again once
 * `retryAfterMs` has passed since its last validation (never sooner, so a registry that is down is
 * not asked about every pending asset at each run); one changed since is asked at once.
 */
export async function validatePending(
  ctx: Ctx,
  registries: ExternalRegistries,
  opts: { limit?: number; retryAfterMs?: number } = {},
): Promise<{ validated: number; statuses: Record<string, number> }> {
  const actor = systemPrincipal('data-quality-validation');
  const retryCutoff = new Date(ctx.clock.now().getTime() - (opts.retryAfterMs ?? 0)).toISOString();
  const rows = await ctx.db.query<{ id: string }>(
    `SELECT a.id FROM asset a LEFT JOIN dq_asset_score s ON s.asset_id = a.id
      WHERE a.status = 'PENDING_VALIDATION' AND a.deregistered_at IS NULL
        AND (s.validated_at IS NULL OR s.validated_at < a.recorded_at OR s.validated_at <= $2::timestamptz)
      ORDER BY a.id LIMIT $1`,
    [opts.limit ?? 500, retryCutoff],
  );
  const statuses: Record<string, number> = {};
  let validated = 0;
  for (const r of rows) {
    try {
      const { result } = await validateAsset(ctx, actor, registries, r.id);
      statuses[result.status] = (statuses[result.status] ?? 0) + 1;
      validated++;
    } catch (e) {
      // Changed meanwhile (suspended, de-registered, or validated by another hub): nothing to do for it.
      if (e instanceof Problem && e.code === 'DQ-VALIDATION-NOT-APPLICABLE') continue;
      throw e;
    }
  }
  return { validated, statuses };
}

/**
 * The validation job on timers (src/node.ts): validatePending every `intervalMs`, one run at a time.
 * `stop` clears the timer and waits for a run in progress.
 */
export function startValidationWorker(
  ctx: Ctx,
  registries: ExternalRegistries,
  o: { intervalMs: number; retryAfterMs: number; limit?: number },
) {
  let running: Promise<unknown> | undefined;
  const tick = () => {
    if (running) return;
    running = validatePending(ctx, registries, { limit: o.limit ?? 200, retryAfterMs: o.retryAfterMs })
      .catch((e) => console.error('[fmar] data quality validation:', e))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, o.intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Whether any external registry is configured: without one the validation job has nothing to ask. */
export function registriesConfigured(r: ExternalRegistries | undefined): boolean {
  return !!(r?.meterPoints || r?.mcs);
}

/* ------------------------------------------------------------------------------------------------
 * Periodic jobs: staleness, and re-evaluation after rule changes
 * ---------------------------------------------------------------------------------------------- */

const STALE_AGE_SQL = {
  recordedAt: 'a.recorded_at',
  validatedAt: 's.validated_at',
  lastActivityAt: 'GREATEST(a.recorded_at, s.validated_at)',
} as const;

/**
 * Open the staleness findings that time alone has made true: for each active staleness rule,
 * the registered assets older than its limit without an open finding of it, re-evaluated in
 * batches (one transaction each). A change or a validation closes them again. Returns how many
 * assets were re-evaluated.
 */
export async function evaluateStaleness(ctx: Ctx, opts: { batch?: number } = {}): Promise<number> {
  const batch = opts.batch ?? 500;
  const now = ctx.clock.now();
  let total = 0;
  for (const rule of (await activeRules(ctx.db)).filter((r) => r.kind === 'staleness')) {
    const form = stalenessOf(rule.tree);
    if (!form) continue;
    const cutoff = new Date(now.getTime() - (form.days + 1) * 86_400_000).toISOString();
    let after = '';
    for (;;) {
      const ids = (
        await ctx.db.query(
          `SELECT a.id FROM asset a LEFT JOIN dq_asset_score s ON s.asset_id = a.id
          WHERE a.deregistered_at IS NULL AND a.id > $1 AND ${STALE_AGE_SQL[form.field]} < $2::timestamptz
            AND (cardinality($3::text[]) = 0 OR a.category = ANY($3::text[]))
            AND NOT EXISTS (SELECT 1 FROM dq_finding f WHERE f.asset_id = a.id AND f.rule_code = $4 AND f.resolved_at IS NULL)
            AND NOT COALESCE(s.advisories @> ARRAY[$4::text], false)
          ORDER BY a.id LIMIT $5`,
          [after, cutoff, rule.appliesTo, rule.code, batch],
        )
      ).map((r) => r.id as string);
      if (!ids.length) break;
      await ctx.db.transaction((tx) => assessStoredIn(tx, ctx, now, ids));
      total += ids.length;
      after = ids[ids.length - 1];
      if (ids.length < batch) break;
    }
  }
  return total;
}

/** Re-evaluate every registered asset (after rule changes), in keyset batches of one transaction each. */
export async function reevaluateAll(ctx: Ctx, opts: { batch?: number } = {}): Promise<number> {
  const batch = opts.batch ?? 500;
  let after = '';
  let total = 0;
  for (;;) {
    const ids = (
      await ctx.db.query(`SELECT id FROM asset WHERE deregistered_at IS NULL AND id > $1 ORDER BY id LIMIT $2`, [after, batch])
    ).map((r) => r.id as string);
    if (!ids.length) return total;
    await ctx.db.transaction((tx) => assessStoredIn(tx, ctx, ctx.clock.now(), ids));
    total += ids.length;
    after = ids[ids.length - 1];
  }
}
