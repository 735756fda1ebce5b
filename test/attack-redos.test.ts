import { describe, expect, it } from 'vitest';
import { CimParseError, decodeXml, parseCimXml } from '../cim/index';
import { normaliseBaseUrl, parseCreatedPartyRegistration } from '../openadr/index';
import { MAX_CSV_FIELDS, csvToInputs, parseCsv } from '../src/assets/csv';
import { Problem } from '../src/http/problem';
import { EMAIL_RE, checkMpanCore, isEic, isLei, isUkPostcode, isUkVat, normaliseEvseId } from '../src/catalogue/identifiers';
import { urlRefusal } from '../src/webhooks/subscriptions';
import { DefinitionError, parseDefinition } from '../src/quality/language';

/**
 * No request input can make a parser or a check backtrack without end: for each input-facing
 * function, an adversarial input of n and of 8n characters is timed and the time must grow about
 * linearly. This is the one place where the suite measures time, because the bound is the point.
 *
 * A sample is `reps` calls, with reps chosen so one sample at n takes at least MIN_SAMPLE_MS (the
 * timer's resolution and JIT warm-up are then small beside it); SAMPLES samples are taken at each
 * size and the fastest are compared, since a busy machine or a garbage collection only ever adds
 * time. Linear code gives a ratio near 8; the 40x threshold leaves room for a noisy shared machine
 * and for V8's collector, whose work for a parser that builds many small objects grows faster than
 * the input (31.5 read for CSV rows on a loaded 2-core machine), while a quadratic function gives
 * about 64 and a cubic one about 512. A ratio over the threshold is
 * measured once more, and the lower of the two counts: noise seldom strikes twice in the same place,
 * a quadratic function gives its 64 every time.
 */

const SAMPLES = 5;
const MIN_SAMPLE_MS = 15;
const MAX_RATIO = 40;

function sampleMs(run: () => void, reps: number): number {
  const t = performance.now();
  for (let r = 0; r < reps; r++) run();
  return performance.now() - t;
}

/** Throwing is a fine answer to hostile input; only the time it takes matters here. */
const quietly = (f: (s: string) => unknown, s: string) => () => {
  try {
    f(s);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
  }
};

function growth(
  f: (s: string) => unknown,
  make: (n: number) => string,
  n: number,
): { ratio: number; small: number; large: number; reps: number } {
  const runSmall = quietly(f, make(n));
  const runLarge = quietly(f, make(8 * n));
  let reps = 1;
  // Calibrate until a sample is long enough even once the JIT has optimised the code.
  for (let k = 0; k < 3; k++) while (sampleMs(runSmall, reps) < MIN_SAMPLE_MS && reps < 1 << 20) reps *= 2;
  runLarge();
  const fastest = (ts: number[]) => Math.min(...ts);
  let a = 0;
  let b = 0;
  // Samples of the two sizes alternate, so a busy moment of the machine hits both; if the small
  // samples came out short after all (the JIT got faster since calibrating), again with more calls.
  for (let round = 0; round < 4; round++) {
    const small: number[] = [];
    const large: number[] = [];
    for (let k = 0; k < SAMPLES; k++) {
      small.push(sampleMs(runSmall, reps));
      large.push(sampleMs(runLarge, reps));
    }
    a = fastest(small);
    b = fastest(large);
    if (a >= MIN_SAMPLE_MS / 2) break;
    reps *= 4;
  }
  return { ratio: b / a, small: a, large: b, reps };
}

type Case = [name: string, f: (s: string) => unknown, make: (n: number) => string, n: number];

const repeat = (unit: string, n: number) => unit.repeat(Math.max(1, Math.floor(n / unit.length)));
const RDF = '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/CIM100#">';

