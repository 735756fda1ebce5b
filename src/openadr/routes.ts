import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import { PROTOCOLS } from '../../openadr/index';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import {
  etag,
  Page,
  parseIfMatch,
  decodeCursor,
  json,
  encodeCursor,
  requireIfMatch,
  problemResponses,
  security,
  validationHook,
} from '../http/common';
import { Problem } from '../http/problem';
import {
  cancelVenRegistration,
  decideVenRegistration,
  exportCreatedPartyRegistration,
  getVenRegistration,
  importRegistrationDocument,
  listVenRegistrations,
  registerVen,
  updateVenRegistration,
} from './registrations';
import {
  AssetVenRegistration,
  REVERSE_INCLUDES,
  Resolution,
  registrationsOfAsset,
  registrationsOfOrganisation,
  resolveVen,
} from './resolution';
import {
  REGISTRATION_STATUSES,
  VTN_STATUSES,
  VenRegistration,
  VenRegistrationInput,
  VenRegistrationPatch,
  Vtn,
  VtnInput,
  VtnPatch,
} from './schema';
import { getVtn, listVtns, registerVtn, updateVtn } from './vtns';

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const vtnTags = ['OpenADR: VTN records'];
const venTags = ['OpenADR: VEN registrations'];
const XML = ['application/xml', 'text/xml'];

