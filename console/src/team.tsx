import { useState, type FormEvent } from 'react';
import { Title, usePermissions } from 'react-admin';
import {
  Alert,
  Box,
  Button,
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
import type { Delegation } from '../../src/identity/delegations';
import type { User } from '../../src/identity/users';
import { api } from './api';
import { OutcomeAlert, run, useList, type Outcome } from './outcome';
import { useSession } from './session';
import { Clients } from './clients';
import { Section } from './section';

/**
 * Team and access (docs/console.md, "Team and access"): the organisation's people and invitations,
 * its API clients and the delegations it gave or received, through the public API only
 * (/organisations/{id}/users, /clients, /delegations). Each part shows with its read scope; the
 * buttons that change something with its write scope, which only an ADMIN's role grants. A secret or
 * an invitation link is shown once, as the API returns it, and is gone when the page is left.
 */
export function TeamPage() {
  const { permissions } = usePermissions<string[]>();
  const can = (scope: string) => !!permissions?.includes(scope);
  const s = useSession();
  const org = s?.organisationId;
  if (!org) return null;
  return (
    <Box sx={{ p: 2 }}>
      <Title title="Team and access" />
      <Stack spacing={3}>
        {can('users:read') ? <People org={org} write={can('users:write')} self={{ sub: s?.sub, email: s?.email }} /> : null}
        {can('clients:read') ? <Clients write={can('clients:write')} /> : null}
        {can('delegations:read') ? <Delegations org={org} write={can('delegations:write')} /> : null}
      </Stack>
    </Box>
  );
}

function People({ org, write, self }: { org: string; write: boolean; self: { sub?: string; email?: string } }) {
  const { items, error, reload } = useList<User>(`/organisations/${encodeURIComponent(org)}/users`);
  const [outcome, setOutcome] = useState<Outcome>();
  const [form, setForm] = useState({ email: '', name: '', userRole: 'MEMBER' });
  const invite = (e: FormEvent) => {
    e.preventDefault();
    void run(setOutcome, async () => {
      const u = await api<User>(`/organisations/${encodeURIComponent(org)}/users`, { method: 'POST', body: JSON.stringify(form) });
      setForm({ email: '', name: '', userRole: 'MEMBER' });
      reload();
      return {
        severity: 'success',
        text: `${u.name} is invited as ${u.userRole}. Send them this link; it expires ${new Date(u.invitation!.expiresAt).toLocaleString('en-GB')}.`,
        secret: { label: 'Invitation link', value: u.invitation!.url },
      };
    });
  };
  const deactivate = (u: User) =>
    run(setOutcome, async () => {
      await api(`/organisations/${encodeURIComponent(org)}/users/${encodeURIComponent(u.id)}/deactivate`, { method: 'POST' });
      reload();
      return { severity: 'success', text: `${u.name} is deactivated: sign-in refused, sessions ended.` };
    });
  return (
    <Section title="People">
      {error ? <Alert severity="error">{error}</Alert> : null}
      <Table size="small" aria-label="People of the organisation">
        <TableHead>
          <TableRow>
            <TableCell>Name</TableCell>
            <TableCell>Email</TableCell>
            <TableCell>Role</TableCell>
            <TableCell>Status</TableCell>
            {write ? <TableCell>Action</TableCell> : null}
          </TableRow>
        </TableHead>
        <TableBody>
          {(items ?? []).map((u) => (
            <TableRow key={u.id}>
              <TableCell>{u.name}</TableCell>
              <TableCell>{u.email}</TableCell>
              <TableCell>{u.userRole}</TableCell>
              <TableCell>{u.status}</TableCell>
              {write ? (
                <TableCell>
                  {/* Not oneself: a person who deactivated themselves could not sign in to undo it. */}
                  {u.status !== 'DEACTIVATED' && u.id !== self.sub && u.email !== self.email ? (
                    <Button size="small" color="error" onClick={() => void deactivate(u)} aria-label={`Deactivate ${u.name}`}>
                      Deactivate
                    </Button>
                  ) : null}
                </TableCell>
              ) : null}
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <OutcomeAlert outcome={outcome} />
      {write ? (
        <Box component="form" onSubmit={invite} sx={{ mt: 2 }} aria-label="Invite a person">
          <Typography variant="h6" component="h3">
            Invite a person
          </Typography>
          <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1} sx={{ mt: 1 }}>
            <TextField
              label="Email"
              type="email"
              required
              size="small"
              value={form.email}
              onChange={(e) => setForm({ ...form, email: e.target.value })}
            />
            <TextField label="Name" required size="small" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
            <TextField
              select
              label="Role"
              size="small"
              value={form.userRole}
              onChange={(e) => setForm({ ...form, userRole: e.target.value })}
              sx={{ minWidth: 140 }}
            >
              {['ADMIN', 'MEMBER', 'VIEWER'].map((r) => (
                <MenuItem key={r} value={r}>
                  {r}
                </MenuItem>
              ))}
            </TextField>
            <Button type="submit" variant="contained">
              Invite
            </Button>
          </Stack>
        </Box>
      ) : null}
    </Section>
  );
}

function Delegations({ org, write }: { org: string; write: boolean }) {
  const { items, error, reload } = useList<Delegation>('/delegations');
  const [outcome, setOutcome] = useState<Outcome>();
  const revoke = (d: Delegation) =>
    run(setOutcome, async () => {
      await api(`/delegations/${encodeURIComponent(d.id)}/revoke`, { method: 'POST', body: JSON.stringify({}) });
      reload();
      return { severity: 'success', text: `The delegation to ${d.delegateId} is revoked: tokens issued under it are refused.` };
    });
  return (
    <Section title="Delegations">
      {error ? <Alert severity="error">{error}</Alert> : null}
      {items && items.length === 0 ? <Typography>The organisation has given and received no delegations.</Typography> : null}
      {items && items.length > 0 ? (
        <Table size="small" aria-label="Delegations given or received">
          <TableHead>
            <TableRow>
              <TableCell>Direction</TableCell>
              <TableCell>Other party</TableCell>
              <TableCell>Scopes</TableCell>
              <TableCell>Valid</TableCell>
              <TableCell>Status</TableCell>
              {write ? <TableCell>Action</TableCell> : null}
            </TableRow>
          </TableHead>
          <TableBody>
            {items.map((d) => (
              <TableRow key={d.id}>
                <TableCell>{d.delegatorId === org ? 'given' : 'received'}</TableCell>
                <TableCell>{d.delegatorId === org ? d.delegateId : d.delegatorId}</TableCell>
                <TableCell>{d.scopes.join(', ')}</TableCell>
                <TableCell>
                  {new Date(d.validFrom).toLocaleDateString('en-GB')} – {new Date(d.validTo).toLocaleDateString('en-GB')}
                </TableCell>
                <TableCell>{d.status}</TableCell>
                {write ? (
                  <TableCell>
                    {d.status === 'ACTIVE' && d.delegatorId === org ? (
                      <Button
                        size="small"
                        color="error"
                        onClick={() => void revoke(d)}
                        aria-label={`Revoke the delegation to ${d.delegateId}`}
                      >
                        Revoke
                      </Button>
                    ) : null}
                  </TableCell>
                ) : null}
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : null}
      <OutcomeAlert outcome={outcome} />
    </Section>
  );
}
