import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { applyOverlay } from './openadr-overlay';

/**
 * The official OpenADR 3.1.0 OpenAPI document as a response validator: status code declared for the
 * operation, content type, and body against the declared schema (ajv, every $ref resolved in the
 * document). OpenAPI 3.0 schema dialect is turned into JSON Schema (`nullable`), and the document's
 * known defects are corrected by the overlay in ./openadr-overlay.ts, never by editing the file.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OPENADR_SPEC = resolve(root, 'test/fixtures/openadr/openadr3.1.0.yaml');
const ID = 'https://openadr.test/openadr3.1.0.yaml';

/** OpenAPI 3.0 `nullable: true` → JSON Schema (a null branch), everywhere in the tree. */
function jsonSchemaDialect(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(jsonSchemaDialect);
  if (!v || typeof v !== 'object') return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = jsonSchemaDialect(x);
  if (o.nullable === true) {
    delete o.nullable;
    if (typeof o.type === 'string') {
      o.type = [o.type, 'null'];
      if (Array.isArray(o.enum)) o.enum = [...o.enum, null];
      return o;
    }
    return { anyOf: [o, { type: 'null' }] };
  }
  delete o.nullable;
  return o;
}

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
  const schemaDoc = { $id: ID, ...(jsonSchemaDialect({ components: doc.components, paths: doc.paths }) as object) };
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('float', { type: 'number', validate: () => true });
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
