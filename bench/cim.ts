/**
 * Benchmark: CIM RDF/XML exchange.
 *  1. Export of N assets (default 1,000,000) through GET /api/v1/cim/export (operator token), sampling
 *     the hub process's RSS, against a baseline in the same run that reads the same rows in the same
 *     keyset pages and writes the same objects as plain template strings (no writer, no escaping).
 *     Targets: at least 50% of the baseline's assets/s, peak hub RSS under 300 MB.
 *  2. Import parse rate (MB/s) of parseCimXml + merge + extract against bare fast-xml-parser
 *     (default options) on the same generated document. Target: at least 50% of the bare rate.
 *  3. Refusal time of a billion-laughs document (10^9 expansions if expanded): the DOCTYPE is
 *     refused before any parsing. Target: under 500 ms, in practice well under a millisecond.
 *
 *   npm run bench:cim     (BENCH_ROWS=1000000 BENCH_REPS=3 BENCH_IMPORT_ASSETS=20000 FMAR_PG_PORT=55503)
 */
import { XMLParser } from 'fast-xml-parser';
import postgres from 'postgres';
import {
  CimParseError,
  CimWriter,
  derivedMrid,
  extractAssets,
  mergeDocuments,
  organisationMrid,
  parseCimXml,
  ulidToMrid,
  type CimAssetInput,
} from '../cim/index';
import { ASSET_COLS } from '../src/assets/store';
import { envInt, fmt, log, machine, mb, median, readStreamed, rssOf, startHub, startPg, table } from './lib';
import { loadAssets } from './load';

const ROWS = envInt('BENCH_ROWS', 1_000_000);
const REPS = envInt('BENCH_REPS', 3);
const IMPORT_REPS = envInt('BENCH_IMPORT_REPS', 7);
const IMPORT_ASSETS = envInt('BENCH_IMPORT_ASSETS', 20_000);
const PG_PORT = envInt('FMAR_PG_PORT', 55503);
const HUB_PORT = envInt('BENCH_HUB_PORT', 55513);
const MARK = '<cim:Asset rdf:ID=';

interface Run {
  assets: number;
  bytes: number;
  seconds: number;
  peakRss: number;
}

/** Count occurrences of MARK across chunk boundaries. */
function counter() {
  const dec = new TextDecoder();
  let carry = '';
  let n = 0;
  return {
    add(chunk: Uint8Array) {
      const s = carry + dec.decode(chunk, { stream: true });
      for (let i = s.indexOf(MARK); i !== -1; i = s.indexOf(MARK, i + 1)) n++;
      carry = s.slice(-(MARK.length - 1));
    },
    get n() {
      return n;
    },
  };
}

async function exportOnce(url: string, token: string, pid: number): Promise<Run> {
  const c = counter();
  const r = await readStreamed(url, token, pid, (chunk) => c.add(chunk));
  return { assets: c.n, ...r };
}

const w = (kw: number) => String(Math.round(kw * 1000));
const UNIT: Record<string, string> = { BESS: 'BatteryUnit', SOLAR_PV: 'PhotoVoltaicUnit', WIND_TURBINE: 'PowerElectronicsWindUnit' };

