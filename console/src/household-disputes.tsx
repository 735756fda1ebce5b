import { useState } from 'react';
import { Alert, Box, Button, Card, CardContent, Checkbox, FormControlLabel, TextField, Typography } from '@mui/material';
import type { HouseholdAsset } from '../../src/consumers/schema';
import type { Dispute, DisputeComment } from '../../src/disputes/schema';
import { api } from './api';
import { EvidenceFields, type Evidence } from './evidence';
import { Facts, categoryName, day } from './household-words';

type DisputeWithComments = Dispute & { comments: DisputeComment[] };

/**
 * A household's disputes (docs/consumers.md, docs/disputes.md): raise one about a device's data
 * with evidence (a link, or a file of which only the fingerprint is sent), follow it, add a message.
 */

/** What a household may say is wrong, in its words (fields of an asset, docs/disputes.md). */
const FIELDS: [string, string][] = [
  ['category', 'The type of device'],
  ['ratedCapacityKw', 'Its size (kW)'],
  ['importMpan', 'The meter point'],
  ['fspId', 'Who controls it'],
  ['connectionStatus', 'Whether it is connected'],
  ['name', 'Its name'],
];
const fieldName = (f: string) => {
  const label = FIELDS.find(([k]) => k === f)?.[1];
  return label ? label[0].toLowerCase() + label.slice(1) : f;
};
const STATUS: Record<string, string> = {
  OPEN: 'Sent, waiting for review',
  UNDER_REVIEW: 'Being reviewed',
  RESOLVED: 'Decided',
  WITHDRAWN: 'Withdrawn',
};
const OUTCOME: Record<string, string> = { CORRECTED: 'the record was corrected', NO_ACTION_REQUIRED: 'the record stays as it is' };

function Raise({ assets, done }: { assets: HouseholdAsset[]; done: (t: string) => void }) {
  const [open, setOpen] = useState(false);
  const [assetId, setAssetId] = useState('');
  const [fields, setFields] = useState<string[]>([]);
  const [summary, setSummary] = useState('');
  const [evidence, setEvidence] = useState<Evidence>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // One key per filled-in form: sending it again after a lost answer raises one dispute.
  const [key, setKey] = useState(() => crypto.randomUUID());
  if (!assets.length) return null;
  const chosen = assetId || assets[0].id;
  if (!open)
    return (
      <Button variant="contained" onClick={() => setOpen(true)}>
        Tell us something is wrong
      </Button>
    );
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api('/consumer/disputes', {
        method: 'POST',
        headers: { 'idempotency-key': key },
        body: JSON.stringify({ assetId: chosen, fields, claim: { summary: summary.trim() }, evidence: evidence ? [evidence] : [] }),
      });
      setKey(crypto.randomUUID());
      setOpen(false);
      setFields([]);
      setSummary('');
      done('Your dispute is sent. The company that controls the device and the register’s operator will look at it.');
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Box component="form" aria-label="Tell us something is wrong" onSubmit={(e) => (e.preventDefault(), void submit())}>
      <Box sx={{ my: 1 }}>
        <label htmlFor="dispute-asset">Which device: </label>
        <select id="dispute-asset" value={chosen} onChange={(e) => setAssetId(e.target.value)} style={{ fontSize: 16, padding: 4 }}>
          {assets.map((a) => (
            <option key={a.id} value={a.id}>
              {categoryName(a.category)}: {a.name}
            </option>
          ))}
        </select>
      </Box>
      <Box component="fieldset" sx={{ border: 0, p: 0, m: 0 }}>
        <Box component="legend" sx={{ fontWeight: 600 }}>
          What is wrong
        </Box>
        {FIELDS.map(([f, label]) => (
          <FormControlLabel
            key={f}
            sx={{ display: 'block' }}
            control={
              <Checkbox
                checked={fields.includes(f)}
                onChange={(e) => setFields(e.target.checked ? [...fields, f] : fields.filter((x) => x !== f))}
              />
            }
            label={label}
          />
        ))}
      </Box>
      <TextField
        label="What it should say, in your words"
        value={summary}
        onChange={(e) => setSummary(e.target.value)}
        required
        fullWidth
        multiline
        minRows={2}
        margin="dense"
      />
      <EvidenceFields onChange={setEvidence} />
      {error ? (
        <Alert severity="error" role="alert" sx={{ my: 1 }}>
          {error}
        </Alert>
      ) : null}
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', mt: 1 }}>
        <Button type="submit" variant="contained" disabled={busy || !fields.length || !summary.trim() || !evidence}>
          Send
        </Button>
        <Button variant="outlined" onClick={() => setOpen(false)}>
          Cancel
        </Button>
      </Box>
    </Box>
  );
}

