import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestCimFiles, mergeDocuments, mridOf, namespaceOf, normaliseId, parseCimXml, type ParsedModel } from '../cim/index';
import { isEic } from '../src/catalogue/identifiers';
import { nodeCimParser } from '../src/node/cim-parser';
import { DEMO, batteryInput, mpanFor, rowCounts, testHub, type TestHub } from './harness';

/** What the CIM import reads of CIM that DSOs and TSOs send: namespaces, headers, vendor variants, names, organisations, honest counts. */

const REF = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/cim');
const RDF_NS = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const CIM100 = 'http://iec.ch/TC57/CIM100#';

const digest = (files: { name: string; content: string | Uint8Array }[]): ParsedModel =>
  digestCimFiles(files, { unit: 'W', maxBytes: 64 * 1024 * 1024 });
const fixture = (f: string) => ({ name: f, content: readFileSync(resolve(REF, f)) });
const doc = (ns: Record<string, string>, body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<rdf:RDF xmlns:rdf="${RDF_NS}" ${Object.entries(ns)
    .map(([p, iri]) => `xmlns:${p}="${iri}"`)
    .join(' ')}>\n${body}\n</rdf:RDF>`;
const codesOf = <I extends { code: string }>(issues: I[], code: string) => issues.filter((i) => i.code === code);

/** The smallest equipment a namespace can carry: a battery connection named "b". */
const battery = (p: string) =>
  `<${p}:PowerElectronicsConnection rdf:ID="_p1"><${p}:IdentifiedObject.name>b</${p}:IdentifiedObject.name></${p}:PowerElectronicsConnection>
<${p}:BatteryUnit rdf:ID="_u1"><${p}:PowerElectronicsUnit.PowerElectronicsConnection rdf:resource="#_p1"/></${p}:BatteryUnit>`;

describe('namespaces', () => {
  const CIM_NAMESPACES: [string, string][] = [
    ['http://iec.ch/TC57/2012/CIM-schema-cim16#', 'CIM16'],
    ['http://iec.ch/TC57/2013/CIM-schema-cim16#', 'CIM16'],
    ['http://iec.ch/TC57/2016/CIM-schema-cim17#', 'CIM17'],
    ['http://iec.ch/TC57/2012/CIM-schema-cim17#', 'CIM17'],
    [CIM100, 'CIM100'],
    ['https://cim.ucaiug.io/ns#', 'CIM18'],
    ['http://ucaiug.org/61970cim18v02_61968cim14v00#', 'CIM18'],
  ];
  it.each(CIM_NAMESPACES)('%s is CIM (%s): its equipment is read, no namespace is reported', (iri, version) => {
    expect(namespaceOf(iri)).toMatchObject({ token: 'cim', version });
    const m = digest([{ name: 'f.xml', content: doc({ c: iri }, battery('c')) }]);
    expect(m.equipment.map((e) => [e.mrid, e.category, e.input.name])).toEqual([['p1', 'BESS', 'b']]);
    expect(m.issues).toEqual([]);
    expect(m.used).toEqual({ PowerElectronicsConnection: 1, BatteryUnit: 1 });
  });

  it('ENTSO-E nc: and eu: (CGMES 3 and 2.4.15) and the header vocabularies resolve to their tokens', () => {
    expect(
      [
        'https://cim4.eu/ns/nc#',
        'http://iec.ch/TC57/CIM100-European#',
        'http://entsoe.eu/CIM/SchemaExtension/3/1#',
        'http://iec.ch/TC57/61970-552/ModelDescription/1#',
        'http://www.w3.org/ns/dcat#',
        'http://purl.org/dc/terms/',
        'http://ucaiug.org/GMDM/Exchange#',
      ].map((iri) => namespaceOf(iri)?.token),
    ).toEqual(['nc', 'eu', 'eu', 'md', 'dcat', 'dcterms', 'exch']);
    // Forms that only look like CIM are not CIM.
    expect(
      ['http://iec.ch/TC57/2013/CIM-schema-cim16', 'http://ucaiug.org/61970cimXXv02#', 'http://example.com/CIM100#'].map(namespaceOf),
    ).toEqual([undefined, undefined, undefined]);
  });

  it('an unknown namespace is reported by name; its CIM classes and properties are read by local name, and the report says which', () => {
    const xml = doc(
      { v: 'http://vendor.example/cim/2024#', x: 'http://vendor.example/extras#' },
      `${battery('v')}\n<v:ThermalStore rdf:ID="_t1"><x:ThermalStore.volume>3</x:ThermalStore.volume></v:ThermalStore>`,
    );
    const m = digest([{ name: 'vendor.xml', content: xml }]);
    expect(m.equipment.map((e) => [e.mrid, e.category, e.input.name])).toEqual([['p1', 'BESS', 'b']]);
    expect(codesOf(m.issues, 'CIM-NAMESPACE-UNKNOWN').map((i) => [i.message, i.namespace, i.line])).toEqual([
      [
        'vendor.xml: namespace http://vendor.example/cim/2024# is not one the hub knows (5 element(s)); read by local name as CIM: classes PowerElectronicsConnection ×1, BatteryUnit ×1; properties IdentifiedObject.name, PowerElectronicsUnit.PowerElectronicsConnection.',
        'http://vendor.example/cim/2024#',
        3,
      ],
      [
        'vendor.xml: namespace http://vendor.example/extras# is not one the hub knows (1 element(s)); nothing under it was read.',
        'http://vendor.example/extras#',
        5,
      ],
    ]);
    // The class it does not read is kept and reported by its full name.
    expect(codesOf(m.issues, 'CIM-CLASS-UNKNOWN').map((i) => i.message)).toEqual([
      '1 object(s) of class http://vendor.example/cim/2024#ThermalStore kept but not used by the register.',
    ]);
  });
});

describe('headers', () => {
  it('md:FullModel, dcat:Dataset (ENTSO-E NC, CGMES 3.1) and exch:InstanceSet give the file’s creation time, profiles and dependencies', () => {
    const md = doc(
      { md: 'http://iec.ch/TC57/61970-552/ModelDescription/1#' },
      `<md:FullModel rdf:about="urn:uuid:11111111-1111-4111-8111-111111111111"><md:Model.created>2026-01-02T03:04:05Z</md:Model.created>
<md:Model.profile>http://iec.ch/TC57/ns/CIM/CoreEquipment-EU/3.0</md:Model.profile><md:Model.modelingAuthoritySet>http://dso.example/</md:Model.modelingAuthoritySet></md:FullModel>`,
    );
    const dcat = doc(
      { dcat: 'http://www.w3.org/ns/dcat#', dcterms: 'http://purl.org/dc/terms/' },
      `<dcat:Dataset rdf:about="urn:uuid:22222222-2222-4222-8222-222222222222"><dcterms:issued>2026-02-03T04:05:06Z</dcterms:issued>
<dcterms:conformsTo rdf:resource="https://ap.cim4.eu/Contingency/2.3"/><dcat:keyword>CO</dcat:keyword>
<dcterms:requires rdf:resource="urn:uuid:11111111-1111-4111-8111-111111111111"/><dcterms:publisher rdf:resource="https://tso.example/"/></dcat:Dataset>`,
    );
    const exch = doc(
      { exch: 'http://ucaiug.org/GMDM/Exchange#', dcterms: 'http://purl.org/dc/terms/' },
      `<exch:InstanceSet rdf:about="urn:uuid:33333333-3333-4333-8333-333333333333"><dcterms:issued>2026-03-04T05:06:07Z</dcterms:issued><dcat:keyword xmlns:dcat="http://www.w3.org/ns/dcat#">EQ</dcat:keyword></exch:InstanceSet>`,
    );
    const m = digest([
      { name: 'md.xml', content: md },
      { name: 'dcat.xml', content: dcat },
      { name: 'exch.xml', content: exch },
    ]);
    expect(m.headers).toEqual([
      {
        file: 'md.xml',
        kind: 'md:FullModel',
        about: 'urn:uuid:11111111-1111-4111-8111-111111111111',
        created: '2026-01-02T03:04:05Z',
        profiles: ['http://iec.ch/TC57/ns/CIM/CoreEquipment-EU/3.0'],
        modelingAuthoritySet: 'http://dso.example/',
        dependentOn: [],
      },
      {
        file: 'dcat.xml',
        kind: 'dcat:Dataset',
        about: 'urn:uuid:22222222-2222-4222-8222-222222222222',
        created: '2026-02-03T04:05:06Z',
        profiles: ['https://ap.cim4.eu/Contingency/2.3'],
        modelingAuthoritySet: 'https://tso.example/',
        dependentOn: ['urn:uuid:11111111-1111-4111-8111-111111111111'],
        keywords: ['CO'],
      },
      {
        file: 'exch.xml',
        kind: 'exch:InstanceSet',
        about: 'urn:uuid:33333333-3333-4333-8333-333333333333',
        created: '2026-03-04T05:06:07Z',
        profiles: [],
        dependentOn: [],
        keywords: ['EQ'],
      },
    ]);
    // Headers are not objects of the model.
    expect([m.objects, m.issues]).toEqual([0, []]);
  });

  it('a dcat:Dataset header that is not a urn:uuid, has no time and names no profile: three findings at its line', () => {
    const m = digest([
      { name: 'bad.xml', content: doc({ dcat: 'http://www.w3.org/ns/dcat#' }, '<dcat:Dataset rdf:about="http://x.example/1"/>') },
    ]);
    expect(m.issues.map((i) => [i.code, i.message, i.line])).toEqual([
      ['CIM-HEADER-INVALID', 'dcat:Dataset rdf:about "http://x.example/1" is not a urn:uuid.', 3],
      ['CIM-HEADER-INVALID', 'its creation time (dcterms:issued, prov:generatedAtTime) "" is not a date-time.', 3],
      ['CIM-HEADER-INVALID', 'dcat:Dataset names no profile (dcterms:conformsTo URI or dcat:keyword): [].', 3],
    ]);
  });
});

