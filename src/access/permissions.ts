import type { OadrScope } from '../../openadr/index';
import type { OrganisationRole } from './roles';

/**
 * The permission matrix, as data: for each action, the scope a token must carry, the organisation
 * roles that may perform it and its object-level rule (which records an allowed caller reaches).
 * Each route under /api/v1 names the action it needs where it is declared (`apiRoute` in
 * src/access/api-route.ts); the app's route → action table is read back from those declarations.
 * Enforcement (`authorize` in src/access/auth.ts, the asset SQL in `assetVisibility`),
 * docs/security.md (scripts/gen-docs.ts) and test/permission-matrix.test.ts all read these tables;
 * nothing else decides who may do what.
 */
export interface Permission {
  scope: string;
  roles: readonly OrganisationRole[] | 'any';
  description: string;
  /** The object-level rule as data; see Visibility. */
  visibility: Visibility;
  /** Roles that reach every record whatever `visibility` says (default SEES_ALL). */
  seesAll?: readonly OrganisationRole[];
  /** The object-level rule in words, for the docs. */
  objectRule: string;
  /**
   * How a delegation limited to named assets applies (src/access/asset-limit.ts): `applied` (every
   * record the action reaches is cut to those assets), `not-asset-data` (reference data about no
   * one's assets). Absent: such a delegate is refused (AUTH-DELEGATION-ASSETS-ONLY), failing closed.
   */
  assetLimit?: 'applied' | 'not-asset-data';
  /**
   * The action is a household's (the `consumer` principal, docs/consumers.md): only a consumer token
   * performs it, and a consumer token performs nothing else. Its reach is the household's meter points.
   */
  consumer?: true;
}

/**
 * Which records an allowed caller reaches (roles in the action's `seesAll` reach all of them):
 * - `all`: every record;
 * - `own`: records its organisation owns or controls, or that are about it (events);
 * - `own-or-network`: for OWNER_ROLES the records it owns or controls, for NETWORK_ROLES the
 *   records on its DNO areas (`dnoCodes`);
 * - `own-organisation`: only its own organisation's record;
 * - `none`: the action names no existing record (a registration).
 * A record out of reach is a 404 (never a 403 that tells it exists) or absent from a list.
 */
export type Visibility = 'all' | 'own' | 'own-or-network' | 'own-organisation' | 'none';

/** Roles whose reach under `own-or-network` is what they own or control. */
export const OWNER_ROLES: readonly OrganisationRole[] = ['FSP', 'AGGREGATOR', 'ASSET_OWNER'];
/** Roles whose reach under `own-or-network` is the records on their networks. */
export const NETWORK_ROLES: readonly OrganisationRole[] = ['DNO', 'IDNO'];
/** Roles that see every record of every organisation. */
export const SEES_ALL: readonly OrganisationRole[] = ['MARKET_FACILITATOR', 'REGULATOR'];

const FSP_LIKE = ['FSP', 'AGGREGATOR'] as const;
const OPERATOR = ['MARKET_FACILITATOR'] as const;
/** Dispatch platforms: they resolve VEN IDs and are the BL role of OpenADR 3.1 (docs/openadr.md). */
const DISPATCH = ['SYSTEM_OPERATOR', 'INDEPENDENT_MARKET_PLATFORM'] as const;

