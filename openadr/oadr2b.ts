import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { decodeXml, depthExceededAt, escapeText } from '../cim/index';
import { OADR2B_ID_RE } from './ids';

/**
 * OpenADR 2.0b `oadrCreatedPartyRegistration`: the VTN's answer to a VEN's registration, which
 * carries the registrationID, venID and vtnID the register records. Import reads one (bare, or in
 * oadrPayload/oadrSignedObject) and export writes one, so a 2.0b registration is recorded as the VTN
 * issued it. XML is untrusted, hardened as the CIM importer is: UTF-8 only, no DOCTYPE (so no entity
 * expansion and no external entities), a size limit before parsing and a depth limit during it.
 */

export const OADR_NS = 'http://openadr.org/oadr-2.0b/2012/07';
export const EI_NS = 'http://docs.oasis-open.org/ns/energyinterop/201110';
export const PYLD_NS = 'http://docs.oasis-open.org/ns/energyinterop/201110/payloads';
export const XCAL_NS = 'urn:ietf:params:xml:ns:icalendar-2.0';

export const OADR2B_LIMITS = { maxBytes: 256 * 1024, maxDepth: 16 };

export type Oadr2bErrorCode =
  | 'OPENADR-XML-MALFORMED'
  | 'OPENADR-XML-DOCTYPE'
  | 'OPENADR-XML-TOO-LARGE'
  | 'OPENADR-XML-TOO-DEEP'
  | 'OPENADR-XML-NOT-REGISTRATION'
  | 'OPENADR-XML-FIELD';

/** A document the importer refuses, with a stable code. */
export class Oadr2bError extends Error {
  constructor(
    readonly code: Oadr2bErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What an oadrCreatedPartyRegistration says. */
export interface CreatedPartyRegistration {
  registrationId: string;
  venId: string;
  vtnId: string;
  requestId?: string;
  responseCode?: string;
  responseDescription?: string;
  profiles: { name: string; transports: string[] }[];
  /** oadrRequestedOadrPollFreq as an ISO 8601 duration, e.g. PT10S. */
  pollFreq?: string;
}

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };
type Scope = Record<string, string>;

const tagOf = (n: Node) => Object.keys(n).find((k) => k !== ':@' && k !== '#text');

function text(input: string | Uint8Array): string {
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size > OADR2B_LIMITS.maxBytes)
    throw new Oadr2bError('OPENADR-XML-TOO-LARGE', `The document is ${size} bytes; at most ${OADR2B_LIMITS.maxBytes} are accepted.`);
  let s: string;
  if (typeof input === 'string') s = input;
  else {
    try {
      s = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new Oadr2bError('OPENADR-XML-MALFORMED', 'The document is not UTF-8.');
    }
  }
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  const decl = /^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/.exec(s);
  if (decl && !/^utf-?8$/i.test(decl[1]))
    throw new Oadr2bError('OPENADR-XML-MALFORMED', `The document declares encoding ${decl[1]}; send UTF-8.`);
  return s;
}

function parseTree(s: string): Node[] {
  if (/<!DOCTYPE|<!ENTITY/i.test(s)) throw new Oadr2bError('OPENADR-XML-DOCTYPE', 'DOCTYPE and entity declarations are refused.');
  // One linear pass (cim/xml.ts); the regular expression it replaces backtracked cubically.
  if (depthExceededAt(s, OADR2B_LIMITS.maxDepth) !== -1)
    throw new Oadr2bError('OPENADR-XML-TOO-DEEP', `Elements nest deeper than ${OADR2B_LIMITS.maxDepth} levels.`);
  const valid = XMLValidator.validate(s, { allowBooleanAttributes: false });
  if (valid !== true)
    throw new Oadr2bError(
      'OPENADR-XML-MALFORMED',
      `Not well-formed XML (line ${valid.err.line}, column ${valid.err.col}): ${valid.err.msg}`,
    );
  try {
    return new XMLParser({
      preserveOrder: true,
      ignoreAttributes: false,
      attributeNamePrefix: '',
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: true,
      processEntities: false,
      htmlEntities: false,
      ignoreDeclaration: true,
      ignorePiTags: true,
      maxNestedTags: OADR2B_LIMITS.maxDepth + 2,
    }).parse(s) as Node[];
  } catch (e) {
    throw new Oadr2bError('OPENADR-XML-MALFORMED', `The document cannot be parsed: ${(e as Error).message}`);
  }
}

/** An element with its namespace-resolved name and in-scope declarations. */
interface El {
  ns: string | undefined;
  local: string;
  node: Node;
  tag: string;
  scope: Scope;
}

function element(node: Node, parent: Scope): El {
  const tag = tagOf(node)!;
  let scope = parent;
  for (const [k, v] of Object.entries(node[':@'] ?? {})) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      if (scope === parent) scope = { ...parent };
      scope[k === 'xmlns' ? '' : k.slice(6)] = decodeXml(v);
    }
  }
  const i = tag.indexOf(':');
  return { ns: scope[i < 0 ? '' : tag.slice(0, i)], local: i < 0 ? tag : tag.slice(i + 1), node, tag, scope };
}
const children = (e: El): El[] => ((e.node[e.tag] as Node[]) ?? []).filter((n) => tagOf(n)).map((n) => element(n, e.scope));
const child = (e: El | undefined, ns: string, local: string) => (e ? children(e).find((c) => c.ns === ns && c.local === local) : undefined);
const textOf = (e: El | undefined) =>
  e ? decodeXml(((e.node[e.tag] as Node[]) ?? []).map((n) => (n['#text'] === undefined ? '' : String(n['#text']))).join('')) : undefined;

