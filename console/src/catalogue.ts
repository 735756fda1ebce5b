import { useEffect, useState } from 'react';
import { api } from './api';

/** The codes in effect of a catalogue (docs/catalogues.md) as choices for a select; [] until read or without catalogues:read. */
export function useCodes(name: string): { id: string; name: string }[] {
  const [codes, setCodes] = useState<{ id: string; name: string }[]>([]);
  useEffect(() => {
    api<{ items: { code: string; label: string; inEffect: boolean }[] }>(`/catalogues/${name}`).then(
      (c) => setCodes(c.items.filter((i) => i.inEffect).map((i) => ({ id: i.code, name: `${i.label} (${i.code})` }))),
      () => setCodes([]),
    );
  }, [name]);
  return codes;
}

export const ASSET_STATUSES = ['PENDING_VALIDATION', 'VERIFIED', 'QUERY', 'SUSPENDED_CONSENT_REVOKED', 'DEREGISTERED'].map((s) => ({
  id: s,
  name: s.replace(/_/g, ' ').toLowerCase(),
}));
