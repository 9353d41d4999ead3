/**
 * CoAP in captured traffic (RFC 7252 over UDP): every datagram is read by the pure codec, requests
 * are paired with their responses (a piggybacked ACK by message id, a separate response by token,
 * §5.2), and each exchange gives the events of the gateway's own CoAP server
 * (gateway/sources/coap): `coap.request` with method, path, sizes and response code,
 * `coap.discovery` for `/.well-known/core` (RFC 6690), `coap.method_not_allowed` for 4.05,
 * `coap.amplification_risk` when a response is more than `amplificationFactor` times its request to
 * a client that has not shown an Echo option (RFC 7252 §11.3, RFC 9175 §2.4), and
 * `coap.malformed`. A request left without an answer for EXCHANGE_LIFETIME (§4.8.2) is reported
 * without a response code; a response that answers nothing we saw (or an Observe notification,
 * RFC 7641) is `coap.response`. Retransmissions (same message id, §4.5) count once. Time is the
 * capture's; state is bounded; never throws.
 */
import {
  COAP_OPTION,
  codeText,
  decodeCoapMessage,
  describeCoapMessage,
} from '../../../protocols/coap/index.ts';
import type { Peer } from '../../../protocols/coap/to-event.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { DecodedPacket } from '../../../protocols/pcap/index.ts';
import { createCoapCaptureEvents, type CoapEventsOptions, hex, type PendingExchange } from './coap-events.ts';
import type { FrameMeta } from './frame-meta.ts';

export type CoapCaptureOptions = CoapEventsOptions;

export interface CoapCaptureStats {
  messages: number;
  malformed: number;
  retransmissions: number;
}

/** RFC 7252 §4.8.2: EXCHANGE_LIFETIME with the default transmission parameters. */
const EXCHANGE_LIFETIME_MS = 247_000;
const MAX_PENDING = 100_000;

export function createCoapCaptureDecoder(options: CoapCaptureOptions) {
  const stats: CoapCaptureStats = { messages: 0, malformed: 0, retransmissions: 0 };
  const { exchange, unmatched, malformed } = createCoapCaptureEvents(options);
  const byMid = new Map<string, PendingExchange>();
  const byToken = new Map<string, PendingExchange>();
  let lastSweep = 0;

  const pair = (c: Peer, s: Peer) => `${c.ip}|${c.port}|${s.ip}|${s.port}`;

  const forget = (p: PendingExchange) => {
    if (byMid.get(p.midKey) === p) byMid.delete(p.midKey);
    if (byToken.get(p.tokenKey) === p) byToken.delete(p.tokenKey);
  };

  const sweep = (t: number, out: PendingEvent[]) => {
    for (const p of byToken.values()) {
      if (t - p.ts < EXCHANGE_LIFETIME_MS) continue;
      forget(p);
      if (!p.observing) exchange(p, out, { frame: p.frame, ts: new Date(p.ts) });
    }
    for (const p of byMid.values()) {
      if (t - p.ts < EXCHANGE_LIFETIME_MS) continue;
      forget(p);
      exchange(p, out, { frame: p.frame, ts: new Date(p.ts) });
    }
  };

  return {
    stats,
    datagram(packet: DecodedPacket, m: FrameMeta, out: PendingEvent[]) {
      stats.messages++;
      const sender = { ip: packet.src, port: packet.srcPort };
      const receiver = { ip: packet.dst, port: packet.dstPort };
      const t = m.ts.getTime();
      if (t - lastSweep >= 10_000) {
        lastSweep = t;
        sweep(t, out);
      }
      const bytes = packet.payload;
      const r = decodeCoapMessage(bytes);
      if (!r.ok) {
        stats.malformed++;
        malformed(r.error, bytes, sender, receiver, m, out);
        return;
      }
      const msg = r.message;
      if (msg.code === 0) {
        // An empty ACK promises a separate response (§5.2.2); a Reset refuses the request (§4.2).
        const p = byMid.get(`${pair(receiver, sender)}|${msg.messageId}`);
        if (!p) return;
        byMid.delete(p.midKey);
        if (msg.type === 'RST') {
          forget(p);
          exchange(p, out, m, undefined, true);
        }
        return;
      }
      if (msg.code < 32) {
        const midKey = `${pair(sender, receiver)}|${msg.messageId}`;
        if (byMid.has(midKey)) {
          stats.retransmissions++;
          return;
        }
        const tokenKey = `${pair(sender, receiver)}|t${hex(msg.token, 8)}`;
        const before = byToken.get(tokenKey);
        if (before) {
          forget(before);
          if (!before.observing) exchange(before, out, { frame: before.frame, ts: new Date(before.ts) });
        }
        if (byToken.size >= MAX_PENDING) sweep(Number.POSITIVE_INFINITY, out);
        const p: PendingExchange = {
          message: msg,
          bytes: bytes.length,
          frame: m.frame,
          ts: t,
          client: sender,
          server: receiver,
          midKey,
          tokenKey,
          observing: false,
        };
        byMid.set(midKey, p);
        byToken.set(tokenKey, p);
        return;
      }
      // A response: piggybacked on the ACK of the request's message id, or separate with its token.
      const key = pair(receiver, sender);
      const p =
        msg.type === 'ACK'
          ? byMid.get(`${key}|${msg.messageId}`)
          : byToken.get(`${key}|t${hex(msg.token, 8)}`);
      if (!p || p.observing) {
        if (p) p.ts = t; // a notification keeps its observation alive
        unmatched(msg, bytes.length, sender, receiver, m, out, p);
        return;
      }
      forget(p);
      exchange(p, out, m, { message: msg, bytes: bytes.length });
      // RFC 7641 §3.2: a 2.xx with Observe to a GET with Observe 0 registers an observation.
      const observed = msg.options.some((o) => o.number === COAP_OPTION.OBSERVE);
      if (observed && describeCoapMessage(p.message).observe === 0 && codeText(msg.code).startsWith('2')) {
        p.observing = true;
        p.ts = t;
        byToken.set(p.tokenKey, p);
      }
    },
    flush(out: PendingEvent[]) {
      sweep(Number.POSITIVE_INFINITY, out);
    },
  };
}

export type CoapCaptureDecoder = ReturnType<typeof createCoapCaptureDecoder>;
