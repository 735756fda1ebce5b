import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Principal } from '../access/principal';
import type { Ctx } from '../context';
import { Page, decodeCursor, encodeCursor, json, problemResponses, security, validationHook } from '../http/common';
import { Problem } from '../http/problem';
import { selectRegistration } from './registrations';
import { createBinding, deleteBinding } from './resources';
import { VenResourceInput, VenResourceItem, VenResources } from './schema';
import { venAssetsLateral, type BoundAssetRow, type RegistrationRow } from './store';

/**
 * A VEN registration's resources natively (/api/v1/ven-registrations/{id}/resources, docs/openadr.md
 * "VEN resources"): the assets it stands for, and binding an asset to it or removing the binding,
 * through the same service, rules, audit and events as OpenADR 3.1's /resources (audited with
 * `source: api`). Reading needs vens.read, changing vens.write, each with the registration's reach.
 */

const Params = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const AssetParams = Params.extend({
  assetId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'assetId', in: 'path' } }),
});
const tags = ['OpenADR: VEN registrations'];

async function registration(ctx: Ctx, p: Principal, id: string, action: 'vens.read' | 'vens.write'): Promise<RegistrationRow> {
  const ven = await selectRegistration(ctx.db, id, { p, action });
  if (!ven) throw new Problem('OPENADR-VEN-NOT-FOUND', `No VEN registration ${id}.`);
  if (action === 'vens.write' && ven.status === 'CANCELLED') throw new Problem('OPENADR-REGISTRATION-CANCELLED');
  return ven;
}

/** A keyset page of the assets `ven` stands for (asset ID order), or the one asset `assetId`. */
async function standsFor(ctx: Ctx, ven: RegistrationRow, f: { limit: number; after?: string; assetId?: string }) {
  const params: unknown[] = [ven.id, f.limit + 1];
  const rows = await ctx.db.query<BoundAssetRow>(
    `SELECT a.* FROM ven_registration r, ${venAssetsLateral(params, { after: f.after, assetId: f.assetId }, '$2')} WHERE r.id = $1`,
    params,
  );
  const items: VenResourceItem[] = rows.slice(0, f.limit).map((r) => ({
    assetId: r.id,
    name: r.name,
    category: r.category,
    importMpan: r.import_mpan,
    resourceName: r.resource_name,
    boundAt: r.bound_created_at ? new Date(r.bound_created_at).toISOString() : null,
  }));
  return { items, next: rows.length > f.limit ? items[items.length - 1].assetId : undefined };
}

export function venResourceRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/ven-registrations/{id}/resources',
      action: 'vens.read',
      tags,
      security,
      summary:
        'The assets a VEN registration stands for: its resources (bound assets), or every live asset of its organisation when it has none',
      request: { params: Params, query: Page },
      responses: { 200: { description: 'A page of the assets it stands for', content: json(VenResources) }, ...problemResponses(404) },
    }),
    async (c) => {
      const ven = await registration(ctx, c.get('principal'), c.req.valid('param').id, 'vens.read');
      const { limit, cursor } = c.req.valid('query');
      if (ven.status === 'CANCELLED')
        return c.json({ registrationId: ven.id, standsFor: 'NOTHING' as const, items: [], nextCursor: null }, 200);
      const [bound] = await ctx.db.query(`SELECT 1 FROM ven_resource WHERE registration_id = $1 AND deleted_at IS NULL LIMIT 1`, [ven.id]);
      const page = await standsFor(ctx, ven, { limit, after: decodeCursor(cursor) });
      const kind = bound ? ('RESOURCES' as const) : ('EVERY_ASSET' as const);
      return c.json({ registrationId: ven.id, standsFor: kind, items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/ven-registrations/{id}/resources',
      action: 'vens.write',
      tags,
      security,
      summary:
        'Bind an asset its organisation controls to an OpenADR 3.x VEN registration (a resource); the VEN then stands for its resources only',
      request: { params: Params, body: { required: true, content: json(VenResourceInput) } },
      responses: {
        201: { description: 'The asset, now a resource of the VEN', content: json(VenResourceItem) },
        ...problemResponses(404, 409),
      },
    }),
    async (c) => {
      const p = c.get('principal');
      const ven = await registration(ctx, p, c.req.valid('param').id, 'vens.write');
      const { asset, resourceName } = c.req.valid('json');
      const named = asset.toLowerCase().startsWith('mpan:')
        ? { type: 'MPAN', values: [asset.slice(5)] }
        : { type: 'FMAR_ASSET_ID', values: [asset] };
      const assetId = await createBinding(ctx, p, ven, { resourceName, attributes: [named] }, 'api');
      const [item] = (await standsFor(ctx, ven, { limit: 1, assetId })).items;
      c.header('location', `/api/v1/ven-registrations/${ven.id}/resources/${assetId}`);
      return c.json(item, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/ven-registrations/{id}/resources/{assetId}',
      action: 'vens.write',
      tags,
      security,
      summary:
        'Remove an asset from a VEN’s resources (the asset stays registered); its last one returns the VEN to every asset of its organisation',
      request: { params: AssetParams },
      responses: { 204: { description: 'Removed' }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      const p = c.get('principal');
      const { id, assetId } = c.req.valid('param');
      await deleteBinding(ctx, p, await registration(ctx, p, id, 'vens.write'), assetId, 'api');
      return c.body(null, 204);
    },
  );

  return app;
}
