import { readFileSync } from 'node:fs';
import { Parser as TurtleParser } from 'n3';
import { describe, expect, it } from 'vitest';
import {
  CimWriter,
  EXPORT_SHAPES,
  derivedMrid,
  digestCimFiles,
  profileShapes,
  ulidToMrid,
  usagePointMrid,
  type CimAssetInput,
  type CimSharing,
} from '../cim/index';
import { CIM, SHAPES_FILE, iri, rdfXmlQuads, shaclViolations, subjectsOf } from './cim-export-check';

/** The published SHACL shapes: generated from cim/profile.ts, cover every class the writer writes, and catch what they should. */

const ORG = '01JF0000000000000000000001';
const FSP = '01JF0000000000000000000002';
const base = (i: number, more: Partial<CimAssetInput>): CimAssetInput => ({
  id: `01JF00000000000000000001${String(i).padStart(2, '0')}`,
  name: `Asset ${i}`,
  category: 'BESS',
  ratedCapacityKw: 5,
  connectionStatus: 'CONNECTED',
  organisationId: ORG,
  fspId: FSP,
  ...more,
});
const DSO = 'A1B2C3D4-0000-4000-8000-000000000001';
/** Every kind of object the writer writes: each category class, unit, location, aliases, long names, shared DSO mRID and meter, network, market unit. */
function everything(): { xml: string; assets: CimAssetInput[] } {
  const assets = [
    base(1, {
      importMpan: '1312345678907',
      exportMpan: '1300000000014',
      generationCapacityKw: 4.5,
      demandCapacityKw: 3.25,
      serialNumber: 'SN-1',
      manufacturer: 'Acme & Sons',
      model: 'B<10>',
      commissioningDate: '2025-01-01',
      effectiveDate: '2025-02-01',
      connectionType: 'NON_FIRM',
      dno: 'SPEN_SPM',
      friendlyCode: 'B-1',
      consentReference: 'C-1',
      location: { postcode: 'G2 1AA', gspGroup: '_N', latitude: 55.86, longitude: -4.25 },
      aliases: [{ scheme: 'fsp_ref', value: 'REF-1' }],
      network: { equipmentMrid: DSO, connectivityNode: 'C0000000-0000-4000-8000-000000000001', feeder: 'F1', substation: 'S1' },
      // On the terminal: import and export limits of a dynamic connection.
      connectionLimits: [
        {
          id: '01JF0000000000000000000L01',
          mpan: '1312345678907',
          firmness: 'DYNAMIC',
          importLimitKw: 20,
          exportLimitKw: 7.5,
          validFrom: '2026-01-01T00:00:00.000Z',
          validTo: null,
          schemeReference: 'ANM-ZONE-3',
        },
      ],
    }),
    base(2, {
      category: 'SOLAR_PV',
      exportMpan: '1300000000014',
      connectionStatus: 'DISCONNECTED',
      network: { equipmentMrid: DSO, connectivityNode: 'C0000000-0000-4000-8000-000000000001', feeder: 'F1', substation: 'S1' },
    }),
    base(3, {
      category: 'WIND_TURBINE',
      name: 'W'.repeat(300),
      exportMpan: '1300000000021',
      connectionStatus: 'PENDING',
      // No terminal known: on the equipment; an export limit only.
      connectionLimits: [
        {
          id: '01JF0000000000000000000L02',
          mpan: '1300000000021',
          firmness: 'FIRM',
          importLimitKw: null,
          exportLimitKw: 100,
          validFrom: '2026-01-01T00:00:00.000Z',
          validTo: '2027-01-01T00:00:00.000Z',
        },
        // A TIMED limit that follows: its profile as scheduled limits, a band of each direction and one of both.
        {
          id: '01JF0000000000000000000L03',
          mpan: '1300000000021',
          siteReference: 'SITE-3',
          firmness: 'TIMED',
          importLimitKw: 50,
          exportLimitKw: 100,
          validFrom: '2027-01-01T00:00:00.000Z',
          validTo: null,
          profile: [
            { days: ['MON', 'FRI'], from: '16:00', to: '19:00', exportLimitKw: 40.5 },
            { from: '00:00', to: '06:00', importLimitKw: 20 },
            { days: ['SAT', 'SUN'], from: '12:00', to: '24:00', importLimitKw: 30, exportLimitKw: 60 },
          ],
        },
      ],
    }),
    base(4, {
      category: 'EV_CHARGER',
      importMpan: '1300000000038',
      generationCapacityKw: 0,
      demandCapacityKw: 7,
      energySource: 'GRID',
      demandTechnology: 'EV',
      aliases: [
        { scheme: 'evse', value: 'GB*ABC*E12345*1' },
        { scheme: 'mcs', value: 'MCS-1' },
        { scheme: 'cim_mrid', value: 'not-a-uuid' },
      ],
      location: { postcode: 'G1 1AA' },
    }),
    base(5, { category: 'CHP', importMpan: '1300000000045', network: { equipmentMrid: 'PEC5', substation: 'S1' } }),
  ];
  const sharing: CimSharing = {
    equipment: new Set([DSO.toLowerCase()]),
    usagePoints: new Set(['export/1300000000014']),
    network: new Set(['c0000000-0000-4000-8000-000000000001', 'f1', 's1']),
  };
  const w = new CimWriter(sharing);
  let xml = w.header({ created: new Date('2026-01-01T00:00:00Z'), modelingAuthoritySet: 'http://hub.test' });
  for (const a of assets)
    xml += w.organisation({ id: a.organisationId, name: 'Owner' }) + w.organisation({ id: a.fspId, name: 'FSP' }) + w.asset(a);
  xml += w.marketUnit({
    id: '01JF0000000000000000000V01',
    name: 'Unit',
    type: 'SPG',
    product: 'NESO-DFS',
    fspId: FSP,
    members: assets.slice(0, 2),
  });
  return { xml: xml + w.footer(), assets };
}

