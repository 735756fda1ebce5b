import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { systemPrincipal } from './access/principal';
import { exportStream, MAX_BULK_ROWS } from './assets/routes';
import { csvToInputs } from './assets/csv';
import { registerAssets } from './assets/service';
import { sealAudit, verifyAudit } from './audit/audit';
import { evaluateStaleness, reevaluateAll, validatePending } from './quality/service';
import type { OrganisationRole } from './catalogue/codes';
import { ConfigError, loadConfig } from './config';
import type { Ctx } from './context';
import { DEMO_ORGANISATIONS, seedDemo } from './demo/seed';
import { Problem } from './http/problem';
import { cimExportStream } from './cim/service';
import { assemble, openDb } from './node/setup';
import { rotateSigningKeys } from '../identity/index';
import { migrate } from './storage/migrate';
import { loadMigrations } from './storage/load-migrations';
import { ulidSource } from './ids';
import { systemClock } from './ports';

const HELP = `fmar — FMAR hub command line (same modules as the API)

  fmar migrate                      apply pending migrations
  fmar seed                         load the demo organisations and assets (development only)
  fmar audit verify                 seal pending audit records and verify the hash chain
  fmar import FILE [options]        bulk-register assets from NDJSON or CSV, atomic per batch
      --organisation ID             owning organisation for rows that name none
      --format ndjson|csv           default: from the file extension
      --batch N                     rows per atomic batch (default 10000, at most ${MAX_BULK_ROWS})
      --dry-run                     validate only; nothing is written
  fmar export [options]             stream assets as NDJSON or CSV
      --format ndjson|csv  --out FILE  --organisation ID  --fsp ID  --dno CODE  --category C  --status S
  fmar cim export --out FILE         stream assets as CIM RDF/XML (docs/cim-profile.md)
      --organisation ID  --dno CODE  --category C
  fmar token ORG [--scope "a b"]    mint a development access token for an organisation (ID or demo key)
  fmar keys rotate                  create new provider signing keys (ES256, RS256); the old ones stay
                                    published for verification for a day. Production needs this once.
  fmar keys list                    the provider's signing keys and their state

Uses DATABASE_URL (PostgreSQL) when set, otherwise the embedded database in FMAR_DATA_DIR (.fmar-data).
Changes made here are audited as actor "cli".`;

function progress(label: string, done: number, total?: number) {
  if (!process.stderr.isTTY && done !== total) return;
  const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : undefined;
  const bar = pct !== undefined ? `[${'#'.repeat(Math.floor(pct / 4)).padEnd(25, '.')}] ${String(pct).padStart(3)}% ` : '';
  process.stderr.write(`\r${label} ${bar}${done.toLocaleString('en-GB')}${total ? ` / ${total.toLocaleString('en-GB')}` : ''}   ${done === total ? '\n' : ''}`);
}

async function* readRows(file: string, format: 'ndjson' | 'csv'): AsyncGenerator<unknown> {
  if (format === 'csv') {
    // CSV fields may hold newlines, so the file is parsed whole; NDJSON streams line by line.
    const { readFileSync } = await import('node:fs');
    yield* csvToInputs(readFileSync(file, 'utf8'));
    return;
  }
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    n++;
    if (!line.trim()) continue;
    try { yield JSON.parse(line); } catch { throw new Problem('REQUEST-MALFORMED-JSON', `Line ${n} of ${file} is not valid JSON.`); }
  }
}