export const PERMISSIONS = {
  'organisations.read': {
    scope: 'organisations:read',
    roles: 'any',
    description: 'Read organisations.',
    visibility: 'all',
    objectRule: 'Every organisation; the passport of another organisation only for the operator and regulator.',
    assetLimit: 'not-asset-data',
  },
  'organisations.register': {
    scope: 'organisations:write',
    roles: OPERATOR,
    description: 'Register an organisation (UC-01.02).',
    visibility: 'none',
    objectRule: 'Creates a record.',
  },
  'organisations.approve': {
    scope: 'organisations:write',
    roles: OPERATOR,
    description: 'Approve or reject an organisation awaiting approval, e.g. one an applicant submitted (UC-01.02, self-service).',
    visibility: 'all',
    objectRule: 'Every organisation; only one PENDING_APPROVAL is decided (ORG-NOT-PENDING otherwise).',
  },
  'organisations.update': {
    scope: 'organisations:write',
    roles: OPERATOR,
    description: 'Update any organisation, including its status (UC-01.03).',
    visibility: 'all',
    objectRule: 'Every organisation.',
  },
  'organisations.update-own': {
    scope: 'organisations:write',
    roles: 'any',
    description: 'Update one’s own passport and identifiers (UC-01.03).',
    visibility: 'own-organisation',
    objectRule: 'Only the caller’s own organisation; roles, status, DNO areas, registration number and type stay with the operator.',
  },
  'organisations.deregister': {
    scope: 'organisations:write',
    roles: OPERATOR,
    description: 'De-register an organisation (UC-01.04).',
    visibility: 'all',
    objectRule: 'Every organisation but the caller’s own (its route refuses that one).',
  },
  'assets.read': {
    scope: 'assets:read',
    roles: [...OPERATOR, 'REGULATOR', ...FSP_LIKE, 'ASSET_OWNER', 'DNO', 'IDNO'],
    description: 'Read, look up and export assets.',
    visibility: 'own-or-network',
    objectRule:
      'The operator and regulator every asset; FSPs and aggregators those they control now (the FSP link in force, never who registered the asset: an FSP that lost an asset by a switch no longer reaches it); asset owners those they own; DNOs/IDNOs those on their networks.',
    assetLimit: 'applied',
  },
  'assets.write': {
    scope: 'assets:write',
    roles: [...OPERATOR, ...FSP_LIKE],
    description: 'Register, update and de-register assets (UC-02.01 to UC-02.03).',
    visibility: 'own',
    objectRule:
      'The operator every asset; FSPs and aggregators those they control now (the FSP link in force), and they register only for themselves.',
    assetLimit: 'applied',
  },
  'assets.bulk-report': {
    scope: 'assets:write',
    roles: [...OPERATOR, ...FSP_LIKE],
    description: 'Read the full report of a bulk registration (every rejected row), kept 7 days.',
    visibility: 'own',
    seesAll: [],
    objectRule: 'Only the organisation that submitted the bulk request; not even the operator reads another organisation’s.',
  },
  'organisations.reads': {
    scope: 'organisations:read',
    roles: 'any',
    description:
      'List who read the organisation’s private data: its assets, passport and switch consent evidence, read by another organisation (UC-05.06, docs/audit.md).',
    visibility: 'own-organisation',
    objectRule:
      'The organisation itself; the operator and regulator every organisation’s. Scope organisations:read, which every client carries, so no client needs re-registering.',
  },
  'notices.read': {
    scope: 'organisations:read',
    roles: 'any',
    description:
      'Read the organisation’s notices: what it must act on and what is inconsistent, computed from the records that cause them (docs/notices.md).',
    visibility: 'own-organisation',
    objectRule:
      'The caller’s own organisation’s notices; the operator and regulator any organisation’s (`organisationId=`). Scope organisations:read, which every client carries.',
  },
  'audit.read': {
    scope: 'audit:read',
    roles: [...OPERATOR, 'REGULATOR'],
    description: 'Query, export and verify the audit trail (UC-05.06); each query and export is itself audited (audit.read).',
    visibility: 'all',
    objectRule: 'Every record’s trail.',
  },
  'metrics.read': {
    scope: 'metrics:read',
    roles: OPERATOR,
    description: 'Scrape the hub’s metrics (Prometheus text format; docs/operations.md).',
    visibility: 'all',
    objectRule: 'Figures about the whole hub; no record.',
    assetLimit: 'not-asset-data',
  },
  'cim.export': {
    scope: 'cim:export',
    roles: [...OPERATOR, 'REGULATOR', 'DNO', 'IDNO'],
    description: 'Export assets as CIM RDF/XML (UC-02.04 for DSOs).',
    visibility: 'own-or-network',
    objectRule: 'As assets.read: the operator and regulator every asset; DNOs/IDNOs those on their networks.',
    assetLimit: 'applied',
  },
  'cim.import': {
    scope: 'cim:import',
    roles: [...OPERATOR, 'DNO', 'IDNO'],
    description:
      'Import CIM RDF/XML: enrich assets matched by MPAN with network references, DSO mRIDs and the MPANs they lack; bulk-load also needs assets.write.',
    visibility: 'own-or-network',
    objectRule: 'Enriches only assets the caller can read (as assets.read); bulk-load registers as assets.write.',
  },
  'events.read': {
    scope: 'events:read',
    roles: [...OPERATOR, 'REGULATOR', 'SYSTEM_OPERATOR', 'INDEPENDENT_MARKET_PLATFORM', ...FSP_LIKE, 'DNO', 'IDNO'],
    description: 'Read the change event feed.',
    visibility: 'own',
    seesAll: [...OPERATOR, 'REGULATOR', 'SYSTEM_OPERATOR', 'INDEPENDENT_MARKET_PLATFORM'],
    objectRule: 'The operator, regulator, SOs and IMPs every event; others the events about their own organisation and records.',
    assetLimit: 'applied',
  },
  'clients.read': {
    scope: 'clients:read',
    roles: 'any',
    description: 'List and read API clients.',
    visibility: 'own',
    seesAll: OPERATOR,
    objectRule: 'The operator every client; others their own organisation’s.',
  },
  'clients.write': {
    scope: 'clients:write',
    roles: 'any',
    description: 'Register, rotate and revoke API clients.',
    visibility: 'own',
    seesAll: OPERATOR,
    objectRule: 'The operator for any organisation; others only for their own.',
  },
  'users.read': {
    scope: 'users:read',
    roles: 'any',
    description: 'List and read the people of an organisation (UC-01.01).',
    visibility: 'own-organisation',
    seesAll: OPERATOR,
    objectRule: 'The operator every organisation’s people; others their own organisation’s.',
  },
  'users.write': {
    scope: 'users:write',
    roles: 'any',
    description: 'Invite and deactivate people (UC-01.01).',
    visibility: 'own-organisation',
    seesAll: OPERATOR,
    objectRule: 'The operator in any organisation; others (their admins) in their own.',
  },
  'delegations.read': {
    scope: 'delegations:read',
    roles: 'any',
    description: 'List and read delegations (UC-05.04).',
    visibility: 'own',
    seesAll: OPERATOR,
    objectRule: 'The operator every delegation; others those they gave or received.',
  },
  'delegations.write': {
    scope: 'delegations:write',
    roles: [...OPERATOR, ...FSP_LIKE],
    description: 'Grant and revoke delegations (UC-05.04).',
    visibility: 'own',
    seesAll: OPERATOR,
    objectRule: 'FSPs and aggregators delegate their own rights and revoke what they gave; the operator for any FSP.',
  },
  'switches.request': {
    scope: 'switches:write',
    roles: FSP_LIKE,
    description: 'Request a switch of an asset to oneself, with the consumer’s consent (UC-02.06).',
    visibility: 'none',
    objectRule: 'Any registered asset, found by ID or alias; the consent must name the caller (or the FSP a delegate acts for).',
  },
  'switches.read': {
    scope: 'switches:read',
    roles: [...OPERATOR, 'REGULATOR', 'SYSTEM_OPERATOR', ...FSP_LIKE],
    description: 'Read switches and their consent evidence.',
    visibility: 'own',
    seesAll: [...OPERATOR, 'REGULATOR', 'SYSTEM_OPERATOR'],
    objectRule: 'The operator, regulator and System Operators every switch; FSPs those they lose or gain by.',
    assetLimit: 'applied',
  },
  'switches.withdraw': {
    scope: 'switches:write',
    roles: FSP_LIKE,
    description: 'Withdraw an open switch one requested.',
    visibility: 'own',
    seesAll: [],
    objectRule: 'Switches the caller is party to; only the gaining FSP withdraws (SWITCH-NOT-PARTY otherwise).',
    assetLimit: 'applied',
  },
  'switches.cancel': {
    scope: 'switches:write',
    roles: OPERATOR,
    description: 'Cancel an open switch.',
    visibility: 'all',
    objectRule: 'Every switch.',
  },
  'contracts.read': {
    scope: 'contracts:read',
    roles: [...OPERATOR, 'REGULATOR', 'SYSTEM_OPERATOR', ...FSP_LIKE],
    description: 'Read contracts and service windows.',
    visibility: 'own',
    objectRule: 'The operator and regulator every contract; System Operators those they recorded; FSPs those naming them.',
    assetLimit: 'applied',
  },
  'contracts.write': {
    scope: 'contracts:write',
    roles: [...OPERATOR, 'SYSTEM_OPERATOR'],
    description: 'Record contracts and confirm or terminate them.',
    visibility: 'own',
    seesAll: OPERATOR,
    objectRule: 'System Operators their own contracts; the operator every contract.',
  },
  'market-units.read': {
    scope: 'market-units:read',
    roles: [...OPERATOR, 'REGULATOR', 'SYSTEM_OPERATOR', ...FSP_LIKE, 'DNO', 'IDNO'],
    description: 'List and read market units and their history (UC-03.01 to UC-03.04).',
    visibility: 'own-or-network',
    seesAll: [...OPERATOR, 'REGULATOR', 'SYSTEM_OPERATOR'],
    objectRule:
      'The operator, regulator and System Operators every unit; FSPs and aggregators the units they control; DNOs/IDNOs the units with a member asset on their networks.',
    assetLimit: 'applied',
  },
  'market-units.write': {
    scope: 'market-units:write',
    roles: [...OPERATOR, ...FSP_LIKE],
    description: 'Create, update and de-register market units (UC-03.01, UC-03.03, UC-03.04).',
    visibility: 'own',
    seesAll: OPERATOR,
    objectRule: 'The operator every unit; FSPs and aggregators the units they control, and they create units only for themselves.',
    assetLimit: 'applied',
  },
  'market-units.reassign': {
    scope: 'market-units:write',
    roles: OPERATOR,
    description: 'Re-assign a market unit to a new FSP (UC-03.02).',
    visibility: 'all',
    objectRule: 'Every unit.',
  },
  'products.read': {
    scope: 'products:read',
    roles: 'any',
    description: 'Read the product catalogue, its history and the table of equivalences (UC-04.01, UC-04.03).',
    visibility: 'all',
    objectRule: 'Every product and equivalence.',
    assetLimit: 'not-asset-data',
  },
  'products.write': {
    scope: 'products:write',
    roles: OPERATOR,
    description: 'Create, update and retire products; record and withdraw equivalences (UC-04.01, UC-04.03).',
    visibility: 'all',
    objectRule: 'Every product and equivalence.',
  },
  'qualifications.record': {
    scope: 'qualifications:write',
    roles: ['SYSTEM_OPERATOR'],
    description: 'Record a market unit’s qualification outcome for a product (UC-04.02).',
    visibility: 'all',
    objectRule: 'Every unit, for the products the caller’s organisation owns (QUALIFICATION-NOT-PRODUCT-OWNER otherwise).',
  },
  'connection-limits.read': {
    scope: 'assets:read',
    roles: [...OPERATOR, 'REGULATOR', ...FSP_LIKE, 'DNO', 'IDNO'],
    description: 'List and read connection limits and their history (UC-02.05).',
    visibility: 'own',
    objectRule:
      'The operator and regulator every limit; DNOs/IDNOs the limits they recorded; FSPs and aggregators the limits of the connection points (MPANs) where they control an asset now (the FSP link in force: one that lost the asset by a switch no longer reads them). Scope assets:read: a limit is part of the asset’s shared view (UC-02.05).',
  },
  'connection-limits.write': {
    scope: 'connection-limits:write',
    roles: ['DNO', 'IDNO'],
    description: 'Record, change and withdraw the connection limits of connection points on one’s networks (UC-02.05).',
    visibility: 'own',
    seesAll: [],
    objectRule:
      'Records only at MPANs on the caller’s networks (the distributor ID’s DNO code, or a registered asset’s dno, in its dnoCodes; CONNECTION-LIMIT-NOT-NETWORK otherwise); changes and withdraws only the limits its organisation recorded.',
  },
  'data-shares.read': {
    scope: 'organisations:read',
    roles: 'any',
    description: 'List and read data shares, their history and the pulls made through them (UC-05.01, docs/sharing.md).',
    visibility: 'own',
    objectRule:
      'The operator and regulator every share; others the shares they granted or that name them as the platform. Scope organisations:read, which every client carries.',
  },
  'data-shares.write': {
    scope: 'organisations:write',
    roles: 'any',
    description:
      'Share one’s passport and assets with a platform organisation for a period; change (narrow) and revoke the share (UC-05.01).',
    visibility: 'own',
    seesAll: [],
    objectRule:
      'Grants only for the caller’s own organisation; changes and revokes only the shares it granted. Not even the operator shares another organisation’s data. Scope organisations:write, as for changing one’s passport.',
  },
  'data-shares.pull': {
    scope: 'organisations:read',
    roles: DISPATCH,
    description:
      'Pull, with the platform’s own credential, the passport and shared assets of an organisation that shares them with it (UC-05.01).',
    visibility: 'own',
    seesAll: [],
    objectRule:
      'Only through a share naming the caller’s organisation as the platform, while it is live (DATA-SHARE-NOT-LIVE otherwise), and only the assets it covers now; every pull is logged for the owner. Scope organisations:read, which every client carries, so no client needs re-registering.',
  },
  'webhooks.read': {
    scope: 'webhooks:read',
    roles: [...OPERATOR, 'REGULATOR', ...DISPATCH, ...FSP_LIKE, 'DNO', 'IDNO'],
    description: 'List and read webhook subscriptions and their deliveries (docs/events.md).',
    visibility: 'own',
    seesAll: OPERATOR,
    objectRule: 'The operator every subscription; others their own organisation’s.',
  },
  'webhooks.write': {
    scope: 'webhooks:write',
    roles: [...OPERATOR, 'REGULATOR', ...DISPATCH, ...FSP_LIKE, 'DNO', 'IDNO'],
    description: 'Subscribe to events by webhook; change, disable, delete, rotate secrets, replay deliveries.',
    visibility: 'own',
    seesAll: OPERATOR,
    objectRule: 'The operator every subscription (it subscribes only for itself); others their own organisation’s.',
  },
  'webhooks.test': {
    scope: 'webhooks:write',
    roles: [...OPERATOR, 'REGULATOR', ...DISPATCH, ...FSP_LIKE, 'DNO', 'IDNO'],
    description: 'Send a signed test event to a subscription, through the delivery path, and see its answer.',
    visibility: 'own',
    seesAll: [],
    objectRule: 'Only the subscription’s own organisation: not even the operator tests another organisation’s.',
  },
  'vtns.read': {
    scope: 'openadr:read',
    roles: 'any',
    description: 'Read the VTN records: the dispatch platforms the register knows.',
    visibility: 'all',
    objectRule: 'Every VTN record.',
    assetLimit: 'not-asset-data',
  },
  'vtns.write': {
    scope: 'openadr:write',
    roles: [...OPERATOR, ...DISPATCH],
    description: 'Register and update VTN records.',
    visibility: 'own',
    seesAll: OPERATOR,
    objectRule:
      'The operator every VTN record; SOs and IMPs those their organisation operates, and they register VTNs only for themselves.',
  },
  'vens.read': {
    scope: 'openadr:read',
    roles: [...OPERATOR, 'REGULATOR', ...DISPATCH, ...FSP_LIKE],
    description: 'Read VEN registrations and resolve VEN IDs to organisations and assets (natively and as OpenADR 3.1 vens and resources).',
    visibility: 'own',
    seesAll: [...OPERATOR, 'REGULATOR', ...DISPATCH],
    objectRule:
      'The operator, regulator, SOs and IMPs every registration and the assets behind it (the BL role of OpenADR 3.1); FSPs and aggregators their own organisation’s and those on VTNs it operates (in OpenADR 3.1 the VEN role: only their own client’s objects).',
  },
  'vens.write': {
    scope: 'openadr:write',
    roles: [...OPERATOR, ...DISPATCH, ...FSP_LIKE],
    description:
      'Record, update and cancel VEN registrations, natively, from a 2.0b oadrCreatedPartyRegistration or through OpenADR 3.1 /vens.',
    visibility: 'own',
    seesAll: OPERATOR,
    objectRule:
      'The operator every registration; FSPs and aggregators their own organisation’s; SOs and IMPs those on the VTNs their organisation operates.',
  },
  'vens.confirm': {
    scope: 'openadr:write',
    roles: DISPATCH,
    description: 'Confirm or reject the VEN registrations recorded on a VTN the organisation operates (docs/openadr.md).',
    visibility: 'own',
    seesAll: [],
    objectRule: 'Registrations on the VTNs the caller’s organisation operates; not even the operator confirms for a VTN’s operator.',
  },
  'catalogues.read': {
    scope: 'catalogues:read',
    roles: 'any',
    description: 'Read the catalogues (code lists), their codes and each code’s history (UC-05.07).',
    visibility: 'all',
    objectRule: 'Every catalogue and code.',
    assetLimit: 'not-asset-data',
  },
  'catalogues.write': {
    scope: 'catalogues:write',
    roles: OPERATOR,
    description: 'Add codes to extensible catalogues and change codes (label, description, active, effective dates) (UC-05.07).',
    visibility: 'all',
    objectRule: 'Every catalogue the policy lets change (docs/catalogues.md).',
  },
  'disputes.read': {
    scope: 'disputes:read',
    roles: 'any',
    description: 'List and read disputes, their comments and history (UC-05.03).',
    visibility: 'own',
    objectRule:
      'The operator and regulator every dispute; others those they raised and those on records they are a party to (an asset’s controlling FSP, its ASSET_OWNER and DNO; an organisation itself; a market unit’s FSP).',
    assetLimit: 'applied',
  },
  'disputes.raise': {
    scope: 'disputes:write',
    roles: 'any',
    description: 'Raise a dispute, with evidence, on a record one can see (UC-05.03).',
    visibility: 'none',
    objectRule:
      'Creates a record; the disputed record must be visible to the caller under its own read rule (404 as if missing otherwise).',
    assetLimit: 'applied',
  },
  'disputes.comment': {
    scope: 'disputes:write',
    roles: 'any',
    description: 'Comment and add evidence on an open dispute.',
    visibility: 'own',
    seesAll: OPERATOR,
    objectRule: 'The operator every dispute; others those they raised and those on records they are a party to.',
    assetLimit: 'applied',
  },
  'disputes.withdraw': {
    scope: 'disputes:write',
    roles: 'any',
    description: 'Withdraw a dispute before it is resolved.',
    visibility: 'own',
    seesAll: [],
    objectRule: 'Disputes the caller raised or is a party to; only the raiser withdraws (DISPUTE-NOT-RAISER otherwise).',
    assetLimit: 'applied',
  },
  'disputes.resolve': {
    scope: 'disputes:write',
    roles: OPERATOR,
    description:
      'Take a dispute under review and resolve it: Corrected (the correction applied through the record’s own update) or No Action Required.',
    visibility: 'all',
    objectRule: 'Every dispute.',
  },
  'data-quality.rules.read': {
    scope: 'data-quality:read',
    roles: [...OPERATOR, 'REGULATOR', ...FSP_LIKE, 'ASSET_OWNER', 'DNO', 'IDNO'],
    description: 'List and read the data quality rules and their versions (docs/data-quality.md).',
    visibility: 'all',
    objectRule: 'Every rule.',
    assetLimit: 'not-asset-data',
  },
  'data-quality.rules.write': {
    scope: 'data-quality:write',
    roles: OPERATOR,
    description: 'Create, change, deactivate and reactivate data quality rules.',
    visibility: 'all',
    objectRule: 'Every rule.',
  },
  'data-quality.read': {
    scope: 'data-quality:read',
    roles: [...OPERATOR, 'REGULATOR', ...FSP_LIKE, 'ASSET_OWNER', 'DNO', 'IDNO'],
    description: 'Read data quality findings and scorecards.',
    visibility: 'own-or-network',
    objectRule:
      'The operator and regulator everything; FSPs, aggregators and asset owners their organisation’s scorecard and the findings on assets they control now (FSPs, aggregators) or own (asset owners); DNOs/IDNOs the scorecards of their licence areas (`dnoCodes`) and the findings on assets on their networks.',
    assetLimit: 'applied',
  },
  'asset-submissions.submit': {
    scope: 'submissions:write',
    roles: ['INSTALLER', 'TECHNOLOGY_PROVIDER'],
    description: 'Submit an asset at the point of installation for the FSP that will control it to accept (UC-02.01 step 1).',
    visibility: 'none',
    objectRule: 'Creates a record naming an active FSP or aggregator.',
  },
  'asset-submissions.read': {
    scope: 'submissions:read',
    roles: [...OPERATOR, 'REGULATOR', 'INSTALLER', 'TECHNOLOGY_PROVIDER', ...FSP_LIKE],
    description: 'List and read asset submissions.',
    visibility: 'own',
    objectRule:
      'The operator and regulator every submission; installers and OEMs those they submitted; FSPs and aggregators those naming them.',
  },
  'asset-submissions.decide': {
    scope: 'submissions:write',
    roles: FSP_LIKE,
    description: 'Accept a submitted asset (it is registered as the FSP’s, with the consumer’s consent) or reject it with a reason.',
    visibility: 'own',
    seesAll: [],
    objectRule: 'Submissions the caller is party to; only the FSP named decides (SUBMISSION-NOT-PARTY otherwise).',
  },
  'data-quality.validate': {
    scope: 'data-quality:write',
    roles: OPERATOR,
    description: 'Run the external checks on an asset (meter point registry, MCS) and set it Verified or Query.',
    visibility: 'all',
    objectRule: 'Every registered asset.',
  },
  'consumer.read': {
    scope: 'consumer:read',
    roles: [],
    consumer: true,
    description:
      'A household reads what the register holds about its meter points: assets, FSP links, market units and products by name, consents, switches, its disputes, the portability export (UC-05.05).',
    visibility: 'own',
    seesAll: [],
    objectRule:
      'Only the live assets at the MPANs the household’s sign-in vouched for, and the consents, switches and reads about them; the disputes it raised. Never another meter, an organisation’s private data or an FSP’s commercial terms.',
  },
  'consumer.write': {
    scope: 'consumer:write',
    roles: [],
    consumer: true,
    description:
      'A household revokes a consent recorded for its meter point and raises or comments on a dispute about its asset (UC-05.05).',
    visibility: 'own',
    seesAll: [],
    objectRule: 'Only consents naming one of the household’s MPANs, assets at them, and the disputes it raised.',
  },
} as const satisfies Record<string, Permission>;

