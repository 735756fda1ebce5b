import { useState } from 'react';
import { Alert, Box, Button, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import type { DataShare } from '../../src/sharing/schema';
import type { Organisation } from '../../src/organisations/schema';
import type { Asset } from '../../src/assets/schema';
import { useList } from './outcome';
import { when } from './problem';
import { Section } from './section';
import { reach, useRead, type useNames } from './share-tables';

type Names = ReturnType<typeof useNames>;

/** One pull through a share, as its owner sees it (GET /data-shares/{id}/pulls; DataRead in the API). */
interface Pull {
  id: string;
  occurredAt: string;
  action: string;
  route: string | null;
  reader: { organisationId: string | null; subject: string | null; clientId: string | null };
  records: number;
  recordIds?: string[];
}

/** Every pull through a share, oldest first: who pulled what, when. */
export function SharePulls({ share, names }: { share: DataShare; names: Names }) {
  const { value, error } = useRead<{ items: Pull[] }>(`/data-shares/${encodeURIComponent(share.id)}/pulls?limit=1000`);
  const name = names.of(share.recipientId);
  if (error) return <Alert severity="error">{error}</Alert>;
  if (!value) return <Typography role="status">Reading the pulls…</Typography>;
  if (!value.items.length) return <Typography>{name} has pulled nothing through this share.</Typography>;
  return (
    <Table size="small" aria-label={`Pulls through the share with ${name}`}>
      <TableHead>
        <TableRow>
          <TableCell>When</TableCell>
          <TableCell>Who</TableCell>
          <TableCell>What</TableCell>
          <TableCell>Records</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {value.items.map((p) => (
          <TableRow key={p.id}>
            <TableCell>{when(p.occurredAt)}</TableCell>
            <TableCell>
              {p.reader.organisationId ? names.of(p.reader.organisationId) : '—'}
              {p.reader.clientId ? (
                <>
                  {' '}
                  (client <code>{p.reader.clientId}</code>)
                </>
              ) : null}
            </TableCell>
            <TableCell>{p.action === 'organisation.passport-read' ? 'the passport' : 'assets'}</TableCell>
            <TableCell sx={{ wordBreak: 'break-all' }}>
              {p.records}
              {p.action !== 'organisation.passport-read' && p.recordIds?.length ? `: ${p.recordIds.join(', ')}` : ''}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** A value of the passport in words: nested parts flattened into "part: value" lines. */
function flatten(v: unknown, prefix = ''): [string, string][] {
  if (v === null || v === undefined) return [];
  if (typeof v !== 'object') return [[prefix, String(v)]];
  if (Array.isArray(v)) return v.flatMap((x, i) => flatten(x, `${prefix} ${i + 1}`));
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => flatten(x, prefix ? `${prefix} › ${k}` : k));
}

/** The shares made to this platform, and what it pulls through one: the passport and the assets shared. */
export function SharedWithUs({ names }: { names: Names }) {
  const { items, error } = useList<DataShare>('/data-shares?role=recipient&limit=1000');
  const [pull, setPull] = useState<{ share: DataShare; what: 'passport' | 'assets'; n: number }>();
  const path = pull
    ? `/data-shares/${encodeURIComponent(pull.share.id)}/${pull.what === 'passport' ? 'passport' : 'assets?limit=1000'}#${pull.n}`
    : undefined;
  return (
    <Section title="Shared with us">
      <Typography variant="body2" gutterBottom>
        What organisations let this platform pull, and for when. Each pull is logged for the organisation that shared.
      </Typography>
      {error ? <Alert severity="error">{error}</Alert> : null}
      {items && items.length === 0 ? <Typography>No organisation shares its data with this one.</Typography> : null}
      {items && items.length > 0 ? (
        <Box sx={{ overflowX: 'auto' }} tabIndex={0}>
          <Table size="small" aria-label="Data shares made to this platform">
            <TableHead>
              <TableRow>
                <TableCell>Organisation</TableCell>
                <TableCell>Shares</TableCell>
                <TableCell>From</TableCell>
                <TableCell>To</TableCell>
                <TableCell>State</TableCell>
                <TableCell>Pull</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {items.map((s) => {
                const name = names.of(s.ownerId);
                return (
                  <TableRow key={s.id}>
                    <TableCell>{name}</TableCell>
                    <TableCell>{reach(s)}</TableCell>
                    <TableCell>{when(s.validFrom)}</TableCell>
                    <TableCell>{when(s.validTo)}</TableCell>
                    <TableCell>{s.state}</TableCell>
                    <TableCell sx={{ whiteSpace: 'nowrap' }}>
                      <Button
                        size="small"
                        onClick={() => setPull({ share: s, what: 'passport', n: (pull?.n ?? 0) + 1 })}
                        aria-label={`Pull the passport of ${name}`}
                      >
                        Passport
                      </Button>
                      {s.assets !== 'NONE' ? (
                        <Button
                          size="small"
                          onClick={() => setPull({ share: s, what: 'assets', n: (pull?.n ?? 0) + 1 })}
                          aria-label={`Pull the assets of ${name}`}
                        >
                          Assets
                        </Button>
                      ) : null}
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        </Box>
      ) : null}
      {pull && path ? <Pulled key={path} path={path.replace(/#\d+$/, '')} what={pull.what} name={names.of(pull.share.ownerId)} /> : null}
    </Section>
  );
}

/** What one pull served: the passport as a list of facts, or the assets as a table; a refusal with its rule code. */
function Pulled({ path, what, name }: { path: string; what: 'passport' | 'assets'; name: string }) {
  const { value, error } = useRead<Organisation | { items: Asset[] }>(path);
  const title = what === 'passport' ? `The passport of ${name}` : `The assets ${name} shares`;
  return (
    <Box component="section" aria-label={title} sx={{ mt: 2 }}>
      <Typography variant="h6" component="h3" gutterBottom>
        {title}
      </Typography>
      {error ? (
        <Alert severity="error" role="alert">
          {error}
        </Alert>
      ) : null}
      {!value && !error ? <Typography role="status">Pulling…</Typography> : null}
      {value && what === 'passport' ? <Passport org={value as Organisation} /> : null}
      {value && what === 'assets' ? <Assets items={(value as { items: Asset[] }).items} name={name} /> : null}
    </Box>
  );
}

function Passport({ org }: { org: Organisation }) {
  const facts: [string, string][] = [
    ['Legal name', org.legalName],
    ['Registration number', org.registrationNumber],
    ['Roles', org.roles.join(', ')],
    ...flatten(org.passport ?? {}),
  ];
  return (
    <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: 2, rowGap: 0.5, m: 0 }}>
      {facts.map(([k, v]) => (
        <Box key={k} sx={{ display: 'contents' }}>
          <Box component="dt" sx={{ fontWeight: 600 }}>
            {k}
          </Box>
          <Box component="dd" sx={{ m: 0, wordBreak: 'break-word' }}>
            {v}
          </Box>
        </Box>
      ))}
    </Box>
  );
}

function Assets({ items, name }: { items: Asset[]; name: string }) {
  if (!items.length) return <Typography>{name} shares no asset now.</Typography>;
  return (
    <Table size="small" aria-label={`Assets ${name} shares`}>
      <TableHead>
        <TableRow>
          <TableCell>FMAR ID</TableCell>
          <TableCell>Name</TableCell>
          <TableCell>Category</TableCell>
          <TableCell>Status</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {items.map((a) => (
          <TableRow key={a.id}>
            <TableCell>
              <code>{a.id}</code>
            </TableCell>
            <TableCell>{a.name}</TableCell>
            <TableCell>{a.category}</TableCell>
            <TableCell>{a.status}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
