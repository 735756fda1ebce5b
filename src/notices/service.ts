import { z } from '@hono/zod-openapi';
import { reach } from '../access/permissions';
import type { Principal } from '../access/principal';
import { submissionsAwaitingDecision } from '../assets/submissions';
import type { Ctx } from '../context';
import { disputesAwaitingAnswer, disputesAwaitingReview } from '../disputes/store';
import { Problem } from '../http/problem';
import { credentialsExpiringBy, EXPIRY_WARNING_DAYS } from '../identity/clients';
import { registrationsAwaitingConfirmation } from '../openadr/registrations';
import { getOrganisationRow, organisationsAwaitingApproval } from '../organisations/service';
import { productsOwnedBy, qualificationsEndingBetween } from '../products/store';
import { openFindingsOfFsp } from '../quality/store';
import { SHARE_ENDING_NOTICE_DAYS } from '../sharing/schema';
import { sharesEndingBetween } from '../sharing/store';
import { switchesTakingAssetsFrom } from '../switching/switches';
import { liveUnitIdsOf, unitsAwaitingReassessment } from '../units/store';

/**
 * Notices: what an organisation must act on and what is inconsistent, computed on each read from
 * the records that cause them (in the spirit of the notices of Norway's flexibility register). Nothing
 * is stored and nothing is acknowledged: a notice is there while its cause is, and gone when the
 * cause is resolved. Each kind reads its owner's tables through the owner's own read function.
 */
export const NOTICE_KINDS = [
  'SWITCH_TAKES_ASSET',
  'SUBMISSION_TO_ACCEPT',
  'QUALIFICATION_EXPIRING',
  'REASSESSMENT_REQUIRED',
  'DATA_QUALITY_FINDING',
  'VEN_REGISTRATION_UNCONFIRMED',
  'CLIENT_CREDENTIAL_EXPIRING',
  'DISPUTE_AWAITING_ANSWER',
  'DISPUTE_AWAITING_REVIEW',
  'ORGANISATION_AWAITING_APPROVAL',
  'DATA_SHARE_ENDING',
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];
export const NOTICE_SEVERITIES = ['ERROR', 'WARNING'] as const;
type Severity = (typeof NOTICE_SEVERITIES)[number];
export const NOTICE_RECORD_TYPES = [
  'switch',
  'asset_submission',
  'market_unit',
  'asset',
  'ven_registration',
  'api_client',
  'dispute',
  'organisation',
  'data_share',
] as const;
type RecordType = (typeof NOTICE_RECORD_TYPES)[number];

/** A qualification ending within this many days is a notice to the unit's FSP. */
export const QUALIFICATION_NOTICE_DAYS = 30;
/** At most this many notices of one kind are computed per read; `truncated` says when a kind had more. */
export const NOTICES_PER_KIND = 500;

const RecordRef = z.object({
  type: z.enum(NOTICE_RECORD_TYPES),
  id: z.string(),
  href: z.string().openapi({ description: 'Where the record is read in this API.' }),
});

export const Notice = z
  .object({
    id: z.string().openapi({ description: 'Stable while the cause lasts: the kind and the ID of the record that causes it.' }),
    kind: z.enum(NOTICE_KINDS),
    severity: z.enum(NOTICE_SEVERITIES).openapi({ description: 'ERROR: wrong now or about to be lost; WARNING: to act on.' }),
    organisationId: z.string().openapi({ description: 'The organisation the notice is for.' }),
    record: RecordRef,
    related: z.array(RecordRef).openapi({ description: 'Other records the notice names (the asset of a switch, …).' }),
    summary: z.string(),
    resolution: z.string().openapi({ description: 'What resolves the notice; it disappears once that is done.' }),
    since: z.string().openapi({ description: 'When its cause arose.' }),
    dueAt: z.string().nullable().openapi({ description: 'When the cause takes effect or expires, where it does.' }),
  })
  .openapi('Notice');
export type Notice = z.infer<typeof Notice>;

export const NoticeList = z
  .object({
    organisationId: z.string(),
    asOf: z.string(),
    items: z.array(Notice),
    counts: z.record(z.string(), z.number().int()).openapi({ description: 'Notices per kind after the filters.' }),
    truncated: z.boolean().openapi({ description: `True when a kind had more than ${NOTICES_PER_KIND} notices; the oldest are listed.` }),
  })
  .openapi('NoticeList');