/** One dispute: its state and outcome, its messages when asked for, a message added while it is open. */
function Followed({ d, asset }: { d: Dispute; asset?: HouseholdAsset }) {
  const [full, setFull] = useState<DisputeWithComments>();
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string>();
  const load = () =>
    api<DisputeWithComments>(`/consumer/disputes/${encodeURIComponent(d.id)}`).then(setFull, (e: Error) => setError(e.message));
  const send = async () => {
    setError(undefined);
    try {
      await api(`/consumer/disputes/${encodeURIComponent(d.id)}/comments`, {
        method: 'POST',
        body: JSON.stringify({ body: message.trim() }),
      });
      setMessage('');
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const open = d.status === 'OPEN' || d.status === 'UNDER_REVIEW';
  return (
    <Card component="article" aria-labelledby={`dispute-${d.id}`} sx={{ mb: 2 }}>
      <CardContent>
        <Typography variant="h6" component="h3" id={`dispute-${d.id}`}>
          {asset ? `${categoryName(asset.category)}: ${asset.name}` : 'A device'}, {d.fields.map(fieldName).join(', ')}
        </Typography>
        <Facts
          rows={[
            ['State', `${STATUS[d.status] ?? d.status}${d.outcome ? `: ${OUTCOME[d.outcome] ?? d.outcome}` : ''}`],
            ['You said', d.claim.summary],
            ['Sent on', day(d.raisedAt)],
            ...(d.resolutionNote ? ([['The decision', d.resolutionNote]] as [string, string][]) : []),
          ]}
        />
        {full ? (
          <Box component="ol" aria-label="Messages" sx={{ pl: 3 }}>
            {full.comments.map((c) => (
              <li key={c.id}>
                {day(c.createdAt)}, {c.organisationId === null ? 'you' : 'a party to the dispute'}: {c.body}
              </li>
            ))}
            {full.comments.length ? null : <li>No messages yet</li>}
          </Box>
        ) : (
          <Button onClick={() => void load()} sx={{ mt: 1 }}>
            Show messages
          </Button>
        )}
        {full && open ? (
          <Box component="form" aria-label="Add a message" onSubmit={(e) => (e.preventDefault(), void send())}>
            <TextField label="Add a message" value={message} onChange={(e) => setMessage(e.target.value)} fullWidth margin="dense" />
            <Button type="submit" variant="outlined" disabled={!message.trim()}>
              Send message
            </Button>
          </Box>
        ) : null}
        {error ? (
          <Alert severity="error" role="alert" sx={{ mt: 1 }}>
            {error}
          </Alert>
        ) : null}
      </CardContent>
    </Card>
  );
}

export function HouseholdDisputes({
  assets,
  disputes,
  done,
}: {
  assets: HouseholdAsset[];
  disputes?: Dispute[];
  done: (t: string) => void;
}) {
  return (
    <>
      <Typography sx={{ mb: 1 }}>
        If the register holds something wrong about your device, tell us with what shows it. You can follow your dispute here.
      </Typography>
      <Raise assets={assets} done={done} />
      {disputes?.length ? (
        <Box sx={{ mt: 2 }}>
          {disputes.map((d) => (
            <Followed key={d.id} d={d} asset={assets.find((a) => a.id === d.recordId)} />
          ))}
        </Box>
      ) : null}
    </>
  );
}
