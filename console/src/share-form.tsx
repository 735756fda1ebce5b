import { HttpError } from 'react-admin';
import { MenuItem, Stack, TextField } from '@mui/material';

/** What a share reaches and for when: the fields a grant and a change share. */
export type ShareForm = { assets: 'NONE' | 'ALL' | 'LISTED'; assetIds: string; validFrom: string; validTo: string; purpose: string };

/** Each refused field's "RULE-CODE: message", by the share's field it names (`assetIds.0` is assetIds). */
export function fieldErrors(e: unknown): Record<string, string> {
  const errors = e instanceof HttpError ? ((e.body as { errors?: Record<string, string> }).errors ?? {}) : {};
  const out: Record<string, string> = {};
  for (const [field, text] of Object.entries(errors)) {
    const key = field.split(/[.[]/)[0];
    out[key] = out[key] ? `${out[key]}; ${text}` : text;
  }
  return out;
}

/** The body of a grant or a change: only what was filled in; the asset IDs one a line (or separated by commas). */
export function shareBody(f: ShareForm, change = false) {
  const ids = f.assetIds
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    assets: f.assets,
    ...(f.assets === 'LISTED' ? { assetIds: ids } : change ? { assetIds: null } : {}),
    ...(f.validFrom ? { validFrom: f.validFrom } : {}),
    ...(f.validTo ? { validTo: f.validTo } : {}),
    ...(f.purpose ? { purpose: f.purpose } : change ? { purpose: null } : {}),
  };
}

/** The fields of a share, each with its refusal beside it. */
export function ShareFields(props: { form: ShareForm; set: (f: ShareForm) => void; errors: Record<string, string>; fromFixed?: boolean }) {
  const { form, set, errors } = props;
  const text = (name: 'validFrom' | 'validTo' | 'purpose', label: string, help: string, required = false) => (
    <TextField
      label={label}
      size="small"
      required={required}
      value={form[name]}
      onChange={(e) => set({ ...form, [name]: e.target.value })}
      error={!!errors[name]}
      helperText={errors[name] ?? help}
      sx={{ flex: 1, minWidth: 220 }}
    />
  );
  return (
    <>
      <Stack direction={{ xs: 'column', md: 'row' }} spacing={1} sx={{ mb: 1 }}>
        <TextField
          select
          label="What it shares"
          size="small"
          value={form.assets}
          onChange={(e) => set({ ...form, assets: e.target.value as ShareForm['assets'] })}
          error={!!errors.assets}
          helperText={errors.assets ?? 'Always the passport; assets if you say so'}
          sx={{ minWidth: 260 }}
        >
          <MenuItem value="NONE">The passport only</MenuItem>
          <MenuItem value="ALL">The passport and all our assets</MenuItem>
          <MenuItem value="LISTED">The passport and the assets listed</MenuItem>
        </TextField>
        {props.fromFixed ? null : text('validFrom', 'Valid from (optional)', 'RFC 3339 with an offset; empty: now')}
        {text('validTo', 'Valid to', 'RFC 3339 with an offset, e.g. 2027-03-31T23:00:00Z; at most 366 days on', true)}
      </Stack>
      {form.assets === 'LISTED' ? (
        <TextField
          label="Assets (FMAR IDs, one a line)"
          size="small"
          multiline
          minRows={2}
          fullWidth
          required
          value={form.assetIds}
          onChange={(e) => set({ ...form, assetIds: e.target.value })}
          error={!!errors.assetIds}
          helperText={errors.assetIds ?? 'Each a live asset the organisation controls or owns now'}
          sx={{ mb: 1, '& textarea': { fontFamily: 'monospace' } }}
        />
      ) : null}
      <Stack direction={{ xs: 'column', md: 'row' }} spacing={1}>
        {text('purpose', 'Purpose (optional)', 'Why the platform pulls it, e.g. a market’s registration')}
      </Stack>
    </>
  );
}
