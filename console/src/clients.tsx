import { useState, type FormEvent } from 'react';
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
import type { ApiClient } from '../../src/identity/clients';
import { api } from './api';
import { OutcomeAlert, run, useList, type Outcome } from './outcome';
import { Section } from './section';

/**
 * Team and access, its API clients (docs/console.md): register one with a secret (shown once) or one
 * that signs with its own key (private_key_jwt), whose public keys are pasted as a JWKS or published
 * at a JWKS URI the hub's provider fetches; rotate a secret; revoke after a confirmation.
 */
export function Clients({ write }: { write: boolean }) {
  const { items, error, reload } = useList<ApiClient>('/clients');
  const [outcome, setOutcome] = useState<Outcome>();
  const [name, setName] = useState('');
  const [method, setMethod] = useState<'client_secret_basic' | 'private_key_jwt'>('client_secret_basic');
  const [keysAt, setKeysAt] = useState<'jwks' | 'jwksUri'>('jwks');
  const [jwks, setJwks] = useState('');
  const [jwksUri, setJwksUri] = useState('');
  const [jwksError, setJwksError] = useState<string>();
  const [confirming, setConfirming] = useState<string>();
  const register = (e: FormEvent) => {
    e.preventDefault();
    setJwksError(undefined);
    let keys: unknown;
    if (method === 'private_key_jwt' && keysAt === 'jwks') {
      try {
        keys = JSON.parse(jwks);
      } catch (err) {
        setJwksError(`Not JSON: ${(err as Error).message}. Paste the JWKS, {"keys": [ … ]}, with the public keys only.`);
        return;
      }
    }
    void run(setOutcome, async () => {
      try {
        const c = await api<ApiClient>('/clients', {
          method: 'POST',
          body: JSON.stringify({
            name,
            kind: 'machine',
            authMethod: method,
            ...(keys ? { jwks: keys } : {}),
            ...(method === 'private_key_jwt' && keysAt === 'jwksUri' ? { jwksUri } : {}),
          }),
        });
        setName('');
        setJwks('');
        setJwksUri('');
        reload();
        return c.clientSecret
          ? {
              severity: 'success',
              text: `Client ${c.name} is registered as ${c.clientId}. Its secret is held only as a hash: keep it in your secret store.`,
              secret: { label: 'Client secret', value: c.clientSecret },
            }
          : c.jwksUri
            ? {
                severity: 'success',
                text: `Client ${c.name} is registered as ${c.clientId}: the hub fetches its public keys from ${c.jwksUri} (kept up to 5 minutes) and it signs its client assertions (private_key_jwt) with the private key you keep.`,
              }
            : {
                severity: 'success',
                text: `Client ${c.name} is registered as ${c.clientId} with ${c.jwks?.keys.length ?? 0} public key(s): it signs its client assertions (private_key_jwt) with the private key you keep.`,
              };
      } catch (err) {
        const errors = (err as { body?: { errors?: Record<string, string> } }).body?.errors;
        setJwksError(errors?.jwks ?? errors?.jwksUri);
        throw err;
      }
    });
  };
  const rotate = (c: ApiClient) =>
    run(setOutcome, async () => {
      const r = await api<ApiClient>(`/clients/${encodeURIComponent(c.clientId)}/rotate`, { method: 'POST' });
      reload();
      return r.clientSecret
        ? {
            severity: 'success',
            text: `A new secret for ${c.name}; the old one stopped working.`,
            secret: { label: 'Client secret', value: r.clientSecret },
          }
        : { severity: 'success', text: `${c.name} is rotated.` };
    });
  const revoke = (c: ApiClient) =>
    run(setOutcome, async () => {
      setConfirming(undefined);
      await api(`/clients/${encodeURIComponent(c.clientId)}`, { method: 'DELETE' });
      reload();
      return { severity: 'success', text: `${c.name} is revoked: no new tokens, and its current tokens are refused.` };
    });
  return (
    <Section title="API clients">
      {error ? <Alert severity="error">{error}</Alert> : null}
      <Table size="small" aria-label="API clients of the organisation">
        <TableHead>
          <TableRow>
            <TableCell>Name</TableCell>
            <TableCell>Client ID</TableCell>
            <TableCell>Authentication</TableCell>
            <TableCell>Keys</TableCell>
            <TableCell>Status</TableCell>
            <TableCell>Credential expires</TableCell>
            {write ? <TableCell>Action</TableCell> : null}
          </TableRow>
        </TableHead>
        <TableBody>
          {(items ?? []).map((c) => (
            <TableRow key={c.clientId}>
              <TableCell>{c.name}</TableCell>
              <TableCell>
                <code>{c.clientId}</code>
              </TableCell>
              <TableCell>{c.authMethod}</TableCell>
              <TableCell sx={{ wordBreak: 'break-all' }}>
                {c.jwksUri ? <code>{c.jwksUri}</code> : c.jwks ? `${c.jwks.keys.length} key(s) given` : '—'}
              </TableCell>
              <TableCell>{c.status}</TableCell>
              <TableCell>{c.credentialExpiresAt ? new Date(c.credentialExpiresAt).toLocaleDateString('en-GB') : '—'}</TableCell>
              {write ? (
                <TableCell>
                  {c.status === 'ACTIVE' && c.authMethod.startsWith('client_secret') ? (
                    <Button size="small" onClick={() => void rotate(c)} aria-label={`Rotate the secret of ${c.name}`}>
                      Rotate secret
                    </Button>
                  ) : null}
                  {c.status === 'ACTIVE' ? (
                    confirming === c.clientId ? (
                      <Button
                        size="small"
                        color="error"
                        variant="contained"
                        onClick={() => void revoke(c)}
                        aria-label={`Confirm: revoke ${c.name}`}
                      >
                        Confirm revoke
                      </Button>
                    ) : (
                      <Button size="small" color="error" onClick={() => setConfirming(c.clientId)} aria-label={`Revoke ${c.name}`}>
                        Revoke
                      </Button>
                    )
                  ) : null}
                </TableCell>
              ) : null}
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <OutcomeAlert outcome={outcome} />
      {write ? (
        <Box component="form" onSubmit={register} sx={{ mt: 2 }} aria-label="Register an API client">
          <Typography variant="h6" component="h3">
            Register an API client
          </Typography>
          <Typography variant="body2" sx={{ my: 1 }}>
            A client that signs its token requests with its own key (private_key_jwt, recommended: no secret leaves it) gives its public
            keys as a JWKS (EC P-256, Ed25519 or RSA of 2048 bits or more, each with a kid; at most 5), or the https URL where it publishes
            them (a JWKS URI: the hub fetches it and keeps the keys up to 5 minutes, so a key removed there stops working within 5 minutes).
            A client with a secret (client_secret_basic) gets one, shown once.
          </Typography>
          <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1}>
            <TextField label="Client name" required size="small" value={name} onChange={(e) => setName(e.target.value)} />
            <TextField
              select
              label="Authentication"
              size="small"
              value={method}
              onChange={(e) => setMethod(e.target.value as typeof method)}
              sx={{ minWidth: 200 }}
            >
              <MenuItem value="client_secret_basic">A secret (client_secret_basic)</MenuItem>
              <MenuItem value="private_key_jwt">Its own key (private_key_jwt)</MenuItem>
            </TextField>
            <Button type="submit" variant="contained" sx={{ flexShrink: 0 }}>
              Register
            </Button>
          </Stack>
          {method === 'private_key_jwt' ? (
            <>
              <TextField
                select
                label="Its public keys"
                size="small"
                value={keysAt}
                onChange={(e) => {
                  setKeysAt(e.target.value as typeof keysAt);
                  setJwksError(undefined);
                }}
                sx={{ mt: 1, minWidth: 280 }}
              >
                <MenuItem value="jwks">Pasted here (a JWKS)</MenuItem>
                <MenuItem value="jwksUri">At a URL (a JWKS URI)</MenuItem>
              </TextField>
              {keysAt === 'jwks' ? (
                <TextField
                  label="Public keys (JWKS)"
                  required
                  multiline
                  minRows={4}
                  fullWidth
                  size="small"
                  value={jwks}
                  onChange={(e) => setJwks(e.target.value)}
                  error={!!jwksError}
                  helperText={
                    jwksError ?? 'The JSON of the client’s JWKS: {"keys": [{"kty": "EC", "crv": "P-256", "kid": …, "x": …, "y": …}]}'
                  }
                  sx={{ mt: 1, '& textarea': { fontFamily: 'monospace' } }}
                />
              ) : (
                <TextField
                  label="JWKS URI"
                  required
                  fullWidth
                  size="small"
                  value={jwksUri}
                  onChange={(e) => setJwksUri(e.target.value)}
                  error={!!jwksError}
                  helperText={jwksError ?? 'https://… where the client serves its JWKS (public keys only)'}
                  sx={{ mt: 1 }}
                />
              )}
            </>
          ) : null}
        </Box>
      ) : null}
    </Section>
  );
}
