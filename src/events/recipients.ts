/**
 * Who an event is for: the recipients policy, as data. Each rule names, for the event types it
 * covers, a party taken from the event (the organisation its writer names, an organisation ID in
 * its data) or from the register (the asset's FSP, owner and DNO, the System Operators). Never the
 * caller who made the change: the actor is not an input. writeEvents (src/events/outbox.ts) turns
 * the rules into one INSERT … SELECT in the change's transaction; docs/events.md lists them.
 */

export interface RecipientRule {
  /** Stored in event_recipient.reasons: why the organisation receives the event. */
  reason: string;
  /** Event types the rule covers: exact types, `prefix.*` or `*` (the grammar of subscriptions). */
  types: readonly string[];
  /** The party, in words, for docs/events.md. */
  who: string;
  /**
   * SQL yielding the organisation ID(s), over `e` (the event: id, type, organisation_id, data) and
   * `a` (the asset named by data.assetId, or NULLs): a scalar expression, or rows `o(id)` of a FROM.
   */
  sql: { scalar: string } | { from: string; where?: string };
}

const ASSET_AND_PROCESS = ['fmar.asset.*', 'fmar.switch.*', 'fmar.qualification.*'] as const;
const SWITCH = ['fmar.switch.*'] as const;
// The registering organisation is told only as an ASSET_OWNER: control (and news of it) follows the FSP link.
const OWNER = `(SELECT o.id FROM organisation o WHERE o.id = a.organisation_id AND 'ASSET_OWNER' = ANY(o.roles))`;

