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
import type { Contract } from '../../src/switching/contracts';
import { api, query } from './api';
import { OutcomeAlert, type Outcome } from './outcome';
import { More, usePaged } from './paged';
import { attempt, when } from './problem';

/** What a contract means for switching now: only a CONFIRMED one is a service window, which no switch may cross. */
export function serviceWindow(k: Pick<Contract, 'status' | 'validFrom' | 'validTo'>, now = Date.now()) {
  if (k.status !== 'CONFIRMED') return k.status === 'OFFERED' ? 'not yet (offered)' : 'none (terminated)';
  if (new Date(k.validTo).getTime() <= now) return 'ended';
  return new Date(k.validFrom).getTime() > now ? 'service window ahead: blocks a switch into it' : 'service window now: blocks a switch';
}

/**
 * Contracts and service windows (docs/console.md, "Contracts and service windows"), through the
 * public API only (/contracts). FSPs read the contracts naming them; with `contracts:write` (System
 * Operators their own, the operator any) record one and confirm or terminate it. A CONFIRMED contract
 * is a service window: a switch of its asset that would take effect inside it is refused.
 */
export function ContractsPage() {
  const { permissions } = usePermissions<string[]>();
  const write = !!permissions?.includes('contracts:write');
  const [status, setStatus] = useState('');
  const contracts = usePaged<Contract>(`/contracts${query({ status, limit: 100 })}`);
  const { items, error, reload } = contracts;
  const [outcome, setOutcome] = useState<Outcome>();
  const change = async (action: () => Promise<Outcome>) => {
    await attempt(setOutcome, action);
    reload();
  };
  const move = (k: Contract, to: 'CONFIRMED' | 'TERMINATED') =>
    change(async () => {
      const n = await api<Contract>(`/contracts/${encodeURIComponent(k.id)}/status`, {
        method: 'POST',
        body: JSON.stringify({ status: to }),
      });
      return { severity: 'success', text: `Contract ${n.reference ?? n.id} is ${n.status.toLowerCase()}: ${serviceWindow(n)}.` };
    });
  return (
    <Box sx={{ p: 2, minWidth: 0 }}>
      <Title title="Contracts and service windows" />
      <Stack spacing={3}>
        <Card component="section" aria-label="Contracts and service windows">
          <CardContent>
            <Typography variant="h5" component="h2" gutterBottom>
              Contracts and service windows
            </Typography>
            <Typography variant="body2" gutterBottom>
              A System Operator records that an FSP delivers a product with an asset over a period. Once confirmed, the period is a service
              window: a switch of the asset that would take effect inside it is refused (SWITCH-SERVICE-WINDOW).
            </Typography>
            <TextField
              select
              size="small"
              label="Status"
              value={status}
              onChange={(e) => setStatus(e.target.value)}
              sx={{ minWidth: 200, mb: 1 }}
              slotProps={{ select: { displayEmpty: true }, inputLabel: { shrink: true } }}
            >
              <MenuItem value="">any</MenuItem>
              <MenuItem value="OFFERED">offered</MenuItem>
              <MenuItem value="CONFIRMED">confirmed</MenuItem>
              <MenuItem value="TERMINATED">terminated</MenuItem>
            </TextField>
            {error ? <Alert severity="error">{error}</Alert> : null}
            {items && items.length === 0 ? <Typography>No contracts.</Typography> : null}
            {items && items.length > 0 ? (
              <Box sx={{ overflowX: 'auto' }} tabIndex={0}>
                <Table size="small" aria-label="Contracts the organisation is party to">
                  <TableHead>
                    <TableRow>
                      <TableCell>Reference</TableCell>
                      <TableCell>Asset</TableCell>
                      <TableCell>Product</TableCell>
                      <TableCell>FSP</TableCell>
                      <TableCell>System Operator</TableCell>
                      <TableCell>From</TableCell>
                      <TableCell>To</TableCell>
                      <TableCell>Status</TableCell>
                      <TableCell>Switching</TableCell>
                      {write ? <TableCell>Action</TableCell> : null}
                    </TableRow>
                  </TableHead>
                  <TableBody>
                    {items.map((k) => (
                      <TableRow key={k.id}>
                        <TableCell>{k.reference ?? '—'}</TableCell>
                        <TableCell>
                          <code>{k.assetId ?? 'its market unit'}</code>
                        </TableCell>
                        <TableCell>{k.product}</TableCell>
                        <TableCell>
                          <code>{k.fspId}</code>
                        </TableCell>
                        <TableCell>
                          <code>{k.systemOperatorId}</code>
                        </TableCell>
                        <TableCell>{when(k.validFrom)}</TableCell>
                        <TableCell>{when(k.validTo)}</TableCell>
                        <TableCell>{k.status}</TableCell>
                        <TableCell>{serviceWindow(k)}</TableCell>
                        {write ? (
                          <TableCell>
                            {k.status === 'OFFERED' ? (
                              <Button
                                size="small"
                                onClick={() => void move(k, 'CONFIRMED')}
                                aria-label={`Confirm contract ${k.reference ?? k.id}`}
                              >
                                Confirm
                              </Button>
                            ) : null}
                            {k.status !== 'TERMINATED' ? (
                              <Button
                                size="small"
                                color="error"
                                onClick={() => void move(k, 'TERMINATED')}
                                aria-label={`Terminate contract ${k.reference ?? k.id}`}
                              >
                                Terminate
                              </Button>
                            ) : null}
                          </TableCell>
                        ) : null}
                      </TableRow>
                    ))}
                  </TableBody>
                </Table>
              </Box>
            ) : null}
            <More list={contracts} what="contracts" />
            <OutcomeAlert outcome={outcome} />
          </CardContent>
        </Card>
        {write ? <RecordContract onDone={reload} /> : null}
      </Stack>
    </Box>
  );
}

