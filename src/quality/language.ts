/**
 * The data quality rule language (docs/data-quality.md): a small declarative expression language
 * the operator writes rules in. It is parsed into a tree and interpreted here; nothing is ever
 * evaluated as code or sent to the database. Pure: no I/O, no clock (time comes in as `now`).
 */

export type ValueType = 'number' | 'text' | 'date' | 'boolean';

/** The facts a definition may name, with their type. Dotted names are nested facts. */
export const FACT_TYPES: Record<string, ValueType> = {
  name: 'text',
  friendlyCode: 'text',
  category: 'text',
  organisationId: 'text',
  fspId: 'text',
  status: 'text',
  ratedCapacityKw: 'number',
  generationCapacityKw: 'number',
  demandCapacityKw: 'number',
  energySource: 'text',
  demandTechnology: 'text',
  energyConversionType: 'text',
  manufacturer: 'text',
  model: 'text',
  serialNumber: 'text',
  commissioningDate: 'date',
  effectiveDate: 'date',
  connectionStatus: 'text',
  connectionType: 'text',
  dno: 'text',
  importMpan: 'text',
  exportMpan: 'text',
  consentReference: 'text',
  'location.postcode': 'text',
  'location.gspGroup': 'text',
  'location.latitude': 'number',
  'location.longitude': 'number',
  recordedAt: 'date',
  validatedAt: 'date',
  lastActivityAt: 'date',
  // The asset's connection within its market units (src/connection-limits: connectionFactsOf): the
  // unit, MPAN and direction with the least headroom under the limit in force; absent when none applies.
  'connection.marketUnitId': 'text',
  'connection.mpan': 'text',
  'connection.direction': 'text',
  'connection.unitCapacityKw': 'number',
  'connection.limitKw': 'number',
  // Results of the external registries (set by a validation run; absent before one).
  'meterPoint.status': 'text',
  'meterPoint.dno': 'text',
  'meterPoint.gspGroup': 'text',
  'meterPoint.energised': 'boolean',
  'mcs.status': 'text',
};

/** Facts that come from the external registries: a definition naming one is an external check. */
export const EXTERNAL_FACT = /^(meterPoint|mcs)\./;
/** Facts a staleness rule may measure the age of. */
export const STALENESS_FACTS = ['recordedAt', 'validatedAt', 'lastActivityAt'] as const;

export type Value = string | number | boolean | null;

export type Node =
  | { t: 'and' | 'or' | 'implies'; l: Node; r: Node }
  | { t: 'not'; e: Node }
  | { t: 'cmp'; op: '==' | '!=' | '<' | '<=' | '>' | '>='; l: Operand; r: Operand }
  | { t: 'in'; v: Operand; list: Value[] }
  | { t: 'matches'; v: Operand; re: RegExp; source: string }
  | { t: 'between'; v: Operand; lo: number; hi: number }
  | { t: 'required'; field: string }
  | { t: 'bool'; value: boolean };

export type Operand =
  | { t: 'fact'; name: string; type: ValueType }
  | { t: 'lit'; value: Value; type: ValueType | 'any' }
  | { t: 'today' }
  | { t: 'daysSince'; field: string }
  | { t: 'mpanDno'; field: string };

/** Where a definition is wrong: offset (0-based) and line/column (1-based) in its text. */
export interface Position {
  offset: number;
  line: number;
  column: number;
}

export type DefinitionErrorCode =
  'DQ-RULE-SYNTAX' | 'DQ-RULE-FIELD-UNKNOWN' | 'DQ-RULE-FUNCTION-UNKNOWN' | 'DQ-RULE-TYPE' | 'DQ-RULE-PATTERN-INVALID';

export class DefinitionError extends Error {
  constructor(
    readonly code: DefinitionErrorCode,
    message: string,
    readonly position: Position,
  ) {
    super(`${message} (line ${position.line}, column ${position.column})`);
  }
}

interface Token {
  k: 'ident' | 'num' | 'str' | 'op' | 'punct' | 'end';
  v: string;
  at: number;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'implies', 'in', 'matches', 'between', 'true', 'false', 'null', 'today']);
const MAX_DEPTH = 32;
const MAX_PATTERN = 200;
const MAX_REPETITIONS = 2;

