import { useEffect, useState } from 'react';
import {
  Datagrid,
  DateField,
  FunctionField,
  List,
  SelectInput,
  Show,
  TextField,
  TextInput,
  Title,
  useNotify,
  useRecordContext,
  useRefresh,
  type RaRecord,
} from 'react-admin';
import {
  Alert,
  Box,
  Button,
  Card,
  CardContent,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
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
import type { Organisation } from '../../src/organisations/schema';
import type { Dispute, DisputeComment } from '../../src/disputes/schema';
import { api, query } from './api';
import { useSession } from './session';
import { DisputeComments } from './dispute-comments';

const choices = (values: readonly string[]) => values.map((v) => ({ id: v, name: v.replace(/_/g, ' ').toLowerCase() }));
const ORG_STATUSES = choices(['PENDING_APPROVAL', 'ACTIVE', 'SUSPENDED', 'WITHDRAWN']);
const ORG_ROLES = choices([
  'MARKET_FACILITATOR',
  'REGULATOR',
  'SYSTEM_OPERATOR',
  'TRANSMISSION_OPERATOR',
  'DNO',
  'IDNO',
  'FSP',
  'AGGREGATOR',
  'SUPPLIER',
  'ASSET_OWNER',
  'INSTALLER',
  'TECHNOLOGY_PROVIDER',
  'INDEPENDENT_MARKET_PLATFORM',
  'OTHER',
]);
const DISPUTE_STATUSES = choices(['OPEN', 'UNDER_REVIEW', 'RESOLVED', 'WITHDRAWN']);

/** The operator (the market facilitator) acts on other organisations and resolves disputes; the regulator only reads. */
export const useOperator = () => {
  const s = useSession();
  return Boolean(s?.organisation?.roles.includes('MARKET_FACILITATOR'));
};

/** Approve, suspend, reinstate, de-register: PATCH /organisations/{id} (If-Match) and DELETE /organisations/{id}, as the operator. */
function OrganisationActions() {
  const o = useRecordContext<Organisation & RaRecord>();
  const s = useSession();
  const notify = useNotify();
  const refresh = useRefresh();
  const [deregistering, setDeregistering] = useState(false);
  const [reason, setReason] = useState('');
  if (!o || !s?.can('organisations:write') || o.id === s.organisationId) return null;
  const act = async (what: string, path: string, init: RequestInit) => {
    try {
      await api(path, init);
      notify(`${o.legalName}: ${what}`, { type: 'success' });
      refresh();
    } catch (e) {
      notify((e as Error).message, { type: 'error' });
    }
  };
  const status = (to: Organisation['status'], what: string) =>
    act(what, `/organisations/${encodeURIComponent(o.id)}`, {
      method: 'PATCH',
      body: JSON.stringify({ status: to }),
      headers: { 'if-match': `"${o.version}"` },
    });
  return (
    <Stack direction="row" spacing={1} onClick={(e) => e.stopPropagation()}>
      {o.status === 'PENDING_APPROVAL' ? (
        <Button size="small" variant="outlined" onClick={() => void status('ACTIVE', 'approved')} aria-label={`Approve ${o.legalName}`}>
          Approve
        </Button>
      ) : null}
      {o.status === 'ACTIVE' ? (
        <Button size="small" variant="outlined" onClick={() => void status('SUSPENDED', 'suspended')} aria-label={`Suspend ${o.legalName}`}>
          Suspend
        </Button>
      ) : null}
      {o.status === 'SUSPENDED' ? (
        <Button size="small" variant="outlined" onClick={() => void status('ACTIVE', 'reinstated')} aria-label={`Reinstate ${o.legalName}`}>
          Reinstate
        </Button>
      ) : null}
      {o.status !== 'WITHDRAWN' ? (
        <Button size="small" color="error" onClick={() => setDeregistering(true)} aria-label={`De-register ${o.legalName}`}>
          De-register
        </Button>
      ) : null}
      <Dialog open={deregistering} onClose={() => setDeregistering(false)} aria-labelledby={`dereg-${o.id}`}>
        <DialogTitle id={`dereg-${o.id}`}>De-register {o.legalName}?</DialogTitle>
        <DialogContent>
          <Typography gutterBottom>
            Its people and API clients are deactivated and its delegations revoked. The register refuses while it controls or owns live
            assets.
          </Typography>
          <MuiTextField label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} fullWidth margin="dense" />
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setDeregistering(false)}>Cancel</Button>
          <Button
            color="error"
            onClick={() => {
              setDeregistering(false);
              void act('de-registered', `/organisations/${encodeURIComponent(o.id)}${query({ reason })}`, { method: 'DELETE' });
            }}
          >
            De-register
          </Button>
        </DialogActions>
      </Dialog>
    </Stack>
  );
}