const GMDM_PLAN = 'gridappsd-cimhub_gmdm_D_Plan_Basic_Golden_InstanceSet.xml';
const GMDM_SSH = 'gridappsd-cimhub_gmdm_D_SSH_Golden_InstanceSet.xml';

describe('a UCA interoperability-test model (GMDM, CIM 18 draft, exch:InstanceSet)', () => {
  it('is read as CIM: headers named, their missing time and profile reported, the two files merged, the connection and its units found', () => {
    const m = digest([fixture(GMDM_PLAN), fixture(GMDM_SSH)]);
    expect(m.headers.map((h) => [h.file, h.kind, h.about])).toEqual([
      [GMDM_PLAN, 'exch:InstanceSet', 'urn:uuid:e5ffc257-98f6-4a8a-ba22-d7091ed016fc'],
      [GMDM_SSH, 'exch:InstanceSet', 'urn:uuid:fd764318-730e-42f4-8c7e-9bc58eec8137'],
    ]);
    expect(
      m.issues
        .filter((i) => !['CIM-REFERENCE-DANGLING', 'CIM-CLASS-UNKNOWN'].includes(i.code))
        .map((i) => [i.code, i.message, i.file, i.line]),
    ).toEqual(
      [
        [GMDM_PLAN, 9],
        [GMDM_SSH, 6],
      ].flatMap(([file, line]) => [
        ['CIM-HEADER-INVALID', 'its creation time (dcterms:issued, prov:generatedAtTime) "" is not a date-time.', file, line],
        ['CIM-HEADER-INVALID', 'exch:InstanceSet names no profile (dcterms:conformsTo URI or dcat:keyword): [].', file, line],
      ]),
    );
    expect(m.objects).toBe(349);
    expect(m.used).toEqual({
      EnergyConsumer: 7,
      Location: 8,
      PositionPoint: 8,
      CoordinateSystem: 1,
      Terminal: 8,
      ConnectivityNode: 6,
      PowerElectronicsConnection: 1,
      PowerElectronicsWindUnit: 1,
      PhotoVoltaicUnit: 1,
      BatteryUnit: 1,
    });
    const pec = m.equipment.find((e) => e.className === 'PowerElectronicsConnection')!;
    expect([pec.mrid, pec.input.name, pec.network, pec.input.location, pec.problems]).toEqual([
      '83ee260c-9c77-49d4-80e5-e4df94b08730',
      'Indiv Res Inverter',
      { connectivityNode: '408f12d3-2622-442b-846e-51b3402510d4' },
      { longitude: -6.277195453643799, latitude: 53.316795349121094 },
      ["The connection's units (PowerElectronicsWindUnit, PhotoVoltaicUnit, BatteryUnit) do not name one category."],
    ]);
  });
});

const POWERFACTORY = ['EQ', 'TP', 'SSH'].map((p) => `sogno-cimpy_PowerFactory_NodeBreaker_${p}.xml`);

