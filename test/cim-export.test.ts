import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CimWriter,
  derivedMrid,
  extractAssets,
  legacyOrganisationMrid,
  mergeDocuments,
  normaliseId,
  organisationMrid,
  parseCimXml,
  ulidToMrid,
  usagePointMrid,
} from '../cim/index';
import { sqlNormalisedId } from '../src/cim/export';
import { cimExportStream } from '../src/cim/service';
import { CIM, FMAR, iri, rdfXmlQuads, shaclViolations, subjectsOf, valuesOf } from './cim-export-check';
import { DEMO, batteryInput, mpanFor, testHub, type TestHub } from './harness';

/**
 * The CIM export over the HTTP API: each object once (two assets behind one meter matched to one DSO
 * connection), the enrich's network exported, the DSO's current mRID, byte-stable exports, and every
 * export read by an independent RDF/XML parser and validated against the published SHACL shapes.
 */

let hub: TestHub;
/** A second hub for re-imports, built once for the file (a hub takes seconds to build). */
let second: TestHub | undefined;
const freshHub = async () => (second ??= await testHub({ clock: hub.clock }));
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await second?.close();
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
const enrich = async (xml: string) => {
  const r = await hub.call('POST', '/api/v1/cim/import?mode=enrich', { as: 'dno', text: xml, contentType: 'application/rdf+xml' });
  expect(r.status, JSON.stringify(r.json).slice(0, 500)).toBe(200);
  return r.json;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A DSO's model of one connection (a PowerElectronicsConnection with its terminal, node, feeder, substation and MPAN), as CIMHub-style files write it. */
function dsoModel(o: {
  equipment: string;
  mpan: string;
  cn: string;
  feeder: string;
  substation: string;
  unit?: string;
  asId?: boolean;
}): string {
  // CIMHub style (urn:uuid:) for UUIDs unless asId; CGMES style (rdf:ID="_…") otherwise.
  const about = (id: string) => (UUID.test(id) && !o.asId ? `rdf:about="urn:uuid:${id}"` : `rdf:ID="_${id}"`);
  const ref = (id: string) => (UUID.test(id) && !o.asId ? `rdf:resource="urn:uuid:${id}"` : `rdf:resource="#_${id}"`);
  const k = next();
  return `<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:c="http://iec.ch/TC57/CIM100#">
<c:Substation ${about(o.substation)}><c:IdentifiedObject.name>Primary</c:IdentifiedObject.name></c:Substation>
<c:Feeder ${about(o.feeder)}><c:Feeder.NormalEnergizingSubstation ${ref(o.substation)}/></c:Feeder>
<c:ConnectivityNode ${about(o.cn)}><c:ConnectivityNode.ConnectivityNodeContainer ${ref(o.feeder)}/></c:ConnectivityNode>
<c:PowerElectronicsConnection ${about(o.equipment)}><c:IdentifiedObject.name>customer connection</c:IdentifiedObject.name></c:PowerElectronicsConnection>
<c:${o.unit ?? 'BatteryUnit'} rdf:ID="_unit${k}"><c:PowerElectronicsUnit.PowerElectronicsConnection ${ref(o.equipment)}/></c:${o.unit ?? 'BatteryUnit'}>
<c:Terminal rdf:ID="_t${k}"><c:Terminal.ConductingEquipment ${ref(o.equipment)}/><c:Terminal.ConnectivityNode ${ref(o.cn)}/></c:Terminal>
<c:UsagePoint rdf:ID="_up${k}"><c:UsagePoint.Equipments ${ref(o.equipment)}/></c:UsagePoint>
<c:NameType rdf:ID="_nt${k}"><c:NameType.name>MPAN</c:NameType.name></c:NameType>
<c:Name rdf:ID="_n${k}"><c:Name.name>${o.mpan}</c:Name.name><c:Name.NameType rdf:resource="#_nt${k}"/><c:Name.IdentifiedObject rdf:resource="#_up${k}"/></c:Name>
</rdf:RDF>`;
}
/** A fresh upper-case UUID (DSO tools often write them so). */
const uuid = (tag: number, i: number) => `${String(tag).padStart(8, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`.toUpperCase();

const TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
/** How many objects a document writes with this rdf:ID (repeated rdf:IDs are what RDF/XML forbids). */
const rdfIdCounts = (xml: string) => {
  const c = new Map<string, number>();
  for (const m of xml.matchAll(/rdf:ID="([^"]+)"/g)) c.set(m[1], (c.get(m[1]) ?? 0) + 1);
  return c;
};
/** The DNO's principal, for exports read page by page. */
async function dnoPrincipal() {
  const dno = (await hub.call('GET', `/api/v1/organisations/${DEMO.dno}`, { as: 'dno' })).json;
  return { subject: 't', organisationId: DEMO.dno, roles: ['DNO' as const], scopes: ['*'], dnoCodes: dno.dnoCodes as string[] };
}
async function readStream(s: ReadableStream<Uint8Array>): Promise<string> {
  const reader = s.getReader();
  const dec = new TextDecoder();
  let out = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) out += dec.decode(r.value);
  return out;
}

