import type { TestHousehold } from '../consent/stand-in-provider';
import { DEMO_ASSETS } from './seed';

/**
 * Test households of the development consent-service stand-in (docs/consumers.md): the people it
 * lets sign in, each with the meter points (MPANs) it may act for. The first owns the demo battery,
 * the second the demo charger and heat pump; the third has a meter with nothing registered at it.
 */
const mpanOf = (code: string) => DEMO_ASSETS.find((a) => a.friendlyCode === code)!.importMpan;

export const DEMO_HOUSEHOLDS: TestHousehold[] = [
  { id: 'household-glasgow', label: 'Flat 1, 1 Demo Street, Glasgow (home battery)', mpans: [mpanOf('ALPHA-BESS-1')] },
  {
    id: 'household-driveway',
    label: '2 Demo Lane (EV charger and heat pump)',
    mpans: [mpanOf('ALPHA-EV-1'), mpanOf('ALPHA-HP-1')],
  },
  { id: 'household-empty', label: '3 Demo Road (nothing registered)', mpans: ['1300000000099'] },
];
