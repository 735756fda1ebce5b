import type { Principal } from '../access/principal';
import { recordedBy } from '../access/principal';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { Problem } from '../http/problem';
import { changeVersioned, priorVersions, type Change } from '../kernel/versioned';
import { fieldErrorsFromZod } from '../http/validation';
import { pgErrorCode, type Sql } from '../storage/db';
import { dateErrors, newCodeErrors, type CatalogueDef } from './rules';
import { CatalogueCodeInput, CatalogueCodePatch, type CatalogueCode, type CatalogueSummary } from './schema';
import { catalogueChanges, catalogueSnapshot, codeState, type CatalogueName, type CodeEntry } from './snapshot';
import { CODE_COLS, selectCatalogue, selectCatalogues, selectCode, selectCodes, toCode, type CodeRow } from './store';

/** UC-05.07: the code lists, read by every role, maintained by the operator (docs/catalogues.md). */

const dateOf = (d: Date) => d.toISOString().slice(0, 10);
const entryOf = (k: CatalogueCode): CodeEntry => ({
  catalogue: k.catalogue,
  code: k.code,
  active: k.active,
  effectiveFrom: k.effectiveFrom,
  effectiveTo: k.effectiveTo,
  attributes: k.attributes,
});

async function catalogueOr404(db: Sql, name: string, forUpdate = false): Promise<CatalogueSummary> {
  const c = await selectCatalogue(db, name, forUpdate);
  if (!c) throw new Problem('CATALOGUE-NOT-FOUND', `No catalogue ${name}; GET /api/v1/catalogues lists them.`);
  return c;
}

async function codeOr404(db: Sql, name: string, code: string, forUpdate = false): Promise<CatalogueCode> {
  const k = await selectCode(db, name, code, forUpdate);
  if (!k) throw new Problem('CATALOGUE-CODE-NOT-FOUND', `The ${name} catalogue has no code ${code}.`);
  return k;
}

export function listCatalogues(ctx: Ctx): Promise<CatalogueSummary[]> {
  return selectCatalogues(ctx.db);
}

/** A catalogue with its codes in effect on `at` (default today), or every code with inEffect. */
export async function getCatalogue(ctx: Ctx, name: string, q: { at?: string; includeInactive?: boolean }) {
  const c = await catalogueOr404(ctx.db, name);
  const at = q.at ?? dateOf(ctx.clock.now());
  const items = (await selectCodes(ctx.db, name)).map((k) => ({ ...k, inEffect: codeState(entryOf(k), at) === 'ok' }));
  return { ...c, at, items: q.includeInactive ? items : items.filter((k) => k.inEffect) };
}

export async function getCode(ctx: Ctx, name: string, code: string): Promise<CatalogueCode> {
  await catalogueOr404(ctx.db, name);
  return codeOr404(ctx.db, name, code);
}

/** Every version of a code, newest first. */
export async function codeHistory(ctx: Ctx, name: string, code: string): Promise<CatalogueCode[]> {
  const current = await getCode(ctx, name, code);
  return [current, ...(await priorVersions<CatalogueCode>(ctx.db, 'catalogue_code', `${name}/${code}`))];
}

/** Announce a change after its commit: this instance's caches drop the old snapshot at once. */
function announced<T extends CatalogueCode>(k: T): T {
  catalogueChanges.emit();
  return k;
}

/** The audit record and the event of a code's change. */
function notice(
  change: 'added' | 'updated',
  changesOf: (before: CatalogueCode, after: CatalogueCode) => Record<string, [unknown, unknown]>,
): Pick<Change<CatalogueCode>, 'audit' | 'events'> {
  const id = (k: CatalogueCode) => `${k.catalogue}/${k.code}`;
  return {
    audit: (before, k) => [
      {
        action: `catalogue.code-${change}`,
        recordType: 'catalogue_code',
        recordId: id(k),
        organisationId: null,
        detail: { version: k.version, changes: changesOf(before, k) },
      },
    ],
    events: (before, k) => [
      {
        type: 'fmar.catalogue.changed',
        subject: id(k),
        organisationId: null,
        data: {
          catalogue: k.catalogue,
          code: k.code,
          change,
          changed: Object.keys(changesOf(before, k)),
          version: k.version,
          active: k.active,
          effectiveFrom: k.effectiveFrom,
          effectiveTo: k.effectiveTo,
        },
      },
    ],
  };
}

async function record(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  now: Date,
  k: CatalogueCode,
  change: 'added' | 'updated',
  changes: Record<string, [unknown, unknown]>,
) {
  const n = notice(change, () => changes);
  await writeAudit(tx, actor, now, n.audit(k, k));
  await writeEvents(tx, ctx.ids, now, n.events(k, k));
}

