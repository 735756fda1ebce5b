import type { Principal } from '../access/principal';
import { writeAudit } from '../audit/audit';
import { PRIVATE_READ_ACTIONS, logPrivateRead, othersRecords } from '../audit/reads';
import { assetVisibility } from '../assets/store';
import { ConsentError, isRevoked, type ConsentService } from '../consent/index';
import type { ConsentRevoker } from '../consent/revoker';
import type { Ctx } from '../context';
import { Problem } from '../http/problem';
import { ULID_RE } from '../ids';
import { londonDay } from '../kernel/dates';
import { RULES, type RuleCode } from '../rules';
import { acceptRevocationNotice } from '../switching/revocation-notice';
import type { HouseholdAsset, HouseholdConsent, HouseholdRead } from './schema';

/**
 * What the register holds about a household's meter points (docs/consumers.md), read for the
 * consumer principal only: the live assets at its MPANs (assetVisibility's consumer rule), the
 * consents naming those MPANs and the switches made under them, and who read any of it. Names of
 * organisations, market units and products only: never an organisation's private data or an FSP's
 * commercial terms (contracts, service windows, prices are not read here at all).
 */

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

/** The household's MPANs, or the one asked for when it is one of them (CONSUMER-MPAN-NOT-BOUND otherwise). */
export function meterPointsOf(p: Principal, mpan?: string): string[] {
  const mine = p.consumer?.mpans ?? [];
  if (mpan === undefined) return mine;
  if (!mine.includes(mpan))
    throw new Problem('CONSUMER-MPAN-NOT-BOUND', `Meter point ${mpan} is not one your sign-in vouched for (${mine.join(', ')}).`, {
      mpan,
    });
  return [mpan];
}

interface AssetRow {
  id: string;
  name: string;
  category: string;
  status: string;
  rated_capacity_kw: number;
  generation_capacity_kw: number | null;
  demand_capacity_kw: number | null;
  connection_status: string;
  import_mpan: string | null;
  export_mpan: string | null;
  organisation_id: string;
  fsp_id: string;
  fsp_name: string;
  fsp_since: string | Date | null;
  units: { name: string; productId: string; productName: string | null }[];
  links: { fspId: string; fspName: string; from: string; to: string | null }[];
}

/**
 * A household's read is a read of organisations' private data (UC-05.06, docs/audit.md): the
 * assets' owners and FSPs (every FSP of its history: an earlier FSP's period is its data too), and
 * the parties to the switches under its consents. Logged as any other private read, one record per
 * request, before the answer; `route` names the request (omitted: nothing is served, nothing logged).
 */
export interface ReadBy {
  route: string;
  recordId: string;
}

/** Every live asset at the household's meter points (or one of them), with its FSP links and market units by name. */
export async function householdAssets(
  ctx: Ctx,
  p: Principal,
  o: { mpan?: string; id?: string; read?: ReadBy } = {},
): Promise<HouseholdAsset[]> {
  const rows = await assetsWithOwner(ctx, p, o);
  if (o.read)
    await logPrivateRead(ctx.db, p, ctx.clock.now(), {
      action: 'asset.read',
      recordType: 'asset',
      recordId: o.read.recordId,
      route: o.read.route,
      shares: othersRecords(
        p,
        rows.map((a) => ({ id: a.id, parties: [a.ownerId, ...a.fspHistory.map((l) => l.fsp.id)] })),
      ),
    });
  return rows.map(({ ownerId: _o, ...a }) => a);
}