/** Record a contract (POST /contracts), OFFERED: confirming it makes it a service window. */
function RecordContract({ onDone }: { onDone: () => void }) {
  const empty = { assetId: '', fspId: '', product: '', validFrom: '', validTo: '', reference: '' };
  const [form, setForm] = useState(empty);
  const [outcome, setOutcome] = useState<Outcome>();
  const field = (name: keyof typeof empty, label: string, required = true) => (
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
      const { reference, ...rest } = form;
      const k = await api<Contract>('/contracts', {
        method: 'POST',
        body: JSON.stringify({ ...rest, ...(reference ? { reference } : {}) }),
      });
      setForm(empty);
      onDone();
      return { severity: 'success', text: `Contract ${k.reference ?? k.id} is recorded, offered: confirm it to make it a service window.` };
    });
  };
  return (
    <Card component="section" aria-label="Record a contract">
      <CardContent>
        <Box component="form" onSubmit={submit} aria-label="Record a contract">
          <Typography variant="h5" component="h2" gutterBottom>
            Record a contract
          </Typography>
          <Typography variant="body2" sx={{ mb: 1 }}>
            Instants with an offset, such as <code>2027-01-01T00:00:00Z</code>; the product as the catalogue names it (e.g.{' '}
            <code>NESO-DFS</code>).
          </Typography>
          <Stack direction={{ xs: 'column', md: 'row' }} spacing={1} sx={{ mb: 1 }}>
            {field('assetId', 'Asset (FMAR ID)')}
            {field('fspId', 'FSP (organisation ID)')}
            {field('product', 'Product')}
          </Stack>
          <Stack direction={{ xs: 'column', md: 'row' }} spacing={1}>
            {field('validFrom', 'Valid from')}
            {field('validTo', 'Valid to')}
            {field('reference', 'Reference (optional)', false)}
            <Button type="submit" variant="contained">
              Record
            </Button>
          </Stack>
        </Box>
        <OutcomeAlert outcome={outcome} />
      </CardContent>
    </Card>
  );
}