function positionOf(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { offset, line, column: offset - before.lastIndexOf('\n') };
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (msg: string, at: number): never => {
    throw new DefinitionError('DQ-RULE-SYNTAX', msg, positionOf(text, at));
  };
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_.]/.test(text[i])) i++;
      out.push({ k: 'ident', v: text.slice(start, i), at: start });
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      i++;
      while (i < text.length && /[0-9.]/.test(text[i])) i++;
      const v = text.slice(start, i);
      if (!/^-?\d+(\.\d+)?$/.test(v)) fail(`"${v}" is not a number`, start);
      out.push({ k: 'num', v, at: start });
    } else if (c === '"') {
      i++;
      let s = '';
      for (;;) {
        if (i >= text.length) fail('unterminated string', start);
        if (text[i] === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
          s += text[i + 1];
          i += 2;
          continue;
        }
        if (text[i] === '"') {
          i++;
          break;
        }
        s += text[i++];
      }
      out.push({ k: 'str', v: s, at: start });
    } else if (['<=', '>=', '==', '!='].includes(text.slice(i, i + 2))) {
      out.push({ k: 'op', v: text.slice(i, i + 2), at: start });
      i += 2;
    } else if (c === '<' || c === '>') {
      out.push({ k: 'op', v: c, at: start });
      i++;
    } else if ('()[],'.includes(c)) {
      out.push({ k: 'punct', v: c, at: start });
      i++;
    } else {
      fail(`unexpected character "${c}"`, start);
    }
  }
  out.push({ k: 'end', v: '', at: text.length });
  return out;
}

/**
 * Quantifiers that leave the engine a choice (*, +, ?, {m,n}, {m,}), outside character classes.
 * Without nesting, k of them cost at most about n^k steps on a text of n characters (n^(k+1) when
 * the pattern is tried at every position); MAX_REPETITIONS keeps that to n^2, microseconds on a field.
 */
function repetitions(source: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    const prev = source[i - 1];
    // '?' after '(' opens a group kind, after a quantifier makes it lazy: neither is a repetition.
    if (c === '*' || c === '+' || (c === '?' && prev !== '(' && prev !== '*' && prev !== '+' && prev !== '?' && prev !== '}')) n++;
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 24));
      if (m && m[2] !== undefined && m[3] !== m[1]) n++;
    }
  }
  return n;
}

/** Refuse patterns that are not JavaScript regular expressions or could backtrack without end. */
function compilePattern(source: string, at: Position): RegExp {
  if (source.length > MAX_PATTERN)
    throw new DefinitionError('DQ-RULE-PATTERN-INVALID', `a pattern is at most ${MAX_PATTERN} characters`, at);
  // Nested quantifiers ((a+)+, (a*)*, (a|a)+ …) and back-references are what make a pattern blow up.
  if (/\\[1-9]|\\k</.test(source)) throw new DefinitionError('DQ-RULE-PATTERN-INVALID', 'back-references are not allowed', at);
  const stack: boolean[] = [];
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '(') stack.push(false);
    else if (c === ')') {
      const quantifiedInside = stack.pop() ?? false;
      const next = source[i + 1];
      const quantifiedGroup = next === '*' || next === '+' || next === '{' || next === '?';
      if (quantifiedInside && quantifiedGroup)
        throw new DefinitionError(
          'DQ-RULE-PATTERN-INVALID',
          'a quantified group may not contain a quantifier or alternation (nested repetition)',
          at,
        );
      if (stack.length && (quantifiedInside || quantifiedGroup)) stack[stack.length - 1] = true;
    } else if ((c === '*' || c === '+' || c === '{' || c === '|') && stack.length) stack[stack.length - 1] = true;
  }
  // A pattern not anchored with ^ is tried at every position: one repetition more.
  if (repetitions(source) + (source.startsWith('^') ? 0 : 1) > MAX_REPETITIONS) {
    throw new DefinitionError(
      'DQ-RULE-PATTERN-INVALID',
      `a pattern has at most ${MAX_REPETITIONS} repetitions (*, +, ?, {m,n}), or ${MAX_REPETITIONS - 1} without a leading ^; more (".*.*x") make matching time grow as a power of the text's length`,
      at,
    );
  }
  try {
    return new RegExp(source, 'u');
  } catch (e) {
    throw new DefinitionError('DQ-RULE-PATTERN-INVALID', `not a valid pattern: ${(e as Error).message}`, at);
  }
}