export const NoticeQuery = z.object({
  organisationId: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: 'Whose notices (default the caller’s own organisation; another only for the operator and regulator).' }),
  kind: z.enum(NOTICE_KINDS).optional(),
  severity: z.enum(NOTICE_SEVERITIES).optional(),
  recordType: z.enum(NOTICE_RECORD_TYPES).optional(),
  recordId: z.string().max(120).optional(),
});
export type NoticeQuery = z.infer<typeof NoticeQuery>;

const HREF: Record<RecordType, (id: string) => string> = {
  switch: (id) => `/api/v1/switches/${id}`,
  asset_submission: (id) => `/api/v1/asset-submissions/${id}`,
  market_unit: (id) => `/api/v1/market-units/${id}`,
  asset: (id) => `/api/v1/assets/${id}`,
  ven_registration: (id) => `/api/v1/ven-registrations/${id}`,
  api_client: (id) => `/api/v1/clients/${id}`,
  dispute: (id) => `/api/v1/disputes/${id}`,
  organisation: (id) => `/api/v1/organisations/${id}`,
  data_share: (id) => `/api/v1/data-shares/${id}`,
};
const ref = (type: RecordType, id: string) => ({ type, id, href: HREF[type](id) });
const iso = (v: Date | string) => new Date(v).toISOString();
const DAY = 86_400_000;
const SEVERITY_ORDER: Record<Severity, number> = { ERROR: 0, WARNING: 1 };

/** The organisation whose notices the caller asks for: its own, or (operator, regulator) any. */
async function subject(ctx: Ctx, p: Principal, asked: string | undefined) {
  const id = asked ?? p.organisationId;
  if (id !== p.organisationId && !reach('notices.read', p.roles).all) throw new Problem('ORG-NOT-FOUND', `No organisation ${id}.`);
  const org = await getOrganisationRow(ctx.db, id);
  if (!org) throw new Problem('ORG-NOT-FOUND', `No organisation ${id}.`);
  return org;
}

type Source = (orgId: string, roles: readonly string[], now: Date) => Promise<Omit<Notice, 'organisationId'>[]>;

