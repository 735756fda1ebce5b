import { useEffect, useState, type FormEvent } from 'react';
import { Box, Button, MenuItem, Stack, TextField, Typography } from '@mui/material';
import type { DqRule } from '../../src/quality/schema';
import { api } from './api';
import { OutcomeAlert, run, type Outcome } from './outcome';
import { explain } from './problem';
import { fieldErrors } from './share-form';

// As src/quality/schema.ts (a type-only import keeps the API's schema library out of the console).
const SEVERITIES = ['ERROR', 'WARNING', 'INFO'] as const;
const RULE_KINDS = ['field', 'cross-field', 'cross-source', 'staleness', 'external-check'] as const;

type Form = { code: string; description: string; kind: string; severity: string; weight: string; appliesTo: string; definition: string };
const EMPTY: Form = { code: '', description: '', kind: 'field', severity: 'WARNING', weight: '10', appliesTo: '', definition: '' };

const formOf = (r: DqRule): Form => ({
  code: r.code,
  description: r.description,
  kind: r.kind,
  severity: r.severity,
  weight: String(r.weight),
  appliesTo: r.appliesTo.join(', '),
  definition: r.definition,
});

/**
 * A data-quality rule's definition added or edited (docs/data-quality.md): POST /data-quality/rules,
 * or PATCH /data-quality/rules/{code} at the version read (If-Match). The API parses the definition on
 * every write; a refusal (DQ-RULE-SYNTAX, DQ-RULE-TYPE, …) shows beside its field with its position.
 */
export function RuleForm({ rule, onDone, onCancel }: { rule?: DqRule; onDone: () => void; onCancel: () => void }) {
  const [form, setForm] = useState<Form>(rule ? formOf(rule) : EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<Outcome>();
  useEffect(() => {
    setForm(rule ? formOf(rule) : EMPTY);
    setErrors({});
    // A rule opened for editing starts without the last answer; the answer to a save stays once the form closes.
    if (rule) setOutcome(undefined);
  }, [rule]);
  const title = rule ? `Edit ${rule.code}` : 'Add a rule';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    void run(setOutcome, async () => {
      const body = {
        description: form.description,
        kind: form.kind,
        severity: form.severity,
        weight: Number(form.weight),
        appliesTo: form.appliesTo
          .split(/[\s,]+/)
          .map((s) => s.trim())
          .filter(Boolean),
        definition: form.definition,
      };
      try {
        const r = rule
          ? await api<DqRule>(`/data-quality/rules/${encodeURIComponent(rule.code)}`, {
              method: 'PATCH',
              headers: { 'if-match': `"${rule.version}"` },
              body: JSON.stringify(body),
            })
          : await api<DqRule>('/data-quality/rules', { method: 'POST', body: JSON.stringify({ code: form.code, ...body }) });
        setForm(EMPTY);
        onDone();
        return {
          severity: 'success',
          text: rule
            ? `${r.code} is changed (version ${r.version}): each asset is checked against it at its next evaluation.`
            : `${r.code} is added, ${r.active ? 'active' : 'inactive'}: each asset is checked against it at its next evaluation.`,
        };
      } catch (err) {
        setErrors(fieldErrors(err));
        throw new Error(explain(err));
      }
    });
  };
  const field = (name: keyof Form, label: string, help: string, extra: Record<string, unknown> = {}) => (
    <TextField
      label={label}
      size="small"
      value={form[name]}
      onChange={(e) => setForm({ ...form, [name]: e.target.value })}
      error={!!errors[name]}
      helperText={errors[name] ?? help}
      sx={{ flex: 1, minWidth: 180 }}
      {...extra}
    />
  );
  const choice = (name: 'kind' | 'severity', label: string, values: readonly string[]) =>
    field(name, label, '', {
      select: true,
      children: values.map((v) => (
        <MenuItem key={v} value={v}>
          {v}
        </MenuItem>
      )),
    });
  return (
    <Box component="form" onSubmit={submit} aria-label={title} sx={{ mt: 3 }}>
      <Typography variant="h6" component="h3" gutterBottom>
        {title}
      </Typography>
      <Stack direction={{ xs: 'column', md: 'row' }} spacing={1} sx={{ mb: 1 }}>
        {rule ? null : field('code', 'Code', 'DQ- then upper-case words joined by hyphens', { required: true })}
        {choice('kind', 'Kind', RULE_KINDS)}
        {choice('severity', 'Severity', SEVERITIES)}
        {field('weight', 'Weight', '0–100, in the asset score', { required: true, type: 'number' })}
      </Stack>
      <Stack direction={{ xs: 'column', md: 'row' }} spacing={1} sx={{ mb: 1 }}>
        {field('description', 'Description', 'What the rule asks for, in a sentence; shown with each finding', { required: true })}
        {field('appliesTo', 'Applies to', 'Asset categories, separated by commas; empty: every category')}
      </Stack>
      {field('definition', 'Definition', 'The condition a good asset meets, e.g. generationCapacityKw <= ratedCapacityKw', {
        required: true,
        multiline: true,
        minRows: 2,
        fullWidth: true,
        sx: { '& textarea': { fontFamily: 'monospace' } },
      })}
      <Stack direction="row" spacing={1} sx={{ mt: 1 }}>
        <Button type="submit" variant="contained">
          {rule ? 'Save the rule' : 'Add the rule'}
        </Button>
        {rule ? <Button onClick={onCancel}>Cancel</Button> : null}
      </Stack>
      <OutcomeAlert outcome={outcome} />
    </Box>
  );
}