async function importFile(ctx: Ctx, file: string, o: { organisation?: string; format?: string; batch: number; dryRun: boolean }): Promise<number> {
  const format = (o.format ?? (file.endsWith('.csv') ? 'csv' : 'ndjson')) as 'ndjson' | 'csv';
  const size = statSync(file).size;
  const actor = systemPrincipal('cli');
  let batch: unknown[] = [];
  let first = 0;
  let done = 0;
  let estimate: number | undefined;
  const flush = async (): Promise<boolean> => {
    if (!batch.length) return true;
    const rows = o.organisation ? batch.map((r) => (r && typeof r === 'object' && !Array.isArray(r) && !('organisationId' in r) ? { ...r, organisationId: o.organisation } : r)) : batch;
    const out = await registerAssets(ctx, actor, rows, { dryRun: o.dryRun, source: 'cli' });
    if (!out.ok) {
      process.stderr.write('\n');
      for (const r of out.results.filter((x) => x.status === 'rejected')) {
        console.error(`row ${first + r.row + 1}: ${(r.errors ?? []).map((e) => `${e.field} ${e.code}: ${e.detail}`).join('; ')}`);
      }
      console.error(`batch of rows ${first + 1}–${first + batch.length} rejected; nothing of it was written${done ? ` (${done} rows before it were${o.dryRun ? ' valid' : ' registered'})` : ''}.`);
      return false;
    }
    done += batch.length;
    first += batch.length;
    batch = [];
    progress(o.dryRun ? 'validated' : 'registered', done, estimate);
    return true;
  };
  for await (const row of readRows(file, format)) {
    batch.push(row);
    if (estimate === undefined && batch.length === 100) estimate = Math.round(size / (JSON.stringify(batch).length / 100));
    if (batch.length >= o.batch && !(await flush())) return 1;
  }
  if (!(await flush())) return 1;
  progress(o.dryRun ? 'validated' : 'registered', done, done);
  console.log(`${done} asset(s) ${o.dryRun ? 'valid (dry run, nothing written)' : 'registered'}.`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      organisation: { type: 'string' }, fsp: { type: 'string' }, dno: { type: 'string' }, category: { type: 'string' }, status: { type: 'string' },
      format: { type: 'string' }, out: { type: 'string' }, batch: { type: 'string' }, 'dry-run': { type: 'boolean' }, scope: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, sub] = positionals;
  if (!cmd || values.help) { console.log(HELP); return cmd ? 0 : 2; }
  const cfg = loadConfig(process.env);
  const db = await openDb(cfg);
  try {
    if (cmd === 'keys') {
      await migrate(db, loadMigrations(), () => new Date());
      const ids = ulidSource(systemClock);
      if (sub === 'rotate') {
        const r = await rotateSigningKeys(db, new Date(), () => ids.next());
        console.log(`created ${r.created.join(', ')}${r.retired.length ? `; retired ${r.retired.join(', ')} (published for verification for 24 h)` : ''}`);
        console.log('running hubs pick the new keys up within a minute');
        return 0;
      }
      if (sub === 'list') {
        for (const k of await db.query(`SELECT kid, alg, created_at, retired_at, expires_at FROM signing_key WHERE purpose = 'oidc' ORDER BY created_at`)) {
          const state = !k.retired_at ? 'current' : new Date(k.expires_at) > new Date() ? `retired, published until ${new Date(k.expires_at).toISOString()}` : 'expired';
          console.log(`${k.kid}  ${k.alg.padEnd(6)} ${new Date(k.created_at).toISOString()}  ${state}`);
        }
        return 0;
      }
      console.error('usage: fmar keys rotate | fmar keys list');
      return 2;
    }
    const hub = await assemble(cfg, db);
    const ctx: Ctx = { db, clock: hub.ports.clock, ids: hub.ports.ids, consent: hub.ports.consent };
    switch (cmd) {
      case 'migrate':
        console.log(`migrations applied; database: ${db.engine}`);
        return 0;
      case 'seed': {
        if (cfg.mode === 'production') { console.error('fmar: production mode refuses demo data'); return 2; }
        const orgs = await seedDemo(ctx, systemPrincipal('cli'));
        for (const o of orgs) console.log(`${o.key.padEnd(10)} ${o.id}  ${o.roles.join(', ')}`);
        return 0;
      }
      case 'data-quality': {
        // The data quality jobs (docs/data-quality.md), for a cron or a one-off run.
        if (sub === 'staleness') { console.log(`${await evaluateStaleness(ctx)} asset(s) re-evaluated for staleness`); return 0; }
        if (sub === 'reevaluate') { console.log(`${await reevaluateAll(ctx)} asset(s) re-evaluated`); return 0; }
        if (sub === 'validate-pending') { console.log(JSON.stringify(await validatePending(ctx, hub.ports.registries ?? {}))); return 0; }
        console.error('usage: fmar data-quality staleness | reevaluate | validate-pending');
        return 2;
      }
      case 'audit': {
        if (sub !== 'verify') { console.error('usage: fmar audit verify'); return 2; }
        const sealed = await sealAudit(db);
        const r = await verifyAudit(db);
        if (r.ok) { console.log(`audit chain intact: ${r.sealed} record(s) verified (${sealed} newly sealed, ${r.unsealed} pending).`); return 0; }
        console.error(`audit chain BROKEN at seq ${r.firstBroken!.seq} (audit_log.id ${r.firstBroken!.id}): ${r.firstBroken!.reason}`);
        return 1;
      }
      case 'import': {
        if (!sub) { console.error('usage: fmar import FILE [--organisation ID] [--dry-run]'); return 2; }
        const batch = Math.min(MAX_BULK_ROWS, Math.max(1, Number(values.batch ?? 10_000)));
        return await importFile(ctx, sub, { organisation: values.organisation, format: values.format, batch, dryRun: !!values['dry-run'] });
      }
      case 'export': {
        const format = (values.format ?? (values.out?.endsWith('.csv') ? 'csv' : 'ndjson')) as 'ndjson' | 'csv';
        if (format !== 'ndjson' && format !== 'csv') { console.error('--format is ndjson or csv'); return 2; }
        const stream = exportStream(ctx, systemPrincipal('cli'), { organisationId: values.organisation, fspId: values.fsp, dno: values.dno, category: values.category, status: values.status }, format);
        const sink = values.out ? createWriteStream(values.out) : process.stdout;
        await stream.pipeTo(Writable.toWeb(sink as Writable) as WritableStream<Uint8Array>, { preventClose: !values.out }).catch((e) => { throw e; });
        if (values.out) console.error(`exported to ${values.out}`);
        return 0;
      }
      case 'cim': {
        if (sub !== 'export') { console.error('usage: fmar cim export --out FILE [--organisation ID] [--dno CODE] [--category C]'); return 2; }
        const stream = cimExportStream(ctx, systemPrincipal('cli'), { organisationId: values.organisation, dno: values.dno, category: values.category }, cfg.baseUrl);
        const sink = values.out ? createWriteStream(values.out) : process.stdout;
        await stream.pipeTo(Writable.toWeb(sink as Writable) as WritableStream<Uint8Array>, { preventClose: !values.out });
        if (values.out) console.error(`exported CIM RDF/XML to ${values.out}`);
        return 0;
      }
      case 'token': {
        if (!hub.signer) { console.error('fmar: tokens are minted only in development mode (production uses the identity provider)'); return 2; }
        const demo = DEMO_ORGANISATIONS.find((d) => d.key === sub || d.id === sub);
        const [org] = await db.query(`SELECT id, to_jsonb(roles) AS roles FROM organisation WHERE id = $1`, [demo?.id ?? sub ?? '']);
        if (!org) { console.error(`fmar: no organisation ${sub}`); return 2; }
        console.log(await hub.signer.sign({ sub: `cli-${org.id}`, org: org.id, roles: org.roles as OrganisationRole[], scope: values.scope }));
        return 0;
      }
      default:
        console.error(`fmar: unknown command ${cmd}\n\n${HELP}`);
        return 2;
    }
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  if (e instanceof Problem) console.error(`fmar: ${e.code}: ${e.message}`);
  else if (e instanceof ConfigError) console.error(`fmar: ${e.message}`);
  else console.error(e);
  process.exit(e instanceof Problem || e instanceof ConfigError ? 2 : 1);
});
