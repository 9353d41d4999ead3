/**
 * One EtherNet/IP TCP connection seen from the middle (a capture or a replay): cuts each
 * direction's reassembled bytes into encapsulation messages, decodes them, and pairs each reply
 * with its request so that replies, which carry no path (CIP Vol. 1 §2-4.2), are reported with
 * the class, instance and attribute they answer. Unconnected messages (SendRRData) pair by the
 * sender context the target echoes (Vol. 2 §2-3.1); connected ones (SendUnitData) by the CIP
 * sequence count of the connected data item (Vol. 2 §2-6.3.2); other commands by command and
 * sender context. Pure: no sockets, no timers; the caller says which way the bytes travelled.
 */
import { createEncapDeframer, decodeEncap, type EncapFramingError } from './encap.ts';
import { type CipMessage, type EnipDirection, type EnipPdu, type EnipResult, u32le } from './types.ts';

/** Open requests kept per connection; older ones are forgotten (a target that never answers). */
export const MAX_OPEN_REQUESTS = 256;

export interface EnipOpenRequest<M> {
  pdu: EnipPdu;
  meta: M;
}

export interface EnipSessionDecode<M> {
  direction: EnipDirection;
  /** The encapsulation message's bytes (for the preview of a malformed one). */
  bytes: Uint8Array;
  result: EnipResult<EnipPdu>;
  /** The request this reply answers, when one was open with the same key. */
  request?: EnipOpenRequest<M>;
  /** Pairing problems: `unmatched_response`, `duplicate_request`. */
  anomalies: string[];
}

export interface EnipSession<M> {
  /**
   * The next in-order bytes of one direction (`request`: towards the target's port 44818).
   * `gap` says bytes were lost before them: buffered bytes are dropped and framing restarts.
   */
  push(
    chunk: Uint8Array,
    direction: EnipDirection,
    meta: M,
    gap?: boolean,
  ): { decoded: EnipSessionDecode<M>[]; errors: EncapFramingError[] };
  /** Requests still waiting for a reply. */
  open(): number;
}

/** Connections opened on this session (Forward_Open replies): O→T id → T→O id, and the T→O ids. */
interface Connections {
  otToTo: Map<number, number>;
  toIds: Set<number>;
}

/** Connections remembered per session; a client opens a handful (Vol. 1 §3-5.5.2). */
export const MAX_CONNECTIONS = 64;

/**
 * The key a request and its reply share. Connected requests travel on the O→T connection id and
 * replies on the T→O id (Vol. 2 §2-6.3.2), so once a Forward_Open reply told both, the sequence
 * count is qualified by the T→O id; for connections opened before the capture began, by the
 * sequence count alone.
 */
function pairKey(pdu: EnipPdu, direction: EnipDirection, conns: Connections): string {
  const h = pdu.header!;
  if (h.command === 0x70 && pdu.sequenceCount !== undefined) {
    const id = pdu.connectionId;
    if (id !== undefined) {
      const to = direction === 'request' ? conns.otToTo.get(id) : conns.toIds.has(id) ? id : undefined;
      if (to !== undefined) return `u${to}|${pdu.sequenceCount}`;
    }
    return `u${pdu.sequenceCount}`;
  }
  return `${h.command}|${h.senderContext}`;
}

/** Learns the two ids of a successful (Large_)Forward_Open reply (Vol. 1 §3-5.5.2, Table 3-5.17). */
function learnConnection(pdu: EnipPdu, request: EnipPdu | undefined, conns: Connections): void {
  const cip = pdu.cip;
  const asked = request?.cip?.service === 0x52 ? request.cip.embedded?.[0] : request?.cip;
  if (!cip || cip.generalStatus !== 0 || (cip.service !== 0x54 && cip.service !== 0x5b)) return;
  if (asked?.path?.classId !== 0x06 && request) return;
  if (cip.data.length < 8) return;
  if (conns.otToTo.size >= MAX_CONNECTIONS) {
    conns.otToTo.clear();
    conns.toIds.clear();
  }
  const to = u32le(cip.data, 4);
  conns.otToTo.set(u32le(cip.data, 0), to);
  conns.toIds.add(to);
}

export function createEnipSession<M = undefined>(): EnipSession<M> {
  const deframers = { request: createEncapDeframer(), response: createEncapDeframer() };
  const pending = new Map<string, EnipOpenRequest<M>>();
  const conns: Connections = { otToTo: new Map(), toIds: new Set() };
  return {
    push(chunk, direction, meta, gap = false) {
      const deframer = deframers[direction];
      if (gap) deframer.reset();
      const { messages, errors } = deframer.push(chunk);
      const decoded: EnipSessionDecode<M>[] = [];
      for (const bytes of messages) {
        const result = decodeEncap(bytes);
        const out: EnipSessionDecode<M> = { direction, bytes, result, anomalies: [] };
        decoded.push(out);
        if (!result.ok) continue;
        const key = pairKey(result.value, direction, conns);
        if (direction === 'request') {
          if (pending.has(key)) {
            out.anomalies.push('duplicate_request');
            pending.delete(key);
          }
          if (pending.size >= MAX_OPEN_REQUESTS) {
            const oldest = pending.keys().next();
            if (!oldest.done) pending.delete(oldest.value);
          }
          pending.set(key, { pdu: result.value, meta });
        } else {
          const request = pending.get(key);
          if (request) {
            pending.delete(key);
            out.request = request;
          } else if (result.value.cip) out.anomalies.push('unmatched_response');
          learnConnection(result.value, request?.pdu, conns);
        }
      }
      return { decoded, errors };
    },
    open: () => pending.size,
  };
}

/**
 * The request message a reply answers: the request itself, or the message an Unconnected Send
 * carried (a target's reply to a routed request is the inner service's reply, §3-5.5.4).
 */
export function answeredRequest(request: CipMessage | undefined, reply: CipMessage): CipMessage | undefined {
  if (!request) return undefined;
  if (request.service === reply.service) return request;
  const inner = request.embedded?.[0];
  if (inner && request.service === 0x52 && inner.service === reply.service) return inner;
  return undefined;
}
