import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CimWriter, identifiedObjectProblems, mergeDocuments, parseCimXml, ulidToMrid } from '../cim/index';
import { buildApp } from '../src/app';
import { Asset } from '../src/assets/schema';
import { cimExportStream } from '../src/cim/service';
import { Organisation } from '../src/organisations/schema';
import { MarketUnit } from '../src/units/schema';
import { DEMO, batteryInput, mpanFor, rowCounts, testHub, type TestHub } from './harness';

/** CIM exchange over the API: export (streamed, visible assets only), import (enrich, bulk-load), hostile bodies, round trip. */

const REF = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/cim');
const RDF_NS = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

let n = 0;
const next = () => ++n;
async function register(as: string, body: unknown) {
  const r = await hub.call('POST', '/api/v1/assets', { as, body });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}
const exportAs = (as: string, query = '') => hub.call('GET', `/api/v1/cim/export${query}`, { as });
const importAs = (as: string, xml: string, query = '', contentType = 'application/rdf+xml') =>
  hub.call('POST', `/api/v1/cim/import${query}`, { as, text: xml, contentType });
/** Equipment mRIDs in document order. */
const equipment = (xml: string) =>
  parseCimXml(xml)
    .objects.filter((o) => o.className === 'PowerElectronicsConnection' || o.className === 'EnergyConsumer')
    .map((o) => o.properties['cim:IdentifiedObject.mRID'][0]);

/** A DSO's own CIM100 file (CIMHub style: urn:uuid upper case, connection → unit link) for one MPAN. */
function dsoFile(mpan: string, mrid = 'A1B2C3D4-0000-4000-8000-00000000000' + (next() % 10)) {
  return `<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="${RDF_NS}" xmlns:c="http://iec.ch/TC57/CIM100#">
<c:Substation rdf:about="urn:uuid:5B000000-0000-4000-8000-000000000001"><c:IdentifiedObject.name>Primary 1</c:IdentifiedObject.name></c:Substation>
<c:Feeder rdf:about="urn:uuid:F0000000-0000-4000-8000-000000000001"><c:Feeder.NormalEnergizingSubstation rdf:resource="urn:uuid:5B000000-0000-4000-8000-000000000001"/></c:Feeder>
<c:ConnectivityNode rdf:about="urn:uuid:C0000000-0000-4000-8000-000000000001"><c:ConnectivityNode.ConnectivityNodeContainer rdf:resource="urn:uuid:F0000000-0000-4000-8000-000000000001"/></c:ConnectivityNode>
<c:PowerElectronicsConnection rdf:about="urn:uuid:${mrid}"><c:IdentifiedObject.mRID>${mrid}</c:IdentifiedObject.mRID><c:IdentifiedObject.name>pv</c:IdentifiedObject.name>
  <c:PowerElectronicsConnection.PowerElectronicsUnit rdf:resource="urn:uuid:${mrid.slice(0, -1)}U"/></c:PowerElectronicsConnection>
<c:BatteryUnit rdf:about="urn:uuid:${mrid.slice(0, -1)}U"/>
<c:Terminal rdf:about="urn:uuid:7E000000-0000-4000-8000-000000000001"><c:Terminal.ConductingEquipment rdf:resource="urn:uuid:${mrid}"/><c:Terminal.ConnectivityNode rdf:resource="urn:uuid:C0000000-0000-4000-8000-000000000001"/></c:Terminal>
<c:UsagePoint rdf:about="urn:uuid:0B000000-0000-4000-8000-000000000001"><c:UsagePoint.Equipments rdf:resource="urn:uuid:${mrid}"/></c:UsagePoint>
<c:NameType rdf:about="urn:uuid:0E000000-0000-4000-8000-000000000001"><c:NameType.name>MPAN</c:NameType.name></c:NameType>
<c:Name rdf:about="urn:uuid:0A000000-0000-4000-8000-000000000001"><c:Name.name>${mpan}</c:Name.name><c:Name.NameType rdf:resource="urn:uuid:0E000000-0000-4000-8000-000000000001"/><c:Name.IdentifiedObject rdf:resource="urn:uuid:0B000000-0000-4000-8000-000000000001"/></c:Name>
</rdf:RDF>`;
}

