import type { z } from '@hono/zod-openapi';
import { isRuleCode } from '../rules';
import { fieldError, type FieldError } from './problem';

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * Turn zod issues into per-field errors with rule codes. Schemas put the rule code in the
 * message; a missing value, a wrong type and an unknown key get their generic codes.
 */
export function fieldErrorsFromZod(error: z.ZodError, input: unknown, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    const at = (p: string) => (prefix ? (p ? `${prefix}.${p}` : prefix) : p) || '(body)';
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push(fieldError(at(path ? `${path}.${k}` : k), 'REQUEST-UNKNOWN-FIELD', `Unknown field "${k}".`));
      continue;
    }
    // zod reports a missing enum as invalid_value: absent is "required" whatever the schema says.
    if ((issue.code === 'invalid_type' || issue.code === 'invalid_value') && valueAt(input, issue.path) === undefined) {
      out.push(fieldError(at(path), 'REQUEST-FIELD-REQUIRED'));
      continue;
    }
    if (isRuleCode(issue.message)) {
      // A check that knows more than its rule's title (e.g. the value and where the allowed ones are) says it in params.detail.
      const detail = issue.code === 'custom' && typeof issue.params?.detail === 'string' ? issue.params.detail : undefined;
      out.push(fieldError(at(path), issue.message, detail));
      continue;
    }
    out.push(fieldError(at(path), issue.code === 'invalid_type' ? 'REQUEST-FIELD-TYPE' : 'REQUEST-VALIDATION', issue.message));
  }
  // One error per field and rule: several checks of one rule (an empty name is both too short and off
  // the pattern) say it once.
  const seen = new Set<string>();
  return out.filter((e) => {
    const key = `${e.field}\u0000${e.code}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** kW quantity: a finite number, not negative, at most 2 decimals, within numeric(12,2). */
export function isKw(v: number): boolean {
  return Number.isFinite(v) && v >= 0 && v <= 9_999_999_999.99 && Math.abs(Math.round(v * 100) - v * 100) < 1e-6;
}

export function isCalendarDate(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** Text PostgreSQL refuses (in text and in jsonb): U+0000 or a lone UTF-16 surrogate. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The field (dotted path) of the first string or key the register cannot store, or undefined.
 * Iterative, so that deeply nested garbage cannot overflow the stack; the offending key itself is
 * not named (it would be echoed back).
 */
export function unstorableTextAt(value: unknown): string | undefined {
  type Node = { v: unknown; key?: string; up?: Node };
  const pathOf = (n: Node | undefined) => {
    const ks: string[] = [];
    for (let x = n; x?.key !== undefined; x = x.up) ks.unshift(x.key);
    return ks.join('.') || '(body)';
  };
  const stack: Node[] = [{ v: value }];
  while (stack.length) {
    const n = stack.pop()!;
    if (typeof n.v === 'string') {
      if (UNSTORABLE.test(n.v)) return pathOf(n);
      continue;
    }
    if (n.v === null || typeof n.v !== 'object') continue;
    for (const [k, v] of Object.entries(n.v)) {
      if (UNSTORABLE.test(k)) return pathOf(n);
      stack.push({ v, key: k, up: n });
    }
  }
  return undefined;
}