/** Add a code to an extensible catalogue; usable for new records as soon as it commits. */
export async function addCode(ctx: Ctx, actor: Principal, name: string, raw: unknown): Promise<CatalogueCode> {
  const parsed = CatalogueCodeInput.safeParse(raw);
  if (!parsed.success) throw new Problem('REQUEST-VALIDATION', 'The code is invalid.', {}, fieldErrorsFromZod(parsed.error, raw));
  const input = parsed.data;
  const now = ctx.clock.now();
  const codes = await catalogueSnapshot(ctx.db, ctx.clock);
  try {
    return announced(
      await ctx.db.transaction(async (tx) => {
        const c = await catalogueOr404(tx, name, true);
        if (c.policy === 'read-only')
          throw new Problem('CATALOGUE-READ-ONLY', `The ${name} catalogue is read-only: code depends on each of its codes.`);
        if (c.policy === 'fixed')
          throw new Problem(
            'CATALOGUE-NOT-EXTENSIBLE',
            `The ${name} catalogue takes no new codes; its codes may be relabelled, deactivated or given effective dates.`,
          );
        const errors = newCodeErrors(
          { name: c.name as CatalogueName, policy: c.policy, codePattern: c.codePattern } satisfies CatalogueDef,
          input,
          codes,
          dateOf(now),
        );
        if (errors.length) throw new Problem('REQUEST-VALIDATION', `${errors.length} field(s) invalid`, {}, errors);
        if (await selectCode(tx, name, input.code))
          throw new Problem('CATALOGUE-CODE-EXISTS', `${input.code} is already in the ${name} catalogue.`);
        const [row] = await tx.query<CodeRow>(
          `INSERT INTO catalogue_code (catalogue, code, label, description, active, effective_from, effective_to, attributes, version, recorded_at, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6::date, $7::date, $8::jsonb, 1, $9::timestamptz, $10) RETURNING ${CODE_COLS}`,
          [
            name,
            input.code,
            input.label,
            input.description ?? null,
            input.active ?? true,
            input.effectiveFrom ?? null,
            input.effectiveTo ?? null,
            input.attributes ?? {},
            now.toISOString(),
            recordedBy(actor),
          ],
        );
        const k = toCode(row);
        await record(tx, ctx, actor, now, k, 'added', {
          label: [null, k.label],
          active: [null, k.active],
          effectiveFrom: [null, k.effectiveFrom],
          effectiveTo: [null, k.effectiveTo],
          attributes: [null, k.attributes],
        });
        return k;
      }),
    );
  } catch (e) {
    // A concurrent writer added the same code between our check and our insert.
    if (pgErrorCode(e) === '23505') throw new Problem('CATALOGUE-CODE-EXISTS', `${input.code} is already in the ${name} catalogue.`);
    throw e;
  }
}

const PATCHABLE = ['label', 'description', 'active', 'effectiveFrom', 'effectiveTo'] as const;

/**
 * Change a code's label, description, active flag or effective dates, with If-Match; the prior
 * version is kept. Records that hold a code keep it whatever happens to it here.
 */
export async function updateCode(
  ctx: Ctx,
  actor: Principal,
  name: string,
  code: string,
  raw: unknown,
  ifMatch: number,
): Promise<CatalogueCode> {
  const parsed = CatalogueCodePatch.safeParse(raw);
  if (!parsed.success) throw new Problem('REQUEST-VALIDATION', 'The update is invalid.', {}, fieldErrorsFromZod(parsed.error, raw));
  const patch = parsed.data;
  if (!PATCHABLE.some((k) => patch[k] !== undefined)) throw new Problem('CATALOGUE-CHANGE-EMPTY');
  const now = ctx.clock.now();
  return announced(
    await ctx.db.transaction(async (tx) => {
      const c = await catalogueOr404(tx, name);
      let changed: (typeof PATCHABLE)[number][] = [];
      const { after } = await changeVersioned(tx, ctx, actor, now, {
        table: 'catalogue_code',
        key: { catalogue: name, code },
        label: `${name}/${code}`,
        returning: CODE_COLS,
        toRecord: toCode,
        ifMatch,
        lock: (t) => codeOr404(t, name, code, true),
        notFound: () => new Problem('CATALOGUE-CODE-NOT-FOUND', `The ${name} catalogue has no code ${code}.`),
        guard: () => {
          if (c.policy === 'read-only')
            throw new Problem('CATALOGUE-READ-ONLY', `The ${name} catalogue is read-only: code depends on each of its codes.`);
        },
        history: 'catalogue_code',
        set: (before) => {
          const merged = { ...before };
          for (const k of PATCHABLE) if (patch[k] !== undefined) (merged as Record<string, unknown>)[k] = patch[k];
          const errors = dateErrors(merged.effectiveFrom, merged.effectiveTo);
          if (errors.length) throw new Problem('REQUEST-VALIDATION', 'The updated code breaks a rule.', {}, errors);
          changed = PATCHABLE.filter((k) => merged[k] !== before[k]);
          if (!changed.length) throw new Problem('CATALOGUE-CHANGE-EMPTY', `${name}/${code} already has these values.`);
          return {
            sql: `label = $1, description = $2, active = $3, effective_from = $4::date, effective_to = $5::date`,
            params: [merged.label, merged.description, merged.active, merged.effectiveFrom, merged.effectiveTo],
          };
        },
        ...notice('updated', (before, after) => Object.fromEntries(changed.map((k) => [k, [before[k], after[k]]]))),
      });
      return after;
    }),
  );
}