/** Parse a definition; throws DefinitionError with the position of the first problem. */
export function parseDefinition(text: string): Node {
  const toks = tokenize(text);
  let p = 0;
  let depth = 0;
  const peek = () => toks[p];
  const pos = (t: Token) => positionOf(text, t.at);
  const fail = (code: DefinitionErrorCode, msg: string, t: Token = peek()): never => {
    throw new DefinitionError(code, msg, pos(t));
  };
  const describe = (t: Token) => (t.k === 'end' ? 'the end of the definition' : `"${t.k === 'str' ? `"${t.v}"` : t.v}"`);
  const isWord = (w: string) => peek().k === 'ident' && peek().v === w;
  const expect = (k: Token['k'], v: string) => {
    const t = peek();
    if (t.k !== k || t.v !== v) fail('DQ-RULE-SYNTAX', `expected "${v}" but found ${describe(t)}`);
    p++;
    return t;
  };

  function factName(): { name: string; tok: Token } {
    const t = peek();
    if (t.k !== 'ident' || KEYWORDS.has(t.v)) fail('DQ-RULE-SYNTAX', `expected a field name but found ${describe(t)}`);
    if (!(t.v in FACT_TYPES)) fail('DQ-RULE-FIELD-UNKNOWN', `unknown field "${t.v}"`);
    p++;
    return { name: t.v, tok: t };
  }

  function literal(): { value: Value; type: ValueType | 'any' } {
    const t = peek();
    if (t.k === 'num') {
      p++;
      return { value: Number(t.v), type: 'number' };
    }
    if (t.k === 'str') {
      p++;
      return { value: t.v, type: 'text' };
    }
    if (t.k === 'ident' && (t.v === 'true' || t.v === 'false')) {
      p++;
      return { value: t.v === 'true', type: 'boolean' };
    }
    if (t.k === 'ident' && t.v === 'null') {
      p++;
      return { value: null, type: 'any' };
    }
    return fail('DQ-RULE-SYNTAX', `expected a value but found ${describe(t)}`);
  }

  function operand(): Operand {
    const t = peek();
    if (t.k === 'ident' && t.v === 'today') {
      p++;
      return { t: 'today' };
    }
    if (t.k === 'ident' && toks[p + 1].k === 'punct' && toks[p + 1].v === '(') {
      if (t.v !== 'daysSince' && t.v !== 'mpanDno')
        fail('DQ-RULE-FUNCTION-UNKNOWN', `unknown function "${t.v}" (values: daysSince, mpanDno; conditions: required)`);
      p += 2;
      const { name, tok } = factName();
      const want: ValueType = t.v === 'daysSince' ? 'date' : 'text';
      if (FACT_TYPES[name] !== want) fail('DQ-RULE-TYPE', `${t.v} takes a ${want} field; ${name} is ${FACT_TYPES[name]}`, tok);
      expect('punct', ')');
      return t.v === 'daysSince' ? { t: 'daysSince', field: name } : { t: 'mpanDno', field: name };
    }
    if (t.k === 'ident' && !KEYWORDS.has(t.v)) {
      const { name } = factName();
      return { t: 'fact', name, type: FACT_TYPES[name] };
    }
    const l = literal();
    return { t: 'lit', ...l };
  }

  const typeOf = (o: Operand): ValueType | 'any' =>
    o.t === 'fact' ? o.type : o.t === 'lit' ? o.type : o.t === 'today' ? 'date' : o.t === 'daysSince' ? 'number' : 'text';
  const compatible = (a: ValueType | 'any', b: ValueType | 'any') =>
    a === 'any' || b === 'any' || a === b || ((a === 'date' || a === 'text') && (b === 'date' || b === 'text'));

  function condition(): Node {
    const t = peek();
    if (t.k === 'punct' && t.v === '(') {
      p++;
      const e = implication();
      expect('punct', ')');
      return e;
    }
    if (t.k === 'ident' && (t.v === 'true' || t.v === 'false') && !(toks[p + 1].k === 'op')) {
      p++;
      return { t: 'bool', value: t.v === 'true' };
    }
    if (t.k === 'ident' && t.v === 'required' && toks[p + 1].v === '(') {
      p += 2;
      const { name } = factName();
      expect('punct', ')');
      return { t: 'required', field: name };
    }
    const startTok = peek();
    const l = operand();
    const op = peek();
    if (op.k === 'op') {
      p++;
      const rTok = peek();
      const r = operand();
      if (!compatible(typeOf(l), typeOf(r))) fail('DQ-RULE-TYPE', `cannot compare ${typeOf(l)} with ${typeOf(r)}`, rTok);
      if (op.v !== '==' && op.v !== '!=' && (typeOf(l) === 'boolean' || typeOf(r) === 'boolean'))
        fail('DQ-RULE-TYPE', `${op.v} does not order true/false`, op);
      return { t: 'cmp', op: op.v as '==' | '!=' | '<' | '<=' | '>' | '>=', l, r };
    }
    if (op.k === 'ident' && op.v === 'in') {
      p++;
      expect('punct', '[');
      const list: Value[] = [];
      for (;;) {
        const vt = peek();
        const v = literal();
        if (!compatible(typeOf(l), v.type)) fail('DQ-RULE-TYPE', `the list holds a ${v.type}; the field is ${typeOf(l)}`, vt);
        list.push(v.value);
        if (peek().k === 'punct' && peek().v === ',') {
          p++;
          continue;
        }
        expect('punct', ']');
        break;
      }
      return { t: 'in', v: l, list };
    }
    if (op.k === 'ident' && op.v === 'matches') {
      p++;
      const s = peek();
      if (s.k !== 'str') fail('DQ-RULE-SYNTAX', `matches takes a "pattern" string, not ${describe(s)}`);
      if (typeOf(l) !== 'text' && typeOf(l) !== 'date') fail('DQ-RULE-TYPE', `matches applies to text, not ${typeOf(l)}`, startTok);
      p++;
      return { t: 'matches', v: l, re: compilePattern(s.v, pos(s)), source: s.v };
    }
    if (op.k === 'ident' && op.v === 'between') {
      p++;
      if (typeOf(l) !== 'number') fail('DQ-RULE-TYPE', `between applies to numbers, not ${typeOf(l)}`, startTok);
      const lo = peek();
      if (lo.k !== 'num') fail('DQ-RULE-SYNTAX', `expected a number but found ${describe(lo)}`);
      p++;
      expect('ident', 'and');
      const hi = peek();
      if (hi.k !== 'num') fail('DQ-RULE-SYNTAX', `expected a number but found ${describe(hi)}`);
      p++;
      if (Number(hi.v) < Number(lo.v)) fail('DQ-RULE-SYNTAX', `the range ${lo.v}..${hi.v} is empty`, hi);
      return { t: 'between', v: l, lo: Number(lo.v), hi: Number(hi.v) };
    }
    return fail(
      'DQ-RULE-SYNTAX',
      `expected a comparison (== != < <= > >=), in, matches or between after the value, but found ${describe(op)}`,
      op,
    );
  }

  function negation(): Node {
    if (isWord('not')) {
      p++;
      return { t: 'not', e: negation() };
    }
    if (++depth > MAX_DEPTH) fail('DQ-RULE-SYNTAX', `nested deeper than ${MAX_DEPTH} levels`);
    const c = condition();
    depth--;
    return c;
  }
  function conjunction(): Node {
    let l = negation();
    while (isWord('and')) {
      p++;
      l = { t: 'and', l, r: negation() };
    }
    return l;
  }
  function disjunction(): Node {
    let l = conjunction();
    while (isWord('or')) {
      p++;
      l = { t: 'or', l, r: conjunction() };
    }
    return l;
  }
  function implication(): Node {
    const l = disjunction();
    if (isWord('implies')) {
      p++;
      return { t: 'implies', l, r: disjunction() };
    }
    return l;
  }

  if (toks[0].k === 'end') fail('DQ-RULE-SYNTAX', 'the definition is empty');
  const tree = implication();
  if (peek().k !== 'end') fail('DQ-RULE-SYNTAX', `unexpected ${describe(peek())} after a complete condition`);
  return tree;
}