/** The scopes of a household's token (src/consumers/sign-in.ts): those of the consumer actions, and no other. */
export const CONSUMER_SCOPES: readonly string[] = [
  ...new Set((Object.values(PERMISSIONS) as Permission[]).filter((p) => p.consumer).map((p) => p.scope)),
].sort();

export type Action = keyof typeof PERMISSIONS;

/** Baseline scopes per role: what a token issued to an organisation with that role may carry. */
export function baselineScopes(roles: readonly OrganisationRole[]): string[] {
  const scopes = new Set<string>();
  for (const p of Object.values(PERMISSIONS) as Permission[]) {
    if (p.consumer) continue;
    if (p.roles === 'any' || p.roles.some((r) => roles.includes(r))) scopes.add(p.scope);
  }
  return [...scopes].sort();
}

/**
 * Which roles' tokens may carry each OpenADR 3.1 scope (docs/openadr.md, "Scopes"): the BL side
 * (the roles that read every registration: the operator, the regulator, SOs and IMPs; writes only
 * for those with vens.write) and the VEN side (FSPs and aggregators), as the document's scope
 * descriptions split them. The hub's own scopes stay what the matrix above gives.
 */
export const OPENADR_SCOPE_ROLES: Record<OadrScope, readonly OrganisationRole[]> = {
  read_all: [...OPERATOR, 'REGULATOR', ...DISPATCH],
  read_targets: [...OPERATOR, 'REGULATOR', ...DISPATCH, ...FSP_LIKE],
  read_ven_objects: [...OPERATOR, 'REGULATOR', ...DISPATCH, ...FSP_LIKE],
  write_programs: [...OPERATOR, ...DISPATCH],
  write_events: [...OPERATOR, ...DISPATCH],
  write_reports: FSP_LIKE,
  write_subscriptions: [...OPERATOR, ...DISPATCH, ...FSP_LIKE],
  write_vens: [...OPERATOR, ...DISPATCH, ...FSP_LIKE],
};

