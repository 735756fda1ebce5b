import { useState, type FormEvent } from 'react';
import { Title, usePermissions } from 'react-admin';
import {
  Alert,
  Box,
  Button,
  Card,
  CardContent,
  MenuItem,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from '@mui/material';
import type { VenRegistration, Vtn } from '../../src/openadr/schema';
import { api, query } from './api';
import { OutcomeAlert, useList, type Outcome } from './outcome';
import { More, usePaged } from './paged';
import { attempt, when } from './problem';
import { useSession } from './session';
import { VenResourcesPanel } from './ven-resources';

const CONFIRMATION: Record<VenRegistration['confirmation'], string> = {
  CONFIRMED: 'confirmed by the VTN’s operator',
  UNCONFIRMED: 'awaiting the VTN’s operator',
  REJECTED: 'rejected by the VTN’s operator',
  SELF_DECLARED: 'self-declared (the VTN has no registered operator)',
};

/** Who reads VEN registrations (vens.read): the operator, the regulator, dispatch platforms, FSPs and aggregators; not DNOs. */
export const readsVens = (roles: readonly string[] = []) =>
  roles.some((r) => ['MARKET_FACILITATOR', 'REGULATOR', 'SYSTEM_OPERATOR', 'INDEPENDENT_MARKET_PLATFORM', 'FSP', 'AGGREGATOR'].includes(r));

/**
 * VEN registrations (docs/console.md, "VEN registrations"): the VEN IDs the organisation holds on
 * the VTNs it uses, through the public API only (/ven-registrations, /vtns). With `openadr:write`:
 * register one, suspend or resume it (If-Match: the version read), retire it after a confirmation
 * (DELETE: cancelled, its VEN ID and name released on the VTN). Only a VTN's operator (a System
 * Operator or market platform) confirms or rejects the registrations on its VTNs.
 */
export function VenRegistrationsPage() {
  const { permissions } = usePermissions<string[]>();
  const write = !!permissions?.includes('openadr:write');
  const s = useSession();
  const dispatch = !!s?.organisation?.roles.some((r) => r === 'SYSTEM_OPERATOR' || r === 'INDEPENDENT_MARKET_PLATFORM');
  const [status, setStatus] = useState('ACTIVE');
  const registrations = usePaged<VenRegistration>(`/ven-registrations${query({ status, limit: 100 })}`);
  const { items, error, reload } = registrations;
  const vtns = useList<Vtn>('/vtns?limit=100');
  const [outcome, setOutcome] = useState<Outcome>();
  const [retiring, setRetiring] = useState<string>();
  const [assetsOf, setAssetsOf] = useState<string>();
  const opened = items?.find((r) => r.id === assetsOf);
  const change = async (action: () => Promise<Outcome>) => {
    setRetiring(undefined);
    await attempt(setOutcome, action);
    reload();
  };
  const on = (r: VenRegistration, verb: string, init: RequestInit = {}) =>
    api<VenRegistration>(`/ven-registrations/${encodeURIComponent(r.id)}${verb}`, {
      ...init,
      headers: { 'if-match': `"${r.version}"`, ...init.headers },
    });
  const setActive = (r: VenRegistration, to: 'ACTIVE' | 'SUSPENDED') =>
    change(async () => {
      await on(r, '', { method: 'PATCH', body: JSON.stringify({ status: to }) });
      return { severity: 'success', text: `${r.venName} on ${r.vtnCode} is ${to === 'ACTIVE' ? 'active again' : 'suspended'}.` };
    });
  const retire = (r: VenRegistration) =>
    change(async () => {
      await on(r, `?reason=${encodeURIComponent('Retired in the console')}`, { method: 'DELETE' });
      return { severity: 'success', text: `${r.venName} on ${r.vtnCode} is retired: its VEN ID and name are free on the VTN.` };
    });
  const decide = (r: VenRegistration, confirm: boolean) =>
    change(async () => {
      await on(r, confirm ? '/confirm' : `/reject?reason=${encodeURIComponent('Not a VEN of this VTN')}`, { method: 'POST' });
      return { severity: 'success', text: `${r.venName} on ${r.vtnCode} is ${confirm ? 'confirmed' : 'rejected'}.` };
    });

  return (
    <Box sx={{ p: 2, minWidth: 0 }}>
      <Title title="VEN registrations" />
      <Stack spacing={3}>
        <Card component="section" aria-label="VEN registrations">
          <CardContent>
            <Typography variant="h5" component="h2" gutterBottom>
              VEN registrations
            </Typography>
            <Typography variant="body2" gutterBottom>
              A VEN ID means something only on the VTN that assigned it; the VTN&apos;s operator confirms that it is yours.
            </Typography>
            <TextField
              select
              size="small"
              label="Status"
              value={status}
              onChange={(e) => setStatus(e.target.value)}
              sx={{ minWidth: 200, mb: 1 }}
            >
              <MenuItem value="ACTIVE">active</MenuItem>
              <MenuItem value="SUSPENDED">suspended</MenuItem>
              <MenuItem value="CANCELLED">retired</MenuItem>
            </TextField>
            {error ? <Alert severity="error">{error}</Alert> : null}
            {items && items.length === 0 ? <Typography>No VEN registrations with this status.</Typography> : null}
            {items && items.length > 0 ? (
              <Box sx={{ overflowX: 'auto' }} tabIndex={0}>
                <Table size="small" aria-label="VEN registrations of the organisation">
                  <TableHead>
                    <TableRow>
                      <TableCell>VTN</TableCell>
                      <TableCell>Protocol</TableCell>
                      <TableCell>VEN ID</TableCell>
                      <TableCell>VEN name</TableCell>
                      <TableCell>Status</TableCell>
                      <TableCell>Confirmation</TableCell>
                      <TableCell>Valid</TableCell>
                      <TableCell>Action</TableCell>
                    </TableRow>
                  </TableHead>
                  <TableBody>
                    {items.map((r) => (
                      <TableRow key={r.id}>
                        <TableCell>{r.vtnCode}</TableCell>
                        <TableCell>{r.protocol}</TableCell>
                        <TableCell sx={{ wordBreak: 'break-all' }}>
                          <code>{r.venId}</code>
                        </TableCell>
                        <TableCell>{r.venName}</TableCell>
                        <TableCell>{r.inForce ? 'in force' : r.status.toLowerCase()}</TableCell>
                        <TableCell>
                          {CONFIRMATION[r.confirmation]}
                          {r.confirmationReason ? `: ${r.confirmationReason}` : ''}
                        </TableCell>
                        <TableCell>
                          {when(r.validFrom)} – {when(r.validTo)}
                        </TableCell>
                        <TableCell>
                          <Button size="small" onClick={() => setAssetsOf(r.id)} aria-label={`Assets of ${r.venName} on ${r.vtnCode}`}>
                            Assets
                          </Button>
                          {dispatch && write && r.confirmation === 'UNCONFIRMED' && r.status !== 'CANCELLED' ? (
                            <>
                              <Button size="small" onClick={() => void decide(r, true)} aria-label={`Confirm ${r.venName} on ${r.vtnCode}`}>
                                Confirm
                              </Button>
                              <Button
                                size="small"
                                color="error"
                                onClick={() => void decide(r, false)}
                                aria-label={`Reject ${r.venName} on ${r.vtnCode}`}
                              >
                                Reject
                              </Button>
                            </>
                          ) : null}
                          {write && r.status !== 'CANCELLED' ? (
                            <>
                              <Button
                                size="small"
                                onClick={() => void setActive(r, r.status === 'ACTIVE' ? 'SUSPENDED' : 'ACTIVE')}
                                aria-label={`${r.status === 'ACTIVE' ? 'Suspend' : 'Resume'} ${r.venName} on ${r.vtnCode}`}
                              >
                                {r.status === 'ACTIVE' ? 'Suspend' : 'Resume'}
                              </Button>
                              {retiring === r.id ? (
                                <Button
                                  size="small"
                                  color="error"
                                  variant="contained"
                                  onClick={() => void retire(r)}
                                  aria-label={`Confirm: retire ${r.venName} on ${r.vtnCode}`}
                                >
                                  Confirm retire
                                </Button>
                              ) : (
                                <Button
                                  size="small"
                                  color="error"
                                  onClick={() => setRetiring(r.id)}
                                  aria-label={`Retire ${r.venName} on ${r.vtnCode}`}
                                >
                                  Retire
                                </Button>
                              )}
                            </>
                          ) : null}
                        </TableCell>
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              </Box>
            ) : null}
            <More list={registrations} what="VEN registrations" />
            <OutcomeAlert outcome={outcome} />
          </CardContent>
        </Card>
        {opened ? <VenResourcesPanel key={opened.id} reg={opened} write={write} /> : null}
        {write && !dispatch ? <RegisterVen vtns={vtns.items ?? []} onDone={reload} /> : null}
      </Stack>
    </Box>
  );
}

/** Register a VEN ID a VTN assigned to the organisation (POST /ven-registrations). */
function RegisterVen({ vtns, onDone }: { vtns: Vtn[]; onDone: () => void }) {
  const empty = { vtn: '', venId: '', venName: '', clientId: '', registrationId: '', validTo: '' };
  const [form, setForm] = useState(empty);
  const [outcome, setOutcome] = useState<Outcome>();
  const vtn = vtns.find((v) => v.id === form.vtn);
  const b20 = vtn?.protocol === '2.0b';
  const field = (name: keyof typeof empty, label: string, required = false) => (
    <TextField
      label={label}
      size="small"
      required={required}
      value={form[name]}
      onChange={(e) => setForm({ ...form, [name]: e.target.value })}
      sx={{ flex: 1, minWidth: 200 }}
    />
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void attempt(setOutcome, async () => {
      const body = {
        vtn: form.vtn,
        venId: form.venId,
        venName: form.venName,
        ...(form.clientId && !b20 ? { clientId: form.clientId } : {}),
        ...(b20 ? { registrationId: form.registrationId } : {}),
        ...(form.validTo ? { validTo: form.validTo } : {}),
      };
      const r = await api<VenRegistration>('/ven-registrations', { method: 'POST', body: JSON.stringify(body) });
      setForm(empty);
      onDone();
      return { severity: 'success', text: `${r.venName} (${r.venId}) is registered on ${r.vtnCode}: ${CONFIRMATION[r.confirmation]}.` };
    });
  };
  return (
    <Card component="section" aria-label="Register a VEN">
      <CardContent>
        <Box component="form" onSubmit={submit} aria-label="Register a VEN">
          <Typography variant="h5" component="h2" gutterBottom>
            Register a VEN
          </Typography>
          <Typography variant="body2" sx={{ mb: 1 }}>
            The VEN ID and name as the VTN assigned them. On an OpenADR 3 VTN a VEN ID is letters, digits, <code>_</code> and <code>-</code>
            ; a 2.0b VTN also gives a registration ID.
          </Typography>
          <Stack direction={{ xs: 'column', md: 'row' }} spacing={1} sx={{ mb: 1 }}>
            <TextField
              select
              label="VTN"
              size="small"
              required
              value={form.vtn}
              onChange={(e) => setForm({ ...form, vtn: e.target.value })}
              sx={{ minWidth: 260 }}
            >
              {vtns
                .filter((v) => v.status === 'ACTIVE')
                .map((v) => (
                  <MenuItem key={v.id} value={v.id}>
                    {v.code}: {v.name} (OpenADR {v.protocol})
                  </MenuItem>
                ))}
            </TextField>
            {field('venId', 'VEN ID', true)}
            {field('venName', 'VEN name', true)}
          </Stack>
          <Stack direction={{ xs: 'column', md: 'row' }} spacing={1}>
            {b20 ? field('registrationId', 'Registration ID (2.0b)', true) : field('clientId', 'Client ID at the VTN (optional)')}
            {field('validTo', 'Valid to (RFC 3339, optional)')}
            <Button type="submit" variant="contained">
              Register
            </Button>
          </Stack>
        </Box>
        <OutcomeAlert outcome={outcome} />
      </CardContent>
    </Card>
  );
}