/** The facts a tree names (fields, including those inside functions). */
export function factsOf(n: Node): string[] {
  const out = new Set<string>();
  const op = (o: Operand) => {
    if (o.t === 'fact') out.add(o.name);
    if (o.t === 'daysSince' || o.t === 'mpanDno') out.add(o.field);
  };
  const walk = (x: Node) => {
    switch (x.t) {
      case 'and':
      case 'or':
      case 'implies':
        walk(x.l);
        walk(x.r);
        break;
      case 'not':
        walk(x.e);
        break;
      case 'cmp':
        op(x.l);
        op(x.r);
        break;
      case 'in':
      case 'matches':
      case 'between':
        op(x.v);
        break;
      case 'required':
        out.add(x.field);
        break;
      default:
        break;
    }
  };
  walk(n);
  return [...out];
}

/**
 * The staleness form `daysSince(F) <= N` (or `< N`): the only shape a staleness rule may take, so
 * that the periodic job can select the candidates by age in SQL.
 */
export function stalenessOf(n: Node): { field: (typeof STALENESS_FACTS)[number]; days: number } | undefined {
  if (n.t !== 'cmp' || (n.op !== '<=' && n.op !== '<') || n.l.t !== 'daysSince' || n.r.t !== 'lit' || typeof n.r.value !== 'number')
    return undefined;
  if (!(STALENESS_FACTS as readonly string[]).includes(n.l.field) || n.r.value < 0) return undefined;
  return { field: n.l.field as (typeof STALENESS_FACTS)[number], days: n.op === '<' ? n.r.value - 1 : n.r.value };
}