async function assetsWithOwner(
  ctx: Ctx,
  p: Principal,
  o: { mpan?: string; id?: string },
): Promise<(HouseholdAsset & { ownerId: string })[]> {
  const mpans = meterPointsOf(p, o.mpan);
  const params: unknown[] = [];
  const vis = assetVisibility({ ...p, consumer: { mpans } }, params, 'read');
  let where = vis;
  if (o.id !== undefined) {
    params.push(o.id);
    where += ` AND a.id = $${params.length}`;
  }
  const rows = await ctx.db.query<AssetRow>(
    `SELECT a.id, a.name, a.category, a.status, a.rated_capacity_kw::float8 AS rated_capacity_kw,
            a.generation_capacity_kw::float8 AS generation_capacity_kw, a.demand_capacity_kw::float8 AS demand_capacity_kw,
            a.connection_status, a.import_mpan, a.export_mpan, a.organisation_id, a.fsp_id, COALESCE(f.trading_name, f.legal_name) AS fsp_name, a.fsp_since,
            COALESCE((SELECT json_agg(json_build_object('name', u.name, 'productId', u.product, 'productName', pr.name) ORDER BY u.name)
                        FROM market_unit_member m JOIN market_unit u ON u.id = m.market_unit_id LEFT JOIN product pr ON pr.id = u.product
                       WHERE m.asset_id = a.id AND m.active AND u.status = 'ACTIVE'), '[]'::json) AS units,
            COALESCE((SELECT json_agg(json_build_object('fspId', l.fsp_id, 'fspName', COALESCE(lf.trading_name, lf.legal_name),
                                                        'from', lower(l.valid), 'to', upper(l.valid)) ORDER BY lower(l.valid))
                        FROM asset_fsp_link l JOIN organisation lf ON lf.id = l.fsp_id WHERE l.asset_id = a.id), '[]'::json) AS links
       FROM asset a JOIN organisation f ON f.id = a.fsp_id
      WHERE ${where}
      ORDER BY a.id`,
    params,
  );
  return rows.map((r) => {
    const since = iso(r.fsp_since);
    return {
      id: r.id,
      ownerId: r.organisation_id,
      name: r.name,
      category: r.category,
      status: r.status,
      ratedCapacityKw: r.rated_capacity_kw,
      generationCapacityKw: r.generation_capacity_kw,
      demandCapacityKw: r.demand_capacity_kw,
      connectionStatus: r.connection_status,
      importMpan: r.import_mpan,
      exportMpan: r.export_mpan,
      controllingFsp: { id: r.fsp_id, name: r.fsp_name, since },
      marketUnits: r.units.map((u) => ({ name: u.name, product: u.productName ?? u.productId })),
      fspHistory: [
        ...r.links.map((l) => ({ fsp: { id: l.fspId, name: l.fspName }, from: iso(l.from)!, to: iso(l.to) })),
        { fsp: { id: r.fsp_id, name: r.fsp_name }, from: since, to: null },
      ],
    };
  });
}

/** One asset at the household's meter points; another's is ASSET-NOT-FOUND, as if it did not exist. */
export async function householdAsset(ctx: Ctx, p: Principal, id: string, read?: ReadBy): Promise<HouseholdAsset> {
  const [a] = ULID_RE.test(id) ? await householdAssets(ctx, p, { id, read }) : [];
  if (!a) throw new Problem('ASSET-NOT-FOUND', `No asset ${id}.`);
  return a;
}

interface ConsentRow {
  kind: 'registration' | 'switch';
  issuer: string;
  jti: string;
  token_hash: string;
  consent: { claims: { mpan: string; fsp: string; purpose?: string; validFrom?: string; validTo?: string }; verifiedAt?: string };
  fsp_id: string;
  fsp_name: string | null;
  asset_id: string;
  switch_id: string | null;
  switch_status: string | null;
  effective_date: string | null;
  losing_fsp_id: string | null;
  requested_at: string | Date | null;
  revoked_at: string | Date | null;
}

/** The consents recorded for the household's meter points (by registration or switch), each with the switches made under it. */
export async function householdConsents(
  ctx: Ctx,
  p: Principal,
  o: { mpan?: string; id?: string; read?: ReadBy } = {},
): Promise<HouseholdConsent[]> {
  const consents = (await consentsWithHash(ctx, p, o)).map(({ tokenHash: _t, ...c }) => c);
  if (o.read)
    await logPrivateRead(ctx.db, p, ctx.clock.now(), {
      action: 'switch.consent-read',
      recordType: 'switch',
      recordId: o.read.recordId,
      route: o.read.route,
      shares: othersRecords(
        p,
        consents.flatMap((c) => c.switches.map((s) => ({ id: s.id, parties: [s.losingFspId, s.gainingFspId] }))),
      ),
    });
  return consents;
}

type KeptConsent = HouseholdConsent & { tokenHash: string };

