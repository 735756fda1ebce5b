import { Fragment, useEffect, useState, type FormEvent } from 'react';
import { Alert, Box, Button, Stack, Table, TableBody, TableCell, TableHead, TableRow, TextField, Typography } from '@mui/material';
import type { DataShare } from '../../src/sharing/schema';
import type { Organisation } from '../../src/organisations/schema';
import { api } from './api';
import { OutcomeAlert, run, useList, type Outcome } from './outcome';
import { explain, when } from './problem';
import { ShareFields, fieldErrors, shareBody, type ShareForm } from './share-form';
import { Section } from './section';
import { SharePulls } from './share-pulls';

/** Organisations by ID (every organisation may list them), and the platforms a share can name. */
export function useNames() {
  const { items } = useList<Organisation>('/organisations?status=ACTIVE&limit=1000');
  const byId = new Map((items ?? []).map((o) => [o.id, o.legalName]));
  return {
    of: (id: string) => byId.get(id) ?? id,
    platforms: (items ?? []).filter((o) => o.roles.some((r) => r === 'SYSTEM_OPERATOR' || r === 'INDEPENDENT_MARKET_PLATFORM')),
  };
}
type Names = ReturnType<typeof useNames>;

/** What a share reaches, in words. */
export const reach = (s: DataShare) =>
  s.assets === 'NONE'
    ? 'passport'
    : s.assets === 'ALL'
      ? 'passport and all assets'
      : `passport and ${s.assetIds?.length ?? 0} listed asset(s)`;

/** The shares the organisation granted: each one's pulls; with `organisations:write` narrow or revoke one. */
export function OwnShares(props: { list: ReturnType<typeof useList<DataShare>>; names: Names; write: boolean }) {
  const { items, error, reload } = props.list;
  const { names, write } = props;
  const [open, setOpen] = useState<{ id: string; what: 'pulls' | 'change' | 'revoke' }>();
  const [outcome, setOutcome] = useState<Outcome>();
  const done = (o: Outcome) => {
    setOutcome(o);
    setOpen(undefined);
    reload();
  };
  const toggle = (id: string, what: 'pulls' | 'change' | 'revoke') =>
    setOpen(open?.id === id && open.what === what ? undefined : { id, what });
  return (
    <Section title="Our data shares">
      {error ? <Alert severity="error">{error}</Alert> : null}
      {items && items.length === 0 ? <Typography>The organisation shares its data with no platform.</Typography> : null}
      {items && items.length > 0 ? (
        <Box sx={{ overflowX: 'auto' }} tabIndex={0}>
          <Table size="small" aria-label="Data shares the organisation granted">
            <TableHead>
              <TableRow>
                <TableCell>Platform</TableCell>
                <TableCell>Shares</TableCell>
                <TableCell>From</TableCell>
                <TableCell>To</TableCell>
                <TableCell>Purpose</TableCell>
                <TableCell>State</TableCell>
                <TableCell>Action</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {items.map((s) => {
                const name = names.of(s.recipientId);
                const changeable = s.status === 'ACTIVE' && s.state !== 'ENDED';
                return (
                  <Fragment key={s.id}>
                    <TableRow>
                      <TableCell>{name}</TableCell>
                      <TableCell>{reach(s)}</TableCell>
                      <TableCell>{when(s.validFrom)}</TableCell>
                      <TableCell>{when(s.validTo)}</TableCell>
                      <TableCell>{s.purpose ?? '—'}</TableCell>
                      <TableCell>{s.state === 'REVOKED' ? `REVOKED ${when(s.revokedAt)}` : s.state}</TableCell>
                      <TableCell sx={{ whiteSpace: 'nowrap' }}>
                        <Button size="small" onClick={() => toggle(s.id, 'pulls')} aria-label={`Pulls of the share with ${name}`}>
                          Pulls
                        </Button>
                        {write && changeable ? (
                          <>
                            <Button size="small" onClick={() => toggle(s.id, 'change')} aria-label={`Narrow the share with ${name}`}>
                              Narrow
                            </Button>
                            <Button
                              size="small"
                              color="error"
                              onClick={() => toggle(s.id, 'revoke')}
                              aria-label={`Revoke the share with ${name}`}
                            >
                              Revoke
                            </Button>
                          </>
                        ) : null}
                      </TableCell>
                    </TableRow>
                    {open?.id === s.id ? (
                      <TableRow>
                        <TableCell colSpan={7}>
                          {open.what === 'pulls' ? <SharePulls share={s} names={names} /> : null}
                          {open.what === 'change' ? <ChangeShare share={s} name={name} done={done} /> : null}
                          {open.what === 'revoke' ? (
                            <RevokeShare share={s} name={name} done={done} cancel={() => setOpen(undefined)} />
                          ) : null}
                        </TableCell>
                      </TableRow>
                    ) : null}
                  </Fragment>
                );
              })}
            </TableBody>
          </Table>
        </Box>
      ) : null}
      <OutcomeAlert outcome={outcome} />
    </Section>
  );
}

