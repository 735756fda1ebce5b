import { z } from '@hono/zod-openapi';
import { namespaceOf, Resource } from '../../openadr/index';
import { reach } from '../access/permissions';
import type { Principal } from '../access/principal';
import { ownAssetReach } from '../assets/store';
import { ORGANISATION_ROLES, type OrganisationRole } from '../access/roles';
import type { Ctx } from '../context';
import { Problem } from '../http/problem';
import { VenRegistration } from './schema';
import {
  REG_COLS,
  REG_FROM,
  assetFacts,
  registrationVisibility,
  resourceOf,
  toRegistration,
  venAssetsLateral,
  venOf,
  type BoundAssetRow,
  type RegistrationRow,
} from './store';
import { findVtn, type VtnRef } from './vtns';

/**
 * VEN ID resolution: which organisation, in which role, and which assets stand behind a VEN ID on
 * a VTN (those bound to the VEN; without bindings, all its organisation controls) (or a venName there), with each asset's OpenADR 3.1 resource view; and the reverse, the VEN
 * registrations behind an organisation or an asset. Dispatch platforms (SOs, IMPs), the operator
 * and the regulator resolve any VEN; FSPs and aggregators their own (vens.read).
 */

export const ResolvedAsset = z
  .object({
    id: z.string(),
    friendlyCode: z.string().nullable(),
    name: z.string(),
    category: z.string(),
    status: z.string(),
    connectionStatus: z.string(),
    ratedCapacityKw: z.number(),
    generationCapacityKw: z.number().nullable(),
    demandCapacityKw: z.number().nullable(),
    dno: z.string().nullable(),
    gspGroup: z.string().nullable(),
    importMpan: z.string().nullable(),
    exportMpan: z.string().nullable(),
    resource: Resource,
  })
  .openapi('ResolvedAsset');

export const Resolution = z
  .object({
    registration: VenRegistration,
    vtn: z.object({ id: z.string(), code: z.string(), name: z.string(), protocol: z.string() }),
    organisation: z.object({
      id: z.string(),
      legalName: z.string(),
      tradingName: z.string().nullable(),
      roles: z.array(z.enum(ORGANISATION_ROLES)),
      status: z.string(),
    }),
    assets: z.object({ items: z.array(ResolvedAsset), nextCursor: z.string().nullable() }),
  })
  .openapi('VenResolution', {
    description:
      'The organisation behind a VEN ID and the assets behind the VEN (a page: those bound to it, or without bindings all its organisation controls), each with its OpenADR 3.1 resource view',
  });
export type Resolution = z.infer<typeof Resolution>;

export interface ResolveQuery extends VtnRef {
  venId?: string;
  venName?: string;
  /** Only a registration its VTN's operator confirmed (CONFIRMED); an unconfirmed or self-declared one is then a 404. */
  confirmed?: boolean;
  limit: number;
  after?: string;
}

export async function resolveVen(
  ctx: Ctx,
  p: Principal,
  q: ResolveQuery,
): Promise<Omit<Resolution, 'assets'> & { assets: { items: z.infer<typeof ResolvedAsset>[]; next?: string } }> {
  const named = [q.vtn, q.vtnId, q.vtnUrl].filter((x) => x !== undefined).length;
  if ((q.venId === undefined) === (q.venName === undefined) || named > 1) throw new Problem('OPENADR-RESOLVE-QUERY');
  const ref: VtnRef = named ? q : { vtn: q.venId !== undefined ? namespaceOf(q.venId) : undefined };
  if (ref.vtn === undefined && ref.vtnId === undefined && ref.vtnUrl === undefined)
    throw new Problem('OPENADR-RESOLVE-QUERY', 'Name the VTN (vtn, vtnId or vtnUrl); only a VEN ID of the form CODE-<uuid> names its own.');
  const vtn = await findVtn(ctx.db, ref);
  if (!vtn) throw new Problem('OPENADR-VTN-NOT-FOUND', 'No VTN record matches.');
  const params: unknown[] = [vtn.id, q.venId ?? q.venName];
  const vis = registrationVisibility(p, params, 'vens.read');
  const [r] = await ctx.db.query<
    RegistrationRow & {
      vtn_name: string;
      legal_name: string;
      trading_name: string | null;
      org_roles: OrganisationRole[];
      org_status: string;
    }
  >(
    `SELECT ${REG_COLS}, v.name AS vtn_name, o.legal_name, o.trading_name, to_jsonb(o.roles) AS org_roles, o.status AS org_status
       FROM ${REG_FROM} JOIN organisation o ON o.id = r.organisation_id
      WHERE r.vtn = $1 AND r.${q.venId !== undefined ? 'ven_id' : 'ven_name'} = $2 AND r.status <> 'CANCELLED' AND ${vis}${q.confirmed ? ` AND r.confirmation = 'CONFIRMED'` : ''}`,
    params,
  );
  if (!r)
    throw new Problem(
      'OPENADR-VEN-NOT-FOUND',
      `No live${q.confirmed ? ', confirmed' : ''} VEN ${q.venId ?? q.venName} on VTN ${vtn.code} that the caller may see.`,
    );
  const ven = venOf(r);
  const ap: unknown[] = [r.id, q.limit + 1];
  const rows = await ctx.db.query<BoundAssetRow>(
    `SELECT a.* FROM ven_registration r CROSS JOIN ${venAssetsLateral(ap, { after: q.after ?? '' }, '$2')} WHERE r.id = $1 ORDER BY a.id`,
    ap,
  );
  const items = rows.slice(0, q.limit).map((a) => {
    const f = assetFacts(a);
    return {
      id: f.id,
      friendlyCode: a.friendly_code ?? null,
      name: f.name,
      category: f.category,
      status: a.status,
      connectionStatus: a.connection_status,
      ratedCapacityKw: f.ratedCapacityKw,
      generationCapacityKw: f.generationCapacityKw,
      demandCapacityKw: f.demandCapacityKw,
      dno: f.dno,
      gspGroup: f.gspGroup,
      importMpan: f.importMpan,
      exportMpan: f.exportMpan,
      resource: resourceOf(a, ven),
    };
  });
  return {
    registration: toRegistration(r, ctx.clock.now()),
    vtn: { id: vtn.id, code: vtn.code, name: vtn.name, protocol: vtn.protocol },
    organisation: {
      id: r.organisation_id,
      legalName: r.legal_name,
      tradingName: r.trading_name ?? null,
      roles: r.org_roles,
      status: r.org_status,
    },
    assets: { items, next: rows.length > q.limit ? items[items.length - 1].id : undefined },
  };
}

