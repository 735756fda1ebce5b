import {
  Oadr2bError,
  isVenId,
  parseRegistrationDocument,
  writeCreatedPartyRegistration,
  type CreatedPartyRegistration,
  type Oadr2bDocument,
  type ValuesMap,
} from '../../openadr/index';
import { reach } from '../access/permissions';
import { recordedBy, type Principal } from '../access/principal';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents, type ChangeEvent } from '../events/outbox';
import { changeVersioned } from '../kernel/versioned';
import { Problem, fieldError, validationProblem, type FieldError } from '../http/problem';
import { constraintName, pgErrorCode, type Sql } from '../storage/db';
import type { VenRegistration, VenRegistrationInput, VenRegistrationPatch } from './schema';
import { releaseBindings } from './resources';
import type { OrganisationRole } from '../access/roles';
import { REG_COLS, REG_FROM, registrationVisibility, toRegistration, type RegistrationRow } from './store';
import { findVtn } from './vtns';

/**
 * VEN registrations (the VEN_ID(s) and VTN_ID(s) of the FMAR design): organisation O holds VEN ID V
 * on VTN T, keyed by (protocol, VTN, VEN ID), with venName, the OpenADR clientID where there is
 * one, the 2.0b registrationID, status and validity. FSPs and aggregators maintain their own, SOs
 * and IMPs those on the VTNs they operate, the operator all; every change is audited and announced.
 */

/** What OpenADR 3.1 writes beside the native fields: further attributes of the ven object. */
export interface RegistrationExtras {
  attributes?: ValuesMap[];
  details?: Record<string, unknown>;
  source?: 'api' | 'oadr2b' | 'openadr3.1';
}

const isFspLike = (roles: readonly string[]) => roles.includes('FSP') || roles.includes('AGGREGATOR');

function conflict(e: unknown): Problem | undefined {
  if (pgErrorCode(e) !== '23505') return undefined;
  return constraintName(e) === 'ven_registration_name_key' ? new Problem('OPENADR-VEN-NAME-TAKEN') : new Problem('OPENADR-VEN-ID-TAKEN');
}

/** Refuse a VEN ID or venName that a live registration on the VTN holds. */
async function checkTaken(tx: Sql, vtn: string, v: { id?: string; venId?: string; venName?: string }) {
  const [row] = await tx.query<{ id_taken: boolean | null }>(
    `SELECT ven_id = $3 AS id_taken FROM ven_registration WHERE vtn = $1 AND status <> 'CANCELLED' AND id IS DISTINCT FROM $2 AND (ven_id = $3 OR ven_name = $4) LIMIT 1`,
    [vtn, v.id ?? null, v.venId ?? null, v.venName ?? null],
  );
  if (row?.id_taken) throw new Problem('OPENADR-VEN-ID-TAKEN', `VEN ID ${v.venId} is already registered on this VTN.`);
  if (row) throw new Problem('OPENADR-VEN-NAME-TAKEN', `venName ${v.venName} is already used on this VTN.`);
}

function checkValidity(from: Date, to: Date | null) {
  if (to && !(to > from)) throw validationProblem([fieldError('validTo', 'OPENADR-VALIDITY')]);
}