/** Organisations (GET /api/v1/organisations), by status and role; the operator approves, suspends and de-registers. */
export function OrganisationList() {
  const operator = useOperator();
  return (
    <List
      title="Organisations"
      filters={[
        <SelectInput key="status" source="status" choices={ORG_STATUSES} alwaysOn />,
        <SelectInput key="role" source="role" choices={ORG_ROLES} alwaysOn />,
      ]}
      perPage={25}
      empty={false}
      exporter={false}
      sort={{ field: 'id', order: 'ASC' }}
    >
      <Datagrid bulkActionButtons={false} rowClick={false}>
        <TextField source="legalName" label="Name" sortable={false} />
        <FunctionField label="Roles" render={(o: Organisation) => o.roles.join(', ')} />
        <TextField source="status" sortable={false} />
        <TextField source="registrationNumber" label="Company number" sortable={false} emptyText="—" />
        <TextField source="id" label="ID" sortable={false} />
        {operator ? <FunctionField label="Actions" render={() => <OrganisationActions />} /> : null}
      </Datagrid>
    </List>
  );
}

/** The disputes the organisation may see (the operator: all), by status. */
export function DisputeList() {
  return (
    <List
      title="Disputes"
      filters={[
        <SelectInput key="status" source="status" choices={DISPUTE_STATUSES} alwaysOn />,
        <SelectInput
          key="recordType"
          source="recordType"
          label="Record type"
          choices={choices(['asset', 'organisation', 'market_unit'])}
        />,
        <TextInput key="recordId" source="recordId" label="Record ID" />,
      ]}
      perPage={25}
      empty={false}
      exporter={false}
      sort={{ field: 'id', order: 'ASC' }}
    >
      <Datagrid bulkActionButtons={false} rowClick="show">
        <TextField source="status" sortable={false} />
        <TextField source="recordType" label="Record" sortable={false} />
        <TextField source="recordId" label="Record ID" sortable={false} />
        <FunctionField label="Fields" render={(d: Dispute) => d.fields.join(', ')} />
        <FunctionField label="Claim" render={(d: Dispute) => d.claim.summary} />
        <DateField source="raisedAt" label="Raised" showTime locales="en-GB" sortable={false} />
      </Datagrid>
    </List>
  );
}

const RECORD_PATHS: Record<Dispute['recordType'], string> = {
  asset: '/assets',
  organisation: '/organisations',
  market_unit: '/market-units',
};

/** The disputed record as it stands: the values of the disputed fields and its version (the correction's If-Match). */
function useDisputedRecord(d: Dispute | undefined) {
  const [record, setRecord] = useState<Record<string, unknown> & { version: number }>();
  const [error, setError] = useState<string>();
  const type = d?.recordType;
  const id = d?.recordId;
  useEffect(() => {
    if (!type || !id) return;
    api<Record<string, unknown> & { version: number }>(`${RECORD_PATHS[type]}/${encodeURIComponent(id)}`).then(setRecord, (e: Error) =>
      setError(e.message),
    );
  }, [type, id, d?.version]);
  return { record, error };
}

