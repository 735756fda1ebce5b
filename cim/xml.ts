/** XML 1.0 escaping for the writer. Characters XML cannot carry are dropped. */
const INVALID =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const NEEDS_TEXT = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

export function escapeText(s: string): string {
  if (!NEEDS_TEXT.test(s)) return s;
  return s.replace(INVALID, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

export function escapeAttr(s: string): string {
  return s
    .replace(INVALID, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** Decode the five predefined entities and character references (the only ones the parser allows). */
export function decodeXml(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
    }
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e];
  });
}

/** Cut a string to at most n code points. */
export function cut(s: string, n: number): string {
  const cps = [...s];
  return cps.length <= n ? s : cps.slice(0, n).join('');
}

export const codePoints = (s: string) => [...s].length;

const isNameStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/**
 * The offset of the first start tag nested deeper than maxDepth, or -1: one pass over the text,
 * skipping comments and CDATA, so no parser recursion ever sees a deep document. Hand-written
 * because the regular expression it replaces backtracked cubically on `<a<a<a…` (seconds per KB).
 */
export function depthExceededAt(text: string, maxDepth: number): number {
  let depth = 0;
  let i = text.indexOf('<');
  while (i !== -1 && i < text.length - 1) {
    let end: number;
    if (text.startsWith('<!--', i)) end = endOf(text, '-->', i + 4);
    else if (text.startsWith('<![CDATA[', i)) end = endOf(text, ']]>', i + 9);
    else if (text.charCodeAt(i + 1) === 47 && isNameStart(text.charCodeAt(i + 2))) {
      end = text.indexOf('>', i + 2);
      if (end !== -1) depth--;
    } else if (isNameStart(text.charCodeAt(i + 1))) {
      end = text.indexOf('>', i + 1);
      // A tag's text runs to the first '>' (as in the parser); '/>' closes it at once.
      if (end !== -1 && text.charCodeAt(end - 1) !== 47 && ++depth > maxDepth) return i;
    } else end = i;
    // No closing '>' (or comment/CDATA end) anywhere after: nothing later can open an element.
    if (end === -1) return -1;
    i = text.indexOf('<', end + 1);
  }
  return -1;
}

function endOf(text: string, marker: string, from: number): number {
  const at = text.indexOf(marker, from);
  return at === -1 ? -1 : at + marker.length - 1;
}
