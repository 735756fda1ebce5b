import { z } from '@hono/zod-openapi';

/**
 * One definition of the data quality resources (docs/data-quality.md): rules (maintained by the
 * operator), findings (the live list of rules an asset fails) and scorecards.
 */

export const SEVERITIES = ['ERROR', 'WARNING', 'INFO'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const RULE_KINDS = ['field', 'cross-field', 'cross-source', 'staleness', 'external-check'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const DQ_CODE_RE = /^DQ-[A-Z0-9]+(-[A-Z0-9]+)*$/;

const described = {
  description: z
    .string('REQUEST-VALIDATION')
    .min(1, 'REQUEST-VALIDATION')
    .max(500, 'REQUEST-VALIDATION')
    .openapi({ description: 'What the rule asks for, in a sentence; shown with each finding.' }),
  severity: z
    .enum(SEVERITIES, 'REQUEST-VALIDATION')
    .openapi({ description: 'ERROR findings put a validated asset in Query; WARNING and INFO only lower its score.' }),
  weight: z
    .number('REQUEST-VALIDATION')
    .int('REQUEST-VALIDATION')
    .min(0, 'REQUEST-VALIDATION')
    .max(100, 'REQUEST-VALIDATION')
    .openapi({ description: 'Weight in the asset score (0–100).' }),
  // Any code of the asset-categories catalogue, which the operator extends (UC-05.07): checked against it by the service.
  appliesTo: z
    .array(z.string('ASSET-CATEGORY-UNKNOWN').min(1, 'ASSET-CATEGORY-UNKNOWN').max(40, 'ASSET-CATEGORY-UNKNOWN'), 'ASSET-CATEGORY-UNKNOWN')
    .max(100, 'ASSET-CATEGORY-UNKNOWN')
    .openapi({
      description:
        'Codes of the asset-categories catalogue (GET /api/v1/catalogues/asset-categories) the rule applies to; empty: every category.',
      example: ['BESS'],
    }),
  kind: z.enum(RULE_KINDS, 'REQUEST-VALIDATION').openapi({
    description:
      'field, cross-field, cross-source, staleness (evaluated by the periodic job too) or external-check (evaluated once a validation has run).',
  }),
  definition: z.string('DQ-RULE-SYNTAX').min(1, 'DQ-RULE-SYNTAX').max(2000, 'DQ-RULE-SYNTAX').openapi({
    description: 'The condition an asset must meet, in the rule language (docs/data-quality.md).',
    example: 'generationCapacityKw <= ratedCapacityKw',
  }),
};

export const DqRuleInput = z
  .object({
    code: z
      .string('REQUEST-VALIDATION')
      .max(64, 'REQUEST-VALIDATION')
      .regex(DQ_CODE_RE, 'REQUEST-VALIDATION')
      .openapi({ description: 'Stable code: DQ- then upper-case words joined by hyphens.', example: 'DQ-MPAN-DNO-MATCH' }),
    ...described,
    appliesTo: described.appliesTo.optional(),
  })
  .strict()
  .openapi('DataQualityRuleInput');
export type DqRuleInput = z.infer<typeof DqRuleInput>;

export const DqRulePatch = z
  .object({
    description: described.description.optional(),
    severity: described.severity.optional(),
    weight: described.weight.optional(),
    appliesTo: described.appliesTo.optional(),
    kind: described.kind.optional(),
    definition: described.definition.optional(),
    active: z.boolean('REQUEST-VALIDATION').optional().openapi({ description: 'false deactivates (as DELETE), true reactivates.' }),
  })
  .strict()
  .openapi('DataQualityRulePatch');
export type DqRulePatch = z.infer<typeof DqRulePatch>;

export const DqRule = z
  .object({
    code: z.string(),
    description: z.string(),
    severity: z.enum(SEVERITIES),
    weight: z.number().int(),
    appliesTo: z.array(z.string()),
    kind: z.enum(RULE_KINDS),
    definition: z.string(),
    active: z.boolean(),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
  })
  .openapi('DataQualityRule');
export type DqRule = z.infer<typeof DqRule>;

export const Finding = z
  .object({
    id: z.string(),
    assetId: z.string(),
    ruleCode: z.string(),
    severity: z.enum(SEVERITIES),
    detail: z.string(),
    organisationId: z.string().openapi({ description: 'The asset’s owner when the finding opened.' }),
    fspId: z.string().openapi({ description: 'The asset’s controlling FSP when the finding opened.' }),
    dno: z.string().nullable(),
    status: z.enum(['open', 'resolved']),
    openedAt: z.string(),
    resolvedAt: z.string().nullable(),
  })
  .openapi('DataQualityFinding');
export type Finding = z.infer<typeof Finding>;

/** An INFO-severity rule the asset fails: counted in its score and the scorecards, kept on the score row (no finding row). */
export const Advisory = z
  .object({
    ruleCode: z.string(),
    description: z.string().openapi({ description: 'The rule’s current description.' }),
  })
  .openapi('DataQualityAdvisory');
export type Advisory = z.infer<typeof Advisory>;

export const Scorecard = z
  .object({
    scope: z.enum(['organisation', 'dno']),
    key: z.string().openapi({ description: 'The organisation ID or the DNO code.' }),
    assets: z.number().int().openapi({ description: 'Registered assets counted (an organisation: those it controls or owns, each once).' }),
    averageScore: z.number().nullable().openapi({ description: 'Sum of the asset scores / assets, two decimals; null without assets.' }),
    openFindings: z
      .object({ ERROR: z.number().int(), WARNING: z.number().int(), INFO: z.number().int() })
      .openapi({ description: 'Open findings by severity; INFO counts the advisories.' }),
    openFindingsByRule: z.record(z.string(), z.number().int()),
    updatedAt: z.string().nullable(),
  })
  .openapi('DataQualityScorecard');
export type Scorecard = z.infer<typeof Scorecard>;

export const ScorecardPoint = z
  .object({
    day: z.string().openapi({ description: 'The UTC day (YYYY-MM-DD).', example: '2026-12-07' }),
    assets: z.number().int(),
    averageScore: z
      .number()
      .nullable()
      .openapi({ description: 'As the scorecard: sum of the scores / assets, two decimals; null without assets.' }),
    openFindings: z
      .object({ ERROR: z.number().int(), WARNING: z.number().int(), INFO: z.number().int() })
      .openapi({ description: 'Open findings by severity; INFO counts the advisories.' }),
  })
  .openapi('DataQualityScorecardPoint');
export type ScorecardPoint = z.infer<typeof ScorecardPoint>;

export const ScorecardHistory = z
  .object({
    scope: z.enum(['organisation', 'dno']),
    key: z.string(),
    from: z.string(),
    to: z.string(),
    items: z
      .array(ScorecardPoint)
      .openapi({ description: 'One point per day the scorecard was recorded, oldest first; a day without a point is absent.' }),
  })
  .openapi('DataQualityScorecardHistory');
export type ScorecardHistory = z.infer<typeof ScorecardHistory>;

export const ValidateInput = z
  .object({
    checks: z
      .array(z.enum(['meterPoint', 'mcs'], 'REQUEST-VALIDATION'))
      .min(1, 'REQUEST-VALIDATION')
      .optional()
      .openapi({ description: 'The registries to ask; default both.' }),
  })
  .strict()
  .openapi('DataQualityValidateInput');

export const ValidationResult = z
  .object({
    assetId: z.string(),
    status: z.string().openapi({ description: 'The asset status after the validation.' }),
    previousStatus: z.string(),
    score: z.number().int(),
    checks: z.record(z.string(), z.unknown()),
    openFindings: z.array(Finding),
    advisories: z.array(Advisory),
  })
  .openapi('DataQualityValidation');