/** The native OpenADR resources under /api/v1: VTN records, VEN registrations, resolution (docs/openadr.md). */
export function openadrRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  // ---- VTN records
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/vtns',
      action: 'vtns.read',
      tags: vtnTags,
      security,
      summary: 'List the VTN records (dispatch platforms known to the register)',
      request: {
        query: Page.extend({
          protocol: z.enum(PROTOCOLS).optional(),
          operatorId: z.string().max(64).optional(),
          status: z.enum(VTN_STATUSES).optional(),
        }),
      },
      responses: {
        200: { description: 'A page of VTN records', content: json(z.object({ items: z.array(Vtn), nextCursor: z.string().nullable() })) },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const { limit, cursor, ...q } = c.req.valid('query');
      const page = await listVtns(ctx, { ...q, limit, after: decodeCursor(cursor) });
      return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/vtns',
      action: 'vtns.write',
      tags: vtnTags,
      security,
      summary: 'Register a VTN record (the operator for any organisation; an SO or IMP for its own)',
      request: { body: { required: true, content: json(VtnInput) } },
      responses: { 201: { description: 'Registered', content: json(Vtn) }, ...problemResponses(409) },
    }),
    async (c) => {
      const vtn = await registerVtn(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/vtns/${vtn.id}`);
      c.header('etag', etag(vtn.version));
      return c.json(vtn, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/vtns/{id}',
      action: 'vtns.read',
      tags: vtnTags,
      security,
      summary: 'Read a VTN record by its ID or namespace code',
      request: { params: IdParam },
      responses: { 200: { description: 'The VTN record', content: json(Vtn) }, ...problemResponses(404) },
    }),
    async (c) => {
      const vtn = await getVtn(ctx, c.req.valid('param').id);
      c.header('etag', etag(vtn.version));
      return c.json(vtn, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/vtns/{id}',
      action: 'vtns.write',
      tags: vtnTags,
      security,
      summary: 'Update a VTN record (name, vtnID, base URL, status); If-Match required',
      request: {
        params: IdParam,
        body: { required: true, content: json(VtnPatch) },
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Updated', content: json(Vtn) }, ...problemResponses(404, 409, 412, 428) },
    }),
    async (c) => {
      const vtn = await updateVtn(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), requireIfMatch(c));
      c.header('etag', etag(vtn.version));
      return c.json(vtn, 200);
    },
  );

  // ---- VEN registrations
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/ven-registrations',
      action: 'vens.read',
      tags: venTags,
      security,
      summary: 'List the VEN registrations the caller may see',
      request: {
        query: Page.extend({
          organisationId: z.string().max(64).optional(),
          vtn: z.string().max(64).optional().openapi({ description: 'VTN record ID or code' }),
          protocol: z.enum(PROTOCOLS).optional(),
          status: z.enum(REGISTRATION_STATUSES).optional(),
          venName: z.string().max(128).optional(),
          clientId: z.string().max(128).optional(),
        }),
      },
      responses: {
        200: {
          description: 'A page of registrations',
          content: json(z.object({ items: z.array(VenRegistration), nextCursor: z.string().nullable() })),
        },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const { limit, cursor, ...f } = c.req.valid('query');
      const page = await listVenRegistrations(ctx, c.get('principal'), f, { limit, after: decodeCursor(cursor) });
      return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/ven-registrations',
      action: 'vens.write',
      tags: venTags,
      security,
      summary: 'Record a VEN registration: VEN ID and venName on a VTN, for an FSP or aggregator',
      request: { body: { required: true, content: json(VenRegistrationInput) } },
      responses: { 201: { description: 'Recorded', content: json(VenRegistration) }, ...problemResponses(409) },
    }),
    async (c) => {
      const reg = await registerVen(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/ven-registrations/${reg.id}`);
      c.header('etag', etag(reg.version));
      return c.json(reg, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/ven-registrations/oadr2b',
      action: 'vens.write',
      tags: venTags,
      security,
      summary:
        'Record an OpenADR 2.0b registration from the VTN’s oadrCreatedPartyRegistration, or from the VEN’s oadrCreatePartyRegistration carrying the IDs its VTN assigned (venID and registrationID as issued)',
      request: {
        query: z.object({
          organisationId: z
            .string()
            .max(64)
            .optional()
            .openapi({ description: 'Whose VEN (default the caller’s; the operator and dispatch platforms name it)' }),
          venName: z
            .string()
            .max(128)
            .optional()
            .openapi({ description: 'Default: the request’s oadrVenName, else the venID (the created registration carries no venName)' }),
          vtn: z.string().max(64).optional().openapi({
            description: 'The 2.0b VTN record (ID or code): required with an oadrCreatePartyRegistration, which carries no vtnID',
          }),
          validFrom: z.iso.datetime({ offset: true }).optional(),
          validTo: z.iso.datetime({ offset: true }).optional(),
        }),
        body: {
          required: true,
          content: {
            'application/xml': {
              schema: z.string().openapi({
                description:
                  'oadrCreatedPartyRegistration or oadrCreatePartyRegistration (bare or in oadrPayload/oadrSignedObject), UTF-8, at most 256 KiB',
              }),
            },
          },
        },
      },
      responses: { 201: { description: 'Recorded', content: json(VenRegistration) }, ...problemResponses(409, 413, 415) },
    }),
    async (c) => {
      const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (!XML.includes(type))
        throw new Problem('REQUEST-UNSUPPORTED-MEDIA-TYPE', 'Send the oadrCreatedPartyRegistration as application/xml.');
      const reg = await importRegistrationDocument(
        ctx,
        c.get('principal'),
        new Uint8Array(await c.req.arrayBuffer()),
        c.req.valid('query'),
      );
      c.header('location', `/api/v1/ven-registrations/${reg.id}`);
      c.header('etag', etag(reg.version));
      return c.json(reg, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/ven-registrations/resolve',
      action: 'vens.read',
      tags: venTags,
      security,
      summary: 'Resolve a VEN ID (or venName) on a VTN to the organisation and the assets it controls, with their OpenADR resource view',
      request: {
        query: Page.extend({
          vtn: z.string().max(64).optional().openapi({ description: 'VTN record ID or namespace code' }),
          vtnId: z.string().max(128).optional().openapi({ description: 'OpenADR 2.0b vtnID' }),
          vtnUrl: z.string().max(2000).optional().openapi({ description: 'OpenADR 3.x VTN base URL' }),
          venId: z
            .string()
            .max(128)
            .optional()
            .openapi({ description: 'VEN ID; CODE-<uuid> names its VTN by itself', example: 'SPEN-26ecf048-3f1d-4a5e-9b0c-1d2e3f4a5b6c' }),
          venName: z.string().max(128).optional(),
          confirmed: z
            .enum(['true', 'false'])
            .optional()
            .openapi({ description: 'true: only a registration its VTN’s operator confirmed (else 404 OPENADR-VEN-NOT-FOUND)' }),
        }),
      },
      responses: {
        200: { description: 'The organisation behind the VEN and a page of its assets', content: json(Resolution) },
        ...problemResponses(404),
      },
    }),
    async (c) => {
      const { limit, cursor, confirmed, ...q } = c.req.valid('query');
      const r = await resolveVen(ctx, c.get('principal'), { ...q, confirmed: confirmed === 'true', limit, after: decodeCursor(cursor) });
      return c.json({ ...r, assets: { items: r.assets.items, nextCursor: encodeCursor(r.assets.next) } }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/ven-registrations/{id}',
      action: 'vens.read',
      tags: venTags,
      security,
      summary: 'Read a VEN registration',
      request: { params: IdParam },
      responses: { 200: { description: 'The registration', content: json(VenRegistration) }, ...problemResponses(404) },
    }),
    async (c) => {
      const reg = await getVenRegistration(ctx, c.get('principal'), c.req.valid('param').id);
      c.header('etag', etag(reg.version));
      return c.json(reg, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/ven-registrations/{id}',
      action: 'vens.write',
      tags: venTags,
      security,
      summary: 'Update a VEN registration (venName, clientID, targets, status, validity); If-Match required',
      request: {
        params: IdParam,
        body: { required: true, content: json(VenRegistrationPatch) },
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Updated', content: json(VenRegistration) }, ...problemResponses(404, 409, 412, 428) },
    }),
    async (c) => {
      const reg = await updateVenRegistration(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), requireIfMatch(c));
      c.header('etag', etag(reg.version));
      return c.json(reg, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/ven-registrations/{id}',
      action: 'vens.write',
      tags: venTags,
      security,
      summary: 'Cancel a VEN registration: kept read-only, its VEN ID and venName released on the VTN',
      request: {
        params: IdParam,
        query: z.object({ reason: z.string().max(500).optional() }),
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Cancelled', content: json(VenRegistration) }, ...problemResponses(404, 409, 412) },
    }),
    async (c) => {
      const h = c.req.header('if-match');
      const reg = await cancelVenRegistration(ctx, c.get('principal'), c.req.valid('param').id, {
        ifMatch: h ? parseIfMatch(h) : undefined,
        reason: c.req.valid('query').reason,
      });
      c.header('etag', etag(reg.version));
      return c.json(reg, 200);
    },
  );

  const ifMatchOf = (h: string | undefined) => (h ? parseIfMatch(h) : undefined);
  app.openapi(
    apiRoute({
      method: 'post',
      path: '/ven-registrations/{id}/confirm',
      action: 'vens.confirm',
      tags: venTags,
      security,
      summary: 'The VTN’s operator confirms a registration on its VTN (UNCONFIRMED → CONFIRMED); If-Match optional',
      request: { params: IdParam, headers: z.object({ 'if-match': z.string().optional() }) },
      responses: { 200: { description: 'Confirmed', content: json(VenRegistration) }, ...problemResponses(404, 409, 412) },
    }),
    async (c) => {
      const reg = await decideVenRegistration(
        ctx,
        c.get('principal'),
        c.req.valid('param').id,
        { confirm: true },
        ifMatchOf(c.req.header('if-match')),
      );
      c.header('etag', etag(reg.version));
      return c.json(reg, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/ven-registrations/{id}/reject',
      action: 'vens.confirm',
      tags: venTags,
      security,
      summary:
        'The VTN’s operator rejects a registration on its VTN with a reason: REJECTED, and cancelled (its VEN ID, venName and resources released); If-Match optional',
      request: {
        params: IdParam,
        query: z.object({ reason: z.string().max(500).optional().openapi({ description: 'Required: why the operator rejects it' }) }),
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Rejected', content: json(VenRegistration) }, ...problemResponses(404, 409, 412) },
    }),
    async (c) => {
      const reg = await decideVenRegistration(
        ctx,
        c.get('principal'),
        c.req.valid('param').id,
        { confirm: false, reason: c.req.valid('query').reason },
        ifMatchOf(c.req.header('if-match')),
      );
      c.header('etag', etag(reg.version));
      return c.json(reg, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/ven-registrations/{id}/oadr2b',
      action: 'vens.read',
      tags: venTags,
      security,
      summary: 'A 2.0b registration as the oadrCreatedPartyRegistration its VTN issued',
      request: { params: IdParam },
      responses: {
        200: { description: 'oadrCreatedPartyRegistration', content: { 'application/xml': { schema: z.string() } } },
        ...problemResponses(404, 409),
      },
    }),
    async (c) => {
      const xml = await exportCreatedPartyRegistration(ctx, c.get('principal'), c.req.valid('param').id);
      return c.body(xml, 200, { 'content-type': 'application/xml; charset=utf-8' });
    },
  );

  // ---- The reverse: registrations behind an organisation or an asset
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/organisations/{id}/ven-registrations',
      action: 'vens.read',
      tags: venTags,
      security,
      summary: 'The VEN registrations of an organisation',
      request: { params: IdParam },
      responses: {
        200: { description: 'Registrations', content: json(z.object({ items: z.array(VenRegistration) })) },
        ...problemResponses(404),
      },
    }),
    async (c) => c.json({ items: await registrationsOfOrganisation(ctx, c.get('principal'), c.req.valid('param').id) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/assets/{id}/ven-registrations',
      action: 'vens.read',
      tags: venTags,
      security,
      summary:
        'The VEN registrations behind an asset (those of the FSP that controls it): live ones, and expired, suspended or refused ones when asked (include)',
      request: {
        params: IdParam,
        query: z.object({
          include: z
            .union([z.enum(REVERSE_INCLUDES), z.array(z.enum(REVERSE_INCLUDES)).max(3)])
            .optional()
            .openapi({
              description: 'Repeatable: expired (not in force by its dates), suspended, refused (rejected by the VTN’s operator)',
            }),
        }),
      },
      responses: {
        200: {
          description: 'Registrations',
          content: json(z.object({ assetId: z.string(), fspId: z.string(), items: z.array(AssetVenRegistration) })),
        },
        ...problemResponses(404),
      },
    }),
    async (c) => {
      const inc = c.req.valid('query').include;
      return c.json(
        await registrationsOfAsset(ctx, c.get('principal'), c.req.valid('param').id, inc === undefined ? [] : [inc].flat()),
        200,
      );
    },
  );

  return app;
}
