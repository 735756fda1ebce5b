import { OpenAPIHono } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import { json, problemResponses, security, validationHook } from '../http/common';
import { listNotices, NoticeList, NoticeQuery } from './service';

const tags = ['Notices'];

export function noticeRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/notices',
      action: 'notices.read',
      tags,
      security,
      summary: 'The organisation’s notices: what to act on and what is inconsistent, computed now (docs/notices.md)',
      request: { query: NoticeQuery },
      responses: { 200: { description: 'The notices in force', content: json(NoticeList) }, ...problemResponses(404) },
    }),
    async (c) => c.json(await listNotices(ctx, c.get('principal'), c.req.valid('query')), 200),
  );
  return app;
}