const cases: Case[] = [
  // CIM RDF/XML (cim/parser.ts): the depth pre-scan, the encoding declaration, the validator.
  ['CIM: unclosed start tags <a<a<a…', (s) => parseCimXml(s, 'x.xml'), (n) => repeat('<a', n), 4096],
  ['CIM: unclosed attribute values <a b="…', (s) => parseCimXml(s, 'x.xml'), (n) => repeat('<a b="', n), 4096],
  ['CIM: unclosed comments <!--<!--…', (s) => parseCimXml(s, 'x.xml'), (n) => repeat('<!--', n), 4096],
  ['CIM: unclosed CDATA <![CDATA[…', (s) => parseCimXml(s, 'x.xml'), (n) => repeat('<![CDATA[', n), 4096],
  [
    'CIM: encoding declaration with a long run of spaces',
    (s) => parseCimXml(s, 'x.xml'),
    (n) => `<?xml version="1.0" encoding${' '.repeat(n)}`,
    4096,
  ],
  [
    'CIM: many sibling objects',
    (s) => parseCimXml(s, 'x.xml'),
    (n) => `${RDF}${repeat('<cim:BatteryUnit rdf:about="urn:uuid:1"/>', n)}</rdf:RDF>`,
    16384,
  ],
  ['CIM: character references &#x000…', decodeXml, (n) => `&#x${'0'.repeat(n)}`, 16384],
  // OpenADR 2.0b registration XML (openadr/oadr2b.ts), at most 256 KB.
  ['OpenADR 2.0b: unclosed start tags <a<a<a…', parseCreatedPartyRegistration, (n) => repeat('<a', n), 4096],
  ['OpenADR 2.0b: unclosed CDATA', parseCreatedPartyRegistration, (n) => repeat('<![CDATA[', n), 4096],
  // CSV bulk registration (src/assets/csv.ts).
  ['CSV: a quoted field of doubled quotes', parseCsv, (n) => `"${'""'.repeat(n / 2)}"`, 16384],
  // Sizes of 4,096 for what builds a record per line: beside another test file, V8's collector made
  // 131,072 characters of rows take 31 to over 40 times as long as 16,384 (the collector, not the parser).
  ['CSV: a quote after text, far down', parseCsv, (n) => `${'a,a\n'.repeat(n / 4)}a"`, 4096],
  ['CSV: one record of many fields', parseCsv, (n) => `${'a,'.repeat(n / 2)}a`, 16384],
  ['CSV: many empty lines and fields', csvToInputs, (n) => `name,category\n${repeat(',\r\n', n)}`, 4096],
  // Identifier checks (src/catalogue/identifiers.ts, organisation e-mail, OpenADR base URLs, webhook URLs).
  ['e-mail: a@a.a.a.a… without an end', (s) => EMAIL_RE.test(s), (n) => `a@${repeat('a.', n)} `, 4096],
  ['e-mail: @@@…', (s) => EMAIL_RE.test(s), (n) => repeat('a@', n), 4096],
  ['postcode: long letters', isUkPostcode, (n) => repeat('A1', n), 16384],
  ['EVSE ID: GB*ABC*E followed by stars', normaliseEvseId, (n) => `GB*ABC*E1${'*'.repeat(n)}!`, 16384],
  ['VAT, EIC, LEI, MPAN: long digits', (s) => [isUkVat(s), isEic(s), isLei(s), checkMpanCore(s)], (n) => '9'.repeat(n), 16384],
  ['OpenADR base URL: a run of slashes then a letter', normaliseBaseUrl, (n) => `https://vtn.example/${'/'.repeat(n)}a`, 16384],
  ['webhook URL: a run of dots in the host', (s) => urlRefusal(s, { production: true }), (n) => `https://a${'.'.repeat(n)}b/`, 200],
  // The data quality rule language (src/quality/language.ts).
  [
    'rule language: a long chain of conditions',
    parseDefinition,
    (n) => `ratedCapacityKw > 0${' and ratedCapacityKw > 0'.repeat(n / 24)}`,
    8192,
  ],
  ['rule language: a long string literal', parseDefinition, (n) => `name == "${'\\"'.repeat(n / 2)}"`, 8192],
  ['rule language: a long unterminated string', parseDefinition, (n) => `name == "${'a'.repeat(n)}`, 8192],
  ['rule language: a long number', parseDefinition, (n) => `ratedCapacityKw > ${'1.'.repeat(n / 2)}`, 8192],
  ['rule language: a long list', parseDefinition, (n) => `category in [${'"A", '.repeat(n / 5)}"B"]`, 8192],
  ['rule language: many lines then an error', parseDefinition, (n) => `${'\n'.repeat(n)}?`, 8192],
];

