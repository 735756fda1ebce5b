/**
 * The lookup benchmark's baseline: a bare Hono + postgres.js server (same HTTP server, same driver
 * and pool size as the hub) answering GET /api/v1/assets?identifier=mpan:<core> with one indexed
 * select and no authentication, no validation library and no alias aggregation; and the OpenADR
 * benchmark's, GET /api/v1/ven-registrations/resolve, the same way.
 *   DATABASE_URL=… PORT=… node --import tsx bench/baseline-server.ts
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import postgres from 'postgres';

const sql = postgres(process.env.DATABASE_URL!, { max: 10, onnotice: () => {}, types: {}, prepare: true });
const app = new Hono();
app.get('/api/v1/assets', async (c) => {
  const id = c.req.query('identifier') ?? '';
  if (!id.startsWith('mpan:')) return c.json({ error: 'identifier=mpan:<core>' }, 400);
  const items = await sql.unsafe(
    `SELECT a.* FROM asset_alias al JOIN asset a ON a.id = al.asset_id WHERE al.scheme = 'mpan' AND al.value = $1`,
    [id.slice(5)],
    { prepare: true },
  );
  return c.json({ items });
});
// The OpenADR benchmark's baseline (bench/openadr.ts): a VEN ID resolution as one indexed select.
app.get('/api/v1/ven-registrations/resolve', async (c) => {
  const items = await sql.unsafe(
    `SELECT a.* FROM openadr_vtn v JOIN ven_registration r ON r.vtn = v.id AND r.status <> 'CANCELLED'
      JOIN asset a ON a.fsp_id = r.organisation_id AND a.deregistered_at IS NULL
    WHERE upper(v.code) = upper($1) AND r.ven_id = $2 ORDER BY a.id LIMIT $3`,
    [c.req.query('vtn') ?? '', c.req.query('venId') ?? '', Number(c.req.query('limit') ?? 50)],
    { prepare: true },
  );
  return c.json({ assets: { items } });
});
const port = Number(process.env.PORT ?? 8090);
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => console.log(`baseline lookup server on 127.0.0.1:${port}`));
process.on('SIGTERM', async () => {
  await sql.end({ timeout: 5 });
  process.exit(0);
});
