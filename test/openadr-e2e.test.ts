import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OADR_SCOPE_NAMES, OPENADR_BASE } from '../openadr/index';
import { systemPrincipal } from '../src/access/principal';
import { createClient } from '../src/identity/clients';
import { registerVtn } from '../src/openadr/vtns';
import { registerOrganisation } from '../src/organisations/service';
import { DEMO, nodeTestHub, type NodeTestHub } from './harness';
import { openadrContract } from './openadr-conformance';

/**
 * End to end, over HTTP against the whole hub (the Hono app and the OpenID provider, as `npm start`
 * runs them): a VEN and a BL client configured with nothing but one VTN's base URL and their client
 * credentials, making only the OpenADR 3.1 document's requests with relative paths, discovering the
 * token endpoint through GET <base>/auth/server. Every answer is checked against the document.
 */

const contract = openadrContract();
let node: NodeTestHub;
let base: string; // the VTN's OpenADR 3.1 base URL at the register
const creds: Record<'bl' | 'ven', { id: string; secret: string }> = {} as never;
let asset: { id: string; mpan: string };

/** A spec client: relative paths under `base`, a bearer token, JSON; checks each answer against the document. */
function client(token: string | undefined) {
  return async (method: string, specPath: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    expect(
      contract.check(method, specPath, { status: res.status, contentType: res.headers.get('content-type'), body: json }),
      `${method} ${path}: ${text.slice(0, 300)}`,
    ).toEqual([]);
    return { status: res.status, json };
  };
}

/** The client credentials grant at the token URL the VTN's base names (OpenADR's form: client_id and client_secret in the body). */
async function token(who: 'bl' | 'ven', scope: string) {
  const { json: server } = await client(undefined)('GET', '/auth/server', '/auth/server');
  const res = await fetch(server.tokenURL, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: creds[who].id, client_secret: creds[who].secret, scope }),
  });
  const json = (await res.json()) as any;
  expect(contract.check('POST', '/auth/token', { status: res.status, contentType: res.headers.get('content-type'), body: json })).toEqual(
    [],
  );
  return { status: res.status, json };
}

beforeAll(async () => {
  node = await nodeTestHub();
  const sys = systemPrincipal('test');
  const so = await registerOrganisation(node.ctx, sys, {
    legalName: 'E2E System Operator Ltd',
    organisationType: 'LTD',
    registrationNumber: '09910001',
    roles: ['SYSTEM_OPERATOR'],
    status: 'ACTIVE',
    passport: { contacts: { primary: { firstName: 'Grid', lastName: 'Control', email: 'control@e2e.example' } } },
  });
  await registerVtn(node.ctx, sys, {
    code: 'NESO',
    name: 'NESO dispatch',
    protocol: '3.1',
    baseUrl: 'https://neso.example/oadr3',
    operatorId: so.id,
  });
  base = `${node.base}${OPENADR_BASE}/vtns/NESO`;
  for (const [who, org] of [
    ['bl', so.id],
    ['ven', DEMO['fsp-a']],
  ] as const) {
    const c = await createClient(node.ctx, sys, {
      name: `${who} client`,
      kind: 'machine',
      authMethod: 'client_secret_post',
      organisationId: org,
    });
    creds[who] = { id: c.clientId, secret: c.clientSecret! };
  }
  const [a] = await node.db.query<{ id: string; import_mpan: string }>(
    `SELECT id, import_mpan FROM asset WHERE friendly_code = 'ALPHA-BESS-1'`,
  );
  asset = { id: a.id, mpan: a.import_mpan };
}, 60_000);
afterAll(async () => {
  await node?.close();
});

