import { z } from '@hono/zod-openapi';
import { Asset } from '../assets/schema';
import { Organisation } from '../organisations/schema';
import { MarketUnit } from '../units/schema';

/**
 * One definition of the dispute resource (UC-05.03). Field rules live here (their rule code is
 * the message); the rules that need the disputed record or the stored dispute in ./rules.ts.
 */

export const DISPUTE_STATUSES = ['OPEN', 'UNDER_REVIEW', 'RESOLVED', 'WITHDRAWN'] as const;
export const DISPUTE_OUTCOMES = ['CORRECTED', 'NO_ACTION_REQUIRED'] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

/** Record metadata: what the register writes, not what a party asserts, so not disputable. */
const METADATA = new Set(['id', 'version', 'recordedAt', 'recordedBy', 'warnings']);
const fieldsOf = (shape: Record<string, unknown>) =>
  Object.keys(shape)
    .filter((k) => !METADATA.has(k))
    .sort();

/**
 * The record types a dispute may name and their disputable top-level fields, taken from each
 * resource's own schema. Adding a record type is a line here and one in ./records.ts.
 */
export const DISPUTABLE_FIELDS = {
  asset: fieldsOf(Asset.shape),
  organisation: fieldsOf(Organisation.shape),
  market_unit: fieldsOf(MarketUnit.shape),
} as const satisfies Record<string, string[]>;
export type DisputedRecordType = keyof typeof DISPUTABLE_FIELDS;
export const RECORD_TYPES = Object.keys(DISPUTABLE_FIELDS) as [DisputedRecordType, ...DisputedRecordType[]];

export const MAX_FIELDS = 20;
export const MAX_EVIDENCE_PER_REQUEST = 20;
export const MAX_EVIDENCE_PER_DISPUTE = 50;
export const MAX_DOCUMENT_BYTES = 104_857_600;
export const MAX_PROPOSED_BYTES = 8192;
/** A field path: a top-level field, then up to 4 nested segments (`location.gspGroup`, `identifiers.0.value`). */
export const FIELD_PATH_RE = /^[A-Za-z][A-Za-z0-9]{0,63}(\.[A-Za-z0-9]{1,64}){0,4}$/;
/** RFC 6838 type/subtype (restricted-name characters), without parameters. */
export const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** An absolute https URL without credentials (evidence is linked, never fetched by the hub). */
export function isEvidenceUrl(s: string): boolean {
  if (s.length > 2048) return false;
  try {
    const u = new URL(s);
    return u.protocol === 'https:' && !!u.hostname && !u.username && !u.password;
  } catch {
    return false;
  }
}

export const EvidenceDocument = z
  .object({
    name: z
      .string('DISPUTE-EVIDENCE-SIZE')
      .min(1, 'DISPUTE-EVIDENCE-SIZE')
      .max(255, 'DISPUTE-EVIDENCE-SIZE')
      .optional()
      .openapi({ example: 'meter-photo.jpg' }),
    sha256: z
      .string('DISPUTE-EVIDENCE-DIGEST')
      .regex(/^[0-9a-f]{64}$/, 'DISPUTE-EVIDENCE-DIGEST')
      .openapi({ description: 'SHA-256 of the document, 64 lower-case hex characters' }),
    mediaType: z
      .string('DISPUTE-EVIDENCE-MEDIA-TYPE')
      .regex(MEDIA_TYPE_RE, 'DISPUTE-EVIDENCE-MEDIA-TYPE')
      .openapi({ example: 'application/pdf' }),
    sizeBytes: z
      .number('DISPUTE-EVIDENCE-SIZE')
      .int('DISPUTE-EVIDENCE-SIZE')
      .min(1, 'DISPUTE-EVIDENCE-SIZE')
      .max(MAX_DOCUMENT_BYTES, 'DISPUTE-EVIDENCE-SIZE')
      .optional(),
  })
  .strict()
  .openapi('EvidenceDocument', {
    description: 'A reference to a document the parties hold (the hub stores no files): its digest lets anyone check a copy.',
  });

export const EvidenceItem = z
  .object({
    description: z.string('DISPUTE-EVIDENCE-DESCRIPTION').min(1, 'DISPUTE-EVIDENCE-DESCRIPTION').max(500, 'DISPUTE-EVIDENCE-DESCRIPTION'),
    url: z
      .string('DISPUTE-EVIDENCE-URL')
      .max(2048, 'DISPUTE-EVIDENCE-URL')
      .refine(isEvidenceUrl, 'DISPUTE-EVIDENCE-URL')
      .optional()
      .openapi({ description: 'An https link to the evidence', example: 'https://evidence.example.com/mpan-letter.pdf' }),
    document: EvidenceDocument.optional(),
  })
  .strict()
  .superRefine((v, c) => {
    if ((v.url === undefined) === (v.document === undefined)) c.addIssue({ code: 'custom', path: [], message: 'DISPUTE-EVIDENCE-SOURCE' });
  })
  .openapi('EvidenceItem', { description: 'One piece of evidence: a description and exactly one of url and document.' });
export type EvidenceItem = z.infer<typeof EvidenceItem>;

const evidenceList = z.array(EvidenceItem, 'DISPUTE-EVIDENCE-TOO-MANY').max(MAX_EVIDENCE_PER_REQUEST, 'DISPUTE-EVIDENCE-TOO-MANY');

