import { serve } from '@hono/node-server';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { systemPrincipal } from './access/principal';
import { buildApp } from './app';
import { sealAudit } from './audit/audit';
import { ConfigError, loadConfig } from './config';
import { seedDemo } from './demo/seed';
import { assemble, openDb } from './node/setup';

/** Node entry: `npm start`. Development mode seeds demo data and prints how to call the API. */
async function main() {
  let cfg;
  try {
    cfg = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) { console.error(`fmar: ${e.message}`); process.exit(2); }
    throw e;
  }
  const db = await openDb(cfg);
  const hub = await assemble(cfg, db);
  const app = buildApp(hub.ports);

  let credentialsFile: string | undefined;
  let credentials: any[] = [];
  if (cfg.mode === 'development' && hub.signer && process.env.FMAR_DEMO !== 'false') {
    const orgs = await seedDemo({ db, clock: hub.ports.clock, ids: hub.ports.ids }, systemPrincipal('seed'));
    credentials = await Promise.all(orgs.map(async (o) => ({
      key: o.key, organisationId: o.id, roles: o.roles,
      accessToken: await hub.signer!.sign({ sub: `demo-${o.key}`, org: o.id, roles: o.roles }),
    })));
    mkdirSync(resolve(cfg.dataDir), { recursive: true });
    credentialsFile = resolve(cfg.dataDir, 'demo-credentials.json');
    writeFileSync(credentialsFile, JSON.stringify({ baseUrl: cfg.baseUrl, issuer: cfg.issuer, audience: cfg.audience, tokenLifetime: '12 hours', organisations: credentials }, null, 2));
  }

  // Seal the audit chain in the background; writers never wait for it.
  const sealer = setInterval(() => { sealAudit(db).catch((e) => console.error('[fmar] audit sealer:', e)); }, 2000);
  const server = serve({ fetch: app.fetch, port: cfg.port, hostname: process.env.HOST ?? '0.0.0.0' }, (info) => {
    const lines = [
      `FMAR hub (${cfg.mode}) on ${db.engine === 'pglite' ? `embedded PostgreSQL (PGlite) in ${resolve(cfg.dataDir)}` : 'PostgreSQL'}`,
      `  API            ${cfg.baseUrl}/api/v1`,
      `  API reference  ${cfg.baseUrl}/docs`,
      `  OpenAPI        ${cfg.baseUrl}/openapi.json`,
      `  Health         ${cfg.baseUrl}/healthz`,
    ];
    if (credentialsFile) {
      const fsp = credentials.find((c) => c.key === 'fsp-a');
      lines.push(`  Credentials    ${credentialsFile}`, '', 'Try (as the demo FSP, Demo Flex Alpha Ltd):',
        `  curl -H "Authorization: Bearer ${fsp.accessToken}" ${cfg.baseUrl}/api/v1/assets?identifier=mpan:1312345678907`);
    }
    console.log(lines.join('\n'));
    void info;
  });

  const stop = async () => {
    clearInterval(sealer);
    server.close();
    await sealAudit(db).catch(() => {});
    await db.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => { console.error(e); process.exit(1); });