export const RECIPIENT_POLICY: readonly RecipientRule[] = [
  {
    reason: 'record-organisation',
    types: ['*'],
    sql: { scalar: 'e.organisation_id' },
    who: 'The organisation the writer names for the record: an asset’s FSP, the organisation itself, a client’s or person’s organisation, each party a writer announces a change to.',
  },
  {
    reason: 'asset-fsp',
    types: ASSET_AND_PROCESS,
    sql: { scalar: 'a.fsp_id' },
    who: 'The FSP controlling the asset (`data.assetId`) when the event is written; after a switch takes effect, the gaining FSP.',
  },
  {
    reason: 'asset-owner',
    types: ASSET_AND_PROCESS,
    sql: { scalar: OWNER },
    who: 'The organisation that owns the asset record when it has the ASSET_OWNER role (the consumer, when registered); an FSP that registered the asset and lost it by a switch is not told.',
  },
  {
    reason: 'dno',
    types: ASSET_AND_PROCESS,
    sql: { from: 'organisation o', where: `o.status = 'ACTIVE' AND a.dno IS NOT NULL AND o.dno_codes @> ARRAY[a.dno]` },
    who: 'Every active organisation whose licence areas (`dnoCodes`) include the asset’s `dno`: the DNO/IDNO of its network.',
  },
  {
    reason: 'losing-fsp',
    types: SWITCH,
    sql: { scalar: `e.data->>'losingFspId'` },
    who: 'The losing FSP named by the switch (`data.losingFspId`).',
  },
  {
    reason: 'gaining-fsp',
    types: SWITCH,
    sql: { scalar: `e.data->>'gainingFspId'` },
    who: 'The gaining FSP named by the switch (`data.gainingFspId`).',
  },
  {
    reason: 'losing-fsp',
    types: ['fmar.asset.fsp-changed'],
    sql: { scalar: `e.data->>'fromFspId'` },
    who: 'The FSP that lost control of the asset (`data.fromFspId`).',
  },
  {
    reason: 'system-operator',
    types: ['fmar.switch.*', 'fmar.qualification.*'],
    sql: { from: 'organisation o', where: `o.status = 'ACTIVE' AND 'SYSTEM_OPERATOR' = ANY(o.roles)` },
    who: 'Every active System Operator (role SYSTEM_OPERATOR).',
  },
  {
    reason: 'unit-fsp',
    types: ['fmar.qualification.*', 'fmar.market-unit.*'],
    sql: { scalar: `e.data->>'fspId'` },
    who: 'The FSP controlling the market unit (`data.fspId`).',
  },
  {
    reason: 'product-owner',
    types: ['fmar.qualification.*', 'fmar.market-unit.*', 'fmar.product.*', 'fmar.product-equivalence.*'],
    sql: {
      from: `jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.data->'productOwnerIds') = 'array' THEN e.data->'productOwnerIds' ELSE '[]'::jsonb END) AS o(id)`,
    },
    who: 'The System Operators owning the products concerned (`data.productOwnerIds`: the qualification’s product, or the unit’s product and those it is qualified for), when recorded.',
  },
  {
    reason: 'contract-party',
    types: ['fmar.contract.*'],
    sql: { from: `(VALUES (e.data->>'fspId'), (e.data->>'systemOperatorId')) AS o(id)` },
    who: 'Both parties of a contract: the FSP (`data.fspId`) and the System Operator (`data.systemOperatorId`).',
  },
  {
    reason: 'delegation-party',
    types: ['fmar.delegation.*'],
    sql: { from: `(VALUES (e.data->>'delegatorId'), (e.data->>'delegateId')) AS o(id)` },
    who: 'Both parties of a delegation: the delegator (`data.delegatorId`) and the delegate (`data.delegateId`).',
  },
  {
    reason: 'share-party',
    types: ['fmar.data-share.*'],
    sql: { from: `(VALUES (e.data->>'ownerId'), (e.data->>'recipientId')) AS o(id)` },
    who: 'Both parties of a data share: the organisation whose data it shares (`data.ownerId`) and the platform (`data.recipientId`).',
  },
  {
    reason: 'consumer',
    types: ['fmar.switch.*', 'fmar.asset.consent-revoked'],
    sql: { scalar: `e.data->>'consumerOrganisationId'` },
    who: 'Optionally the consumer, when the writer names the consumer’s organisation (`data.consumerOrganisationId`); consumers without an organisation in the register are reached by their consent service, not by the hub.',
  },
  // Disputes (docs/disputes.md): the raiser, the disputed record's parties and the operator.
  {
    reason: 'dispute-raiser',
    types: ['fmar.dispute.*'],
    sql: { scalar: `e.data->>'raisedBy'` },
    who: 'The organisation that raised the dispute (`data.raisedBy`).',
  },
  {
    reason: 'asset-fsp',
    types: ['fmar.dispute.*'],
    sql: { scalar: 'a.fsp_id' },
    who: 'For a dispute on an asset (`data.assetId`), the FSP controlling it when the event is written.',
  },
  {
    reason: 'asset-owner',
    types: ['fmar.dispute.*'],
    sql: { scalar: OWNER },
    who: 'For a dispute on an asset, the organisation that owns the asset record when it has the ASSET_OWNER role.',
  },
  {
    reason: 'dno',
    types: ['fmar.dispute.*'],
    sql: { from: 'organisation o', where: `o.status = 'ACTIVE' AND a.dno IS NOT NULL AND o.dno_codes @> ARRAY[a.dno]` },
    who: 'For a dispute on an asset, every active organisation whose licence areas include the asset’s `dno`.',
  },
  {
    reason: 'disputed-organisation',
    types: ['fmar.dispute.*'],
    sql: { scalar: `CASE WHEN e.data->>'recordType' = 'organisation' THEN e.data->>'recordId' END` },
    who: 'For a dispute on an organisation, that organisation.',
  },
  {
    reason: 'unit-fsp',
    types: ['fmar.dispute.*'],
    sql: { scalar: `(SELECT u.fsp_id FROM market_unit u WHERE u.id = e.data->>'marketUnitId')` },
    who: 'For a dispute on a market unit (`data.marketUnitId`), the FSP controlling the unit when the event is written.',
  },
  {
    reason: 'operator',
    types: ['fmar.dispute.*'],
    sql: { from: 'organisation o', where: `o.status = 'ACTIVE' AND 'MARKET_FACILITATOR' = ANY(o.roles)` },
    who: 'Every active operator organisation (role MARKET_FACILITATOR), which resolves disputes.',
  },
  // Data quality findings (docs/data-quality.md): the writer names the assets' FSP (record organisation) and their owner; DNOs read their scorecards instead.
  {
    reason: 'asset-owner',
    types: ['fmar.data-quality.*'],
    sql: { scalar: `(SELECT o.id FROM organisation o WHERE o.id = e.data->>'organisationId' AND 'ASSET_OWNER' = ANY(o.roles))` },
    who: 'For a change of data quality findings, the organisation that owns the assets (`data.organisationId`) when it has the ASSET_OWNER role.',
  },
  // Connection limits (docs/connection-limits.md): the DNO that recorded it is the record organisation; the FSPs at the connection point hear of each change.
  // The type test is inside the subquery too, so that no other event looks its MPAN up.
  {
    reason: 'connection-fsp',
    types: ['fmar.connection-limit.*'],
    sql: {
      from: `(SELECT DISTINCT xa.fsp_id FROM asset_alias xl JOIN asset xa ON xa.id = xl.asset_id
        WHERE e.type LIKE 'fmar.connection-limit.%' AND xl.scheme = 'mpan' AND xl.active AND xl.value = e.data->>'mpan' AND xa.deregistered_at IS NULL) AS o(id)`,
    },
    who: 'For a change of a connection limit, every FSP controlling a registered asset at its MPAN (`data.mpan`) when the event is written.',
  },
  // Catalogue changes (docs/catalogues.md): every party validates against the code lists, so every active organisation hears of them.
  {
    reason: 'catalogue-reader',
    types: ['fmar.catalogue.*'],
    sql: { from: 'organisation o', where: `o.status = 'ACTIVE'` },
    who: 'For a catalogue change, every active organisation (each reads the code lists its records are checked against).',
  },
];

