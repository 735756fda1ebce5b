import { RULES, type RuleCode } from '../rules';

/** One offending field of a request: where, which rule, and what to do. */
export interface FieldError {
  field: string;
  code: RuleCode;
  detail: string;
}

/**
 * A failure that becomes an RFC 9457 problem document. Domain code throws it with a rule code;
 * the HTTP layer renders it; the CLI prints it.
 */
export class Problem extends Error {
  readonly status: number;
  constructor(
    readonly code: RuleCode,
    detail?: string,
    readonly extra: Record<string, unknown> = {},
    readonly errors: FieldError[] = [],
    status?: number,
  ) {
    super(detail ?? RULES[code].title);
    this.status = status ?? RULES[code].status;
  }

  toJSON() {
    return {
      type: `urn:fmar:rule:${this.code}`,
      title: RULES[this.code].title,
      status: this.status,
      code: this.code,
      detail: this.message,
      ...(this.errors.length ? { errors: this.errors } : {}),
      ...this.extra,
    };
  }
}

export function fieldError(field: string, code: RuleCode, detail?: string): FieldError {
  return { field, code, detail: detail ?? RULES[code].title };
}

/** Throw one 422 carrying every field error found, so a client fixes them all in one round. */
export function validationProblem(errors: FieldError[]): Problem {
  return new Problem('REQUEST-VALIDATION', `${errors.length} field(s) invalid`, {}, errors);
}

export function problemResponse(p: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(p.toJSON()), {
    status: p.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}
