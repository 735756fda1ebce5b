import Category from '@mui/icons-material/Category';
import FactCheck from '@mui/icons-material/FactCheck';
import BarChart from '@mui/icons-material/BarChart';
import { Suspense, lazy, type ComponentType } from 'react';
import { Menu, usePermissions } from 'react-admin';
import { Typography } from '@mui/material';
import { Route } from 'react-router-dom';
import { useSession } from './session';

// These pages load when opened, not with the first screen (docs/performance.md, "The console"); made once, so a re-render keeps them mounted.
const lazyPage = (load: () => Promise<ComponentType>) => lazy(async () => ({ default: await load() }));
const Catalogues = lazyPage(async () => (await import('./catalogues')).CataloguesPage);
const Quality = lazyPage(async () => (await import('./quality')).QualityPage);
const Analytics = lazyPage(async () => (await import('./quality')).AnalyticsPage);
const page = (Page: ComponentType) => (
  <Suspense fallback={<Typography sx={{ p: 2 }}>Loading…</Typography>}>
    <Page />
  </Suspense>
);

/** Catalogues and data quality for the operator and the regulator; the public analytics for everyone. */
const overseer = (roles: string[] = []) => roles.some((r) => r === 'MARKET_FACILITATOR' || r === 'REGULATOR');

/** The routes of these pages, each with the scope it reads with (CustomRoutes' children in main.tsx). */
export function operatorRoutes(scopes: string[], roles: string[] | undefined) {
  return [
    overseer(roles) && scopes.includes('catalogues:read') ? <Route key="catalogues" path="/catalogues" element={page(Catalogues)} /> : null,
    overseer(roles) && scopes.includes('data-quality:read') ? <Route key="quality" path="/quality" element={page(Quality)} /> : null,
    <Route key="analytics" path="/analytics" element={page(Analytics)} />,
  ];
}

/** Their menu items (layout.tsx). */
export function OperatorMenuItems() {
  const { permissions } = usePermissions<string[]>();
  const roles = useSession()?.organisation?.roles;
  return (
    <>
      {overseer(roles) && permissions?.includes('catalogues:read') ? (
        <Menu.Item to="/catalogues" primaryText="Catalogues" leftIcon={<Category />} />
      ) : null}
      {overseer(roles) && permissions?.includes('data-quality:read') ? (
        <Menu.Item to="/quality" primaryText="Data quality" leftIcon={<FactCheck />} />
      ) : null}
      <Menu.Item to="/analytics" primaryText="Analytics" leftIcon={<BarChart />} />
    </>
  );
}