export async function registerVen(
  ctx: Ctx,
  p: Principal,
  input: VenRegistrationInput,
  extras: RegistrationExtras = {},
): Promise<VenRegistration> {
  const all = reach('vens.write', p.roles).all;
  const orgId = input.organisationId ?? (isFspLike(p.roles) ? p.organisationId : undefined);
  if (!orgId) throw validationProblem([fieldError('organisationId', 'OPENADR-ORGANISATION-REQUIRED')]);
  const now = ctx.clock.now();
  const from = input.validFrom ? new Date(input.validFrom) : now;
  const to = input.validTo ? new Date(input.validTo) : null;
  checkValidity(from, to);
  try {
    return await ctx.db.transaction(async (tx) => {
      const vtn = await findVtn(tx, { vtn: input.vtn });
      if (!vtn || vtn.status !== 'ACTIVE')
        throw validationProblem([fieldError('vtn', 'OPENADR-VTN-UNKNOWN', `${input.vtn} is not an active VTN record.`)]);
      if (!all && orgId !== p.organisationId && vtn.operator_id !== p.organisationId) {
        throw new Problem(
          'AUTH-ROLE-FORBIDDEN',
          'VEN registrations are recorded by their own organisation, by the operator, or by the organisation that operates the VTN.',
        );
      }
      const errors: FieldError[] = [];
      if (!isVenId(vtn.protocol, input.venId)) errors.push(fieldError('venId', 'OPENADR-VEN-ID-FORMAT'));
      if ((vtn.protocol === '2.0b') !== (input.registrationId !== undefined))
        errors.push(fieldError('registrationId', 'OPENADR-REGISTRATION-ID'));
      if (vtn.protocol === '2.0b' && input.clientId !== undefined)
        errors.push(fieldError('clientId', 'OPENADR-CLIENT-ID-FORMAT', 'OpenADR 2.0b has no clientID.'));
      const [org] = await tx.query<{ status: string; roles: OrganisationRole[] }>(
        `SELECT status, to_jsonb(roles) AS roles FROM organisation WHERE id = $1`,
        [orgId],
      );
      if (!org) errors.push(fieldError('organisationId', 'ORG-NOT-FOUND', `No organisation ${orgId}.`));
      else if (org.status !== 'ACTIVE')
        errors.push(fieldError('organisationId', 'ORG-NOT-ACTIVE', `Organisation ${orgId} is ${org.status}.`));
      else if (!isFspLike(org.roles)) errors.push(fieldError('organisationId', 'ORG-NOT-FSP', 'A VEN belongs to an FSP or aggregator.'));
      if (errors.length) throw validationProblem(errors);
      await checkTaken(tx, vtn.id, { venId: input.venId, venName: input.venName });
      // The VTN's operator vouches for what it records itself; others await its confirmation.
      const confirmation = !(await hasRegisteredOperator(tx, vtn.operator_id))
        ? 'SELF_DECLARED'
        : p.organisationId === vtn.operator_id
          ? 'CONFIRMED'
          : 'UNCONFIRMED';
      const id = ctx.ids.next();
      await tx.query(
        `INSERT INTO ven_registration (id, organisation_id, vtn, protocol, ven_id, ven_name, client_id, registration_id, targets, attributes, details, status,
           valid_from, valid_to, created_at, recorded_at, recorded_by, confirmation, confirmation_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10::jsonb, $11::jsonb, 'ACTIVE', $12::timestamptz, $13::timestamptz, $14::timestamptz, $14::timestamptz, $15,
           $16, CASE WHEN $16 = 'CONFIRMED' THEN $14::timestamptz END)`,
        [
          id,
          orgId,
          vtn.id,
          vtn.protocol,
          input.venId,
          input.venName,
          input.clientId ?? null,
          input.registrationId ?? null,
          input.targets ?? [],
          extras.attributes ?? [],
          extras.details ?? {},
          from.toISOString(),
          to?.toISOString() ?? null,
          now.toISOString(),
          recordedBy(p),
          confirmation,
        ],
      );
      const reg = (await selectRegistration(tx, id))!;
      const detail = {
        vtn: vtn.id,
        vtnCode: vtn.code,
        protocol: vtn.protocol,
        venId: input.venId,
        venName: input.venName,
        clientId: input.clientId ?? null,
        registrationId: input.registrationId ?? null,
        confirmation,
        source: extras.source ?? 'api',
      };
      await writeAudit(tx, p, now, [
        { action: 'ven_registration.registered', recordType: 'ven_registration', recordId: id, organisationId: orgId, detail },
      ]);
      await announce(tx, ctx, now, 'fmar.ven-registration.registered', reg, { venName: input.venName, confirmation });
      return toRegistration(reg, now);
    });
  } catch (e) {
    throw conflict(e) ?? e;
  }
}

/**
 * A VTN has a registered operator when the organisation operating it is an ACTIVE dispatch platform
 * (SYSTEM_OPERATOR or INDEPENDENT_MARKET_PLATFORM): it can confirm registrations. A VTN recorded
 * under the register's own operator, or whose operator has left, has none: its registrations are self-declared.
 */
async function hasRegisteredOperator(tx: Sql, operatorId: string): Promise<boolean> {
  const [o] = await tx.query<{ ok: boolean }>(
    `SELECT status = 'ACTIVE' AND roles && ARRAY['SYSTEM_OPERATOR', 'INDEPENDENT_MARKET_PLATFORM']::text[] AS ok FROM organisation WHERE id = $1`,
    [operatorId],
  );
  return o?.ok === true;
}

/** Events to the VEN's organisation and, when another, to the VTN's operator. */
async function announce(tx: Sql, ctx: Ctx, now: Date, type: string, r: RegistrationRow, extra: Record<string, unknown> = {}) {
  await writeEvents(tx, ctx.ids, now, registrationEvents(type, r, extra));
}

