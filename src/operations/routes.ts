import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import { problemResponses, security, validationHook } from '../http/common';
import type { HubMetrics } from '../http/metrics';

/** GET /api/v1/metrics: the Prometheus text exposition, for a scraper holding `metrics:read` (docs/operations.md, "Metrics"). */
export function metricsRoutes(metrics: HubMetrics) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/metrics',
      action: 'metrics.read',
      tags: ['Operations'],
      security,
      summary: 'Metrics in Prometheus text format (requests, latency, refusals, tokens, backlogs read from the database)',
      responses: {
        200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
        ...problemResponses(),
      },
    }),
    async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }) as never,
  );
  return app;
}
