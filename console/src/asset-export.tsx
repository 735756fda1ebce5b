import { useState } from 'react';
import { useListContext } from 'react-admin';
import { Alert, Button, Stack } from '@mui/material';
import { api, query } from './api';
import { download } from './operator';
import { explain } from './problem';

/**
 * The asset list as a file (GET /api/v1/assets/export, CSV or NDJSON), with the list's filters. The
 * export has no identifier filter: with one set, the buttons are off and say so.
 */
export function ExportButtons() {
  const { filterValues } = useListContext();
  const [state, setState] = useState<{ busy?: boolean; done?: string; error?: string }>({});
  const f = filterValues as Record<string, string | undefined>;
  const byIdentifier = Boolean(f.identifier);
  const run = async (format: 'csv' | 'ndjson') => {
    setState({ busy: true });
    try {
      const { category, status, dno, gspGroup, organisationId, fspId } = f;
      const text = await api<string>(`/assets/export${query({ format, category, status, dno, gspGroup, organisationId, fspId })}`);
      download(new Blob([text], { type: format === 'csv' ? 'text/csv' : 'application/x-ndjson' }), `assets.${format}`);
      const rows = text.split('\n').filter(Boolean).length - (format === 'csv' ? 1 : 0);
      setState({ done: `Downloaded assets.${format}: ${rows} assets.` });
    } catch (e) {
      setState({ error: explain(e) });
    }
  };
  return (
    <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
      {state.error ? (
        <Alert severity="error" role="alert">
          {state.error}
        </Alert>
      ) : state.done ? (
        <Alert severity="success" role="status">
          {state.done}
        </Alert>
      ) : byIdentifier ? (
        <Alert severity="info">The export cannot filter by identifier: clear it to export.</Alert>
      ) : null}
      <Button size="small" variant="outlined" onClick={() => void run('csv')} disabled={state.busy || byIdentifier}>
        Export CSV
      </Button>
      <Button size="small" variant="outlined" onClick={() => void run('ndjson')} disabled={state.busy || byIdentifier}>
        Export NDJSON
      </Button>
    </Stack>
  );
}
