import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { oas30Document, OAS30_ANNOTATIONS } from './openadr-oas30';
import { applyOverlay } from './openadr-overlay';

/**
 * The official OpenADR 3.1.0 OpenAPI document as a response validator: status code declared for the
 * operation, content type, and body against the declared schema (ajv, every $ref resolved in the
 * document). The document is OpenAPI 3.0: its Schema Objects are read as 3.0 defines them
 * (./openadr-oas30.ts: boolean exclusiveMaximum, nullable, 3.0's formats and annotations) and ajv
 * runs in strict mode, so a keyword it does not know fails instead of being ignored. The document's
 * genuine defects are corrected by the overlay in ./openadr-overlay.ts, never by editing the file.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OPENADR_SPEC = resolve(root, 'test/fixtures/openadr/openadr3.1.0.yaml');
const ID = 'https://openadr.test/openadr3.1.0.yaml';

export interface Answer {
  status: number;
  contentType: string | null;
  body: unknown;
}

export interface Contract {
  /** Problems with one answer to `METHOD path` (the path as the document writes it, e.g. /vens/{venID}); [] when conformant. */
  check(method: string, path: string, answer: Answer): string[];
  doc: Record<string, any>;
}

const cached = new Map<boolean, Contract>();

/** The contract, with the overlay (default) or as published (to show what the overlay corrects). */
export function openadrContract(o: { overlay?: boolean } = {}): Contract {
  const overlay = o.overlay ?? true;
  const hit = cached.get(overlay);
  if (hit) return hit;
  const published = parse(readFileSync(OPENADR_SPEC, 'utf8'));
  const doc = overlay ? applyOverlay(published) : published;
  const schemaDoc = {
    $id: ID,
    ...(oas30Document(doc as { components: Record<string, unknown>; paths: Record<string, unknown> }) as object),
  };
  const ajv = new Ajv({
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allErrors: true,
    validateSchema: false,
  });
  addFormats(ajv);
  // The document's top level holds the schemas (components, paths); OpenAPI 3.0's annotations.
  for (const k of [...OAS30_ANNOTATIONS, 'components', 'paths']) ajv.addKeyword(k);
  // OpenAPI 3.0's own formats (its "Data Types"): int32 and int64 bound integers, the others describe.
  const integer = (bits: number) => ({
    type: 'number' as const,
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** (bits - 1)) && n < 2 ** (bits - 1),
  });
  ajv.addFormat('int32', integer(32));
  ajv.addFormat('int64', integer(64));
  for (const f of ['float', 'double']) ajv.addFormat(f, { type: 'number', validate: () => true });
  for (const f of ['byte', 'binary', 'password']) ajv.addFormat(f, true);
  ajv.addSchema(schemaDoc);
  const validators = new Map<string, ValidateFunction>();
  const pointer = (parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

  const contract: Contract = {
    doc,
    check(method, path, answer) {
      const op = doc.paths[path]?.[method.toLowerCase()];
      if (!op) return [`${method} ${path} is not an operation of the OpenADR document`];
      let res = op.responses[String(answer.status)] ?? op.responses.default;
      if (!res) return [`${method} ${path}: status ${answer.status} is not declared (declared: ${Object.keys(op.responses).join(', ')})`];
      let at = ['paths', path, method.toLowerCase(), 'responses', String(answer.status)];
      if (res.$ref) {
        const name = (res.$ref as string).split('/').pop()!;
        res = doc.components.responses[name];
        at = ['components', 'responses', name];
      }
      const errors: string[] = [];
      const declared = Object.keys(res.content ?? {});
      const type = (answer.contentType ?? '').split(';')[0].trim().toLowerCase();
      if (!declared.length)
        return answer.body === undefined || answer.body === '' ? [] : [`${method} ${path} ${answer.status}: a body where none is declared`];
      if (!declared.includes(type))
        return [`${method} ${path} ${answer.status}: content type ${type || '(none)'} is not one of ${declared.join(', ')}`];
      const key = `#/${pointer([...at, 'content', type, 'schema'])}`;
      let validate = validators.get(key);
      if (!validate) {
        validate = ajv.compile({ $ref: `${ID}${key}` });
        validators.set(key, validate);
      }
      if (!validate(answer.body))
        errors.push(
          ...(validate.errors ?? []).map(
            (e) => `${method} ${path} ${answer.status}: body${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`,
          ),
        );
      return errors;
    },
  };
  cached.set(overlay, contract);
  return contract;
}
