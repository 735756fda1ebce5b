import type { Principal } from '../access/principal';
import type { Ctx } from '../context';
import { admitApplicant, applicantByToken, applicantPrincipal, markApplicantSubmitted, refuseApplicant } from '../identity/applicants';
import type { Applicant, CompanyCheck } from '../identity/applicants';
import type { ExternalRegistries } from '../quality/registries';
import { revocations } from '../identity/revocations';
import { Problem } from '../http/problem';
import type { Organisation, OrganisationApplication } from '../organisations/schema';
import { decideOrganisationIn, getOrganisationRow, registerOrganisation, toOrganisation } from '../organisations/service';

/**
 * Self-service onboarding (UC-01.01, UC-01.02): an applicant (src/identity/applicants.ts) submits
 * their organisation, registered PENDING_APPROVAL by the organisation resource's own registration
 * (every field rule, the Companies House number format, a duplicate named by `existing`); the
 * operator approves it (ACTIVE, the applicant its first ADMIN) or rejects it with a reason the
 * applicant reads. Each step is one transaction over both resources.
 */

export interface Application {
  applicant: Applicant;
  organisation: Organisation | null;
}

/** Types whose registration number is a Companies House number: the companies register is asked about them. */
const COMPANY_TYPES = ['LTD', 'PLC', 'LLP'];

/** Ask the companies register, outside any transaction; its answer is kept on the application for the operator, never a refusal. */
async function checkCompany(registries: ExternalRegistries, input: OrganisationApplication): Promise<CompanyCheck | null> {
  if (!COMPANY_TYPES.includes(input.organisationType)) return null;
  const number = input.registrationNumber.toUpperCase();
  if (!registries.companies) return { result: 'NOT_CONFIGURED', number, name: null, status: null };
  try {
    const c = await registries.companies.company(number);
    return c ? { result: 'FOUND', number, name: c.name, status: c.status } : { result: 'NOT_FOUND', number, name: null, status: null };
  } catch {
    return { result: 'UNAVAILABLE', number, name: null, status: null };
  }
}

export async function submitOrganisation(
  ctx: Ctx,
  registries: ExternalRegistries,
  token: string | undefined,
  input: OrganisationApplication,
): Promise<Application> {
  const now = ctx.clock.now();
  // The token is checked before the registry is asked, so an anonymous caller cannot use the hub to query it.
  await applicantByToken(ctx.db, token);
  const companyCheck = await checkCompany(registries, input);
  return ctx.db.transaction(async (tx) => {
    const applicant = await applicantByToken(tx, token, true);
    if (applicant.status !== 'REGISTERED') throw new Problem('APPLICANT-ALREADY-SUBMITTED', `The application is ${applicant.status}.`);
    const organisation = await registerOrganisation(ctx, applicantPrincipal(applicant), { ...input, status: 'PENDING_APPROVAL' }, { tx });
    return { applicant: await markApplicantSubmitted(tx, ctx, applicant, organisation.id, companyCheck, now), organisation };
  });
}

/** What the applicant sees of their application: its status, the operator's reason, their organisation (passport included). */
export async function applicationOf(ctx: Ctx, token: string | undefined): Promise<Application> {
  const applicant = await applicantByToken(ctx.db, token);
  const row = applicant.organisationId ? await getOrganisationRow(ctx.db, applicant.organisationId) : undefined;
  return { applicant, organisation: row ? toOrganisation(row) : null };
}

/** The operator approves: the organisation ACTIVE, its applicant (if any) its first ADMIN. */
export async function approveOrganisation(ctx: Ctx, actor: Principal, id: string, note?: string) {
  const out = await ctx.db.transaction(async (tx) => {
    const organisation = await decideOrganisationIn(tx, ctx, actor, id, { approve: true, note });
    const admitted = await admitApplicant(tx, ctx, actor, id, ctx.clock.now());
    return { organisation, applicantId: admitted?.applicantId ?? null, adminUserId: admitted?.userId ?? null };
  });
  revocations.emit();
  return out;
}

/** The operator rejects with a reason: the organisation WITHDRAWN, its applicant (if any) REJECTED with that reason. */
export async function rejectOrganisation(ctx: Ctx, actor: Principal, id: string, reason: string) {
  const out = await ctx.db.transaction(async (tx) => {
    const organisation = await decideOrganisationIn(tx, ctx, actor, id, { approve: false, reason });
    const applicantId = await refuseApplicant(tx, ctx, actor, id, reason, ctx.clock.now());
    return { organisation, applicantId: applicantId ?? null };
  });
  revocations.emit();
  return out;
}
