import { it } from 'vitest';
import { testHub } from './harness';
it('probe', async () => {
  const hub = await testHub();
  const t = await hub.token('fsp-a');
  for (const ct of ['*/*', 'text/plain', undefined]) {
    const headers: Record<string, string> = { authorization: `Bearer ${t}` };
    if (ct) headers['content-type'] = ct;
    const r = await hub.app.request('/api/v1/assets', { method: 'POST', headers });
    console.log('CT', ct, r.status, await r.text());
  }
  await hub.close();
}, 60000);