/** A registration's event, to its organisation and its VTN's operator. */
function registrationEvents(type: string, r: RegistrationRow, extra: Record<string, unknown> = {}): ChangeEvent[] {
  const data = {
    registrationId: r.id,
    organisationId: r.organisation_id,
    vtn: r.vtn,
    vtnCode: r.vtn_code,
    protocol: r.protocol,
    venId: r.ven_id,
    status: r.status,
    ...extra,
  };
  const to = [...new Set([r.organisation_id, r.vtn_operator_id])];
  return to.map((organisationId) => ({ type, subject: r.id, organisationId, data }));
}

/** A registration as a versioned record (src/kernel/versioned.ts): read with its VTN, locked; no history is kept, the audit trail has each change. */
function registrationRecord(p: Principal, id: string) {
  return {
    table: 'ven_registration',
    alias: 'r',
    key: { id },
    label: `Registration ${id}`,
    returning: REG_COLS,
    toRecord: (r: RegistrationRow) => r,
    lock: (t: Sql) => selectRegistration(t, id, { p, action: 'vens.write' }, true),
    notFound: () => new Problem('OPENADR-VEN-NOT-FOUND', `No VEN registration ${id}.`),
  };
}

/** The joined VTN, so that the updated row reads as selectRegistration reads it. */
const WITH_VTN = { from: 'openadr_vtn v', where: 'v.id = r.vtn' };

const refuseCancelled = (cur: RegistrationRow) => {
  if (cur.status === 'CANCELLED') throw new Problem('OPENADR-REGISTRATION-CANCELLED');
};

/**
 * A registration by its ID, or (`{ vtn, venId }`) the live one holding that VEN ID on that VTN (the
 * key, one index lookup), with the caller's visibility when given.
 */
export async function selectRegistration(
  db: Sql,
  key: string | { vtn: string; venId: string },
  visibility?: { p: Principal; action: 'vens.read' | 'vens.write' },
  lock = false,
): Promise<RegistrationRow | undefined> {
  const params: unknown[] = typeof key === 'string' ? [key] : [key.vtn, key.venId];
  const where = typeof key === 'string' ? 'r.id = $1' : `r.vtn = $1 AND r.ven_id = $2 AND r.status <> 'CANCELLED'`;
  const vis = visibility ? registrationVisibility(visibility.p, params, visibility.action) : 'TRUE';
  const [row] = await db.query<RegistrationRow>(
    `SELECT ${REG_COLS} FROM ${REG_FROM} WHERE ${where} AND ${vis}${lock ? ' FOR UPDATE OF r' : ''}`,
    params,
  );
  return row;
}

export async function getVenRegistration(ctx: Ctx, p: Principal, id: string): Promise<VenRegistration> {
  const row = await selectRegistration(ctx.db, id, { p, action: 'vens.read' });
  if (!row) throw new Problem('OPENADR-VEN-NOT-FOUND', `No VEN registration ${id}.`);
  return toRegistration(row, ctx.clock.now());
}

export interface RegistrationFilter {
  organisationId?: string;
  vtn?: string;
  protocol?: string;
  status?: string;
  venName?: string;
  clientId?: string;
}

export async function listVenRegistrations(
  ctx: Ctx,
  p: Principal,
  f: RegistrationFilter,
  page: { limit: number; after?: string },
): Promise<{ items: VenRegistration[]; next?: string }> {
  const params: unknown[] = [page.after ?? '', page.limit + 1];
  let where = `r.id > $1 AND ${registrationVisibility(p, params, 'vens.read')}`;
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where += ` AND ${sql.replaceAll('?', `$${params.length}`)}`;
  };
  if (f.organisationId) add('r.organisation_id = ?', f.organisationId);
  if (f.vtn) add('(v.id = ? OR upper(v.code) = upper(?))', f.vtn);
  if (f.protocol) add('r.protocol = ?', f.protocol);
  if (f.status) add('r.status = ?', f.status);
  if (f.venName) add('r.ven_name = ?', f.venName);
  if (f.clientId) add('r.client_id = ?', f.clientId);
  const rows = await ctx.db.query<RegistrationRow>(`SELECT ${REG_COLS} FROM ${REG_FROM} WHERE ${where} ORDER BY r.id LIMIT $2`, params);
  const now = ctx.clock.now();
  const items = rows.slice(0, page.limit).map((r) => toRegistration(r, now));
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

