import { useState, type FormEvent } from 'react';
import { useRecordContext } from 'react-admin';
import { Alert, Box, Button, Stack, Table, TableBody, TableCell, TableRow, TextField, Typography } from '@mui/material';
import type { Asset } from '../../src/assets/schema';
import { api, query } from './api';
import { explain, when } from './problem';

/** The fields the as-of view shows, in the order of the asset's details. */
const FIELDS: [keyof Asset, string][] = [
  ['name', 'Name'],
  ['category', 'Category'],
  ['status', 'Status'],
  ['ratedCapacityKw', 'Rated capacity (kW)'],
  ['connectionStatus', 'Connection'],
  ['dno', 'DNO'],
  ['importMpan', 'Import MPAN'],
  ['exportMpan', 'Export MPAN'],
  ['fspId', 'FSP'],
];

/**
 * An asset as it was at a chosen time (GET /api/v1/assets/{id}?asOf=): the version in force then.
 * A time before the asset was registered is the API's ASSET-AS-OF-BEFORE-REGISTRATION, shown as it says.
 */
export function AsOfView() {
  const record = useRecordContext<Asset>();
  const [at, setAt] = useState('');
  const [shown, setShown] = useState<{ at: string; asset: Asset }>();
  const [error, setError] = useState<string>();
  if (!record) return null;
  const look = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setShown(undefined);
    try {
      const asked = at.trim();
      setShown({ at: asked, asset: await api<Asset>(`/assets/${encodeURIComponent(record.id)}${query({ asOf: asked })}`) });
    } catch (x) {
      setError(explain(x));
    }
  };
  return (
    <Box>
      <Box component="form" onSubmit={(e) => void look(e)} aria-label="The asset as of a time">
        <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
          <TextField
            size="small"
            label="As of (RFC 3339, e.g. 2026-01-31T12:00:00Z)"
            value={at}
            onChange={(e) => setAt(e.target.value)}
            required
            sx={{ minWidth: 380 }}
          />
          <Button type="submit" variant="outlined">
            Show as of
          </Button>
        </Stack>
      </Box>
      {error ? (
        <Alert severity="error" sx={{ mt: 1 }}>
          {error}
        </Alert>
      ) : null}
      {shown ? (
        <Box sx={{ mt: 1 }}>
          <Typography role="status">
            As of {when(shown.at)}: version {shown.asset.version}, recorded {when(shown.asset.recordedAt)}.
          </Typography>
          <Table size="small" aria-label={`The asset as of ${shown.at}`} sx={{ maxWidth: 640 }}>
            <TableBody>
              {FIELDS.map(([k, label]) => (
                <TableRow key={k}>
                  <TableCell component="th" scope="row">
                    {label}
                  </TableCell>
                  <TableCell>{String(shown.asset[k] ?? '—')}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
      ) : null}
    </Box>
  );
}