describe('two assets behind one meter, matched to one DSO connection', () => {
  it('writes each object once: an equipment per asset, the meter, node, feeder and substation shared by reference; a re-import keeps both assets', async () => {
    const shared = mpanFor(8_000_000 + next());
    // Owned by fsp-b, which has no other asset in this file: the re-import below takes exactly these two.
    const battery = await register('operator', batteryInput(next(), { organisationId: DEMO['fsp-b'], exportMpan: shared }));
    const pv = await register('operator', {
      name: `Roof PV ${next()}`,
      category: 'SOLAR_PV',
      ratedCapacityKw: 4,
      connectionStatus: 'CONNECTED',
      commissioningDate: '2025-01-01',
      dno: 'SPEN_SPM',
      exportMpan: shared,
      serialNumber: `PV-${n}`,
      organisationId: DEMO['fsp-b'],
    });
    const x = uuid(1, n);
    const [cn, feeder, substation] = [uuid(2, n), uuid(3, n), uuid(4, n)];
    const report = await enrich(dsoModel({ equipment: x, mpan: shared, cn, feeder, substation }));
    expect(report).toMatchObject({ matched: 1, enriched: 2, unchanged: 0 });

    const r = await exportAs('dno');
    expect(r.status).toBe(200);
    // No rdf:ID twice: the independent parser refuses a document that repeats one.
    expect([...rdfIdCounts(r.text).values()].filter((c) => c > 1)).toEqual([]);
    const quads = await rdfXmlQuads(r.text);
    const eqB = ulidToMrid(battery.id);
    const eqP = ulidToMrid(pv.id);
    // Neither asset takes the DSO's mRID (both carry it): each keeps its own, and names the DSO's in a Name of NameType cim_mrid.
    expect(
      subjectsOf(quads, `${CIM}PowerElectronicsConnection`).filter((s) => [iri(eqB), iri(eqP), iri(x.toLowerCase())].includes(s)),
    ).toEqual([iri(eqB), iri(eqP)].sort()); // asset-ID order, which UUIDv8 mRIDs keep
    const namesOf = (of: string) =>
      subjectsOf(quads, `${CIM}Name`)
        .filter((s) => valuesOf(quads, s, `${CIM}Name.IdentifiedObject`)[0] === iri(of))
        .map((s) => [
          valuesOf(quads, valuesOf(quads, s, `${CIM}Name.NameType`)[0], `${CIM}NameType.name`)[0],
          valuesOf(quads, s, `${CIM}Name.name`)[0],
        ]);
    expect(namesOf(eqB)).toEqual([['cim_mrid', x.toLowerCase()]]);
    expect(namesOf(eqP)).toEqual([['cim_mrid', x.toLowerCase()]]);
    // One usage point for the shared MPAN (and one for the battery's own import MPAN), both equipment referring to it.
    const upShared = usagePointMrid('export', shared);
    expect(r.text.split(`rdf:ID="_${upShared}"`)).toHaveLength(2);
    expect(valuesOf(quads, iri(eqB), `${CIM}Equipment.UsagePoints`)).toEqual([
      iri(usagePointMrid('import', battery.importMpan)),
      iri(upShared),
    ]);
    expect(valuesOf(quads, iri(eqP), `${CIM}Equipment.UsagePoints`)).toEqual([iri(upShared)]);
    expect(namesOf(upShared)).toEqual([['MPAN', shared]]);
    // The network the enrich recorded: a terminal per equipment at the one node, one feeder, one substation.
    const lower = (s: string) => s.toLowerCase();
    for (const eq of [eqB, eqP]) {
      const t = iri(derivedMrid(eq, 'terminal'));
      expect(valuesOf(quads, t, `${CIM}Terminal.ConductingEquipment`)).toEqual([iri(eq)]);
      expect(valuesOf(quads, t, `${CIM}Terminal.ConnectivityNode`)).toEqual([iri(lower(cn))]);
      expect(valuesOf(quads, iri(eq), `${CIM}Equipment.EquipmentContainer`)).toEqual([iri(lower(feeder))]);
    }
    for (const [cls, id] of [
      ['ConnectivityNode', cn],
      ['Feeder', feeder],
      ['Substation', substation],
    ]) {
      expect(quads.filter((q) => q.subject.value === iri(lower(id)) && q.predicate.value === TYPE).map((q) => q.object.value)).toEqual([
        `${CIM}${cls}`,
      ]);
      expect(valuesOf(quads, iri(lower(id)), `${CIM}IdentifiedObject.mRID`)).toEqual([lower(id)]);
    }
    expect(valuesOf(quads, iri(lower(feeder)), `${CIM}Feeder.NormalEnergizingSubstation`)).toEqual([iri(lower(substation))]);
    expect(await shaclViolations(r.text)).toEqual([]);

    // The hub's own reader sees two equipment, each with the shared MPAN and the recorded network.
    const read = extractAssets(mergeDocuments([parseCimXml(r.text)])).filter((e) => [eqB, eqP].includes(e.mrid));
    expect(read.map((e) => [e.mrid, e.category, e.exportMpan, e.network]).sort()).toEqual(
      [
        [eqB, 'BESS', shared, { connectivityNode: lower(cn), feeder: lower(feeder), substation: lower(substation) }],
        [eqP, 'SOLAR_PV', shared, { connectivityNode: lower(cn), feeder: lower(feeder), substation: lower(substation) }],
      ].sort(),
    );

    // Page by page (one asset a page) the document is the same: shared objects are written once across pages.
    const principal = await dnoPrincipal();
    expect(await readStream(cimExportStream(hub.ctx, principal, {}, 'http://hub.test', 1))).toBe(r.text);

    // Re-import through a hub: bulk-load of the owner's export into an empty register keeps both assets.
    const owners = await exportAs('operator', `?organisationId=${DEMO['fsp-b']}`);
    expect(await shaclViolations(owners.text)).toEqual([]);
    const fresh = await freshHub();
    {
      const load = await fresh.call('POST', '/api/v1/cim/import?mode=bulk-load', {
        as: 'operator',
        text: owners.text,
        contentType: 'application/rdf+xml',
      });
      expect(load.status, JSON.stringify(load.json).slice(0, 800)).toBe(201);
      expect(load.json).toMatchObject({ equipment: 2, registered: 2 });
      const loaded = await Promise.all(
        load.json.results.map(async (x: { id: string }) => (await fresh.call('GET', `/api/v1/assets/${x.id}`, { as: 'operator' })).json),
      );
      expect(loaded.map((a) => [a.category, a.exportMpan, a.organisationId]).sort()).toEqual([
        ['BESS', shared, DEMO['fsp-b']],
        ['SOLAR_PV', shared, DEMO['fsp-b']],
      ]);
    }
  });
});

