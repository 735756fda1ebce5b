import type { CimIssue, ExtractedOrganisation } from '../../cim/index';
import { roleMay } from '../access/permissions';
import type { Principal } from '../access/principal';
import { isCompaniesHouseNumber, isEic } from '../catalogue/identifiers';
import type { Ctx } from '../context';
import type { Organisation } from '../organisations/schema';
import { getOrganisationRow, toOrganisation, updateOrganisationIn } from '../organisations/service';
import type { RuleCode } from '../rules';
import type { Sql } from '../storage/db';

type ImportIssue = Omit<CimIssue, 'code'> & { code: RuleCode };

/**
 * The file's Organisations matched to registered organisations by their identifiers (EIC, and
 * Companies House numbers, which are also the registration number of a LTD, PLC or LLP), and the
 * identifiers the file adds offered as an enrichment: written through the organisation's own
 * versioned update (history, audit `organisation.updated`, event) when the importer may update that
 * organisation (the operator any, others their own), otherwise reported as offered to the operator.
 */

type Scheme = ExtractedOrganisation['identifiers'][number]['scheme'];
const CHECKS: Record<Scheme, (v: string) => boolean> = { EIC: isEic, COMPANIES_HOUSE: isCompaniesHouseNumber };
const COMPANIES_HOUSE_TYPES = ['LTD', 'PLC', 'LLP'];
/** An organisation holds at most this many identifiers (src/organisations/schema.ts). */
const MAX_IDENTIFIERS = 20;

export interface OrganisationOutcome {
  mrid: string;
  name?: string;
  roles: string[];
  identifiers: { scheme: Scheme; value: string }[];
  status: 'matched' | 'unmatched' | 'ambiguous';
  organisationId?: string;
  /** The identifiers it was matched by (`EIC:…`, `COMPANIES_HOUSE:…`). */
  matchedBy?: string[];
  outcome?: 'enriched' | 'would-enrich' | 'offered' | 'unchanged';
  /** Identifiers of the file the organisation lacks (what the enrichment adds). */
  add?: { scheme: Scheme; value: string }[];
  /** Identifiers of the file that fail their scheme's check; never offered. */
  invalid?: { scheme: Scheme; value: string }[];
}

export interface OrganisationsReport {
  matched: number;
  unmatched: number;
  enriched: number;
  wouldEnrich: number;
  offered: number;
  unchanged: number;
  items: OrganisationOutcome[];
}

interface Candidate {
  id: string;
  keys: string[];
}

const keyOf = (scheme: string, value: string) => `${scheme}:${value.trim().toUpperCase()}`;

/** Registered organisations (not withdrawn) holding any of the file's identifiers; a read outside the import's transaction. */
export async function matchOrganisations(
  ctx: Ctx,
  orgs: ExtractedOrganisation[],
): Promise<
  {
    org: ExtractedOrganisation;
    valid: ExtractedOrganisation['identifiers'];
    invalid: ExtractedOrganisation['identifiers'];
    ids: Candidate[];
  }[]
> {
  const split = orgs.map((org) => ({
    org,
    valid: org.identifiers.filter((i) => CHECKS[i.scheme](i.value)),
    invalid: org.identifiers.filter((i) => !CHECKS[i.scheme](i.value)),
  }));
  const wanted = [...new Set(split.flatMap((o) => o.valid.map((i) => keyOf(i.scheme, i.value))))];
  const byKey = new Map<string, Set<string>>();
  if (wanted.length) {
    const rows = await ctx.db.query<{ id: string; k: string }>(
      `SELECT o.id, (i->>'scheme') || ':' || upper(i->>'value') AS k FROM organisation o, jsonb_array_elements(o.identifiers) i
        WHERE o.status <> 'WITHDRAWN' AND (i->>'scheme') || ':' || upper(i->>'value') IN (SELECT jsonb_array_elements_text($1::jsonb))
      UNION
      SELECT o.id, 'COMPANIES_HOUSE:' || upper(o.registration_number) FROM organisation o
        WHERE o.status <> 'WITHDRAWN' AND o.organisation_type IN (SELECT jsonb_array_elements_text($2::jsonb))
          AND 'COMPANIES_HOUSE:' || upper(o.registration_number) IN (SELECT jsonb_array_elements_text($1::jsonb))`,
      [wanted, COMPANIES_HOUSE_TYPES],
    );
    for (const r of rows) {
      const s = byKey.get(r.k) ?? new Set<string>();
      s.add(r.id);
      byKey.set(r.k, s);
    }
  }
  return split.map((o) => {
    const ids = new Map<string, string[]>();
    for (const i of o.valid) {
      const k = keyOf(i.scheme, i.value);
      for (const id of byKey.get(k) ?? []) ids.set(id, [...(ids.get(id) ?? []), k]);
    }
    return { ...o, ids: [...ids].map(([id, keys]) => ({ id, keys })).sort((a, b) => (a.id < b.id ? -1 : 1)) };
  });
}