/** Narrow (or otherwise change) a share: PATCH /data-shares/{id} at the version read (If-Match). */
function ChangeShare({ share, name, done }: { share: DataShare; name: string; done: (o: Outcome) => void }) {
  const [form, setForm] = useState<ShareForm>({
    assets: share.assets,
    assetIds: (share.assetIds ?? []).join('\n'),
    validFrom: '',
    validTo: share.validTo,
    purpose: share.purpose ?? '',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<Outcome>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    void run(setOutcome, async () => {
      try {
        const s = await api<DataShare>(`/data-shares/${encodeURIComponent(share.id)}`, {
          method: 'PATCH',
          headers: { 'if-match': `"${share.version}"` },
          body: JSON.stringify(shareBody(form, true)),
        });
        const o: Outcome = { severity: 'success', text: `The share with ${name} now covers the ${reach(s)}, until ${when(s.validTo)}.` };
        done(o);
        return o;
      } catch (err) {
        setErrors(fieldErrors(err));
        throw new Error(explain(err));
      }
    });
  };
  return (
    <Box component="form" onSubmit={submit} aria-label={`Narrow the share with ${name}`} sx={{ py: 1 }}>
      <Typography variant="h6" component="h3" gutterBottom>
        Narrow the share with {name}
      </Typography>
      <ShareFields form={form} set={setForm} errors={errors} fromFixed />
      <Button type="submit" variant="contained" sx={{ mt: 1 }}>
        Save the change
      </Button>
      <OutcomeAlert outcome={outcome} />
    </Box>
  );
}

/** Revoke a share after a confirmation: DELETE /data-shares/{id}?reason= at the version read. */
function RevokeShare(props: { share: DataShare; name: string; done: (o: Outcome) => void; cancel: () => void }) {
  const { share, name } = props;
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState<Outcome>();
  const revoke = () =>
    run(setOutcome, async () => {
      try {
        await api<DataShare>(`/data-shares/${encodeURIComponent(share.id)}${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`, {
          method: 'DELETE',
          headers: { 'if-match': `"${share.version}"` },
        });
      } catch (err) {
        throw new Error(explain(err));
      }
      const o: Outcome = { severity: 'success', text: `The share with ${name} is revoked: ${name} can pull nothing more through it.` };
      props.done(o);
      return o;
    });
  return (
    <Box role="group" aria-label={`Revoke the share with ${name}`} sx={{ py: 1 }}>
      <Typography sx={{ mb: 1 }}>
        Revoke the share with {name}? It stops pulling your {reach(share)} at once; the share and its pulls stay listed.
      </Typography>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1}>
        <TextField
          label="Reason (optional)"
          size="small"
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          sx={{ minWidth: 280 }}
        />
        <Button variant="contained" color="error" onClick={() => void revoke()}>
          Yes, revoke it
        </Button>
        <Button onClick={props.cancel}>Keep it</Button>
      </Stack>
      <OutcomeAlert outcome={outcome} />
    </Box>
  );
}

/** The read that follows a choice: loaded once per key. */
export function useRead<T>(path: string | undefined) {
  const [state, setState] = useState<{ value?: T; error?: string }>({});
  useEffect(() => {
    if (!path) return;
    setState({});
    api<T>(path).then(
      (value) => setState({ value }),
      (e: unknown) => setState({ error: explain(e) }),
    );
  }, [path]);
  return state;
}
