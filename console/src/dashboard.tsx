import { Suspense, lazy, useEffect, useState } from 'react';
import { Alert, Card, CardContent, Grid, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import { Title } from 'react-admin';
import { api } from './api';
import { useSession } from './session';

export interface SummaryRow {
  status: string;
  category: string;
  assets: number;
  ratedCapacityKw: number;
}
interface Scorecard {
  assets: number;
  averageScore: number | null;
  openFindings: { ERROR: number; WARNING: number; INFO: number };
}

// Recharts loads with the dashboard only, not with the asset list.
const CategoryChart = lazy(() => import('./category-chart'));

function by<K extends keyof SummaryRow>(rows: SummaryRow[], key: K): [string, number, number][] {
  const m = new Map<string, [number, number]>();
  for (const r of rows) {
    const v = m.get(String(r[key])) ?? [0, 0];
    m.set(String(r[key]), [v[0] + r.assets, v[1] + r.ratedCapacityKw]);
  }
  return [...m.entries()].map(([k, [n, kw]]) => [k, n, kw]);
}

function CountTable({ title, rows }: { title: string; rows: [string, number, number][] }) {
  return (
    <Table size="small" aria-label={title}>
      <TableHead>
        <TableRow>
          <TableCell>{title}</TableCell>
          <TableCell align="right">Assets</TableCell>
          <TableCell align="right">Rated kW</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {rows.map(([k, n, kw]) => (
          <TableRow key={k}>
            <TableCell>{k}</TableCell>
            <TableCell align="right">{n.toLocaleString('en-GB')}</TableCell>
            <TableCell align="right">{kw.toLocaleString('en-GB')}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** The FSP's dashboard: its assets by status and category (GET /assets/summary), its data quality scorecard. */
export function Dashboard() {
  const s = useSession();
  const [rows, setRows] = useState<SummaryRow[]>();
  const [score, setScore] = useState<Scorecard>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!s?.can('assets:read')) return;
    api<{ items: SummaryRow[] }>('/assets/summary').then(
      (r) => setRows(r.items),
      (e: Error) => setError(e.message),
    );
    // An organisation's own scorecard is for those that control or own assets; a DNO reads its areas' (docs/data-quality.md).
    if (s.can('data-quality:read') && s.organisation?.roles.some((r) => r === 'FSP' || r === 'AGGREGATOR' || r === 'ASSET_OWNER'))
      api<Scorecard>(`/data-quality/scorecards/organisations/${encodeURIComponent(s.organisationId)}`).then(setScore, () => undefined);
  }, [s]);
  const total = rows?.reduce((n, r) => n + r.assets, 0) ?? 0;
  return (
    <Card>
      <Title title="Dashboard" />
      <CardContent>
        <Typography variant="h5" component="h1" gutterBottom>
          {s?.organisation?.legalName ?? 'Your organisation'}
        </Typography>
        <Typography gutterBottom>
          Roles: {s?.organisation?.roles.join(', ') ?? '…'} · you are {s?.userRole ?? '…'}
          {s?.email ? ` (${s.email})` : ''}
        </Typography>
        {!s?.can('assets:read') ? <Alert severity="info">Your role does not read assets.</Alert> : null}
        {error ? <Alert severity="error">{error}</Alert> : null}
        {rows ? (
          <Grid container spacing={3}>
            <Grid size={{ xs: 12, md: 6 }}>
              <Typography variant="h6" component="h2">
                {total.toLocaleString('en-GB')} assets
              </Typography>
              <CountTable title="Status" rows={by(rows, 'status')} />
              <CountTable title="Category" rows={by(rows, 'category')} />
              {score ? (
                <Typography sx={{ mt: 2 }}>
                  Data quality score {score.averageScore ?? '—'}; open findings: {score.openFindings.ERROR} errors,{' '}
                  {score.openFindings.WARNING} warnings, {score.openFindings.INFO} advisories.
                </Typography>
              ) : null}
            </Grid>
            <Grid size={{ xs: 12, md: 6 }}>
              <Suspense fallback={<Typography>Loading chart…</Typography>}>
                <CategoryChart data={by(rows, 'category').map(([category, assets, kw]) => ({ category, assets, kw }))} />
              </Suspense>
            </Grid>
          </Grid>
        ) : null}
      </CardContent>
    </Card>
  );
}
