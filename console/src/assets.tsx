import { useEffect, useState } from 'react';
import {
  Create,
  Datagrid,
  DateField,
  FunctionField,
  Link,
  Pagination,
  NumberField,
  NumberInput,
  SelectInput,
  Show,
  SimpleForm,
  TextField,
  TextInput,
  TopToolbar,
  CreateButton,
  useRecordContext,
  type RaRecord,
  List,
  Labeled,
} from 'react-admin';
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
  TextField as MuiTextField,
  Typography,
} from '@mui/material';
import type { Asset } from '../../src/assets/schema';
import { api, query } from './api';
import { AsOfView } from './asof';
import { AssetPanels } from './asset-panels';
import { ExportButtons } from './asset-export';
import { ASSET_STATUSES, useCodes } from './catalogue';
import { useSession } from './session';

/** Filters of GET /api/v1/assets; `identifier` is any alias, e.g. mpan:1312345678907. */
function assetFilters(categories: { id: string; name: string }[]) {
  return [
    <TextInput key="identifier" source="identifier" label="Identifier (scheme:value)" alwaysOn />,
    <SelectInput key="category" source="category" choices={categories} alwaysOn />,
    <SelectInput key="status" source="status" choices={ASSET_STATUSES} alwaysOn />,
    <TextInput key="dno" source="dno" label="DNO" />,
    <TextInput key="gspGroup" source="gspGroup" label="GSP group" />,
  ];
}

export function AssetList() {
  const categories = useCodes('asset-categories');
  const s = useSession();
  return (
    <List
      title="Assets"
      filters={assetFilters(categories)}
      perPage={25}
      pagination={<Pagination rowsPerPageOptions={[25, 50, 100]} />}
      sort={{ field: 'id', order: 'ASC' }}
      actions={
        <TopToolbar>
          <ExportButtons />
          {s?.can('assets:write') ? <CreateButton label="Register an asset" /> : null}
        </TopToolbar>
      }
      empty={false}
    >
      <Datagrid rowClick="show" bulkActionButtons={false}>
        <TextField source="friendlyCode" label="Code" sortable={false} emptyText="—" />
        <TextField source="name" sortable={false} />
        <TextField source="category" sortable={false} />
        <TextField source="status" sortable={false} />
        <TextField source="dno" label="DNO" sortable={false} emptyText="—" />
        <NumberField source="ratedCapacityKw" label="Rated kW" sortable={false} />
        <TextField source="id" label="ID" sortable={false} />
      </Datagrid>
    </List>
  );
}

interface HistoryEntry {
  version: number;
  recordedAt: string;
  recordedBy: string;
  supersededAt?: string | null;
  [field: string]: unknown;
}

function AssetHistory() {
  const record = useRecordContext<Asset & RaRecord>();
  const [rows, setRows] = useState<HistoryEntry[] | undefined>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!record) return;
    api<{ items: HistoryEntry[] }>(`/assets/${encodeURIComponent(record.id)}/history`).then(
      (h) => setRows(h.items),
      (e: Error) => setError(e.message),
    );
  }, [record]);
  if (error) return <Alert severity="warning">{error}</Alert>;
  if (!rows) return <Typography>Loading history…</Typography>;
  return (
    <>
      <VersionTable rows={rows} />
      <VersionDiff rows={rows} />
    </>
  );
}