/** One computation per kind: which records cause it, for whom, and how it is resolved. */
function sources(ctx: Ctx): Record<NoticeKind, Source> {
  const db = ctx.db;
  return {
    SWITCH_TAKES_ASSET: async (org) =>
      (await switchesTakingAssetsFrom(db, org, NOTICES_PER_KIND)).map((s) => ({
        id: `SWITCH_TAKES_ASSET:${s.id}`,
        kind: 'SWITCH_TAKES_ASSET',
        severity: 'WARNING',
        record: ref('switch', s.id),
        related: [ref('asset', s.asset_id)],
        summary: `Asset ${s.asset_id} moves to FSP ${s.gaining_fsp_id} on ${iso(s.effective_at)}, with the consumer's consent.`,
        resolution:
          'Nothing to do if the consumer chose it: the notice goes when the switch takes effect. If the consent is wrong, raise a dispute on the asset before the effective date; a withdrawal by the gaining FSP or a cancellation by the operator ends it too.',
        since: iso(s.requested_at),
        dueAt: iso(s.effective_at),
      })),
    SUBMISSION_TO_ACCEPT: async (org) =>
      (await submissionsAwaitingDecision(db, org, NOTICES_PER_KIND)).map((s) => ({
        id: `SUBMISSION_TO_ACCEPT:${s.id}`,
        kind: 'SUBMISSION_TO_ACCEPT',
        severity: 'WARNING',
        record: ref('asset_submission', s.id),
        related: [],
        summary: `Organisation ${s.submitter_id} submitted an asset for this FSP to control.`,
        resolution: `Accept it (POST /api/v1/asset-submissions/${s.id}/accept, with the consumer's consent) or reject it with a reason (…/reject).`,
        since: iso(s.submitted_at),
        dueAt: null,
      })),
    QUALIFICATION_EXPIRING: async (org, _roles, now) => {
      const units = await liveUnitIdsOf(db, org);
      const until = new Date(now.getTime() + QUALIFICATION_NOTICE_DAYS * DAY).toISOString();
      return (await qualificationsEndingBetween(db, units, now.toISOString(), until, NOTICES_PER_KIND)).map((q) => ({
        id: `QUALIFICATION_EXPIRING:${q.id}`,
        kind: 'QUALIFICATION_EXPIRING',
        severity: 'WARNING',
        record: ref('market_unit', q.market_unit_id),
        related: [],
        summary: `The unit's qualification for ${q.product_id} ends on ${iso(q.valid_to)}.`,
        resolution: `Ask the product's System Operator to re-qualify the unit: a new outcome for ${q.product_id} supersedes this one.`,
        since: iso(q.recorded_at),
        dueAt: iso(q.valid_to),
      }));
    },
    REASSESSMENT_REQUIRED: async (org) => {
      const products = await productsOwnedBy(db, org);
      return (await unitsAwaitingReassessment(db, { fspId: org, products }, NOTICES_PER_KIND)).map((u) => ({
        id: `REASSESSMENT_REQUIRED:${u.id}`,
        kind: 'REASSESSMENT_REQUIRED',
        severity: 'WARNING',
        record: ref('market_unit', u.id),
        related: [],
        summary: `The unit is flagged Re-assessment Required${u.reassessment_reason ? `: ${u.reassessment_reason}` : ''}.`,
        resolution: `The System Operator of ${u.product} records a qualification outcome (POST /api/v1/market-units/${u.id}/qualifications); QUALIFIED clears the flag.`,
        since: iso(u.recorded_at),
        dueAt: null,
      }));
    },
    DATA_QUALITY_FINDING: async (org) =>
      (await openFindingsOfFsp(db, org, ['ERROR', 'WARNING'], NOTICES_PER_KIND)).map((f) => ({
        id: `DATA_QUALITY_FINDING:${f.id}`,
        kind: 'DATA_QUALITY_FINDING',
        severity: f.severity === 'ERROR' ? 'ERROR' : 'WARNING',
        record: ref('asset', f.asset_id),
        related: [],
        summary: `${f.rule_code}: ${f.detail}`,
        resolution: `Correct the asset (PATCH /api/v1/assets/${f.asset_id}) so that rule ${f.rule_code} passes; the finding closes at its next evaluation.`,
        since: iso(f.opened_at),
        dueAt: null,
      })),
    VEN_REGISTRATION_UNCONFIRMED: async (org) =>
      (await registrationsAwaitingConfirmation(db, org, NOTICES_PER_KIND)).map((r) => ({
        id: `VEN_REGISTRATION_UNCONFIRMED:${r.id}`,
        kind: 'VEN_REGISTRATION_UNCONFIRMED',
        severity: 'WARNING',
        record: ref('ven_registration', r.id),
        related: [],
        summary: `Organisation ${r.organisation_id} recorded VEN ${r.ven_id} on VTN ${r.vtn_code}, which this organisation operates.`,
        resolution: `Confirm it (POST /api/v1/ven-registrations/${r.id}/confirm) or reject it with a reason (…/reject?reason=).`,
        since: iso(r.created_at),
        dueAt: null,
      })),
    CLIENT_CREDENTIAL_EXPIRING: async (org, _roles, now) =>
      (await credentialsExpiringBy(db, org, new Date(now.getTime() + EXPIRY_WARNING_DAYS * DAY).toISOString())).map((c) => {
        const expired = new Date(c.credential_expires_at) <= now;
        return {
          id: `CLIENT_CREDENTIAL_EXPIRING:${c.client_id}`,
          kind: 'CLIENT_CREDENTIAL_EXPIRING',
          severity: expired ? 'ERROR' : 'WARNING',
          record: ref('api_client', c.client_id),
          related: [],
          summary: `The secret or keys of client ${c.name} ${expired ? 'expired' : 'expire'} on ${iso(c.credential_expires_at)}.`,
          resolution: `Rotate the client's credential (POST /api/v1/clients/${c.client_id}/rotate) or revoke the client.`,
          since: iso(new Date(new Date(c.credential_expires_at).getTime() - EXPIRY_WARNING_DAYS * DAY)),
          dueAt: iso(c.credential_expires_at),
        };
      }),
    DISPUTE_AWAITING_ANSWER: async (org) =>
      (await disputesAwaitingAnswer(db, org, NOTICES_PER_KIND)).map((d) => ({
        id: `DISPUTE_AWAITING_ANSWER:${d.id}`,
        kind: 'DISPUTE_AWAITING_ANSWER',
        severity: 'WARNING',
        record: ref('dispute', d.id),
        related: [ref(d.record_type, d.record_id)],
        summary: `Organisation ${d.raised_by_org} disputes ${d.record_type} ${d.record_id}, a record this organisation is a party to.`,
        resolution: `Answer it with a comment and any evidence (POST /api/v1/disputes/${d.id}/comments); the notice also goes when the dispute is resolved or withdrawn.`,
        since: iso(d.raised_at),
        dueAt: null,
      })),
    DISPUTE_AWAITING_REVIEW: async (_org, roles) =>
      roles.includes('MARKET_FACILITATOR')
        ? (await disputesAwaitingReview(db, NOTICES_PER_KIND)).map((d) => ({
            id: `DISPUTE_AWAITING_REVIEW:${d.id}`,
            kind: 'DISPUTE_AWAITING_REVIEW',
            severity: 'WARNING',
            record: ref('dispute', d.id),
            related: [ref(d.record_type, d.record_id)],
            summary: `Organisation ${d.raised_by_org} disputes ${d.record_type} ${d.record_id}; the dispute is OPEN.`,
            resolution: `Take it under review (POST /api/v1/disputes/${d.id}/review), then resolve it.`,
            since: iso(d.raised_at),
            dueAt: null,
          }))
        : [],
    ORGANISATION_AWAITING_APPROVAL: async (_org, roles) =>
      roles.includes('MARKET_FACILITATOR')
        ? (await organisationsAwaitingApproval(db, NOTICES_PER_KIND)).map((o) => ({
            id: `ORGANISATION_AWAITING_APPROVAL:${o.id}`,
            kind: 'ORGANISATION_AWAITING_APPROVAL',
            severity: 'WARNING',
            record: ref('organisation', o.id),
            related: [],
            summary: `${o.legal_name} awaits approval (PENDING_APPROVAL).`,
            resolution: `Approve it (POST /api/v1/organisations/${o.id}/approve) or reject it with a reason (…/reject).`,
            since: iso(o.recorded_at),
            dueAt: null,
          }))
        : [],
    DATA_SHARE_ENDING: async (org, _roles, now) =>
      (await sharesEndingBetween(db, org, now, new Date(now.getTime() + SHARE_ENDING_NOTICE_DAYS * DAY), NOTICES_PER_KIND)).map((s) => {
        const owner = s.owner_id === org;
        return {
          id: `DATA_SHARE_ENDING:${s.id}`,
          kind: 'DATA_SHARE_ENDING',
          severity: 'WARNING',
          record: ref('data_share', s.id),
          related: [ref('organisation', owner ? s.recipient_id : s.owner_id)],
          summary: owner
            ? `The share of this organisation's data with platform ${s.recipient_id} ends on ${iso(s.valid_to)}; the platform pulls nothing after it.`
            : `Organisation ${s.owner_id}'s share with this platform ends on ${iso(s.valid_to)}; nothing is served through it after that.`,
          resolution: owner
            ? `Nothing to do if it should end. To go on sharing, extend it (PATCH /api/v1/data-shares/${s.id} with a later validTo) or grant a new share from its end; revoking it ends it now.`
            : `Ask organisation ${s.owner_id} to extend the share or grant a new one; the notice goes when it is extended, revoked or ended.`,
          since: iso(new Date(new Date(s.valid_to).getTime() - SHARE_ENDING_NOTICE_DAYS * DAY)),
          dueAt: iso(s.valid_to),
        };
      }),
  };
}

