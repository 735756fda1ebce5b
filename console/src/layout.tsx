import Group from '@mui/icons-material/Group';
import Webhook from '@mui/icons-material/Webhook';
import UploadFile from '@mui/icons-material/UploadFile';
import History from '@mui/icons-material/History';
import Hub from '@mui/icons-material/Hub';
import Workspaces from '@mui/icons-material/Workspaces';
import SettingsRemote from '@mui/icons-material/SettingsRemote';
import Handshake from '@mui/icons-material/Handshake';
import Verified from '@mui/icons-material/Verified';
import Share from '@mui/icons-material/Share';
import CircularProgress from '@mui/material/CircularProgress';
import {
  AppBar,
  Layout,
  RefreshIconButton,
  Menu,
  UserMenu,
  defaultLightTheme,
  useGetIdentity,
  useLoading,
  usePermissions,
  type LayoutProps,
  type RaThemeOptions,
} from 'react-admin';
import { signIn } from './auth';
import { useSession } from './session';
import { readsVens } from './ven';
import { OperatorMenuItems } from './operator-pages';

/** React-Admin's theme with blues and red dark enough for white text and light rows (WCAG AA, 4.5:1; the default's #2196f3 is 3.1:1). */
export const theme: RaThemeOptions = {
  ...defaultLightTheme,
  palette: {
    ...defaultLightTheme.palette,
    primary: { main: '#1565c0', contrastText: '#fff' },
    secondary: { light: '#5472d3', main: '#0d47a1', dark: '#002171', contrastText: '#fff' },
    // Material's error red (#d32f2f) is 4.3:1 on a hovered row: darker, for text buttons such as "De-register".
    error: { main: '#b71c1c', contrastText: '#fff' },
  },
  ...lessMotion(),
};

/**
 * A person whose system asks for less motion (`prefers-reduced-motion: reduce`) gets none: no
 * transitions and no ripples (WCAG 2.3.3). The browser tests ask for it too, so the accessibility
 * check reads settled colours, never a button halfway through a transition.
 */
function lessMotion(): Partial<RaThemeOptions> {
  if (typeof window === 'undefined' || !window.matchMedia?.('(prefers-reduced-motion: reduce)').matches) return {};
  const components = defaultLightTheme.components ?? {};
  return {
    transitions: { create: () => 'none' },
    components: {
      ...components,
      MuiButtonBase: { ...components.MuiButtonBase, defaultProps: { ...components.MuiButtonBase?.defaultProps, disableRipple: true } },
    },
  };
}

/** The user menu's accessible name starts with the name it shows (WCAG 2.5.3, label in name). */
function PersonMenu() {
  const { identity } = useGetIdentity();
  return <UserMenu label={identity?.fullName ? `${identity.fullName}: account` : 'Account'} />;
}

/**
 * A person in several organisations chooses which one they act in. The choice signs in again
 * with `organisation=` (the provider's session: no password); the screens then follow that
 * organisation's roles and the person's role in it.
 */
function OrganisationSwitcher() {
  const s = useSession();
  if (!s || s.organisations.length < 2) return null;
  return (
    <label style={{ color: '#fff', marginRight: 8, fontSize: 14 }}>
      Organisation{' '}
      <select
        value={s.organisationId}
        onChange={(e) => {
          // The chosen organisation opens at its dashboard: a screen of one organisation may not exist in the other.
          window.history.replaceState(null, '', window.location.pathname);
          void signIn(e.target.value);
        }}
        style={{ fontSize: 14, padding: '2px 4px', marginLeft: 4, color: '#000', background: '#fff' }}
      >
        {s.organisations.map((o) => (
          <option key={o.id} value={o.id}>
            {o.name} ({o.userRole})
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * React-Admin's loading indicator with a name: its spinner is a progressbar, which a screen reader
 * must be able to name (axe: aria-progressbar-name, serious). The refresh button as React-Admin's.
 */
function Loading() {
  const loading = useLoading();
  return (
    <span style={{ display: 'inline-flex', alignItems: 'center', position: 'relative' }}>
      <RefreshIconButton sx={loading ? { visibility: 'hidden' } : undefined} />
      {loading ? (
        <CircularProgress
          color="inherit"
          size={16}
          thickness={6}
          aria-label="Loading"
          sx={{ position: 'absolute', left: 12, pointerEvents: 'none' }}
        />
      ) : null}
    </span>
  );
}

const Bar = () => (
  <AppBar
    userMenu={<PersonMenu />}
    toolbar={
      <>
        <OrganisationSwitcher />
        <Loading />
      </>
    }
  />
);

/** A System Operator's person who may record qualifications (qualify.tsx). */
export const recordsQualifications = (scopes: string[] | undefined, roles: string[] | undefined) =>
  !!scopes?.includes('qualifications:write') && !!roles?.includes('SYSTEM_OPERATOR');

/** The resources, then the pages that are not a resource, each shown only with the scope it needs. */
function ConsoleMenu() {
  const { permissions } = usePermissions<string[]>();
  const roles = useSession()?.organisation?.roles;
  return (
    <Menu>
      <Menu.DashboardItem />
      <Menu.ResourceItems />
      {permissions?.includes('assets:write') ? <Menu.Item to="/bulk" primaryText="Bulk upload" leftIcon={<UploadFile />} /> : null}
      {permissions?.includes('cim:export') || permissions?.includes('cim:import') ? (
        <Menu.Item to="/cim" primaryText="CIM export and import" leftIcon={<Hub />} />
      ) : null}
      {permissions?.includes('audit:read') ? <Menu.Item to="/audit" primaryText="Audit trail" leftIcon={<History />} /> : null}
      {['users:read', 'clients:read', 'delegations:read'].some((x) => permissions?.includes(x)) ? (
        <Menu.Item to="/team" primaryText="Team and access" leftIcon={<Group />} />
      ) : null}
      {permissions?.includes('webhooks:read') ? <Menu.Item to="/webhooks" primaryText="Webhooks" leftIcon={<Webhook />} /> : null}
      {permissions?.includes('market-units:read') ? (
        <Menu.Item to="/market-units" primaryText="Market units" leftIcon={<Workspaces />} />
      ) : null}
      {permissions?.includes('openadr:read') && readsVens(roles) ? (
        <Menu.Item to="/ven-registrations" primaryText="VEN registrations" leftIcon={<SettingsRemote />} />
      ) : null}
      {permissions?.includes('contracts:read') ? <Menu.Item to="/contracts" primaryText="Contracts" leftIcon={<Handshake />} /> : null}
      {recordsQualifications(permissions, roles) ? (
        <Menu.Item to="/qualify" primaryText="Qualify market units" leftIcon={<Verified />} />
      ) : null}
      {permissions?.includes('organisations:read') ? <Menu.Item to="/data-shares" primaryText="Data shares" leftIcon={<Share />} /> : null}
      <OperatorMenuItems />
    </Menu>
  );
}

// React-Admin's layout is at least as wide as its content (min-width: fit-content), and the content (z-index 2) then slides
// over the menu when the page scrolls sideways: here it fits the window, and a wide table scrolls inside its own box.
export const ConsoleLayout = (props: LayoutProps) => (
  <Layout {...props} appBar={Bar} menu={ConsoleMenu} sx={{ minWidth: 0, '& .RaLayout-content': { minWidth: 0 } }} />
);
