import { z } from '@hono/zod-openapi';
import { isAssetLimited, unitWithinAssetLimit, withinAssetLimit } from '../access/asset-limit';
import { reach } from '../access/permissions';
import { recordedBy, type Principal } from '../access/principal';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { changeVersioned } from '../kernel/versioned';
import { Problem, fieldError, validationProblem } from '../http/problem';
import type { Sql } from '../storage/db';

/**
 * Contracts (issue: switching, part 3): System Operators record that an FSP delivers a product
 * with an asset over a period. A CONFIRMED contract is a service window that no switch may cross.
 */
export const CONTRACT_STATUSES = ['OFFERED', 'CONFIRMED', 'TERMINATED'] as const;
/** The contract lifecycle: which status may follow which (a confirmed contract is a service window switches respect). */
export const CONTRACT_NEXT: Readonly<Record<(typeof CONTRACT_STATUSES)[number], readonly (typeof CONTRACT_STATUSES)[number][]>> = {
  OFFERED: ['CONFIRMED', 'TERMINATED'],
  CONFIRMED: ['TERMINATED'],
  TERMINATED: [],
};

export const ContractInput = z
  .object({
    assetId: z.string().min(1).max(64),
    fspId: z.string().min(1).max(64),
    product: z.string().min(1).max(64).openapi({ example: 'DFS' }),
    validFrom: z.iso.datetime({ offset: true }),
    validTo: z.iso.datetime({ offset: true }),
    status: z.enum(CONTRACT_STATUSES).default('OFFERED'),
    reference: z.string().max(120).optional(),
    systemOperatorId: z.string().max(64).optional().openapi({ description: 'Operator only: record for a System Operator.' }),
  })
  .strict()
  .openapi('ContractInput');

export const Contract = z
  .object({
    id: z.string(),
    systemOperatorId: z.string(),
    fspId: z.string(),
    assetId: z.string().nullable(),
    product: z.string(),
    validFrom: z.string(),
    validTo: z.string(),
    status: z.enum(CONTRACT_STATUSES),
    reference: z.string().nullable(),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
  })
  .openapi('Contract');
export type Contract = z.infer<typeof Contract>;

const COLS = `id, system_operator_id, fsp_id, asset_id, product, lower(period) AS valid_from, upper(period) AS valid_to, status, reference, version, recorded_at, recorded_by`;
const iso = (v: unknown) => new Date(v as string).toISOString();
/** A row as COLS selects it (contract, 007_switching.sql), its period split in two. */
interface ContractRow {
  id: string;
  system_operator_id: string;
  fsp_id: string;
  asset_id: string | null;
  product: string;
  valid_from: Date;
  valid_to: Date;
  status: Contract['status'];
  reference: string | null;
  version: number;
  recorded_at: Date;
  recorded_by: string;
}

function toContract(r: ContractRow): Contract {
  return {
    id: r.id,
    systemOperatorId: r.system_operator_id,
    fspId: r.fsp_id,
    assetId: r.asset_id,
    product: r.product,
    validFrom: iso(r.valid_from),
    validTo: iso(r.valid_to),
    status: r.status,
    reference: r.reference ?? null,
    version: r.version,
    recordedAt: iso(r.recorded_at),
    recordedBy: r.recorded_by,
  };
}

function visible(p: Principal, params: unknown[]): string {
  // A contract is about its asset, or (asset_id NULL) about every member of its market unit.
  const limit = isAssetLimited(p)
    ? `(${withinAssetLimit(p, params, 'asset_id')} OR (asset_id IS NULL AND ${unitWithinAssetLimit(p, params, 'market_unit_id')}))`
    : 'TRUE';
  if (reach('contracts.read', p.roles).all) return limit;
  params.push(p.organisationId);
  return `(${limit} AND (system_operator_id = $${params.length} OR fsp_id = $${params.length}))`;
}

