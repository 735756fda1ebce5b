import { Suspense, lazy, useEffect, useState, type ReactNode } from 'react';
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
import type { DqRule, Scorecard, ScorecardHistory } from '../../src/quality/schema';
import { RuleForm } from './quality-rule';
import type { Organisation } from '../../src/organisations/schema';
import { api } from './api';
import { OutcomeAlert, run, useList, type Outcome } from './outcome';
import { useSession } from './session';

// Recharts loads with the pages that draw, not with the lists.
const BarFigure = lazy(() => import('./bar-figure'));
const LineFigure = lazy(() => import('./line-figure'));
const SEVERITIES = ['ERROR', 'WARNING', 'INFO'] as const;

function Section(props: { title: string; children: ReactNode }) {
  return (
    <Card component="section" aria-label={props.title} sx={{ mb: 3 }}>
      <CardContent>
        <Typography variant="h5" component="h2" gutterBottom>
          {props.title}
        </Typography>
        {props.children}
      </CardContent>
    </Card>
  );
}

/**
 * Data quality (docs/console.md, "Data quality"): the rules, and with `data-quality:write` (the
 * operator) a rule's severity changed or the rule deactivated and reactivated, each at the version
 * read (If-Match); for the operator and the regulator, the scorecards of every FSP and DNO area as
 * charts and tables, and one scorecard at a time over time (a line chart per day and its table).
 */
export function QualityPage() {
  const { permissions } = usePermissions<string[]>();
  const roles = useSession()?.organisation?.roles ?? [];
  const overseer = roles.some((r) => r === 'MARKET_FACILITATOR' || r === 'REGULATOR');
  return (
    <Box sx={{ p: 2 }}>
      <Title title="Data quality" />
      {overseer ? <Scorecards /> : null}
      <Rules write={!!permissions?.includes('data-quality:write')} />
    </Box>
  );
}