/** Facts of one asset: flat, dotted names as FACT_TYPES lists them. Absent facts are null. */
export type Facts = Record<string, Value | undefined>;

const DAY_MS = 86_400_000;
const present = (v: Value | undefined) => v !== null && v !== undefined && v !== '';

function value(o: Operand, f: Facts, now: Date, mpanDno: (mpan: string) => string | undefined): Value {
  switch (o.t) {
    case 'fact':
      return f[o.name] ?? null;
    case 'lit':
      return o.value;
    case 'today':
      return now.toISOString().slice(0, 10);
    case 'daysSince': {
      const v = f[o.field];
      if (!present(v)) return null;
      const then = Date.parse(String(v));
      return Number.isNaN(then) ? null : Math.floor((now.getTime() - then) / DAY_MS);
    }
    case 'mpanDno': {
      const v = f[o.field];
      return present(v) ? (mpanDno(String(v).slice(0, 2)) ?? null) : null;
    }
  }
}

/** Dates compare as their first ten characters, so a timestamp and a date compare by day. */
function comparable(v: Value, other: Operand, self: Operand): Value {
  const isDate = (o: Operand) => (o.t === 'fact' && o.type === 'date') || o.t === 'today';
  return typeof v === 'string' && (isDate(self) || isDate(other)) ? v.slice(0, 10) : v;
}

/**
 * Whether the asset passes. Three-valued (Kleene) logic: a check on an absent value is unknown,
 * `and`/`or`/`not`/`implies` combine unknowns as SQL does, and only a definite false fails. So
 * `generationCapacityKw <= ratedCapacityKw` holds for an asset without a generation capacity, and
 * `generationCapacityKw > 0 implies required(exportMpan)` does too. `required` and comparisons
 * with the literal `null` are never unknown.
 */
type K = boolean | null;
const kNot = (x: K): K => (x === null ? null : !x);
const kAnd = (a: K, b: K): K => (a === false || b === false ? false : a === null || b === null ? null : true);
const kOr = (a: K, b: K): K => (a === true || b === true ? true : a === null || b === null ? null : false);

function ev(x: Node, f: Facts, now: Date, mpanDno: (distributorId: string) => string | undefined): K {
  switch (x.t) {
    case 'and':
      return kAnd(ev(x.l, f, now, mpanDno), ev(x.r, f, now, mpanDno));
    case 'or':
      return kOr(ev(x.l, f, now, mpanDno), ev(x.r, f, now, mpanDno));
    case 'implies':
      return kOr(kNot(ev(x.l, f, now, mpanDno)), ev(x.r, f, now, mpanDno));
    case 'not':
      return kNot(ev(x.e, f, now, mpanDno));
    case 'bool':
      return x.value;
    case 'required':
      return present(f[x.field]);
    case 'cmp': {
      const l = comparable(value(x.l, f, now, mpanDno), x.r, x.l);
      const r = comparable(value(x.r, f, now, mpanDno), x.l, x.r);
      if ((x.l.t === 'lit' && x.l.value === null) || (x.r.t === 'lit' && x.r.value === null)) {
        const bothNull = l === null && r === null;
        return x.op === '==' ? bothNull : x.op === '!=' ? !bothNull : null;
      }
      if (l === null || r === null) return null;
      switch (x.op) {
        case '==':
          return l === r;
        case '!=':
          return l !== r;
        case '<':
          return l < r;
        case '<=':
          return l <= r;
        case '>':
          return l > r;
        case '>=':
          return l >= r;
      }
      return null;
    }
    case 'in': {
      const v = value(x.v, f, now, mpanDno);
      return v === null ? null : x.list.includes(v);
    }
    case 'matches': {
      const v = value(x.v, f, now, mpanDno);
      return v === null ? null : x.re.test(String(v));
    }
    case 'between': {
      const v = value(x.v, f, now, mpanDno);
      return v === null ? null : typeof v === 'number' && v >= x.lo && v <= x.hi;
    }
  }
}

export function evaluate(n: Node, f: Facts, now: Date, mpanDno: (distributorId: string) => string | undefined): boolean {
  return ev(n, f, now, mpanDno) !== false;
}
