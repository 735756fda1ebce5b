import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountScopes, checkLogin } from '../src/identity/users';
import { MemoryRegistries } from '../src/quality/registries';
import { DEMO, expectRefused, invalid, testHub, type TestHub } from './harness';

/**
 * Self-service onboarding (UC-01.01, UC-01.02; docs/organisations.md, "Self-service onboarding"),
 * end to end: an applicant registers, submits their organisation (PENDING_APPROVAL), the operator
 * approves (the applicant is its first ADMIN and signs in) or rejects with a reason the applicant reads.
 */

let hub: TestHub;
const TABLES = ['organisation', 'applicant', 'app_user', 'record_history', 'audit_log', 'event_outbox'];
const PASSWORD = 'correct horse battery staple';

/** The companies register the submission asks (src/quality/registries.ts), in memory. */
const companies = new MemoryRegistries();
beforeAll(async () => {
  hub = await testHub();
  hub.ports.registries = companies;
  companies.companyList.set('12345678', { number: '12345678', name: 'APPLICANT 12345678 LIMITED', status: 'active' });
});
afterAll(async () => {
  await hub?.close();
});

const register = (body: unknown) => hub.call('POST', '/onboarding/applicants', { body });
const application = (token?: string) =>
  hub.call('GET', '/onboarding/application', { headers: token ? { authorization: `Bearer ${token}` } : {} });
const submit = (token: string, body: unknown) =>
  hub.call('POST', '/onboarding/application', { body, headers: { authorization: `Bearer ${token}` } });

function organisation(registrationNumber: string, extra: Record<string, unknown> = {}) {
  return {
    legalName: `Applicant ${registrationNumber} Ltd`,
    organisationType: 'LTD',
    registrationNumber,
    roles: ['FSP'],
    passport: {
      contacts: { primary: { firstName: 'Ada', lastName: 'Applicant', email: 'ada@applicant.example', mobile: '+447700900123' } },
      registeredAddress: { lines: ['1 High Street'], town: 'Leeds', postcode: 'LS1 1AA', country: 'GB' },
    },
    ...extra,
  };
}

async function applicant(email: string) {
  const r = await register({ email, name: 'Ada Applicant', password: PASSWORD });
  expect(r.status, r.text).toBe(201);
  return r.json as { applicant: { id: string; status: string }; token: string };
}