describe('a PowerFactory export (CGMES 2.4.15, CIM16 of 2013, connectivity nodes in its TP file)', () => {
  it('EQ alone: each terminal whose connectivity node is in the TP file is reported dangling; nothing is invented', () => {
    const m = digest([fixture(POWERFACTORY[0])]);
    expect(m.headers.map((h) => [h.kind, h.profiles])).toEqual([
      ['md:FullModel', ['http://entsoe.eu/CIM/EquipmentCore/3/1', 'http://entsoe.eu/CIM/EquipmentOperation/3/1']],
    ]);
    const dangling = codesOf(m.issues, 'CIM-REFERENCE-DANGLING');
    expect(dangling).toHaveLength(38);
    expect(
      dangling.every((i) => /^Terminal _[0-9a-f-]+: cim:Terminal\.ConnectivityNode points to #_[0-9a-f-]+, which no file/.test(i.message)),
    ).toBe(true);
    expect([m.objects, m.equipment, m.used]).toEqual([134, [], {}]);
  });

  it('EQ + TP + SSH: the three files merge by fragment, nothing dangles or is partial, and the namespace of 2013 raises no finding', () => {
    const m = digest(POWERFACTORY.map(fixture));
    expect(m.headers.map((h) => [h.file, h.dependentOn])).toEqual([
      [POWERFACTORY[0], []],
      [POWERFACTORY[1], ['urn:uuid:a43e9077-bcd0-4f1e-b05e-e7d01becfd8d']],
      [POWERFACTORY[2], ['urn:uuid:a43e9077-bcd0-4f1e-b05e-e7d01becfd8d']],
    ]);
    // It holds a grid of breakers and lines and no asset the register keeps: every class is said to be kept but not used.
    expect([...new Set(m.issues.map((i) => i.code))].sort()).toEqual(['CIM-CLASS-NOT-USED', 'CIM-CLASS-UNKNOWN']);
    expect([m.objects, m.classes.ConnectivityNode, m.classes.Terminal, m.equipment, m.used]).toEqual([158, 12, 38, [], {}]);
    // Its limit sets hold current and voltage limits, not connection limits: read, and not used.
    expect(codesOf(m.issues, 'CIM-CLASS-NOT-USED').find((i) => i.className === 'OperationalLimitSet')?.message).toBe(
      '12 object(s) of class OperationalLimitSet: nothing was taken from them (nothing the register matches or records links to them).',
    );
  });
});

describe('vendor variants', () => {
  it('Equipment.UsagePoint (singular), PhotovoltaicUnit and Terminal.sequenceNumber are read as the standard names, each with a warning', () => {
    const xml = doc(
      { c: CIM100 },
      `<c:PowerElectronicsConnection rdf:ID="_pv"><c:Equipment.UsagePoint rdf:resource="#_up"/></c:PowerElectronicsConnection>
<c:PhotovoltaicUnit rdf:ID="_u"><c:PowerElectronicsUnit.PowerElectronicsConnection rdf:resource="#_pv"/></c:PhotovoltaicUnit>
<c:UsagePoint rdf:ID="_up"/>
<c:NameType rdf:ID="_nt"><c:NameType.name>MPAN</c:NameType.name></c:NameType>
<c:Name rdf:ID="_n"><c:Name.name>1300000000010</c:Name.name><c:Name.NameType rdf:resource="#_nt"/><c:Name.IdentifiedObject rdf:resource="#_up"/></c:Name>
<c:Terminal rdf:ID="_t2"><c:Terminal.sequenceNumber>2</c:Terminal.sequenceNumber><c:Terminal.ConductingEquipment rdf:resource="#_pv"/><c:Terminal.ConnectivityNode rdf:resource="#_cn2"/></c:Terminal>
<c:Terminal rdf:ID="_t1"><c:Terminal.sequenceNumber>1</c:Terminal.sequenceNumber><c:Terminal.ConductingEquipment rdf:resource="#_pv"/><c:Terminal.ConnectivityNode rdf:resource="#_cn1"/></c:Terminal>
<c:ConnectivityNode rdf:ID="_cn1"/><c:ConnectivityNode rdf:ID="_cn2"/>`,
    );
    const m = digest([{ name: 'v.xml', content: xml }]);
    expect(m.equipment.map((e) => [e.category, e.exportMpan, e.network.connectivityNode])).toEqual([['SOLAR_PV', '1300000000010', 'cn1']]);
    expect(codesOf(m.issues, 'CIM-VENDOR-VARIANT').map((i) => [i.message, i.line])).toEqual([
      [
        'v.xml: 1 × Equipment.UsagePoint read as Equipment.UsagePoints (a spelling some tools write; the standard is Equipment.UsagePoints).',
        3,
      ],
      ['v.xml: 1 × PhotovoltaicUnit read as PhotoVoltaicUnit (a spelling some tools write; the standard is PhotoVoltaicUnit).', 4],
      [
        'v.xml: 2 × Terminal.sequenceNumber read as ACDCTerminal.sequenceNumber (a spelling some tools write; the standard is ACDCTerminal.sequenceNumber).',
        8,
      ],
    ]);
  });

  it('in real files: NEPLAN’s Terminal.sequenceNumber (47) and CIMHub’s PhotovoltaicUnit (2) are named', () => {
    const neplan = digest([fixture('sogno-cimpy_CIGRE_MV_Rootnet_FULL_NE_24J13h_EQ.xml')]);
    const cimhub = digest([fixture('gridappsd-cimhub_IEEE13_PV.xml')]);
    expect(
      [...codesOf(neplan.issues, 'CIM-VENDOR-VARIANT'), ...codesOf(cimhub.issues, 'CIM-VENDOR-VARIANT')].map((i) => i.message),
    ).toEqual([
      'sogno-cimpy_CIGRE_MV_Rootnet_FULL_NE_24J13h_EQ.xml: 47 × Terminal.sequenceNumber read as ACDCTerminal.sequenceNumber (a spelling some tools write; the standard is ACDCTerminal.sequenceNumber).',
      'gridappsd-cimhub_IEEE13_PV.xml: 2 × PhotovoltaicUnit read as PhotoVoltaicUnit (a spelling some tools write; the standard is PhotoVoltaicUnit).',
    ]);
    expect(codesOf(neplan.issues, 'CIM-NAMESPACE-UNKNOWN').map((i) => i.message)).toEqual([
      'sogno-cimpy_CIGRE_MV_Rootnet_FULL_NE_24J13h_EQ.xml: namespace http://www.neplan.ch# is not one the hub knows (1 element(s)); nothing under it was read.',
    ]);
  });
});

/** A DSO file: a connection with its Asset, names of several types, and organisations with roles. */
const NAMED = doc(
  { c: CIM100, nc: 'https://cim4.eu/ns/nc#', eu: 'http://iec.ch/TC57/CIM100-European#' },
  `<c:PowerElectronicsConnection rdf:ID="_pec"><c:IdentifiedObject.mRID>pec</c:IdentifiedObject.mRID></c:PowerElectronicsConnection>
<c:BatteryUnit rdf:ID="_bu"><c:PowerElectronicsUnit.PowerElectronicsConnection rdf:resource="#_pec"/></c:BatteryUnit>
<c:Asset rdf:ID="_asset"><c:Asset.PowerSystemResources rdf:resource="#_pec"/><c:Asset.OrganisationRoles rdf:resource="#_owner"/></c:Asset>
<c:NameType rdf:ID="_ntDso"><c:NameType.name>DSO asset number</c:NameType.name></c:NameType>
<c:NameType rdf:ID="_ntEic"><c:IdentifiedObject.name>EIC</c:IdentifiedObject.name></c:NameType>
<c:NameType rdf:ID="_ntCh"><c:NameType.name>Companies House</c:NameType.name></c:NameType>
<c:NameType rdf:ID="_ntOther"><c:NameType.name>colour</c:NameType.name></c:NameType>
<c:Name rdf:ID="_n1"><c:Name.name>ecr-77/1</c:Name.name><c:Name.NameType rdf:resource="#_ntDso"/><c:Name.IdentifiedObject rdf:resource="#_asset"/></c:Name>
<c:Name rdf:ID="_n2"><c:Name.name>blue</c:Name.name><c:Name.NameType rdf:resource="#_ntOther"/><c:Name.IdentifiedObject rdf:resource="#_asset"/></c:Name>
<c:Organisation rdf:ID="_org1"><c:IdentifiedObject.name>Alpha</c:IdentifiedObject.name></c:Organisation>
<c:AssetOwner rdf:ID="_owner"><c:OrganisationRole.Organisation rdf:resource="#_org1"/></c:AssetOwner>
<c:OrganisationRole rdf:ID="_fsp"><c:IdentifiedObject.name>FSP</c:IdentifiedObject.name><c:OrganisationRole.Organisation rdf:resource="#_org1"/></c:OrganisationRole>
<c:Name rdf:ID="_n3"><c:Name.name> 09000002 </c:Name.name><c:Name.NameType rdf:resource="#_ntCh"/><c:Name.IdentifiedObject rdf:resource="#_org1"/></c:Name>
<c:Name rdf:ID="_n4"><c:Name.name>EICPLACEHOLDER1</c:Name.name><nc:Name.NameType rdf:resource="#_ntEic"/><nc:Name.UniqueIdentifiedObject rdf:resource="#_org1"/></c:Name>
<c:Organisation rdf:ID="_org2"><c:IdentifiedObject.name>Distribution</c:IdentifiedObject.name><eu:IdentifiedObject.energyIdentCodeEic>10YGB----------A</eu:IdentifiedObject.energyIdentCodeEic></c:Organisation>
<c:Organisation rdf:ID="_org3"><c:IdentifiedObject.name>Nobody</c:IdentifiedObject.name></c:Organisation>`,
);

describe('names and organisations', () => {
  it('a Name of type MPAN on the device (the Asset of the equipment) is the equipment’s MPAN, as on its usage point', () => {
    const onAsset = NAMED.replace(
      '<c:Name rdf:ID="_n2">',
      '<c:NameType rdf:ID="_ntMpan"><c:NameType.name>MPAN</c:NameType.name></c:NameType>\n<c:Name rdf:ID="_n5"><c:Name.name>1312345678907</c:Name.name><c:Name.NameType rdf:resource="#_ntMpan"/><c:Name.IdentifiedObject rdf:resource="#_asset"/></c:Name>\n<c:Name rdf:ID="_n2">',
    );
    const m = digest([{ name: 'named.xml', content: onAsset }]);
    expect(m.equipment.map((e) => [e.mrid, e.category, e.importMpan, e.exportMpan, e.mpans, e.input.importMpan])).toEqual([
      ['pec', 'BESS', '1312345678907', undefined, [], '1312345678907'],
    ]);
    // The MPAN Name and its NameType were taken (one more of each than without it): used, not reported unused.
    const without = digest([{ name: 'named.xml', content: NAMED }]);
    expect([without.used.Name, without.used.NameType, m.used.Name, m.used.NameType]).toEqual([3, 3, 4, 4]);
  });

  it('Names of a known type (IEC 61970-301 and nc:) become the equipment’s aliases or the organisation’s identifiers; others are not taken', () => {
    const m = digest([{ name: 'named.xml', content: NAMED }]);
    expect(m.equipment.map((e) => [e.mrid, e.names, e.input.aliases, e.organisationMrid, e.fspMrid])).toEqual([
      [
        'pec',
        [{ scheme: 'ecr', value: 'ecr-77/1', nameType: 'DSO asset number' }],
        [
          { scheme: 'ecr', value: 'ecr-77/1' },
          { scheme: 'cim_mrid', value: 'pec' },
        ],
        'org1',
        undefined,
      ],
    ]);
    expect(m.organisations).toEqual([
      {
        mrid: 'org1',
        name: 'Alpha',
        at: { file: 'named.xml', line: 12, col: 1 },
        roles: ['AssetOwner', 'FSP'],
        identifiers: [
          { scheme: 'COMPANIES_HOUSE', value: '09000002' },
          { scheme: 'EIC', value: 'EICPLACEHOLDER1' },
        ],
      },
      {
        mrid: 'org2',
        name: 'Distribution',
        at: { file: 'named.xml', line: 17, col: 1 },
        roles: [],
        identifiers: [{ scheme: 'EIC', value: '10YGB----------A' }],
      },
      { mrid: 'org3', name: 'Nobody', at: { file: 'named.xml', line: 18, col: 1 }, roles: [], identifiers: [] },
    ]);
    // The colour name and its type were not taken: reported, and not counted as used.
    expect(m.used).toEqual({
      PowerElectronicsConnection: 1,
      BatteryUnit: 1,
      Asset: 1,
      Name: 3,
      NameType: 3,
      Organisation: 3,
      AssetOwner: 1,
      OrganisationRole: 1,
    });
    expect(m.classes).toEqual({ ...m.used, Name: 4, NameType: 4 });
    expect(codesOf(m.issues, 'CIM-CLASS-NOT-USED')).toEqual([]);
  });
});

describe('the parse thread', () => {
  it('hands back what the in-process parse gives, the used counts and organisations included', async () => {
    const files = [{ name: 'named.xml', content: NAMED }];
    const { threadId, ...fromThread } = await nodeCimParser({ maxMemoryMb: 256, threadAboveBytes: 0 }).parse(files, {
      unit: 'W',
      maxBytes: 1 << 20,
    });
    expect(threadId).toBeGreaterThan(0);
    expect(fromThread).toEqual(digest(files));
    expect([fromThread.organisations.length, fromThread.used.Organisation]).toEqual([3, 3]);
  });
});

describe('report counts agree with themselves', () => {
  const SETS: string[][] = [
    ['entsoe-cgmes3_MicroGrid_20210209T1930Z_1D_BE_EQ_9.xml', 'entsoe-cgmes3_MicroGrid_20210209T1930Z_1D_BE_SSH_9.xml'],
    ['entsoe-cgmes3_MicroGrid_20210209T1930Z_1D_BE_SSH_9.xml'],
    ['sogno-cimpy_CIGRE_MV_Rootnet_FULL_NE_24J13h_EQ.xml'],
    ['gridappsd-cimhub_IEEE13_PV.xml'],
    ['alliander-pycgmes_Texel_EQ_malformed.xml'],
    [GMDM_PLAN, GMDM_SSH],
    POWERFACTORY,
  ];
  it.each(SETS.map((s) => [s.join(' + '), s]))('%s: a class is in `used` exactly when no finding says it was not used', (_, files) => {
    const m = digest((files as string[]).map(fixture));
    const notUsed = m.issues
      .filter((i) => i.code === 'CIM-CLASS-UNKNOWN' || i.code === 'CIM-CLASS-NOT-USED')
      .map((i) => i.className!)
      .sort();
    expect(notUsed).toEqual(
      Object.keys(m.classes)
        .filter((c) => !m.used[c])
        .sort(),
    );
    for (const [c, n] of Object.entries(m.used)) expect(n).toBeLessThanOrEqual(m.classes[c]);
    expect(Object.values(m.classes).reduce((a, b) => a + b, 0)).toBe(m.objects);
  });

  it('exact per file: what the CGMES EQ + SSH, NEPLAN and CIMHub files give', () => {
    const cgmes = digest(SETS[0].map(fixture));
    expect(cgmes.used).toEqual({ ConformLoad: 3, Terminal: 3, ConnectivityNode: 3, VoltageLevel: 3, Substation: 2 });
    // Its limit sets are a line's current limits, not connection limits (no ActivePowerLimit): read, and not used.
    expect(codesOf(cgmes.issues, 'CIM-CLASS-NOT-USED').map((i) => i.message)).toEqual([
      '25 object(s) of class OperationalLimitSet: nothing was taken from them (nothing the register matches or records links to them).',
      '7 object(s) of class Line: nothing was taken from them (nothing the register matches or records links to them).',
      '2 object(s) of class OperationalLimitType: nothing was taken from them (nothing the register matches or records links to them).',
    ]);
    const neplan = digest(SETS[2].map(fixture));
    expect(neplan.used).toEqual({ EnergyConsumer: 18, VoltageLevel: 13, Substation: 13 });
    // Its 65 Names are of type "description": not a type the register keeps, so Name and NameType are not used.
    expect(codesOf(neplan.issues, 'CIM-CLASS-NOT-USED').map((i) => i.className)).toEqual([
      'NameType',
      'OperationalLimitType',
      'Terminal',
      'Name',
      'OperationalLimitSet',
    ]);
    const cimhub = digest(SETS[3].map(fixture));
    expect(cimhub.used).toEqual({
      PowerElectronicsConnection: 5,
      PhotoVoltaicUnit: 2,
      BatteryUnit: 3,
      EnergyConsumer: 16,
      Location: 21,
      PositionPoint: 21,
      CoordinateSystem: 1,
      Terminal: 21,
      ConnectivityNode: 13,
      Feeder: 1,
      Substation: 1,
    });
  });

  it('an SSH with absolute identifiers (urn:uuid) and no EQ: its header says so, nothing is extracted', () => {
    const ssh = (profile: string) =>
      doc(
        { c: CIM100, md: 'http://iec.ch/TC57/61970-552/ModelDescription/1#' },
        `<md:FullModel rdf:about="urn:uuid:44444444-4444-4444-8444-444444444444"><md:Model.created>2026-01-01T00:00:00Z</md:Model.created><md:Model.profile>${profile}</md:Model.profile></md:FullModel>
${battery('c')
  .replace(/rdf:ID="_/g, 'rdf:about="urn:uuid:')
  .replace('rdf:resource="#_p1"', 'rdf:resource="urn:uuid:p1"')}`,
      );
    const alone = digest([{ name: 'ssh.xml', content: ssh('http://iec.ch/TC57/ns/CIM/SteadyStateHypothesis-EU/3.0') }]);
    expect([alone.equipment, alone.used, codesOf(alone.issues, 'CIM-MODEL-PARTIAL').map((i) => [i.message, i.file])]).toEqual([
      [],
      {},
      [
        [
          'The files declare only the profiles ["http://iec.ch/TC57/ns/CIM/SteadyStateHypothesis-EU/3.0"], which only add to objects other files define: their 2 object(s) are defined in files this import does not have; nothing is read from them.',
          'ssh.xml',
        ],
      ],
    ]);
    // The same objects under an equipment profile are read.
    const eq = digest([{ name: 'eq.xml', content: ssh('http://iec.ch/TC57/ns/CIM/CoreEquipment-EU/3.0') }]);
    expect([eq.equipment.map((e) => e.mrid), codesOf(eq.issues, 'CIM-MODEL-PARTIAL')]).toEqual([['p1'], []]);
  });

  it('an SSH with absolute identifiers and no header: the file defines nothing, says so, nothing is extracted', () => {
    // CGMES 3 writes every object as rdf:about="urn:uuid:…", in the EQ as in the SSH: what tells them apart here is content.
    const sshBody = `<c:PowerElectronicsConnection rdf:about="urn:uuid:p1"><c:PowerElectronicsConnection.p>-2000</c:PowerElectronicsConnection.p><c:Equipment.inService>true</c:Equipment.inService></c:PowerElectronicsConnection>
<c:BatteryUnit rdf:about="urn:uuid:u1"><c:BatteryUnit.storedE>5000</c:BatteryUnit.storedE></c:BatteryUnit>`;
    const alone = digest([{ name: 'ssh.xml', content: doc({ c: CIM100 }, sshBody) }]);
    expect([
      alone.objects,
      alone.equipment,
      alone.used,
      codesOf(alone.issues, 'CIM-MODEL-PARTIAL').map((i) => [i.message, i.file, i.line]),
    ]).toEqual([
      2,
      [],
      {},
      [
        [
          '2 of 2 object(s) are only described and defined by no file of this import: ssh.xml defines nothing (no profile in a header, no rdf:ID, no IdentifiedObject name or mRID; objects named by rdf:about only), so it only adds properties to objects defined elsewhere, like a Steady State Hypothesis (SSH) without its Equipment (EQ) file; nothing is read from them.',
          'ssh.xml',
          3,
        ],
      ],
    ]);
    // With the EQ that defines the same objects (also by rdf:about, with names), the SSH adds to them: no such finding.
    const eq = doc(
      { c: CIM100 },
      battery('c')
        .replace(/rdf:ID="_/g, 'rdf:about="urn:uuid:')
        .replace('rdf:resource="#_p1"', 'rdf:resource="urn:uuid:p1"'),
    );
    const both = digest([
      { name: 'eq.xml', content: eq },
      { name: 'ssh.xml', content: doc({ c: CIM100 }, sshBody) },
    ]);
    expect([both.equipment.map((e) => [e.mrid, e.input.connectionStatus]), codesOf(both.issues, 'CIM-MODEL-PARTIAL')]).toEqual([
      [['p1', 'CONNECTED']],
      [],
    ]);
    // The EQ alone, also without a header, is read: its objects carry names.
    expect(digest([{ name: 'eq.xml', content: eq }]).equipment.map((e) => e.mrid)).toEqual(['p1']);
    // A real one: the GMDM SSH (its exch:InstanceSet header names no profile), sent without its model.
    const gmdm = digest([fixture(GMDM_SSH)]);
    expect([gmdm.objects, gmdm.equipment, gmdm.used, codesOf(gmdm.issues, 'CIM-MODEL-PARTIAL').map((i) => [i.message, i.file])]).toEqual([
      33,
      [],
      {},
      [
        [
          `33 of 33 object(s) are only described and defined by no file of this import: ${GMDM_SSH} defines nothing (no profile in a header, no rdf:ID, no IdentifiedObject name or mRID; objects named by rdf:about only), so it only adds properties to objects defined elsewhere, like a Steady State Hypothesis (SSH) without its Equipment (EQ) file; nothing is read from them.`,
          GMDM_SSH,
        ],
      ],
    ]);
  });

  it('an SSH without its EQ says so: every object only described, nothing extracted, nothing used', () => {
    const m = digest(SETS[1].map(fixture));
    expect([m.objects, m.equipment.length, m.used]).toEqual([178, 0, {}]);
    expect(codesOf(m.issues, 'CIM-MODEL-PARTIAL').map((i) => [i.message, i.file, i.line])).toEqual([
      [
        '178 of 178 object(s) are only described (rdf:about="#…") and defined by no file of this import: a Steady State Hypothesis (SSH) without the Equipment (EQ) file it adds to; nothing is read from them.',
        'entsoe-cgmes3_MicroGrid_20210209T1930Z_1D_BE_SSH_9.xml',
        12,
      ],
    ]);
    // With its EQ the same objects are defined: no such finding.
    expect(codesOf(digest(SETS[0].map(fixture)).issues, 'CIM-MODEL-PARTIAL')).toEqual([]);
  });
});

describe('mRIDs: one spelling', () => {
  it('every spelling of one identifier gives the same stored mRID', () => {
    const spellings = [
      'A1B2C3D4-0000-4000-8000-0000000000AA',
      '_A1B2C3D4-0000-4000-8000-0000000000AA',
      '#_a1b2c3d4-0000-4000-8000-0000000000aa',
      'urn:uuid:A1B2C3D4-0000-4000-8000-0000000000AA',
      ' URN:UUID:a1b2c3d4-0000-4000-8000-0000000000aa ',
    ];
    expect(new Set(spellings.map(normaliseId))).toEqual(new Set(['a1b2c3d4-0000-4000-8000-0000000000aa']));
    // mridOf: IdentifiedObject.mRID first, else the RDF identifier; either way normalised.
    const m = mergeDocuments([
      parseCimXml(
        doc(
          { c: CIM100 },
          `<c:ConnectivityNode rdf:ID="_AB-1"/><c:ConnectivityNode rdf:about="urn:uuid:CD-2"><c:IdentifiedObject.mRID>_CD-2</c:IdentifiedObject.mRID></c:ConnectivityNode>`,
        ),
      ),
    ]);
    expect([...m.objects.values()].map(mridOf)).toEqual(['ab-1', 'cd-2']);
  });
});

describe('enrich over the API', () => {
  let hub: TestHub;
  let n = 0;
  beforeAll(async () => {
    hub = await testHub();
  });
  afterAll(async () => {
    await hub?.close();
  });
  const register = async (body: unknown) => {
    const r = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    return r.json;
  };
  const importAs = (as: string, xml: string, query = '') =>
    hub.call('POST', `/api/v1/cim/import?mode=enrich${query}`, { as, text: xml, contentType: 'application/rdf+xml' });
  const eventsOf = async (id: string) =>
    (await hub.db.query(`SELECT 1 FROM event_outbox WHERE subject = $1 AND type = 'fmar.asset.network-enriched'`, [id])).length;
  const aliasesOf = async (id: string) => (await hub.call('GET', `/api/v1/assets/${id}`, { as: 'operator' })).json;

  /** One connection for one MPAN, written CGMES style (rdf:ID="_UPPER") or CIMHub style (urn:uuid, lower case). */
  const dsoFile = (mpan: string, style: 'cgmes' | 'cimhub', ecr?: string) => {
    const id = (s: string) => (style === 'cgmes' ? `rdf:ID="_${s.toUpperCase()}"` : `rdf:about="urn:uuid:${s.toLowerCase()}"`);
    const ref = (s: string) => (style === 'cgmes' ? `rdf:resource="#_${s.toUpperCase()}"` : `rdf:resource="urn:uuid:${s.toLowerCase()}"`);
    const E = 'e5000000-0000-4000-8000-00000000000a';
    return doc(
      { c: CIM100 },
      `<c:Substation ${id('5b000000-0000-4000-8000-00000000000a')}/>
<c:VoltageLevel ${id('7a000000-0000-4000-8000-00000000000a')}><c:VoltageLevel.Substation ${ref('5b000000-0000-4000-8000-00000000000a')}/></c:VoltageLevel>
<c:ConnectivityNode ${id('c0000000-0000-4000-8000-00000000000a')}><c:ConnectivityNode.ConnectivityNodeContainer ${ref('7a000000-0000-4000-8000-00000000000a')}/></c:ConnectivityNode>
<c:PowerElectronicsConnection ${id(E)}><c:Equipment.UsagePoints ${ref('0b000000-0000-4000-8000-00000000000a')}/></c:PowerElectronicsConnection>
<c:BatteryUnit ${id('b0000000-0000-4000-8000-00000000000a')}><c:PowerElectronicsUnit.PowerElectronicsConnection ${ref(E)}/></c:BatteryUnit>
<c:Terminal ${id('7e000000-0000-4000-8000-00000000000a')}><c:Terminal.ConductingEquipment ${ref(E)}/><c:Terminal.ConnectivityNode ${ref('c0000000-0000-4000-8000-00000000000a')}/></c:Terminal>
<c:UsagePoint ${id('0b000000-0000-4000-8000-00000000000a')}/>
<c:NameType ${id('0e000000-0000-4000-8000-00000000000a')}><c:NameType.name>MPAN</c:NameType.name></c:NameType>
<c:Name ${id('0a000000-0000-4000-8000-00000000000a')}><c:Name.name>${mpan}</c:Name.name><c:Name.NameType ${ref('0e000000-0000-4000-8000-00000000000a')}/><c:Name.IdentifiedObject ${ref('0b000000-0000-4000-8000-00000000000a')}/></c:Name>
${
  ecr
    ? `<c:NameType ${id('0e000000-0000-4000-8000-00000000000b')}><c:NameType.name>ECR</c:NameType.name></c:NameType>
<c:Name ${id('0a000000-0000-4000-8000-00000000000b')}><c:Name.name>${ecr}</c:Name.name><c:Name.NameType ${ref('0e000000-0000-4000-8000-00000000000b')}/><c:Name.IdentifiedObject ${ref(E)}/></c:Name>`
    : ''
}`,
    );
  };

  it('dry run: matched, would-enrich with each field from → to, nothing written; then enriched; the same file in another spelling changes nothing', async () => {
    const a = await register(batteryInput(900 + ++n));
    const cgmes = dsoFile(a.importMpan, 'cgmes', 'ecr-77/1');
    const dry = await importAs('dno', cgmes, '&dryRun=true');
    expect(dry.status, JSON.stringify(dry.json)).toBe(200);
    const changes = {
      equipmentMrid: { from: null, to: 'e5000000-0000-4000-8000-00000000000a' },
      connectivityNode: { from: null, to: 'c0000000-0000-4000-8000-00000000000a' },
      substation: { from: null, to: '5b000000-0000-4000-8000-00000000000a' },
      feeder: { from: null, to: null },
      aliases: { from: [], to: ['cim_mrid:e5000000-0000-4000-8000-00000000000a', 'ecr:ECR-77/1'] },
    };
    // feeder: no change (null → null) is not a change.
    const { feeder: _f, ...changed } = changes;
    expect(dry.json).toMatchObject({ matched: 1, enriched: 0, wouldEnrich: 1, unchanged: 0 });
    expect(dry.json.assets).toEqual([
      { assetId: a.id, equipmentMrid: 'e5000000-0000-4000-8000-00000000000a', outcome: 'would-enrich', changes: changed },
    ]);
    expect((await aliasesOf(a.id)).version).toBe(a.version);
    expect(await eventsOf(a.id)).toBe(0);

    const real = await importAs('dno', cgmes);
    expect(real.json).toMatchObject({ matched: 1, enriched: 1, wouldEnrich: 0, unchanged: 0 });
    expect(real.json.assets).toEqual([
      { assetId: a.id, equipmentMrid: 'e5000000-0000-4000-8000-00000000000a', outcome: 'enriched', changes: changed },
    ]);
    const after = await aliasesOf(a.id);
    expect(after.version).toBe(a.version + 1);
    expect(after.aliases.filter((x: { scheme: string }) => ['cim_mrid', 'ecr'].includes(x.scheme))).toEqual([
      { scheme: 'cim_mrid', value: 'e5000000-0000-4000-8000-00000000000a' },
      { scheme: 'ecr', value: 'ECR-77/1' },
    ]);
    const [ref] = await hub.db.query(
      `SELECT equipment_mrid, connectivity_node_mrid, substation_mrid, feeder_mrid FROM cim_network_ref WHERE asset_id = $1`,
      [a.id],
    );
    expect(ref).toEqual({
      equipment_mrid: 'e5000000-0000-4000-8000-00000000000a',
      connectivity_node_mrid: 'c0000000-0000-4000-8000-00000000000a',
      substation_mrid: '5b000000-0000-4000-8000-00000000000a',
      feeder_mrid: null,
    });

    // The same model written CIMHub style (urn:uuid, lower case): nothing changes, no version, alias or event.
    const aliasRows = async () => (await hub.db.query(`SELECT count(*)::int AS n FROM asset_alias WHERE asset_id = $1`, [a.id]))[0].n;
    const before = await aliasRows();
    const again = await importAs('dno', dsoFile(a.importMpan, 'cimhub', 'ECR-77/1'));
    expect(again.json).toMatchObject({ matched: 1, enriched: 0, wouldEnrich: 0, unchanged: 1 });
    expect(again.json.assets).toEqual([
      { assetId: a.id, equipmentMrid: 'e5000000-0000-4000-8000-00000000000a', outcome: 'unchanged', changes: {} },
    ]);
    expect([(await aliasesOf(a.id)).version, await aliasRows(), await eventsOf(a.id)]).toEqual([a.version + 1, before, 1]);
  });

  it('an ECR reference another asset holds in the same register is not added, and said', async () => {
    const first = await register(batteryInput(900 + ++n, { aliases: [{ scheme: 'ecr', value: 'ECR-TAKEN' }] }));
    const b = await register(batteryInput(900 + ++n));
    const r = await importAs('dno', dsoFile(b.importMpan, 'cgmes', 'ecr-taken'));
    expect(r.json).toMatchObject({ matched: 1, enriched: 1 });
    expect(
      r.json.issues.filter((i: { code: string }) => i.code === 'CIM-ALIAS-CONFLICT').map((i: { message: string }) => i.message),
    ).toEqual([`Asset ${b.id}: ECR reference ECR-TAKEN is already asset ${first.id}'s in register SPEN_SPM; not added.`]);
    expect(r.json.assets[0].changes.aliases).toEqual({ from: [], to: ['cim_mrid:e5000000-0000-4000-8000-00000000000a'] });
    expect((await aliasesOf(b.id)).aliases.filter((x: { scheme: string }) => x.scheme === 'ecr')).toEqual([]);
  });

  it('a bulk-load reports the file’s organisations and offers their identifiers, writing none', async () => {
    const newEic = eic('48X000000000456');
    const alpha = (await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'operator' })).json;
    const r = await hub.call('POST', `/api/v1/cim/import?mode=bulk-load&dryRun=true&organisationId=${DEMO['fsp-a']}`, {
      as: 'operator',
      text: NAMED.replace('EICPLACEHOLDER1', newEic),
      contentType: 'application/rdf+xml',
    });
    // The connection has no MPAN or DNO: the rows fail, and the problem carries the report.
    expect([r.status, r.json.code]).toEqual([422, 'CIM-IMPORT-ROWS-INVALID']);
    expect(r.json.organisations).toMatchObject({ matched: 2, unmatched: 1, enriched: 0, wouldEnrich: 0, offered: 1, unchanged: 1 });
    expect(r.json.organisations.items[0]).toMatchObject({
      organisationId: DEMO['fsp-a'],
      add: [{ scheme: 'EIC', value: newEic }],
      outcome: 'offered',
    });
    expect((await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'operator' })).json.version).toBe(alpha.version);
  });

  it('the report lists at most 500 organisations, and counts them all', async () => {
    const orgs = Array.from(
      { length: 501 },
      (_, i) => `<c:Organisation rdf:ID="_o${i}"><c:IdentifiedObject.name>O${i}</c:IdentifiedObject.name></c:Organisation>`,
    );
    const r = await importAs('dno', doc({ c: CIM100 }, orgs.join('\n')));
    expect(r.status).toBe(200);
    expect([
      r.json.organisations.unmatched,
      r.json.organisations.items.length,
      r.json.issueCounts['CIM-ORGANISATION-NOT-FOUND'],
      r.json.issues.length,
    ]).toEqual([501, 500, 501, 500]);
  });

  /** A valid EIC for a 15-character base (its check character computed). */
  const eic = (base: string) => base + [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'].find((c) => isEic(base + c))!;

  it('organisations: matched by Companies House or EIC, unmatched said; the operator’s import adds the identifiers (versioned, audited), a DSO’s offers them', async () => {
    const newEic = eic('48X000000000123');
    const unknownEic = eic('48X000000000999');
    const xml = NAMED.replace('EICPLACEHOLDER1', newEic).replace(
      '<c:Organisation rdf:ID="_org3"><c:IdentifiedObject.name>Nobody</c:IdentifiedObject.name></c:Organisation>',
      `<c:Organisation rdf:ID="_org3"><c:IdentifiedObject.name>Nobody</c:IdentifiedObject.name><eu:IdentifiedObject.energyIdentCodeEic>${unknownEic}</eu:IdentifiedObject.energyIdentCodeEic></c:Organisation>
<c:Organisation rdf:ID="_org4"><c:IdentifiedObject.name>Typo</c:IdentifiedObject.name><eu:IdentifiedObject.energyIdentCodeEic>10YGB----------B</eu:IdentifiedObject.energyIdentCodeEic></c:Organisation>`,
    );
    const alpha = (await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'operator' })).json;
    const items = (outcome: string) => [
      {
        mrid: 'org1',
        name: 'Alpha',
        roles: ['AssetOwner', 'FSP'],
        identifiers: [
          { scheme: 'COMPANIES_HOUSE', value: '09000002' },
          { scheme: 'EIC', value: newEic },
        ],
        status: 'matched',
        organisationId: DEMO['fsp-a'],
        matchedBy: ['COMPANIES_HOUSE:09000002'],
        add: [{ scheme: 'EIC', value: newEic }],
        outcome,
      },
      {
        mrid: 'org2',
        name: 'Distribution',
        roles: [],
        identifiers: [{ scheme: 'EIC', value: '10YGB----------A' }],
        status: 'matched',
        organisationId: DEMO.dno,
        matchedBy: ['EIC:10YGB----------A'],
        add: [],
        outcome: 'unchanged',
      },
      { mrid: 'org3', name: 'Nobody', roles: [], identifiers: [{ scheme: 'EIC', value: unknownEic }], status: 'unmatched' },
      {
        mrid: 'org4',
        name: 'Typo',
        roles: [],
        identifiers: [{ scheme: 'EIC', value: '10YGB----------B' }],
        invalid: [{ scheme: 'EIC', value: '10YGB----------B' }],
        status: 'unmatched',
      },
    ];
    const notFound = [
      `Organisation Nobody: no registered organisation has EIC:${unknownEic}.`,
      'Organisation Typo carries no valid EIC or Companies House number to match by.',
    ];
    const orgIssues = (r: { json: { issues: { code: string; message: string }[] } }) =>
      r.json.issues.filter((i) => i.code === 'CIM-ORGANISATION-NOT-FOUND').map((i) => i.message);

    // A DSO may not change another organisation: offered to the operator.
    const dso = await importAs('dno', xml);
    expect(dso.json.organisations).toEqual({
      matched: 2,
      unmatched: 2,
      enriched: 0,
      wouldEnrich: 0,
      offered: 1,
      unchanged: 1,
      items: items('offered'),
    });
    expect(orgIssues(dso)).toEqual(notFound);
    // The operator's dry run: would enrich, nothing written.
    const dry = await importAs('operator', xml, '&dryRun=true');
    expect(dry.json.organisations).toEqual({
      matched: 2,
      unmatched: 2,
      enriched: 0,
      wouldEnrich: 1,
      offered: 0,
      unchanged: 1,
      items: items('would-enrich'),
    });
    expect((await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'operator' })).json.version).toBe(alpha.version);

    const real = await importAs('operator', xml);
    expect(real.json.organisations).toEqual({
      matched: 2,
      unmatched: 2,
      enriched: 1,
      wouldEnrich: 0,
      offered: 0,
      unchanged: 1,
      items: items('enriched'),
    });
    const after = (await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'operator' })).json;
    expect([after.version, after.identifiers]).toEqual([alpha.version + 1, [...alpha.identifiers, { scheme: 'EIC', value: newEic }]]);
    const audit = await hub.db.query(
      `SELECT action, detail->'changed' AS changed FROM audit_log WHERE record_type = 'organisation' AND record_id = $1 AND action = 'organisation.updated'`,
      [DEMO['fsp-a']],
    );
    expect(audit).toEqual([{ action: 'organisation.updated', changed: ['identifiers'] }]);

    // Again: nothing left to add.
    const again = await importAs('operator', xml);
    expect(again.json.organisations).toMatchObject({ matched: 2, enriched: 0, unchanged: 2 });
    expect(again.json.organisations.items[0]).toMatchObject({
      matchedBy: ['COMPANIES_HOUSE:09000002', `EIC:${newEic}`],
      add: [],
      outcome: 'unchanged',
    });
    expect((await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'operator' })).json.version).toBe(alpha.version + 1);
  });

  /** One connection with a usage point per MPAN (its direction as the export writes it, when given), CGMES or CIMHub style. */
  const meteredFile = (
    equipment: string,
    points: { mpan: string; direction?: 'import' | 'export' }[],
    style: 'cgmes' | 'cimhub' = 'cgmes',
  ) => {
    const id = (s: string) => (style === 'cgmes' ? `rdf:ID="_${s.toUpperCase()}"` : `rdf:about="urn:uuid:${s.toLowerCase()}"`);
    const ref = (s: string) => (style === 'cgmes' ? `rdf:resource="#_${s.toUpperCase()}"` : `rdf:resource="urn:uuid:${s.toLowerCase()}"`);
    const u = (i: number, c: string) => `${c}${equipment.slice(c.length, -1)}${i}`;
    return doc(
      { c: CIM100, fmar: 'https://fmar.uk/ns/CIM/Extensions#' },
      `<c:PowerElectronicsConnection ${id(equipment)}/>
<c:BatteryUnit ${id(u(0, 'b'))}><c:PowerElectronicsUnit.PowerElectronicsConnection ${ref(equipment)}/></c:BatteryUnit>
<c:NameType ${id(u(0, '0e'))}><c:NameType.name>MPAN</c:NameType.name></c:NameType>
${points
  .map(
    (
      p,
      i,
    ) => `<c:UsagePoint ${id(u(i, '0b'))}><c:UsagePoint.Equipments ${ref(equipment)}/>${p.direction ? `<fmar:UsagePoint.direction>${p.direction}</fmar:UsagePoint.direction>` : ''}</c:UsagePoint>
<c:Name ${id(u(i, '0a'))}><c:Name.name>${p.mpan}</c:Name.name><c:Name.NameType ${ref(u(0, '0e'))}/><c:Name.IdentifiedObject ${ref(u(i, '0b'))}/></c:Name>`,
  )
  .join('\n')}`,
    );
  };
  const lookup = async (as: string, mpan: string) =>
    (await hub.call('GET', `/api/v1/assets?identifier=mpan:${mpan}`, { as })).json.items.map((x: { id: string }) => x.id);
  const issuesOf = (r: { json: { issues: { code: string; message: string }[] } }, ...codes: string[]) =>
    r.json.issues.filter((i) => codes.includes(i.code)).map((i) => `${i.code} ${i.message}`);
  const TABLES = ['asset', 'asset_alias', 'asset_natural_key', 'record_history', 'audit_log', 'event_outbox', 'cim_network_ref'];

  it('an MPAN of the file the matched asset lacks: would-enrich in a dry run (nothing written), then the asset’s own update; every party sees it; again in another spelling: unchanged', async () => {
    const a = await register(batteryInput(900 + ++n));
    const exp = mpanFor(3_000_000 + n);
    const E = 'e6000000-0000-4000-8000-00000000000a';
    const file = (style: 'cgmes' | 'cimhub') =>
      meteredFile(
        E,
        [
          { mpan: a.importMpan, direction: 'import' },
          { mpan: exp, direction: 'export' },
        ],
        style,
      );
    const changes = {
      equipmentMrid: { from: null, to: E },
      aliases: { from: [], to: [`cim_mrid:${E}`] },
      exportMpan: { from: null, to: exp },
    };
    const before = await rowCounts(hub.db, TABLES);
    const dry = await importAs('dno', file('cgmes'), '&dryRun=true');
    expect(dry.status, JSON.stringify(dry.json)).toBe(200);
    expect(dry.json).toMatchObject({ matched: 1, enriched: 0, wouldEnrich: 1, unchanged: 0 });
    expect(dry.json.assets).toEqual([{ assetId: a.id, equipmentMrid: E, outcome: 'would-enrich', changes }]);
    expect(issuesOf(dry, 'CIM-MPAN-CONFLICT', 'CIM-MPAN-DIFFERS', 'ASSET-MPAN-CHECKDIGIT')).toEqual([]);
    expect(await rowCounts(hub.db, TABLES)).toEqual(before);
    expect(await lookup('fsp-a', exp)).toEqual([]);

    const real = await importAs('dno', file('cgmes'));
    expect(real.json).toMatchObject({ matched: 1, enriched: 1, wouldEnrich: 0, unchanged: 0 });
    expect(real.json.assets).toEqual([{ assetId: a.id, equipmentMrid: E, outcome: 'enriched', changes }]);
    // The FSP's asset: the export MPAN, two versions (the network enrich, then the asset's own update).
    const read = (await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' })).json;
    expect([read.importMpan, read.exportMpan, read.version]).toEqual([a.importMpan, exp, a.version + 2]);
    // Found by the MPAN by those who may see the asset (its FSP, its DNO, the operator); not by another FSP.
    expect([await lookup('fsp-a', exp), await lookup('dno', exp), await lookup('operator', exp), await lookup('fsp-b', exp)]).toEqual([
      [a.id],
      [a.id],
      [a.id],
      [],
    ]);
    // Versioned: the FSP reads the asset's history, the prior versions without the MPAN.
    const history = await hub.call('GET', `/api/v1/assets/${a.id}/history`, { as: 'fsp-a' });
    expect(history.json.items.map((v: { version: number; exportMpan?: string }) => [v.version, v.exportMpan ?? null])).toEqual([
      [a.version + 2, exp],
      [a.version + 1, null],
      [a.version, null],
    ]);
    // Audited as the asset's update, naming the import and its file.
    const audit = await hub.call('GET', `/api/v1/audit?recordType=asset&recordId=${a.id}`, { as: 'operator' });
    const updated = audit.json.items.filter((i: { action: string }) => i.action === 'asset.updated');
    expect(updated.map((i: { detail: unknown }) => i.detail)).toEqual([
      { version: a.version + 2, changes: { exportMpan: [null, exp] }, source: 'cim-import', files: ['body.xml'] },
    ]);
    expect(audit.json.items.find((i: { action: string }) => i.action === 'asset.cim-enriched').detail.changed).toEqual([
      'equipmentMrid',
      'aliases',
    ]);
    // One event to the asset's parties.
    const events = await hub.db.query(`SELECT id, data FROM event_outbox WHERE subject = $1 AND type = 'fmar.asset.updated'`, [a.id]);
    expect(events.map((e) => e.data)).toEqual([{ assetId: a.id, version: a.version + 2, changed: ['exportMpan'], materialChange: true }]);
    const to = (await hub.db.query(`SELECT organisation_id FROM event_recipient WHERE event_id = $1`, [events[0].id])).map(
      (x) => x.organisation_id,
    );
    expect(to).toEqual(expect.arrayContaining([DEMO['fsp-a'], DEMO.dno]));

    // The same file in another spelling: nothing to add, nothing written.
    const after = await rowCounts(hub.db, TABLES);
    const again = await importAs('dno', file('cimhub'));
    expect(again.json).toMatchObject({ matched: 1, enriched: 0, wouldEnrich: 0, unchanged: 1 });
    expect(again.json.assets).toEqual([{ assetId: a.id, equipmentMrid: E, outcome: 'unchanged', changes: {} }]);
    expect(await rowCounts(hub.db, TABLES)).toEqual(after);
  });

  it('an MPAN without a direction fills the asset’s one empty MPAN; one of another distributor is added with the update’s warning', async () => {
    const a = await register(batteryInput(900 + ++n));
    // Distributor 10 (Eastern) on an asset of SP Manweb: the warning an FSP's update answers, not a refusal.
    const other = mpanFor(3_000_000 + n, '10');
    const r = await importAs('dno', meteredFile('e6000000-0000-4000-8000-00000000000b', [{ mpan: a.importMpan }, { mpan: other }]));
    expect(r.json.assets[0].changes.exportMpan).toEqual({ from: null, to: other });
    expect(r.json.issues.filter((i: { code: string }) => i.code === 'ASSET-DNO-MISMATCH')).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(new RegExp(`^Asset ${a.id}: DNO SPEN_SPM differs from \\S+, the distributor of MPAN ID 10\\.$`)),
      }),
    ]);
    expect((await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' })).json.exportMpan).toBe(other);
  });

  it('refused per asset with its rule code, nothing written, the same in a dry run: an MPAN another asset holds, a bad check digit, another MPAN in that direction', async () => {
    const E = 'e6000000-0000-4000-8000-00000000000c';
    const t = await register(batteryInput(900 + ++n));
    // A holder on another network: invisible to this DNO, and not named to it.
    const held = mpanFor(3_000_000 + n, '10');
    await register(batteryInput(900 + ++n, { dno: 'UKPN_EPN', importMpan: mpanFor(6_100_000 + n, '10'), exportMpan: held }));
    // Matched and enriched once, so that only the MPAN is new.
    await importAs('dno', meteredFile(E, [{ mpan: t.importMpan, direction: 'import' }]));
    const good = mpanFor(3_100_000 + n);
    const bad = good.slice(0, 12) + String((Number(good[12]) + 1) % 10);
    const cases: [string, { mpan: string; direction: 'import' | 'export' }, string][] = [
      [
        held,
        { mpan: held, direction: 'export' },
        `CIM-MPAN-CONFLICT Asset ${t.id}: export MPAN ${held} is already another live asset's; not added.`,
      ],
      [
        bad,
        { mpan: bad, direction: 'export' },
        `ASSET-MPAN-CHECKDIGIT Asset ${t.id}: export MPAN ${bad} not added: ${bad}: the check digit should be ${good[12]}.`,
      ],
      [
        good,
        { mpan: good, direction: 'import' },
        `CIM-MPAN-DIFFERS Asset ${t.id}: the file gives import MPAN ${good}; the asset's is ${t.importMpan}; not changed.`,
      ],
    ];
    for (const [mpan, point, issue] of cases) {
      const xml = meteredFile(E, [{ mpan: t.importMpan, direction: 'import' }, point]);
      const before = await rowCounts(hub.db, TABLES);
      for (const query of ['&dryRun=true', '']) {
        const r = await importAs('dno', xml, query);
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        expect(r.json, JSON.stringify([r.json.assets, r.json.issues])).toMatchObject({
          matched: 1,
          enriched: 0,
          wouldEnrich: 0,
          unchanged: 1,
        });
        expect(r.json.assets).toEqual([{ assetId: t.id, equipmentMrid: E, outcome: 'unchanged', changes: {} }]);
        expect(issuesOf(r, 'CIM-MPAN-CONFLICT', 'CIM-MPAN-DIFFERS', 'ASSET-MPAN-CHECKDIGIT')).toEqual([issue]);
      }
      expect(await rowCounts(hub.db, TABLES)).toEqual(before);
      expect(
        await hub.db.query(`SELECT asset_id FROM asset_alias WHERE scheme = 'mpan' AND value = $1 AND asset_id = $2`, [mpan, t.id]),
      ).toEqual([]);
    }
    const read = (await hub.call('GET', `/api/v1/assets/${t.id}`, { as: 'fsp-a' })).json;
    expect([read.importMpan, read.exportMpan ?? null]).toEqual([t.importMpan, null]);
  });

  it('two imports giving one MPAN to two assets at the same moment: one asset has it, the other import says CIM-MPAN-CONFLICT', async () => {
    const [p, q] = [await register(batteryInput(900 + ++n)), await register(batteryInput(900 + ++n))];
    const shared = mpanFor(3_200_000 + n);
    const file = (a: { importMpan: string }, e: string) =>
      meteredFile(e, [
        { mpan: a.importMpan, direction: 'import' },
        { mpan: shared, direction: 'export' },
      ]);
    const out = await Promise.all([
      importAs('dno', file(p, 'e6000000-0000-4000-8000-00000000000d')),
      importAs('dno', file(q, 'e6000000-0000-4000-8000-00000000000e')),
    ]);
    expect(out.map((r) => r.status)).toEqual([200, 200]);
    const holders = await hub.db.query(`SELECT asset_id FROM asset_alias WHERE scheme = 'mpan' AND active AND value = $1`, [shared]);
    expect(holders).toHaveLength(1);
    const loser = holders[0].asset_id === p.id ? q : p;
    expect(out.flatMap((r) => issuesOf(r, 'CIM-MPAN-CONFLICT'))).toEqual([
      `CIM-MPAN-CONFLICT Asset ${loser.id}: export MPAN ${shared} is already another live asset's; not added.`,
    ]);
    expect((await hub.call('GET', `/api/v1/assets/${loser.id}`, { as: 'fsp-a' })).json.exportMpan ?? null).toBe(null);
  });
});