/** Baseline: the same pages, the same objects, as plain template strings. */
async function baselineOnce(sql: postgres.Sql): Promise<Run> {
  const t0 = performance.now();
  let after = '';
  let assets = 0;
  let bytes = 0;
  for (;;) {
    // The hub's own column list (with its alias subquery), so both read the same.
    const rows = await sql.unsafe(
      `SELECT ${ASSET_COLS}, a.rated_capacity_kw::float8 AS r, a.generation_capacity_kw::float8 AS g, a.demand_capacity_kw::float8 AS d, a.commissioning_date::text AS cd
      FROM asset a WHERE a.deregistered_at IS NULL AND a.id > $1 ORDER BY a.id LIMIT 500`,
      [after],
    );
    let out = '';
    for (const a of rows) {
      const m = ulidToMrid(a.id);
      const unit = UNIT[a.category];
      const cls = unit ? 'PowerElectronicsConnection' : 'EnergyConsumer';
      out +=
        `  <cim:${cls} rdf:ID="_${m}">\n    <cim:IdentifiedObject.mRID>${m}</cim:IdentifiedObject.mRID>\n    <cim:IdentifiedObject.name>${a.name}</cim:IdentifiedObject.name>\n` +
        `    <cim:Equipment.inService>true</cim:Equipment.inService>\n    <cim:PowerElectronicsConnection.ratedS>${w(a.r)}</cim:PowerElectronicsConnection.ratedS>\n` +
        (a.g != null ? `    <cim:PowerElectronicsConnection.maxP>${w(a.g)}</cim:PowerElectronicsConnection.maxP>\n` : '') +
        (a.d != null ? `    <cim:PowerElectronicsConnection.minP>-${w(a.d)}</cim:PowerElectronicsConnection.minP>\n` : '') +
        `    <fmar:Equipment.category>${a.category}</fmar:Equipment.category>\n    <fmar:Equipment.connectionStatus>${a.connection_status}</fmar:Equipment.connectionStatus>\n` +
        `    <fmar:Equipment.dno>${a.dno}</fmar:Equipment.dno>\n    <fmar:Equipment.energySource>${a.energy_source ?? a.demand_technology}</fmar:Equipment.energySource>\n  </cim:${cls}>\n`;
      if (unit)
        out += `  <cim:${unit} rdf:ID="_${derivedMrid(m, 'unit')}">\n    <cim:IdentifiedObject.mRID>${derivedMrid(m, 'unit')}</cim:IdentifiedObject.mRID>\n    <cim:IdentifiedObject.name>${a.name}</cim:IdentifiedObject.name>\n    <cim:PowerElectronicsUnit.PowerElectronicsConnection rdf:resource="#_${m}"/>\n  </cim:${unit}>\n`;
      const am = derivedMrid(m, 'asset');
      out +=
        `  ${MARK}"_${am}">\n    <cim:IdentifiedObject.mRID>${am}</cim:IdentifiedObject.mRID>\n    <cim:IdentifiedObject.name>${a.name}</cim:IdentifiedObject.name>\n    <cim:Asset.serialNumber>${a.serial_number}</cim:Asset.serialNumber>\n` +
        `    <fmar:Asset.commissioningDate>${a.cd}</fmar:Asset.commissioningDate>\n    <cim:Asset.PowerSystemResources rdf:resource="#_${m}"/>\n` +
        `    <cim:Asset.OrganisationRoles rdf:resource="#_${derivedMrid(organisationMrid(a.organisation_id), 'AssetOwner')}"/>\n    <cim:Asset.OrganisationRoles rdf:resource="#_${derivedMrid(organisationMrid(a.fsp_id), 'FSP')}"/>\n  </cim:Asset>\n`;
      for (const [dir, mpan] of [
        ['import', a.import_mpan],
        ['export', a.export_mpan],
      ]) {
        if (!mpan) continue;
        const up = derivedMrid(m, `usagepoint/${dir}`);
        out +=
          `  <cim:UsagePoint rdf:ID="_${up}">\n    <cim:IdentifiedObject.mRID>${up}</cim:IdentifiedObject.mRID>\n    <cim:IdentifiedObject.name>${mpan}</cim:IdentifiedObject.name>\n    <fmar:UsagePoint.direction>${dir}</fmar:UsagePoint.direction>\n    <cim:UsagePoint.Equipments rdf:resource="#_${m}"/>\n  </cim:UsagePoint>\n` +
          `  <cim:Name rdf:ID="_${derivedMrid(m, `name/mpan/${dir}`)}">\n    <cim:Name.name>${mpan}</cim:Name.name>\n    <cim:Name.NameType rdf:resource="#_x"/>\n    <cim:Name.IdentifiedObject rdf:resource="#_${up}"/>\n  </cim:Name>\n`;
      }
      assets++;
    }
    bytes += Buffer.byteLength(out);
    if (rows.length < 500) break;
    after = rows[rows.length - 1].id;
  }
  return { assets, bytes, seconds: (performance.now() - t0) / 1000, peakRss: 0 };
}

