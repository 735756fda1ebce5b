import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CimWriter, ulidToMrid } from '../cim/index';
import { systemPrincipal } from '../src/access/principal';
import {
  claimCimJob,
  enqueueCimImport,
  runCimJob,
  runCimJobsOnce,
  startCimJobWorker,
  type CimImportJob,
  type CimJobWorkerOptions,
} from '../src/cim/jobs';
import type { Problem } from '../src/http/problem';
import { registerOrganisation } from '../src/organisations/service';
import { DEMO, batteryInput, mpanFor, rowCounts, testHub, type TestHub } from './harness';

/** CIM import jobs: queued, run by a worker under a lease, progress while running, the report at the end; all or nothing. */

const RDF_NS = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const MAX = 64 * 1_048_576;

let hub: TestHub;
let otherDno: string;
beforeAll(async () => {
  hub = await testHub();
  const org = await registerOrganisation(hub.ctx, systemPrincipal('test'), {
    legalName: 'Other Networks Ltd',
    organisationType: 'LTD',
    registrationNumber: '07700077',
    roles: ['IDNO'],
    status: 'ACTIVE',
    dnoCodes: ['IDNO_24'],
    passport: { contacts: { primary: { firstName: 'Ola', lastName: 'Net', email: 'ola@other.example' } } },
  });
  otherDno = org.id;
});
afterAll(async () => {
  await hub?.close();
});

let n = 0;
async function register(body: unknown) {
  const r = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}

/** A DSO file (CIM100, CIMHub style) placing the equipment with this MPAN on a feeder of a substation. */
function dsoFile(mpan: string, mrid: string) {
  return `<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="${RDF_NS}" xmlns:c="http://iec.ch/TC57/CIM100#">
<c:Substation rdf:about="urn:uuid:5B000000-0000-4000-8000-000000000002"/>
<c:Feeder rdf:about="urn:uuid:F0000000-0000-4000-8000-000000000002"><c:Feeder.NormalEnergizingSubstation rdf:resource="urn:uuid:5B000000-0000-4000-8000-000000000002"/></c:Feeder>
<c:PowerElectronicsConnection rdf:about="urn:uuid:${mrid}"><c:IdentifiedObject.mRID>${mrid}</c:IdentifiedObject.mRID><c:Equipment.EquipmentContainer rdf:resource="urn:uuid:F0000000-0000-4000-8000-000000000002"/></c:PowerElectronicsConnection>
<c:UsagePoint rdf:about="urn:uuid:0B000000-0000-4000-8000-000000000002"><c:UsagePoint.Equipments rdf:resource="urn:uuid:${mrid}"/></c:UsagePoint>
<c:NameType rdf:about="urn:uuid:0E000000-0000-4000-8000-000000000002"><c:NameType.name>MPAN</c:NameType.name></c:NameType>
<c:Name rdf:about="urn:uuid:0A000000-0000-4000-8000-000000000002"><c:Name.name>${mpan}</c:Name.name><c:Name.NameType rdf:resource="urn:uuid:0E000000-0000-4000-8000-000000000002"/><c:Name.IdentifiedObject rdf:resource="urn:uuid:0B000000-0000-4000-8000-000000000002"/></c:Name>
</rdf:RDF>`;
}

const queue = (as: string, xml: string, query = '?mode=enrich') =>
  hub.call('POST', `/api/v1/cim/import-jobs${query}`, { as, text: xml, contentType: 'application/rdf+xml' });
const worker = (name: string, extra: Partial<CimJobWorkerOptions> = {}): CimJobWorkerOptions => ({
  worker: name,
  leaseMs: 60_000,
  ...extra,
});
const version = async (id: string) => (await hub.call('GET', `/api/v1/assets/${id}`, { as: 'operator' })).json.version as number;
const filesOf = async (id: string) =>
  (await hub.db.query(`SELECT count(*)::int AS n FROM cim_import_job_file WHERE job_id = $1`, [id]))[0].n;

