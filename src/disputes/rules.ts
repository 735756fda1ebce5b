import { fieldError, type FieldError } from '../http/problem';
import { DISPUTABLE_FIELDS, MAX_PROPOSED_BYTES, type DisputeStatus, type DisputedRecordType, type ResolveInput } from './schema';

/** The dispute rules that need more than one field: pure, so each is tested by its code. */

/** Every field path must start with a disputable field of the record type. */
export function checkFields(recordType: DisputedRecordType, fields: string[]): FieldError[] {
  const known: readonly string[] = DISPUTABLE_FIELDS[recordType];
  return fields.flatMap((f, i) =>
    known.includes(f.split('.')[0])
      ? []
      : [fieldError(`fields.${i}`, 'DISPUTE-FIELD-UNKNOWN', `"${f}" is not a field of ${recordType}; its fields are ${known.join(', ')}.`)],
  );
}

/** Proposed values are keyed by fields in dispute, and small. */
export function checkProposed(fields: string[], proposed: Record<string, unknown> | undefined): FieldError[] {
  if (!proposed) return [];
  const errors = Object.keys(proposed)
    .filter((k) => !fields.includes(k))
    .map((k) =>
      fieldError('claim.proposedValues', 'DISPUTE-PROPOSED-FIELD', `"${k}" is not one of the fields in dispute (${fields.join(', ')}).`),
    );
  if (new TextEncoder().encode(JSON.stringify(proposed)).length > MAX_PROPOSED_BYTES)
    errors.push(fieldError('claim.proposedValues', 'DISPUTE-PROPOSED-FIELD', `At most ${MAX_PROPOSED_BYTES} bytes of JSON.`));
  return errors;
}

export type DisputeAction = 'comment' | 'review' | 'resolve' | 'withdraw';

/** The lifecycle as data: the statuses each action starts from. */
export const FROM: Record<DisputeAction, readonly DisputeStatus[]> = {
  comment: ['OPEN', 'UNDER_REVIEW'],
  review: ['OPEN'],
  resolve: ['UNDER_REVIEW'],
  withdraw: ['OPEN', 'UNDER_REVIEW'],
};

/** Whether the action is allowed from this status. */
export function mayTransition(status: DisputeStatus, action: DisputeAction): boolean {
  return FROM[action].includes(status);
}

/** The outcome's companions: CORRECTED needs a correction; NO_ACTION_REQUIRED a note and no correction. */
export function checkResolution(r: ResolveInput): FieldError[] {
  if (r.outcome === 'CORRECTED') return r.correction ? [] : [fieldError('correction', 'DISPUTE-CORRECTION-REQUIRED')];
  const errors: FieldError[] = [];
  if (!r.note?.trim()) errors.push(fieldError('note', 'DISPUTE-REASON-REQUIRED'));
  if (r.correction) errors.push(fieldError('correction', 'DISPUTE-CORRECTION-UNEXPECTED'));
  return errors;
}