/** A change to a registration; OpenADR 3.1 also replaces the further attributes. */
export type RegistrationChange = VenRegistrationPatch & { attributes?: ValuesMap[] };

/** Update a live registration; `ifMatch` (the native API's If-Match) is checked when given. */
export async function updateVenRegistration(
  ctx: Ctx,
  p: Principal,
  id: string,
  patch: RegistrationChange,
  ifMatch?: number,
): Promise<VenRegistration> {
  const now = ctx.clock.now();
  try {
    return await ctx.db.transaction(async (tx) => {
      let changed: string[] = [];
      const { after } = await changeVersioned(tx, ctx, p, now, {
        ...registrationRecord(p, id),
        ifMatch,
        set: async (cur) => {
          refuseCancelled(cur);
          if (cur.protocol === '2.0b' && patch.clientId)
            throw validationProblem([fieldError('clientId', 'OPENADR-CLIENT-ID-FORMAT', 'OpenADR 2.0b has no clientID.')]);
          const from = patch.validFrom ? new Date(patch.validFrom) : new Date(cur.valid_from);
          const to =
            patch.validTo === undefined
              ? cur.valid_to
                ? new Date(cur.valid_to)
                : null
              : patch.validTo === null
                ? null
                : new Date(patch.validTo);
          checkValidity(from, to);
          const venName = patch.venName ?? cur.ven_name;
          if (venName !== cur.ven_name) await checkTaken(tx, cur.vtn, { id, venName });
          changed = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
          return {
            sql: `ven_name = $1, client_id = $2, targets = $3::text[], attributes = $4::jsonb, status = $5, valid_from = $6::timestamptz, valid_to = $7::timestamptz`,
            params: [
              venName,
              patch.clientId === undefined ? cur.client_id : patch.clientId,
              patch.targets ?? cur.targets,
              patch.attributes ?? cur.attributes,
              patch.status ?? cur.status,
              from.toISOString(),
              to?.toISOString() ?? null,
            ],
            ...WITH_VTN,
          };
        },
        audit: (cur, row) => [
          {
            action: 'ven_registration.updated',
            recordType: 'ven_registration',
            recordId: id,
            organisationId: cur.organisation_id,
            detail: { changed, before: toRegistration(cur, now), version: Number(row.version) },
          },
        ],
        events: (_, row) => registrationEvents('fmar.ven-registration.updated', row, { changed }),
      });
      return toRegistration(after, now);
    });
  } catch (e) {
    throw conflict(e) ?? e;
  }
}

/** Cancel: the record stays (read-only) and releases its VEN ID and venName on the VTN, and its resources' assets. */
export async function cancelVenRegistration(
  ctx: Ctx,
  p: Principal,
  id: string,
  o: { ifMatch?: number; reason?: string } = {},
): Promise<VenRegistration> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    let releasedResources: Awaited<ReturnType<typeof releaseBindings>> | undefined;
    const { after } = await changeVersioned(tx, ctx, p, now, {
      ...registrationRecord(p, id),
      ifMatch: o.ifMatch,
      set: (cur) => {
        refuseCancelled(cur);
        return { sql: `status = 'CANCELLED'`, params: [], ...WITH_VTN };
      },
      afterWrite: async () => {
        releasedResources = await releaseBindings(tx, p, now, id);
      },
      audit: (cur) => [
        {
          action: 'ven_registration.cancelled',
          recordType: 'ven_registration',
          recordId: id,
          organisationId: cur.organisation_id,
          detail: { reason: o.reason ?? null, venId: cur.ven_id, vtn: cur.vtn, releasedResources },
        },
      ],
      events: (_, row) => registrationEvents('fmar.ven-registration.cancelled', row),
    });
    return toRegistration(after, now);
  });
}

/** A registration as its VTN's operator reaches it to confirm or reject it: only on a VTN its organisation operates. */
async function lockForOperator(tx: Sql, p: Principal, id: string): Promise<RegistrationRow | undefined> {
  const [row] = await tx.query<RegistrationRow>(
    `SELECT ${REG_COLS} FROM ${REG_FROM} WHERE r.id = $1 AND v.operator_id = $2 FOR UPDATE OF r`,
    [id, p.organisationId],
  );
  return row;
}

/**
 * The VTN's operator confirms a registration (UNCONFIRMED → CONFIRMED) or rejects it with a reason
 * (UNCONFIRMED or CONFIRMED → REJECTED, and the registration is cancelled: it releases its VEN ID,
 * venName and resources on the VTN). A versioned change, audited, announced to both sides.
 */