describe('import jobs (POST /api/v1/cim/import-jobs)', () => {
  it('queue → 202 with Location; a worker runs it with progress visible while it runs; the report is the synchronous import’s', async () => {
    const a = await register(batteryInput(++n));
    const mrid = 'B1B2C3D4-0000-4000-8000-0000000000B1';
    const xml = dsoFile(a.importMpan, mrid);
    const q = await queue('dno', xml);
    expect(q.status, JSON.stringify(q.json)).toBe(202);
    expect(q.headers.get('location')).toBe(`/api/v1/cim/import-jobs/${q.json.id}`);
    expect(q.json).toMatchObject({
      status: 'QUEUED',
      mode: 'enrich',
      dryRun: false,
      unit: 'W',
      organisationId: DEMO.dno,
      attempt: 0,
      startedAt: null,
      report: null,
      files: [{ name: 'body.xml', bytes: Buffer.byteLength(xml) }],
      progress: { bytesTotal: Buffer.byteLength(xml), bytesParsed: 0 },
    });
    const early = await hub.call('GET', `/api/v1/cim/import-jobs/${q.json.id}/report`, { as: 'dno' });
    expect([early.status, early.json.code]).toEqual([409, 'CIM-JOB-NOT-FINISHED']);

    // What a client polling the job sees while the worker runs it.
    const seen: CimImportJob[] = [];
    const ran = await runCimJobsOnce(
      hub.ctx,
      worker('w1', {
        afterProgress: async () => {
          seen.push((await hub.call('GET', q.headers.get('location')!, { as: 'dno' })).json);
        },
      }),
      MAX,
    );
    expect(ran).toBe(1);
    expect(seen.map((s) => [s.status, s.progress.phase])).toEqual([
      ['RUNNING', 'parsing'],
      ['RUNNING', 'writing'],
    ]);
    expect(seen[0]).toMatchObject({
      attempt: 1,
      startedAt: hub.clock.now().toISOString(),
      finishedAt: null,
      progress: { bytesParsed: Buffer.byteLength(xml) },
    });
    expect(seen[1].progress).toMatchObject({ objectsProcessed: 6, equipment: 1 });

    const done = (await hub.call('GET', q.headers.get('location')!, { as: 'dno' })).json;
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      finishedAt: hub.clock.now().toISOString(),
      report: `/api/v1/cim/import-jobs/${q.json.id}/report`,
      error: null,
      progress: { phase: null, assetsMatched: 1 },
    });
    const report = await hub.call('GET', done.report, { as: 'dno' });
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({ mode: 'enrich', matched: 1, enriched: 1, equipment: 1 });
    expect(await filesOf(q.json.id)).toBe(0);
    expect(await version(a.id)).toBe(a.version + 1);
    expect((await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'operator' })).json.aliases).toContainEqual({
      scheme: 'cim_mrid',
      value: mrid.toLowerCase(),
    });

    // The synchronous import of the same file reports the same model (and, now, nothing left to change).
    const sync = await hub.call('POST', '/api/v1/cim/import?mode=enrich', { as: 'dno', text: xml, contentType: 'application/rdf+xml' });
    const { enriched: _e, unchanged: _u, assets: _a, ...syncRest } = sync.json;
    const { enriched: _e2, unchanged: _u2, assets: _a2, ...jobRest } = report.json;
    expect(jobRest).toEqual(syncRest);
    expect(sync.json).toMatchObject({ enriched: 0, unchanged: 1 });
    const audit = await hub.db.query(`SELECT action FROM audit_log WHERE record_type = 'cim_import_job' AND record_id = $1`, [q.json.id]);
    expect(audit.map((r) => r.action)).toEqual(['cim-import-job.queued']);
  });

  it('a job that fails half-way writes nothing; its report is the problem the synchronous import answers', async () => {
    const w = new CimWriter();
    const good = {
      ...batteryInput(++n),
      id: '01JF0000000000000000000J01',
      organisationId: DEMO['fsp-a'],
      fspId: DEMO['fsp-a'],
      connectionStatus: 'CONNECTED',
    };
    const bad = {
      ...batteryInput(++n),
      id: '01JF0000000000000000000J02',
      organisationId: DEMO['fsp-a'],
      fspId: DEMO['fsp-a'],
      importMpan: '1300000000010',
    };
    const doc =
      w.header({ created: hub.clock.now(), modelingAuthoritySet: 'http://dso.test' }) +
      w.organisation({ id: DEMO['fsp-a'], name: 'A' }) +
      w.asset(good) +
      w.asset(bad) +
      w.footer();
    const q = await queue('operator', doc, '?mode=bulk-load');
    expect(q.status).toBe(202);
    const before = await rowCounts(hub.db);
    await runCimJobsOnce(hub.ctx, worker('w2'), MAX);
    expect(await rowCounts(hub.db)).toEqual(before);
    const job = (await hub.call('GET', `/api/v1/cim/import-jobs/${q.json.id}`, { as: 'operator' })).json;
    expect(job).toMatchObject({ status: 'FAILED', error: { code: 'CIM-IMPORT-ROWS-INVALID' } });
    const r = await hub.call('GET', job.report, { as: 'operator' });
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toMatch(/problem\+json/);
    expect(r.json.results).toEqual([expect.objectContaining({ row: 1, status: 'rejected', mrid: ulidToMrid(bad.id) })]);
    expect(await filesOf(q.json.id)).toBe(0);

    const broken = await queue('dno', '<rdf:RDF xmlns:rdf="' + RDF_NS + '">\n<a>\n</rdf:RDF>');
    await runCimJobsOnce(hub.ctx, worker('w2'), MAX);
    const b = await hub.call('GET', `/api/v1/cim/import-jobs/${broken.json.id}/report`, { as: 'dno' });
    expect([b.status, b.json.code]).toEqual([400, 'CIM-XML-MALFORMED']);
    expect(b.json.location).toMatchObject({ file: 'body.xml', line: expect.any(Number) });
  });

  it('a single-document job is streamed to the database under its own limit: over it refused with nothing left, under it stored in parts and read back in parts', async () => {
    const xml = new TextEncoder().encode(dsoFile('1300000000028', 'C1B2C3D4-0000-4000-8000-0000000000C9'));
    // The body arrives in small pieces, as a network would deliver it.
    const body = () =>
      new ReadableStream<Uint8Array>({
        start(k) {
          for (let at = 0; at < xml.byteLength; at += 100) k.enqueue(xml.slice(at, at + 100));
          k.close();
        },
      });
    const actor = {
      subject: 'test-dno',
      organisationId: DEMO.dno,
      roles: ['DNO' as const],
      scopes: ['cim:import'],
      dnoCodes: ['SPEN_SPM'],
    };
    const counts = async () =>
      (
        await hub.db.query<{ jobs: number; parts: number }>(
          `SELECT (SELECT count(*)::int FROM cim_import_job) AS jobs, (SELECT count(*)::int FROM cim_import_job_file) AS parts`,
        )
      )[0];
    const before = await counts();
    const o = { mode: 'enrich' as const, dryRun: true, unit: 'W' as const };
    const over = await enqueueCimImport(hub.ctx, actor, [{ name: 'big.xml', content: body() }], {
      ...o,
      maxBytes: xml.byteLength - 1,
    }).catch((e: Problem) => [e.code, e.message]);
    expect(over).toEqual(['CIM-XML-TOO-LARGE', `The import is ${xml.byteLength} bytes; at most ${xml.byteLength - 1}.`]);
    expect(await counts()).toEqual(before);
    const job = await enqueueCimImport(hub.ctx, actor, [{ name: 'big.xml', content: body() }], { ...o, maxBytes: xml.byteLength });
    expect([job.files, job.progress.bytesTotal]).toEqual([[{ name: 'big.xml', bytes: xml.byteLength }], xml.byteLength]);
    expect(await filesOf(job.id)).toBe(Math.ceil(xml.byteLength / 65_536));
    await runCimJobsOnce(hub.ctx, worker('w-stream'), xml.byteLength);
    const done = (await hub.call('GET', `/api/v1/cim/import-jobs/${job.id}`, { as: 'dno' })).json;
    expect([done.status, done.progress.bytesParsed, done.progress.objectsProcessed, done.progress.equipment]).toEqual([
      'SUCCEEDED',
      xml.byteLength,
      6,
      1,
    ]);
  });

  it('refuses what the synchronous import refuses before queueing: empty bodies, wrong media types, bulk-load without assets.write', async () => {
    const jobs = async () => (await hub.db.query(`SELECT count(*)::int AS n FROM cim_import_job`))[0].n;
    const before = await jobs();
    expect((await queue('dno', '')).json.code).toBe('CIM-XML-MALFORMED');
    expect((await hub.call('POST', '/api/v1/cim/import-jobs', { as: 'dno', body: { x: 1 } })).json.code).toBe(
      'REQUEST-UNSUPPORTED-MEDIA-TYPE',
    );
    const dnoNoWrite = await hub.token({ org: DEMO.dno, roles: ['DNO'], scope: 'cim:import' });
    expect((await queue(dnoNoWrite, dsoFile('1300000000010', 'C1B2C3D4-0000-4000-8000-0000000000C1'), '?mode=bulk-load')).json.code).toBe(
      'AUTH-SCOPE-MISSING',
    );
    expect((await queue('fsp-a', dsoFile('1300000000010', 'C1B2C3D4-0000-4000-8000-0000000000C1'))).status).toBe(403);
    expect(await jobs()).toBe(before);
  });

  it('a job is visible to its organisation and the operator only; others get 404 as if it did not exist', async () => {
    const a = await register(batteryInput(++n));
    const q = await queue('dno', dsoFile(a.importMpan, 'D1B2C3D4-0000-4000-8000-0000000000D1'), '?mode=enrich&dryRun=true');
    const other = await hub.token({ org: otherDno, roles: ['IDNO'] });
    for (const path of [
      `/api/v1/cim/import-jobs/${q.json.id}`,
      `/api/v1/cim/import-jobs/${q.json.id}/report`,
      '/api/v1/cim/import-jobs/not-a-job',
    ]) {
      const r = await hub.call('GET', path, { as: other });
      expect([r.status, r.json.code], path).toEqual([404, 'CIM-JOB-NOT-FOUND']);
    }
    expect((await hub.call('GET', `/api/v1/cim/import-jobs/${q.json.id}`, { as: 'operator' })).status).toBe(200);
    await runCimJobsOnce(hub.ctx, worker('w3'), MAX);
    const r = await hub.call('GET', `/api/v1/cim/import-jobs/${q.json.id}/report`, { as: 'dno' });
    expect(r.json).toMatchObject({ dryRun: true, matched: 1, enriched: 0 });
    expect(await version(a.id)).toBe(a.version);
  });
});

