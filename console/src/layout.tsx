import Group from '@mui/icons-material/Group';
import Webhook from '@mui/icons-material/Webhook';
import UploadFile from '@mui/icons-material/UploadFile';
import {
  AppBar,
  Layout,
  Menu,
  UserMenu,
  defaultLightTheme,
  useGetIdentity,
  usePermissions,
  type LayoutProps,
  type RaThemeOptions,
} from 'react-admin';

/** React-Admin's theme with blues dark enough for white text (WCAG AA, 4.5:1; the default's #2196f3 is 3.1:1). */
export const theme: RaThemeOptions = {
  ...defaultLightTheme,
  palette: {
    ...defaultLightTheme.palette,
    primary: { main: '#1565c0', contrastText: '#fff' },
    secondary: { light: '#5472d3', main: '#0d47a1', dark: '#002171', contrastText: '#fff' },
  },
};

/** The user menu's accessible name starts with the name it shows (WCAG 2.5.3, label in name). */
function PersonMenu() {
  const { identity } = useGetIdentity();
  return <UserMenu label={identity?.fullName ? `${identity.fullName}: account` : 'Account'} />;
}

const Bar = () => <AppBar userMenu={<PersonMenu />} />;

/** The resources, then the pages that are not a resource, each shown only with the scope it needs. */
function ConsoleMenu() {
  const { permissions } = usePermissions<string[]>();
  return (
    <Menu>
      <Menu.DashboardItem />
      <Menu.ResourceItems />
      {permissions?.includes('assets:write') ? <Menu.Item to="/bulk" primaryText="Bulk upload" leftIcon={<UploadFile />} /> : null}
      {['users:read', 'clients:read', 'delegations:read'].some((x) => permissions?.includes(x)) ? (
        <Menu.Item to="/team" primaryText="Team and access" leftIcon={<Group />} />
      ) : null}
      {permissions?.includes('webhooks:read') ? <Menu.Item to="/webhooks" primaryText="Webhooks" leftIcon={<Webhook />} /> : null}
    </Menu>
  );
}

export const ConsoleLayout = (props: LayoutProps) => <Layout {...props} appBar={Bar} menu={ConsoleMenu} />;
