import { useState } from 'react';
import { Title } from 'react-admin';
import {
  Alert,
  Button,
  Card,
  CardContent,
  LinearProgress,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
} from '@mui/material';
import { api } from './api';
import { PART_ROWS, parts, rejectedCsv, splitRecords, type FileRecord } from './bulk-file';

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

/** The answers of a file's parts as one: counts summed, every row numbered by the line of the whole file. */
function merge(dryRun: boolean, answers: { out: BulkResult; lineOf: Map<number, number> }[], reports: BulkRow[][]): BulkResult {
  const byRule: Record<string, number> = {};
  for (const { out } of answers) for (const [k, n] of Object.entries(out.byRule)) byRule[k] = (byRule[k] ?? 0) + n;
  const sum = (k: 'total' | 'registered' | 'existing' | 'valid' | 'rejected') => answers.reduce((t, a) => t + a.out[k], 0);
  return {
    dryRun,
    total: sum('total'),
    registered: sum('registered'),
    existing: sum('existing'),
    valid: sum('valid'),
    rejected: sum('rejected'),
    byRule,
    // A part that rejected more rows than its answer lists: its stored report has them all.
    results: answers.flatMap(({ out, lineOf }, i) =>
      [...(out.results ?? []).filter((r) => !(reports[i] && r.status === 'rejected')), ...(reports[i] ?? [])].map((r) => ({
        ...r,
        row: lineOf.get(r.row) ?? r.row,
      })),
    ),
  };
}

/**
 * Bulk upload (POST /api/v1/assets/bulk): choose a CSV or NDJSON file, check it with a dry run that
 * lists every row's errors with their rule codes, then register the valid rows (onError=skip). A file
 * of more than PART_ROWS rows goes in parts, one request each, with the progress shown; the rejected
 * rows can be downloaded as CSV to fix and send again.
 */
export function BulkUpload() {
  const [file, setFile] = useState<File>();
  const [checked, setChecked] = useState<BulkResult>();
  const [done, setDone] = useState<BulkResult>();
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<{ rows: number; of: number }>();
  const [error, setError] = useState<string>();
  const [source, setSource] = useState<{ header?: string; records: FileRecord[] }>();

  const send = async (dryRun: boolean) => {
    if (!file) return;
    setBusy(true);
    setError(undefined);
    try {
      const csv = typeOf(file.name) === 'text/csv';
      const split = splitRecords(await file.text(), csv);
      setSource(split);
      const answers: { out: BulkResult; lineOf: Map<number, number> }[] = [];
      const reports: BulkRow[][] = [];
      let rows = 0;
      setProgress({ rows, of: split.records.length });
      for (const part of parts(split.header, split.records)) {
        const out = await api<BulkResult>(`/assets/bulk?dryRun=${dryRun}&onError=skip`, {
          method: 'POST',
          body: part.body,
          headers: { 'content-type': typeOf(file.name), 'idempotency-key': crypto.randomUUID() },
        });
        if (out.resultsTruncated && out.report)
          reports[answers.length] = (await api<{ results: BulkRow[] }>(out.report.replace(/^\/api\/v1/, ''))).results;
        answers.push({ out, lineOf: part.lineOf });
        rows += part.rows;
        setProgress({ rows, of: split.records.length });
      }
      const merged = merge(dryRun, answers, reports);
      if (dryRun) setChecked(merged);
      else setDone(merged);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const rejected = (done ?? checked)?.results.filter((r) => r.status === 'rejected') ?? [];
  const download = () => {
    const url = URL.createObjectURL(new Blob([rejectedCsv(source?.header, source?.records ?? [], rejected)], { type: 'text/csv' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'rejected-rows.csv';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

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
        {busy && progress ? (
          <Stack spacing={1} sx={{ my: 2 }} role="status">
            <Typography>
              {progress.rows.toLocaleString('en-GB')} of {progress.of.toLocaleString('en-GB')} rows sent
              {progress.of > PART_ROWS ? ` (in parts of ${PART_ROWS.toLocaleString('en-GB')})` : ''}
            </Typography>
            <LinearProgress variant="determinate" value={progress.of ? (100 * progress.rows) / progress.of : 0} aria-label="Rows sent" />
          </Stack>
        ) : null}
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
              .
            </Alert>
            {rejected.length ? (
              <Button variant="outlined" sx={{ mt: 2 }} onClick={download}>
                Download the {rejected.length} rejected rows (CSV)
              </Button>
            ) : null}
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
