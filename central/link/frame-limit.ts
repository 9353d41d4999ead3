/**
 * Per-socket frame limit of the link's WebSocket server (link SPEC §3). The `ws` server has one
 * `maxPayload` for every socket it accepts, read at each upgrade. Central sets it to the small
 * pre-authentication limit (LINK_MAX_HELLO_BYTES), so that the receiver of an unauthenticated
 * socket refuses a larger frame from its length header (close 1009) instead of buffering it; once
 * a gateway has proved its key, its socket's own receiver is given the full link limit here.
 *
 * Why this way: `ws` checks the announced frame length (and the running total of a fragmented
 * message) against its receiver's `_maxPayload` before it buffers a byte of payload, which is
 * exactly the check needed; reading frame headers ourselves would duplicate its parser. ws has no
 * public setter, so this touches one private field, checked to exist and be a number (ws 8.x);
 * if a future ws drops it, `raiseMaxPayload` answers false, the gateway's connection is closed
 * with an error that is logged and counted, and tests/security/link-preauth-limits.test.ts fails.
 */
import type { WebSocket } from 'ws';

interface ReceiverInternals {
  _maxPayload?: unknown;
}

/** Raises the largest frame `ws` accepts on this socket; false when ws's internals are not as expected. */
export function raiseMaxPayload(ws: WebSocket, maxBytes: number): boolean {
  const receiver = (ws as unknown as { _receiver?: ReceiverInternals })._receiver;
  if (!receiver || typeof receiver._maxPayload !== 'number') return false;
  receiver._maxPayload = maxBytes;
  return true;
}