describe('export (GET /api/v1/cim/export)', () => {
  it('streams RDF/XML with a header; a DNO sees only its networks; the SHACL identity rules hold; two exports are identical', async () => {
    const onNet = await register(
      'fsp-a',
      batteryInput(next(), { location: { postcode: 'G2 1AA', gspGroup: '_N', latitude: 55.8, longitude: -4.2 } }),
    );
    const offNet = await register('fsp-a', batteryInput(next(), { dno: 'UKPN_EPN', importMpan: mpanFor(4_000_000 + n, '10') }));
    const r = await exportAs('dno');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/rdf\+xml/);
    const doc = parseCimXml(r.text);
    expect(doc.header).toMatchObject({
      created: hub.clock.now().toISOString(),
      modelingAuthoritySet: 'http://hub.test',
      profiles: [expect.stringMatching(/^https:/)],
    });
    expect(doc.issues).toEqual([]);
    const ids = equipment(r.text);
    expect(ids).toContain(ulidToMrid(onNet.id));
    expect(ids).not.toContain(ulidToMrid(offNet.id));
    expect([...ids].sort()).toEqual(ids);
    for (const o of doc.objects) {
      if (['Name', 'NameType', 'PositionPoint'].includes(o.className)) continue;
      const p = (k: string) => o.properties[`cim:IdentifiedObject.${k}`]?.[0];
      expect(
        identifiedObjectProblems({ mrid: p('mRID'), name: p('name'), description: p('description') }),
        `${o.className} ${o.ids[0]}`,
      ).toEqual([]);
    }
    const m = mergeDocuments([doc]);
    expect(m.issues.filter((i) => i.code === 'CIM-REFERENCE-DANGLING')).toEqual([]);
    expect((await exportAs('dno')).text).toBe(r.text);
    const all = await exportAs('operator');
    expect(equipment(all.text)).toContain(ulidToMrid(offNet.id));
  });

  it('pages through the database: any page size gives the same document, organisations written once', async () => {
    const dno = (await hub.call('GET', `/api/v1/organisations/${DEMO.dno}`, { as: 'dno' })).json;
    const principal = {
      subject: 't',
      organisationId: DEMO.dno,
      roles: ['DNO' as const],
      scopes: ['*'],
      dnoCodes: dno.dnoCodes ?? ['SPEN_SPM', 'SPEN_SPD'],
    };
    const read = async (pageSize: number) => {
      const chunks: string[] = [];
      const reader = cimExportStream(hub.ctx, principal, {}, 'http://hub.test', pageSize).getReader();
      const dec = new TextDecoder();
      for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(dec.decode(r.value));
      return chunks;
    };
    const whole = await read(500);
    const paged = await read(1);
    expect(paged.length).toBeGreaterThan(2);
    expect(paged.join('')).toBe(whole.join(''));
    expect(whole.join('')).toBe((await exportAs('dno')).text);
    expect(
      parseCimXml(paged.join(''))
        .objects.filter((o) => o.className === 'Organisation')
        .map((o) => o.ids[0]).length,
    ).toBe(
      new Set(
        parseCimXml(paged.join(''))
          .objects.filter((o) => o.className === 'Organisation')
          .map((o) => o.ids[0]),
      ).size,
    );
  });

  it('filters by category, GSP group, DNO and organisation', async () => {
    const ev = await register('fsp-a', {
      name: `Charger ${next()}`,
      category: 'EV_CHARGER',
      ratedCapacityKw: 7,
      connectionStatus: 'CONNECTED',
      commissioningDate: '2025-01-01',
      dno: 'SPEN_SPM',
      importMpan: mpanFor(5_000_000 + n),
      location: { gspGroup: '_P' },
    });
    expect(equipment((await exportAs('operator', '?category=EV_CHARGER')).text)).toContain(ulidToMrid(ev.id));
    expect(equipment((await exportAs('operator', '?category=BESS')).text)).not.toContain(ulidToMrid(ev.id));
    expect(equipment((await exportAs('operator', '?gspGroup=_P')).text)).toEqual([ulidToMrid(ev.id)]);
    expect(equipment((await exportAs('operator', `?organisationId=${DEMO['fsp-b']}`)).text)).toEqual([]);
    expect(equipment((await exportAs('dno', '?dno=UKPN_EPN')).text)).toEqual([]);
    expect((await exportAs('operator', '?gspGroup=_Z')).json.code).toBe('REQUEST-QUERY-INVALID');
  });

  it('follows the permission matrix: FSPs and installers are refused, tokens are required', async () => {
    expect((await exportAs('fsp-a')).json.code).toBe('AUTH-SCOPE-MISSING');
    const wide = await hub.token({ org: DEMO['fsp-a'], roles: ['FSP'], scope: 'cim:export' });
    expect((await exportAs(wide)).json.code).toBe('AUTH-ROLE-FORBIDDEN');
    expect((await exportAs('installer')).status).toBe(403);
    expect((await hub.call('GET', '/api/v1/cim/export')).status).toBe(401);
    const noScope = await hub.token({ org: DEMO.dno, roles: ['DNO'], scope: 'assets:read' });
    expect((await exportAs(noScope)).json.code).toBe('AUTH-SCOPE-MISSING');
  });
});