async function consentsWithHash(ctx: Ctx, p: Principal, o: { mpan?: string; id?: string }): Promise<KeptConsent[]> {
  const mpans = meterPointsOf(p, o.mpan);
  const rows = await ctx.db.query<ConsentRow>(
    `WITH used AS (
       SELECT 'registration' AS kind, c.consent_issuer AS issuer, c.consent_jti AS jti, c.token_hash, c.consent, c.fsp_id, c.asset_id,
              NULL::text AS switch_id, NULL::text AS switch_status, NULL::text AS effective_date, NULL::text AS losing_fsp_id, NULL::timestamptz AS requested_at
         FROM asset_consent c WHERE c.consent->'claims'->>'mpan' = ANY($1::text[])
       UNION ALL
       SELECT 'switch', s.consent_issuer, s.consent_jti, s.consent->>'tokenHash', s.consent, s.gaining_fsp_id, s.asset_id,
              s.id, s.status, s.effective_date::text, s.losing_fsp_id, s.requested_at
         FROM asset_switch s WHERE s.consent->'claims'->>'mpan' = ANY($1::text[]))
     SELECT u.*, COALESCE(o.trading_name, o.legal_name) AS fsp_name,
            (SELECT min(r.revoked_at) FROM consent_revocation r WHERE r.issuer = u.issuer AND (r.jti = u.jti OR r.token_hash = u.token_hash)) AS revoked_at
       FROM used u LEFT JOIN organisation o ON o.id = u.fsp_id
      WHERE ($2::text IS NULL OR u.jti = $2)
      ORDER BY u.jti, u.kind, u.requested_at NULLS FIRST`,
    [mpans, o.id ?? null],
  );
  const today = londonDay(ctx.clock.now());
  const byId = new Map<string, KeptConsent>();
  for (const r of rows) {
    const key = `${r.issuer}|${r.jti}`;
    let c = byId.get(key);
    if (!c) {
      const claims = r.consent.claims;
      const revokedAt = iso(r.revoked_at);
      const validTo = claims.validTo ?? null;
      c = {
        id: r.jti,
        issuer: r.issuer,
        mpan: claims.mpan,
        fsp: { id: r.fsp_id, name: r.fsp_name },
        purpose: claims.purpose ?? null,
        validFrom: claims.validFrom ?? null,
        validTo,
        state: revokedAt ? 'REVOKED' : validTo && validTo.slice(0, 10) < today ? 'EXPIRED' : 'ACTIVE',
        revokedAt,
        registeredAssets: [],
        switches: [],
        tokenHash: r.token_hash,
      };
      byId.set(key, c);
    }
    if (r.kind === 'registration') c.registeredAssets.push(r.asset_id);
    else
      c.switches.push({
        id: r.switch_id!,
        assetId: r.asset_id,
        status: r.switch_status!,
        effectiveDate: r.effective_date!,
        losingFspId: r.losing_fsp_id!,
        gainingFspId: r.fsp_id,
        requestedAt: iso(r.requested_at)!,
      });
  }
  return [...byId.values()];
}

/**
 * The household revokes a consent for its meter point: the consent service is told (in development
 * the stand-in issues the notice), and its signed notice is acted on as any other: recorded, open
 * switches under it cancelled, assets whose control rests on it Suspended – Consent Revoked.
 */
export async function revokeHouseholdConsent(
  ctx: Ctx,
  p: Principal,
  id: string,
  o: { service?: ConsentService; revoker?: ConsentRevoker; reason?: string },
) {
  const [c] = await consentsWithHash(ctx, p, { id });
  if (!c) throw new Problem('CONSUMER-CONSENT-NOT-FOUND', `No consent ${id} is recorded for your meter points.`);
  if (c.state === 'REVOKED' || (await isRevoked(ctx.db, { issuer: c.issuer, jti: c.id, tokenHash: c.tokenHash })))
    throw new Problem('CONSUMER-CONSENT-REVOKED', `Consent ${id} was revoked at ${c.revokedAt}.`);
  if (!o.service || !o.revoker || o.service.issuer !== c.issuer)
    throw new Problem(
      'CONSENT-SERVICE-UNAVAILABLE',
      'This hub cannot pass a revocation to the consent service that issued this consent; revoke it there.',
    );
  let effects;
  try {
    const { notice } = await o.revoker.revoke({ jti: c.id, tokenHash: c.tokenHash, reason: o.reason ?? 'revoked by the consumer' });
    effects = await acceptRevocationNotice(ctx, o.service, notice);
  } catch (e) {
    if (e instanceof ConsentError) {
      const code = (e.code in RULES ? e.code : 'CONSENT-SERVICE-UNAVAILABLE') as RuleCode;
      throw new Problem(code, e.detail, e.retryAfterSec ? { retryAfterSec: e.retryAfterSec } : {});
    }
    throw e;
  }
  await writeAudit(ctx.db, p, ctx.clock.now(), [
    {
      action: 'consumer.consent-revoked',
      recordType: 'consumer',
      recordId: p.subject,
      detail: { consentJti: c.id, issuer: c.issuer, mpan: c.mpan, cancelled: effects.cancelled, suspended: effects.suspended },
    },
  ]);
  const [after] = await householdConsents(ctx, p, { id, read: { route: 'POST /api/v1/consumer/consents/{id}/revoke', recordId: id } });
  return { consent: after, cancelledSwitches: effects.cancelled, suspendedAssets: effects.suspended };
}

