import { useState } from 'react';
import { Box, TextField } from '@mui/material';

/**
 * Evidence for a dispute (docs/disputes.md), as a household or an organisation's person gives it: a
 * description and an https link, or a file of which only the SHA-256 fingerprint, name, type and size
 * are sent, computed in the browser (the hub stores no files: the party keeps its copy).
 */

export type Evidence = { description: string; url: string } | { description: string; document: Record<string, unknown> };

/** Evidence from the form: an https link, or a chosen file's SHA-256 (the hub keeps no files: keep your copy). */
export function EvidenceFields({ onChange, optional = false }: { onChange: (e: Evidence | undefined) => void; optional?: boolean }) {
  const [description, setDescription] = useState('');
  const [url, setUrl] = useState('');
  const [doc, setDoc] = useState<Record<string, unknown>>();
  const emit = (d: string, u: string, f?: Record<string, unknown>) =>
    onChange(
      !d.trim() ? undefined : f ? { description: d.trim(), document: f } : u.trim() ? { description: d.trim(), url: u.trim() } : undefined,
    );
  const pick = async (file: File | undefined) => {
    if (!file) return (setDoc(undefined), emit(description, url));
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
    const f = {
      name: file.name.slice(0, 255),
      sha256: [...digest].map((b) => b.toString(16).padStart(2, '0')).join(''),
      mediaType: file.type || 'application/octet-stream',
      sizeBytes: file.size,
    };
    setDoc(f);
    emit(description, url, f);
  };
  return (
    <>
      <TextField
        label="What shows it (e.g. the installer’s certificate)"
        value={description}
        onChange={(e) => (setDescription(e.target.value), emit(e.target.value, url, doc))}
        required={!optional}
        fullWidth
        margin="dense"
      />
      <TextField
        label="A link to it (https://…), or choose a file below"
        value={url}
        onChange={(e) => (setUrl(e.target.value), emit(description, e.target.value, doc))}
        fullWidth
        margin="dense"
        disabled={!!doc}
      />
      <Box sx={{ my: 1 }}>
        <label htmlFor="evidence-file">A file (only its fingerprint is sent; keep your copy): </label>
        <input id="evidence-file" type="file" onChange={(e) => void pick(e.target.files?.[0])} />
      </Box>
    </>
  );
}