/** The OpenADR 3.1 scopes a token of an organisation with these roles may carry. */
export function openadrScopes(roles: readonly OrganisationRole[]): OadrScope[] {
  return (Object.keys(OPENADR_SCOPE_ROLES) as OadrScope[]).filter((s) => OPENADR_SCOPE_ROLES[s].some((r) => roles.includes(r)));
}

/** Whether one of these roles may perform the action (the role half of checkPermission); never a household's action. */
export function roleMay(action: Action, roles: readonly OrganisationRole[]): boolean {
  const p: Permission = PERMISSIONS[action];
  if (p.consumer) return false;
  return p.roles === 'any' || roles.some((r) => p.roles.includes(r));
}

/** Whether a household (the consumer principal) may perform the action: the consumer actions only. */
export function consumerMay(action: Action): boolean {
  return (PERMISSIONS[action] as Permission).consumer === true;
}

/** What an allowed caller with these roles reaches under an action's object-level rule. */
export interface Reach {
  all: boolean;
  own: boolean;
  network: boolean;
  ownOrganisation: boolean;
}

export function reach(action: Action, roles: readonly OrganisationRole[]): Reach {
  const p: Permission = PERMISSIONS[action];
  const has = (rs: readonly OrganisationRole[]) => roles.some((r) => rs.includes(r));
  const all = p.visibility === 'all' || p.visibility === 'none' || has(p.seesAll ?? SEES_ALL);
  return {
    all,
    own: !all && (p.visibility === 'own' || (p.visibility === 'own-or-network' && has(OWNER_ROLES))),
    network: !all && p.visibility === 'own-or-network' && has(NETWORK_ROLES),
    ownOrganisation: !all && p.visibility === 'own-organisation',
  };
}

/**
 * A route whose action depends on whether its `{id}` path parameter is the caller's own
 * organisation; `refused` refuses everyone (AUTH-ROLE-FORBIDDEN).
 */
export interface ByOrganisation {
  own: Action | 'refused';
  other: Action;
}
export type RouteAction = Action | ByOrganisation;

/** The action an entry needs, given whether the target organisation is the caller's own. */
export function routeAction(entry: RouteAction, ownOrganisation: boolean): Action | 'refused' {
  return typeof entry === 'string' ? entry : ownOrganisation ? entry.own : entry.other;
}
