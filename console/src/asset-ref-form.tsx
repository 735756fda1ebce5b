import type { FormEvent } from 'react';
import { Box, Button, Stack, TextField } from '@mui/material';

/** A one-field form naming an asset by FMAR ID or any identifier (`mpan:…`): add it to a unit, bind it to a VEN. */
export function AssetRefForm(props: {
  name: string;
  label: string;
  action: string;
  value: string;
  onChange: (v: string) => void;
  onSubmit: (e: FormEvent) => void;
}) {
  return (
    <Box component="form" onSubmit={props.onSubmit} aria-label={props.name} sx={{ mt: 1 }}>
      <Stack direction="row" spacing={1}>
        <TextField
          size="small"
          label={props.label}
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
          required
          sx={{ minWidth: 360 }}
        />
        <Button type="submit" variant="outlined">
          {props.action}
        </Button>
      </Stack>
    </Box>
  );
}
