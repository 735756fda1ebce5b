import { useState } from 'react';
import {
  CreateButton,
  Datagrid,
  DateField,
  FunctionField,
  List,
  SelectInput,
  TextField,
  Title,
  TopToolbar,
  useCreatePath,
  useNotify,
  useRefresh,
} from 'react-admin';
import { Link } from 'react-router-dom';
import { Alert, Box, Button, Card, CardContent, TextField as MuiTextField, Typography } from '@mui/material';
import type { Switch } from '../../src/switching/switches';
import { api } from './api';
import { useSession } from './session';

const STATUSES = ['REQUESTED', 'PENDING', 'EFFECTIVE', 'REJECTED', 'CANCELLED', 'WITHDRAWN', 'FAILED'].map((s) => ({
  id: s,
  name: s.toLowerCase(),
}));

/** Switches the organisation is party to (GET /api/v1/switches): in (gaining) or out (losing). */
export function SwitchList() {
  const s = useSession();
  return (
    <List
      title="Switches"
      // React-Admin's list is a flex item as wide as its table: here no wider than the layout, so the table's own box scrolls.
      sx={{ minWidth: 0, '& .RaList-main, & .RaList-content': { minWidth: 0 } }}
      filters={[<SelectInput key="status" source="status" choices={STATUSES} alwaysOn />]}
      perPage={25}
      empty={false}
      exporter={false}
      actions={<TopToolbar>{s?.can('switches:write') ? <CreateButton label="Request a switch" /> : null}</TopToolbar>}
    >
      {/* A table wider than the window scrolls inside its own box (focusable, so a keyboard can scroll it), never the page. */}
      <Box sx={{ overflowX: 'auto' }} tabIndex={0} role="region" aria-label="Switches of the organisation">
        <Datagrid bulkActionButtons={false} rowClick={false}>
          <FunctionField
            label="Direction"
            render={(r: Switch) => (r.gainingFspId === s?.organisationId ? 'in' : r.losingFspId === s?.organisationId ? 'out' : '—')}
          />
          <TextField source="status" sortable={false} />
          <TextField source="assetId" label="Asset" sortable={false} />
          <DateField source="effectiveDate" label="Effective" locales="en-GB" sortable={false} />
          <TextField source="losingFspId" label="Losing FSP" sortable={false} />
          <TextField source="gainingFspId" label="Gaining FSP" sortable={false} />
          <DateField source="requestedAt" label="Requested" showTime locales="en-GB" sortable={false} />
          {s?.can('switches:write') ? <FunctionField label="Action" render={(r: Switch) => <EndSwitch record={r} />} /> : null}
        </Datagrid>
      </Box>
    </List>
  );
}

const OPEN = ['REQUESTED', 'PENDING'];

/**
 * Ending an open switch, after a confirmation: the gaining FSP withdraws its own request
 * (POST /switches/{id}/withdraw); the operator cancels any (POST /switches/{id}/cancel). The API's
 * refusal (for example a switch that took effect meanwhile) is shown as its rule code and message.
 */
function EndSwitch({ record }: { record: Switch }) {
  const s = useSession();
  const refresh = useRefresh();
  const notify = useNotify();
  const [confirming, setConfirming] = useState(false);
  if (!OPEN.includes(record.status)) return null;
  const operator = !!s?.organisation?.roles.includes('MARKET_FACILITATOR');
  const verb = record.gainingFspId === s?.organisationId ? 'withdraw' : operator ? 'cancel' : undefined;
  if (!verb) return null;
  const label = verb === 'withdraw' ? 'Withdraw' : 'Cancel';
  const end = async () => {
    setConfirming(false);
    try {
      await api(`/switches/${encodeURIComponent(record.id)}/${verb}`, { method: 'POST' });
      notify(`The switch of asset ${record.assetId} is ${verb === 'withdraw' ? 'withdrawn' : 'cancelled'}.`, { type: 'success' });
    } catch (e) {
      notify((e as Error).message, { type: 'error' });
    }
    refresh();
  };
  return confirming ? (
    <Button
      size="small"
      color="error"
      variant="contained"
      onClick={() => void end()}
      aria-label={`Confirm: ${verb} the switch of asset ${record.assetId}`}
    >
      Confirm {verb}
    </Button>
  ) : (
    <Button size="small" color="error" onClick={() => setConfirming(true)} aria-label={`${label} the switch of asset ${record.assetId}`}>
      {label}
    </Button>
  );
}

/**
 * The gaining FSP asks for an asset with the consumer's consent (POST /api/v1/switches, with an
 * Idempotency-Key): the asset by any identifier, the consent token as the Consumer Consent Service
 * gave it, optionally the day it takes effect. A refusal shows its rule code and message.
 */
export function SwitchRequest() {
  const createPath = useCreatePath();
  const [asset, setAsset] = useState('');
  const [consent, setConsent] = useState('');
  const [effectiveDate, setEffectiveDate] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Switch>();
  const [error, setError] = useState<string>();
  // One key per filled-in request: sending it again (a lost answer) cannot ask twice.
  const [key, setKey] = useState(() => crypto.randomUUID());
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const sw = await api<Switch>('/switches', {
        method: 'POST',
        headers: { 'idempotency-key': key },
        body: JSON.stringify({ asset: asset.trim(), consent: consent.trim(), ...(effectiveDate ? { effectiveDate } : {}) }),
      });
      setDone(sw);
      setKey(crypto.randomUUID());
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card>
      <Title title="Request a switch" />
      <CardContent>
        <Typography variant="h5" component="h1" gutterBottom>
          Request a switch
        </Typography>
        <Typography gutterBottom>
          The consumer&apos;s consent names the meter and your organisation; the register checks it before it says anything about the asset.
        </Typography>
        <Box component="form" aria-label="Request a switch" onSubmit={(e) => (e.preventDefault(), void submit())} sx={{ maxWidth: 720 }}>
          <MuiTextField
            label="Asset (FMAR ID or scheme:value, e.g. mpan:1312345678907)"
            value={asset}
            onChange={(e) => setAsset(e.target.value)}
            required
            fullWidth
            margin="dense"
          />
          <MuiTextField
            label="Consent token"
            value={consent}
            onChange={(e) => setConsent(e.target.value)}
            required
            fullWidth
            multiline
            minRows={3}
            margin="dense"
            slotProps={{ htmlInput: { style: { fontFamily: 'monospace', wordBreak: 'break-all' } } }}
          />
          <MuiTextField
            label="Effective date (YYYY-MM-DD, optional)"
            value={effectiveDate}
            onChange={(e) => setEffectiveDate(e.target.value)}
            margin="dense"
          />
          {error ? (
            <Alert severity="error" sx={{ my: 1 }}>
              {error}
            </Alert>
          ) : null}
          <Box sx={{ mt: 1 }}>
            <Button type="submit" variant="contained" disabled={busy || !asset.trim() || !consent.trim()}>
              Request
            </Button>
          </Box>
        </Box>
        {done ? (
          <Alert severity="success" role="status" sx={{ mt: 2 }}>
            Switch {done.id} requested: {done.status.toLowerCase()}, asset {done.assetId}, effective {done.effectiveDate}.{' '}
            <Link to={createPath({ resource: 'switches', type: 'list' })}>Back to the switches</Link>
          </Alert>
        ) : null}
      </CardContent>
    </Card>
  );
}
