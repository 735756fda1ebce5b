import { useState } from 'react';
import { Alert, Box, Button, Stack, Table, TableBody, TableCell, TableHead, TableRow, TextField, Typography } from '@mui/material';
import type { Qualification } from '../../src/products/schema';
import type { MarketUnit } from '../../src/units/schema';
import { api, query } from './api';
import { OutcomeAlert, useList, type Outcome } from './outcome';
import { explain, when } from './problem';

/**
 * A market unit's opportunities, its versions and its de-registration (docs/console.md, "Market
 * units"), below the unit's assets and qualifications; and the table of a unit's qualification
 * records, which the System Operator's page (qualify.tsx) shows too. Through the public API only:
 * `/market-units/{id}/opportunities`, `/history`, `DELETE /market-units/{id}` with If-Match.
 */

/** GET /market-units/{id}/opportunities (OpenAPI `MarketUnitOpportunity`). */
interface Opportunity {
  product: { id: string; name: string; market: string; serviceType: string };
  viaProductId: string;
  equivalenceId: string;
  kind: 'EQUIVALENT' | 'SUBSTITUTABLE';
}

/** Where a qualification stands now: active, not yet valid, expired, failed, or superseded by a later record. */
export function standing(q: Pick<Qualification, 'outcome' | 'validFrom' | 'validTo'> & { current?: boolean }, current = q.current) {
  const now = Date.now();
  if (current === false) return 'superseded';
  if (q.outcome === 'FAILED') return 'failed';
  if (new Date(q.validFrom).getTime() > now) return 'qualified, not yet valid';
  if (q.validTo && new Date(q.validTo).getTime() <= now) return 'qualified, expired';
  return 'qualified, active';
}

const Heading = ({ children }: { children: string }) => (
  <Typography variant="h6" component="h3" sx={{ mt: 2 }}>
    {children}
  </Typography>
);