const show = (v: unknown) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The operator resolves a dispute: takes it under review, then either corrects the record (the
 * changes, in the record's own update format, applied at the version shown) or closes it with a
 * note. POST /disputes/{id}/review and /resolve, each with the dispute's If-Match.
 */
function Resolution({ d, recordVersion }: { d: Dispute; recordVersion?: number }) {
  const notify = useNotify();
  const refresh = useRefresh();
  const [outcome, setOutcome] = useState<'CORRECTED' | 'NO_ACTION_REQUIRED'>('CORRECTED');
  const [changes, setChanges] = useState(() => JSON.stringify(d.claim.proposedValues ?? {}, null, 2));
  const [note, setNote] = useState('');
  const [error, setError] = useState<string>();
  const post = async (path: string, body?: unknown) => {
    setError(undefined);
    try {
      await api(`/disputes/${encodeURIComponent(d.id)}/${path}`, {
        method: 'POST',
        headers: { 'if-match': `"${d.version}"` },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      notify(path === 'review' ? 'The dispute is under review' : 'The dispute is resolved', { type: 'success' });
      refresh();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  if (d.status === 'OPEN')
    return (
      <Button variant="contained" onClick={() => void post('review')}>
        Take under review
      </Button>
    );
  if (d.status !== 'UNDER_REVIEW') return null;
  const resolve = () => {
    if (outcome === 'NO_ACTION_REQUIRED') return void post('resolve', { outcome, note });
    let parsed: unknown;
    try {
      parsed = JSON.parse(changes);
    } catch {
      return setError('The changes are not JSON: write them as {"field": value}.');
    }
    void post('resolve', { outcome, ...(note ? { note } : {}), correction: { version: recordVersion, changes: parsed } });
  };
  return (
    <Box component="form" aria-label="Resolve the dispute" onSubmit={(e) => (e.preventDefault(), resolve())} sx={{ maxWidth: 640 }}>
      <MuiTextField
        select
        label="Outcome"
        value={outcome}
        onChange={(e) => setOutcome(e.target.value as typeof outcome)}
        margin="dense"
        fullWidth
      >
        <MenuItem value="CORRECTED">Corrected: change the record</MenuItem>
        <MenuItem value="NO_ACTION_REQUIRED">No action required</MenuItem>
      </MuiTextField>
      {outcome === 'CORRECTED' ? (
        <MuiTextField
          label={`Changes to version ${recordVersion ?? '…'} of the record (JSON)`}
          value={changes}
          onChange={(e) => setChanges(e.target.value)}
          multiline
          minRows={3}
          fullWidth
          margin="dense"
          slotProps={{ htmlInput: { style: { fontFamily: 'monospace' } } }}
        />
      ) : null}
      <MuiTextField
        label={outcome === 'CORRECTED' ? 'Note (optional)' : 'Note (the reason)'}
        value={note}
        onChange={(e) => setNote(e.target.value)}
        fullWidth
        margin="dense"
      />
      {error ? (
        <Alert severity="error" sx={{ my: 1 }}>
          {error}
        </Alert>
      ) : null}
      <Button type="submit" variant="contained" sx={{ mt: 1 }} disabled={outcome === 'CORRECTED' && recordVersion === undefined}>
        Resolve
      </Button>
    </Box>
  );
}

function DisputeDetails() {
  const d = useRecordContext<Dispute & { comments?: DisputeComment[] } & RaRecord>();
  const operator = useOperator();
  const { record, error } = useDisputedRecord(d);
  if (!d) return null;
  return (
    <Box sx={{ p: 2 }}>
      <Typography variant="h6" component="h2">
        The claim
      </Typography>
      <Typography gutterBottom>
        {d.status.replace(/_/g, ' ').toLowerCase()}: {d.recordType} {d.recordId}, raised by {d.raisedBy.organisationId} on{' '}
        {new Date(d.raisedAt).toLocaleString('en-GB')}
      </Typography>
      <Typography gutterBottom>{d.claim.summary}</Typography>
      <Table size="small" aria-label="Disputed fields" sx={{ maxWidth: 900 }}>
        <TableHead>
          <TableRow>
            <TableCell>Field</TableCell>
            <TableCell>In the register</TableCell>
            <TableCell>Proposed</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {d.fields.map((f) => (
            <TableRow key={f}>
              <TableCell>{f}</TableCell>
              <TableCell>{record ? show(record[f]) : '…'}</TableCell>
              <TableCell>{show(d.claim.proposedValues?.[f])}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {error ? <Alert severity="warning">{error}</Alert> : null}
      {d.correction ? (
        <Alert severity="success" sx={{ my: 2 }}>
          Corrected: version {d.correction.expectedVersion} → {d.correction.resultingVersion} ({JSON.stringify(d.correction.changes)})
        </Alert>
      ) : null}
      {d.outcome && !d.correction ? (
        <Alert severity="info" sx={{ my: 2 }}>
          {d.outcome.replace(/_/g, ' ').toLowerCase()}: {d.resolutionNote}
        </Alert>
      ) : null}
      <DisputeComments d={d} />
      {operator ? (
        <>
          <Typography variant="h6" component="h2" sx={{ mt: 2 }}>
            Resolution
          </Typography>
          <Resolution key={d.version} d={d} recordVersion={record?.version} />
        </>
      ) : null}
    </Box>
  );
}

export function DisputeShow() {
  return (
    <Show title="Dispute">
      <DisputeDetails />
    </Show>
  );
}

interface AuditRecord {
  id: string;
  seq: string | null;
  occurredAt: string;
  actor: { sub: string; org?: string | null; client_id?: string };
  organisationId: string | null;
  action: string;
  recordType: string;
  recordId: string;
  detail: Record<string, unknown> | null;
}
interface Verification {
  ok: boolean;
  sealed: number;
  unsealed: number;
  firstBroken?: { seq: string; id: string; reason: string };
  head?: { seq: string; hash: string } | null;
}

const AUDIT_FILTERS = ['recordType', 'recordId', 'organisationId', 'actorSub'] as const;
const AUDIT_LABELS: Record<(typeof AUDIT_FILTERS)[number], string> = {
  recordType: 'Record type',
  recordId: 'Record ID',
  organisationId: 'Organisation ID',
  actorSub: 'Actor (token subject)',
};

/** The audit trail (GET /api/v1/audit, oldest first, keyset pages), its export, and the chain's verification (POST /audit/verify). */
export function AuditTrail() {
  const [filter, setFilter] = useState<Record<string, string>>({});
  const [pages, setPages] = useState<{ items: AuditRecord[]; next: string | null }>();
  const [error, setError] = useState<string>();
  const [verification, setVerification] = useState<Verification>();
  const [verifying, setVerifying] = useState(false);
  const search = async (cursor?: string) => {
    setError(undefined);
    try {
      const page = await api<{ items: AuditRecord[]; nextCursor: string | null }>(`/audit${query({ ...filter, limit: 50, cursor })}`);
      setPages((p) => ({ items: cursor && p ? [...p.items, ...page.items] : page.items, next: page.nextCursor }));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const verify = async () => {
    setVerifying(true);
    try {
      setVerification(await api<Verification>('/audit/verify', { method: 'POST' }));
      // Verifying seals the pending records: the records shown get their place in the chain.
      if (pages) await search();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setVerifying(false);
    }
  };
  const exportCsv = async () => {
    try {
      const csv = await api<string>(`/audit/export${query({ ...filter, format: 'csv' })}`);
      download(new Blob([csv], { type: 'text/csv' }), 'audit.csv');
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Card>
      <Title title="Audit trail" />
      <CardContent>
        <Typography variant="h5" component="h1" gutterBottom>
          Audit trail
        </Typography>
        <Stack direction="row" spacing={2} sx={{ mb: 2, alignItems: 'center' }}>
          <Button variant="contained" onClick={() => void verify()} disabled={verifying}>
            Verify the chain
          </Button>
          {verification ? (
            <Alert severity={verification.ok ? 'success' : 'error'} role="status">
              {verification.ok
                ? `The chain is intact: ${verification.sealed.toLocaleString('en-GB')} records sealed${verification.head ? `, head #${verification.head.seq} ${verification.head.hash.slice(0, 16)}…` : ''}.`
                : `The chain is broken at #${verification.firstBroken?.seq} (${verification.firstBroken?.id}): ${verification.firstBroken?.reason}.`}
            </Alert>
          ) : null}
        </Stack>
        <Box
          component="form"
          aria-label="Search the audit trail"
          onSubmit={(e) => (e.preventDefault(), void search())}
          sx={{ display: 'flex', gap: 2, flexWrap: 'wrap', alignItems: 'center' }}
        >
          {AUDIT_FILTERS.map((k) => (
            <MuiTextField
              key={k}
              size="small"
              fullWidth={false}
              sx={{ width: 240 }}
              label={AUDIT_LABELS[k]}
              value={filter[k] ?? ''}
              onChange={(e) => setFilter((f) => ({ ...f, [k]: e.target.value }))}
            />
          ))}
          <Button type="submit" variant="outlined">
            Search
          </Button>
          <Button onClick={() => void exportCsv()}>Export CSV</Button>
        </Box>
        {error ? (
          <Alert severity="error" sx={{ my: 1 }}>
            {error}
          </Alert>
        ) : null}
        {pages ? (
          <>
            <Table size="small" aria-label="Audit records, oldest first" sx={{ mt: 2 }}>
              <TableHead>
                <TableRow>
                  <TableCell>#</TableCell>
                  <TableCell>When</TableCell>
                  <TableCell>Action</TableCell>
                  <TableCell>Record</TableCell>
                  <TableCell>Actor</TableCell>
                  <TableCell>Organisation</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {pages.items.map((r) => (
                  <TableRow key={r.id}>
                    <TableCell>{r.seq ?? 'pending'}</TableCell>
                    <TableCell>{new Date(r.occurredAt).toLocaleString('en-GB')}</TableCell>
                    <TableCell>{r.action}</TableCell>
                    <TableCell>
                      {r.recordType} {r.recordId}
                    </TableCell>
                    <TableCell>{r.actor.sub}</TableCell>
                    <TableCell>{r.organisationId ?? '—'}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
            <Typography sx={{ mt: 1 }}>{pages.items.length.toLocaleString('en-GB')} records shown.</Typography>
            {pages.next ? <Button onClick={() => void search(pages.next!)}>More</Button> : null}
          </>
        ) : null}
      </CardContent>
    </Card>
  );
}

/** Hand a fetched file to the browser as a download (the API needs the token, so no plain link). */
export function download(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
