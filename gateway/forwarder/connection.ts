/**
 * The forwarder's WebSocket to central (protocols/link/SPEC.md §2–3): opening it with the link's
 * limits and the configured TLS files, decoding what central sends, counting what goes wrong, and
 * the reconnect backoff. What the messages mean is the forwarder's business (index.ts); this file
 * only turns a socket into decoded messages, a liveness signal and a close.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { decodeLinkMessage, LINK_MAX_MESSAGE_BYTES, type LinkMessage } from '../../protocols/link/codec.ts';
import type { GatewayMetrics } from '../metrics.ts';

/** The link's TLS files: CA that central's certificate must chain to, client certificate and key. */
export interface LinkTlsFiles {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

export interface LinkSocketOptions {
  endpoint: string;
  gateway: string;
  tls?: LinkTlsFiles | undefined;
  metrics: GatewayMetrics;
  logger: Logger;
}

export interface LinkSocketHandlers {
  /** Central was heard from: the socket opened, or a frame arrived (good or bad). */
  heard(): void;
  message(message: LinkMessage): void;
  /** Why the link failed, for /api/status (`last_error`). */
  failed(reason: string): void;
  closed(): void;
}

/** Opens the link's WebSocket; a frame that does not decode closes it with 1002 (SPEC §3). */
export function openLinkSocket(o: LinkSocketOptions, on: LinkSocketHandlers): WebSocket {
  const { tls } = o;
  const ws = new WebSocket(o.endpoint, {
    headers: { 'x-siem-gateway': o.gateway },
    handshakeTimeout: 10_000,
    maxPayload: LINK_MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    // Client frames keep ws's random masking key (RFC 6455 §5.3 MUST): batches carry bytes that
    // devices chose, which is exactly what masking keeps away from intermediaries (§10.3).
    ca: tls?.caFile ? readFileSync(tls.caFile) : undefined,
    cert: tls?.certFile ? readFileSync(tls.certFile) : undefined,
    key: tls?.keyFile ? readFileSync(tls.keyFile) : undefined,
  });
  ws.on('open', () => {
    on.heard();
    // Central speaks first (a challenge); no hello, and no secret, until then (SPEC §2).
  });
  ws.on('message', (data, isBinary) => {
    on.heard();
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const decoded = decodeLinkMessage(isBinary ? bytes : bytes.toString('utf8'));
    if (!decoded.ok) {
      o.metrics.errors.inc({ component: 'forwarder', stage: 'receiving', code: decoded.error.code });
      o.logger.warn({ code: decoded.error.code }, 'bad message from central: %s', decoded.error.message);
      ws.close(1002, 'bad message');
      return;
    }
    on.message(decoded.message);
  });
  ws.on('unexpected-response', (_req, res) => {
    o.metrics.errors.inc({ component: 'forwarder', stage: 'sending', code: `http_${res.statusCode}` });
    on.failed(`central refused the WebSocket: HTTP ${res.statusCode}`);
    o.logger.warn({ status: res.statusCode }, 'central refused the link');
    ws.terminate();
  });
  ws.on('error', (error) => {
    o.metrics.errors.inc({ component: 'forwarder', stage: 'sending', code: 'socket' });
    on.failed(error.message);
    o.logger.debug({ err: error.message }, 'link error');
  });
  ws.on('close', () => on.closed());
  return ws;
}

/** Closes the socket politely, terminating it if central does not answer the close within 2 s. */
export async function closeLinkSocket(ws: WebSocket, reason: string): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.close(1001, reason);
  const timeout = setTimeout(() => ws.terminate(), 2000);
  await closed;
  clearTimeout(timeout);
}

/** SPEC §6: the wait before reconnect attempt `failures` (0-based), exponential with full jitter. */
export function reconnectDelayMs(failures: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** failures);
  return Math.random() * ceiling;
}

/** Sends one text frame if the socket is open (what was in flight is sent again after a reconnect). */
export function sendText(ws: WebSocket | undefined, text: string): void {
  if (ws?.readyState === WebSocket.OPEN) ws.send(text);
}

/**
 * A text frame (the link is JSON text, SPEC §3) from an ArrayBuffer of UTF-8 that the call hands
 * over: ws masks it in place. ws masks a Buffer it is given into a copy (it may not change the
 * caller's bytes); given as an object whose `valueOf()` is an ArrayBuffer (a `BufferLike` in ws's
 * types), the bytes become a Buffer of ws's own (Node's `Buffer.from` shares the ArrayBuffer) and
 * are masked where they are: one allocation and one copy less per batch. `written` runs once the
 * socket has taken the bytes or the send failed, or at once when the socket is not open: the
 * buffer may be used again then (batch-frame.ts FramePool).
 */
export function sendTextBuffer(ws: WebSocket | undefined, ab: ArrayBuffer, written: () => void): void {
  if (ws?.readyState !== WebSocket.OPEN) {
    written();
    return;
  }
  ws.send({ valueOf: () => ab }, { binary: false }, () => written());
}
