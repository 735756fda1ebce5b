import { it } from 'vitest';
import { testHub, batteryInput } from './harness';
it('probe', async () => {
  const hub = await testHub();
  for (const extra of [{ manufacturer: 'a\u0000b' }, { manufacturer: '\ud800' }]) {
    const r = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(Math.floor(Math.random() * 1e6), extra) });
    console.log(JSON.stringify(extra), r.status);
  }
  for (const q of ['organisationId=a%00', 'identifier=fsp_ref:a%00', 'cursor=' + btoa(JSON.stringify({ after: 'a\u0000' }))]) {
    const r = await hub.call('GET', '/api/v1/assets?' + q, { as: 'fsp-a' });
    console.log(q, r.status, r.text.slice(0, 200));
  }
  const r = await hub.call('GET', '/api/v1/organisations/a%00', { as: 'fsp-a' });
  console.log('org get', r.status, r.text.slice(0, 200));
  await hub.close();
}, 60000);