describe('SHACL shapes of the export', () => {
  it('docs/cim-shapes.ttl is rendered from cim/profile.ts (run `npm run docs:cim`) and is Turtle with one node shape per class', () => {
    const text = readFileSync(SHAPES_FILE, 'utf8');
    expect(text).toBe(profileShapes());
    const quads = new TurtleParser().parse(text);
    const targets = quads.filter((q) => q.predicate.value === 'http://www.w3.org/ns/shacl#targetClass').map((q) => q.object.value);
    expect(targets).toHaveLength(EXPORT_SHAPES.length);
    expect(new Set(targets).size).toBe(EXPORT_SHAPES.length);
  });

  it('a document with every kind of object conforms, and uses every class the shapes name (closed shapes: the writer writes nothing unlisted)', async () => {
    const { xml } = everything();
    expect(await shaclViolations(xml)).toEqual([]);
    const quads = await rdfXmlQuads(xml);
    const ns = { cim: CIM, md: 'http://iec.ch/TC57/61970-552/ModelDescription/1#' } as const;
    const unused = EXPORT_SHAPES.map((s) => s.cls).filter((cls) => {
      const [p, local] = cls.split(':') as ['cim' | 'md', string];
      return subjectsOf(quads, ns[p] + local).length === 0;
    });
    expect(unused).toEqual([]);
  });

  it('finds what is wrong: a property outside the profile, a missing mRID, a reference to the wrong class, a bad value', async () => {
    const { xml, assets } = everything();
    const eq = ulidToMrid(assets[2].id);
    const asset = derivedMrid(eq, 'asset');
    const broken = xml
      .replace(
        `<cim:Asset rdf:ID="_${asset}">\n    <cim:IdentifiedObject.mRID>${asset}</cim:IdentifiedObject.mRID>\n`,
        `<cim:Asset rdf:ID="_${asset}">\n    <cim:IdentifiedObject.aliasName>extra</cim:IdentifiedObject.aliasName>\n`,
      )
      .replace(
        `<cim:PowerElectronicsUnit.PowerElectronicsConnection rdf:resource="#_${eq}"/>`,
        `<cim:PowerElectronicsUnit.PowerElectronicsConnection rdf:resource="#_${asset}"/>`,
      )
      .replace(
        '<fmar:UsagePoint.direction>import</fmar:UsagePoint.direction>',
        '<fmar:UsagePoint.direction>both</fmar:UsagePoint.direction>',
      );
    expect(broken).not.toBe(xml);
    const found = (await shaclViolations(broken)).map((v) => `${v.focus.split('#_')[1]} ${v.path?.split('#')[1]}`).sort();
    expect(found).toEqual(
      [
        `${asset} IdentifiedObject.aliasName`,
        `${asset} IdentifiedObject.mRID`,
        `${derivedMrid(eq, 'unit')} PowerElectronicsUnit.PowerElectronicsConnection`,
        `${usagePointMrid('import', '1312345678907')} UsagePoint.direction`,
      ].sort(),
    );
  });

  it('the independent parser refuses a document that repeats an rdf:ID (what the export did for two assets behind one DSO connection)', async () => {
    const w = new CimWriter();
    const a = base(1, { importMpan: '1312345678907' });
    const once = w.asset(a);
    const doc =
      new CimWriter().header({ created: new Date('2026-01-01T00:00:00Z'), modelingAuthoritySet: 'x' }) + once + once + '</rdf:RDF>\n';
    await expect(rdfXmlQuads(doc)).rejects.toThrow(/multiple occurrences of rdf:ID/);
    // Without a sharing, the writer refuses to write the same equipment twice instead.
    expect(() => w.asset({ ...a, name: 'again' })).toThrow(/equipment mRID .* twice/);
    expect(iri('x')).toBe('http://hub.test/api/v1/cim/export#_x');
  });
});

describe('connection limits read back', () => {
  it('the import reads each limit the writer wrote as the API input it came from, TIMED profile and all', () => {
    const { xml, assets } = everything();
    const m = digestCimFiles([{ name: 'export.xml', content: xml }], { unit: 'W', maxBytes: 10_000_000 });
    const read = m.equipment.flatMap((e) => (e.limits ?? []).map((l) => [l.problems, l.input]));
    const written = assets.flatMap((a) =>
      (a.connectionLimits ?? []).map((l) => {
        const input: Record<string, unknown> = { mpan: l.mpan, firmness: l.firmness, validFrom: l.validFrom };
        for (const k of ['siteReference', 'importLimitKw', 'exportLimitKw', 'validTo', 'schemeReference', 'profile'] as const)
          if (l[k] != null) input[k] = l[k];
        return [[], input];
      }),
    );
    expect(read).toEqual(written);
    // Every object of a limit was used: none is reported as not used.
    for (const c of [
      'OperationalLimitSet',
      'ActivePowerLimit',
      'OperationalLimitType',
      'ScheduledLimitDependency',
      'ScheduledActivePowerLimitValue',
    ])
      expect([c, m.used[c]]).toEqual([c, m.classes[c]]);
  });
});
