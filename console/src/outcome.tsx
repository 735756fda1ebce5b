import { useCallback, useEffect, useState } from 'react';
import { Alert, Box, Typography } from '@mui/material';
import { api } from './api';

/**
 * What the console's own pages share (Team and access, Webhooks): a list read from the API and
 * read again after each change, and the answer to a change, with a secret or link shown once.
 */

/** A list read from the API, reloaded after each change; its error shown in place. */
export function useList<T>(path: string) {
  const [items, setItems] = useState<T[]>();
  const [error, setError] = useState<string>();
  const reload = useCallback(() => {
    api<{ items: T[] }>(path).then(
      (r) => {
        setItems(r.items);
        setError(undefined);
      },
      (e: Error) => setError(e.message),
    );
  }, [path]);
  useEffect(reload, [reload]);
  return { items, error, reload };
}

/** What the API answered to a change: a problem (its rule code and detail) or what was done. */
export type Outcome = { severity: 'success' | 'error'; text: string; secret?: { label: string; value: string } };

export function OutcomeAlert({ outcome }: { outcome?: Outcome }) {
  if (!outcome) return null;
  return (
    <Alert severity={outcome.severity} role={outcome.severity === 'error' ? 'alert' : 'status'} sx={{ my: 1 }}>
      {outcome.text}
      {outcome.secret ? (
        <Box sx={{ mt: 1 }}>
          <Typography variant="body2">{outcome.secret.label} (shown once: copy it now)</Typography>
          <Box component="code" data-testid="shown-once" sx={{ display: 'block', wordBreak: 'break-all', fontSize: 14, mt: 0.5 }}>
            {outcome.secret.value}
          </Box>
        </Box>
      ) : null}
    </Alert>
  );
}

export const run = async (set: (o: Outcome) => void, action: () => Promise<Outcome>) => {
  try {
    set(await action());
  } catch (e) {
    set({ severity: 'error', text: (e as Error).message });
  }
};
