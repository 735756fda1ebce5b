import { StrictMode, Suspense, lazy } from 'react';
import { createRoot } from 'react-dom/client';
import { Admin, CustomRoutes, Resource } from 'react-admin';
import { Route } from 'react-router-dom';
import { AssetCreate, AssetList, AssetShow } from './assets';
import { HOUSEHOLD_SIGN_IN, household, signIn, start } from './auth';
import { BulkUpload } from './bulk';
import { SwitchList, SwitchRequest } from './switches';
import { AuditTrail, DisputeList, DisputeShow, OrganisationList } from './operator';
import { CimPage, ProductList, QualificationList } from './network';
import { TeamPage } from './team';
import { WebhooksPage } from './webhooks';
import { MarketUnitsPage } from './units';
import { VenRegistrationsPage, readsVens } from './ven';
import { ContractsPage } from './contracts';
import { DataSharesPage } from './shares';
import { operatorRoutes } from './operator-pages';
import { Dashboard } from './dashboard';
import { ConsoleLayout, recordsQualifications, theme } from './layout';
import { dataProvider } from './data-provider';
import { SessionContext, authProvider, session, useOrganisation } from './session';

// A household's page (docs/consumers.md) loads only for a household: none of the organisations' screens or menus.
const Household = lazy(() => import('./household'));
// A System Operator's qualification page loads when opened (docs/console.md, "Qualify market units").
const Qualify = lazy(() => import('./qualify'));

function Console() {
  const s0 = session();
  const org = useOrganisation(s0?.organisationId);
  const s = session(org);
  return (
    <SessionContext.Provider value={s}>
      <Admin
        title="FMAR console"
        dataProvider={dataProvider}
        authProvider={authProvider}
        dashboard={Dashboard}
        layout={ConsoleLayout}
        lightTheme={theme}
        darkTheme={null}
        requireAuth
        disableTelemetry
      >
        {(scopes: string[]) => {
          // What a person sees follows their organisation's roles and the scopes their user role there allows.
          const roles = s?.organisation?.roles ?? [];
          const overseer = roles.some((r) => r === 'MARKET_FACILITATOR' || r === 'REGULATOR');
          const network = overseer || roles.some((r) => r === 'DNO' || r === 'IDNO' || r === 'SYSTEM_OPERATOR');
          return [
            scopes.includes('assets:read') ? (
              <Resource
                key="assets"
                name="assets"
                list={AssetList}
                show={AssetShow}
                create={scopes.includes('assets:write') ? AssetCreate : undefined}
                recordRepresentation="name"
              />
            ) : null,
            scopes.includes('switches:read') ? (
              <Resource
                key="switches"
                name="switches"
                list={SwitchList}
                create={scopes.includes('switches:write') ? SwitchRequest : undefined}
              />
            ) : null,
            overseer && scopes.includes('organisations:read') ? (
              <Resource key="organisations" name="organisations" list={OrganisationList} recordRepresentation="legalName" />
            ) : null,
            scopes.includes('disputes:read') ? <Resource key="disputes" name="disputes" list={DisputeList} show={DisputeShow} /> : null,
            network && scopes.includes('products:read') ? <Resource key="products" name="products" list={ProductList} /> : null,
            network && scopes.includes('market-units:read') ? (
              <Resource key="qualifications" name="qualifications" list={QualificationList} />
            ) : null,
            <CustomRoutes key="pages">
              {scopes.includes('assets:write') ? <Route path="/bulk" element={<BulkUpload />} /> : null}
              {scopes.includes('cim:export') || scopes.includes('cim:import') ? <Route path="/cim" element={<CimPage />} /> : null}
              {scopes.includes('audit:read') ? <Route path="/audit" element={<AuditTrail />} /> : null}
              {['users:read', 'clients:read', 'delegations:read'].some((x) => scopes.includes(x)) ? (
                <Route path="/team" element={<TeamPage />} />
              ) : null}
              {scopes.includes('webhooks:read') ? <Route path="/webhooks" element={<WebhooksPage />} /> : null}
              {scopes.includes('market-units:read') ? <Route path="/market-units" element={<MarketUnitsPage />} /> : null}
              {scopes.includes('openadr:read') && readsVens(roles) ? (
                <Route path="/ven-registrations" element={<VenRegistrationsPage />} />
              ) : null}
              {scopes.includes('contracts:read') ? <Route path="/contracts" element={<ContractsPage />} /> : null}
              {recordsQualifications(scopes, roles) ? (
                <Route
                  path="/qualify"
                  element={
                    <Suspense fallback={<p role="status">Loading…</p>}>
                      <Qualify />
                    </Suspense>
                  }
                />
              ) : null}
              {scopes.includes('organisations:read') ? <Route path="/data-shares" element={<DataSharesPage />} /> : null}
              {operatorRoutes(scopes, roles)}
            </CustomRoutes>,
          ];
        }}
      </Admin>
    </SessionContext.Provider>
  );
}

function SignedOut() {
  return (
    <main style={{ font: '16px/1.5 system-ui, sans-serif', maxWidth: '40rem', margin: '3rem auto', padding: '0 1rem' }}>
      <h1>FMAR console</h1>
      <p>You are signed out.</p>
      <button type="button" onClick={() => void signIn()} style={{ fontSize: 16, padding: '.5rem 1rem' }}>
        Sign in
      </button>
      <p>
        A household? <a href={HOUSEHOLD_SIGN_IN}>Sign in through the consumer consent service</a>.
      </p>
    </main>
  );
}

function Failed({ message }: { message: string }) {
  return (
    <main style={{ font: '16px/1.5 system-ui, sans-serif', maxWidth: '40rem', margin: '3rem auto', padding: '0 1rem' }}>
      <h1>FMAR console</h1>
      <p role="alert">Sign-in failed: {message}</p>
      <button type="button" onClick={() => void signIn()} style={{ fontSize: 16, padding: '.5rem 1rem' }}>
        Sign in again
      </button>
    </main>
  );
}

const root = createRoot(document.getElementById('root')!);
start().then(
  (state) => {
    if (state === 'anonymous') return void signIn();
    root.render(
      <StrictMode>
        {state !== 'signed-in' ? (
          <SignedOut />
        ) : household() ? (
          <Suspense fallback={<p role="status">Reading…</p>}>
            <Household />
          </Suspense>
        ) : (
          <Console />
        )}
      </StrictMode>,
    );
  },
  (e: Error) => root.render(<Failed message={e.message} />),
);
