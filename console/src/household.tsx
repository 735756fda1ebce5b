import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import {
  Alert,
  AppBar,
  Box,
  Button,
  Card,
  CardContent,
  Container,
  CssBaseline,
  ThemeProvider,
  Toolbar,
  Typography,
  createTheme,
  type ThemeOptions,
} from '@mui/material';
import type { HouseholdAsset, HouseholdConsent } from '../../src/consumers/schema';
import type { Dispute } from '../../src/disputes/schema';
import { api } from './api';
import { household, signOut } from './auth';
import { HouseholdDisputes } from './household-disputes';
import { Facts, categoryName, day, words } from './household-words';
import { theme } from './layout';

/**
 * The household's console (docs/consumers.md, docs/console.md): one page, phone first, in plain
 * words, read from the household API (/api/v1/consumer/*) with the household's token and nothing
 * else: its devices at its meter points, the consents for its meter and what was done under them
 * (with withdrawal after a confirmation), its disputes, and a copy of everything.
 */

const STATUS: Record<string, string> = {
  PENDING_VALIDATION: 'Registered, not yet checked',
  VERIFIED: 'Registered and checked',
  QUERY: 'Registered, being queried',
  SUSPENDED_CONSENT_REVOKED: 'Suspended: the consent it relied on was withdrawn',
  DEREGISTERED: 'No longer registered',
};
const SWITCH: Record<string, string> = {
  REQUESTED: 'asked for',
  PENDING: 'waiting to take effect',
  EFFECTIVE: 'done',
  REJECTED: 'refused',
  CANCELLED: 'cancelled',
  WITHDRAWN: 'withdrawn by the company that asked',
  FAILED: 'failed',
};
export interface HouseholdData {
  assets?: HouseholdAsset[];
  consents?: HouseholdConsent[];
  disputes?: Dispute[];
  error?: string;
}

/** The household's assets, consents and disputes, read together and again after each change. */
function useHouseholdData() {
  const [data, setData] = useState<HouseholdData>({});
  const reload = useCallback(() => {
    Promise.all([
      api<{ items: HouseholdAsset[] }>('/consumer/assets'),
      api<{ items: HouseholdConsent[] }>('/consumer/consents'),
      api<{ items: Dispute[] }>('/consumer/disputes'),
    ]).then(
      ([a, c, d]) => setData({ assets: a.items, consents: c.items, disputes: d.items }),
      (e: Error) => setData((prev) => ({ ...prev, error: e.message })),
    );
  }, []);
  useEffect(reload, [reload]);
  return { data, reload };
}

function Devices({ assets }: { assets: HouseholdAsset[] }) {
  if (!assets.length) return <Typography>Nothing is registered at your meter points.</Typography>;
  return (
    <>
      {assets.map((a) => (
        <Card key={a.id} component="article" aria-labelledby={`asset-${a.id}`} sx={{ mb: 2 }}>
          <CardContent>
            <Typography variant="h6" component="h3" id={`asset-${a.id}`}>
              {categoryName(a.category)}: {a.name}
            </Typography>
            <Facts
              rows={[
                ['Status', <span data-testid={`status-${a.id}`}>{words(a.status, STATUS)}</span>],
                ['Size', `${a.ratedCapacityKw.toLocaleString('en-GB')} kW`],
                ['Meter point', [a.importMpan, a.exportMpan].filter(Boolean).join(' (import), ') + (a.exportMpan ? ' (export)' : '')],
                [
                  'Controlled by',
                  `${a.controllingFsp.name ?? 'a company'}${a.controllingFsp.since ? `, since ${day(a.controllingFsp.since)}` : ''}`,
                ],
                [
                  'Used for',
                  a.marketUnits.length
                    ? a.marketUnits.map((u) => `${u.product} (${u.name})`).join('; ')
                    : 'Not in any flexibility service now',
                ],
                [
                  'Who controlled it',
                  <Box component="ol" sx={{ m: 0, pl: 3 }}>
                    {a.fspHistory.map((l, i) => (
                      <li key={i}>
                        {l.fsp.name ?? l.fsp.id}: {l.from ? `from ${day(l.from)}` : ''}
                        {l.to ? ` to ${day(l.to)}` : ' to now'}
                      </li>
                    ))}
                  </Box>,
                ],
              ]}
            />
          </CardContent>
        </Card>
      ))}
    </>
  );
}