describe('no input backtracks without end (time grows linearly with the input)', () => {
  it.each(cases)('%s', (name, f, make, n) => {
    let g = growth(f, make, n);
    if (g.ratio >= MAX_RATIO) {
      const again = growth(f, make, n);
      if (again.ratio < g.ratio) g = again;
    }
    const seen = `${name}: ${g.small.toFixed(2)} ms at ${n} → ${g.large.toFixed(2)} ms at ${8 * n} (${g.reps} call(s) per sample), ratio ${g.ratio.toFixed(1)}`;
    expect(g.ratio, seen).toBeLessThan(MAX_RATIO);
  });

  it('the measure catches a quadratic pattern (the e-mail pattern this replaced)', () => {
    const before = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
    const g = growth(
      (s) => before.test(s),
      (n) => `a@${repeat('a.', n)} `,
      4096,
    );
    expect(g.ratio, `ratio ${g.ratio.toFixed(1)}`).toBeGreaterThan(MAX_RATIO);
  });

  it('a CSV record of more than MAX_CSV_FIELDS fields is refused with its line; one of MAX_CSV_FIELDS is read', () => {
    expect(parseCsv(`${'a,'.repeat(MAX_CSV_FIELDS - 1)}a`)[0]).toHaveLength(MAX_CSV_FIELDS);
    let refused: unknown;
    try {
      parseCsv(`name\n${'a,'.repeat(MAX_CSV_FIELDS)}a`);
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(Problem);
    expect((refused as Problem).code).toBe('REQUEST-MALFORMED-CSV');
    expect((refused as Problem).message).toBe(
      'Line 2: more than 1,000 fields in one record; a row has one field per column of the header.',
    );
  });

  it('the hostile XML is still refused with its rule code, now at once', () => {
    const codeOf = (s: string) => {
      try {
        parseCimXml(s, 'x.xml');
        return 'parsed';
      } catch (e) {
        return (e as CimParseError).code;
      }
    };
    expect(codeOf('<a'.repeat(4096))).toBe('CIM-XML-MALFORMED');
    expect(codeOf(`${RDF}${'<a>'.repeat(40)}${'</a>'.repeat(40)}</rdf:RDF>`)).toBe('CIM-XML-TOO-DEEP');
    // Comments and CDATA do not count as depth; '/>' closes at once.
    expect(
      codeOf(`${RDF}<!--${'<a>'.repeat(40)}--><![CDATA[${'<a>'.repeat(40)}]]>${'<cim:Name rdf:about="urn:uuid:1"/>'.repeat(40)}</rdf:RDF>`),
    ).toBe('parsed');
    expect(() => parseDefinition(`name == "${'a'.repeat(100)}`)).toThrow(DefinitionError);
  });

  it('rule patterns with more than two repetitions (one unanchored) are refused (polynomial backtracking); the shapes rules use pass', () => {
    const codeOf = (pattern: string) => {
      try {
        parseDefinition(`name matches "${pattern}"`);
        return 'ok';
      } catch (e) {
        return (e as DefinitionError).code;
      }
    };
    for (const bad of ['.*.*.*x', '.*.*x', '^.*.*.*x', 'a?a?a?aaa', '\\\\d+\\\\d+\\\\d+!', 'x{1,9}y{1,9}z{2,}'])
      expect(codeOf(bad), bad).toBe('DQ-RULE-PATTERN-INVALID');
    for (const ok of ['^[A-Za-z0-9][A-Za-z0-9-]{3,63}$', '^.{1,20}$', '^[A-Z]{2}-?\\\\d{4,8}$', '^[*+?]{2}(?:ab)*?$', 'a{3}b{2,2}c+'])
      expect(codeOf(ok), ok).toBe('ok');
    // Two repetitions are accepted and work; their time on the longest text a field holds (255
    // characters) is measured in bench/quality.ts, not asserted here.
    const two = parseDefinition('name matches "^.*.*x"') as { t: 'matches'; re: RegExp };
    expect([two.re.test('a'.repeat(255)), two.re.test(`${'a'.repeat(254)}x`)]).toEqual([false, true]);
  });

  it('the e-mail pattern accepts and refuses as before', () => {
    for (const ok of ['a@b.c', 'first.last@example.co.uk', 'a@.b.c', 'a@b..c', 'x+y@d-1.example']) expect(EMAIL_RE.test(ok), ok).toBe(true);
    for (const bad of ['a@b', 'a@b.', 'a@.b', '@b.c', 'a b@c.d', 'a@b@c.d', 'a@b .c']) expect(EMAIL_RE.test(bad), bad).toBe(false);
    const before = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
    for (const s of ['a@b.c', 'a@.b.c', 'a@b..c', 'a@b.', 'a@..', 'a@...', 'a@b.c.', 'a@.', '.@.a.'])
      expect(EMAIL_RE.test(s), s).toBe(before.test(s));
  });
});
