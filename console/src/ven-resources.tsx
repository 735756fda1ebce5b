import { useState, type FormEvent } from 'react';
import { Alert, Box, Button, Card, CardContent, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import type { VenRegistration, VenResourceItem, VenResources } from '../../src/openadr/schema';
import { api } from './api';
import { AssetRefForm } from './asset-ref-form';
import { OutcomeAlert, type Outcome } from './outcome';
import { More, usePaged } from './paged';
import { attempt, when } from './problem';

const STANDS_FOR: Record<VenResources['standsFor'], string> = {
  RESOURCES: 'its resources: the assets bound to it below',
  EVERY_ASSET: 'every live asset its organisation controls (it has no resource of its own; binding one narrows it to its resources)',
  NOTHING: 'nothing: it is retired',
};

/**
 * The assets a VEN stands for (docs/openadr.md, "VEN resources"), through the public API only
 * (/ven-registrations/{id}/resources): its resources, or every asset of its organisation when it
 * has none. With `openadr:write`, on an OpenADR 3.x VEN still held: bind an asset (FMAR ID or
 * `mpan:…`) or remove one; the API's refusal shows its rule code and detail.
 */
export function VenResourcesPanel({ reg, write }: { reg: VenRegistration; write: boolean }) {
  const path = `/ven-registrations/${encodeURIComponent(reg.id)}/resources`;
  const list = usePaged<VenResourceItem, VenResources & { nextCursor: string | null }>(`${path}?limit=100`);
  const [outcome, setOutcome] = useState<Outcome>();
  const [asset, setAsset] = useState('');
  const may = write && reg.status !== 'CANCELLED' && reg.protocol !== '2.0b';
  const bound = list.first?.standsFor === 'RESOURCES';
  const change = async (action: () => Promise<Outcome>) => {
    await attempt(setOutcome, action);
    list.reload();
  };
  const add = (e: FormEvent) => {
    e.preventDefault();
    void change(async () => {
      const r = await api<VenResourceItem>(path, { method: 'POST', body: JSON.stringify({ asset: asset.trim() }) });
      setAsset('');
      return { severity: 'success', text: `${r.name} is a resource of ${reg.venName} on ${reg.vtnCode}, named ${r.resourceName}.` };
    });
  };
  const remove = (r: VenResourceItem) =>
    change(async () => {
      await api(`${path}/${encodeURIComponent(r.assetId)}`, { method: 'DELETE' });
      return { severity: 'success', text: `${r.name} is no longer a resource of ${reg.venName} on ${reg.vtnCode}.` };
    });
  const title = `Assets ${reg.venName} on ${reg.vtnCode} stands for`;
  return (
    <Card component="section" aria-label={title}>
      <CardContent>
        <Typography variant="h5" component="h2" gutterBottom>
          {title}
        </Typography>
        {list.error ? <Alert severity="error">{list.error}</Alert> : null}
        {list.first ? <Typography gutterBottom>It stands for {STANDS_FOR[list.first.standsFor]}.</Typography> : null}
        {list.items && list.items.length > 0 ? (
          <Box sx={{ overflowX: 'auto' }} tabIndex={0} role="region" aria-label={`${title}, table`}>
            <Table size="small" aria-label={title}>
              <TableHead>
                <TableRow>
                  <TableCell>Asset</TableCell>
                  <TableCell>Category</TableCell>
                  <TableCell>Import MPAN</TableCell>
                  <TableCell>Resource name</TableCell>
                  <TableCell>Bound</TableCell>
                  <TableCell>ID</TableCell>
                  {may && bound ? <TableCell>Action</TableCell> : null}
                </TableRow>
              </TableHead>
              <TableBody>
                {list.items.map((r) => (
                  <TableRow key={r.assetId}>
                    <TableCell>{r.name}</TableCell>
                    <TableCell>{r.category}</TableCell>
                    <TableCell>{r.importMpan ?? '—'}</TableCell>
                    <TableCell>{r.resourceName ?? '—'}</TableCell>
                    <TableCell>{when(r.boundAt, 'not bound')}</TableCell>
                    <TableCell>
                      <code>{r.assetId}</code>
                    </TableCell>
                    {may && bound ? (
                      <TableCell>
                        <Button
                          size="small"
                          color="error"
                          onClick={() => void remove(r)}
                          aria-label={`Remove ${r.name} from ${reg.venName}`}
                        >
                          Remove
                        </Button>
                      </TableCell>
                    ) : null}
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </Box>
        ) : list.items ? (
          <Typography>No asset.</Typography>
        ) : null}
        <More list={list} what="assets" />
        {may ? (
          <AssetRefForm
            name={`Bind an asset to ${reg.venName}`}
            label="Asset to bind (FMAR ID or mpan:…)"
            action="Bind"
            value={asset}
            onChange={setAsset}
            onSubmit={add}
          />
        ) : null}
        <OutcomeAlert outcome={outcome} />
      </CardContent>
    </Card>
  );
}
