import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { systemPrincipal } from './access/principal';
import { exportStream, MAX_BULK_ROWS } from './assets/routes';
import { errorText } from './assets/bulk-import';
import { importFile, localSubmitter, type ImportFileOptions, type SubmitBatch } from './assets/import-file';
import { sealAudit, verifyAudit } from './audit/audit';
import { evaluateStaleness, reevaluateAll, validatePending } from './quality/service';
import type { OrganisationRole } from './access/roles';
import { ConfigError, loadConfig } from './config';
import type { Ctx } from './context';
import { DEMO_ORGANISATIONS, seedDemo } from './demo/seed';
import { Problem } from './http/problem';
import { cimExportStream } from './cim/service';
import { assemble, openDb } from './node/setup';
import { rotateSigningKeys } from '../identity/index';
import { migrate, MigrationChanged } from './storage/migrate';
import { loadMigrations } from './storage/load-migrations';
import { ulidSource } from './ids';
import { systemClock } from './ports';
import { acquireLock, DataFolderHeld, type DataLock } from './node/lock';
import { HubCallError, HubClient, hubSubmitter, query, runningHub } from './node/hub-client';
import { standardHooks } from './hooks';

const HELP = `fmar — FMAR hub command line (same modules as the API)

  fmar migrate                      apply pending migrations
  fmar seed                         load the demo organisations and assets (development only)
  fmar audit verify                 seal pending audit records, verify the hash chain, print its head
  fmar import FILE [options]        bulk-register assets from NDJSON or CSV (an export loads back as it is)
      --organisation ID             owning organisation for rows that name none
      --format ndjson|csv           default: from the file extension
      --batch N                     rows per batch (default 10000, at most ${MAX_BULK_ROWS})
      --dry-run                     check every row of every batch; nothing is written
      --on-error stop|skip          stop (default): a batch with a bad row is not written and the
                                    import stops; skip: valid rows are registered, bad ones reported
      --rejects FILE                write the rejected rows there, in the input's format with _row
                                    and _errors added; fix them and import that file as it is
                                    Rows are numbered by their line in the file (CSV header = line 1).
                                    Run again after a stop or crash: registered rows count as existing.
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

/** The verified chain's head, for the operator to keep outside the database (docs/operations.md). */
function headLine(head: { seq: string; hash: string } | null | undefined): string {
  return head ? ` Head: seq ${head.seq} sha256 ${head.hash}.` : ' Head: none sealed yet.';
}

function progress(label: string, done: number, total?: number) {
  if (!process.stderr.isTTY && done !== total) return;
  const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : undefined;
  const bar = pct !== undefined ? `[${'#'.repeat(Math.floor(pct / 4)).padEnd(25, '.')}] ${String(pct).padStart(3)}% ` : '';
  process.stderr.write(
    `\r${label} ${bar}${done.toLocaleString('en-GB')}${total ? ` / ${total.toLocaleString('en-GB')}` : ''}   ${done === total ? '\n' : ''}`,
  );
}

async function importCommand(submit: SubmitBatch, file: string, o: ImportFileOptions, via = ''): Promise<number> {
  const label = o.dryRun ? 'checked' : 'processed';
  const out = await importFile(file, submit, o, {
    rejected: (r) => {
      if (process.stderr.isTTY) process.stderr.write('\n');
      console.error(`row ${r.row}: ${errorText(r.errors)}`);
    },
    progress: (done) => progress(label, done),
  });
  progress(label, out.total, out.total);
  const counts = [
    o.dryRun ? `${out.valid} valid` : `${out.registered} registered`,
    `${out.existing} already registered`,
    `${out.rejected} rejected`,
    ...(out.stoppedAt ? [`${out.valid} valid in the refused batch (not written)`] : []),
  ];
  console.log(`${out.total} row(s): ${counts.join(', ')}${o.dryRun ? ' (dry run, nothing written)' : ''}${via}.`);
  if (out.stoppedAt)
    console.error(
      `stopped: the batch of rows ${out.stoppedAt.from}–${out.stoppedAt.to} was refused and nothing of it was written; the rows after it were not read. Fix the rows and run the same command again (rows already registered count as existing), or use --on-error skip.`,
    );
  if (o.rejects && out.rejected) console.error(`rejected rows written to ${o.rejects} (fix them there and import that file).`);
  return out.rejected || out.stoppedAt ? 1 : 0;
}

/** `fmar import`'s options, or the exit code of a usage error. */
function importOptions(file: string | undefined, values: Options): ImportFileOptions | number {
  if (!file) {
    console.error('usage: fmar import FILE [--organisation ID] [--dry-run] [--on-error stop|skip] [--rejects FILE]');
    return 2;
  }
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const batch = Math.min(MAX_BULK_ROWS, Math.max(1, Number(str('batch') ?? 10_000)));
  const onError = str('on-error') ?? 'stop';
  if (onError !== 'stop' && onError !== 'skip') {
    console.error('--on-error is stop or skip');
    return 2;
  }
  const format = str('format');
  if (format !== undefined && format !== 'ndjson' && format !== 'csv') {
    console.error('--format is ndjson or csv');
    return 2;
  }
  return { organisation: str('organisation'), format, batch, dryRun: !!values['dry-run'], onError, rejects: str('rejects') };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      organisation: { type: 'string' },
      fsp: { type: 'string' },
      dno: { type: 'string' },
      category: { type: 'string' },
      status: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      batch: { type: 'string' },
      'dry-run': { type: 'boolean' },
      scope: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      'on-error': { type: 'string' },
      rejects: { type: 'string' },
    },
  });
  const [cmd, sub] = positionals;
  if (!cmd || values.help) {
    console.log(HELP);
    return cmd ? 0 : 2;
  }
  if (cmd === 'token' && !sub) {
    console.error('fmar: name the organisation: `fmar token ORG` (its ID, or a demo key such as fsp-a, dno, operator)');
    return 2;
  }
  const cfg = loadConfig(process.env);
  // The embedded database is opened by one process only (src/node/lock.ts): while a hub holds the
  // folder, commands work through its HTTP API or are refused; otherwise this command holds it.
  let lock: DataLock | undefined;
  if (!cfg.databaseUrl) {
    try {
      lock = acquireLock(cfg.dataDir, [cmd, sub].filter(Boolean).join(' '));
    } catch (e) {
      if (!(e instanceof DataFolderHeld)) throw e;
      const hub = e.info.holder === 'hub' ? await runningHub(cfg.dataDir) : undefined;
      if (!hub) {
        console.error(`fmar: ${e.message}; wait for it to finish, then run this command again.`);
        return 2;
      }
      return throughHub(hub, e.message, cmd, sub, values);
    }
  }
  const db = await openDb(cfg);
  try {
    if (cmd === 'keys') {
      await migrate(db, loadMigrations(), () => new Date());
      const ids = ulidSource(systemClock);
      if (sub === 'rotate') {
        const r = await rotateSigningKeys(db, new Date(), () => ids.next());
        console.log(
          `created ${r.created.join(', ')}${r.retired.length ? `; retired ${r.retired.join(', ')} (published for verification for 24 h)` : ''}`,
        );
        console.log('running hubs pick the new keys up within a minute');
        return 0;
      }
      if (sub === 'list') {
        for (const k of await db.query<{ kid: string; alg: string; created_at: Date; retired_at: Date | null; expires_at: Date | null }>(
          `SELECT kid, alg, created_at, retired_at, expires_at FROM signing_key WHERE purpose = 'oidc' ORDER BY created_at`,
        )) {
          const state = !k.retired_at
            ? 'current'
            : k.expires_at && k.expires_at > new Date()
              ? `retired, published until ${k.expires_at.toISOString()}`
              : 'expired';
          console.log(`${k.kid}  ${k.alg.padEnd(6)} ${new Date(k.created_at).toISOString()}  ${state}`);
        }
        return 0;
      }
      console.error('usage: fmar keys rotate | fmar keys list');
      return 2;
    }
    const hub = await assemble(cfg, db);
    const ctx: Ctx = { db, clock: hub.ports.clock, ids: hub.ports.ids, consent: hub.ports.consent, hooks: standardHooks() };
    switch (cmd) {
      case 'migrate':
        console.log(`migrations applied; database: ${db.engine}`);
        return 0;
      case 'seed': {
        if (cfg.mode === 'production') {
          console.error('fmar: production mode refuses demo data');
          return 2;
        }
        const orgs = await seedDemo(ctx, systemPrincipal('cli'));
        for (const o of orgs) console.log(`${o.key.padEnd(10)} ${o.id}  ${o.roles.join(', ')}`);
        return 0;
      }
      case 'data-quality': {
        // The data quality jobs (docs/data-quality.md), for a cron or a one-off run.
        if (sub === 'staleness') {
          console.log(`${await evaluateStaleness(ctx)} asset(s) re-evaluated for staleness`);
          return 0;
        }
        if (sub === 'reevaluate') {
          console.log(`${await reevaluateAll(ctx)} asset(s) re-evaluated`);
          return 0;
        }
        if (sub === 'validate-pending') {
          console.log(JSON.stringify(await validatePending(ctx, hub.ports.registries ?? {})));
          return 0;
        }
        console.error('usage: fmar data-quality staleness | reevaluate | validate-pending');
        return 2;
      }
      case 'audit': {
        if (sub !== 'verify') {
          console.error('usage: fmar audit verify');
          return 2;
        }
        const sealed = await sealAudit(db);
        const r = await verifyAudit(db);
        if (r.ok) {
          console.log(
            `audit chain intact: ${r.sealed} record(s) verified (${sealed} newly sealed, ${r.unsealed} pending).${headLine(r.head)}`,
          );
          return 0;
        }
        console.error(`audit chain BROKEN at seq ${r.firstBroken!.seq} (audit_log.id ${r.firstBroken!.id}): ${r.firstBroken!.reason}`);
        return 1;
      }
      case 'import': {
        const o = importOptions(sub, values);
        return typeof o === 'number' ? o : await importCommand(localSubmitter(ctx, systemPrincipal('cli')), sub!, o);
      }
      case 'export': {
        const format = (values.format ?? (values.out?.endsWith('.csv') ? 'csv' : 'ndjson')) as 'ndjson' | 'csv';
        if (format !== 'ndjson' && format !== 'csv') {
          console.error('--format is ndjson or csv');
          return 2;
        }
        const stream = exportStream(
          ctx,
          systemPrincipal('cli'),
          { organisationId: values.organisation, fspId: values.fsp, dno: values.dno, category: values.category, status: values.status },
          format,
        );
        const sink = values.out ? createWriteStream(values.out) : process.stdout;
        await stream.pipeTo(Writable.toWeb(sink as Writable) as WritableStream<Uint8Array>, { preventClose: !values.out }).catch((e) => {
          throw e;
        });
        if (values.out) console.error(`exported to ${values.out}`);
        return 0;
      }
      case 'cim': {
        if (sub !== 'export') {
          console.error('usage: fmar cim export --out FILE [--organisation ID] [--dno CODE] [--category C]');
          return 2;
        }
        const stream = cimExportStream(
          ctx,
          systemPrincipal('cli'),
          { organisationId: values.organisation, dno: values.dno, category: values.category },
          cfg.baseUrl,
        );
        const sink = values.out ? createWriteStream(values.out) : process.stdout;
        await stream.pipeTo(Writable.toWeb(sink as Writable) as WritableStream<Uint8Array>, { preventClose: !values.out });
        if (values.out) console.error(`exported CIM RDF/XML to ${values.out}`);
        return 0;
      }
      case 'token': {
        if (!hub.signer) {
          console.error('fmar: tokens are minted only in development mode (production uses the identity provider)');
          return 2;
        }
        const demo = DEMO_ORGANISATIONS.find((d) => d.key === sub || d.id === sub);
        const [org] = await db.query<{ id: string; roles: OrganisationRole[] }>(
          `SELECT id, to_jsonb(roles) AS roles FROM organisation WHERE id = $1`,
          [demo?.id ?? sub ?? ''],
        );
        if (!org) {
          console.error(`fmar: no organisation ${sub}`);
          return 2;
        }
        console.log(await hub.signer.sign({ sub: `cli-${org.id}`, org: org.id, roles: org.roles, scope: values.scope }));
        return 0;
      }
      default:
        console.error(`fmar: unknown command ${cmd}\n\n${HELP}`);
        return 2;
    }
  } finally {
    await db.close();
    lock?.release();
  }
}

type Options = Record<string, string | boolean | undefined>;

/** A command run while the hub holds the embedded database: through its API, or refused with what to do. */
async function throughHub(hub: HubClient, held: string, cmd: string, sub: string | undefined, values: Options): Promise<number> {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const out = () => (str('out') ? createWriteStream(str('out')!) : process.stdout);
  const refuse = (what: string) => {
    console.error(`fmar: ${held}. ${what}`);
    return 2;
  };
  switch (cmd) {
    case 'migrate':
      console.log(`migrations applied: the running hub (PID ${hub.info.pid}) applied every migration when it started.`);
      return 0;
    case 'seed':
      return refuse(
        '`fmar seed` writes to the database itself: stop the hub (Ctrl-C), then run it again (`npm start` seeds the demo data anyway).',
      );
    case 'keys':
      return refuse('`fmar keys` needs the database itself: stop the hub (Ctrl-C), run the command, then start the hub again.');
    case 'data-quality':
      return refuse('The running hub runs the data quality jobs on its own timers; stop it (Ctrl-C) to run one by hand.');
    case 'audit': {
      if (sub !== 'verify') {
        console.error('usage: fmar audit verify');
        return 2;
      }
      const r = await hub.json<{
        ok: boolean;
        sealed: number;
        unsealed: number;
        firstBroken?: { seq: string; id: string; reason: string };
        head?: { seq: string; hash: string } | null;
      }>('POST', '/api/v1/audit/verify');
      if (r.ok) {
        console.log(
          `audit chain intact: ${r.sealed} record(s) verified (${r.unsealed} pending), through the hub (PID ${hub.info.pid}).${headLine(r.head)}`,
        );
        return 0;
      }
      console.error(`audit chain BROKEN at seq ${r.firstBroken!.seq} (audit_log.id ${r.firstBroken!.id}): ${r.firstBroken!.reason}`);
      return 1;
    }
    case 'export': {
      const format = str('format') ?? (str('out')?.endsWith('.csv') ? 'csv' : 'ndjson');
      if (format !== 'ndjson' && format !== 'csv') {
        console.error('--format is ndjson or csv');
        return 2;
      }
      await hub.download(
        `/api/v1/assets/export${query({ format, organisationId: str('organisation'), fspId: str('fsp'), dno: str('dno'), category: str('category'), status: str('status') })}`,
        out(),
        !!str('out'),
      );
      if (str('out')) console.error(`exported to ${str('out')} (through the hub, PID ${hub.info.pid})`);
      return 0;
    }
    case 'cim': {
      if (sub !== 'export') {
        console.error('usage: fmar cim export --out FILE [--organisation ID] [--dno CODE] [--category C]');
        return 2;
      }
      await hub.download(
        `/api/v1/cim/export${query({ organisationId: str('organisation'), dno: str('dno'), category: str('category') })}`,
        out(),
        !!str('out'),
      );
      if (str('out')) console.error(`exported CIM RDF/XML to ${str('out')} (through the hub, PID ${hub.info.pid})`);
      return 0;
    }
    case 'token': {
      const r = await hub.json<{ access_token: string }>('POST', '/local/token', {
        body: JSON.stringify({ organisation: sub ?? '', scope: str('scope') }),
        contentType: 'application/json',
      });
      console.log(r.access_token);
      return 0;
    }
    case 'import': {
      // The same loop, each batch posted to the hub's bulk API with the same options.
      const o = importOptions(sub, values);
      return typeof o === 'number' ? o : importCommand(hubSubmitter(hub), sub!, o, ` through the hub (PID ${hub.info.pid})`);
    }
    default:
      console.error(`fmar: unknown command ${cmd}\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof Problem) console.error(`fmar: ${e.code}: ${e.message}`);
    else if (e instanceof HubCallError || e instanceof MigrationChanged) console.error(`fmar: ${e.message}`);
    else if (e instanceof ConfigError) console.error(`fmar: ${e.message}`);
    else console.error(e);
    process.exit(e instanceof Problem || e instanceof ConfigError || e instanceof HubCallError || e instanceof MigrationChanged ? 2 : 1);
  },
);
