import Category from '@mui/icons-material/Category';
import FactCheck from '@mui/icons-material/FactCheck';
import BarChart from '@mui/icons-material/BarChart';
import { Menu, usePermissions } from 'react-admin';
import { Route } from 'react-router-dom';
import { CataloguesPage } from './catalogues';
import { AnalyticsPage, QualityPage } from './quality';
import { useSession } from './session';

/** Catalogues and data quality for the operator and the regulator; the public analytics for everyone. */
const overseer = (roles: string[] = []) => roles.some((r) => r === 'MARKET_FACILITATOR' || r === 'REGULATOR');

/** The routes of these pages, each with the scope it reads with (CustomRoutes' children in main.tsx). */
export function operatorRoutes(scopes: string[], roles: string[] | undefined) {
  return [
    overseer(roles) && scopes.includes('catalogues:read') ? (
      <Route key="catalogues" path="/catalogues" element={<CataloguesPage />} />
    ) : null,
    overseer(roles) && scopes.includes('data-quality:read') ? <Route key="quality" path="/quality" element={<QualityPage />} /> : null,
    <Route key="analytics" path="/analytics" element={<AnalyticsPage />} />,
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
