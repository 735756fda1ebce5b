/**
 * Benchmark: what logs, metrics and traces cost a lookup. Hubs on the same PostgreSQL and the same
 * assets, measured in turn, round by round, in one run (docs/performance.md, "Observability"):
 *
 * - `off`: FMAR_LOG_LEVEL=silent, FMAR_REQUEST_METRICS=false, no OTLP endpoint;
 * - `on`: the issue's configuration: a JSON line per request on standard output (read by this process
 *   as a log shipper would), request metrics counted and scraped every 5 s, tracing configured (service
 *   name, sampler) but no exporter endpoint, so no span is made;
 * - `exported`: as `on`, with an OTLP endpoint (a local sink in this process): a span per request and
 *   per database statement, every trace kept;
 * - `sampled`: as `exported`, one trace in ten kept (parentbased_traceidratio 0.1).
 *
 * GET /api/v1/assets?identifier=mpan:<core> with a token from the hub's OpenID provider, autocannon;
 * medians and the median of per-round ratios against `off`.
 *
 *   npx tsx bench/observability.ts   (BENCH_ROWS=100000 BENCH_REPS=5 BENCH_DURATION=8 BENCH_CONNECTIONS=10 FMAR_PG_PORT=55503
 *                                     BENCH_VARIANTS=on,exported,sampled[,logs,metrics] BENCH_HUB_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof")
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { HIGH_RATE_LIMITS, cpuMsOf, envInt, fmt, log, machine, median, percentile, startHub, startPg, table, type Hub } from './lib';
import { loadAssets, lookupMpan } from './load';

const ROWS = envInt('BENCH_ROWS', 100_000);
const REPS = envInt('BENCH_REPS', 5);
const DURATION = envInt('BENCH_DURATION', 8);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 10);
const PG_PORT = envInt('FMAR_PG_PORT', 55503);
/** The hubs listen on this port and the next ones, one per variant. */
const OFF_PORT = envInt('BENCH_HUB_PORT', 55513);
const SINK_PORT = envInt('BENCH_SINK_PORT', OFF_PORT + 9);
/** Which hubs to compare, each against `off`; for finding where a cost is, `logs` or `metrics` alone. */
const VARIANTS = ['off', ...(process.env.BENCH_VARIANTS ?? 'on,exported,sampled').split(',').filter((v) => v && v !== 'off')] as Variant[];
type Variant = 'off' | 'on' | 'exported' | 'sampled' | 'logs' | 'metrics';
/** BENCH_DEV_TOKEN=1: use the hubs' development tokens instead, so the provider never runs (no promise hooks in "off"). */
const USE_PROVIDER = process.env.BENCH_DEV_TOKEN !== '1';

interface Run {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
}

/**
 * An access token from the hub's OpenID provider, as API clients get theirs (client_credentials for a
 * machine client of the demo FSP, made once). Going through the provider matters: it runs its requests
 * in an AsyncLocalStorage, which turns on Node's promise hooks for the whole process, so a hub that has
 * issued a token pays for them on every request whether or not it traces.
 */
