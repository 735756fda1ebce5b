import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Title, usePermissions } from 'react-admin';
import {
  Alert,
  Box,
  Button,
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
import type { Asset } from '../../src/assets/schema';
import type { Product } from '../../src/products/schema';
import type { MarketUnit } from '../../src/units/schema';
import { api, query } from './api';
import { OutcomeAlert, useList, type Outcome } from './outcome';
import { QualificationRecords, UnitLifecycle, standing } from './unit-lifecycle';
import { More, usePaged } from './paged';
import { attempt } from './problem';
import { Section } from './section';
import { AssetRefForm } from './asset-ref-form';

/**
 * Market units (docs/console.md, "Market units"): the units the organisation may read, through the
 * public API only (/market-units). With `market-units:write`: create one (name, type, product, its
 * assets by FMAR ID or any identifier such as `mpan:…`), add or remove an asset (If-Match: the
 * version read). A unit's qualifications per product, with their validity and where they stand now;
 * its opportunities and versions, and its de-registration (unit-lifecycle.tsx). Recording a
 * qualification is the product's System Operator's (docs/products.md): its page is qualify.tsx.
 */
export function MarketUnitsPage() {
  const { permissions } = usePermissions<string[]>();
  const write = !!permissions?.includes('market-units:write');
  const [status, setStatus] = useState('ACTIVE');
  const units = usePaged<MarketUnit>(`/market-units${query({ status, limit: 100 })}`);
  const { items, error, reload } = units;
  const [outcome, setOutcome] = useState<Outcome>();
  const [open, setOpen] = useState<string>();
  const change = async (action: () => Promise<Outcome>) => {
    await attempt(setOutcome, action);
    reload();
  };
  const unit = items?.find((u) => u.id === open);
  return (
    <Box sx={{ p: 2, minWidth: 0 }}>
      <Title title="Market units" />
      <Stack spacing={3}>
        <Section title="Market units">
          <TextField
            select
            size="small"
            label="Status"
            value={status}
            onChange={(e) => setStatus(e.target.value)}
            sx={{ minWidth: 200, mb: 1 }}
          >
            <MenuItem value="ACTIVE">active</MenuItem>
            <MenuItem value="DEREGISTERED">de-registered</MenuItem>
          </TextField>
          {error ? <Alert severity="error">{error}</Alert> : null}
          {items && items.length === 0 ? <Typography>No market units.</Typography> : null}
          {items && items.length > 0 ? (
            <Box sx={{ overflowX: 'auto' }} tabIndex={0}>
              <Table size="small" aria-label="Market units of the organisation">
                <TableHead>
                  <TableRow>
                    <TableCell>Name</TableCell>
                    <TableCell>Type</TableCell>
                    <TableCell>Product</TableCell>
                    <TableCell>Assets</TableCell>
                    <TableCell>Qualifications</TableCell>
                    <TableCell>Re-assessment</TableCell>
                    <TableCell>Action</TableCell>
                  </TableRow>
                </TableHead>
                <TableBody>
                  {items.map((u) => (
                    <TableRow key={u.id} selected={u.id === open}>
                      <TableCell>{u.name}</TableCell>
                      <TableCell>{u.type}</TableCell>
                      <TableCell>{u.product}</TableCell>
                      <TableCell>{u.assetIds.length}</TableCell>
                      <TableCell>
                        {u.qualifications.length
                          ? u.qualifications.map((q) => `${q.productId} ${standing(q, true)}`).join(', ')
                          : 'none recorded'}
                      </TableCell>
                      <TableCell>{u.reassessmentRequired ? `required: ${u.reassessmentReason ?? ''}` : 'no'}</TableCell>
                      <TableCell>
                        <Button size="small" onClick={() => setOpen(u.id)} aria-label={`Open ${u.name}`}>
                          Open
                        </Button>
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </Box>
          ) : null}
          <More list={units} what="market units" />
          {!unit ? <OutcomeAlert outcome={outcome} /> : null}
        </Section>
        {unit ? <UnitDetail unit={unit} write={write && unit.status === 'ACTIVE'} change={change} outcome={outcome} /> : null}
        {write ? <CreateUnit onCreated={(id) => (setOpen(id), reload())} /> : null}
      </Stack>
    </Box>
  );
}

/** An asset by FMAR ID, or by any identifier (`mpan:…`, `serial:…`) among the assets the person can see. */
async function resolveAsset(ref: string): Promise<string> {
  const r = ref.trim();
  if (!r.includes(':')) return r;
  const page = await api<{ items: Asset[] }>(`/assets${query({ identifier: r, limit: 2 })}`);
  if (page.items.length !== 1)
    throw new Error(`${r}: ${page.items.length ? 'several assets' : 'no asset you can see'} has this identifier.`);
  return page.items[0].id;
}

function UnitDetail(props: { unit: MarketUnit; write: boolean; change: (a: () => Promise<Outcome>) => Promise<void>; outcome?: Outcome }) {
  const { unit, write, change } = props;
  const [add, setAdd] = useState('');
  const [assets, setAssets] = useState<Record<string, Asset>>({});
  useEffect(() => {
    // The members' names, read one by one (a unit of a few assets; the list shows IDs until they come).
    for (const id of unit.assetIds)
      if (!assets[id])
        api<Asset>(`/assets/${encodeURIComponent(id)}`).then(
          (a) => setAssets((m) => ({ ...m, [id]: a })),
          () => undefined,
        );
  }, [unit.assetIds, assets]);
  // The whole new composition, at the version read: a change by someone else meanwhile is refused (412), not overwritten.
  const patch = async (assetIds: string[], said: string): Promise<Outcome> => {
    const u = await api<MarketUnit>(`/market-units/${encodeURIComponent(unit.id)}`, {
      method: 'PATCH',
      headers: { 'if-match': `"${unit.version}"` },
      body: JSON.stringify({ assetIds }),
    });
    const n = `${u.assetIds.length} asset${u.assetIds.length === 1 ? '' : 's'}`;
    const again = u.reassessmentRequired ? ' Its System Operator must assess it again.' : '';
    return { severity: 'success', text: `${said} ${u.name} now has ${n} (version ${u.version}).${again}` };
  };
  const compose = (assetIds: string[], said: string) => change(() => patch(assetIds, said));
  const addAsset = (e: FormEvent) => {
    e.preventDefault();
    const ref = add.trim();
    void change(async () => {
      const out = await patch([...unit.assetIds, await resolveAsset(ref)], `Added ${ref}:`);
      setAdd('');
      return out;
    });
  };
  return (
    <Section title={`Market unit ${unit.name}`}>
      <Typography variant="body2" gutterBottom>
        {unit.type} for {unit.product}, {unit.status.toLowerCase()}, version {unit.version}. ID <code>{unit.id}</code>
      </Typography>
      <Typography variant="h6" component="h3" sx={{ mt: 1 }}>
        Assets
      </Typography>
      <Box sx={{ overflowX: 'auto' }} tabIndex={0}>
        <Table size="small" aria-label={`Assets of ${unit.name}`}>
          <TableHead>
            <TableRow>
              <TableCell>Asset</TableCell>
              <TableCell>Import MPAN</TableCell>
              <TableCell>Category</TableCell>
              <TableCell>ID</TableCell>
              {write ? <TableCell>Action</TableCell> : null}
            </TableRow>
          </TableHead>
          <TableBody>
            {unit.assetIds.map((id) => (
              <TableRow key={id}>
                <TableCell>{assets[id]?.name ?? '…'}</TableCell>
                <TableCell>{assets[id]?.importMpan ?? '—'}</TableCell>
                <TableCell>{assets[id]?.category ?? ''}</TableCell>
                <TableCell>
                  <code>{id}</code>
                </TableCell>
                {write ? (
                  <TableCell>
                    <Button
                      size="small"
                      color="error"
                      onClick={() =>
                        void compose(
                          unit.assetIds.filter((x) => x !== id),
                          `Removed ${assets[id]?.name ?? id}:`,
                        )
                      }
                      aria-label={`Remove ${assets[id]?.name ?? id} from ${unit.name}`}
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
      {write ? (
        <AssetRefForm
          name={`Add an asset to ${unit.name}`}
          label="Asset to add (FMAR ID or mpan:…)"
          action="Add"
          value={add}
          onChange={setAdd}
          onSubmit={addAsset}
        />
      ) : null}
      <OutcomeAlert outcome={props.outcome} />
      <Typography variant="h6" component="h3" sx={{ mt: 2 }}>
        Qualifications
      </Typography>
      <Typography variant="body2" gutterBottom>
        Recorded by the System Operator that owns each product; a later record for the same product supersedes the earlier one.
      </Typography>
      <QualificationRecords unit={unit} />
      <UnitLifecycle key={`${unit.id}-${unit.version}`} unit={unit} write={write} change={change} />
    </Section>
  );
}

function CreateUnit({ onCreated }: { onCreated: (id: string) => void }) {
  const products = useList<Product>(`/products${query({ status: 'ACTIVE', limit: 100 })}`);
  const [form, setForm] = useState({ name: '', type: 'SPU', product: '', assets: '' });
  const [outcome, setOutcome] = useState<Outcome>();
  // One Idempotency-Key per filled-in request: sent again unchanged (a lost answer), it cannot create twice; changed, it is a new request.
  const sent = useRef<{ body: string; key: string }>(undefined);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void attempt(setOutcome, async () => {
      const refs = form.assets.split(/[\s,]+/).filter(Boolean);
      const assetIds = await Promise.all(refs.map(resolveAsset));
      const body = JSON.stringify({ name: form.name, type: form.type, product: form.product, assetIds });
      if (sent.current?.body !== body) sent.current = { body, key: crypto.randomUUID() };
      const u = await api<MarketUnit & { warnings: { code: string; detail?: string }[] }>('/market-units', {
        method: 'POST',
        headers: { 'idempotency-key': sent.current.key },
        body,
      });
      sent.current = undefined;
      setForm({ name: '', type: 'SPU', product: '', assets: '' });
      onCreated(u.id);
      const warned = u.warnings.map((w) => `${w.code}${w.detail ? `: ${w.detail}` : ''}`).join('; ');
      return {
        severity: 'success',
        text: `${u.name} is registered: ${u.type} for ${u.product} with ${u.assetIds.length} assets.${warned ? ` Warning: ${warned}` : ''}`,
      };
    });
  };
  return (
    <Section title="Create a market unit">
      <Box component="form" onSubmit={submit} aria-label="Create a market unit">
        <Typography variant="body2" sx={{ mb: 1 }}>
          An SPU is one accounting point (every asset behind one import MPAN), an SPG several. Assets: FMAR IDs or identifiers such as{' '}
          <code>mpan:1300000000016</code>, separated by spaces or commas; every asset must be yours and on one DNO&apos;s network.
        </Typography>
        <Stack direction={{ xs: 'column', md: 'row' }} spacing={1}>
          <TextField
            label="Name"
            size="small"
            required
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
            sx={{ flex: 1, minWidth: 200 }}
          />
          <TextField
            select
            label="Type"
            size="small"
            value={form.type}
            onChange={(e) => setForm({ ...form, type: e.target.value })}
            sx={{ minWidth: 200 }}
          >
            <MenuItem value="SPU">SPU: one accounting point</MenuItem>
            <MenuItem value="SPG">SPG: several</MenuItem>
          </TextField>
          <TextField
            select
            label="Product"
            size="small"
            required
            value={form.product}
            onChange={(e) => setForm({ ...form, product: e.target.value })}
            sx={{ minWidth: 220 }}
          >
            {(products.items ?? []).map((p) => (
              <MenuItem key={p.id} value={p.id}>
                {p.id}: {p.name}
              </MenuItem>
            ))}
          </TextField>
        </Stack>
        <TextField
          label="Assets"
          size="small"
          required
          fullWidth
          margin="dense"
          value={form.assets}
          onChange={(e) => setForm({ ...form, assets: e.target.value })}
        />
        <Button type="submit" variant="contained" sx={{ mt: 1 }}>
          Create
        </Button>
      </Box>
      <OutcomeAlert outcome={outcome} />
    </Section>
  );
}
