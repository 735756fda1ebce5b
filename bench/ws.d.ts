// ws (installed with wrangler) has no types here; bench/worker-memory.ts uses its WebSocket client
// the way the WHATWG WebSocket is used (onopen, onmessage, send, close).
declare module 'ws' {
  export default class WebSocket {
    constructor(url: string);
    onopen: ((ev: unknown) => void) | null;
    onerror: ((ev: unknown) => void) | null;
    onmessage: ((ev: { data: unknown }) => void) | null;
    send(data: string): void;
    close(): void;
  }
}