/** Withdraw a consent, after saying what will happen and asking to confirm. */
function Withdraw({ consent, who, done }: { consent: HouseholdConsent; who: string; done: (text: string) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const panel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (confirming) panel.current?.focus();
  }, [confirming]);
  if (consent.state !== 'ACTIVE') return null;
  const go = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await api<{ cancelledSwitches: string[]; suspendedAssets: string[] }>(
        `/consumer/consents/${encodeURIComponent(consent.id)}/revoke`,
        { method: 'POST' },
      );
      setConfirming(false);
      done(
        `Your consent for ${who} is withdrawn.` +
          (r.suspendedAssets.length ? ` ${r.suspendedAssets.length} device(s) it controlled are suspended.` : '') +
          (r.cancelledSwitches.length ? ` ${r.cancelledSwitches.length} move(s) waiting under it are cancelled.` : ''),
      );
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  if (!confirming)
    return (
      <Button variant="outlined" color="error" onClick={() => setConfirming(true)} sx={{ mt: 2 }}>
        Withdraw this consent
      </Button>
    );
  return (
    <Box
      ref={panel}
      tabIndex={-1}
      role="group"
      aria-labelledby={`confirm-${consent.id}`}
      sx={{ mt: 2, p: 2, border: '2px solid', borderColor: 'error.main', borderRadius: 1 }}
    >
      <Typography id={`confirm-${consent.id}`} sx={{ fontWeight: 600 }}>
        Withdraw your consent for {who}?
      </Typography>
      <Typography variant="body2" sx={{ my: 1 }}>
        The consent service is told. A device {who} controls because of this consent is suspended, and a move waiting under it is cancelled.
        This cannot be undone here: to give consent again, ask the company.
      </Typography>
      {error ? (
        <Alert severity="error" role="alert" sx={{ my: 1 }}>
          {error}
        </Alert>
      ) : null}
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
        <Button variant="contained" color="error" disabled={busy} onClick={() => void go()}>
          Yes, withdraw it
        </Button>
        <Button variant="outlined" disabled={busy} onClick={() => setConfirming(false)}>
          Keep it
        </Button>
      </Box>
    </Box>
  );
}

function Consents({ consents, names, done }: { consents: HouseholdConsent[]; names: Map<string, string>; done: (t: string) => void }) {
  if (!consents.length) return <Typography>No consent for your meter points is recorded in the register.</Typography>;
  const name = (id: string) => names.get(id) ?? 'another company';
  return (
    <>
      {consents.map((c) => {
        const who = c.fsp.name ?? name(c.fsp.id);
        return (
          <Card key={`${c.issuer} ${c.id}`} component="article" aria-labelledby={`consent-${c.id}`} sx={{ mb: 2 }}>
            <CardContent>
              <Typography variant="h6" component="h3" id={`consent-${c.id}`}>
                Consent for {who}
              </Typography>
              <Facts
                rows={[
                  [
                    'State',
                    <span data-testid={`consent-state-${c.id}`}>
                      {c.state === 'ACTIVE' ? 'In force' : c.state === 'EXPIRED' ? 'Expired' : `Withdrawn on ${day(c.revokedAt)}`}
                    </span>,
                  ],
                  ['Meter point', c.mpan],
                  ['Purpose', c.purpose ? c.purpose.replace(/-/g, ' ') : 'Not stated'],
                  [
                    'Valid',
                    `${c.validFrom ? `from ${day(c.validFrom)}` : ''}${c.validTo ? ` until ${day(c.validTo)}` : ' with no end date'}`,
                  ],
                  [
                    'What was done with it',
                    c.switches.length || c.registeredAssets.length ? (
                      <Box component="ul" sx={{ m: 0, pl: 3 }}>
                        {c.registeredAssets.length ? <li>Your device was registered with it</li> : null}
                        {c.switches.map((s) => (
                          <li key={s.id}>
                            Move of your device from {name(s.losingFspId)} to {name(s.gainingFspId)} on {day(s.effectiveDate)}:{' '}
                            {words(s.status, SWITCH)}
                          </li>
                        ))}
                      </Box>
                    ) : (
                      'Nothing yet'
                    ),
                  ],
                ]}
              />
              <Withdraw consent={c} who={who} done={done} />
            </CardContent>
          </Card>
        );
      })}
    </>
  );
}