describe('OpenADR 3.1 end to end at one VTN’s base URL', () => {
  it('the provider issues OpenADR’s scopes to the roles they are for', async () => {
    const discovery = (await (await fetch(`${node.base}/.well-known/openid-configuration`)).json()) as { scopes_supported: string[] };
    expect(OADR_SCOPE_NAMES.filter((s) => !discovery.scopes_supported.includes(s))).toEqual([]);
    const refused = await token('ven', 'read_all');
    expect([refused.status, refused.json.error]).toEqual([400, 'invalid_scope']);
    const bl = await token('bl', 'read_all write_vens');
    expect([bl.status, bl.json.scope]).toEqual([200, 'read_all write_vens']);
    // The document's tokenUrl is relative (auth/token): the VTN's base URL serves it too.
    const relative = await fetch(`${base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: creds.ven.id,
        client_secret: creds.ven.secret,
        scope: 'read_ven_objects',
      }),
    });
    expect([relative.status, ((await relative.json()) as any).scope]).toEqual([200, 'read_ven_objects']);
  }, 30_000);

  it('a VEN registers, a BL client reads it and binds an asset, the VEN sees its resource, both clean up', async () => {
    const ven = client((await token('ven', 'read_targets read_ven_objects write_vens')).json.access_token);
    const bl = client((await token('bl', 'read_all write_vens')).json.access_token);

    // The VEN: createVen with the VEN ID the VTN assigned it.
    const created = await ven('POST', '/vens', '/vens', {
      objectType: 'VEN_VEN_REQUEST',
      venName: 'alpha-glasgow',
      attributes: [{ type: 'VEN_ID', values: ['NESO-ven-0001'] }],
    });
    expect([created.status, created.json.id, created.json.clientID, created.json.objectType]).toEqual([
      201,
      'NESO-ven-0001',
      creds.ven.id,
      'VEN',
    ]);
    expect((await ven('GET', '/vens', '/vens')).json.map((v: any) => v.id)).toEqual(['NESO-ven-0001']);
    expect((await ven('GET', '/programs', '/programs')).json).toEqual([]);
    expect((await ven('GET', '/events', '/events')).json).toEqual([]);

    // The BL client (the VTN's operator): finds the VEN by its ID, sets targets, binds the FSP's asset by MPAN.
    const read = await bl('GET', '/vens/{venID}', '/vens/NESO-ven-0001');
    expect([read.status, read.json.venName, read.json.attributes.find((a: any) => a.type === 'CONFIRMATION').values]).toEqual([
      200,
      'alpha-glasgow',
      ['UNCONFIRMED'],
    ]);
    const put = await bl('PUT', '/vens/{venID}', '/vens/NESO-ven-0001', {
      ...read.json,
      objectType: 'BL_VEN_REQUEST',
      targets: ['GSP_GROUP:_N'],
    });
    expect([put.status, put.json.targets]).toEqual([200, ['GSP_GROUP:_N']]);
    const bound = await bl('POST', '/resources', '/resources', {
      objectType: 'BL_RESOURCE_REQUEST',
      venID: 'NESO-ven-0001',
      clientID: creds.ven.id,
      resourceName: 'glasgow-battery',
      attributes: [{ type: 'MPAN', values: [asset.mpan] }],
    });
    expect([bound.status, bound.json.venID, bound.json.resourceName]).toEqual([201, 'NESO-ven-0001', 'glasgow-battery']);
    expect(bound.json.attributes.find((a: any) => a.type === 'FMAR_ASSET_ID').values).toEqual([asset.id]);

    // The VEN sees exactly its bound resource; renames it; the BL client removes the binding; the VEN deletes its ven.
    expect((await ven('GET', '/resources', '/resources?venID=NESO-ven-0001')).json.map((r: any) => r.id)).toEqual([bound.json.id]);
    const renamed = await ven('PUT', '/resources/{resourceID}', `/resources/${bound.json.id}`, {
      objectType: 'VEN_RESOURCE_REQUEST',
      venID: 'NESO-ven-0001',
      resourceName: 'battery-1',
    });
    expect([renamed.status, renamed.json.resourceName]).toEqual([200, 'battery-1']);
    expect((await bl('DELETE', '/resources/{resourceID}', `/resources/${bound.json.id}`)).status).toBe(200);
    const gone = await ven('DELETE', '/vens/{venID}', '/vens/NESO-ven-0001');
    expect([gone.status, gone.json.attributes.find((a: any) => a.type === 'REGISTRATION_STATUS').values]).toEqual([200, ['CANCELLED']]);
    expect((await bl('GET', '/vens/{venID}', '/vens/NESO-ven-0001')).json).toMatchObject({ status: 404, code: 'OPENADR-VEN-NOT-FOUND' });
    // What a VEN may not do is refused in the document's terms.
    expect((await ven('POST', '/programs', '/programs', {})).json).toMatchObject({ status: 403, code: 'OPENADR-NOT-SERVED' });
  }, 60_000);
});
