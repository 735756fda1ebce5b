import { describe, expect, it } from 'vitest';
import { ObjectIndex, mergeDocuments } from '../../cim/model';
import { NO_VALUES, idForm, idWritten, parseCimXml } from '../../cim/parser';
import { normaliseId } from '../../cim/mrid';

/**
 * The compact model (cim/parser.ts): identifiers, references and mRIDs held as a form of the key
 * where they are one, and read back exactly as written; empty value lists shared; indexes holding a
 * list of one as the object itself (cim/model.ts).
 */
describe('identifiers held as a form of the key', () => {
  const written = [
    'urn:uuid:A0000000-0000-4000-8000-00000000000F',
    'urn:uuid:a0000000-0000-4000-8000-00000000000f',
    '#urn:uuid:a0000000-0000-4000-8000-00000000000f',
    '_5C6BD6E8-1F5C-4C0E-8D36-2A9F1E7C9A11',
    '#_5c6bd6e8-1f5c-4c0e-8d36-2a9f1e7c9a11',
    'plain-id',
    '_:b1',
  ];
  it.each(written)('%s: a number, read back as written', (raw) => {
    const key = normaliseId(raw);
    const form = idForm(raw, key);
    expect(typeof form).toBe('number');
    expect(idWritten(form, key)).toBe(raw);
  });

  // Mixed case, another prefix's case, white space: kept as the string itself.
  const kept = ['urn:uuid:A0000000-0000-4000-8000-00000000000f', 'URN:UUID:a0000000-0000-4000-8000-00000000000f', ' _abc ', '#BE-Line_1'];
  it.each(kept)('%j: kept as written', (raw) => {
    const key = normaliseId(raw);
    expect(idForm(raw, key)).toBe(raw);
    expect(idWritten(idForm(raw, key), key)).toBe(raw);
  });

  it('a parsed object gives its identifier, its references and its mRID as written, holding numbers', () => {
    const doc = parseCimXml(
      `<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/CIM100#">
<cim:PowerElectronicsConnection rdf:about="urn:uuid:A0000000-0000-4000-8000-00000000000F">
  <cim:IdentifiedObject.mRID>A0000000-0000-4000-8000-00000000000F</cim:IdentifiedObject.mRID>
  <cim:IdentifiedObject.name>A0000000-0000-4000-8000-00000000000F</cim:IdentifiedObject.name>
  <cim:PowerElectronicsConnection.PowerElectronicsUnit rdf:resource="#_b0000000-0000-4000-8000-00000000000f"/>
</cim:PowerElectronicsConnection>
<cim:BatteryUnit rdf:ID="_b0000000-0000-4000-8000-00000000000f">
  <cim:IdentifiedObject.mRID>B0000000-0000-4000-8000-00000000000f</cim:IdentifiedObject.mRID>
</cim:BatteryUnit>
</rdf:RDF>`,
      'forms.xml',
    );
    const [pec, unit] = doc.objects;
    expect(pec.ids).toEqual(['urn:uuid:A0000000-0000-4000-8000-00000000000F']);
    expect(pec.first('cim:IdentifiedObject.mRID')).toBe('A0000000-0000-4000-8000-00000000000F');
    expect(pec.properties['cim:IdentifiedObject.mRID']).toEqual(['A0000000-0000-4000-8000-00000000000F']);
    expect(pec.refs('cim:PowerElectronicsConnection.PowerElectronicsUnit').map((r) => r.raw)).toEqual([
      '#_b0000000-0000-4000-8000-00000000000f',
    ]);
    expect(unit.ids).toEqual(['_b0000000-0000-4000-8000-00000000000f']);
    // The mRID is a form of the key (held as a number); the name, though equal, is another property and stays text.
    expect(pec.p).toEqual(['cim:IdentifiedObject.mRID', 2 * 0 + 2, 'cim:IdentifiedObject.name', 'A0000000-0000-4000-8000-00000000000F']);
    expect(pec.r[2]).toBe(2 * 3 + 1);
    // Mixed case is no form: kept as written.
    expect(unit.p).toEqual(['cim:IdentifiedObject.mRID', 'B0000000-0000-4000-8000-00000000000f']);
    expect(unit.r).toBe(NO_VALUES);
  });

  it('an object read with no values gets its own list when another file adds some; the shared empty stays empty', () => {
    const head = `<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/CIM100#">`;
    const eq = parseCimXml(`${head}<cim:UsagePoint rdf:ID="_u1"/></rdf:RDF>`, 'eq.xml');
    const ssh = parseCimXml(
      `${head}<cim:UsagePoint rdf:about="#_u1"><cim:IdentifiedObject.name>meter</cim:IdentifiedObject.name><cim:UsagePoint.Equipments rdf:resource="#_e1"/></cim:UsagePoint></rdf:RDF>`,
      'ssh.xml',
    );
    expect(eq.objects[0].p).toBe(NO_VALUES);
    const m = mergeDocuments([eq, ssh]);
    const u = m.objects.get('u1')!;
    expect(u.first('cim:IdentifiedObject.name')).toBe('meter');
    expect(u.refs('cim:UsagePoint.Equipments').map((r) => r.raw)).toEqual(['#_e1']);
    expect(u.ids).toEqual(['_u1', '#_u1']);
    expect(NO_VALUES).toEqual([]);
    expect(Object.isFrozen(NO_VALUES)).toBe(true);
  });
});

describe('ObjectIndex', () => {
  it('holds a list of one as the object, gives lists, and adds once when asked', () => {
    const a = { n: 'a' };
    const b = { n: 'b' };
    const idx = new ObjectIndex<{ n: string }>();
    idx.add('k', a);
    expect(idx.get('k')).toEqual([a]);
    idx.add('k', a, true);
    expect(idx.get('k')).toEqual([a]);
    idx.add('k', b);
    idx.add('k', b, true);
    expect(idx.get('k')).toEqual([a, b]);
    idx.add('k', a);
    expect(idx.get('k')).toEqual([a, b, a]);
    expect(idx.get('other')).toBeUndefined();
    expect(idx.has('k')).toBe(true);
    expect(idx.size).toBe(1);
  });
});