/** Fields of a version that say when and by whom, not what: left out of a comparison. */
const BOOKKEEPING = new Set(['version', 'recordedAt', 'recordedBy', 'supersededAt', 'validFrom', 'validTo']);
const shown = (v: unknown) => (v === undefined || v === null ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

/** Any two versions side by side: the fields that differ between them (from the history the API answers). */
function VersionDiff({ rows }: { rows: HistoryEntry[] }) {
  const [from, setFrom] = useState(rows[1]?.version ?? rows[0]?.version);
  const [to, setTo] = useState(rows[0]?.version);
  if (rows.length < 2) return <Typography sx={{ mt: 1 }}>One version: nothing to compare.</Typography>;
  const a = rows.find((r) => r.version === from);
  const b = rows.find((r) => r.version === to);
  const fields = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])]
    .filter((f) => !BOOKKEEPING.has(f) && JSON.stringify(a?.[f]) !== JSON.stringify(b?.[f]))
    .sort();
  const pick = (label: string, value: number, set: (v: number) => void) => (
    <MuiTextField select size="small" label={label} value={value} onChange={(e) => set(Number(e.target.value))} sx={{ minWidth: 140 }}>
      {rows.map((r) => (
        <MenuItem key={r.version} value={r.version}>
          version {r.version}
        </MenuItem>
      ))}
    </MuiTextField>
  );
  return (
    <Box sx={{ mt: 2 }}>
      <Typography variant="h6" component="h3">
        Compare versions
      </Typography>
      <Stack direction="row" spacing={2} sx={{ my: 1 }}>
        {pick('From', from, setFrom)}
        {pick('To', to, setTo)}
      </Stack>
      {fields.length ? (
        <Table size="small" aria-label={`Changes from version ${from} to version ${to}`}>
          <TableHead>
            <TableRow>
              <TableCell>Field</TableCell>
              <TableCell>Version {from}</TableCell>
              <TableCell>Version {to}</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {fields.map((f) => (
              <TableRow key={f}>
                <TableCell>{f}</TableCell>
                <TableCell>{shown(a?.[f])}</TableCell>
                <TableCell>{shown(b?.[f])}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : (
        <Typography>No field differs.</Typography>
      )}
    </Box>
  );
}

function VersionTable({ rows }: { rows: HistoryEntry[] }) {
  return (
    <Table size="small" aria-label="Versions of this asset, newest first">
      <TableHead>
        <TableRow>
          <TableCell>Version</TableCell>
          <TableCell>Recorded at</TableCell>
          <TableCell>Recorded by</TableCell>
          <TableCell>Status</TableCell>
          <TableCell>Rated kW</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {rows.map((r) => (
          <TableRow key={r.version}>
            <TableCell>{r.version}</TableCell>
            <TableCell>{new Date(r.recordedAt).toLocaleString('en-GB')}</TableCell>
            <TableCell>{r.recordedBy}</TableCell>
            <TableCell>{String(r.status ?? '')}</TableCell>
            <TableCell>{String(r.ratedCapacityKw ?? '')}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

function Aliases() {
  const record = useRecordContext<Asset & RaRecord>();
  if (!record) return null;
  // The MPANs and the serial number are aliases too (derived, docs/assets.md): a lookup finds the asset by any.
  const all = [
    ...[record.importMpan, record.exportMpan].filter((v): v is string => Boolean(v)).map((value) => ({ scheme: 'mpan', value })),
    ...(record.serialNumber ? [{ scheme: 'serial', value: record.serialNumber }] : []),
    ...record.aliases,
  ];
  if (!all.length) return <Typography>No aliases.</Typography>;
  return (
    <Table size="small" aria-label="Aliases">
      <TableHead>
        <TableRow>
          <TableCell>Scheme</TableCell>
          <TableCell>Value</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {all.map((a) => (
          <TableRow key={`${a.scheme}:${a.value}`}>
            <TableCell>{a.scheme}</TableCell>
            <TableCell>{a.value}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

export function AssetShow() {
  return (
    <Show title={<AssetTitle />}>
      <Box sx={{ p: 2 }}>
        <Typography variant="h6" component="h2">
          Details
        </Typography>
        <Stack direction="row" spacing={3} useFlexGap sx={{ my: 1, flexWrap: 'wrap' }}>
          <Labeled label="ID">
            <TextField source="id" />
          </Labeled>
          <Labeled label="Name">
            <TextField source="name" />
          </Labeled>
          <Labeled label="Category">
            <TextField source="category" />
          </Labeled>
          <Labeled label="Status">
            <TextField source="status" />
          </Labeled>
          <Labeled label="Rated capacity (kW)">
            <NumberField source="ratedCapacityKw" />
          </Labeled>
          <Labeled label="Connection">
            <TextField source="connectionStatus" />
          </Labeled>
          <Labeled label="DNO">
            <TextField source="dno" emptyText="—" />
          </Labeled>
          <Labeled label="Import MPAN">
            <TextField source="importMpan" emptyText="—" />
          </Labeled>
          <Labeled label="Commissioned">
            <DateField source="commissioningDate" locales="en-GB" emptyText="—" />
          </Labeled>
          <Labeled label="Version">
            <FunctionField render={(r: Asset) => `${r.version}, recorded ${new Date(r.recordedAt).toLocaleString('en-GB')}`} />
          </Labeled>
        </Stack>
        <Typography variant="h6" component="h2" sx={{ mt: 2 }}>
          Aliases
        </Typography>
        <Aliases />
        <Typography variant="h6" component="h2" sx={{ mt: 2 }}>
          History
        </Typography>
        <AssetHistory />
        <Typography variant="h6" component="h2" sx={{ mt: 2 }}>
          As of a time
        </Typography>
        <AsOfView />
        <AssetPanels />
      </Box>
    </Show>
  );
}

function AssetTitle() {
  const r = useRecordContext<Asset & RaRecord>();
  return <span>{r ? `Asset ${r.friendlyCode ?? r.name}` : 'Asset'}</span>;
}

/** "Is this meter already registered?": a lookup by MPAN among the assets the person can see, before the form. */
function MeterCheck({ onDone }: { onDone: (mpan: string) => void }) {
  const [mpan, setMpan] = useState('');
  const [found, setFound] = useState<Asset[] | undefined>();
  const [error, setError] = useState<string>();
  const look = async () => {
    setError(undefined);
    try {
      const page = await api<{ items: Asset[] }>(`/assets${query({ identifier: `mpan:${mpan.trim()}`, limit: 10 })}`);
      setFound(page.items);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Card sx={{ mt: 2 }}>
      <CardContent>
        <Typography variant="h6" component="h2">
          Is this meter already registered?
        </Typography>
        <Typography sx={{ mb: 2 }}>Look the MPAN up first: a device registered twice counts its capacity twice.</Typography>
        <Stack direction="row" spacing={2} sx={{ alignItems: 'center' }}>
          <label htmlFor="meter-check">MPAN</label>
          <input
            id="meter-check"
            value={mpan}
            onChange={(e) => setMpan(e.target.value)}
            inputMode="numeric"
            style={{ padding: 8, fontSize: 16 }}
          />
          <Button variant="outlined" onClick={() => void look()} disabled={!mpan.trim()}>
            Look up
          </Button>
          <Button onClick={() => onDone(mpan.trim())}>Skip</Button>
        </Stack>
        {error ? (
          <Alert severity="error" sx={{ mt: 2 }}>
            {error}
          </Alert>
        ) : null}
        {found ? (
          <Box sx={{ mt: 2 }} role="status">
            {found.length ? (
              <Alert severity="warning">
                Already registered behind this meter:{' '}
                {found.map((a) => (
                  <span key={a.id}>
                    <Link to={`/assets/${a.id}/show`}>
                      {a.name} ({a.category}, {a.status})
                    </Link>{' '}
                  </span>
                ))}
                . Register another asset only if it is a different device.
              </Alert>
            ) : (
              <Alert severity="info">No asset you can see uses this MPAN. (Another organisation's assets are not shown to you.)</Alert>
            )}
            <Button variant="contained" sx={{ mt: 2 }} onClick={() => onDone(mpan.trim())}>
              Continue to the form
            </Button>
          </Box>
        ) : null}
      </CardContent>
    </Card>
  );
}

export function AssetCreate() {
  const [mpan, setMpan] = useState<string | undefined>();
  const categories = useCodes('asset-categories');
  const statuses = useCodes('connection-statuses');
  const dnos = useCodes('dno-codes');
  if (mpan === undefined) return <MeterCheck onDone={setMpan} />;
  return (
    <Create title="Register an asset" redirect="show">
      <SimpleForm defaultValues={{ importMpan: mpan || undefined, connectionStatus: 'CONNECTED' }}>
        <TextInput source="name" isRequired fullWidth helperText="Letters, digits, spaces and - _ / ( )" />
        <SelectInput source="category" choices={categories} isRequired />
        <NumberInput source="ratedCapacityKw" label="Rated capacity (kW)" isRequired />
        <SelectInput source="connectionStatus" choices={statuses} isRequired />
        <TextInput source="commissioningDate" label="Commissioning date (YYYY-MM-DD)" helperText="Required when connected" />
        <SelectInput source="dno" label="DNO" choices={dnos} />
        <TextInput source="importMpan" label="Import MPAN" />
        <TextInput source="exportMpan" label="Export MPAN" />
        <TextInput source="serialNumber" label="Serial number" />
        <TextInput source="friendlyCode" label="Your code for it" />
      </SimpleForm>
    </Create>
  );
}