describe('connection limits: export → import into another hub', () => {
  const LIMITS = '/api/v1/connection-limits';
  const PROFILE = [
    { days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], from: '16:00', to: '19:00', exportLimitKw: 4.25 },
    { from: '00:00', to: '06:00', importLimitKw: 15, exportLimitKw: 6.5 },
  ];
  /** What a limit is, without what the hub that recorded it gives it (ID, version, times, recorder). */
  const essence = (l: any) => ({
    mpan: l.mpan,
    siteReference: l.siteReference,
    importLimitKw: l.importLimitKw,
    exportLimitKw: l.exportLimitKw,
    firmness: l.firmness,
    validFrom: l.validFrom,
    validTo: l.validTo,
    profile: l.profile,
    schemeReference: l.schemeReference,
    dno: l.dno,
  });
  const limitsAt = async (h: TestHub, mpans: string[]) =>
    (await Promise.all(mpans.map(async (m) => (await h.call('GET', `${LIMITS}?mpan=${m}`, { as: 'dno' })).json.items as any[]))).flat();
  const importAs = (h: TestHub, xml: string, query = '') =>
    h.call('POST', `/api/v1/cim/import?mode=enrich${query}`, { as: 'dno', text: xml, contentType: 'application/rdf+xml' });

  it('gives the same limits, TIMED profile and all; again, nothing changes; a value changed in the file updates the limit', async () => {
    const timed = await register('fsp-a', batteryInput(next(), { dno: 'SPEN_SPM' }));
    const scheme = await register('fsp-a', batteryInput(next(), { dno: 'SPEN_SPM' }));
    const mpans = [timed.importMpan, scheme.importMpan];
    const body = [
      {
        mpan: timed.importMpan,
        siteReference: 'SPM-SITE-7',
        importLimitKw: 20,
        exportLimitKw: 8,
        firmness: 'TIMED',
        validFrom: '2026-07-01T00:00:00Z',
        validTo: '2027-07-01T00:00:00Z',
        profile: PROFILE,
      },
      { mpan: scheme.importMpan, exportLimitKw: 8, firmness: 'DYNAMIC', schemeReference: 'ANM-ZONE-4' },
    ];
    for (const b of body) expect((await hub.call('POST', LIMITS, { as: 'dno', body: b })).status).toBe(201);
    const x = await exportAs('dno', `?organisationId=${DEMO['fsp-a']}`);
    expect(x.status).toBe(200);
    const xml = x.text;
    expect(await shaclViolations(xml)).toEqual([]);
    // The profile travels as CIM's scheduled limits: a dependency per direction with bands, a value per band and direction.
    expect([xml.match(/<cim:ScheduledLimitDependency /g)?.length, xml.match(/<cim:ScheduledActivePowerLimitValue /g)?.length]).toEqual([
      2, 3,
    ]);

    // The demo DNO of the other hub, on the same network, imports the file.
    const fresh = await freshHub();
    const r = await importAs(fresh, xml);
    expect(r.status, r.text).toBe(200);
    expect(r.json.limits.items.map((i: any) => [i.mpan, i.outcome]).sort()).toEqual(mpans.map((m) => [m, 'recorded']).sort());
    expect((await limitsAt(fresh, mpans)).map(essence)).toEqual((await limitsAt(hub, mpans)).map(essence));
    // Recorded like any other: an event each.
    const [{ n: events }] = await fresh.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM event_outbox WHERE type = 'fmar.connection-limit.recorded' AND data->>'mpan' = ANY($1::text[])`,
      [mpans],
    );
    expect(events).toBe(2);

    const again = await importAs(fresh, xml);
    expect(again.json.limits.items.map((i: any) => i.outcome)).toEqual(['unchanged', 'unchanged']);

    // The DNO changes the export band of 16:00–19:00 in its tool: the same limit is updated, with its history.
    const changed = xml.replace(
      '<cim:ScheduledActivePowerLimitValue.value>4250</cim:ScheduledActivePowerLimitValue.value>',
      '<cim:ScheduledActivePowerLimitValue.value>3000</cim:ScheduledActivePowerLimitValue.value>',
    );
    const dry = await importAs(fresh, changed, '&dryRun=true');
    expect(dry.json.limits.items.map((i: any) => [i.mpan, i.outcome]).sort()).toEqual(
      [
        [timed.importMpan, 'would-update'],
        [scheme.importMpan, 'unchanged'],
      ].sort(),
    );
    const u = await importAs(fresh, changed);
    const item = u.json.limits.items.find((i: any) => i.mpan === timed.importMpan);
    expect([item.outcome, Object.keys(item.changes)]).toEqual(['updated', ['profile']]);
    expect(item.changes.profile.to[0]).toEqual({ ...PROFILE[0], exportLimitKw: 3 });
    const h = await fresh.call('GET', `${LIMITS}/${item.connectionLimitId}/history`, { as: 'dno' });
    expect(h.json.items.map((v: any) => v.version)).toEqual([2, 1]);
  });
});

describe('the network and the mRID a DSO gave', () => {
  it('one DSO mRID on two assets from two files in different spellings is still shared: each asset keeps its own mRID', async () => {
    const a = await register('fsp-a', batteryInput(next()));
    const b = await register('fsp-a', batteryInput(next()));
    const x = uuid(41, n);
    const net = { cn: uuid(42, n), feeder: uuid(43, n), substation: uuid(44, n) };
    await enrich(dsoModel({ equipment: x, mpan: a.importMpan, ...net }));
    await enrich(dsoModel({ equipment: x.toLowerCase(), mpan: b.importMpan, ...net, asId: true }));
    const r = await exportAs('dno');
    expect([...rdfIdCounts(r.text).values()].filter((c) => c > 1)).toEqual([]);
    const quads = await rdfXmlQuads(r.text);
    expect(valuesOf(quads, iri(x.toLowerCase()), `${CIM}IdentifiedObject.mRID`)).toEqual([]);
    for (const eq of [ulidToMrid(a.id), ulidToMrid(b.id)]) {
      expect(valuesOf(quads, iri(eq), `${CIM}IdentifiedObject.mRID`)).toEqual([eq]);
      expect(valuesOf(quads, iri(derivedMrid(eq, 'name/cim_mrid')), `${CIM}Name.name`)).toEqual([x.toLowerCase()]);
    }
    expect(await shaclViolations(r.text)).toEqual([]);
  });

  it('exports the connectivity node, feeder and substation an enrich recorded, under the DSO’s own mRIDs', async () => {
    const a = await register('fsp-a', batteryInput(next()));
    const [x, cn, feeder, substation] = [uuid(11, n), uuid(12, n), uuid(13, n), uuid(14, n)];
    await enrich(dsoModel({ equipment: x, mpan: a.importMpan, cn, feeder, substation }));
    const r = await exportAs('dno');
    const quads = await rdfXmlQuads(r.text);
    const m = x.toLowerCase();
    expect(valuesOf(quads, iri(m), `${CIM}IdentifiedObject.mRID`)).toEqual([m]);
    expect(valuesOf(quads, iri(m), `${FMAR}Equipment.category`)).toEqual(['BESS']);
    // Sole holder of the DSO's mRID: no Name repeats it.
    expect(r.text).not.toContain(`<cim:Name.name>${m}</cim:Name.name>`);
    const t = iri(derivedMrid(m, 'terminal'));
    expect(valuesOf(quads, t, `${CIM}Terminal.ConnectivityNode`)).toEqual([iri(cn.toLowerCase())]);
    expect(valuesOf(quads, t, `${CIM}ACDCTerminal.sequenceNumber`)).toEqual(['1']);
    expect(valuesOf(quads, iri(m), `${CIM}Equipment.EquipmentContainer`)).toEqual([iri(feeder.toLowerCase())]);
    expect(valuesOf(quads, iri(feeder.toLowerCase()), `${CIM}Feeder.NormalEnergizingSubstation`)).toEqual([iri(substation.toLowerCase())]);
    const [e] = extractAssets(mergeDocuments([parseCimXml(r.text)])).filter((o) => o.mrid === m);
    expect(e.network).toEqual({ connectivityNode: cn.toLowerCase(), feeder: feeder.toLowerCase(), substation: substation.toLowerCase() });
    expect(await shaclViolations(r.text)).toEqual([]);
  });

  it('after the DSO re-models (a later enrich gives the connection a new mRID), the export carries the new one only', async () => {
    const a = await register('fsp-a', batteryInput(next()));
    const before = { equipment: uuid(21, n), cn: uuid(22, n), feeder: uuid(23, n), substation: uuid(24, n) };
    const after = { equipment: uuid(25, n), cn: uuid(26, n), feeder: before.feeder, substation: before.substation };
    await enrich(dsoModel({ ...before, mpan: a.importMpan }));
    expect(
      await rdfXmlQuads((await exportAs('dno')).text).then((q) =>
        valuesOf(q, iri(before.equipment.toLowerCase()), `${CIM}IdentifiedObject.mRID`),
      ),
    ).toEqual([before.equipment.toLowerCase()]);
    hub.clock.advance(60_000);
    expect(await enrich(dsoModel({ ...after, mpan: a.importMpan }))).toMatchObject({ matched: 1, enriched: 1 });
    const r = await exportAs('dno');
    const quads = await rdfXmlQuads(r.text);
    const m = after.equipment.toLowerCase();
    expect(valuesOf(quads, iri(m), `${CIM}IdentifiedObject.mRID`)).toEqual([m]);
    expect(valuesOf(quads, iri(derivedMrid(m, 'terminal')), `${CIM}Terminal.ConnectivityNode`)).toEqual([iri(after.cn.toLowerCase())]);
    // The earlier mRID and node are gone from the document (the asset keeps the old mRID as an alias: history, not the model).
    expect(r.text).not.toContain(before.equipment.toLowerCase());
    expect(r.text).not.toContain(before.cn.toLowerCase());
    expect(await shaclViolations(r.text)).toEqual([]);
  });

  it('DSO identifiers that are not UUIDs: the objects get derived mRIDs and carry the DSO’s identifier as a Name', async () => {
    const a = await register('fsp-a', batteryInput(next()));
    const ids = { equipment: `PEC${n}`, cn: `CN${n}`, feeder: `FDR${n}`, substation: `SUB${n}` };
    await enrich(dsoModel({ ...ids, mpan: a.importMpan }));
    const r = await exportAs('dno');
    const quads = await rdfXmlQuads(r.text);
    const eq = ulidToMrid(a.id);
    const cn = derivedMrid('fmar:network/ConnectivityNode', ids.cn.toLowerCase());
    const feeder = derivedMrid('fmar:network/Feeder', ids.feeder.toLowerCase());
    const substation = derivedMrid('fmar:network/Substation', ids.substation.toLowerCase());
    expect(valuesOf(quads, iri(derivedMrid(eq, 'terminal')), `${CIM}Terminal.ConnectivityNode`)).toEqual([iri(cn)]);
    expect(valuesOf(quads, iri(eq), `${CIM}Equipment.EquipmentContainer`)).toEqual([iri(feeder)]);
    expect(valuesOf(quads, iri(feeder), `${CIM}Feeder.NormalEnergizingSubstation`)).toEqual([iri(substation)]);
    const named = (of: string) =>
      subjectsOf(quads, `${CIM}Name`)
        .filter((s) => valuesOf(quads, s, `${CIM}Name.IdentifiedObject`)[0] === iri(of))
        .flatMap((s) => valuesOf(quads, s, `${CIM}Name.name`));
    // In the one form the register keeps identifiers in (normaliseId): lower case, no leading `_`.
    expect([named(eq), named(cn), named(feeder), named(substation)]).toEqual(
      [[ids.equipment], [ids.cn], [ids.feeder], [ids.substation]].map(([x]) => [x.toLowerCase()]),
    );
    expect(await shaclViolations(r.text)).toEqual([]);
  });
});

describe('stable output', () => {
  it('two exports of an unchanged register are byte-identical apart from the header’s creation time (and the model ID derived from it)', async () => {
    const a = await register(
      'fsp-a',
      batteryInput(next(), { location: { postcode: 'G2 1AA', gspGroup: '_N', latitude: 55.86, longitude: -4.25 } }),
    );
    const b = await register('fsp-a', batteryInput(next(), { aliases: [{ scheme: 'fsp_ref', value: `R-${n}` }] }));
    const u = await hub.call('POST', '/api/v1/market-units', {
      as: 'fsp-a',
      body: { name: `Stable unit ${n}`, type: 'SPG', product: 'NESO-DFS', assetIds: [a.id, b.id] },
    });
    expect(u.status, JSON.stringify(u.json)).toBe(201);
    await enrich(dsoModel({ equipment: uuid(31, n), mpan: a.importMpan, cn: uuid(32, n), feeder: uuid(33, n), substation: uuid(34, n) }));
    const first = await exportAs('operator');
    hub.clock.advance(3_600_000);
    const second = await exportAs('operator');
    const one = first.text.split('\n');
    const two = second.text.split('\n');
    expect(two).toHaveLength(one.length);
    const differing = one.map((l, i) => [l, two[i]]).filter(([l, m]) => l !== m);
    expect(differing.map(([l]) => l.replace(/"urn:uuid:[^"]+"/, '"urn:uuid:…"').replace(/>[^<]+</, '>…<'))).toEqual([
      '  <md:FullModel rdf:about="urn:uuid:…">',
      '    <md:Model.created>…</md:Model.created>',
    ]);
    expect(differing[1][1]).toBe(`    <md:Model.created>${hub.clock.now().toISOString()}</md:Model.created>`);
    expect(await shaclViolations(second.text)).toEqual([]);
  });
});

describe('mRIDs of earlier exports', () => {
  it('a file that names its organisation by the mRID exports gave before the UUIDv8 layout still bulk-loads under that organisation', async () => {
    const owner = DEMO['fsp-b'];
    const w = new CimWriter();
    const a = { ...batteryInput(next()), id: '01JF0000000000000000000M01', organisationId: owner, fspId: owner };
    const doc =
      w.header({ created: hub.clock.now(), modelingAuthoritySet: 'http://old.test' }) +
      w.organisation({ id: owner, name: 'B' }) +
      w.asset(a) +
      w.footer();
    const load = (xml: string) =>
      hub.call('POST', '/api/v1/cim/import?mode=bulk-load&dryRun=true', { as: 'operator', text: xml, contentType: 'application/rdf+xml' });
    const old = doc.replaceAll(organisationMrid(owner), legacyOrganisationMrid(owner)!);
    expect(old).not.toContain(organisationMrid(owner));
    const ok = await load(old);
    expect(ok.status, JSON.stringify(ok.json).slice(0, 500)).toBe(200);
    expect(ok.json.results).toEqual([expect.objectContaining({ row: 0, status: 'valid' })]);
    // An mRID the register never gave is not matched: the row has no owner.
    const unknown = await load(doc.replaceAll(organisationMrid(owner), '00000000-0000-4000-8000-00000000beef'));
    expect(unknown.status).toBe(422);
    expect(unknown.json.results[0].errors.map((e: { code: string }) => e.code)).toContain('ASSET-ORGANISATION-REQUIRED');
  });
});

describe('what is shared is read from the register', () => {
  it('the database keys identifiers exactly as normaliseId does (so a DSO mRID in two spellings is one)', async () => {
    const spellings = [
      'A1B2-C3',
      '_a1b2-c3',
      '#_A1B2-C3',
      'urn:uuid:A1B2-C3',
      'URN:UUID:_a1b2-c3',
      ' _A1B2-C3\t',
      'PV_1',
      '__x',
      '#x',
      'urn:uuid:',
    ];
    const rows = await hub.db.query<{ v: string; k: string }>(
      `SELECT v, ${sqlNormalisedId('v')} AS k FROM jsonb_array_elements_text($1::jsonb) AS t(v)`,
      [spellings],
    );
    expect(rows.map((r) => [r.v, r.k])).toEqual(spellings.map((v) => [v, normaliseId(v)]));
  });
});
