import { useEffect, useState, type ReactNode } from 'react';
import { useRecordContext } from 'react-admin';
import { Alert, Box, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import type { Asset } from '../../src/assets/schema';
import type { Dispute } from '../../src/disputes/schema';
import type { VenRegistration } from '../../src/openadr/schema';
import type { Advisory, Finding } from '../../src/quality/schema';
import type { MarketUnit } from '../../src/units/schema';
import { api, query } from './api';
import { More, usePaged } from './paged';
import { explain, when } from './problem';
import { useSession } from './session';

/**
 * What else the register holds about one asset, each part read by the API's own per-asset route:
 * its FSP links, data-quality findings and advisories, disputes, market units and VEN registrations.
 * A part the person's scopes do not reach is left out; a refused read shows the problem's code and detail.
 */

interface FspLink {
  fspId: string;
  validFrom: string;
  validTo: string | null;
  recordedAt: string;
}
type Findings = { score: number | null; advisories: Advisory[]; items: Finding[]; nextCursor: string | null };

/** A paged list as a panel reads it: its rows once the first page came, or its refusal. */
const shown = <L extends { items?: unknown[]; error?: string }>(list: L) => ({ data: list.items ? list : undefined, error: list.error });

/** One read of the API for a panel: its answer or its refusal explained. */
function useRead<T>(path: string | undefined) {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  useEffect(() => {
    if (!path) return;
    api<T>(path).then(
      (data) => setState({ data }),
      (e: unknown) => setState({ error: explain(e) }),
    );
  }, [path]);
  return state;
}

function Panel<T>({ title, read, children }: { title: string; read: { data?: T; error?: string }; children: (data: T) => ReactNode }) {
  return (
    <Box component="section" aria-label={title} sx={{ mt: 2 }}>
      <Typography variant="h6" component="h2">
        {title}
      </Typography>
      {read.error ? (
        <Alert severity="error" role="alert">
          {read.error}
        </Alert>
      ) : read.data === undefined ? (
        <Typography>Loading…</Typography>
      ) : (
        children(read.data)
      )}
    </Box>
  );
}

function Rows({ label, head, rows, none }: { label: string; head: string[]; rows: ReactNode[][]; none: string }) {
  if (!rows.length) return <Typography>{none}</Typography>;
  return (
    <Box sx={{ overflowX: 'auto' }} tabIndex={0} role="region" aria-label={label}>
      <Table size="small" aria-label={label}>
        <TableHead>
          <TableRow>
            {head.map((h) => (
              <TableCell key={h}>{h}</TableCell>
            ))}
          </TableRow>
        </TableHead>
        <TableBody>
          {rows.map((r, i) => (
            <TableRow key={i}>
              {r.map((c, k) => (
                <TableCell key={k}>{c}</TableCell>
              ))}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Box>
  );
}

export function AssetPanels() {
  const record = useRecordContext<Asset>();
  const s = useSession();
  const id = record ? encodeURIComponent(record.id) : undefined;
  const may = (scope: string) => Boolean(id && s?.can(scope));
  const links = useRead<{ items: FspLink[] }>(id && `/assets/${id}/fsp-links`);
  const findings = usePaged<Finding, Findings>(may('data-quality:read') ? `/assets/${id}/findings${query({ limit: 100 })}` : undefined);
  const disputes = usePaged<Dispute>(
    may('disputes:read') ? `/disputes${query({ recordType: 'asset', recordId: record?.id, limit: 100 })}` : undefined,
  );
  const units = usePaged<MarketUnit>(may('market-units:read') ? `/market-units${query({ assetId: record?.id, limit: 100 })}` : undefined);
  const vens = useRead<{ items: (VenRegistration & { boundToAsset: boolean })[] }>(
    may('openadr:read') ? `/assets/${id}/ven-registrations?include=expired&include=suspended&include=refused` : undefined,
  );
  if (!record) return null;
  return (
    <>
      <Panel title="FSP links" read={links}>
        {(d) => (
          <Rows
            label="FSPs that controlled this asset"
            head={['FSP', 'From', 'To', 'Recorded']}
            rows={d.items.map((l) => [l.fspId, when(l.validFrom), when(l.validTo), when(l.recordedAt)])}
            none="No FSP link."
          />
        )}
      </Panel>
      {may('data-quality:read') ? (
        <Panel title="Data quality" read={shown(findings)}>
          {(d) => (
            <>
              <Typography role="status">
                Score {d.first?.score ?? '—'}: {d.items?.length} open findings{d.hasMore ? ' shown so far' : ''},{' '}
                {d.first?.advisories.length ?? 0} advisories.
              </Typography>
              <Rows
                label="Open findings on this asset"
                head={['Rule', 'Severity', 'Detail', 'Opened']}
                rows={(d.items ?? []).map((f) => [f.ruleCode, f.severity, f.detail, when(f.openedAt)])}
                none="No open finding."
              />
              <More list={d} what="open findings" />
              <Rows
                label="Advisories on this asset"
                head={['Rule', 'Advice']}
                rows={(d.first?.advisories ?? []).map((a) => [a.ruleCode, a.description])}
                none="No advisory."
              />
            </>
          )}
        </Panel>
      ) : null}
      {may('disputes:read') ? (
        <Panel title="Disputes" read={shown(disputes)}>
          {(d) => (
            <>
              <Rows
                label="Disputes on this asset"
                head={['Dispute', 'Status', 'Fields', 'Claim', 'Raised']}
                rows={(d.items ?? []).map((x) => [x.id, x.status, x.fields.join(', '), x.claim.summary, when(x.raisedAt)])}
                none="No dispute on this asset."
              />
              <More list={d} what="disputes" />
            </>
          )}
        </Panel>
      ) : null}
      {may('market-units:read') ? (
        <Panel title="Market units" read={shown(units)}>
          {(d) => (
            <>
              <Rows
                label="Market units this asset is in"
                head={['Name', 'Type', 'Product', 'Assets', 'Status']}
                rows={(d.items ?? []).map((u) => [u.name, u.type, u.product, u.assetIds.length, u.status])}
                none="In no active market unit."
              />
              <More list={d} what="market units" />
            </>
          )}
        </Panel>
      ) : null}
      {may('openadr:read') ? (
        <Panel title="VEN registrations" read={vens}>
          {(d) => (
            <Rows
              label="VEN registrations behind this asset"
              head={['VTN', 'VEN ID', 'VEN name', 'Status', 'In force', 'Binds']}
              rows={d.items.map((v) => [
                v.vtnCode,
                v.venId,
                v.venName,
                v.status,
                v.inForce ? 'yes' : 'no',
                v.boundToAsset ? 'this asset' : 'every asset of its FSP',
              ])}
              none="No VEN registration behind this asset."
            />
          )}
        </Panel>
      ) : null}
    </>
  );
}