export const Claim = z
  .object({
    summary: z
      .string('DISPUTE-CLAIM-FORMAT')
      .min(1, 'DISPUTE-CLAIM-FORMAT')
      .max(2000, 'DISPUTE-CLAIM-FORMAT')
      .openapi({ description: 'What is wrong', example: 'The import MPAN is the neighbour’s; ours is on the attached letter.' }),
    proposedValues: z.record(z.string(), z.unknown()).optional().openapi({
      description: 'Optional: the value the raiser says is right, keyed by field path (each one of `fields`); at most 8 KB of JSON.',
    }),
  })
  .strict()
  .openapi('DisputeClaim');

export const DisputeInput = z
  .object({
    recordType: z.enum(RECORD_TYPES, 'DISPUTE-RECORD-TYPE-UNKNOWN'),
    recordId: z.string().min(1).max(64).openapi({ example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }),
    fields: z
      .array(z.string('DISPUTE-FIELD-UNKNOWN').regex(FIELD_PATH_RE, 'DISPUTE-FIELD-UNKNOWN'), 'DISPUTE-FIELDS-EMPTY')
      .min(1, 'DISPUTE-FIELDS-EMPTY')
      .max(MAX_FIELDS, 'DISPUTE-FIELDS-EMPTY')
      .openapi({
        description: 'Field paths of the record in dispute (docs/disputes.md lists each type’s fields); duplicates count once.',
        example: ['importMpan'],
      }),
    claim: Claim,
    // The design: disputes are raised with evidence; comments may add more (or none).
    evidence: z
      .array(EvidenceItem, 'DISPUTE-EVIDENCE-REQUIRED')
      .min(1, 'DISPUTE-EVIDENCE-REQUIRED')
      .max(MAX_EVIDENCE_PER_REQUEST, 'DISPUTE-EVIDENCE-TOO-MANY')
      .prefault([])
      .openapi({ description: '1–20 evidence items: a dispute is raised with evidence (absent or empty: DISPUTE-EVIDENCE-REQUIRED).' }),
  })
  .strict()
  .openapi('DisputeInput');
export type DisputeInput = z.infer<typeof DisputeInput>;

export const CommentInput = z
  .object({
    body: z.string('DISPUTE-COMMENT-FORMAT').min(1, 'DISPUTE-COMMENT-FORMAT').max(4000, 'DISPUTE-COMMENT-FORMAT'),
    evidence: evidenceList.default([]),
  })
  .strict()
  .openapi('DisputeCommentInput');

export const WithdrawInput = z
  .object({ reason: z.string().max(2000).optional() })
  .strict()
  .openapi('DisputeWithdrawal');

export const Correction = z
  .object({
    version: z.number().int().min(1).openapi({
      description: 'The record version the correction applies to (its If-Match): a stale one is refused with 412 and nothing changes.',
    }),
    changes: z.record(z.string(), z.unknown()).openapi({
      description:
        'The changes, in the record’s own update format (PATCH /assets/{id}, /organisations/{id}, /market-units/{id}); checked by that record’s own rules.',
    }),
  })
  .strict()
  .openapi('DisputeCorrection');

export const ResolveInput = z
  .object({
    outcome: z.enum(DISPUTE_OUTCOMES, 'DISPUTE-OUTCOME-UNKNOWN'),
    note: z
      .string()
      .min(1, 'DISPUTE-REASON-REQUIRED')
      .max(2000, 'DISPUTE-REASON-REQUIRED')
      .optional()
      .openapi({ description: 'The resolution note; required for NO_ACTION_REQUIRED (the reason).' }),
    correction: Correction.optional(),
  })
  .strict()
  .openapi('DisputeResolution');
export type ResolveInput = z.infer<typeof ResolveInput>;

export const StoredEvidence = EvidenceItem.openapi('StoredEvidenceItem');

export const DisputeComment = z
  .object({
    id: z.string(),
    organisationId: z
      .string()
      .nullable()
      .openapi({ description: 'The author’s organisation; null when a household wrote it (docs/consumers.md).' }),
    author: z.string(),
    body: z.string(),
    evidence: z.array(StoredEvidence),
    createdAt: z.string(),
  })
  .openapi('DisputeComment');
export type DisputeComment = z.infer<typeof DisputeComment>;

export const Dispute = z
  .object({
    id: z.string().openapi({ description: 'Dispute ID (ULID)' }),
    recordType: z.enum(RECORD_TYPES),
    recordId: z.string(),
    fields: z.array(z.string()).openapi({ description: 'Distinct, sorted' }),
    claim: Claim,
    evidence: z.array(StoredEvidence).openapi({ description: 'Sent with the dispute; comments carry their own.' }),
    status: z.enum(DISPUTE_STATUSES),
    outcome: z.enum(DISPUTE_OUTCOMES).nullable(),
    resolutionNote: z.string().nullable(),
    correction: z
      .object({ expectedVersion: z.number().int(), changes: z.record(z.string(), z.unknown()), resultingVersion: z.number().int() })
      .nullable()
      .openapi({ description: 'When CORRECTED: the correction applied and the record version it produced.' }),
    raisedBy: z.object({
      organisationId: z.string().nullable().openapi({
        description: 'The raising organisation; null when a household raised it (its pseudonym is `actor`, docs/consumers.md).',
      }),
      actor: z.string(),
    }),
    raisedAt: z.string(),
    closedAt: z.string().nullable(),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
  })
  .openapi('Dispute');
export type Dispute = z.infer<typeof Dispute>;

export const DisputeWithComments = Dispute.extend({ comments: z.array(DisputeComment) }).openapi('DisputeWithComments');
