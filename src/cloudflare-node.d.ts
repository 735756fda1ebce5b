// workerd's `cloudflare:node` module (Workers with nodejs_compat): hand a fetch Request to a
// node:http server listening in the same isolate, and get its answer as a Response.
declare module 'cloudflare:node' {
  export function handleAsNodeRequest(port: number, request: Request, env?: unknown, ctx?: unknown): Promise<Response>;
}
