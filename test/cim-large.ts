import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/**
 * A large DSO model for the stall tests, written to a file: `count` batteries, each a
 * PowerElectronicsConnection with its BatteryUnit, UsagePoint and MPAN Name, on one feeder.
 * About 1 KB per battery; the MPANs are well-formed but match no registered asset.
 */
export async function writeLargeCimModel(path: string, count: number): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (s: string) => {
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(`<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:c="http://iec.ch/TC57/CIM100#">
<c:Substation rdf:about="urn:uuid:5B000000-0000-4000-8000-000000000001"><c:IdentifiedObject.name>Primary 1</c:IdentifiedObject.name></c:Substation>
<c:Feeder rdf:about="urn:uuid:F0000000-0000-4000-8000-000000000001"><c:Feeder.NormalEnergizingSubstation rdf:resource="urn:uuid:5B000000-0000-4000-8000-000000000001"/></c:Feeder>
<c:NameType rdf:about="urn:uuid:0E000000-0000-4000-8000-000000000001"><c:NameType.name>MPAN</c:NameType.name></c:NameType>
`);
  const hex = (i: number, w = 12) => i.toString(16).toUpperCase().padStart(w, '0');
  let chunk = '';
  for (let i = 0; i < count; i++) {
    const pec = `A0000000-0000-4000-8000-${hex(i)}`;
    const unit = `B0000000-0000-4000-8000-${hex(i)}`;
    const up = `C0000000-0000-4000-8000-${hex(i)}`;
    const name = `D0000000-0000-4000-8000-${hex(i)}`;
    // 13 digits; check digits are not computed (a real DSO's MPANs would match; these need not).
    const mpan = `1${String(i).padStart(12, '0')}`;
    chunk += `<c:PowerElectronicsConnection rdf:about="urn:uuid:${pec}"><c:IdentifiedObject.mRID>${pec}</c:IdentifiedObject.mRID><c:IdentifiedObject.name>Battery ${i}</c:IdentifiedObject.name><c:PowerElectronicsConnection.ratedS>5000</c:PowerElectronicsConnection.ratedS><c:Equipment.EquipmentContainer rdf:resource="urn:uuid:F0000000-0000-4000-8000-000000000001"/><c:PowerElectronicsConnection.PowerElectronicsUnit rdf:resource="urn:uuid:${unit}"/></c:PowerElectronicsConnection>
<c:BatteryUnit rdf:about="urn:uuid:${unit}"><c:IdentifiedObject.mRID>${unit}</c:IdentifiedObject.mRID><c:BatteryUnit.ratedE>10000</c:BatteryUnit.ratedE></c:BatteryUnit>
<c:UsagePoint rdf:about="urn:uuid:${up}"><c:UsagePoint.Equipments rdf:resource="urn:uuid:${pec}"/></c:UsagePoint>
<c:Name rdf:about="urn:uuid:${name}"><c:Name.name>${mpan}</c:Name.name><c:Name.NameType rdf:resource="urn:uuid:0E000000-0000-4000-8000-000000000001"/><c:Name.IdentifiedObject rdf:resource="urn:uuid:${up}"/></c:Name>
`;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk + '</rdf:RDF>\n');
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return bytes;
}
