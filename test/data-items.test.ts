import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batteryInput, expectRefused, invalid, testHub, type TestHub } from './harness';

/**
 * The data items Elexon's FMAR definitions v1.1 name and the hub had not carried
 * (docs/decisions.md, "Data items compared with Elexon's definitions"): the energy conversion type,
 * a catalogue code.
 */

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

describe('energyConversionType', () => {
  it('is a catalogue of five seeded codes', async () => {
    const r = await hub.call('GET', '/api/v1/catalogues/energy-conversion-types', { as: 'fsp-a' });
    expect(r.status, r.text).toBe(200);
    expect(r.json.policy).toBe('extensible');
    expect(r.json.usedBy).toEqual(['asset.energyConversionType']);
    expect(r.json.items.map((c: { code: string }) => c.code).sort()).toEqual(
      ['ASYNCHRONOUS_MACHINE', 'DIRECT_LOAD', 'INVERTER', 'OTHER', 'SYNCHRONOUS_MACHINE'].sort(),
    );
  });

  it('is stored, read, exported and changed like the other coded fields', async () => {
    const r = await hub.call('POST', '/api/v1/assets', {
      as: 'fsp-a',
      body: batteryInput(9500, { serialNumber: 'DI-1', energyConversionType: 'INVERTER' }),
    });
    expect(r.status, r.text).toBe(201);
    expect(r.json.energyConversionType).toBe('INVERTER');
    const read = await hub.call('GET', `/api/v1/assets/${r.json.id}`, { as: 'fsp-a' });
    expect(read.json.energyConversionType).toBe('INVERTER');
    const csv = await hub.call('GET', `/api/v1/assets/export?format=csv`, { as: 'fsp-a' });
    expect(csv.status, csv.text).toBe(200);
    const [header, ...rows] = csv.text.trim().split('\n');
    const row = rows.find((l) => l.startsWith(`${r.json.id},`))!;
    const col = header.split(',').indexOf('energyConversionType');
    expect(col).toBeGreaterThan(-1);
    expect(row.split(',')[col]).toBe('INVERTER');
    const patched = await hub.call('PATCH', `/api/v1/assets/${r.json.id}`, {
      as: 'fsp-a',
      body: { energyConversionType: 'OTHER' },
      headers: { 'if-match': `"${r.json.version}"` },
    });
    expect([patched.status, patched.json.energyConversionType]).toEqual([200, 'OTHER']);
    const none = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(9501, { serialNumber: 'DI-2' }) });
    expect([none.status, none.json.energyConversionType]).toEqual([201, null]);
  });

  it('refuses a value that is not a code in effect, writing nothing; a code the operator adds is accepted', async () => {
    const body = batteryInput(9502, { serialNumber: 'DI-3', energyConversionType: 'FLYWHEEL_COUPLED' });
    await expectRefused(
      hub.db,
      ['asset', 'audit_log', 'event_outbox'],
      () => hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body }),
      422,
      invalid('energyConversionType', 'ASSET-ENERGY-CONVERSION-TYPE-UNKNOWN'),
    );
    const added = await hub.call('POST', '/api/v1/catalogues/energy-conversion-types/codes', {
      as: 'operator',
      body: { code: 'FLYWHEEL_COUPLED', label: 'Flywheel coupled' },
    });
    expect(added.status, added.text).toBe(201);
    const ok = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body });
    expect([ok.status, ok.json.energyConversionType]).toEqual([201, 'FLYWHEEL_COUPLED']);
  });
});
