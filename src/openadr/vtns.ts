import { isProtocol, isVtnBaseUrl, normaliseBaseUrl, type Protocol } from '../../openadr/index';
import { reach } from '../access/permissions';
import { recordedBy, type Principal } from '../access/principal';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { changeVersioned } from '../kernel/versioned';
import { Problem, fieldError, validationProblem, type FieldError } from '../http/problem';
import { constraintName, pgErrorCode, type Sql } from '../storage/db';
import type { Vtn, VtnInput, VtnPatch } from './schema';
import { VTN_COLS, toVtn, type VtnRow } from './store';

/**
 * VTN records: the dispatch platforms the register knows (name, operating organisation, protocol,
 * the 2.0b vtnID or the 3.x base URL, a namespace code). The operator maintains all of them; an SO
 * or IMP those its organisation operates.
 */

/** 2.0b: a vtnID (and maybe a base URL); 3.x: a base URL and no vtnID. */
function referenceErrors(protocol: Protocol, vtnId: string | null | undefined, baseUrl: string | null | undefined): FieldError[] {
  const errors: FieldError[] = [];
  if (protocol === '2.0b' && !vtnId) errors.push(fieldError('vtnId', 'OPENADR-VTN-REFERENCE', 'A 2.0b VTN is known by its vtnID.'));
  if (protocol !== '2.0b' && vtnId)
    errors.push(fieldError('vtnId', 'OPENADR-VTN-REFERENCE', 'OpenADR 3.x has no vtnID: a 3.x VTN is known by its base URL.'));
  if (protocol !== '2.0b' && !baseUrl) errors.push(fieldError('baseUrl', 'OPENADR-VTN-REFERENCE', 'A 3.x VTN is known by its base URL.'));
  if (baseUrl && !isVtnBaseUrl(baseUrl))
    errors.push(
      fieldError(
        'baseUrl',
        'OPENADR-VTN-REFERENCE',
        'The base URL must be https (http only for localhost), without credentials, query or fragment.',
      ),
    );
  return errors;
}

function conflict(e: unknown): Problem | undefined {
  if (pgErrorCode(e) !== '23505') return undefined;
  return constraintName(e) === 'openadr_vtn_code_key' ? new Problem('OPENADR-VTN-CODE-TAKEN') : new Problem('OPENADR-VTN-DUPLICATE');
}

/** Refuse a code, vtnID or base URL another record holds (the unique indexes decide races). */
async function checkTaken(tx: Sql, v: { id?: string; code?: string; vtnId?: string | null; baseUrl?: string | null }) {
  const [row] = await tx.query<{ code: boolean | null; vtn_id: boolean | null; base_url: boolean | null }>(
    `SELECT upper(code) = upper($2) AS code, vtn_id = $3 AS vtn_id, base_url = $4 AS base_url FROM openadr_vtn
      WHERE id IS DISTINCT FROM $1 AND (upper(code) = upper($2) OR vtn_id = $3 OR base_url = $4) LIMIT 1`,
    [v.id ?? null, v.code ?? null, v.vtnId ?? null, v.baseUrl ?? null],
  );
  if (row?.code) throw new Problem('OPENADR-VTN-CODE-TAKEN', `VTN code ${v.code} is taken.`);
  if (row)
    throw new Problem(
      'OPENADR-VTN-DUPLICATE',
      row.vtn_id ? `vtnID ${v.vtnId} is already recorded.` : `Base URL ${v.baseUrl} is already recorded.`,
    );
}

export async function registerVtn(ctx: Ctx, p: Principal, input: VtnInput): Promise<Vtn> {
  const all = reach('vtns.write', p.roles).all;
  if (!all && input.operatorId && input.operatorId !== p.organisationId)
    throw new Problem('AUTH-ROLE-FORBIDDEN', 'A dispatch platform registers only the VTNs its own organisation operates.');
  const operatorId = input.operatorId ?? p.organisationId;
  const baseUrl = input.baseUrl ? normaliseBaseUrl(input.baseUrl) : null;
  const errors = referenceErrors(input.protocol, input.vtnId, baseUrl);
  if (errors.length) throw validationProblem(errors);
  const now = ctx.clock.now();
  try {
    return await ctx.db.transaction(async (tx) => {
      const [org] = await tx.query<{ status: string }>(`SELECT status FROM organisation WHERE id = $1`, [operatorId]);
      if (!org) throw validationProblem([fieldError('operatorId', 'ORG-NOT-FOUND', `No organisation ${operatorId}.`)]);
      if (org.status !== 'ACTIVE')
        throw validationProblem([fieldError('operatorId', 'ORG-NOT-ACTIVE', `Organisation ${operatorId} is ${org.status}.`)]);
      await checkTaken(tx, { code: input.code, vtnId: input.vtnId, baseUrl });
      const id = ctx.ids.next();
      const [row] = await tx.query<VtnRow>(
        `INSERT INTO openadr_vtn (id, code, name, operator_id, protocol, vtn_id, base_url, status, created_at, recorded_at, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'ACTIVE', $8::timestamptz, $8::timestamptz, $9) RETURNING ${VTN_COLS.replace(/v\./g, '')}`,
        [id, input.code, input.name, operatorId, input.protocol, input.vtnId ?? null, baseUrl, now.toISOString(), recordedBy(p)],
      );
      const vtn = toVtn(row);
      await writeAudit(tx, p, now, [
        {
          action: 'vtn.registered',
          recordType: 'openadr_vtn',
          recordId: id,
          organisationId: operatorId,
          detail: { code: vtn.code, protocol: vtn.protocol, vtnId: vtn.vtnId, baseUrl: vtn.baseUrl },
        },
      ]);
      await writeEvents(tx, ctx.ids, now, [
        {
          type: 'fmar.vtn.registered',
          subject: id,
          organisationId: operatorId,
          data: { vtnId: id, code: vtn.code, protocol: vtn.protocol },
        },
      ]);
      return vtn;
    });
  } catch (e) {
    throw conflict(e) ?? e;
  }
}

