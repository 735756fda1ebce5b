import { useCallback, useEffect, useState } from 'react';
import { Datagrid, DateField, FunctionField, List, SelectInput, TextField, Title } from 'react-admin';
import {
  Alert,
  Box,
  Button,
  Card,
  CardContent,
  FormControlLabel,
  MenuItem,
  Stack,
  Switch as MuiSwitch,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField as MuiTextField,
  Typography,
} from '@mui/material';
import { accessToken } from './auth';
import { api, query } from './api';
import { useCodes } from './catalogue';
import { download } from './operator';
import { useSession } from './session';

const choices = (values: readonly string[]) => values.map((v) => ({ id: v, name: v.replace(/_/g, ' ').toLowerCase() }));

interface CimJob {
  id: string;
  status: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  mode: 'enrich' | 'bulk-load';
  dryRun: boolean;
  files: { name: string; bytes: number }[];
  progress: { phase: string | null; bytesTotal: number; bytesParsed: number; equipment: number; assetsMatched: number };
  createdAt?: string;
}
interface CimReport {
  mode: string;
  dryRun: boolean;
  objects: number;
  equipment: number;
  matched?: number;
  enriched?: number;
  wouldEnrich?: number;
  unchanged?: number;
  registered?: number;
  issueCounts: Record<string, number>;
  issues: { code: string; message: string; file?: string }[];
  code?: string;
  detail?: string;
}

/** CIM export: the assets on the organisation's networks as CIM RDF/XML (GET /api/v1/cim/export), as a file. */
function CimExport() {
  const dnos = useCodes('dno-codes');
  const [dno, setDno] = useState('');
  const [state, setState] = useState<{ busy?: boolean; done?: string; error?: string }>({});
  const exportFile = async () => {
    setState({ busy: true });
    try {
      const xml = await api<string>(`/cim/export${query({ dno })}`, { headers: { accept: 'application/rdf+xml' } });
      download(new Blob([xml], { type: 'application/rdf+xml' }), `fmar-assets${dno ? `-${dno}` : ''}.xml`);
      const objects = (xml.match(/<cim:[A-Za-z.]+ rdf:ID=/g) ?? []).length;
      setState({
        done: `Downloaded fmar-assets${dno ? `-${dno}` : ''}.xml: ${(xml.length / 1024).toFixed(1)} KB, ${objects} CIM objects.`,
      });
    } catch (e) {
      setState({ error: (e as Error).message });
    }
  };
  return (
    <Box sx={{ mb: 3 }}>
      <Typography variant="h6" component="h2">
        Export
      </Typography>
      <Typography gutterBottom>The assets you can see, as CIM RDF/XML (CIM100, docs/cim-profile.md), in asset-ID order.</Typography>
      <Stack direction="row" spacing={2} sx={{ alignItems: 'center' }}>
        <MuiTextField select size="small" label="DNO area" value={dno} onChange={(e) => setDno(e.target.value)} sx={{ minWidth: 240 }}>
          <MenuItem value="">All I can see</MenuItem>
          {dnos.map((d) => (
            <MenuItem key={d.id} value={d.id}>
              {d.name}
            </MenuItem>
          ))}
        </MuiTextField>
        <Button variant="contained" onClick={() => void exportFile()} disabled={state.busy}>
          Download CIM export
        </Button>
      </Stack>
      {state.done ? (
        <Alert severity="success" role="status" sx={{ mt: 1 }}>
          {state.done}
        </Alert>
      ) : null}
      {state.error ? (
        <Alert severity="error" sx={{ mt: 1 }}>
          {state.error}
        </Alert>
      ) : null}
    </Box>
  );
}

