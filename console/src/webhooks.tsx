import { useState, type FormEvent } from 'react';
import { Title, usePermissions } from 'react-admin';
import {
  Alert,
  Box,
  Button,
  Card,
  CardContent,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from '@mui/material';
import type { WebhookDelivery, WebhookSubscription } from '../../src/webhooks/subscriptions';
import { api } from './api';
import { OutcomeAlert, run, useList, type Outcome } from './outcome';
import { useSession } from './session';

/**
 * Webhooks (docs/console.md, "Webhooks"): the organisation's subscriptions with their pending
 * deliveries and dead letters, through the public API only (/webhooks). Subscribe a URL (the
 * signing secret shown once), disable or enable one (If-Match: the version read), see the dead
 * letters and replay them; send a signed test event to one of the organisation's own and see its
 * answer. Changing needs `webhooks:write`.
 */
export function WebhooksPage() {
  const { permissions } = usePermissions<string[]>();
  const write = !!permissions?.includes('webhooks:write');
  const org = useSession()?.organisationId;
  const { items, error, reload } = useList<WebhookSubscription>('/webhooks');
  const [outcome, setOutcome] = useState<Outcome>();
  const [dead, setDead] = useState<{ id: string; items: WebhookDelivery[] }>();
  const [form, setForm] = useState({ url: '', eventTypes: '*' });

  const change = async (action: () => Promise<Outcome>) => {
    await run(setOutcome, action);
    reload();
  };
  const subscribe = (e: FormEvent) => {
    e.preventDefault();
    void change(async () => {
      const eventTypes = form.eventTypes
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const w = await api<WebhookSubscription>('/webhooks', {
        method: 'POST',
        body: JSON.stringify({ url: form.url, eventTypes }),
      });
      setForm({ url: '', eventTypes: '*' });
      return {
        severity: 'success',
        text: `${w.url} is subscribed to ${w.eventTypes.join(', ')}. Verify each delivery's signature with this secret.`,
        secret: w.secret ? { label: 'Signing secret', value: w.secret } : undefined,
      };
    });
  };
  const toggle = (w: WebhookSubscription) =>
    change(async () => {
      await api(`/webhooks/${encodeURIComponent(w.id)}`, {
        method: 'PATCH',
        headers: { 'if-match': `"${w.version}"` },
        body: JSON.stringify({ enabled: !w.enabled }),
      });
      return { severity: 'success', text: `${w.url} is ${w.enabled ? 'disabled: nothing is sent to it' : 'enabled'}.` };
    });
  const test = (w: WebhookSubscription) =>
    change(async () => {
      const d = await api<WebhookDelivery>(`/webhooks/${encodeURIComponent(w.id)}/test`, { method: 'POST' });
      if (d.status === 'DELIVERED')
        return { severity: 'success', text: `Test event ${d.eventId} delivered to ${w.url}: it answered ${d.lastStatus}.` };
      const why = d.lastStatus ? `it answered ${d.lastStatus}` : (d.lastError ?? 'no answer');
      return {
        severity: 'error',
        text:
          d.status === 'DEAD'
            ? `Test event ${d.eventId} to ${w.url} failed (${why}) and is a dead letter.`
            : `Test event ${d.eventId} to ${w.url} failed (${why}); it is tried again at ${new Date(d.nextAttemptAt!).toLocaleTimeString('en-GB')}.`,
      };
    });
  const showDead = async (w: WebhookSubscription) => {
    try {
      const r = await api<{ items: WebhookDelivery[] }>(`/webhooks/${encodeURIComponent(w.id)}/deliveries?status=DEAD&limit=50`);
      setDead({ id: w.id, items: r.items });
    } catch (e) {
      setOutcome({ severity: 'error', text: (e as Error).message });
    }
  };
  const replay = (w: WebhookSubscription) =>
    change(async () => {
      await api(`/webhooks/${encodeURIComponent(w.id)}/deliveries/replay`, { method: 'POST' });
      setDead(undefined);
      return { severity: 'success', text: `The dead letters of ${w.url} are due again.` };
    });

  return (
    <Box sx={{ p: 2 }}>
      <Title title="Webhooks" />
      <Card component="section" aria-label="Webhook subscriptions">
        <CardContent>
          <Typography variant="h5" component="h2" gutterBottom>
            Webhook subscriptions
          </Typography>
          {error ? <Alert severity="error">{error}</Alert> : null}
          {items && items.length === 0 ? (
            <Typography>No subscriptions: events reach this organisation only through the API.</Typography>
          ) : null}
          {items && items.length > 0 ? (
            <Table size="small" aria-label="Webhook subscriptions of the organisation">
              <TableHead>
                <TableRow>
                  <TableCell>URL</TableCell>
                  <TableCell>Events</TableCell>
                  <TableCell>State</TableCell>
                  <TableCell>Pending</TableCell>
                  <TableCell>Dead letters</TableCell>
                  <TableCell>Action</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {items.map((w) => (
                  <TableRow key={w.id}>
                    <TableCell sx={{ wordBreak: 'break-all' }}>{w.url}</TableCell>
                    <TableCell>{w.eventTypes.join(', ')}</TableCell>
                    <TableCell>{w.enabled ? 'enabled' : `disabled${w.disabledReason ? `: ${w.disabledReason}` : ''}`}</TableCell>
                    <TableCell>{w.pendingDeliveries}</TableCell>
                    <TableCell>{w.deadLetters}</TableCell>
                    <TableCell>
                      {w.deadLetters > 0 ? (
                        <Button size="small" onClick={() => void showDead(w)} aria-label={`Dead letters of ${w.url}`}>
                          Dead letters
                        </Button>
                      ) : null}
                      {write && w.enabled && w.organisationId === org ? (
                        <Button size="small" onClick={() => void test(w)} aria-label={`Send a test event to ${w.url}`}>
                          Send a test
                        </Button>
                      ) : null}
                      {write ? (
                        <Button size="small" onClick={() => void toggle(w)} aria-label={`${w.enabled ? 'Disable' : 'Enable'} ${w.url}`}>
                          {w.enabled ? 'Disable' : 'Enable'}
                        </Button>
                      ) : null}
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          ) : null}
          <OutcomeAlert outcome={outcome} />
        </CardContent>
      </Card>

      {dead ? (
        <Card component="section" aria-label="Dead letters" sx={{ mt: 3 }}>
          <CardContent>
            <Typography variant="h5" component="h2" gutterBottom>
              Dead letters
            </Typography>
            <Table size="small" aria-label="Deliveries that failed every attempt">
              <TableHead>
                <TableRow>
                  <TableCell>Event</TableCell>
                  <TableCell>Type</TableCell>
                  <TableCell>Attempts</TableCell>
                  <TableCell>Last answer</TableCell>
                  <TableCell>Dead since</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {dead.items.map((d) => (
                  <TableRow key={d.eventId}>
                    <TableCell>
                      <code>{d.eventId}</code>
                    </TableCell>
                    <TableCell>{d.type}</TableCell>
                    <TableCell>{d.attempts}</TableCell>
                    <TableCell>{d.lastStatus ?? d.lastError ?? '—'}</TableCell>
                    <TableCell>{d.deadAt ? new Date(d.deadAt).toLocaleString('en-GB') : '—'}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
            {write ? (
              <Button
                sx={{ mt: 1 }}
                variant="contained"
                onClick={() => {
                  const w = items?.find((x) => x.id === dead.id);
                  if (w) void replay(w);
                }}
              >
                Replay every dead letter
              </Button>
            ) : null}
          </CardContent>
        </Card>
      ) : null}

      {write ? (
        <Card component="section" aria-label="Subscribe a URL" sx={{ mt: 3 }}>
          <CardContent>
            <Box component="form" onSubmit={subscribe} aria-label="Subscribe a URL to events">
              <Typography variant="h5" component="h2" gutterBottom>
                Subscribe a URL
              </Typography>
              <Typography variant="body2" sx={{ mb: 1 }}>
                Events are POSTed as CloudEvents, signed as Standard Webhooks. Event types: comma-separated, such as{' '}
                <code>fmar.asset.*, fmar.switch.*</code>, or <code>*</code> for every event the organisation receives.
              </Typography>
              <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1}>
                <TextField
                  label="URL"
                  type="url"
                  required
                  size="small"
                  value={form.url}
                  onChange={(e) => setForm({ ...form, url: e.target.value })}
                  sx={{ flex: 2 }}
                />
                <TextField
                  label="Event types"
                  required
                  size="small"
                  value={form.eventTypes}
                  onChange={(e) => setForm({ ...form, eventTypes: e.target.value })}
                  sx={{ flex: 1 }}
                />
                <Button type="submit" variant="contained">
                  Subscribe
                </Button>
              </Stack>
            </Box>
          </CardContent>
        </Card>
      ) : null}
    </Box>
  );
}