describe('market units in the export', () => {
  it('a market unit is a RegisteredResource linked to its member assets in the document and to its FSP; filtered-out members are not linked', async () => {
    const a = await register('fsp-a', batteryInput(next()));
    const b = await register('fsp-a', batteryInput(next()));
    const u = await hub.call('POST', '/api/v1/market-units', {
      as: 'fsp-a',
      body: { name: `CIM unit ${n}`, type: 'SPG', product: 'NESO-DFS', assetIds: [a.id, b.id] },
    });
    expect(u.status, JSON.stringify(u.json)).toBe(201);
    const r = await exportAs('operator');
    const doc = parseCimXml(r.text);
    const rr = doc.objects.find(
      (o) => o.className === 'RegisteredResource' && o.properties['cim:IdentifiedObject.mRID'][0] === ulidToMrid(u.json.id),
    )!;
    expect(rr).toBeDefined();
    expect(rr.properties['cim:IdentifiedObject.name']).toEqual([`CIM unit ${n}`]);
    expect(rr.properties['fmar:RegisteredResource.product']).toEqual(['NESO-DFS']);
    expect(rr.references['fmar:RegisteredResource.PowerSystemResources'].map((x) => x.key)).toEqual(
      [ulidToMrid(a.id), ulidToMrid(b.id)].sort(),
    );
    const m = mergeDocuments([doc]);
    expect(m.issues.filter((i) => i.code === 'CIM-REFERENCE-DANGLING')).toEqual([]);
    const role = m.objects.get(rr.references['fmar:RegisteredResource.OrganisationRole'][0].key)!;
    expect(role.className).toBe('OrganisationRole');
    // A filter that leaves the members out leaves the unit out: no reference dangles.
    const other = parseCimXml((await exportAs('operator', '?category=EV_CHARGER')).text);
    expect(other.objects.filter((o) => o.className === 'RegisteredResource' && o.ids[0] === `_${ulidToMrid(u.json.id)}`)).toEqual([]);
  });
});

