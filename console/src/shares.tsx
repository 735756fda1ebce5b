import { useState, type FormEvent } from 'react';
import { Title, usePermissions } from 'react-admin';
import { Box, Button, Card, CardContent, MenuItem, Stack, TextField, Typography } from '@mui/material';
import type { DataShare } from '../../src/sharing/schema';
import { api } from './api';
import { OutcomeAlert, run, useList, type Outcome } from './outcome';
import { explain } from './problem';
import { useSession } from './session';
import { OwnShares, useNames } from './share-tables';
import { SharedWithUs } from './share-pulls';
import { ShareFields, fieldErrors, shareBody, type ShareForm } from './share-form';

/**
 * Data shares (docs/sharing.md, docs/console.md "Data shares"), through the public API only
 * (/data-shares): the organisation's shares (grant one to a platform organisation, narrow one,
 * revoke one after a confirmation) and each share's pulls; for a platform (SYSTEM_OPERATOR or
 * INDEPENDENT_MARKET_PLATFORM), the shares made to it and a pull of the passport and assets shared.
 * A refusal shows each field's rule code and message beside the field.
 */
export function DataSharesPage() {
  const { permissions } = usePermissions<string[]>();
  const write = !!permissions?.includes('organisations:write');
  const roles = useSession()?.organisation?.roles ?? [];
  const platform = roles.some((r) => r === 'SYSTEM_OPERATOR' || r === 'INDEPENDENT_MARKET_PLATFORM');
  const own = useList<DataShare>('/data-shares?role=owner&limit=1000');
  const names = useNames();
  return (
    <Box sx={{ p: 2, minWidth: 0 }}>
      <Title title="Data shares" />
      <Stack spacing={3}>
        {/* A platform comes here first for what is shared with it. */}
        {platform ? <SharedWithUs names={names} /> : null}
        <OwnShares list={own} names={names} write={write} />
        {write ? <GrantShare onDone={own.reload} names={names} /> : null}
      </Stack>
    </Box>
  );
}

/** Grant a share (POST /data-shares) to a platform organisation. */
function GrantShare({ onDone, names }: { onDone: () => void; names: ReturnType<typeof useNames> }) {
  const empty: ShareForm = { assets: 'NONE', assetIds: '', validFrom: '', validTo: '', purpose: '' };
  const [form, setForm] = useState(empty);
  const [recipientId, setRecipient] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<Outcome>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    void run(setOutcome, async () => {
      try {
        const s = await api<DataShare>('/data-shares', { method: 'POST', body: JSON.stringify({ recipientId, ...shareBody(form) }) });
        setForm(empty);
        setRecipient('');
        onDone();
        return {
          severity: 'success',
          text: `Shared with ${names.of(s.recipientId)} until ${new Date(s.validTo).toLocaleString('en-GB')}: ${s.state.toLowerCase()}.`,
        };
      } catch (err) {
        setErrors(fieldErrors(err));
        throw new Error(explain(err));
      }
    });
  };
  return (
    <Card component="section" aria-label="Share with a platform">
      <CardContent>
        <Box component="form" onSubmit={submit} aria-label="Share with a platform">
          <Typography variant="h5" component="h2" gutterBottom>
            Share with a platform
          </Typography>
          <Typography variant="body2" sx={{ mb: 1 }}>
            A System Operator or market platform may then pull your passport (and the assets you say) through the API while the share lasts;
            every pull is listed under the share.
          </Typography>
          <TextField
            select
            label="Platform"
            size="small"
            required
            value={recipientId}
            onChange={(e) => setRecipient(e.target.value)}
            error={!!errors.recipientId}
            helperText={errors.recipientId ?? 'An active System Operator or independent market platform'}
            sx={{ minWidth: 320, mb: 1 }}
          >
            {names.platforms.map((o) => (
              <MenuItem key={o.id} value={o.id}>
                {o.legalName}
              </MenuItem>
            ))}
          </TextField>
          <ShareFields form={form} set={setForm} errors={errors} />
          <Button type="submit" variant="contained" sx={{ mt: 1 }}>
            Share
          </Button>
        </Box>
        <OutcomeAlert outcome={outcome} />
      </CardContent>
    </Card>
  );
}
