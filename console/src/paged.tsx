import { useCallback, useEffect, useRef, useState } from 'react';
import { Box, Button, Typography } from '@mui/material';
import { api } from './api';
import { explain } from './problem';

/** A keyset page as the API answers it (docs/api-guide.md, "Paging"), with whatever else the first page carries. */
type Page<T> = { items: T[]; nextCursor: string | null };

const withCursor = (path: string, cursor: string) => `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`;

/**
 * A list read page by page with the API's cursors: the first page, then "More" appends the next
 * (its nextCursor), so every row of the list can be reached. A reload after a change reads again
 * as many pages as were shown, so a row opened beyond the first page stays in view. `first` is the
 * first page's whole answer (a list's other parts, such as an asset's score and advisories).
 */
export function usePaged<T, P extends Page<T> = Page<T>>(path: string | undefined) {
  const [state, setState] = useState<{ items?: T[]; first?: P; next: string | null; error?: string }>({ next: null });
  const [busy, setBusy] = useState(false);
  const pages = useRef(1);
  // Only the newest read for this path may set the state: an older answer (a filter changed meanwhile) is dropped.
  const generation = useRef(0);
  const read = useCallback(
    async (count: number) => {
      if (!path) return;
      const mine = ++generation.current;
      setBusy(true);
      try {
        const first = await api<P>(path);
        const items = [...first.items];
        let next = first.nextCursor;
        for (let n = 1; n < count && next; n++) {
          const page = await api<Page<T>>(withCursor(path, next));
          items.push(...page.items);
          next = page.nextCursor;
        }
        if (mine === generation.current) setState({ items, first, next });
      } catch (e) {
        if (mine === generation.current) setState((s) => ({ ...s, error: explain(e) }));
      } finally {
        if (mine === generation.current) setBusy(false);
      }
    },
    [path],
  );
  useEffect(() => {
    pages.current = 1;
    void read(1);
  }, [read]);
  const reload = useCallback(() => void read(pages.current), [read]);
  const more = useCallback(async () => {
    if (!path || !state.next) return;
    const mine = ++generation.current;
    setBusy(true);
    try {
      const page = await api<Page<T>>(withCursor(path, state.next));
      if (mine !== generation.current) return;
      pages.current += 1;
      setState((s) => ({ ...s, items: [...(s.items ?? []), ...page.items], next: page.nextCursor, error: undefined }));
    } catch (e) {
      if (mine === generation.current) setState((s) => ({ ...s, error: explain(e) }));
    } finally {
      if (mine === generation.current) setBusy(false);
    }
  }, [path, state.next]);
  return { items: state.items, first: state.first, error: state.error, hasMore: state.next !== null, busy, more, reload };
}

/** How many rows are shown, and "More" while the API has a next page. `what` names the rows, plural ("market units"). */
export function More({
  list,
  what,
}: {
  list: { items?: unknown[]; hasMore: boolean; busy: boolean; more: () => Promise<void> };
  what: string;
}) {
  if (!list.items?.length) return null;
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, mt: 1 }}>
      <Typography variant="body2" role="status">
        {list.items.length} {list.items.length === 1 ? what.replace(/s$/, '') : what} shown
        {list.hasMore ? ', more to come' : list.items.length === 1 ? ', the only one' : ', all of them'}.
      </Typography>
      {list.hasMore ? (
        <Button size="small" variant="outlined" disabled={list.busy} onClick={() => void list.more()} aria-label={`More ${what}`}>
          More
        </Button>
      ) : null}
    </Box>
  );
}