function Rules({ write }: { write: boolean }) {
  const { items, error, reload } = useList<DqRule>('/data-quality/rules');
  const [outcome, setOutcome] = useState<Outcome>();
  const [editing, setEditing] = useState<DqRule>();
  const patch = (r: DqRule, body: Partial<DqRule>, text: string) =>
    run(setOutcome, async () => {
      await api(`/data-quality/rules/${encodeURIComponent(r.code)}`, {
        method: 'PATCH',
        headers: { 'if-match': `"${r.version}"` },
        body: JSON.stringify(body),
      });
      reload();
      return { severity: 'success', text };
    });
  return (
    <Section title="Rules">
      <Typography variant="body2" gutterBottom>
        Every asset is checked against the active rules when it is registered or changes. ERROR and WARNING failures are findings (an ERROR
        puts a validated asset in Query), INFO failures advisories; each lowers the asset’s score by the rule’s weight. A change applies to
        each asset at its next evaluation; a deactivation closes the rule’s findings at once.
      </Typography>
      {error ? <Alert severity="error">{error}</Alert> : null}
      <OutcomeAlert outcome={outcome} />
      <Table size="small" aria-label="Data quality rules">
        <TableHead>
          <TableRow>
            <TableCell>Rule</TableCell>
            <TableCell>Description</TableCell>
            <TableCell>Kind</TableCell>
            <TableCell>Applies to</TableCell>
            <TableCell>Weight</TableCell>
            <TableCell>Severity</TableCell>
            <TableCell>State</TableCell>
            {write ? <TableCell>Action</TableCell> : null}
          </TableRow>
        </TableHead>
        <TableBody>
          {(items ?? []).map((r) => (
            <TableRow key={r.code}>
              <TableCell>
                <code>{r.code}</code>
              </TableCell>
              <TableCell>{r.description}</TableCell>
              <TableCell>{r.kind}</TableCell>
              <TableCell>{r.appliesTo.length ? r.appliesTo.join(', ') : 'all'}</TableCell>
              <TableCell>{r.weight}</TableCell>
              <TableCell>
                {write ? (
                  <TextField
                    select
                    size="small"
                    value={r.severity}
                    slotProps={{ htmlInput: { 'aria-label': `Severity of ${r.code}` } }}
                    onChange={(e) =>
                      void patch(r, { severity: e.target.value as DqRule['severity'] }, `${r.code} is now ${e.target.value}.`)
                    }
                  >
                    {SEVERITIES.map((s) => (
                      <MenuItem key={s} value={s}>
                        {s}
                      </MenuItem>
                    ))}
                  </TextField>
                ) : (
                  r.severity
                )}
              </TableCell>
              <TableCell>{r.active ? 'active' : 'inactive'}</TableCell>
              {write ? (
                <TableCell>
                  <Button size="small" aria-label={`Edit ${r.code}`} onClick={() => setEditing(r)}>
                    Edit
                  </Button>
                  <Button
                    size="small"
                    color={r.active ? 'error' : 'primary'}
                    aria-label={`${r.active ? 'Deactivate' : 'Reactivate'} ${r.code}`}
                    onClick={() =>
                      void patch(
                        r,
                        { active: !r.active },
                        r.active ? `${r.code} is deactivated: its findings are closed.` : `${r.code} is active again.`,
                      )
                    }
                  >
                    {r.active ? 'Deactivate' : 'Reactivate'}
                  </Button>
                </TableCell>
              ) : null}
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {write ? (
        <RuleForm
          rule={editing}
          onDone={() => {
            setEditing(undefined);
            reload();
          }}
          onCancel={() => setEditing(undefined)}
        />
      ) : null}
    </Section>
  );
}

interface Named {
  name: string;
  card: Scorecard;
}

/** What the history section offers: the scorecards read above, by their path under /data-quality/scorecards. */
interface Subject {
  label: string;
  path: string;
}

/** Every FSP's scorecard (GET /organisations?role=FSP, then one scorecard each) and every DNO area's. */
function Scorecards() {
  const [fsps, setFsps] = useState<Named[]>();
  const [dnos, setDnos] = useState<Named[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    (async () => {
      const orgs = await api<{ items: Organisation[] }>('/organisations?role=FSP&limit=100');
      setFsps(
        await Promise.all(
          orgs.items.map(async (o) => ({
            name: o.legalName,
            card: await api<Scorecard>(`/data-quality/scorecards/organisations/${encodeURIComponent(o.id)}`),
          })),
        ),
      );
      const codes = await api<{ items: { code: string; label: string }[] }>('/catalogues/dno-codes');
      const cards = await Promise.all(
        codes.items.map(async (c) => ({
          name: c.code,
          card: await api<Scorecard>(`/data-quality/scorecards/dnos/${encodeURIComponent(c.code)}`),
        })),
      );
      setDnos(cards.filter((c) => c.card.assets > 0));
    })().catch((e: Error) => setError(e.message));
  }, []);
  return (
    <>
      {error ? <Alert severity="error">{error}</Alert> : null}
      {fsps ? <ScorecardSection title="Scorecards of the FSPs" who="FSP" cards={fsps} /> : null}
      {dnos ? <ScorecardSection title="Scorecards of the DNO areas" who="DNO area" cards={dnos} /> : null}
      {fsps && dnos ? (
        <ScorecardHistorySection
          subjects={[
            ...fsps.map((f) => ({ label: `FSP ${f.name}`, path: `organisations/${encodeURIComponent(f.card.key)}` })),
            ...dnos.map((d) => ({ label: `DNO area ${d.name}`, path: `dnos/${encodeURIComponent(d.card.key)}` })),
          ]}
        />
      ) : null}
    </>
  );
}

function ScorecardSection({ title, who, cards }: { title: string; who: string; cards: Named[] }) {
  const data = cards.map((c) => ({
    name: c.name,
    score: c.card.averageScore,
    ERROR: c.card.openFindings.ERROR,
    WARNING: c.card.openFindings.WARNING,
    INFO: c.card.openFindings.INFO,
  }));
  return (
    <Section title={title}>
      <Stack direction={{ xs: 'column', lg: 'row' }} spacing={2}>
        <Box sx={{ flex: 1 }}>
          <Suspense fallback={<Typography>Loading chart…</Typography>}>
            <BarFigure
              caption={`Average data quality score (0–100) per ${who}`}
              data={data}
              xKey="name"
              domain={[0, 100]}
              series={[{ key: 'score', name: 'Average score', fill: '#1565c0' }]}
            />
          </Suspense>
        </Box>
        <Box sx={{ flex: 1 }}>
          <Suspense fallback={<Typography>Loading chart…</Typography>}>
            <BarFigure
              caption={`Open findings and advisories per ${who}`}
              data={data}
              xKey="name"
              stacked
              series={[
                { key: 'ERROR', name: 'Error', fill: '#b71c1c' },
                { key: 'WARNING', name: 'Warning', fill: '#e65100' },
                { key: 'INFO', name: 'Info (advisories)', fill: '#546e7a' },
              ]}
            />
          </Suspense>
        </Box>
      </Stack>
      <Table size="small" aria-label={title}>
        <TableHead>
          <TableRow>
            <TableCell>{who}</TableCell>
            <TableCell align="right">Assets</TableCell>
            <TableCell align="right">Average score</TableCell>
            <TableCell align="right">Errors</TableCell>
            <TableCell align="right">Warnings</TableCell>
            <TableCell align="right">Advisories</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {data.map((d, i) => (
            <TableRow key={d.name}>
              <TableCell>{d.name}</TableCell>
              <TableCell align="right">{cards[i].card.assets.toLocaleString('en-GB')}</TableCell>
              <TableCell align="right">{d.score ?? '—'}</TableCell>
              <TableCell align="right">{d.ERROR}</TableCell>
              <TableCell align="right">{d.WARNING}</TableCell>
              <TableCell align="right">{d.INFO}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Section>
  );
}

/** One scorecard over time (GET …/scorecards/{organisations|dnos}/{key}/history, the last 30 days): two line charts and a table of the same points. */
function ScorecardHistorySection({ subjects }: { subjects: Subject[] }) {
  const [path, setPath] = useState(subjects[0]?.path ?? '');
  const [history, setHistory] = useState<ScorecardHistory>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!path) return;
    setHistory(undefined);
    api<ScorecardHistory>(`/data-quality/scorecards/${path}/history`)
      .then(setHistory)
      .catch((e: Error) => setError(e.message));
  }, [path]);
  const label = subjects.find((s) => s.path === path)?.label ?? '';
  const data = (history?.items ?? []).map((p) => ({ day: p.day, score: p.averageScore, ...p.openFindings }));
  return (
    <Section title="Scorecards over time">
      <TextField select size="small" label="Scorecard" value={path} onChange={(e) => setPath(e.target.value)} sx={{ minWidth: 280, mb: 2 }}>
        {subjects.map((s) => (
          <MenuItem key={s.path} value={s.path}>
            {s.label}
          </MenuItem>
        ))}
      </TextField>
      {error ? <Alert severity="error">{error}</Alert> : null}
      {history ? (
        <>
          <Typography variant="body2" gutterBottom>
            One point per day, {history.from} to {history.to}.
          </Typography>
          {data.length ? (
            <Stack direction={{ xs: 'column', lg: 'row' }} spacing={2}>
              <Box sx={{ flex: 1 }}>
                <Suspense fallback={<Typography>Loading chart…</Typography>}>
                  <LineFigure
                    caption={`Average data quality score (0–100) of ${label} by day`}
                    data={data}
                    xKey="day"
                    domain={[0, 100]}
                    series={[{ key: 'score', name: 'Average score', fill: '#1565c0' }]}
                  />
                </Suspense>
              </Box>
              <Box sx={{ flex: 1 }}>
                <Suspense fallback={<Typography>Loading chart…</Typography>}>
                  <LineFigure
                    caption={`Open findings and advisories of ${label} by day`}
                    data={data}
                    xKey="day"
                    series={[
                      { key: 'ERROR', name: 'Error', fill: '#b71c1c' },
                      { key: 'WARNING', name: 'Warning', fill: '#e65100' },
                      { key: 'INFO', name: 'Info (advisories)', fill: '#546e7a' },
                    ]}
                  />
                </Suspense>
              </Box>
            </Stack>
          ) : (
            <Typography>No point recorded yet for {label}.</Typography>
          )}
          <Table size="small" aria-label={`${label} by day`}>
            <TableHead>
              <TableRow>
                <TableCell>Day</TableCell>
                <TableCell align="right">Assets</TableCell>
                <TableCell align="right">Average score</TableCell>
                <TableCell align="right">Errors</TableCell>
                <TableCell align="right">Warnings</TableCell>
                <TableCell align="right">Advisories</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {(history.items ?? []).map((p) => (
                <TableRow key={p.day}>
                  <TableCell>{p.day}</TableCell>
                  <TableCell align="right">{p.assets.toLocaleString('en-GB')}</TableCell>
                  <TableCell align="right">{p.averageScore ?? '—'}</TableCell>
                  <TableCell align="right">{p.openFindings.ERROR}</TableCell>
                  <TableCell align="right">{p.openFindings.WARNING}</TableCell>
                  <TableCell align="right">{p.openFindings.INFO}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </>
      ) : null}
    </Section>
  );
}

/** A table of GET /public/analytics/capacity (docs/analytics.md). */
interface Capacity {
  snapshotDate: string;
  cells: { dno?: string | null; gspGroup?: string | null; category?: string | null; assets: number; ratedCapacityKw: number }[];
  other: null | { suppressed: true; reason: string } | { cells: number; assets: number; ratedCapacityKw: number };
  total: { assets?: number; ratedCapacityKw?: number; suppressed?: boolean };
}
const DIMENSIONS = [
  { by: 'category', label: 'category' },
  { by: 'dno', label: 'DNO area' },
  { by: 'gspGroup', label: 'GSP group' },
] as const;

/** The public figures (no token: /public/analytics), published per UTC day with small cells suppressed. */
async function publicJson<T>(path: string): Promise<T> {
  const r = await fetch(path);
  const body = await r.json();
  if (!r.ok) throw new Error(`${body.code}: ${body.detail ?? body.title}`);
  return body as T;
}

/**
 * Public analytics (docs/console.md, "Analytics"): registered assets and rated capacity by
 * category, DNO area and GSP group for a snapshot day, as charts and tables. Anyone may read them.
 */
export function AnalyticsPage() {
  const [days, setDays] = useState<string[]>();
  const [date, setDate] = useState<string>();
  const [tables, setTables] = useState<Capacity[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    publicJson<{ items: { date: string }[] }>('/public/analytics/snapshots').then(
      (s) => {
        setDays(s.items.map((x) => x.date));
        // No snapshot yet: today's is taken by the first read of the figures.
        setDate(s.items[0]?.date ?? '');
      },
      (e: Error) => setError(e.message),
    );
  }, []);
  useEffect(() => {
    if (date === undefined) return;
    Promise.all(DIMENSIONS.map((d) => publicJson<Capacity>(`/public/analytics/capacity?by=${d.by}${date ? `&date=${date}` : ''}`))).then(
      (t) => (setTables(t), setError(undefined)),
      (e: Error) => setError(e.message),
    );
  }, [date]);
  const total = tables?.[0]?.total;
  return (
    <Box sx={{ p: 2 }}>
      <Title title="Analytics" />
      <Section title="Registered capacity">
        <Typography variant="body2" gutterBottom>
          The register’s public figures (<code>/public/analytics</code>): one snapshot per UTC day; a cell with fewer than the minimum
          number of assets, or dominated by one FSP, is not shown and counts in “other”.
        </Typography>
        {error ? <Alert severity="error">{error}</Alert> : null}
        {days?.length ? (
          <TextField select size="small" label="Snapshot day" value={date ?? ''} onChange={(e) => setDate(e.target.value)} sx={{ my: 1 }}>
            {days.map((d) => (
              <MenuItem key={d} value={d}>
                {d}
              </MenuItem>
            ))}
          </TextField>
        ) : null}
        {total ? (
          <Typography role="status" sx={{ my: 1 }}>
            {total.suppressed
              ? 'The grand total is suppressed on this day.'
              : `${(total.assets ?? 0).toLocaleString('en-GB')} registered assets, ${(total.ratedCapacityKw ?? 0).toLocaleString('en-GB')} kW rated.`}
          </Typography>
        ) : null}
      </Section>
      {tables?.map((t, i) => {
        const d = DIMENSIONS[i];
        const rows = t.cells.map((c) => ({ name: c[d.by] ?? 'not recorded', assets: c.assets, kw: c.ratedCapacityKw }));
        if (t.other && 'cells' in t.other) rows.push({ name: 'other', assets: t.other.assets, kw: t.other.ratedCapacityKw });
        return (
          <Section key={d.by} title={`By ${d.label}`}>
            {rows.length ? (
              <Suspense fallback={<Typography>Loading chart…</Typography>}>
                <BarFigure
                  caption={`Rated capacity (kW) by ${d.label}, ${t.snapshotDate}`}
                  data={rows}
                  xKey="name"
                  series={[{ key: 'kw', name: 'Rated kW', fill: '#1565c0' }]}
                />
              </Suspense>
            ) : (
              <Typography>
                No figure by {d.label} can be published for {t.snapshotDate}: each cell holds too few assets or is dominated by one FSP.
              </Typography>
            )}
            <Table size="small" aria-label={`Assets and capacity by ${d.label}`}>
              <TableHead>
                <TableRow>
                  <TableCell>{d.label}</TableCell>
                  <TableCell align="right">Assets</TableCell>
                  <TableCell align="right">Rated kW</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {rows.map((r) => (
                  <TableRow key={r.name}>
                    <TableCell>{r.name}</TableCell>
                    <TableCell align="right">{r.assets.toLocaleString('en-GB')}</TableCell>
                    <TableCell align="right">{r.kw.toLocaleString('en-GB')}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
            {t.other && 'suppressed' in t.other ? (
              <Typography variant="body2">The suppressed cells are not published together either (rule {t.other.reason}).</Typography>
            ) : null}
          </Section>
        );
      })}
    </Box>
  );
}