export async function recordContract(ctx: Ctx, p: Principal, input: z.infer<typeof ContractInput>): Promise<Contract> {
  const soId = input.systemOperatorId && reach('contracts.write', p.roles).all ? input.systemOperatorId : p.organisationId;
  const from = new Date(input.validFrom);
  const to = new Date(input.validTo);
  if (!(to > from)) throw validationProblem([fieldError('validTo', 'CONTRACT-PERIOD')]);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [fsp] = await tx.query(
      `SELECT 1 FROM organisation WHERE id = $1 AND status = 'ACTIVE' AND roles && ARRAY['FSP', 'AGGREGATOR']::text[]`,
      [input.fspId],
    );
    if (!fsp) throw validationProblem([fieldError('fspId', 'CONTRACT-PARTY', `No active FSP ${input.fspId}.`)]);
    const [asset] = await tx.query(`SELECT 1 FROM asset WHERE id = $1 AND deregistered_at IS NULL`, [input.assetId]);
    if (!asset) throw validationProblem([fieldError('assetId', 'CONTRACT-PARTY', `No registered asset ${input.assetId}.`)]);
    const id = ctx.ids.next();
    const [row] = await tx.query<ContractRow>(
      `INSERT INTO contract (id, system_operator_id, fsp_id, asset_id, product, period, status, reference, recorded_at, recorded_by)
       VALUES ($1, $2, $3, $4, $5, tstzrange($6::timestamptz, $7::timestamptz), $8, $9, $10::timestamptz, $11) RETURNING ${COLS}`,
      [
        id,
        soId,
        input.fspId,
        input.assetId,
        input.product,
        from.toISOString(),
        to.toISOString(),
        input.status ?? 'OFFERED',
        input.reference ?? null,
        now.toISOString(),
        recordedBy(p),
      ],
    );
    const c = toContract(row);
    await writeAudit(tx, p, now, [
      {
        action: 'contract.recorded',
        recordType: 'contract',
        recordId: id,
        organisationId: soId,
        detail: { fspId: c.fspId, assetId: c.assetId, product: c.product, validFrom: c.validFrom, validTo: c.validTo, status: c.status },
      },
    ]);
    await writeEvents(tx, ctx.ids, now, [
      {
        type: 'fmar.contract.recorded',
        subject: id,
        organisationId: c.fspId,
        data: {
          contractId: id,
          assetId: c.assetId,
          fspId: c.fspId,
          systemOperatorId: soId,
          status: c.status,
          validFrom: c.validFrom,
          validTo: c.validTo,
        },
      },
    ]);
    return c;
  });
}

async function row(tx: Sql, p: Principal, id: string, lock = false) {
  const params: unknown[] = [id];
  const [r] = await tx.query<ContractRow>(
    `SELECT ${COLS} FROM contract WHERE id = $1 AND ${visible(p, params)}${lock ? ' FOR UPDATE' : ''}`,
    params,
  );
  if (!r) throw new Problem('CONTRACT-NOT-FOUND', `No contract ${id}.`);
  return r;
}

export async function getContract(ctx: Ctx, p: Principal, id: string): Promise<Contract> {
  return toContract(await row(ctx.db, p, id));
}

/**
 * A keyset page of the contracts the caller may read, in period-start then ID order. The position
 * after a row is `<its validFrom>|<its ID>` (routes.ts carries it in an opaque cursor).
 */
export async function listContracts(
  ctx: Ctx,
  p: Principal,
  q: { assetId?: string; status?: string },
  page: { limit: number; after?: string },
): Promise<{ items: Contract[]; next?: string }> {
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
  if (page.after !== undefined) {
    const at = page.after.lastIndexOf('|');
    const from = new Date(page.after.slice(0, at));
    if (at < 1 || Number.isNaN(from.getTime())) throw new Problem('REQUEST-QUERY-INVALID', 'cursor: not a cursor of this list.');
    params.push(from.toISOString(), page.after.slice(at + 1));
    where += ` AND (lower(period), id) > ($${params.length - 1}::timestamptz, $${params.length})`;
  }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<ContractRow>(
    `SELECT ${COLS} FROM contract WHERE ${where} ORDER BY lower(period), id LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, page.limit).map(toContract);
  const last = items[items.length - 1];
  return { items, next: rows.length > page.limit ? `${last.validFrom}|${last.id}` : undefined };
}

/** Move a contract on: OFFERED → CONFIRMED → TERMINATED. Only its System Operator (or the operator). */
export async function setContractStatus(ctx: Ctx, p: Principal, id: string, status: (typeof CONTRACT_STATUSES)[number]): Promise<Contract> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const { after } = await changeVersioned(tx, ctx, p, now, {
      table: 'contract',
      key: { id },
      label: `Contract ${id}`,
      returning: COLS,
      toRecord: toContract,
      lock: async (t) => toContract(await row(t, p, id, true)),
      notFound: () => new Problem('CONTRACT-NOT-FOUND', `No contract ${id}.`),
      guard: (r) => {
        if (!reach('contracts.write', p.roles).all && r.systemOperatorId !== p.organisationId)
          throw new Problem('CONTRACT-NOT-FOUND', `No contract ${id}.`);
        if (!CONTRACT_NEXT[r.status].includes(status))
          throw new Problem('CONTRACT-STATUS-TRANSITION', `A ${r.status} contract cannot become ${status}.`);
      },
      set: () => ({ sql: 'status = $1', params: [status] }),
      audit: (r) => [
        {
          action: 'contract.status-changed',
          recordType: 'contract',
          recordId: id,
          organisationId: r.systemOperatorId,
          detail: { from: r.status, to: status },
        },
      ],
      events: (r) => [
        {
          type: 'fmar.contract.status-changed',
          subject: id,
          organisationId: r.fspId,
          data: { contractId: id, assetId: r.assetId, fspId: r.fspId, from: r.status, to: status },
        },
      ],
    });
    return after;
  });
}
