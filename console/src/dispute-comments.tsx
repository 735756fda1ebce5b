import { useState, type FormEvent } from 'react';
import { useRefresh } from 'react-admin';
import { Box, Button, TextField, Typography } from '@mui/material';
import type { Dispute, DisputeComment, EvidenceItem } from '../../src/disputes/schema';
import { api } from './api';
import { EvidenceFields, type Evidence } from './evidence';
import { OutcomeAlert, type Outcome } from './outcome';
import { attempt, when } from './problem';
import { useSession } from './session';

/**
 * A dispute's evidence and comments as an organisation's person sees them (docs/disputes.md), and,
 * with `disputes:write` while the dispute is open or under review, a comment with evidence: an https
 * link, or a file's SHA-256 fingerprint computed in the browser (the file is never uploaded). The
 * API decides who may comment (the operator, the raiser, the record's parties); a refusal shows its
 * rule code and detail.
 */
export function DisputeComments({ d }: { d: Dispute & { comments?: DisputeComment[] } }) {
  const s = useSession();
  const open = d.status === 'OPEN' || d.status === 'UNDER_REVIEW';
  return (
    <>
      <Typography variant="h6" component="h2" sx={{ mt: 2 }}>
        Evidence sent with the dispute
      </Typography>
      <EvidenceList items={d.evidence} label="Evidence sent with the dispute" />
      <Typography variant="h6" component="h2" sx={{ mt: 2 }}>
        Comments
      </Typography>
      {d.comments?.length ? (
        <Box component="ol" aria-label="Comments on the dispute" sx={{ pl: 3 }}>
          {d.comments.map((c) => (
            <li key={c.id}>
              {when(c.createdAt)} · {c.organisationId ?? 'the household'}: {c.body}
              {c.evidence.length ? <EvidenceList items={c.evidence} label={`Evidence with the comment of ${when(c.createdAt)}`} /> : null}
            </li>
          ))}
        </Box>
      ) : (
        <Typography>No comments yet.</Typography>
      )}
      {open && s?.can('disputes:write') ? <AddComment d={d} /> : null}
    </>
  );
}

function EvidenceList({ items, label }: { items: EvidenceItem[]; label: string }) {
  if (!items.length) return <Typography>None.</Typography>;
  return (
    <Box component="ul" aria-label={label} sx={{ pl: 3, my: 0.5 }}>
      {items.map((e, i) => (
        <li key={i}>
          {e.description}:{' '}
          {e.url ? (
            <a href={e.url} target="_blank" rel="noreferrer noopener">
              {e.url}
            </a>
          ) : e.document ? (
            <>
              {e.document.name ?? 'a document'} ({e.document.mediaType}
              {e.document.sizeBytes ? `, ${e.document.sizeBytes} bytes` : ''}), SHA-256 <code>{e.document.sha256}</code>
            </>
          ) : null}
        </li>
      ))}
    </Box>
  );
}

function AddComment({ d }: { d: Dispute }) {
  const refresh = useRefresh();
  const [body, setBody] = useState('');
  const [evidence, setEvidence] = useState<Evidence>();
  const [outcome, setOutcome] = useState<Outcome>();
  // A new form (its file and link emptied) after each comment added.
  const [form, setForm] = useState(0);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void attempt(setOutcome, async () => {
      const c = await api<DisputeComment>(`/disputes/${encodeURIComponent(d.id)}/comments`, {
        method: 'POST',
        body: JSON.stringify({ body: body.trim(), evidence: evidence ? [evidence] : [] }),
      });
      setBody('');
      setEvidence(undefined);
      setForm((n) => n + 1);
      refresh();
      const n = c.evidence.length;
      return { severity: 'success', text: `Your comment is added${n ? ` with ${n} piece${n === 1 ? '' : 's'} of evidence` : ''}.` };
    });
  };
  return (
    <Box component="form" aria-label="Add a comment and evidence" onSubmit={submit} sx={{ mt: 1, maxWidth: 900 }}>
      <Typography variant="h6" component="h3">
        Add a comment and evidence
      </Typography>
      <TextField
        label="Comment"
        value={body}
        onChange={(e) => setBody(e.target.value)}
        required
        fullWidth
        multiline
        minRows={2}
        margin="dense"
      />
      <Typography variant="body2">Evidence (optional): a description, and a link or a file.</Typography>
      <EvidenceFields key={form} onChange={setEvidence} optional />
      <Button type="submit" variant="contained" disabled={!body.trim()}>
        Add the comment
      </Button>
      <OutcomeAlert outcome={outcome} />
    </Box>
  );
}