export async function listVtns(
  ctx: Ctx,
  q: { protocol?: string; operatorId?: string; status?: string; limit: number; after?: string },
): Promise<{ items: Vtn[]; next?: string }> {
  const params: unknown[] = [q.after ?? '', q.limit + 1];
  let where = `v.id > $1`;
  for (const [col, v] of [
    ['protocol', q.protocol],
    ['operator_id', q.operatorId],
    ['status', q.status],
  ] as const) {
    if (v !== undefined) {
      params.push(v);
      where += ` AND v.${col} = $${params.length}`;
    }
  }
  const rows = await ctx.db.query<VtnRow>(`SELECT ${VTN_COLS} FROM openadr_vtn v WHERE ${where} ORDER BY v.id LIMIT $2`, params);
  const items = rows.slice(0, q.limit).map(toVtn);
  return { items, next: rows.length > q.limit ? items[items.length - 1].id : undefined };
}

/** A VTN record by its ID or namespace code (every record is readable: vtns.read is `all`). */
export async function getVtn(ctx: Ctx, idOrCode: string): Promise<Vtn> {
  const [row] = await ctx.db.query<VtnRow>(`SELECT ${VTN_COLS} FROM openadr_vtn v WHERE v.id = $1 OR upper(v.code) = upper($1)`, [
    idOrCode,
  ]);
  if (!row) throw new Problem('OPENADR-VTN-NOT-FOUND', `No VTN ${idOrCode}.`);
  return toVtn(row);
}

export async function updateVtn(ctx: Ctx, p: Principal, id: string, patch: VtnPatch, ifMatch: number): Promise<Vtn> {
  const now = ctx.clock.now();
  try {
    return await ctx.db.transaction(async (tx) => {
      let changed: string[] = [];
      const { after } = await changeVersioned(tx, ctx, p, now, {
        table: 'openadr_vtn',
        alias: 'v',
        key: { id },
        label: `VTN ${id}`,
        returning: VTN_COLS,
        toRecord: toVtn,
        ifMatch,
        lock: async (t) => {
          const params: unknown[] = [id];
          const own = reach('vtns.write', p.roles).all ? 'TRUE' : (params.push(p.organisationId), `v.operator_id = $${params.length}`);
          const [cur] = await t.query<VtnRow>(`SELECT ${VTN_COLS} FROM openadr_vtn v WHERE v.id = $1 AND ${own} FOR UPDATE`, params);
          return cur ? toVtn(cur) : undefined;
        },
        notFound: () => new Problem('OPENADR-VTN-NOT-FOUND', `No VTN ${id}.`),
        set: async (cur) => {
          const next = {
            name: patch.name ?? cur.name,
            vtnId: patch.vtnId !== undefined ? patch.vtnId : cur.vtnId,
            baseUrl: patch.baseUrl === undefined ? cur.baseUrl : patch.baseUrl === null ? null : normaliseBaseUrl(patch.baseUrl),
            status: patch.status ?? cur.status,
          };
          if (!isProtocol(cur.protocol)) throw new Error(`openadr_vtn ${id} has protocol ${cur.protocol}`);
          const errors = referenceErrors(cur.protocol, next.vtnId, next.baseUrl);
          if (errors.length) throw validationProblem(errors);
          await checkTaken(tx, { id, vtnId: next.vtnId, baseUrl: next.baseUrl });
          changed = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
          return { sql: 'name = $1, vtn_id = $2, base_url = $3, status = $4', params: [next.name, next.vtnId, next.baseUrl, next.status] };
        },
        audit: (before, after) => [
          {
            action: 'vtn.updated',
            recordType: 'openadr_vtn',
            recordId: id,
            organisationId: before.operatorId,
            detail: { changed, before, version: after.version },
          },
        ],
        events: (before, after) => [
          {
            type: 'fmar.vtn.updated',
            subject: id,
            organisationId: before.operatorId,
            data: { vtnId: id, code: before.code, changed, status: after.status },
          },
        ],
      });
      return after;
    });
  } catch (e) {
    throw conflict(e) ?? e;
  }
}

/** How a caller names a VTN: its ID or code, its 2.0b vtnID, or its 3.x base URL. */
export interface VtnRef {
  vtn?: string;
  vtnId?: string;
  vtnUrl?: string;
}

/** The VTN row a reference names, or undefined. */
export async function findVtn(db: Sql, ref: VtnRef): Promise<VtnRow | undefined> {
  const [row] =
    ref.vtn !== undefined
      ? await db.query<VtnRow>(`SELECT ${VTN_COLS} FROM openadr_vtn v WHERE v.id = $1 OR upper(v.code) = upper($1)`, [ref.vtn])
      : ref.vtnId !== undefined
        ? await db.query<VtnRow>(`SELECT ${VTN_COLS} FROM openadr_vtn v WHERE v.vtn_id = $1`, [ref.vtnId])
        : ref.vtnUrl !== undefined
          ? await db.query<VtnRow>(`SELECT ${VTN_COLS} FROM openadr_vtn v WHERE v.base_url = $1`, [normaliseBaseUrl(ref.vtnUrl)])
          : [];
  return row;
}