describe('self-service onboarding', () => {
  it('register, submit, approve: the applicant becomes the organisation’s first ADMIN and signs in', async () => {
    const a = await applicant('ada@applicant.example');
    expect(a.applicant).toMatchObject({ email: 'ada@applicant.example', status: 'REGISTERED', organisationId: null, userId: null });
    expect(a.token.startsWith('fmar-applicant-')).toBe(true);
    const seen = await application(a.token);
    expect([seen.status, seen.json.applicant.status, seen.json.organisation]).toEqual([200, 'REGISTERED', null]);
    // Not a person yet: no sign-in before the organisation is approved.
    expect(await checkLogin(hub.ctx, 'ada@applicant.example', PASSWORD)).toEqual({ error: 'The email or password is not right.' });

    const s = await submit(a.token, organisation('12345678'));
    expect(s.status, s.text).toBe(201);
    const orgId = s.json.organisation.id as string;
    expect(s.json.organisation).toMatchObject({ status: 'PENDING_APPROVAL', registrationNumber: '12345678', roles: ['FSP'] });
    expect(s.json.applicant).toMatchObject({ status: 'SUBMITTED', organisationId: orgId, version: 2 });
    // The companies register's answer, kept for the operator.
    expect(s.json.applicant.companyCheck).toEqual({
      result: 'FOUND',
      number: '12345678',
      name: 'APPLICANT 12345678 LIMITED',
      status: 'active',
    });
    // The operator is told; nobody else.
    const waiting = await hub.call('GET', `/api/v1/notices?kind=ORGANISATION_AWAITING_APPROVAL&recordId=${orgId}`, { as: 'operator' });
    expect(waiting.json.items.map((n: { id: string }) => n.id)).toEqual([`ORGANISATION_AWAITING_APPROVAL:${orgId}`]);
    const other = await hub.call('GET', `/api/v1/notices?recordId=${orgId}`, { as: 'fsp-a' });
    expect(other.json.items).toEqual([]);

    await expectRefused(
      hub.db,
      TABLES,
      () => hub.call('POST', `/api/v1/organisations/${orgId}/approve`, { as: 'fsp-a', body: {} }),
      403,
      'AUTH-ROLE-FORBIDDEN',
    );
    const ok = await hub.call('POST', `/api/v1/organisations/${orgId}/approve`, { as: 'operator', body: { note: 'checked' } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.organisation).toMatchObject({ id: orgId, status: 'ACTIVE', version: 2 });
    const userId = ok.json.adminUserId as string;
    expect(ok.json.applicantId).toBe(a.applicant.id);
    const after = await application(a.token);
    expect(after.json.applicant).toMatchObject({ status: 'APPROVED', userId, decisionReason: null });
    expect(after.json.organisation.status).toBe('ACTIVE');

    const [person] = await hub.db.query(`SELECT organisation_id, email, user_role, status FROM app_user WHERE id = $1`, [userId]);
    expect(person).toEqual({ organisation_id: orgId, email: 'ada@applicant.example', user_role: 'ADMIN', status: 'ACTIVE' });
    expect(await checkLogin(hub.ctx, 'ada@applicant.example', PASSWORD)).toEqual({ accountId: userId });
    expect(await accountScopes(hub.ctx, userId)).toContain('users:write');

    const audit = await hub.db.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE organisation_id = $1 OR record_id = $2 ORDER BY id`,
      [orgId, a.applicant.id],
    );
    expect(audit.map((r) => r.action)).toEqual([
      'applicant.registered',
      'organisation.registered',
      'applicant.submitted',
      'organisation.approved',
      'applicant.approved',
      'user.registered',
    ]);
    const events = await hub.db.query<{ type: string }>(`SELECT type FROM event_outbox WHERE organisation_id = $1 ORDER BY id`, [orgId]);
    expect(events.map((e) => e.type)).toEqual(['fmar.organisation.registered', 'fmar.organisation.approved', 'fmar.user.registered']);
    expect((await hub.call('GET', `/api/v1/notices?recordId=${orgId}`, { as: 'operator' })).json.items).toEqual([]);
    await expectRefused(
      hub.db,
      TABLES,
      () => hub.call('POST', `/api/v1/organisations/${orgId}/approve`, { as: 'operator', body: {} }),
      409,
      'ORG-NOT-PENDING',
    );
    // The new admin's organisation works like any other: an ACTIVE FSP registers assets.
    const token = await hub.token({ org: orgId, roles: ['FSP'], sub: userId });
    const me = await hub.call('GET', `/api/v1/organisations/${orgId}`, { as: token });
    expect([me.status, me.json.passport.contacts.primary.email]).toEqual([200, 'ada@applicant.example']);
  });

  it('reject with a reason: the applicant reads it; the organisation is WITHDRAWN', async () => {
    const a = await applicant('rex@applicant.example');
    // The register does not answer: the application is taken all the same, and says so.
    companies.down.companies = true;
    const s = await submit(a.token, organisation('SC123456', { organisationType: 'LTD' }));
    companies.down.companies = false;
    expect(s.status, s.text).toBe(201);
    expect(s.json.applicant.companyCheck).toEqual({ result: 'UNAVAILABLE', number: 'SC123456', name: null, status: null });
    const orgId = s.json.organisation.id as string;
    await expectRefused(
      hub.db,
      TABLES,
      () => hub.call('POST', `/api/v1/organisations/${orgId}/reject`, { as: 'operator', body: { reason: '' } }),
      422,
      invalid('reason', 'ORG-DECISION-REASON'),
    );
    const r = await hub.call('POST', `/api/v1/organisations/${orgId}/reject`, {
      as: 'operator',
      body: { reason: 'The Companies House record names another director.' },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json.organisation).toMatchObject({ status: 'WITHDRAWN' });
    expect(r.json.applicantId).toBe(a.applicant.id);
    const seen = await application(a.token);
    expect(seen.json.applicant).toMatchObject({
      status: 'REJECTED',
      decisionReason: 'The Companies House record names another director.',
      userId: null,
    });
    expect(seen.json.organisation.status).toBe('WITHDRAWN');
    expect(await checkLogin(hub.ctx, 'rex@applicant.example', PASSWORD)).toEqual({ error: 'The email or password is not right.' });
    const [event] = await hub.db.query(`SELECT data FROM event_outbox WHERE type = 'fmar.organisation.rejected' AND subject = $1`, [orgId]);
    expect(event.data).toMatchObject({ status: 'WITHDRAWN', reason: 'The Companies House record names another director.' });
  });

  it('refuses what breaks a rule, writing nothing', async () => {
    const a = await applicant('val@applicant.example');
    // Companies House format for LTD.
    await expectRefused(
      hub.db,
      TABLES,
      () => submit(a.token, organisation('ABC')),
      422,
      invalid('registrationNumber', 'ORG-REGISTRATION-NUMBER-FORMAT'),
    );
    // The passport is required of an applicant.
    const { passport: _p, ...noPassport } = organisation('12345670');
    await expectRefused(hub.db, TABLES, () => submit(a.token, noPassport), 422, invalid('passport', 'REQUEST-FIELD-REQUIRED'));
    // The status is the operator's.
    await expectRefused(
      hub.db,
      TABLES,
      () => submit(a.token, organisation('12345670', { status: 'ACTIVE' })),
      422,
      invalid('status', 'REQUEST-UNKNOWN-FIELD'),
    );
    // A duplicate: the existing organisation's ID.
    const [fspA] = await hub.db.query<{ registration_number: string }>(`SELECT registration_number FROM organisation WHERE id = $1`, [
      DEMO['fsp-a'],
    ]);
    const dup = await expectRefused(hub.db, TABLES, () => submit(a.token, organisation(fspA.registration_number)), 409, 'ORG-DUPLICATE');
    expect(dup.existing.id).toBe(DEMO['fsp-a']);
    // No token, or one that is not an applicant's.
    await expectRefused(hub.db, TABLES, () => application(), 401, 'APPLICANT-TOKEN-INVALID');
    await expectRefused(
      hub.db,
      TABLES,
      () => submit('fmar-applicant-not-a-token', organisation('12345670')),
      401,
      'APPLICANT-TOKEN-INVALID',
    );
    // A weak password, an email already taken (by an applicant or a person).
    await expectRefused(
      hub.db,
      TABLES,
      () => register({ email: 'weak@applicant.example', name: 'W', password: 'short' }),
      422,
      invalid('password', 'USER-PASSWORD-WEAK'),
    );
    await expectRefused(
      hub.db,
      TABLES,
      () => register({ email: 'VAL@applicant.example', name: 'V', password: PASSWORD }),
      409,
      'USER-EMAIL-TAKEN',
    );
    const [person] = await hub.db.query<{ email: string }>(`SELECT email FROM app_user ORDER BY id LIMIT 1`);
    await expectRefused(hub.db, TABLES, () => register({ email: person.email, name: 'P', password: PASSWORD }), 409, 'USER-EMAIL-TAKEN');
    // One application per applicant.
    const calls = companies.calls;
    const s = await submit(a.token, organisation('12345670'));
    expect(s.status, s.text).toBe(201);
    expect(s.json.applicant.companyCheck.result).toBe('NOT_FOUND');
    // One question to the register for the submission.
    expect(companies.calls).toBe(calls + 1);
    await expectRefused(hub.db, TABLES, () => submit(a.token, organisation('12345671')), 409, 'APPLICANT-ALREADY-SUBMITTED');
  });
});