describe('import (POST /api/v1/cim/import)', () => {
  it('enrich: a DNO records network references and its mRID on the asset matched by MPAN; atomic, audited', async () => {
    const a = await register('fsp-a', batteryInput(next()));
    const written = 'A1B2C3D4-0000-4000-8000-0000000000AA';
    // Stored normalised (lower case), whatever the file's spelling.
    const mrid = written.toLowerCase();
    const dry = await importAs('dno', dsoFile(a.importMpan, written), '?mode=enrich&dryRun=true');
    expect(dry.status, JSON.stringify(dry.json)).toBe(200);
    expect(dry.json).toMatchObject({ mode: 'enrich', dryRun: true, matched: 1, enriched: 0 });
    expect(await hub.db.query(`SELECT 1 FROM cim_network_ref WHERE asset_id = $1`, [a.id])).toEqual([]);

    const r = await importAs('dno', dsoFile(a.importMpan, written));
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({ mode: 'enrich', dryRun: false, matched: 1, enriched: 1, equipment: 1 });
    const [ref] = await hub.db.query(`SELECT * FROM cim_network_ref WHERE asset_id = $1`, [a.id]);
    expect(ref).toMatchObject({
      source_organisation_id: DEMO.dno,
      equipment_mrid: mrid,
      connectivity_node_mrid: 'c0000000-0000-4000-8000-000000000001',
      feeder_mrid: 'f0000000-0000-4000-8000-000000000001',
      substation_mrid: '5b000000-0000-4000-8000-000000000001',
    });
    const read = await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' });
    expect(read.json.aliases).toContainEqual({ scheme: 'cim_mrid', value: mrid });
    const audit = await hub.call('GET', `/api/v1/audit?recordType=asset&recordId=${a.id}`, { as: 'operator' });
    expect(audit.json.items.map((i: any) => i.action)).toContain('asset.cim-enriched');
    // Versioned like any other change: the prior version archived, the version up, one event to the asset's parties.
    expect(read.json.version).toBe(a.version + 1);
    expect(
      await hub.db.query(`SELECT version, data->>'version' AS v FROM record_history WHERE record_type = 'asset' AND record_id = $1`, [
        a.id,
      ]),
    ).toEqual([{ version: a.version, v: String(a.version) }]);
    const events = await hub.db.query(`SELECT id, data FROM event_outbox WHERE subject = $1 AND type = 'fmar.asset.network-enriched'`, [
      a.id,
    ]);
    expect(events.map((e) => e.data)).toEqual([
      {
        assetId: a.id,
        version: a.version + 1,
        sourceOrganisationId: DEMO.dno,
        equipmentMrid: mrid,
        connectivityNode: 'c0000000-0000-4000-8000-000000000001',
        substation: '5b000000-0000-4000-8000-000000000001',
        feeder: 'f0000000-0000-4000-8000-000000000001',
      },
    ]);
    const to = (await hub.db.query(`SELECT organisation_id FROM event_recipient WHERE event_id = $1`, [events[0].id])).map(
      (x) => x.organisation_id,
    );
    expect(to).toEqual(expect.arrayContaining([DEMO['fsp-a'], DEMO.dno]));
    expect(audit.json.items.find((i: any) => i.action === 'asset.cim-enriched').detail).toMatchObject({
      version: a.version + 1,
      equipmentMrid: mrid,
    });
    // The same file again changes nothing: no new version, no event.
    const again = await importAs('dno', dsoFile(a.importMpan, written));
    expect(again.json).toMatchObject({ matched: 1, enriched: 0, unchanged: 1 });
    expect((await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' })).json.version).toBe(a.version + 1);
    expect(
      await hub.db.query(`SELECT 1 FROM event_outbox WHERE subject = $1 AND type = 'fmar.asset.network-enriched'`, [a.id]),
    ).toHaveLength(1);
    // The DSO's mRID is the asset's mRID in later exports: never re-minted.
    expect(equipment((await exportAs('dno')).text)).toContain(mrid.toLowerCase());
  });

  it('enrich reports MPANs it cannot match (other networks are invisible to the DNO) and changes nothing for them', async () => {
    const offNet = await register('fsp-a', batteryInput(next(), { dno: 'UKPN_EPN', importMpan: mpanFor(6_000_000 + n, '10') }));
    const before = await rowCounts(hub.db, ['cim_network_ref', 'asset_alias', 'audit_log']);
    const r = await importAs('dno', dsoFile(offNet.importMpan));
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ matched: 0, enriched: 0, issueCounts: { 'CIM-MPAN-NOT-FOUND': 1 } });
    expect(await rowCounts(hub.db, ['cim_network_ref', 'asset_alias', 'audit_log'])).toEqual(before);
  });

  it('accepts several files of one model as multipart (CGMES EQ + SSH) and reports what it did not use', async () => {
    const form = new FormData();
    for (const f of ['entsoe-cgmes3_MicroGrid_20210209T1930Z_1D_BE_EQ_9.xml', 'entsoe-cgmes3_MicroGrid_20210209T1930Z_1D_BE_SSH_9.xml']) {
      form.append('file', new File([readFileSync(resolve(REF, f))], f, { type: 'application/rdf+xml' }));
    }
    const res = await hub.app.request('/api/v1/cim/import?unit=MW', {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${await hub.token('dno')}` },
    });
    const body: any = await res.json();
    expect(res.status, JSON.stringify(body).slice(0, 500)).toBe(200);
    expect(body.files).toHaveLength(2);
    expect(body.objects).toBe(277);
    expect(body.equipment).toBe(3);
    expect(body.issueCounts).toMatchObject({
      'CIM-EQUIPMENT-NO-MPAN': 3,
      'CIM-CLASS-UNKNOWN': expect.any(Number),
      'CIM-REFERENCE-DANGLING': expect.any(Number),
    });
    expect(body.issues.every((i: any) => typeof i.code === 'string' && typeof i.message === 'string')).toBe(true);
  });

  it('reports the malformed Texel file with locations, links nothing, and still answers 200', async () => {
    const r = await importAs('dno', readFileSync(resolve(REF, 'alliander-pycgmes_Texel_EQ_malformed.xml'), 'utf8'), '', 'application/xml');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      objects: 24,
      equipment: 0,
      matched: 0,
      issueCounts: { 'CIM-HEADER-INVALID': 3, 'CIM-REFERENCE-AS-LITERAL': 33 },
    });
    expect(
      r.json.issues
        .filter((i: any) => i.code === 'CIM-REFERENCE-AS-LITERAL')
        .every((i: any) => i.file === 'body.xml' && i.line > 8 && i.col === 5),
    ).toBe(true);
  });

  it('refuses hostile and malformed bodies with problems: entities, malformed XML (line/column), size, media type', async () => {
    const before = await rowCounts(hub.db);
    const lol = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><rdf:RDF xmlns:rdf="${RDF_NS}">&b;</rdf:RDF>`;
    const r1 = await importAs('dno', lol);
    expect(r1.status).toBe(400);
    expect(r1.headers.get('content-type')).toBe('application/problem+json');
    expect(r1.json.code).toBe('CIM-XML-DOCTYPE');
    const xxe = await importAs(
      'dno',
      `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rdf:RDF xmlns:rdf="${RDF_NS}">&x;</rdf:RDF>`,
      '',
      'application/xml',
    );
    expect(xxe.json.code).toBe('CIM-XML-DOCTYPE');
    const bad = await importAs('dno', `<rdf:RDF xmlns:rdf="${RDF_NS}">\n<a>\n</b></rdf:RDF>`);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'CIM-XML-MALFORMED', location: { file: 'body.xml', line: 3, col: expect.any(Number) } });
    expect((await importAs('dno', `<rdf:RDF xmlns:rdf="${RDF_NS}">${'<a>'.repeat(5000)}</rdf:RDF>`)).json.code).toBe('CIM-XML-TOO-DEEP');
    expect((await importAs('dno', '<root/>')).json.code).toBe('CIM-XML-NOT-RDF');
    expect((await importAs('dno', dsoFile('1312345678907'), '', 'text/plain')).status).toBe(415);
    expect((await importAs('dno', dsoFile('1312345678907'), '?unit=GW')).json.code).toBe('REQUEST-QUERY-INVALID');
    const small = buildApp({ ...hub.ports, config: { ...hub.ports.config, maxBulkBytes: 2048 } });
    const big = await small.request('/api/v1/cim/import', {
      method: 'POST',
      body: dsoFile('1312345678907') + ' '.repeat(4096),
      headers: { authorization: `Bearer ${await hub.token('dno')}`, 'content-type': 'application/rdf+xml' },
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: string }).code).toBe('REQUEST-TOO-LARGE'); // the body limit, before the route
    // FMAR_MAX_CIM_BYTES below the bulk limit (a Worker's 2 MiB): the CIM route refuses with its own rule.
    const cimBound = buildApp({ ...hub.ports, config: { ...hub.ports.config, maxCimBytes: 2048 } });
    const overCim = await cimBound.request('/api/v1/cim/import', {
      method: 'POST',
      body: dsoFile('1312345678907') + ' '.repeat(4096),
      headers: { authorization: `Bearer ${await hub.token('dno')}`, 'content-type': 'application/rdf+xml' },
    });
    expect(overCim.status).toBe(413);
    expect((await overCim.json()) as { code: string; detail: string }).toMatchObject({
      code: 'CIM-XML-TOO-LARGE',
      detail: 'An import is at most 2048 bytes.',
    });
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('follows the permission matrix: FSPs may not import; bulk-load also needs assets.write', async () => {
    // Tokens carry the scopes of the organisation's roles: neither an FSP's cim:import nor a DNO's assets:write exists.
    expect((await importAs('fsp-a', dsoFile('1312345678907'))).json.code).toBe('AUTH-SCOPE-MISSING');
    expect((await importAs('dno', dsoFile('1312345678907'), '?mode=bulk-load')).json).toMatchObject({
      code: 'AUTH-SCOPE-MISSING',
      requiredScope: 'assets:write',
    });
    const wide = await hub.token({ org: DEMO.dno, roles: ['DNO'], scope: 'cim:import assets:write' });
    expect((await importAs(wide, dsoFile('1312345678907'), '?mode=bulk-load')).json.code).toBe('AUTH-ROLE-FORBIDDEN');
  });

  it('bulk-load is atomic: one equipment failing the asset rules and nothing is written', async () => {
    const exported = (await exportAs('operator', `?organisationId=${DEMO['fsp-a']}`)).text;
    const before = await rowCounts(hub.db);
    // Every asset of fsp-a is already registered: each row is a duplicate, and a file with no MPAN fails validation.
    const r = await importAs('operator', exported, '?mode=bulk-load');
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('CIM-IMPORT-ROWS-INVALID');
    expect(r.json.results.length).toBeGreaterThan(0);
    expect(r.json.results[0]).toMatchObject({ status: 'rejected', mrid: expect.any(String), at: { line: expect.any(Number) } });
    expect(await rowCounts(hub.db)).toEqual(before);
  });
});

describe('JSON-LD @context', () => {
  it('is published, and maps every field of the asset, organisation and market unit resources to a CIM or extension term', async () => {
    const r = await hub.app.request('/contexts/cim.jsonld');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/ld+json');
    const ctx = ((await r.json()) as any)['@context'];
    expect(ctx).toMatchObject({
      '@version': 1.1,
      cim: 'http://iec.ch/TC57/CIM100#',
      Asset: 'cim:Asset',
      MarketUnit: 'cim:RegisteredResource',
    });
    const fields = [
      ...Object.keys(Asset.shape),
      'postcode',
      'gspGroup',
      'latitude',
      'longitude',
      'scheme',
      'value',
      ...Object.keys(Organisation.shape).filter((k) => k !== 'passport'),
      ...Object.keys(MarketUnit.shape),
    ];
    for (const f of fields) {
      const term = typeof ctx[f] === 'string' ? ctx[f] : ctx[f]?.['@id'];
      expect(term, f).toMatch(/^(cim|fmar):[A-Za-z]+\.[A-Za-z]+$/);
    }
    expect(ctx.name).toBe('cim:IdentifiedObject.name');
    expect(ctx.serialNumber).toBe('cim:Asset.serialNumber');
  });
});

describe('bulk-load atomicity', () => {
  it('one bad equipment among good ones: 422 naming it, and nothing of the file is written; without it the file loads', async () => {
    const w = new CimWriter();
    const good = {
      ...batteryInput(next()),
      id: '01JF0000000000000000000001',
      organisationId: DEMO['fsp-a'],
      fspId: DEMO['fsp-a'],
      connectionStatus: 'CONNECTED',
    };
    const bad = {
      ...batteryInput(next()),
      id: '01JF0000000000000000000002',
      organisationId: DEMO['fsp-a'],
      fspId: DEMO['fsp-a'],
      importMpan: '1300000000010',
    };
    const doc = (assets: (typeof good)[]) =>
      w.header({ created: hub.clock.now(), modelingAuthoritySet: 'http://dso.test' }) +
      assets.map((a) => w.organisation({ id: a.organisationId, name: 'B' }) + w.asset(a)).join('') +
      w.footer();
    const before = await rowCounts(hub.db);
    const r = await importAs('operator', doc([good, bad]), '?mode=bulk-load');
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('CIM-IMPORT-ROWS-INVALID');
    expect(r.json.results).toEqual([
      expect.objectContaining({
        row: 1,
        status: 'rejected',
        mrid: ulidToMrid(bad.id),
        errors: [expect.objectContaining({ field: 'importMpan', code: 'ASSET-MPAN-CHECKDIGIT' })],
      }),
    ]);
    expect(await rowCounts(hub.db)).toEqual(before);
    const ok = await importAs(
      'operator',
      new CimWriter().header({ created: hub.clock.now(), modelingAuthoritySet: 'http://dso.test' }) +
        new CimWriter().organisation({ id: DEMO['fsp-a'], name: 'B' }) +
        new CimWriter().asset(good) +
        '</rdf:RDF>',
      '?mode=bulk-load',
    );
    expect(ok.status, JSON.stringify(ok.json).slice(0, 500)).toBe(201);
    const [loaded] = ok.json.results;
    const read = await hub.call('GET', `/api/v1/assets/${loaded.id}`, { as: 'operator' });
    expect(read.json).toMatchObject({
      organisationId: DEMO['fsp-a'],
      fspId: DEMO['fsp-a'],
      importMpan: good.importMpan,
      ratedCapacityKw: 5,
      aliases: [{ scheme: 'cim_mrid', value: ulidToMrid(good.id) }],
    });
  });
});

describe('bulk-load of files from other tools', () => {
  it('guesses nothing: CIMHub equipment without MPAN, DNO or category is refused row by row, with the reasons', async () => {
    const before = await rowCounts(hub.db);
    const r = await importAs(
      'operator',
      readFileSync(resolve(REF, 'gridappsd-cimhub_IEEE13_PV.xml'), 'utf8'),
      `?mode=bulk-load&dryRun=true&unit=W&organisationId=${DEMO['fsp-b']}`,
    );
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('CIM-IMPORT-ROWS-INVALID');
    expect(r.json.results).toHaveLength(21);
    const pv = r.json.results.find((x: any) => x.mrid === '413f30b8-a378-4589-ae38-7c6e621a41c2');
    expect(pv.errors.map((e: any) => e.code)).toEqual(expect.arrayContaining(['ASSET-MPAN-EXPORT-REQUIRED']));
    const load = r.json.results.find((x: any) => x.problems?.some((p: string) => p.includes('PSRType')));
    expect(load.errors.map((e: any) => e.field)).toContain('category');
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('an organisation the file names but the register does not know: organisationId= supplies the owner', async () => {
    const w = new CimWriter();
    const a = {
      ...batteryInput(next()),
      id: '01JF0000000000000000000003',
      organisationId: '01JF00000000000000000000ZZ',
      fspId: '01JF00000000000000000000ZZ',
    };
    const doc =
      w.header({ created: hub.clock.now(), modelingAuthoritySet: 'http://dso.test' }) +
      w.organisation({ id: a.organisationId, name: 'Unknown Ltd' }) +
      w.asset(a) +
      w.footer();
    expect((await importAs('operator', doc, '?mode=bulk-load&dryRun=true')).json.results[0].errors).toContainEqual(
      expect.objectContaining({ code: 'ASSET-ORGANISATION-REQUIRED' }),
    );
    const ok = await importAs('operator', doc, `?mode=bulk-load&dryRun=true&organisationId=${DEMO['fsp-b']}`);
    expect(ok.status, JSON.stringify(ok.json).slice(0, 500)).toBe(200);
    expect(ok.json).toMatchObject({ dryRun: true, registered: 0, results: [expect.objectContaining({ status: 'valid' })] });
  });
});

describe('round trip', () => {
  it('export → bulk-load into an empty register → export gives the same document', async () => {
    // No consentReference: another register cannot verify a consent by its ID (the token is never exported), so it would refuse the row.
    const rows = [
      batteryInput(next(), {
        location: { postcode: 'G2 1AA', gspGroup: '_N', latitude: 55.86, longitude: -4.25 },
        manufacturer: 'Acme & Sons',
        model: 'B<10>',
        generationCapacityKw: 4.5,
        demandCapacityKw: 3.25,
        aliases: [{ scheme: 'fsp_ref', value: 'REF-1' }],
      }),
      {
        name: `Roof PV ${next()}`,
        category: 'SOLAR_PV',
        ratedCapacityKw: 3.99,
        connectionStatus: 'PENDING',
        dno: 'SPEN_SPM',
        exportMpan: mpanFor(7_000_000 + n),
        serialNumber: `PV-${n}`,
        connectionType: 'NON_FIRM',
      },
      {
        name: `Wind ${next()}`,
        category: 'WIND_TURBINE',
        ratedCapacityKw: 12,
        connectionStatus: 'DISCONNECTED',
        dno: 'SPEN_SPM',
        exportMpan: mpanFor(7_000_000 + n),
        effectiveDate: '2025-02-01',
        commissioningDate: '2025-01-01',
      },
      {
        name: 'H'.repeat(200),
        category: 'HEAT_PUMP',
        ratedCapacityKw: 8,
        demandCapacityKw: 3.5,
        connectionStatus: 'CONNECTED',
        commissioningDate: '2023-10-01',
        dno: 'SPEN_SPM',
        importMpan: mpanFor(7_000_000 + next()),
        exportMpan: mpanFor(7_100_000 + n),
        aliases: [{ scheme: 'mcs', value: 'MCS-77' }],
      },
      {
        name: `Charger ${next()}`,
        category: 'EV_CHARGER',
        ratedCapacityKw: 22,
        connectionStatus: 'CONNECTED',
        commissioningDate: '2024-01-01',
        dno: 'SPEN_SPM',
        importMpan: mpanFor(7_000_000 + n),
        friendlyCode: 'EV-RT',
        aliases: [{ scheme: 'evse', value: 'GB*ABC*E12345*1' }],
      },
    ].map((r) => ({ ...r, organisationId: DEMO['fsp-b'] }));
    for (const r of rows) await register('operator', r);
    const q = `?organisationId=${DEMO['fsp-b']}`;
    const first = await exportAs('operator', q);
    expect(equipment(first.text)).toHaveLength(rows.length);

    const fresh = await testHub({ clock: hub.clock });
    try {
      const before = await rowCounts(fresh.db);
      const dry = await fresh.call('POST', `/api/v1/cim/import?mode=bulk-load&dryRun=true`, {
        as: 'operator',
        text: first.text,
        contentType: 'application/rdf+xml',
      });
      expect(dry.status, JSON.stringify(dry.json).slice(0, 1000)).toBe(200);
      expect(dry.json).toMatchObject({ dryRun: true, registered: 0, equipment: rows.length });
      expect(await rowCounts(fresh.db)).toEqual(before);
      const load = await fresh.call('POST', `/api/v1/cim/import?mode=bulk-load`, {
        as: 'operator',
        text: first.text,
        contentType: 'application/rdf+xml',
      });
      expect(load.status, JSON.stringify(load.json).slice(0, 1000)).toBe(201);
      expect(load.json.registered).toBe(rows.length);
      fresh.clock.advance(60_000);
      const second = await fresh.call('GET', `/api/v1/cim/export${q}`, { as: 'operator' });
      const strip = (s: string) =>
        s.replace(/<md:FullModel rdf:about="[^"]*">/, '<md:FullModel>').replace(/<md:Model.created>[^<]*</, '<md:Model.created><');
      expect(second.text).not.toBe(first.text);
      expect(strip(second.text)).toBe(strip(first.text));
    } finally {
      await fresh.close();
    }
  });
});
