import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateXML } from 'xmllint-wasm';

/**
 * The OpenADR 2.0b XML schema (test/fixtures/openadr/oadr20b/, unchanged, sources and notices in
 * test/fixtures/SOURCES.md) as a validator: xmllint (xmllint-wasm) against oadr_20b.xsd with every
 * file it imports preloaded, so nothing is fetched. Used on the hub's 2.0b exports and test documents.
 */

const dir = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/openadr/oadr20b');
const files = readdirSync(dir).filter((f) => f.endsWith('.xsd'));
// The schema files declare ISO-8859-1 and are passed as bytes, as they are on disk.
const bytes = (f: string) => ({ fileName: f, contents: new Uint8Array(readFileSync(join(dir, f))) });

/** Validate a document against the 2.0b schema: [] when valid, else xmllint's messages. */
export async function oadr2bSchemaErrors(xml: string): Promise<string[]> {
  const r = await validateXML({
    xml: [{ fileName: 'document.xml', contents: xml }],
    schema: [bytes('oadr_20b.xsd')],
    preload: files.filter((f) => f !== 'oadr_20b.xsd').map(bytes),
  });
  return r.valid ? [] : r.errors.map((e) => e.rawMessage);
}