/** The VEN registrations of an organisation (all statuses), oldest first. */
export async function registrationsOfOrganisation(ctx: Ctx, p: Principal, organisationId: string) {
  const all = reach('vens.read', p.roles).all;
  const [org] =
    all || organisationId === p.organisationId
      ? await ctx.db.query<{ id: string }>(`SELECT id FROM organisation WHERE id = $1`, [organisationId])
      : [];
  if (!org) throw new Problem('ORG-NOT-FOUND', `No organisation ${organisationId}.`);
  const params: unknown[] = [organisationId];
  const rows = await ctx.db.query<RegistrationRow>(
    `SELECT ${REG_COLS} FROM ${REG_FROM} WHERE r.organisation_id = $1 AND ${registrationVisibility(p, params, 'vens.read')} ORDER BY r.id LIMIT 1000`,
    params,
  );
  const now = ctx.clock.now();
  return rows.map((r) => toRegistration(r, now));
}

/** A registration behind an asset, and how it stands for it. */
export const AssetVenRegistration = VenRegistration.extend({
  boundToAsset: z.boolean().openapi({
    description:
      'true: a resource of the VEN binds this asset; false: the VEN has no resources and stands for every asset its organisation controls (docs/openadr.md, "VEN resources")',
  }),
}).openapi('AssetVenRegistration');

/** Registrations a reverse lookup lists only when asked (`include`): not in force by their dates, suspended, refused by the VTN's operator. */
export const REVERSE_INCLUDES = ['expired', 'suspended', 'refused'] as const;
export type ReverseInclude = (typeof REVERSE_INCLUDES)[number];

/**
 * The VEN registrations behind an asset: those of the organisation that controls it (its FSP) that
 * stand for it (bound to it, or without bindings), which dispatch it. By default only the live
 * ones: ACTIVE, in force by their dates, not refused. `include` adds expired (or not yet valid),
 * suspended and refused (rejected by the VTN's operator) ones; a registration its holder cancelled
 * is never listed. Reached as vens.read reaches: all for roles that see all registrations, else the
 * assets the caller's organisation controls now (or owns, as an ASSET_OWNER).
 */
export async function registrationsOfAsset(ctx: Ctx, p: Principal, assetId: string, include: readonly ReverseInclude[] = []) {
  const params: unknown[] = [assetId];
  // As assets.read: the FSP controlling the asset now, never the one that registered it and lost it by a switch.
  const mine = reach('vens.read', p.roles).all ? ['TRUE'] : ownAssetReach(p, params, 'read');
  const own = mine.length ? `(${mine.join(' OR ')})` : 'FALSE';
  const [a] = await ctx.db.query<{ id: string; fsp_id: string }>(`SELECT a.id, a.fsp_id FROM asset a WHERE a.id = $1 AND ${own}`, params);
  if (!a) throw new Problem('ASSET-NOT-FOUND', `No asset ${assetId}.`);
  const now = ctx.clock.now();
  const rp: unknown[] = [a.fsp_id, a.id];
  const dated = include.includes('expired')
    ? 'TRUE'
    : (rp.push(now.toISOString()), `r.valid_from <= $3::timestamptz AND (r.valid_to IS NULL OR r.valid_to > $3::timestamptz)`);
  const states = [
    `(r.status = 'ACTIVE' AND r.confirmation <> 'REJECTED' AND ${dated})`,
    ...(include.includes('suspended') ? [`(r.status = 'SUSPENDED' AND ${dated})`] : []),
    ...(include.includes('refused') ? [`r.confirmation = 'REJECTED'`] : []),
  ];
  // A VEN stands for the asset when it is bound to it, or when it has no bindings at all (the fallback);
  // a refused one as it stood when refused (the bindings its rejection released).
  const held = `(b.deleted_at IS NULL OR (r.confirmation = 'REJECTED' AND b.deleted_at = r.confirmation_at))`;
  const rows = await ctx.db.query<RegistrationRow & { bound: boolean }>(
    `SELECT ${REG_COLS}, EXISTS (SELECT 1 FROM ven_resource b WHERE b.registration_id = r.id AND b.asset_id = $2 AND ${held}) AS bound
       FROM ${REG_FROM} WHERE r.organisation_id = $1 AND (${states.join(' OR ')}) AND ${registrationVisibility(p, rp, 'vens.read')}
        AND (EXISTS (SELECT 1 FROM ven_resource b WHERE b.registration_id = r.id AND b.asset_id = $2 AND ${held})
          OR NOT EXISTS (SELECT 1 FROM ven_resource b WHERE b.registration_id = r.id AND ${held}))
      ORDER BY r.id LIMIT 1000`,
    rp,
  );
  return { assetId: a.id, fspId: a.fsp_id, items: rows.map((r) => ({ ...toRegistration(r, now), boundToAsset: r.bound === true })) };
}
