import { useCallback, useEffect, useState, type FormEvent } from 'react';
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
import type { CatalogueCode, CatalogueSummary } from '../../src/catalogue/schema';
import { api } from './api';
import { OutcomeAlert, run, useList, type Outcome } from './outcome';

/** The `kind` an asset category's code must carry (docs/catalogues.md, `attributes`). */
const CATEGORY_KINDS = ['generating', 'demand', 'storage', 'other'];

/**
 * Catalogues (docs/console.md, "Catalogues"): every code list, and one list's codes, active or not.
 * With `catalogues:write` (the operator) and as the list's policy allows: add a code (extensible
 * lists), retire one (`active: false`) or bring it back, each at the version read (If-Match).
 */
export function CataloguesPage() {
  const { permissions } = usePermissions<string[]>();
  const write = !!permissions?.includes('catalogues:write');
  const { items, error, reload } = useList<CatalogueSummary>('/catalogues');
  const [open, setOpen] = useState<string>();
  return (
    <Box sx={{ p: 2 }}>
      <Title title="Catalogues" />
      <Card component="section" aria-label="Catalogues">
        <CardContent>
          <Typography variant="h5" component="h2" gutterBottom>
            Catalogues
          </Typography>
          <Typography variant="body2" gutterBottom>
            The code lists records are checked against. Codes are never deleted: a retired code stays on the records that hold it and is
            refused as a new value.
          </Typography>
          {error ? <Alert severity="error">{error}</Alert> : null}
          <Table size="small" aria-label="Code lists">
            <TableHead>
              <TableRow>
                <TableCell>List</TableCell>
                <TableCell>Policy</TableCell>
                <TableCell>Used by</TableCell>
                <TableCell align="right">Codes (active)</TableCell>
                <TableCell>Action</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {(items ?? []).map((c) => (
                <TableRow key={c.name} selected={open === c.name}>
                  <TableCell>
                    {c.title} (<code>{c.name}</code>)
                  </TableCell>
                  <TableCell>{c.policy}</TableCell>
                  <TableCell>{c.usedBy.join(', ')}</TableCell>
                  <TableCell align="right">
                    {c.codes} ({c.activeCodes})
                  </TableCell>
                  <TableCell>
                    <Button size="small" onClick={() => setOpen(c.name)} aria-label={`Codes of ${c.title}`}>
                      Codes
                    </Button>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </CardContent>
      </Card>
      {open ? <Codes key={open} name={open} write={write} changed={reload} /> : null}
    </Box>
  );
}

/** GET /catalogues/{name}?includeInactive=true (OpenAPI `Catalogue`). */
type Catalogue = CatalogueSummary & { at: string; items: (CatalogueCode & { inEffect: boolean })[] };

function Codes(props: { name: string; write: boolean; changed: () => void }) {
  const path = `/catalogues/${encodeURIComponent(props.name)}`;
  const write = props.write;
  const [cat, setCat] = useState<Catalogue>();
  const [error, setError] = useState<string>();
  const [outcome, setOutcome] = useState<Outcome>();
  const [form, setForm] = useState({ code: '', label: '', description: '', kind: 'other' });
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const read = useCallback(
    () =>
      api<Catalogue>(`${path}?includeInactive=true`).then(
        (c) => (setCat(c), setError(undefined)),
        (e: Error) => setError(e.message),
      ),
    [path],
  );
  useEffect(() => void read(), [read]);
  const policy = cat?.policy;
  const change = (c: CatalogueCode, active: boolean) =>
    run(setOutcome, async () => {
      await api(`${path}/codes/${encodeURIComponent(c.code)}`, {
        method: 'PATCH',
        headers: { 'if-match': `"${c.version}"` },
        body: JSON.stringify({ active }),
      });
      await read();
      props.changed();
      return { severity: 'success', text: active ? `${c.code} is active again.` : `${c.code} is retired: refused as a new value.` };
    });
  const add = (e: FormEvent) => {
    e.preventDefault();
    setFieldErrors({});
    void run(setOutcome, async () => {
      try {
        const c = await api<CatalogueCode>(`${path}/codes`, {
          method: 'POST',
          headers: { 'idempotency-key': crypto.randomUUID() },
          body: JSON.stringify({
            code: form.code,
            label: form.label,
            ...(form.description ? { description: form.description } : {}),
            ...(props.name === 'asset-categories' ? { attributes: { kind: form.kind } } : {}),
          }),
        });
        setForm({ code: '', label: '', description: '', kind: 'other' });
        await read();
        props.changed();
        return { severity: 'success', text: `${c.code} (${c.label}) is added to ${props.name}.` };
      } catch (err) {
        setFieldErrors((err as { body?: { errors?: Record<string, string> } }).body?.errors ?? {});
        throw err;
      }
    });
  };
  return (
    <Card component="section" aria-label={`Codes of ${props.name}`} sx={{ mt: 3 }}>
      <CardContent>
        <Typography variant="h5" component="h2" gutterBottom>
          {cat?.title ?? props.name}
        </Typography>
        {cat ? (
          <Typography variant="body2" gutterBottom>
            Policy {cat.policy}
            {cat.policy === 'read-only' ? ': the register’s workflow or code sets these, so none can change here.' : null}
            {cat.policy === 'fixed' ? ': codes can be relabelled or retired, not added.' : null}
          </Typography>
        ) : null}
        {error ? <Alert severity="error">{error}</Alert> : null}
        <Table size="small" aria-label={`Codes of ${props.name}, active or not`}>
          <TableHead>
            <TableRow>
              <TableCell>Code</TableCell>
              <TableCell>Label</TableCell>
              <TableCell>State</TableCell>
              <TableCell>Effective</TableCell>
              <TableCell>Version</TableCell>
              {write && policy !== 'read-only' ? <TableCell>Action</TableCell> : null}
            </TableRow>
          </TableHead>
          <TableBody>
            {(cat?.items ?? []).map((c) => (
              <TableRow key={c.code}>
                <TableCell>
                  <code>{c.code}</code>
                </TableCell>
                <TableCell>{c.label}</TableCell>
                <TableCell>{c.active ? (c.inEffect ? 'in effect' : 'active, not in effect today') : 'retired'}</TableCell>
                <TableCell>
                  {c.effectiveFrom ?? '—'} to {c.effectiveTo ?? '—'}
                </TableCell>
                <TableCell>{c.version}</TableCell>
                {write && policy !== 'read-only' ? (
                  <TableCell>
                    <Button
                      size="small"
                      color={c.active ? 'error' : 'primary'}
                      onClick={() => void change(c, !c.active)}
                      aria-label={`${c.active ? 'Retire' : 'Reactivate'} ${c.code}`}
                    >
                      {c.active ? 'Retire' : 'Reactivate'}
                    </Button>
                  </TableCell>
                ) : null}
              </TableRow>
            ))}
          </TableBody>
        </Table>
        <OutcomeAlert outcome={outcome} />
        {write && policy === 'extensible' ? (
          <Box component="form" onSubmit={add} sx={{ mt: 2 }} aria-label={`Add a code to ${props.name}`}>
            <Typography variant="h6" component="h3">
              Add a code
            </Typography>
            <Stack direction={{ xs: 'column', md: 'row' }} spacing={1} sx={{ mt: 1 }}>
              <TextField
                label="Code"
                required
                size="small"
                value={form.code}
                onChange={(e) => setForm({ ...form, code: e.target.value })}
                error={!!fieldErrors.code}
                helperText={fieldErrors.code ?? 'Upper-case letters, digits and _'}
              />
              <TextField
                label="Label"
                required
                size="small"
                value={form.label}
                onChange={(e) => setForm({ ...form, label: e.target.value })}
                error={!!fieldErrors.label}
                helperText={fieldErrors.label}
              />
              <TextField
                label="Description"
                size="small"
                value={form.description}
                onChange={(e) => setForm({ ...form, description: e.target.value })}
                error={!!fieldErrors.description}
                helperText={fieldErrors.description}
              />
              {props.name === 'asset-categories' ? (
                <TextField
                  select
                  label="Kind"
                  size="small"
                  value={form.kind}
                  onChange={(e) => setForm({ ...form, kind: e.target.value })}
                  error={!!fieldErrors.attributes}
                  helperText={fieldErrors.attributes}
                  sx={{ minWidth: 140 }}
                >
                  {CATEGORY_KINDS.map((k) => (
                    <MenuItem key={k} value={k}>
                      {k}
                    </MenuItem>
                  ))}
                </TextField>
              ) : null}
              <Box>
                <Button type="submit" variant="contained">
                  Add
                </Button>
              </Box>
            </Stack>
          </Box>
        ) : null}
      </CardContent>
    </Card>
  );
}