/** Find the oadrCreatedPartyRegistration: the root, or inside oadrPayload/oadrSignedObject. */
function registrationElement(tree: Node[]): El {
  const rootNode = tree.find((n) => tagOf(n));
  if (!rootNode) throw new Oadr2bError('OPENADR-XML-NOT-REGISTRATION', 'The document has no root element.');
  let e: El | undefined = element(rootNode, {});
  if (e.ns === OADR_NS && e.local === 'oadrPayload')
    e = child(child(e, OADR_NS, 'oadrSignedObject'), OADR_NS, 'oadrCreatedPartyRegistration');
  if (!e || e.ns !== OADR_NS || e.local !== 'oadrCreatedPartyRegistration') {
    throw new Oadr2bError(
      'OPENADR-XML-NOT-REGISTRATION',
      `The document is not an oadrCreatedPartyRegistration in the OpenADR 2.0b namespace (${OADR_NS}).`,
    );
  }
  return e;
}

/** Read an oadrCreatedPartyRegistration. Throws Oadr2bError for a document it refuses. */
export function parseCreatedPartyRegistration(input: string | Uint8Array): CreatedPartyRegistration {
  const reg = registrationElement(parseTree(text(input)));
  const id = (local: 'registrationID' | 'venID' | 'vtnID') => {
    const v = textOf(child(reg, EI_NS, local))?.trim();
    if (!v)
      throw new Oadr2bError('OPENADR-XML-FIELD', `ei:${local} is missing: a created registration carries registrationID, venID and vtnID.`);
    if (!OADR2B_ID_RE.test(v))
      throw new Oadr2bError('OPENADR-XML-FIELD', `ei:${local} must be 1–128 visible ASCII characters without spaces.`);
    return v;
  };
  const response = child(reg, EI_NS, 'eiResponse');
  const named = (e: El | undefined, local: string) => (e ? children(e).filter((c) => c.ns === OADR_NS && c.local === local) : []);
  const profiles = named(child(reg, OADR_NS, 'oadrProfiles'), 'oadrProfile').map((p) => ({
    name: textOf(child(p, OADR_NS, 'oadrProfileName')) ?? '',
    transports: named(child(p, OADR_NS, 'oadrTransports'), 'oadrTransport')
      .map((t) => textOf(child(t, OADR_NS, 'oadrTransportName')) ?? '')
      .filter(Boolean),
  }));
  const poll = textOf(child(child(reg, OADR_NS, 'oadrRequestedOadrPollFreq'), XCAL_NS, 'duration'));
  const opt = (v: string | undefined) => (v ? v.slice(0, 256) : undefined);
  return {
    registrationId: id('registrationID'),
    venId: id('venID'),
    vtnId: id('vtnID'),
    requestId: opt(textOf(child(response, PYLD_NS, 'requestID'))),
    responseCode: opt(textOf(child(response, EI_NS, 'responseCode'))),
    responseDescription: opt(textOf(child(response, EI_NS, 'responseDescription'))),
    profiles: profiles.slice(0, 10),
    pollFreq: poll && /^-?P[0-9YMWDTHS.]+$/.test(poll) ? poll : undefined,
  };
}

/** Write an oadrCreatedPartyRegistration (in oadrPayload/oadrSignedObject, as a VTN sends it). */
export function writeCreatedPartyRegistration(r: CreatedPartyRegistration): string {
  const t = escapeText;
  const profiles = (r.profiles.length ? r.profiles : [{ name: '2.0b', transports: ['simpleHttp'] }])
    .map(
      (p) =>
        `      <oadr:oadrProfile>\n        <oadr:oadrProfileName>${t(p.name)}</oadr:oadrProfileName>\n        <oadr:oadrTransports>\n${p.transports
          .map((x) => `          <oadr:oadrTransport><oadr:oadrTransportName>${t(x)}</oadr:oadrTransportName></oadr:oadrTransport>\n`)
          .join('')}        </oadr:oadrTransports>\n      </oadr:oadrProfile>\n`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<oadr:oadrPayload xmlns:oadr="${OADR_NS}" xmlns:ei="${EI_NS}" xmlns:pyld="${PYLD_NS}" xmlns:xcal="${XCAL_NS}">
 <oadr:oadrSignedObject>
  <oadr:oadrCreatedPartyRegistration ei:schemaVersion="2.0b">
    <ei:eiResponse>
      <ei:responseCode>${t(r.responseCode ?? '200')}</ei:responseCode>
      <ei:responseDescription>${t(r.responseDescription ?? 'OK')}</ei:responseDescription>
      <pyld:requestID>${t(r.requestId ?? r.registrationId)}</pyld:requestID>
    </ei:eiResponse>
    <ei:registrationID>${t(r.registrationId)}</ei:registrationID>
    <ei:venID>${t(r.venId)}</ei:venID>
    <ei:vtnID>${t(r.vtnId)}</ei:vtnID>
    <oadr:oadrProfiles>
${profiles}    </oadr:oadrProfiles>
${r.pollFreq ? `    <oadr:oadrRequestedOadrPollFreq>\n      <xcal:duration>${t(r.pollFreq)}</xcal:duration>\n    </oadr:oadrRequestedOadrPollFreq>\n` : ''}  </oadr:oadrCreatedPartyRegistration>
 </oadr:oadrSignedObject>
</oadr:oadrPayload>
`;
}
