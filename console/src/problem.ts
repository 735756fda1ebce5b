import { HttpError } from 'react-admin';
import { run, type Outcome } from './outcome';

/**
 * A refusal in plain words: the problem's rule code and detail (api.ts makes the message
 * "CODE: detail"), then each refused field with its own rule code and message, so a request refused
 * as a whole ("REQUEST-VALIDATION: 1 field(s) invalid") still says what to fix.
 */
export function explain(e: unknown): string {
  const message = (e as Error).message;
  if (!(e instanceof HttpError)) return message;
  const errors = (e.body as { errors?: Record<string, string> } | undefined)?.errors ?? {};
  const fields = Object.entries(errors).map(([field, text]) => `${field}: ${text}`);
  // One full stop between the detail and the fields, whether or not the detail ends with its own.
  return fields.length ? `${message.replace(/[.\s]+$/, '')}. ${fields.join('; ')}` : message;
}

/** As outcome.ts's run, with the refusal explained field by field. */
export const attempt = (set: (o: Outcome) => void, action: () => Promise<Outcome>) =>
  run(set, async () => {
    try {
      return await action();
    } catch (e) {
      throw new Error(explain(e));
    }
  });

/** An instant as people here read it (en-GB, local time); "open" for none. */
export const when = (iso: string | null | undefined, open = 'open') => (iso ? new Date(iso).toLocaleString('en-GB') : open);
