import type { ReactNode } from 'react';
import { Box } from '@mui/material';

/** What the household's pages share (household.tsx, household-disputes.tsx): codes in plain words, dates, a list of facts. */

const CATEGORY: Record<string, string> = {
  BESS: 'Home battery',
  SOLAR_PV: 'Solar panels',
  WIND_TURBINE: 'Wind turbine',
  EV_CHARGER: 'Electric vehicle charger',
  HEAT_PUMP: 'Heat pump',
  ELECTRIC_BOILER: 'Electric boiler',
  HVAC: 'Heating, ventilation or air conditioning',
  REFRIGERATION: 'Refrigeration',
  CHP: 'Combined heat and power',
};
export const words = (code: string, table: Record<string, string>) => table[code] ?? code.replace(/_/g, ' ').toLowerCase();
export const categoryName = (code: string) => words(code, CATEGORY);
export const day = (v: string | null | undefined) =>
  v ? new Date(v.length === 10 ? `${v}T12:00:00Z` : v).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' }) : '';

/** A list of terms and what they are: a definition list, one pair a row on a phone. */
export function Facts({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <Box component="dl" sx={{ m: 0, display: 'grid', gridTemplateColumns: { xs: '1fr', sm: '12rem 1fr' }, columnGap: 2 }}>
      {rows.map(([k, v]) => (
        <Box key={k} sx={{ display: 'contents' }}>
          <Box component="dt" sx={{ fontWeight: 600, mt: 1 }}>
            {k}
          </Box>
          <Box component="dd" sx={{ m: 0, mt: { xs: 0, sm: 1 } }}>
            {v}
          </Box>
        </Box>
      ))}
    </Box>
  );
}