export async function decideVenRegistration(
  ctx: Ctx,
  p: Principal,
  id: string,
  decision: { confirm: true } | { confirm: false; reason: string | undefined },
  ifMatch?: number,
): Promise<VenRegistration> {
  const now = ctx.clock.now();
  const verb = decision.confirm ? 'confirmed' : 'rejected';
  return ctx.db.transaction(async (tx) => {
    let releasedResources: string[] | undefined;
    const { after } = await changeVersioned(tx, ctx, p, now, {
      ...registrationRecord(p, id),
      lock: (t: Sql) => lockForOperator(t, p, id),
      ifMatch,
      guard: (cur) => {
        refuseCancelled(cur);
        const from = decision.confirm ? ['UNCONFIRMED'] : ['UNCONFIRMED', 'CONFIRMED'];
        if (!from.includes(cur.confirmation))
          throw new Problem(
            'OPENADR-CONFIRMATION-STATE',
            `Registration ${id} is ${cur.confirmation}; only ${from.join(' or ')} registrations can be ${verb}.`,
          );
      },
      set: () => {
        if (decision.confirm)
          return {
            sql: `confirmation = 'CONFIRMED', confirmation_reason = NULL, confirmation_at = $1::timestamptz`,
            params: [now.toISOString()],
            ...WITH_VTN,
          };
        const reason = decision.reason?.trim();
        if (!reason) throw validationProblem([fieldError('reason', 'OPENADR-REJECTION-REASON')]);
        return {
          sql: `confirmation = 'REJECTED', confirmation_reason = $1, confirmation_at = $2::timestamptz, status = 'CANCELLED'`,
          params: [reason, now.toISOString()],
          ...WITH_VTN,
        };
      },
      afterWrite: async () => {
        if (!decision.confirm) releasedResources = await releaseBindings(tx, p, now, id);
      },
      audit: (cur, row) => [
        {
          action: `ven_registration.${verb}`,
          recordType: 'ven_registration',
          recordId: id,
          organisationId: cur.organisation_id,
          detail: {
            vtn: cur.vtn,
            venId: cur.ven_id,
            before: cur.confirmation,
            reason: row.confirmation_reason ?? null,
            version: Number(row.version),
            ...(releasedResources ? { releasedResources } : {}),
          },
        },
      ],
      events: (_, row) =>
        registrationEvents(`fmar.ven-registration.${verb}`, row, {
          confirmation: row.confirmation,
          reason: row.confirmation_reason ?? null,
        }),
    });
    return toRegistration(after, now);
  });
}

/**
 * Record a 2.0b registration from an OpenADR 2.0b document: the VTN's oadrCreatedPartyRegistration
 * (the VTN is the record with its vtnID; a non-2xx responseCode is refused, nothing recorded) or the
 * VEN's oadrCreatePartyRegistration carrying the IDs its VTN assigned (the VTN named by `vtn`, the
 * venName by its oadrVenName). venID and registrationID are taken as the VTN issued them.
 */
export async function importRegistrationDocument(
  ctx: Ctx,
  p: Principal,
  body: string | Uint8Array,
  q: { organisationId?: string; venName?: string; vtn?: string; validFrom?: string; validTo?: string },
): Promise<VenRegistration> {
  let doc: Oadr2bDocument;
  try {
    doc = parseRegistrationDocument(body);
  } catch (e) {
    if (e instanceof Oadr2bError) throw new Problem(e.code, e.message);
    throw e;
  }
  const common = { organisationId: q.organisationId, validFrom: q.validFrom, validTo: q.validTo };
  if (doc.kind === 'oadrCreatedPartyRegistration') {
    const c = doc.created;
    const vtn = await findVtn(ctx.db, { vtnId: c.vtnId });
    if (!vtn)
      throw validationProblem([
        fieldError('vtnID', 'OPENADR-VTN-UNKNOWN', `No 2.0b VTN record has vtnID ${c.vtnId}; register the VTN first.`),
      ]);
    if (q.vtn !== undefined && q.vtn !== vtn.id && q.vtn.toUpperCase() !== vtn.code.toUpperCase())
      throw validationProblem([
        fieldError('vtn', 'OPENADR-VTN-UNKNOWN', `The document's vtnID ${c.vtnId} is VTN ${vtn.code}, not ${q.vtn}.`),
      ]);
    const details = {
      document: doc.kind,
      requestId: c.requestId,
      responseCode: c.responseCode,
      responseDescription: c.responseDescription,
      profiles: c.profiles,
      pollFreq: c.pollFreq,
    };
    return registerVen(
      ctx,
      p,
      { vtn: vtn.id, venId: c.venId, venName: q.venName ?? c.venId, registrationId: c.registrationId, ...common },
      { details, source: 'oadr2b' },
    );
  }
  const r = doc.request;
  if (q.vtn === undefined)
    throw validationProblem([
      fieldError('vtn', 'OPENADR-VTN-UNKNOWN', 'An oadrCreatePartyRegistration carries no vtnID: name the VTN record in the query (vtn).'),
    ]);
  const vtn = await findVtn(ctx.db, { vtn: q.vtn });
  if (!vtn || vtn.protocol !== '2.0b')
    throw validationProblem([fieldError('vtn', 'OPENADR-VTN-UNKNOWN', `${q.vtn} is not a 2.0b VTN record.`)]);
  const details = {
    document: doc.kind,
    requestId: r.requestId,
    profiles: [{ name: r.profileName, transports: [r.transportName] }],
    transportAddress: r.transportAddress,
    reportOnly: r.reportOnly,
    xmlSignature: r.xmlSignature,
    httpPullModel: r.httpPullModel,
  };
  return registerVen(
    ctx,
    p,
    { vtn: vtn.id, venId: r.venId, venName: q.venName ?? r.venName ?? r.venId, registrationId: r.registrationId, ...common },
    { details, source: 'oadr2b' },
  );
}