const clients = new Map<Hub, string>();
async function providerToken(hub: Hub): Promise<string> {
  if (!clients.has(hub)) {
    const r = await fetch(`${hub.baseUrl}/api/v1/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.tokens['fsp-a']}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench lookups', kind: 'machine', authMethod: 'client_secret_basic', scopes: ['assets:read'] }),
    });
    const c = (await r.json()) as { clientId: string; clientSecret: string };
    if (r.status !== 201) throw new Error(`client: ${r.status} ${JSON.stringify(c)}`);
    clients.set(hub, `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`);
  }
  const t = await fetch(`${hub.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { authorization: clients.get(hub)!, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=assets%3Aread',
  });
  const body = (await t.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`token: ${t.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

async function drive(hub: Hub, seconds: number): Promise<Run> {
  const token = USE_PROVIDER ? await providerToken(hub) : hub.tokens['fsp-a'];
  const lat: number[] = [];
  let bad = 0;
  const cpu0 = cpuMsOf(hub.pid);
  const inst = autocannon({
    url: hub.baseUrl,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
    requests: [
      {
        method: 'GET',
        setupRequest: (req: any) => ({ ...req, path: `/api/v1/assets?identifier=mpan:${lookupMpan(Math.floor(Math.random() * ROWS))}` }),
      },
    ],
  } as any);
  inst.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
    if (status === 200) lat.push(ms);
    else bad++;
  });
  const r: any = await inst;
  if (bad + r.errors + r.timeouts > 0.001 * (lat.length + bad))
    throw new Error(`${hub.baseUrl}: ${bad} non-200 responses, ${r.errors} errors, ${r.timeouts} timeouts of ${lat.length + bad}`);
  const n = lat.length + bad;
  return {
    rps: n / (r.duration || seconds),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    cpuUs: (1000 * (cpuMsOf(hub.pid) - cpu0)) / Math.max(1, n),
  };
}

async function main() {
  const load0 = loadavg()
    .map((x) => x.toFixed(1))
    .join(', ');
  log(`observability cost: ${fmt(ROWS)} assets; ${REPS} rounds × ${DURATION} s per hub; ${CONNECTIONS} connections`);
  // The OTLP sink: takes every export, counts its spans, answers 200.
  const sink = { posts: 0, spans: 0, bytes: 0 };
  const sinkServer = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      sink.posts++;
      sink.bytes += body.length;
      sink.spans += body.split('"spanId":').length - 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => sinkServer.listen(SINK_PORT, '127.0.0.1', r));
  const sinkUrl = `http://127.0.0.1:${(sinkServer.address() as AddressInfo).port}`;

  const pg = startPg(PG_PORT);
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  // Tracing configured as an operator would, but without an endpoint: the issue's "exporter off".
  const tracingNoEndpoint = { OTEL_SERVICE_NAME: 'fmar-bench', OTEL_TRACES_SAMPLER: 'parentbased_always_on' };
  const settings: Record<Variant, Record<string, string>> = {
    off: { FMAR_LOG_LEVEL: 'silent', FMAR_REQUEST_METRICS: 'false' },
    logs: { FMAR_LOG_LEVEL: 'info', FMAR_REQUEST_METRICS: 'false' },
    metrics: { FMAR_LOG_LEVEL: 'silent', FMAR_REQUEST_METRICS: 'true' },
    on: { FMAR_LOG_LEVEL: 'info', FMAR_REQUEST_METRICS: 'true', ...tracingNoEndpoint },
    exported: { FMAR_LOG_LEVEL: 'info', FMAR_REQUEST_METRICS: 'true', ...tracingNoEndpoint, OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl },
    // As "exported", with one trace in ten kept (OpenTelemetry's standard sampler variables).
    sampled: {
      FMAR_LOG_LEVEL: 'info',
      FMAR_REQUEST_METRICS: 'true',
      ...tracingNoEndpoint,
      OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    },
  };
  const hubs = {} as Record<Variant, Hub>;
  const logged = { lines: 0, bytes: 0 };
  for (const [i, v] of VARIANTS.entries()) {
    hubs[v] = await startHub(pg.url, OFF_PORT + i, {
      env: { ...HIGH_RATE_LIMITS, ...settings[v] },
      nodeArgs: (process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean),
    });
    // Standard output is read as a log shipper would read it: counted, then dropped.
    hubs[v].child.stdout!.on('data', (d: Buffer) => {
      logged.bytes += d.length;
      for (const b of d) if (b === 10) logged.lines++;
    });
    log(`hub ${v}: pid ${hubs[v].pid} on ${hubs[v].baseUrl}`);
  }
  log(`PostgreSQL on ${pg.port}; sink ${sinkUrl}; loading ${fmt(ROWS)} assets …`);
  await loadAssets(sql, hubs.off.orgs['fsp-a'], 0, ROWS, () => {});
  await sql.unsafe(`VACUUM ANALYZE asset, asset_alias, asset_natural_key`);

  // Every hub but "off" is scraped as Prometheus would scrape it.
  let scrapes = 0;
  const scraper = setInterval(() => {
    for (const v of VARIANTS.filter((x) => x !== 'off'))
      fetch(`${hubs[v].baseUrl}/api/v1/metrics`, { headers: { authorization: `Bearer ${hubs[v].tokens.operator}` } })
        .then((r) => r.text())
        .then(() => scrapes++)
        .catch(() => {});
  }, 5_000);

  log('warm-up …');
  for (const v of VARIANTS) await drive(hubs[v], 4);
  const runs = Object.fromEntries(VARIANTS.map((v) => [v, [] as Run[]])) as Record<Variant, Run[]>;
  const spans0 = sink.spans;
  const lines0 = logged.lines;
  for (let rep = 1; rep <= REPS; rep++) {
    // Each round in another order, so no hub always runs right after the same other one.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + rep - 1) % VARIANTS.length]);
    for (const v of rep % 2 ? order : order.reverse()) {
      const r = await drive(hubs[v], DURATION);
      runs[v].push(r);
      log(
        `round ${rep} ${v.padEnd(8)} (load ${loadavg()[0].toFixed(1)}): ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, hub CPU ${fmt(r.cpuUs)} µs/request`,
      );
    }
  }
  clearInterval(scraper);
  const requests = VARIANTS.filter((v) => v !== 'off').reduce((n, v) => n + runs[v].reduce((m, r) => m + r.rps * DURATION, 0), 0);
  const spans = sink.spans - spans0;
  const lines = logged.lines - lines0;
  // Spans still in an exporter's batch (it sends every 5 s).
  await new Promise((r) => setTimeout(r, 6_000));
  for (const v of VARIANTS) await hubs[v].stop();
  await sql.end();
  pg.stop();
  sinkServer.close();

  const med = (xs: Run[], k: keyof Run, d = 0) => fmt(median(xs.map((x) => x[k])), d);
  console.log('\n## Observability cost: results\n');
  console.log(
    `load average at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(', ')} (at the start: ${load0})`,
  );
  console.log(
    'machine',
    JSON.stringify(machine()),
    `\n${fmt(ROWS)} assets, ${CONNECTIONS} connections, ${REPS} rounds × ${DURATION} s per hub, medians; tokens from ${USE_PROVIDER ? 'the OpenID provider' : 'the development signer'}\n`,
  );
  table(
    [
      'hub',
      'req/s',
      'p50 ms',
      'p99 ms',
      'hub CPU µs/request',
      'req/s vs off, per round',
      'median',
      'CPU/request vs off (median of rounds)',
    ],
    VARIANTS.map((v) => {
      const ratios = runs[v].map((r, i) => r.rps / runs.off[i].rps);
      return [
        v,
        med(runs[v], 'rps'),
        med(runs[v], 'p50', 2),
        med(runs[v], 'p99', 2),
        med(runs[v], 'cpuUs'),
        ratios.map((x) => `${fmt(100 * x, 1)}%`).join(', '),
        `${fmt(100 * median(ratios), 1)}%`,
        `${fmt(100 * median(runs[v].map((r, i) => r.cpuUs / runs.off[i].cpuUs)), 1)}%`,
      ];
    }),
  );
  console.log(
    `\nduring the rounds: about ${fmt(requests)} requests to the hubs other than "off"; ${fmt(lines)} log lines; ${fmt(spans)} spans exported (all told ${fmt(sink.spans)} spans in ${fmt(sink.posts)} exports, ${fmt(sink.bytes / 1048576, 1)} MiB); ${scrapes} scrapes`,
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
