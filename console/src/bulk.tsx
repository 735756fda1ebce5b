import { useState } from 'react';
import { Title } from 'react-admin';
import { Alert, Button, Card, CardContent, Stack, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import { api } from './api';

/** A row of a bulk answer (src/assets/routes.ts, BulkRow): numbered by the line of the file it starts on. */
interface BulkRow {
  row: number;
  id?: string;
  status: 'registered' | 'valid' | 'existing' | 'rejected';
  errors?: { field: string; code: string; detail: string }[];
  warnings?: { code: string; detail?: string; field?: string }[];
}
interface BulkResult {
  dryRun: boolean;
  total: number;
  registered: number;
  existing: number;
  valid: number;
  rejected: number;
  byRule: Record<string, number>;
  results: BulkRow[];
  resultsTruncated?: boolean;
  report?: string;
}

const typeOf = (name: string) => (name.toLowerCase().endsWith('.csv') ? 'text/csv' : 'application/x-ndjson');

/**
 * Bulk upload (POST /api/v1/assets/bulk): choose a CSV or NDJSON file, check it with a dry run that
 * lists every row's errors with their rule codes, then register the valid rows (onError=skip).
 */
export function BulkUpload() {
  const [file, setFile] = useState<File>();
  const [checked, setChecked] = useState<BulkResult>();
  const [done, setDone] = useState<BulkResult>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const send = async (dryRun: boolean) => {
    if (!file) return;
    setBusy(true);
    setError(undefined);
    try {
      const out = await api<BulkResult>(`/assets/bulk?dryRun=${dryRun}&onError=skip`, {
        method: 'POST',
        body: await file.text(),
        headers: { 'content-type': typeOf(file.name), 'idempotency-key': crypto.randomUUID() },
      });
      if (dryRun) setChecked(out);
      else setDone(out);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const rejected = checked?.results.filter((r) => r.status === 'rejected') ?? [];

  return (
    <Card>
      <Title title="Bulk upload" />
      <CardContent>
        <Typography variant="h5" component="h1" gutterBottom>
          Bulk upload
        </Typography>
        <Typography gutterBottom>
          A CSV file with the export's columns, or NDJSON with one asset per line. Check it first: nothing is registered until you say so,
          and only the valid rows are.
        </Typography>
        <Stack direction="row" spacing={2} sx={{ alignItems: 'center', my: 2 }}>
          <label htmlFor="bulk-file">File (CSV or NDJSON)</label>
          <input
            id="bulk-file"
            type="file"
            accept=".csv,.ndjson,.jsonl,text/csv,application/x-ndjson"
            onChange={(e) => {
              setFile(e.target.files?.[0]);
              setChecked(undefined);
              setDone(undefined);
            }}
          />
          <Button variant="outlined" disabled={!file || busy} onClick={() => void send(true)}>
            Check (dry run)
          </Button>
        </Stack>
        {error ? <Alert severity="error">{error}</Alert> : null}
        {checked ? (
          <section aria-label="Dry run">
            <Alert severity={checked.rejected ? 'warning' : 'success'} role="status">
              {checked.total} rows: {checked.valid} valid, {checked.existing} already registered, {checked.rejected} rejected
              {Object.keys(checked.byRule).length
                ? ` (${Object.entries(checked.byRule)
                    .map(([code, n]) => `${code} ×${n}`)
                    .join(', ')})`
                : ''}
              .{checked.resultsTruncated ? ' Only the first rejected rows are listed.' : ''}
            </Alert>
            {rejected.length ? (
              <Table size="small" aria-label="Rejected rows" sx={{ my: 2 }}>
                <TableHead>
                  <TableRow>
                    <TableCell>Line</TableCell>
                    <TableCell>Field</TableCell>
                    <TableCell>Rule</TableCell>
                    <TableCell>What to fix</TableCell>
                  </TableRow>
                </TableHead>
                <TableBody>
                  {rejected.flatMap((r) =>
                    (r.errors ?? []).map((e, i) => (
                      <TableRow key={`${r.row}-${i}`}>
                        <TableCell>{r.row}</TableCell>
                        <TableCell>{e.field}</TableCell>
                        <TableCell>{e.code}</TableCell>
                        <TableCell>{e.detail}</TableCell>
                      </TableRow>
                    )),
                  )}
                </TableBody>
              </Table>
            ) : null}
            {checked.valid && !done ? (
              <Button variant="contained" disabled={busy} onClick={() => void send(false)}>
                Register the {checked.valid} valid rows
              </Button>
            ) : null}
          </section>
        ) : null}
        {done ? (
          <Alert severity="success" role="status" sx={{ mt: 2 }}>
            Registered {done.registered} assets ({done.existing} already registered, {done.rejected} rejected).
          </Alert>
        ) : null}
      </CardContent>
    </Card>
  );
}