/** Every qualification record of a unit, newest first, with where each stands now. */
export function QualificationRecords({ unit, notes = false }: { unit: Pick<MarketUnit, 'id' | 'name'>; notes?: boolean }) {
  const records = useList<Qualification>(`/market-units/${encodeURIComponent(unit.id)}/qualifications`);
  if (records.error) return <Alert severity="error">{records.error}</Alert>;
  if (!records.items) return <Typography>Loading…</Typography>;
  if (records.items.length === 0) return <Typography>No qualification recorded yet.</Typography>;
  return (
    <Box sx={{ overflowX: 'auto' }} tabIndex={0}>
      <Table size="small" aria-label={`Qualifications of ${unit.name}`}>
        <TableHead>
          <TableRow>
            <TableCell>Product</TableCell>
            <TableCell>Outcome</TableCell>
            <TableCell>Valid from</TableCell>
            <TableCell>Valid to</TableCell>
            <TableCell>Now</TableCell>
            <TableCell>Reference</TableCell>
            {notes ? <TableCell>Reason or notes</TableCell> : null}
            <TableCell>System Operator</TableCell>
            <TableCell>Recorded</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {records.items.map((q) => (
            <TableRow key={q.id}>
              <TableCell>{q.productId}</TableCell>
              <TableCell>{q.outcome}</TableCell>
              <TableCell>{when(q.validFrom)}</TableCell>
              <TableCell>{when(q.validTo)}</TableCell>
              <TableCell>{standing(q)}</TableCell>
              <TableCell>{q.reference ?? '—'}</TableCell>
              {notes ? <TableCell>{q.notes ?? '—'}</TableCell> : null}
              <TableCell>
                <code>{q.systemOperatorId}</code>
              </TableCell>
              <TableCell>{when(q.recordedAt)}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Box>
  );
}

/** What changed from one version to the next: composition, name, type, FSP, status. */
export function changes(older: MarketUnit | undefined, v: MarketUnit): string {
  if (!older) return 'registered';
  const out: string[] = [];
  const added = v.assetIds.filter((a) => !older.assetIds.includes(a));
  const removed = older.assetIds.filter((a) => !v.assetIds.includes(a));
  if (added.length) out.push(`added ${added.join(', ')}`);
  if (removed.length) out.push(`removed ${removed.join(', ')}`);
  for (const f of ['name', 'type', 'fspId', 'status'] as const) if (older[f] !== v[f]) out.push(`${f} ${older[f]} → ${v[f]}`);
  if (older.reassessmentRequired !== v.reassessmentRequired)
    out.push(v.reassessmentRequired ? 're-assessment required' : 're-assessment cleared');
  return out.join('; ') || 'no change to these fields';
}

export function UnitLifecycle(props: { unit: MarketUnit; write: boolean; change: (a: () => Promise<Outcome>) => Promise<void> }) {
  const { unit } = props;
  const base = `/market-units/${encodeURIComponent(unit.id)}`;
  const opportunities = useList<Opportunity>(`${base}/opportunities`);
  const history = useList<MarketUnit>(`${base}/history`);
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const [refused, setRefused] = useState<Outcome>();
  // At the version read: a change by someone else meanwhile is refused (412), not overwritten.
  const deregister = async () => {
    setRefused(undefined);
    try {
      const u = await api<MarketUnit>(`${base}${query({ reason: reason.trim() || undefined })}`, {
        method: 'DELETE',
        headers: { 'if-match': `"${unit.version}"` },
      });
      setConfirming(false);
      await props.change(async () => ({
        severity: 'success',
        text: `${u.name} is de-registered (version ${u.version}); its assets stay registered. It is listed under de-registered.`,
      }));
    } catch (e) {
      setRefused({ severity: 'error', text: explain(e) });
    }
  };
  const versions = history.items ?? [];
  return (
    <>
      <Heading>Opportunities</Heading>
      <Typography variant="body2" gutterBottom>
        Products related by an equivalence to a product the unit is qualified for now, that it is not yet qualified for: each product&apos;s
        System Operator may record a qualification for it.
      </Typography>
      {opportunities.error ? <Alert severity="error">{opportunities.error}</Alert> : null}
      {opportunities.items && opportunities.items.length === 0 ? <Typography>No opportunity now.</Typography> : null}
      {opportunities.items && opportunities.items.length > 0 ? (
        <Box sx={{ overflowX: 'auto' }} tabIndex={0}>
          <Table size="small" aria-label={`Opportunities of ${unit.name}`}>
            <TableHead>
              <TableRow>
                <TableCell>Product</TableCell>
                <TableCell>Market</TableCell>
                <TableCell>Service</TableCell>
                <TableCell>Through its qualification for</TableCell>
                <TableCell>Equivalence</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {opportunities.items.map((o) => (
                <TableRow key={`${o.product.id}-${o.equivalenceId}`}>
                  <TableCell>
                    {o.product.id}: {o.product.name}
                  </TableCell>
                  <TableCell>{o.product.market}</TableCell>
                  <TableCell>{o.product.serviceType}</TableCell>
                  <TableCell>{o.viaProductId}</TableCell>
                  <TableCell>{o.kind === 'EQUIVALENT' ? 'equivalent' : 'substitutable'}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
      ) : null}
      <Heading>History</Heading>
      {history.error ? <Alert severity="error">{history.error}</Alert> : null}
      {versions.length ? (
        <Box sx={{ overflowX: 'auto' }} tabIndex={0}>
          <Table size="small" aria-label={`Versions of ${unit.name}, newest first`}>
            <TableHead>
              <TableRow>
                <TableCell>Version</TableCell>
                <TableCell>Recorded</TableCell>
                <TableCell>Status</TableCell>
                <TableCell>Type</TableCell>
                <TableCell>Assets</TableCell>
                <TableCell>What changed</TableCell>
                <TableCell>By</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {versions.map((v, i) => (
                <TableRow key={v.version}>
                  <TableCell>{v.version}</TableCell>
                  <TableCell>{when(v.recordedAt)}</TableCell>
                  <TableCell>{v.status}</TableCell>
                  <TableCell>{v.type}</TableCell>
                  <TableCell>{v.assetIds.length}</TableCell>
                  <TableCell sx={{ wordBreak: 'break-word' }}>{changes(versions[i + 1], v)}</TableCell>
                  <TableCell>
                    <code>{v.recordedBy}</code>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
      ) : null}
      {props.write ? (
        <Box component="section" aria-label={`De-register ${unit.name}`} sx={{ mt: 2 }}>
          {!confirming ? (
            <Button color="error" variant="outlined" onClick={() => setConfirming(true)} aria-label={`De-register ${unit.name}`}>
              De-register
            </Button>
          ) : (
            <Stack spacing={1}>
              <Typography variant="body2">
                De-registering ends {unit.name} (it is kept, with its history, under de-registered); its assets stay registered. It is
                refused while a confirmed contract or an active qualification holds the unit.
              </Typography>
              <TextField
                size="small"
                label="Reason (optional)"
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                slotProps={{ htmlInput: { maxLength: 500 } }}
                sx={{ maxWidth: 560 }}
              />
              <Stack direction="row" spacing={1}>
                <Button color="error" variant="contained" onClick={() => void deregister()}>
                  Confirm: de-register {unit.name}
                </Button>
                <Button onClick={() => (setConfirming(false), setRefused(undefined))}>Keep it</Button>
              </Stack>
            </Stack>
          )}
          <OutcomeAlert outcome={refused} />
        </Box>
      ) : null}
    </>
  );
}