/** A document of `n` synthetic assets from the writer, for the import comparison. */
function importDocument(n: number): string {
  const wr = new CimWriter();
  const parts = [
    wr.header({ created: new Date('2026-01-01T00:00:00Z'), modelingAuthoritySet: 'http://bench' }),
    wr.organisation({ id: '01JF0000000000000000000000', name: 'Bench' }),
  ];
  const cats = ['BESS', 'SOLAR_PV', 'EV_CHARGER', 'HEAT_PUMP'];
  for (let i = 0; i < n; i++) {
    const id = '01K' + String(i).padStart(23, '0');
    const a: CimAssetInput = {
      id,
      name: `Asset ${i}`,
      category: cats[i % 4],
      ratedCapacityKw: 3 + (i % 50),
      connectionStatus: 'CONNECTED',
      importMpan: '1312345678907',
      serialNumber: `SN-${i}`,
      dno: 'SPEN_SPM',
      organisationId: '01JF0000000000000000000000',
      fspId: '01JF0000000000000000000000',
      location: { postcode: 'G1 1AA', gspGroup: '_N', latitude: 55.8, longitude: -4.2 },
    };
    parts.push(wr.asset(a));
  }
  parts.push(wr.footer());
  return parts.join('');
}

async function main() {
  log(`CIM benchmark: export of ${fmt(ROWS)} assets (${REPS} reps), import parse of ${fmt(IMPORT_ASSETS)} generated assets`);
  // BENCH_ROWS=0 measures the import parse only.
  const runs: Record<'export' | 'baseline', Run[]> = { export: [], baseline: [] };
  if (ROWS > 0) await exportRuns(runs);
  await importRuns(runs);
  refusalRuns();
}

/** The time parseCimXml takes to refuse a billion-laughs document (test/cim.test.ts checks that it is refused, untimed). */
function refusalRuns() {
  const lol = `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('\n')}\n]>\n<lolz>&lol9;</lolz>`;
  const ms: number[] = [];
  for (let i = 0; i < IMPORT_REPS; i++) {
    const t = performance.now();
    try {
      parseCimXml(lol, 'lol.xml');
      throw new Error('the billion-laughs document was not refused');
    } catch (e) {
      if (!(e instanceof CimParseError) || e.code !== 'CIM-XML-DOCTYPE') throw e;
    }
    ms.push(performance.now() - t);
  }
  console.log('');
  table(
    ['refusal', 'ms (median)', 'ms (max)', 'target'],
    [['billion laughs (9 levels): CIM-XML-DOCTYPE', fmt(median(ms), 3), fmt(Math.max(...ms), 3), '< 500 ms']],
  );
}

async function exportRuns(runs: Record<'export' | 'baseline', Run[]>) {
  const pg = startPg(PG_PORT);
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  const hub = await startHub(pg.url, HUB_PORT);
  log(`PostgreSQL on ${pg.port}; hub pid ${hub.pid} on ${hub.baseUrl}`);
  const loadS = await loadAssets(sql, hub.orgs['fsp-a'], 0, ROWS, (d) => log(`  ${fmt(d)} rows`));
  await sql.unsafe(`VACUUM ANALYZE asset, asset_alias`);
  const [{ n: expected }] = await sql.unsafe(`SELECT count(*)::int AS n FROM asset WHERE deregistered_at IS NULL`);
  log(`loaded ${fmt(ROWS)} assets in ${fmt(loadS)} s; ${fmt(expected)} live; hub RSS idle ${mb(rssOf(hub.pid))}`);

  for (let rep = 1; rep <= REPS; rep++) {
    for (const k of ['baseline', 'export'] as const) {
      const r =
        k === 'baseline' ? await baselineOnce(sql) : await exportOnce(`${hub.baseUrl}/api/v1/cim/export`, hub.tokens.operator, hub.pid);
      if (r.assets !== expected) throw new Error(`${k}: ${r.assets} assets, expected ${expected}`);
      runs[k].push(r);
      log(
        `rep ${rep} ${k.padEnd(8)}: ${fmt(r.assets / r.seconds)} assets/s (${fmt(r.seconds, 1)} s, ${mb(r.bytes)})${k === 'export' ? `, hub peak RSS ${mb(r.peakRss)}` : ''}`,
      );
    }
  }
  await hub.stop();
  await sql.end();
  pg.stop();
}

