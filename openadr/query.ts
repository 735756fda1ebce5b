import { z } from '@hono/zod-openapi';
import { MAX_TEXT, OBJECT_ID_RE } from './ids';

/**
 * Query parameters of the OpenADR 3.1 list endpoints. `skip` ≥ 0 and `limit` 0–50 are the
 * official document's bounds; the register also caps `skip` (MAX_SKIP) because a skip is an
 * OFFSET, which costs what it skips. The messages are the register's rule codes.
 */
export const MAX_LIMIT = 50;
export const DEFAULT_LIMIT = 50;
export const MAX_SKIP = 100_000;

const oneOrMany = (s: z.ZodString) => z.union([s, z.array(s).max(50)]);
const target = z.string().min(1, 'OPENADR-TARGET-FORMAT').max(MAX_TEXT, 'OPENADR-TARGET-FORMAT');

export const Paging = z.object({
  skip: z.coerce
    .number('OPENADR-QUERY-SKIP')
    .int('OPENADR-QUERY-SKIP')
    .min(0, 'OPENADR-QUERY-SKIP')
    .max(MAX_SKIP, 'OPENADR-QUERY-SKIP')
    .optional()
    .openapi({ description: `Objects to skip, 0–${MAX_SKIP.toLocaleString('en-GB')}` }),
  limit: z.coerce
    .number('OPENADR-QUERY-LIMIT')
    .int('OPENADR-QUERY-LIMIT')
    .min(0, 'OPENADR-QUERY-LIMIT')
    .max(MAX_LIMIT, 'OPENADR-QUERY-LIMIT')
    .optional()
    .openapi({ description: `Most objects to return, 0–${MAX_LIMIT} (default ${DEFAULT_LIMIT})` }),
  targets: oneOrMany(target).optional().openapi({ description: 'Repeatable: objects carrying any of these targets' }),
});

export const VenQuery = Paging.extend({
  venName: z.string().min(1, 'OPENADR-VEN-NAME-FORMAT').max(MAX_TEXT, 'OPENADR-VEN-NAME-FORMAT').optional(),
});
export const ResourceQuery = Paging.extend({
  resourceName: z.string().min(1).max(MAX_TEXT).optional(),
  venID: z.string().regex(OBJECT_ID_RE, 'REQUEST-QUERY-INVALID').optional(),
});
export const EventQuery = Paging.extend({
  programID: z.string().regex(OBJECT_ID_RE, 'REQUEST-QUERY-INVALID').optional(),
  active: z.enum(['true', 'false']).optional(),
});

/** Repeated or single `targets` as a list. */
export const targetList = (t: string | string[] | undefined): string[] => (t === undefined ? [] : Array.isArray(t) ? t : [t]);
