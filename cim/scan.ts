/**
 * A scanner for the XML that CIM RDF/XML is: elements, attributes, text, comments, CDATA and
 * processing instructions; no DOCTYPE (refused), no entities beyond the predefined five and
 * character references. It reads one element at a time from a window of the document, so a
 * document of any size is read with only a window of its text and one element's nodes alive.
 * It checks what makes XML well-formed as it goes (names, quoting, nesting, matching end tags,
 * `<` in attribute values, `&` that is not a reference, duplicate attributes, depth) and reports
 * the first fault as an offset; the parser turns that into a line and column.
 */

/** An element: its tag as written, its attributes as [name, value, ...] (values undecoded), its child elements and its text. */
export interface XNode {
  tag: string;
  attrs: string[] | undefined;
  kids: XNode[] | undefined;
  /** The text directly inside, each run trimmed, undecoded (CDATA sections are escaped here so decoding gives them back). */
  text: string;
  /** Offset of the element's `<` in the document. */
  start: number;
}

export type ScanFault = 'MALFORMED' | 'DEEP' | 'DOCTYPE';

export class ScanError extends Error {
  constructor(
    readonly fault: ScanFault,
    /** Offset in the document. */
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown inside the scanner when the window ends before the element does; the caller reads on and starts the element again. */
export const MORE = Symbol('more');

const isSpace = (c: number) => c === 32 || c === 10 || c === 9 || c === 13;
/** A character that ends a name. */
const endsName = (c: number) => isSpace(c) || c === 62 || c === 47 || c === 61 || c === 60 || c === 34 || c === 39;
const badNameStart = (c: number) => (c >= 48 && c <= 57) || c === 45 || c === 46;
const BAD_AMP = /&(?!(?:#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_:][\w.:-]*);)/;

const escapeCdata = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * One window of the document: `s` starts at document offset `base`. Each method starts at `pos`
 * and leaves it after what it read, or throws MORE (the window ends first) or a ScanError.
 */
export class Scanner {
  s = '';
  base = 0;
  pos = 0;
  constructor(readonly maxDepth: number) {}

  private fail(fault: ScanFault, at: number, message: string): never {
    throw new ScanError(fault, this.base + at, message);
  }

  /** Past whitespace; false when the window ends. */
  skipSpace(): boolean {
    const s = this.s;
    let i = this.pos;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    this.pos = i;
    return i < s.length;
  }

  /** At `<!--`, `<?` or `<!`: skips a comment or processing instruction (DOCTYPE refused); false when something else is here. */
  skipMisc(): boolean {
    const s = this.s;
    const i = this.pos;
    if (s.charCodeAt(i) !== 60) return false;
    const c = s.charCodeAt(i + 1);
    if (c === 63) {
      const e = s.indexOf('?>', i + 2);
      if (e === -1) throw MORE;
      this.pos = e + 2;
      return true;
    }
    if (c !== 33) return false;
    if (s.length < i + 4) throw MORE;
    if (s.startsWith('<!--', i)) {
      const e = s.indexOf('-->', i + 4);
      if (e === -1) throw MORE;
      this.pos = e + 3;
      return true;
    }
    if (s.length < i + 9) throw MORE;
    if (s.startsWith('<!DOCTYPE', i) || s.startsWith('<!doctype', i)) this.fail('DOCTYPE', i, 'DOCTYPE');
    if (s.startsWith('<![CDATA[', i)) return false;
    this.fail('MALFORMED', i, `'${s.slice(i, i + 9)}' is not a comment, CDATA section or element.`);
  }

  /**
   * A start tag at `pos` (`<` then a name): its node (no children yet) and whether it closed itself.
   * `pos` is left after the tag's `>`.
   */
  startTag(): { node: XNode; empty: boolean } {
    const s = this.s;
    const start = this.pos;
    let i = start + 1;
    if (i >= s.length) throw MORE;
    if (endsName(s.charCodeAt(i)) || badNameStart(s.charCodeAt(i)))
      this.fail('MALFORMED', start, `Invalid tag name at '${s.slice(start, start + 20)}'.`);
    while (i < s.length && !endsName(s.charCodeAt(i))) i++;
    if (i >= s.length) throw MORE;
    const tag = s.slice(start + 1, i);
    let attrs: string[] | undefined;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 62) return { node: { tag, attrs, kids: undefined, text: '', start: this.base + start }, empty: this.at(i + 1) };
      if (c === 47) {
        if (i + 1 >= s.length) throw MORE;
        if (s.charCodeAt(i + 1) !== 62) this.fail('MALFORMED', i, `Tag '${tag}': '/' not followed by '>'.`);
        return { node: { tag, attrs, kids: undefined, text: '', start: this.base + start }, empty: this.at(i + 2, true) };
      }
      if (!isSpace(c)) this.fail('MALFORMED', i, `Tag '${tag}': attributes must be separated by whitespace.`);
      while (i < s.length && isSpace(s.charCodeAt(i))) i++;
      if (i >= s.length) throw MORE;
      const a = s.charCodeAt(i);
      if (a === 62 || a === 47) continue;
      if (endsName(a) || badNameStart(a)) this.fail('MALFORMED', i, `Tag '${tag}': an attribute has no valid name.`);
      const nameAt = i;
      while (i < s.length && !endsName(s.charCodeAt(i))) i++;
      const name = s.slice(nameAt, i);
      while (i < s.length && isSpace(s.charCodeAt(i))) i++;
      if (i >= s.length) throw MORE;
      if (s.charCodeAt(i) !== 61) this.fail('MALFORMED', nameAt, `Attribute '${name}' has no value.`);
      i++;
      while (i < s.length && isSpace(s.charCodeAt(i))) i++;
      if (i >= s.length) throw MORE;
      const q = s.charCodeAt(i);
      if (q !== 34 && q !== 39) this.fail('MALFORMED', i, `Attribute '${name}': the value is not quoted.`);
      const e = s.indexOf(q === 34 ? '"' : "'", i + 1);
      if (e === -1) {
        const lt = s.indexOf('<', i + 1);
        if (lt !== -1) this.fail('MALFORMED', lt, `Attribute '${name}': '<' in a value.`);
        throw MORE;
      }
      const value = s.slice(i + 1, e);
      if (value.includes('<')) this.fail('MALFORMED', i + 1 + value.indexOf('<'), `Attribute '${name}': '<' in a value.`);
      if (value.includes('&') && BAD_AMP.test(value))
        this.fail('MALFORMED', i + 1 + value.indexOf('&'), `Attribute '${name}': '&' is not a reference.`);
      if (attrs) {
        for (let k = 0; k < attrs.length; k += 2) if (attrs[k] === name) this.fail('MALFORMED', nameAt, `Attribute '${name}' is repeated.`);
        attrs.push(name, value);
      } else attrs = [name, value];
      i = e + 1;
      if (i >= s.length) throw MORE;
    }
  }

  private at(pos: number, empty = false): boolean {
    this.pos = pos;
    return empty;
  }

  /** A whole element at `pos` with everything inside it; `depth` is its own depth (the root's is 1). */
  element(depth: number): XNode {
    const start = this.pos;
    if (depth > this.maxDepth) this.fail('DEEP', start, 'deep');
    const { node, empty } = this.startTag();
    if (empty) return node;
    const s = this.s;
    let text = '';
    let i = this.pos;
    for (;;) {
      const lt = s.indexOf('<', i);
      if (lt === -1) throw MORE;
      if (lt > i) {
        let a = i;
        let b = lt;
        while (a < b && isSpace(s.charCodeAt(a))) a++;
        while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
        if (a < b) {
          const run = s.slice(a, b);
          if (run.includes('&') && BAD_AMP.test(run)) this.fail('MALFORMED', a + run.indexOf('&'), `'&' is not a reference.`);
          text = text ? text + run : run;
        }
      }
      if (lt + 1 >= s.length) throw MORE;
      const c = s.charCodeAt(lt + 1);
      if (c === 47) {
        const e = s.indexOf('>', lt + 2);
        if (e === -1) throw MORE;
        let b = e;
        while (b > lt + 2 && isSpace(s.charCodeAt(b - 1))) b--;
        const name = s.slice(lt + 2, b);
        if (name !== node.tag) this.fail('MALFORMED', lt, `Expected closing tag '${node.tag}' instead of closing tag '${name}'.`);
        this.pos = e + 1;
        node.text = text;
        return node;
      }
      this.pos = lt;
      if (c === 33 || c === 63) {
        if (this.skipMisc()) {
          i = this.pos;
          continue;
        }
        // CDATA: its content is text, escaped so that decoding gives it back.
        const e = s.indexOf(']]>', lt + 9);
        if (e === -1) throw MORE;
        const run = s.slice(lt + 9, e).trim();
        if (run) text += escapeCdata(run);
        i = e + 3;
        continue;
      }
      const kid = this.element(depth + 1);
      if (node.kids) node.kids.push(kid);
      else node.kids = [kid];
      i = this.pos;
    }
  }

  /** An end tag `</name>` at `pos`; returns the name. */
  endTag(): string {
    const s = this.s;
    const e = s.indexOf('>', this.pos + 2);
    if (e === -1) throw MORE;
    let b = e;
    while (b > this.pos + 2 && isSpace(s.charCodeAt(b - 1))) b--;
    const name = s.slice(this.pos + 2, b);
    this.pos = e + 1;
    return name;
  }
}
