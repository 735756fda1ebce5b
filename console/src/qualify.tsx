import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { Title } from 'react-admin';
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
import type { Product, Qualification } from '../../src/products/schema';
import type { MarketUnit } from '../../src/units/schema';
import { api, query } from './api';
import { OutcomeAlert, useList, type Outcome } from './outcome';
import { explain, when } from './problem';
import { useSession } from './session';
import { QualificationRecords, standing } from './unit-lifecycle';
import { Section } from './section';

/**
 * A System Operator's qualification work (docs/console.md, "Qualify market units"): the active
 * market units naming one of the products it owns, where each stands for that product, and a form
 * that records an outcome (UC-04.02). Through the public API only: `GET /products?ownerOrganisationId=`,
 * `GET /market-units?product=`, `POST /market-units/{id}/qualifications` (with an Idempotency-Key
 * per filled-in request); a refusal shows each field's rule code and message beside the field.
 */
export default function QualifyPage() {
  const org = useSession()?.organisationId;
  const owned = useList<Product>(`/products${query({ ownerOrganisationId: org, status: 'ACTIVE', limit: 100 })}`);
  const [product, setProduct] = useState('');
  const [units, setUnits] = useState<MarketUnit[]>();
  const [error, setError] = useState<string>();
  const [open, setOpen] = useState<string>();
  const [outcome, setOutcome] = useState<Outcome>();
  const ids = (owned.items ?? []).map((p) => p.id).join(',');
  // The units of each owned product (or the one chosen): the first 100 of each, by ID.
  const read = useCallback(async () => {
    const wanted = product ? [product] : ids ? ids.split(',') : [];
    try {
      const pages = await Promise.all(
        wanted.map((p) => api<{ items: MarketUnit[] }>(`/market-units${query({ product: p, status: 'ACTIVE', limit: 100 })}`)),
      );
      setUnits(pages.flatMap((x) => x.items));
      setError(undefined);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [product, ids]);
  useEffect(() => {
    if (owned.items) void read();
  }, [owned.items, read]);
  const unit = units?.find((u) => u.id === open);
  return (
    <Box sx={{ p: 2, minWidth: 0 }}>
      <Title title="Qualify market units" />
      <Stack spacing={3}>
        <Section title="Market units for your products">
          <Typography variant="body2" gutterBottom>
            The active market units that name a product your organisation owns, with the qualification for that product now: FMAR records
            what you assessed, it does not assess. A unit awaits you when none is recorded yet or a re-assessment is required.
          </Typography>
          {owned.error ? <Alert severity="error">{owned.error}</Alert> : null}
          {owned.items && owned.items.length === 0 ? <Typography>Your organisation owns no active product.</Typography> : null}
          {owned.items && owned.items.length > 0 ? (
            <TextField
              select
              size="small"
              label="Product"
              value={product}
              onChange={(e) => setProduct(e.target.value)}
              slotProps={{ select: { displayEmpty: true }, inputLabel: { shrink: true } }}
              sx={{ minWidth: 280, mb: 1 }}
            >
              <MenuItem value="">every product you own ({owned.items.length})</MenuItem>
              {owned.items.map((p) => (
                <MenuItem key={p.id} value={p.id}>
                  {p.id}: {p.name}
                </MenuItem>
              ))}
            </TextField>
          ) : null}
          {error ? <Alert severity="error">{error}</Alert> : null}
          {units && units.length === 0 ? <Typography>No active market unit names these products.</Typography> : null}
          {units && units.length > 0 ? (
            <UnitTable units={units} open={open} setOpen={(id) => (setOpen(id), setOutcome(undefined))} />
          ) : null}
          {!unit ? <OutcomeAlert outcome={outcome} /> : null}
        </Section>
        {unit ? (
          <RecordOutcome
            key={unit.id}
            unit={unit}
            products={owned.items ?? []}
            outcome={outcome}
            recorded={(o) => (setOutcome(o), void read())}
          />
        ) : null}
      </Stack>
    </Box>
  );
}

/** Where the unit stands for its own product: awaiting an assessment (none recorded, or a re-assessment), or its current record. */
function standsFor(u: MarketUnit): string {
  const q = u.qualifications.find((x) => x.productId === u.product);
  const now = q ? standing(q, true) : 'awaiting: none recorded';
  return u.reassessmentRequired ? `${now}; re-assessment required: ${u.reassessmentReason ?? ''}` : now;
}

function UnitTable(props: { units: MarketUnit[]; open?: string; setOpen: (id: string) => void }) {
  return (
    <Box sx={{ overflowX: 'auto' }} tabIndex={0}>
      <Table size="small" aria-label="Market units for your products">
        <TableHead>
          <TableRow>
            <TableCell>Name</TableCell>
            <TableCell>Type</TableCell>
            <TableCell>Product</TableCell>
            <TableCell>Assets</TableCell>
            <TableCell>FSP</TableCell>
            <TableCell>Now</TableCell>
            <TableCell>Action</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {props.units.map((u) => (
            <TableRow key={u.id} selected={u.id === props.open}>
              <TableCell>{u.name}</TableCell>
              <TableCell>{u.type}</TableCell>
              <TableCell>{u.product}</TableCell>
              <TableCell>{u.assetIds.length}</TableCell>
              <TableCell>
                <code>{u.fspId}</code>
              </TableCell>
              <TableCell sx={{ minWidth: 240 }}>{standsFor(u)}</TableCell>
              <TableCell>
                <Button size="small" onClick={() => props.setOpen(u.id)} aria-label={`Record an outcome for ${u.name}`}>
                  Record
                </Button>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Box>
  );
}

const blank = () => ({
  outcome: 'QUALIFIED',
  validFrom: new Date().toISOString().slice(0, 19) + 'Z',
  validTo: '',
  reference: '',
  notes: '',
});

function RecordOutcome(props: { unit: MarketUnit; products: Product[]; outcome?: Outcome; recorded: (o: Outcome) => void }) {
  const { unit } = props;
  const [form, setForm] = useState({ productId: unit.product, ...blank() });
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [refused, setRefused] = useState<Outcome>();
  const [shown, setShown] = useState(0);
  // One Idempotency-Key per filled-in request: sent again unchanged (a lost answer), it cannot record twice.
  const sent = useRef<{ body: string; key: string }>(undefined);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFieldErrors({});
    setRefused(undefined);
    const body = JSON.stringify({
      productId: form.productId,
      outcome: form.outcome,
      validFrom: form.validFrom.trim(),
      ...(form.validTo.trim() ? { validTo: form.validTo.trim() } : {}),
      ...(form.reference.trim() ? { reference: form.reference.trim() } : {}),
      ...(form.notes.trim() ? { notes: form.notes.trim() } : {}),
    });
    if (sent.current?.body !== body) sent.current = { body, key: crypto.randomUUID() };
    try {
      const q = await api<Qualification & { reassessmentCleared: boolean }>(`/market-units/${encodeURIComponent(unit.id)}/qualifications`, {
        method: 'POST',
        headers: { 'idempotency-key': sent.current.key },
        body,
      });
      sent.current = undefined;
      setForm({ productId: unit.product, ...blank() });
      setShown((n) => n + 1);
      const said = q.outcome === 'QUALIFIED' ? 'qualified' : 'not qualified';
      props.recorded({
        severity: 'success',
        text:
          `Recorded: ${unit.name} ${said} for ${q.productId}, valid from ${when(q.validFrom)} to ${when(q.validTo)}` +
          `${q.supersedes ? `; it supersedes record ${q.supersedes}` : ''}${q.reassessmentCleared ? '; re-assessment cleared' : ''}.`,
      });
    } catch (err) {
      setFieldErrors((err as { body?: { errors?: Record<string, string> } }).body?.errors ?? {});
      setRefused({ severity: 'error', text: explain(err) });
    }
  };
  const field = (k: 'validFrom' | 'validTo' | 'reference' | 'notes', label: string, hint?: string) => ({
    label,
    size: 'small' as const,
    value: form[k],
    onChange: set(k),
    error: !!fieldErrors[k],
    helperText: fieldErrors[k] ?? hint,
  });
  return (
    <Section title={`Record an outcome for ${unit.name}`}>
      <Typography variant="body2" gutterBottom>
        {unit.type} for {unit.product}, {unit.assetIds.length} asset{unit.assetIds.length === 1 ? '' : 's'}, FSP <code>{unit.fspId}</code>.
        A new record supersedes the current one for the same product; qualified clears a re-assessment.
      </Typography>
      <Box component="form" onSubmit={(e) => void submit(e)} aria-label={`Record an outcome for ${unit.name}`}>
        <Stack direction={{ xs: 'column', md: 'row' }} spacing={1} sx={{ mb: 1 }}>
          <TextField
            select
            label="Product"
            size="small"
            value={form.productId}
            onChange={set('productId')}
            error={!!fieldErrors.productId}
            helperText={fieldErrors.productId}
            sx={{ minWidth: 260 }}
          >
            {[...new Set([unit.product, ...props.products.map((p) => p.id)])].map((id) => (
              <MenuItem key={id} value={id}>
                {id}
              </MenuItem>
            ))}
          </TextField>
          <TextField
            select
            label="Outcome"
            size="small"
            value={form.outcome}
            onChange={set('outcome')}
            error={!!fieldErrors.outcome}
            helperText={fieldErrors.outcome}
            sx={{ minWidth: 200 }}
          >
            <MenuItem value="QUALIFIED">Qualified</MenuItem>
            <MenuItem value="FAILED">Not qualified</MenuItem>
          </TextField>
        </Stack>
        <Stack direction={{ xs: 'column', md: 'row' }} spacing={1} sx={{ mb: 1 }}>
          <TextField {...field('validFrom', 'Valid from', 'RFC 3339, e.g. 2026-01-31T00:00:00Z')} required sx={{ flex: 1 }} />
          <TextField {...field('validTo', 'Valid to (optional)', 'After valid from; empty: open')} sx={{ flex: 1 }} />
          <TextField {...field('reference', 'Your reference (optional)')} slotProps={{ htmlInput: { maxLength: 200 } }} sx={{ flex: 1 }} />
        </Stack>
        <TextField
          {...field('notes', 'Reason or notes (optional)')}
          fullWidth
          multiline
          minRows={2}
          slotProps={{ htmlInput: { maxLength: 2000 } }}
        />
        <Button type="submit" variant="contained" sx={{ mt: 1 }}>
          Record
        </Button>
      </Box>
      <OutcomeAlert outcome={refused ?? props.outcome} />
      <Typography variant="h6" component="h3" sx={{ mt: 2 }}>
        Its qualification records
      </Typography>
      <QualificationRecords key={shown} unit={unit} notes />
    </Section>
  );
}