async function importRuns(runs: Record<'export' | 'baseline', Run[]>) {
  const doc = importDocument(IMPORT_ASSETS);
  const bytes = Buffer.byteLength(doc);
  // Interleaved: each repetition times all four on the same document back to back, so machine noise hits
  // them alike; ratios are medians of the per-repetition ratios.
  const fns = {
    bare: () => new XMLParser().parse(doc),
    bareAttrs: () => new XMLParser({ ignoreAttributes: false }).parse(doc),
    parsed: () => mergeDocuments([parseCimXml(doc, 'bench.xml', { maxBytes: 1e10 })]),
    ours: () => extractAssets(mergeDocuments([parseCimXml(doc, 'bench.xml', { maxBytes: 1e10 })])),
  };
  const mbps: Record<keyof typeof fns, number[]> = { bare: [], bareAttrs: [], parsed: [], ours: [] };
  for (const f of Object.values(fns)) f();
  for (let i = 0; i < IMPORT_REPS; i++) {
    for (const [k, f] of Object.entries(fns) as [keyof typeof fns, () => unknown][]) {
      const t = performance.now();
      f();
      mbps[k].push(bytes / 1e6 / ((performance.now() - t) / 1000));
    }
    log(
      `import rep ${i + 1}: ${Object.entries(mbps)
        .map(([k, v]) => `${k} ${fmt(v[i], 1)} MB/s`)
        .join(', ')}`,
    );
  }
  const ratio = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]));
  const [bare, bareAttrs, parsed, ours] = [median(mbps.bare), median(mbps.bareAttrs), median(mbps.parsed), median(mbps.ours)];
  const pct = (a: keyof typeof fns, b: keyof typeof fns) => `${fmt(100 * ratio(mbps[a], mbps[b]), 1)}%`;

  console.log('\n## CIM: results\n');
  console.log('machine', JSON.stringify(machine()), '\n');
  if (runs.export.length)
    table(
      ['export', 'assets/s (median)', 'seconds (median)', 'body', 'peak hub RSS', 'vs baseline (median of per-rep ratios)', 'target'],
      [
        [
          'GET /api/v1/cim/export',
          fmt(median(runs.export.map((r) => r.assets / r.seconds))),
          fmt(median(runs.export.map((r) => r.seconds)), 1),
          mb(median(runs.export.map((r) => r.bytes))),
          mb(Math.max(...runs.export.map((r) => r.peakRss))),
          `${fmt(100 * median(runs.export.map((r, i) => r.assets / r.seconds / (runs.baseline[i].assets / runs.baseline[i].seconds))), 1)}%`,
          '≥ 50%, RSS < 300 MB',
        ],
        [
          'baseline: same pages as template strings',
          fmt(median(runs.baseline.map((r) => r.assets / r.seconds))),
          fmt(median(runs.baseline.map((r) => r.seconds)), 1),
          mb(median(runs.baseline.map((r) => r.bytes))),
          '–',
          '100%',
          '',
        ],
      ],
    );
  console.log('');
  // fast-xml-parser's defaults skip attributes, so they never see rdf:ID or rdf:resource; the second baseline reads them.
  table(
    ['import', 'MB/s (median)', 'vs bare (defaults), median of per-rep ratios', 'vs bare (attributes read)', 'target'],
    [
      [
        `parseCimXml + merge (${mb(bytes)}): safe, namespace-resolved, located`,
        fmt(parsed, 1),
        pct('parsed', 'bare'),
        pct('parsed', 'bareAttrs'),
        '≥ 50%',
      ],
      ['parseCimXml + merge + extract (register rows)', fmt(ours, 1), pct('ours', 'bare'), pct('ours', 'bareAttrs'), ''],
      ['bare fast-xml-parser, default options (attributes ignored)', fmt(bare, 1), '100%', '', ''],
      ['bare fast-xml-parser, ignoreAttributes: false', fmt(bareAttrs, 1), '', '100%', ''],
    ],
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