describe('an import job gives a matched asset the MPAN it lacks', () => {
  it('as the synchronous import does: the asset’s own update in the job’s transaction; a dry-run job writes nothing; again: unchanged', async () => {
    const a = await register(batteryInput(++n));
    const exp = mpanFor(4_000_000 + n);
    // The equipment's export usage point, as the register's own export writes one (fmar:UsagePoint.direction).
    const xml = dsoFile(a.importMpan, 'B1B2C3D4-0000-4000-8000-0000000000C1').replace(
      '</rdf:RDF>',
      `<c:UsagePoint rdf:about="urn:uuid:0B000000-0000-4000-8000-0000000000C2" xmlns:fmar="https://fmar.uk/ns/CIM/Extensions#"><c:UsagePoint.Equipments rdf:resource="urn:uuid:B1B2C3D4-0000-4000-8000-0000000000C1"/><fmar:UsagePoint.direction>export</fmar:UsagePoint.direction></c:UsagePoint>
<c:Name rdf:about="urn:uuid:0A000000-0000-4000-8000-0000000000C2"><c:Name.name>${exp}</c:Name.name><c:Name.NameType rdf:resource="urn:uuid:0E000000-0000-4000-8000-000000000002"/><c:Name.IdentifiedObject rdf:resource="urn:uuid:0B000000-0000-4000-8000-0000000000C2"/></c:Name>
</rdf:RDF>`,
    );
    const run = async (query: string) => {
      const q = await queue('dno', xml, query);
      expect(q.status, JSON.stringify(q.json)).toBe(202);
      expect(await runCimJobsOnce(hub.ctx, worker('w-mpan'), MAX)).toBe(1);
      return (await hub.call('GET', `/api/v1/cim/import-jobs/${q.json.id}/report`, { as: 'dno' })).json;
    };
    // What the import writes about the asset (the job writes its own audit records).
    const written = async () =>
      (
        await hub.db.query(
          `SELECT (SELECT count(*) FROM asset_alias WHERE asset_id = $1)::int AS aliases, (SELECT count(*) FROM audit_log WHERE record_id = $1)::int AS audit,
            (SELECT count(*) FROM event_outbox WHERE subject = $1)::int AS events, (SELECT version FROM asset WHERE id = $1) AS version`,
          [a.id],
        )
      )[0];
    const before = await written();
    const dry = await run('?mode=enrich&dryRun=true');
    expect(dry).toMatchObject({ wouldEnrich: 1, assets: [{ assetId: a.id, changes: { exportMpan: { from: null, to: exp } } }] });
    expect(await written()).toEqual(before);

    const real = await run('?mode=enrich');
    expect(real).toMatchObject({
      enriched: 1,
      assets: [{ assetId: a.id, outcome: 'enriched', changes: { exportMpan: { from: null, to: exp } } }],
    });
    expect((await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' })).json).toMatchObject({
      exportMpan: exp,
      version: a.version + 2,
    });
    const found = await hub.call('GET', `/api/v1/assets?identifier=mpan:${exp}`, { as: 'dno' });
    expect(found.json.items.map((x: { id: string }) => x.id)).toEqual([a.id]);
    expect(
      await hub.db.query(`SELECT detail->'changes' AS changes FROM audit_log WHERE record_id = $1 AND action = 'asset.updated'`, [a.id]),
    ).toEqual([{ changes: { exportMpan: [null, exp] } }]);

    const after = await written();
    expect(await run('?mode=enrich')).toMatchObject({ enriched: 0, unchanged: 1 });
    expect(await written()).toEqual(after);
  });
});