/** Report each file organisation as matched / unmatched, and add the identifiers it lacks where the importer may (never in a dry run, nor when only reporting). */
export async function enrichOrganisations(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  matches: Awaited<ReturnType<typeof matchOrganisations>>,
  issues: ImportIssue[],
  dryRun: boolean,
  /** False: report only (a bulk-load), every missing identifier offered. */
  apply = true,
): Promise<OrganisationsReport> {
  const report: OrganisationsReport = { matched: 0, unmatched: 0, enriched: 0, wouldEnrich: 0, offered: 0, unchanged: 0, items: [] };
  // Two file organisations matched to one registered organisation add to it once, in one version.
  const done = new Set<string>();
  for (const m of matches) {
    const base = {
      mrid: m.org.mrid,
      ...(m.org.name !== undefined ? { name: m.org.name } : {}),
      roles: m.org.roles,
      identifiers: m.org.identifiers,
      ...(m.invalid.length ? { invalid: m.invalid } : {}),
    };
    if (m.ids.length !== 1) {
      report.unmatched++;
      const status = m.ids.length ? 'ambiguous' : 'unmatched';
      report.items.push({ ...base, status });
      issues.push({
        code: 'CIM-ORGANISATION-NOT-FOUND',
        message: m.ids.length
          ? `Organisation ${m.org.name ?? m.org.mrid}: its identifiers match ${m.ids.length} registered organisations (${m.ids.map((c) => c.id).join(', ')}); none was chosen.`
          : m.valid.length
            ? `Organisation ${m.org.name ?? m.org.mrid}: no registered organisation has ${m.valid.map((i) => keyOf(i.scheme, i.value)).join(' or ')}.`
            : `Organisation ${m.org.name ?? m.org.mrid} carries no valid EIC or Companies House number to match by.`,
        ...m.org.at,
      });
      continue;
    }
    report.matched++;
    const { id, keys } = m.ids[0];
    const row = await getOrganisationRow(tx, id, !dryRun);
    const current: Organisation = toOrganisation(row!);
    const have = new Set((current.identifiers ?? []).map((i) => keyOf(i.scheme, i.value)));
    if (COMPANIES_HOUSE_TYPES.includes(current.organisationType)) have.add(keyOf('COMPANIES_HOUSE', current.registrationNumber));
    const add = m.valid.filter((i) => !have.has(keyOf(i.scheme, i.value)));
    const item: OrganisationOutcome = { ...base, status: 'matched', organisationId: id, matchedBy: keys, add };
    report.items.push(item);
    if (!add.length || done.has(id)) {
      item.outcome = 'unchanged';
      report.unchanged++;
      continue;
    }
    const mayUpdate = roleMay('organisations.update', actor.roles) || actor.organisationId === id;
    const fits = (current.identifiers ?? []).length + add.length <= MAX_IDENTIFIERS;
    if (!apply || !mayUpdate || !fits) {
      item.outcome = 'offered';
      report.offered++;
      continue;
    }
    if (dryRun) {
      item.outcome = 'would-enrich';
      report.wouldEnrich++;
      continue;
    }
    done.add(id);
    await updateOrganisationIn(tx, ctx, actor, id, { identifiers: [...(current.identifiers ?? []), ...add] }, current.version);
    item.outcome = 'enriched';
    report.enriched++;
  }
  return report;
}