/** A copy of everything the register holds about the meter points, and who read it: JSON or CSV, saved by the browser. */
function YourData() {
  const [error, setError] = useState<string>();
  const save = async (format: 'json' | 'csv') => {
    setError(undefined);
    try {
      const body = await api<unknown>(`/consumer/export?format=${format}`);
      const text = format === 'json' ? JSON.stringify(body, null, 2) : String(body);
      const url = URL.createObjectURL(new Blob([text], { type: format === 'json' ? 'application/json' : 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `fmar-household-${new Date().toISOString().slice(0, 10)}.${format}`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      <Typography sx={{ mb: 1 }}>
        Download everything the register holds about your meter points: your devices, consents, disputes, and which organisations read
        private data about them.
      </Typography>
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
        <Button variant="contained" onClick={() => void save('json')}>
          Download (JSON)
        </Button>
        <Button variant="contained" onClick={() => void save('csv')}>
          Download (CSV, for a spreadsheet)
        </Button>
      </Box>
      {error ? (
        <Alert severity="error" role="alert" sx={{ mt: 1 }}>
          {error}
        </Alert>
      ) : null}
    </>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <Box component="section" aria-labelledby={id} sx={{ mt: 4 }}>
      <Typography variant="h5" component="h2" id={id} gutterBottom>
        {title}
      </Typography>
      {children}
    </Box>
  );
}

// Buttons in sentence case, as the rest of the page is written.
const householdTheme = createTheme({
  ...(theme as ThemeOptions),
  components: { ...theme.components, MuiButton: { styleOverrides: { root: { textTransform: 'none' } } } },
});

export default function Household() {
  const h = household()!;
  const { data, reload } = useHouseholdData();
  const [told, setTold] = useState<string>();
  // Companies are named where the register names them: an asset's links, a consent's holder.
  const names = new Map<string, string>();
  for (const a of data.assets ?? []) for (const l of a.fspHistory) if (l.fsp.name) names.set(l.fsp.id, l.fsp.name);
  for (const c of data.consents ?? []) if (c.fsp.name) names.set(c.fsp.id, c.fsp.name);
  const done = (text: string) => {
    setTold(text);
    reload();
  };
  return (
    <ThemeProvider theme={householdTheme}>
      <CssBaseline />
      <AppBar position="static" component="header">
        <Toolbar sx={{ gap: 1 }}>
          <Typography variant="h6" component="p" sx={{ flexGrow: 1 }}>
            Your meter and the flexibility register
          </Typography>
          <Button color="inherit" variant="outlined" onClick={() => void signOut()}>
            Sign out
          </Button>
        </Toolbar>
      </AppBar>
      <Container component="main" maxWidth="md" sx={{ pb: 6 }}>
        <Typography variant="h4" component="h1" sx={{ mt: 3, fontSize: { xs: '1.6rem', sm: '2rem' } }}>
          What the register holds about your meter
        </Typography>
        <Typography sx={{ mt: 1 }}>
          You signed in for meter point{h.mpans.length > 1 ? 's' : ''} {h.mpans.join(', ')}. Companies that control home energy devices for
          flexibility services record them here; you can see what they recorded, withdraw your consent, and tell us when something is wrong.
        </Typography>
        {data.error ? (
          <Alert severity="error" role="alert" sx={{ mt: 2 }}>
            {data.error}
          </Alert>
        ) : null}
        {told ? (
          <Alert severity="success" role="status" sx={{ mt: 2 }} onClose={() => setTold(undefined)}>
            {told}
          </Alert>
        ) : null}
        <Section id="devices" title="Your devices">
          {data.assets ? <Devices assets={data.assets} /> : <Typography role="status">Reading…</Typography>}
        </Section>
        <Section id="consents" title="Your consents">
          {data.consents ? <Consents consents={data.consents} names={names} done={done} /> : <Typography>Reading…</Typography>}
        </Section>
        <Section id="disputes" title="Something wrong?">
          <HouseholdDisputes assets={data.assets ?? []} disputes={data.disputes} done={done} />
        </Section>
        <Section id="your-data" title="Your data">
          <YourData />
        </Section>
      </Container>
    </ThemeProvider>
  );
}