/** A job's report (GET /cim/import-jobs/{id}/report): counts, then each issue with its rule code. */
function JobReport({ id }: { id: string }) {
  const [report, setReport] = useState<CimReport>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api<CimReport>(`/cim/import-jobs/${encodeURIComponent(id)}/report`).then(setReport, (e: Error) => setError(e.message));
  }, [id]);
  if (error) return <Alert severity="error">{error}</Alert>;
  if (!report) return <Typography>Loading the report…</Typography>;
  const counts = [
    ['objects', report.objects],
    ['equipment', report.equipment],
    ['matched', report.matched],
    ['enriched', report.enriched],
    ['would enrich', report.wouldEnrich],
    ['unchanged', report.unchanged],
    ['registered', report.registered],
  ].filter(([, n]) => n !== undefined);
  return (
    <Box sx={{ my: 1 }}>
      <Typography>
        Report of job {id}: {counts.map(([k, n]) => `${String(n)} ${String(k)}`).join(', ')}
        {Object.keys(report.issueCounts).length
          ? `; issues ${Object.entries(report.issueCounts)
              .map(([c, n]) => `${c} ×${n}`)
              .join(', ')}`
          : '; no issues'}
        .
      </Typography>
      {report.issues.length ? (
        <Table size="small" aria-label={`Issues of import job ${id}`}>
          <TableHead>
            <TableRow>
              <TableCell>Rule</TableCell>
              <TableCell>File</TableCell>
              <TableCell>Message</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {report.issues.slice(0, 200).map((i, n) => (
              <TableRow key={n}>
                <TableCell>{i.code}</TableCell>
                <TableCell>{i.file ?? '—'}</TableCell>
                <TableCell>{i.message}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : null}
    </Box>
  );
}

/** CIM import jobs: upload a file (POST /cim/import-jobs), the organisation's jobs (GET /cim/import-jobs) and their reports. */
function CimImport() {
  const [file, setFile] = useState<File>();
  const [mode, setMode] = useState<'enrich' | 'bulk-load'>('enrich');
  const [dryRun, setDryRun] = useState(true);
  const [jobs, setJobs] = useState<CimJob[]>();
  const [open, setOpen] = useState<string>();
  const [error, setError] = useState<string>();
  const load = useCallback(() => {
    api<{ items: CimJob[] }>('/cim/import-jobs?limit=20').then(
      (p) => setJobs(p.items),
      (e: Error) => setError(e.message),
    );
  }, []);
  useEffect(load, [load]);
  // While a job is queued or running, look again every 2 s.
  useEffect(() => {
    if (!jobs?.some((j) => j.status === 'QUEUED' || j.status === 'RUNNING')) return;
    const t = setTimeout(load, 2000);
    return () => clearTimeout(t);
  }, [jobs, load]);
  const upload = async () => {
    if (!file) return;
    setError(undefined);
    try {
      // The file goes as it is (application/rdf+xml); api() would set JSON.
      const res = await fetch(`/api/v1/cim/import-jobs${query({ mode, dryRun: String(dryRun) })}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/rdf+xml' },
        body: file,
      });
      const body = (await res.json()) as CimJob & { code?: string; detail?: string };
      if (!res.ok) throw new Error(`${body.code}: ${body.detail ?? ''}`);
      setOpen(undefined);
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Box>
      <Typography variant="h6" component="h2">
        Import
      </Typography>
      <Typography gutterBottom>
        Enrich assets matched by MPAN with network references (or bulk-load equipment as assets); a dry run changes nothing.
      </Typography>
      <Stack direction="row" spacing={2} sx={{ alignItems: 'center', flexWrap: 'wrap' }} useFlexGap>
        <label>
          CIM file (RDF/XML) <input type="file" accept=".xml,.rdf,application/rdf+xml" onChange={(e) => setFile(e.target.files?.[0])} />
        </label>
        <MuiTextField select size="small" label="Mode" value={mode} onChange={(e) => setMode(e.target.value as typeof mode)}>
          <MenuItem value="enrich">enrich</MenuItem>
          <MenuItem value="bulk-load">bulk-load</MenuItem>
        </MuiTextField>
        <FormControlLabel control={<MuiSwitch checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} />} label="Dry run" />
        <Button variant="contained" onClick={() => void upload()} disabled={!file}>
          Start import job
        </Button>
      </Stack>
      {error ? (
        <Alert severity="error" sx={{ mt: 1 }}>
          {error}
        </Alert>
      ) : null}
      <Table size="small" aria-label="Import jobs, newest first" sx={{ mt: 2 }}>
        <TableHead>
          <TableRow>
            <TableCell>Job</TableCell>
            <TableCell>Status</TableCell>
            <TableCell>Mode</TableCell>
            <TableCell>Files</TableCell>
            <TableCell>Progress</TableCell>
            <TableCell>Report</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {(jobs ?? []).map((j) => (
            <TableRow key={j.id}>
              <TableCell>{j.id}</TableCell>
              <TableCell>{j.status}</TableCell>
              <TableCell>
                {j.mode}
                {j.dryRun ? ' (dry run)' : ''}
              </TableCell>
              <TableCell>{j.files.map((f) => `${f.name} (${f.bytes.toLocaleString('en-GB')} B)`).join(', ')}</TableCell>
              <TableCell>
                {j.progress.bytesTotal ? `${Math.round((100 * j.progress.bytesParsed) / j.progress.bytesTotal)}% parsed` : '—'}
                {j.progress.phase ? `, ${j.progress.phase}` : ''}
              </TableCell>
              <TableCell>
                {j.status === 'SUCCEEDED' || j.status === 'FAILED' ? (
                  <Button
                    size="small"
                    onClick={() => setOpen(open === j.id ? undefined : j.id)}
                    aria-label={`${open === j.id ? 'Hide report' : 'Report'} of job ${j.id}`}
                  >
                    {open === j.id ? 'Hide report' : 'Report'}
                  </Button>
                ) : (
                  '…'
                )}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {jobs && !jobs.length ? <Typography sx={{ mt: 1 }}>No import jobs yet.</Typography> : null}
      {open ? <JobReport id={open} /> : null}
    </Box>
  );
}

/** The DNO's (and operator's) CIM exchange page: export, then import jobs, each shown with its scope. */
export function CimPage() {
  const s = useSession();
  return (
    <Card>
      <Title title="CIM export and import" />
      <CardContent>
        <Typography variant="h5" component="h1" gutterBottom>
          CIM export and import
        </Typography>
        {s?.can('cim:export') ? <CimExport /> : null}
        {s?.can('cim:import') ? <CimImport /> : null}
      </CardContent>
    </Card>
  );
}

/** The product catalogue (GET /api/v1/products): the System Operators' products. */
export function ProductList() {
  return (
    <List
      title="Products"
      filters={[
        <SelectInput key="market" source="market" choices={choices(['NESO', 'DSO'])} alwaysOn />,
        <SelectInput key="status" source="status" choices={choices(['ACTIVE', 'INACTIVE'])} alwaysOn />,
      ]}
      perPage={25}
      empty={false}
      exporter={false}
      sort={{ field: 'id', order: 'ASC' }}
    >
      <Datagrid bulkActionButtons={false} rowClick={false}>
        <TextField source="name" sortable={false} />
        <TextField source="market" sortable={false} />
        <TextField source="serviceType" label="Service type" sortable={false} />
        <TextField source="status" sortable={false} />
        <TextField source="ownerOrganisationId" label="Owner" sortable={false} emptyText="—" />
        <DateField source="validFrom" label="From" locales="en-GB" sortable={false} />
        <TextField source="id" label="ID" sortable={false} />
      </Datagrid>
    </List>
  );
}

/** Qualifications of the market units the organisation may read (GET /api/v1/qualifications). */
export function QualificationList() {
  return (
    <List
      title="Qualifications"
      filters={[
        <SelectInput key="outcome" source="outcome" choices={choices(['QUALIFIED', 'FAILED'])} alwaysOn />,
        <SelectInput key="current" source="current" label="Current only" choices={[{ id: 'true', name: 'current only' }]} alwaysOn />,
      ]}
      perPage={25}
      empty={false}
      exporter={false}
      sort={{ field: 'id', order: 'ASC' }}
    >
      <Datagrid bulkActionButtons={false} rowClick={false}>
        <TextField source="marketUnitId" label="Market unit" sortable={false} />
        <TextField source="productId" label="Product" sortable={false} />
        <TextField source="outcome" sortable={false} />
        <DateField source="validFrom" label="From" locales="en-GB" sortable={false} />
        <DateField source="validTo" label="To" locales="en-GB" sortable={false} emptyText="open" />
        <FunctionField label="Current" render={(q: { current: boolean }) => (q.current ? 'yes' : 'no')} />
        <TextField source="systemOperatorId" label="System Operator" sortable={false} />
      </Datagrid>
    </List>
  );
}