/** GET /api/v1/notices: the organisation's notices now, filtered, most severe and oldest first. */
export async function listNotices(ctx: Ctx, p: Principal, q: NoticeQuery) {
  const org = await subject(ctx, p, q.organisationId);
  const now = ctx.clock.now();
  const all = sources(ctx);
  const kinds = q.kind ? [q.kind] : NOTICE_KINDS;
  let truncated = false;
  const items: Notice[] = [];
  for (const kind of kinds) {
    const found = await all[kind](org.id, org.roles, now);
    if (found.length >= NOTICES_PER_KIND) truncated = true;
    for (const n of found) {
      if (q.severity && n.severity !== q.severity) continue;
      // The record filter matches the record the notice is about or one it names.
      const named = [n.record, ...n.related].some(
        (r) => (!q.recordType || r.type === q.recordType) && (!q.recordId || r.id === q.recordId),
      );
      if (!named) continue;
      items.push({ ...n, organisationId: org.id });
    }
  }
  items.sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.since.localeCompare(b.since) || a.id.localeCompare(b.id),
  );
  const counts: Record<string, number> = {};
  for (const n of items) counts[n.kind] = (counts[n.kind] ?? 0) + 1;
  return { organisationId: org.id, asOf: now.toISOString(), items, counts, truncated };
}