describe('workers, leases and retries', () => {
  it('a worker that stops: its lease runs out, another worker claims the job and runs it once; the stale worker writes nothing', async () => {
    const a = await register(batteryInput(++n));
    const q = await queue('dno', dsoFile(a.importMpan, 'E1B2C3D4-0000-4000-8000-0000000000E1'));
    const dead = await claimCimJob(hub.ctx, worker('dead'));
    expect(dead).toEqual({ id: q.json.id, attempt: 1 });
    // Claimed, lease running: nobody else takes it.
    expect(await runCimJobsOnce(hub.ctx, worker('w4'), MAX)).toBe(0);
    hub.clock.advance(61_000);
    expect(await runCimJobsOnce(hub.ctx, worker('w4'), MAX)).toBe(1);
    const job = (await hub.call('GET', `/api/v1/cim/import-jobs/${q.json.id}`, { as: 'dno' })).json;
    expect(job).toMatchObject({ status: 'SUCCEEDED', attempt: 2 });
    expect(await version(a.id)).toBe(a.version + 1);
    // The first worker comes back and runs its old claim: nothing happens.
    await runCimJob(hub.ctx, dead!, worker('dead'), MAX);
    expect(await version(a.id)).toBe(a.version + 1);
    expect((await hub.call('GET', `/api/v1/cim/import-jobs/${q.json.id}`, { as: 'dno' })).json).toMatchObject({
      status: 'SUCCEEDED',
      attempt: 2,
    });
  });

  it('a claim taken over while the job runs: the first worker’s transaction rolls back at its end; the second applies the import once', async () => {
    const a = await register(batteryInput(++n));
    const q = await queue('dno', dsoFile(a.importMpan, 'F1B2C3D4-0000-4000-8000-0000000000F1'));
    let taken: { id: string; attempt: number } | undefined;
    const slow = worker('slow', {
      afterProgress: async (j) => {
        if (taken || j.progress.phase !== 'writing') return;
        hub.clock.advance(61_000);
        taken = await claimCimJob(hub.ctx, worker('fast'));
      },
    });
    await runCimJobsOnce(hub.ctx, slow, MAX, 1);
    expect(taken).toEqual({ id: q.json.id, attempt: 2 });
    expect(await version(a.id)).toBe(a.version);
    expect((await hub.call('GET', `/api/v1/cim/import-jobs/${q.json.id}`, { as: 'dno' })).json).toMatchObject({
      status: 'RUNNING',
      attempt: 2,
    });
    await runCimJob(hub.ctx, taken!, worker('fast'), MAX);
    expect((await hub.call('GET', `/api/v1/cim/import-jobs/${q.json.id}`, { as: 'dno' })).json).toMatchObject({
      status: 'SUCCEEDED',
      attempt: 2,
    });
    expect(await version(a.id)).toBe(a.version + 1);
    expect(
      await hub.db.query(`SELECT 1 FROM event_outbox WHERE subject = $1 AND type = 'fmar.asset.network-enriched'`, [a.id]),
    ).toHaveLength(1);
  });

  it('the hub’s worker loop picks queued jobs up by itself and stops cleanly', async () => {
    const a = await register(batteryInput(++n));
    const loop = startCimJobWorker(hub.ctx, { ...worker('loop'), intervalMs: 20, maxBytes: MAX });
    try {
      const q = await queue('dno', dsoFile(a.importMpan, 'A3B2C3D4-0000-4000-8000-0000000000A3'));
      let job = q.json;
      for (let i = 0; i < 200 && job.status !== 'SUCCEEDED' && job.status !== 'FAILED'; i++) {
        await new Promise((r) => setTimeout(r, 25));
        job = (await hub.call('GET', `/api/v1/cim/import-jobs/${q.json.id}`, { as: 'dno' })).json;
      }
      expect(job).toMatchObject({ status: 'SUCCEEDED', attempt: 1 });
      expect(await version(a.id)).toBe(a.version + 1);
    } finally {
      await loop.stop();
    }
  });

  it('after its last attempt’s lease runs out the job FAILS as abandoned, its document dropped, nothing written', async () => {
    const a = await register(batteryInput(++n));
    const q = await queue('dno', dsoFile(a.importMpan, 'A2B2C3D4-0000-4000-8000-0000000000A2'));
    for (let i = 1; i <= 3; i++) {
      expect(await claimCimJob(hub.ctx, worker(`crash-${i}`))).toEqual({ id: q.json.id, attempt: i });
      hub.clock.advance(61_000);
    }
    expect(await claimCimJob(hub.ctx, worker('late'))).toBeUndefined();
    const job = (await hub.call('GET', `/api/v1/cim/import-jobs/${q.json.id}`, { as: 'dno' })).json;
    expect(job).toMatchObject({ status: 'FAILED', attempt: 3, error: { code: 'CIM-JOB-ABANDONED' } });
    const r = await hub.call('GET', job.report, { as: 'dno' });
    expect([r.status, r.json.code]).toEqual([500, 'CIM-JOB-ABANDONED']);
    expect(await filesOf(q.json.id)).toBe(0);
    expect(await version(a.id)).toBe(a.version);
  });
});