/**
 * A 2.0b registration as the oadrCreatedPartyRegistration its VTN issued. Only a registration
 * recorded from that answer exports: the register never invents a response code, requestID or
 * profile (OPENADR-EXPORT-NOT-ISSUED otherwise).
 */
export async function exportCreatedPartyRegistration(ctx: Ctx, p: Principal, id: string): Promise<string> {
  const r = await selectRegistration(ctx.db, id, { p, action: 'vens.read' });
  if (!r) throw new Problem('OPENADR-VEN-NOT-FOUND', `No VEN registration ${id}.`);
  if (r.protocol !== '2.0b') throw new Problem('OPENADR-EXPORT-PROTOCOL', `Registration ${id} is on an OpenADR ${r.protocol} VTN.`);
  const d = (r.details ?? {}) as Partial<CreatedPartyRegistration> & { document?: string };
  // Before the document kind was kept, a VTN's answer was the only document imported: it has a responseCode.
  const issued = (d.document ?? (d.responseCode ? 'oadrCreatedPartyRegistration' : undefined)) === 'oadrCreatedPartyRegistration';
  if (!issued || !d.responseCode || !d.requestId || !d.profiles?.length)
    throw new Problem(
      'OPENADR-EXPORT-NOT-ISSUED',
      `Registration ${id} was not recorded from its VTN's oadrCreatedPartyRegistration, so there is no response to write back.`,
    );
  try {
    // A 2.0b registration has a registrationID and its VTN a vtnID (the CHECK constraints of 005_openadr.sql).
    return writeCreatedPartyRegistration({
      registrationId: r.registration_id!,
      venId: r.ven_id,
      vtnId: r.vtn_oadr_id!,
      requestId: d.requestId,
      responseCode: d.responseCode,
      responseDescription: d.responseDescription,
      profiles: d.profiles,
      pollFreq: d.pollFreq,
    });
  } catch {
    // Recorded before import checked the schema's values: what the schema does not allow is never exported.
    throw new Problem('OPENADR-EXPORT-NOT-ISSUED', `Registration ${id} holds values the 2.0b schema does not allow; it is not exported.`);
  }
}

/** A live registration awaiting the confirmation of its VTN's operator (src/notices/). */
export interface UnconfirmedRegistrationFacts {
  id: string;
  organisation_id: string;
  ven_id: string;
  vtn_code: string;
  created_at: Date;
}

/** The UNCONFIRMED live registrations on the VTNs this organisation operates, oldest first (at most `limit`). */
export async function registrationsAwaitingConfirmation(
  db: Sql,
  operatorId: string,
  limit: number,
): Promise<UnconfirmedRegistrationFacts[]> {
  return db.query<UnconfirmedRegistrationFacts>(
    `SELECT r.id, r.organisation_id, r.ven_id, v.code AS vtn_code, r.created_at FROM ${REG_FROM}
      WHERE v.operator_id = $1 AND r.confirmation = 'UNCONFIRMED' AND r.status <> 'CANCELLED' ORDER BY r.created_at, r.id LIMIT $2`,
    [operatorId, limit],
  );
}