const TYPE_PATTERN = /^(\*|[a-z][a-z0-9-]*(\.[a-z0-9-]+)*(\.\*)?)$/;

/** Whether an event-type pattern is well formed: `*`, an exact type or `prefix.*`. */
export function isTypePattern(p: string): boolean {
  return p.length <= 100 && TYPE_PATTERN.test(p);
}

/** The pattern as SQL LIKE (types hold no `%` or `_`, so only `*` needs mapping). */
export function likePattern(p: string): string {
  return p.replace(/\*$/, '%');
}

/** The same match in code (tests, the docs). */
export function typeMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  return pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** One rule as a SELECT of (org, reason) rows for the event `e`. */
function ruleSql(r: RecipientRule): string {
  for (const t of r.types) if (!isTypePattern(t)) throw new Error(`recipients policy: bad type pattern ${t}`);
  const applies = r.types.includes('*') ? 'TRUE' : `e.type LIKE ANY (ARRAY[${r.types.map((t) => sqlText(likePattern(t))).join(', ')}])`;
  return 'scalar' in r.sql
    ? `SELECT ${r.sql.scalar}, ${sqlText(r.reason)} WHERE ${applies}`
    : `SELECT o.id, ${sqlText(r.reason)} FROM ${r.sql.from} WHERE ${r.sql.where ? `${r.sql.where} AND ` : ''}${applies}`;
}

/**
 * The CTEs `cand` and `rc` that follow `ev` (the events just inserted: id, type, organisation_id,
 * data, grp) in writeEvents' statement: every rule's parties, kept when they are organisations of
 * the register, then one event_recipient row per organisation and change. A writer that announces
 * one change as several copies (one per party: same type, subject and data, hence the same `grp`)
 * gives each recipient one copy, its own where there is one, so nobody receives a change twice.
 */
export function recipientsCtes(): string {
  return `cand AS (
  SELECT e.id AS event_id, e.grp, e.organisation_id AS named, r.org, r.reason
    FROM ev e LEFT JOIN asset a ON a.id = e.data->>'assetId'
   CROSS JOIN LATERAL (${RECIPIENT_POLICY.map(ruleSql).join('\n     UNION ALL ')}) AS r(org, reason)
   WHERE r.org IS NOT NULL AND EXISTS (SELECT 1 FROM organisation x WHERE x.id = r.org)
),
rc AS (
  INSERT INTO event_recipient (organisation_id, event_id, reasons)
  SELECT org, (array_agg(event_id ORDER BY (named IS NOT DISTINCT FROM org) DESC, event_id))[1], array_agg(DISTINCT reason ORDER BY reason)
    FROM cand GROUP BY grp, org
  RETURNING organisation_id, event_id
)`;
}