interface ReadRow {
  id: string;
  occurred_at: string | Date;
  actor: { org?: string | null; act?: { org?: string } };
  action: string;
  route: string | null;
  reader_name: string | null;
}

/**
 * Who read private data about the household's assets and switches (the reads the hub logs,
 * docs/audit.md): reader organisation, when, through which route. A read is matched by the IDs it
 * names; an export page names only its first and last record, so it is matched by those. The
 * household's own reads are not listed (they are its own access, not a disclosure, and each visit
 * would add its own); another household's are, as a household with no name: another person who
 * signed in for the same meter point (a previous occupant, or a second person in the home).
 */
export async function householdReads(
  ctx: Ctx,
  p: Principal,
  assetIds: string[],
  switchIds: string[],
  parties: string[],
): Promise<HouseholdRead[]> {
  const ids = [...assetIds, ...switchIds];
  if (!ids.length) return [];
  const rows = await ctx.db.query<ReadRow>(
    `SELECT l.id::text AS id, l.occurred_at, l.actor, l.action, l.detail->>'route' AS route,
            (SELECT COALESCE(o.trading_name, o.legal_name) FROM organisation o WHERE o.id = l.actor->>'org') AS reader_name
       FROM audit_log l
      WHERE l.action IN (${PRIVATE_READ_ACTIONS.map((a) => `'${a}'`).join(', ')})
        AND l.detail->'organisations' ?| $1::text[]
        AND EXISTS (SELECT 1 FROM jsonb_each(l.detail->'read') r
                     WHERE r.value->'ids' ?| $2::text[] OR r.value->>'firstId' = ANY($2::text[]) OR r.value->>'lastId' = ANY($2::text[]))
        AND l.actor->>'sub' IS DISTINCT FROM $3
      ORDER BY l.id LIMIT 10000`,
    [parties, ids, p.subject],
  );
  return rows.map((r) => ({
    at: iso(r.occurred_at)!,
    action: r.action,
    route: r.route,
    reader: {
      kind: r.actor.org ? ('organisation' as const) : ('household' as const),
      organisationId: r.actor.org ?? null,
      name: r.reader_name,
      actingFor: r.actor.act?.org ?? null,
    },
  }));
}

/**
 * Everything the register holds about the household's meter points (data portability): the
 * assets, consents and switches, the disputes it raised, and who read the private data about them.
 */
export async function householdExport(ctx: Ctx, p: Principal, disputes: unknown[]) {
  const read = { route: 'GET /api/v1/consumer/export', recordId: 'export' };
  const assets = await householdAssets(ctx, p, { read });
  const consents = await householdConsents(ctx, p, { read });
  const switchIds = consents.flatMap((c) => c.switches.map((s) => s.id));
  const owners = assets.length
    ? (
        await ctx.db.query<{ organisation_id: string }>(`SELECT DISTINCT organisation_id FROM asset WHERE id = ANY($1::text[])`, [
          assets.map((a) => a.id),
        ])
      ).map((r) => r.organisation_id)
    : [];
  const parties = [
    ...new Set([
      ...owners,
      ...assets.flatMap((a) => a.fspHistory.map((l) => l.fsp.id)),
      ...consents.flatMap((c) => c.switches.flatMap((s) => [s.losingFspId, s.gainingFspId])),
    ]),
  ];
  const reads = await householdReads(
    ctx,
    p,
    assets.map((a) => a.id),
    switchIds,
    parties,
  );
  return {
    generatedAt: ctx.clock.now().toISOString(),
    meterPoints: p.consumer?.mpans ?? [],
    assets,
    consents,
    disputes,
    reads,
  };
}

/** The export as CSV: one row per value (`section,record,field,value`), nested values flattened to dotted paths. */
export function exportCsv(doc: Record<string, unknown>): string {
  const rows: string[][] = [['section', 'record', 'field', 'value']];
  const cell = (v: string) => {
    // A leading = + - @ would be a formula to a spreadsheet (CSV injection): quote it as text.
    const t = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  const walk = (section: string, record: string, prefix: string, v: unknown) => {
    if (v !== null && typeof v === 'object') {
      const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
      if (!entries.length) rows.push([section, record, prefix, '']);
      for (const [k, x] of entries) walk(section, record, prefix ? `${prefix}.${k}` : k, x);
    } else rows.push([section, record, prefix, v === null || v === undefined ? '' : String(v)]);
  };
  for (const [section, v] of Object.entries(doc)) {
    if (Array.isArray(v) && section !== 'meterPoints')
      v.forEach((item, i) => walk(section, String((item as { id?: unknown }).id ?? i), '', item));
    else walk(section, '', '', v);
  }
  return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}
