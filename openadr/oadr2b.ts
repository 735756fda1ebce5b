import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { decodeXml, depthExceededAt, escapeText } from '../cim/index';
import { OADR2B_ID_RE } from './ids';

/**
 * OpenADR 2.0b registration documents: the VTN's `oadrCreatedPartyRegistration` (its answer, carrying
 * the registrationID, venID and vtnID the register records) and the VEN's
 * `oadrCreatePartyRegistration` (its request, carrying oadrVenName; recorded when it carries the
 * IDs its VTN assigned). Import reads either (bare, or in oadrPayload/oadrSignedObject); export
 * writes the VTN's answer back, so a 2.0b registration is recorded as the VTN issued it. Values the
 * 2.0b schema constrains (responseCode, oadrProfileName, oadrTransportName) are checked both ways,
 * and a non-2xx answer (the VTN's refusal) is refused. XML is untrusted, hardened as the CIM
 * importer is: UTF-8 only, no DOCTYPE (so no entity expansion and no external entities), a size
 * limit before parsing and a depth limit during it.
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
  | 'OPENADR-XML-FIELD'
  | 'OPENADR-XML-REFUSED';

/** A document the importer refuses, with a stable code. */
export class Oadr2bError extends Error {
  constructor(
    readonly code: Oadr2bErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What the 2.0b schema allows (oadr_20b.xsd: oadrProfileType, oadrTransportType; oadr_ei_20b.xsd: ResponseCodeType). */
export const OADR2B_PROFILES = ['2.0a', '2.0b'] as const;
export const OADR2B_TRANSPORTS = ['simpleHttp', 'xmpp'] as const;
export const RESPONSE_CODE_RE = /^[0-9]{3}$/;
/** A response code of success (2xx): the VTN accepted the registration. */
export const isSuccessCode = (code: string) => /^2[0-9]{2}$/.test(code);

/** What an oadrCreatedPartyRegistration (the VTN's answer) says. */
export interface CreatedPartyRegistration {
  registrationId: string;
  venId: string;
  vtnId: string;
  requestId: string;
  responseCode: string;
  responseDescription?: string;
  profiles: { name: string; transports: string[] }[];
  /** oadrRequestedOadrPollFreq as an ISO 8601 duration, e.g. PT10S. */
  pollFreq?: string;
}

/**
 * What an oadrCreatePartyRegistration (the VEN's request) says. The register records one only when
 * it carries the IDs its VTN assigned (a re-registration: ei:registrationID and ei:venID); a first
 * request has none yet, and the VTN's answer is the document to send.
 */
export interface CreatePartyRegistration {
  requestId: string;
  registrationId: string;
  venId: string;
  profileName: string;
  transportName: string;
  transportAddress?: string;
  reportOnly: boolean;
  xmlSignature: boolean;
  venName?: string;
  httpPullModel?: boolean;
}

export type Oadr2bDocument =
  | { kind: 'oadrCreatedPartyRegistration'; created: CreatedPartyRegistration }
  | { kind: 'oadrCreatePartyRegistration'; request: CreatePartyRegistration };

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

const ROOTS = ['oadrCreatedPartyRegistration', 'oadrCreatePartyRegistration'] as const;

/** Find the registration element: the root, or inside oadrPayload/oadrSignedObject. */
function registrationElement(tree: Node[]): El {
  const rootNode = tree.find((n) => tagOf(n));
  if (!rootNode) throw new Oadr2bError('OPENADR-XML-NOT-REGISTRATION', 'The document has no root element.');
  let e: El | undefined = element(rootNode, {});
  if (e.ns === OADR_NS && e.local === 'oadrPayload') {
    const signed = child(e, OADR_NS, 'oadrSignedObject');
    e = signed ? children(signed).find((c) => c.ns === OADR_NS && (ROOTS as readonly string[]).includes(c.local)) : undefined;
  }
  if (!e || e.ns !== OADR_NS || !(ROOTS as readonly string[]).includes(e.local)) {
    throw new Oadr2bError(
      'OPENADR-XML-NOT-REGISTRATION',
      `The document is not an oadrCreatedPartyRegistration or oadrCreatePartyRegistration in the OpenADR 2.0b namespace (${OADR_NS}).`,
    );
  }
  return e;
}

const field = (message: string) => new Oadr2bError('OPENADR-XML-FIELD', message);

/** An ID element (ei:registrationID, ei:venID, ei:vtnID, pyld:requestID) as the register takes it. */
function idOf(parent: El | undefined, ns: string, local: string, what: string): string {
  const v = textOf(child(parent, ns, local))?.trim();
  if (!v) throw field(`${local} is missing: ${what}.`);
  if (!OADR2B_ID_RE.test(v)) throw field(`${local} must be 1–128 visible ASCII characters without spaces.`);
  return v;
}

/** One of the values the 2.0b schema enumerates, or a refusal naming them. */
function oneOf<T extends string>(v: string | undefined, allowed: readonly T[], what: string): T {
  const t = (v ?? '').trim();
  if (!(allowed as readonly string[]).includes(t))
    throw field(`${what} ${JSON.stringify(t)} is not one the 2.0b schema allows (${allowed.join(', ')}).`);
  return t as T;
}

function booleanOf(v: string | undefined, what: string): boolean {
  const t = (v ?? '').trim();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw field(`${what} must be true or false.`);
}

const named = (e: El | undefined, local: string) => (e ? children(e).filter((c) => c.ns === OADR_NS && c.local === local) : []);

function created(reg: El): CreatedPartyRegistration {
  const response = child(reg, EI_NS, 'eiResponse');
  if (!response) throw field('ei:eiResponse is missing: the VTN’s answer says whether it accepted the registration.');
  const responseCode = textOf(child(response, EI_NS, 'responseCode'))?.trim() ?? '';
  if (!RESPONSE_CODE_RE.test(responseCode))
    throw field(`ei:responseCode ${JSON.stringify(responseCode)} is not three digits (ResponseCodeType).`);
  const responseDescription = textOf(child(response, EI_NS, 'responseDescription'))?.slice(0, 256);
  if (!isSuccessCode(responseCode))
    throw new Oadr2bError(
      'OPENADR-XML-REFUSED',
      `The VTN refused this registration (responseCode ${responseCode}${responseDescription ? `: ${responseDescription}` : ''}); nothing is recorded.`,
    );
  const requestId = idOf(response, PYLD_NS, 'requestID', 'eiResponse carries the requestID it answers');
  const profiles = named(child(reg, OADR_NS, 'oadrProfiles'), 'oadrProfile').map((p) => ({
    name: oneOf(textOf(child(p, OADR_NS, 'oadrProfileName')), OADR2B_PROFILES, 'oadrProfileName'),
    transports: named(child(p, OADR_NS, 'oadrTransports'), 'oadrTransport').map((t) =>
      oneOf(textOf(child(t, OADR_NS, 'oadrTransportName')), OADR2B_TRANSPORTS, 'oadrTransportName'),
    ),
  }));
  if (!profiles.length) throw field('oadr:oadrProfiles must hold at least one oadrProfile.');
  if (profiles.some((p) => !p.transports.length)) throw field('Each oadrProfile must name at least one oadrTransport.');
  if (profiles.length > 10 || profiles.some((p) => p.transports.length > 10)) throw field('At most 10 profiles of 10 transports each.');
  const poll = textOf(child(child(reg, OADR_NS, 'oadrRequestedOadrPollFreq'), XCAL_NS, 'duration'))?.trim();
  const what = 'a created registration carries registrationID, venID and vtnID';
  return {
    registrationId: idOf(reg, EI_NS, 'registrationID', what),
    venId: idOf(reg, EI_NS, 'venID', what),
    vtnId: idOf(reg, EI_NS, 'vtnID', what),
    requestId,
    responseCode,
    responseDescription: responseDescription || undefined,
    profiles,
    pollFreq: poll && /^-?P[0-9YMWDTHS.]+$/.test(poll) ? poll : undefined,
  };
}

function request(reg: El): CreatePartyRegistration {
  const what =
    'the register records a VEN’s request only when it carries the IDs its VTN assigned (a re-registration); send the VTN’s oadrCreatedPartyRegistration instead';
  const opt = (local: string) => textOf(child(reg, OADR_NS, local));
  const pull = opt('oadrHttpPullModel');
  const venName = opt('oadrVenName')?.trim();
  const address = opt('oadrTransportAddress')?.trim();
  return {
    requestId: idOf(reg, PYLD_NS, 'requestID', 'a request carries its requestID'),
    registrationId: idOf(reg, EI_NS, 'registrationID', what),
    venId: idOf(reg, EI_NS, 'venID', what),
    profileName: oneOf(opt('oadrProfileName'), OADR2B_PROFILES, 'oadrProfileName'),
    transportName: oneOf(opt('oadrTransportName'), OADR2B_TRANSPORTS, 'oadrTransportName'),
    transportAddress: address ? address.slice(0, 2000) : undefined,
    reportOnly: booleanOf(opt('oadrReportOnly'), 'oadrReportOnly'),
    xmlSignature: booleanOf(opt('oadrXmlSignature'), 'oadrXmlSignature'),
    venName: venName || undefined,
    httpPullModel: pull === undefined ? undefined : booleanOf(pull, 'oadrHttpPullModel'),
  };
}

/** Read an oadrCreatedPartyRegistration or an oadrCreatePartyRegistration. Throws Oadr2bError for a document it refuses. */
export function parseRegistrationDocument(input: string | Uint8Array): Oadr2bDocument {
  const reg = registrationElement(parseTree(text(input)));
  return reg.local === 'oadrCreatedPartyRegistration'
    ? { kind: 'oadrCreatedPartyRegistration', created: created(reg) }
    : { kind: 'oadrCreatePartyRegistration', request: request(reg) };
}

/** Read an oadrCreatedPartyRegistration (the VTN's answer) only. */
export function parseCreatedPartyRegistration(input: string | Uint8Array): CreatedPartyRegistration {
  const doc = parseRegistrationDocument(input);
  if (doc.kind !== 'oadrCreatedPartyRegistration')
    throw new Oadr2bError('OPENADR-XML-NOT-REGISTRATION', 'The document is the VEN’s oadrCreatePartyRegistration, not the VTN’s answer.');
  return doc.created;
}

/**
 * Write an oadrCreatedPartyRegistration (in oadrPayload/oadrSignedObject, as a VTN sends it) from
 * what the VTN issued. Every value is one the 2.0b schema allows and none is invented: the caller
 * exports only a registration recorded from the VTN's answer (responseCode, requestID, profiles).
 */
export function writeCreatedPartyRegistration(r: CreatedPartyRegistration): string {
  const t = escapeText;
  if (!RESPONSE_CODE_RE.test(r.responseCode)) throw new Error(`responseCode ${r.responseCode} is not three digits`);
  if (!r.profiles.length) throw new Error('a created registration names at least one profile');
  for (const p of r.profiles) {
    oneOf(p.name, OADR2B_PROFILES, 'oadrProfileName');
    if (!p.transports.length) throw new Error(`profile ${p.name} names no transport`);
    for (const x of p.transports) oneOf(x, OADR2B_TRANSPORTS, 'oadrTransportName');
  }
  const profiles = r.profiles
    .map(
      (p) =>
        `      <oadr:oadrProfile>\n        <oadr:oadrProfileName>${t(p.name)}</oadr:oadrProfileName>\n        <oadr:oadrTransports>\n${p.transports
          .map((x) => `          <oadr:oadrTransport><oadr:oadrTransportName>${t(x)}</oadr:oadrTransportName></oadr:oadrTransport>\n`)
          .join('')}        </oadr:oadrTransports>\n      </oadr:oadrProfile>\n`,
    )
    .join('');
  const description = r.responseDescription ? `      <ei:responseDescription>${t(r.responseDescription)}</ei:responseDescription>\n` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<oadr:oadrPayload xmlns:oadr="${OADR_NS}" xmlns:ei="${EI_NS}" xmlns:pyld="${PYLD_NS}" xmlns:xcal="${XCAL_NS}">
 <oadr:oadrSignedObject>
  <oadr:oadrCreatedPartyRegistration ei:schemaVersion="2.0b">
    <ei:eiResponse>
      <ei:responseCode>${t(r.responseCode)}</ei:responseCode>
${description}      <pyld:requestID>${t(r.requestId)}</pyld:requestID>
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
