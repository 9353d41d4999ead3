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
  type CoapMessage,
  codeText,
  decodeCoapMessage,
  describeCoapMessage,
} from '../../../protocols/coap/index.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { DecodedPacket } from '../../../protocols/pcap/index.ts';
import { coapEvent, type Peer } from '../../../protocols/coap/to-event.ts';
import type { FrameMeta } from './frame-meta.ts';

export interface CoapCaptureOptions {
  amplificationFactor: number;
  /** How long a client that returned an Echo value counts as verified (RFC 9175 §2.4). */
  verifiedSecs: number;
  extra: Record<string, unknown>;
}

export interface CoapCaptureStats {
  messages: number;
  malformed: number;
  retransmissions: number;
}

/** RFC 7252 §4.8.2: EXCHANGE_LIFETIME with the default transmission parameters. */
const EXCHANGE_LIFETIME_MS = 247_000;
const MAX_PENDING = 100_000;

interface Pending {
  message: CoapMessage;
  bytes: number;
  frame: number;
  ts: number;
  client: Peer;
  server: Peer;
  midKey: string;
  tokenKey: string;
  /** Answered, and the answer registered an observation: later notifications belong to it. */
  observing: boolean;
}

const hex = (b: Uint8Array, n = 64) => Buffer.from(b.subarray(0, n)).toString('hex');

export function createCoapCaptureDecoder(options: CoapCaptureOptions) {
  const stats: CoapCaptureStats = { messages: 0, malformed: 0, retransmissions: 0 };
  const byMid = new Map<string, Pending>();
  const byToken = new Map<string, Pending>();
  /** `client ip|server ip` → verified until (ms). */
  const verified = new Map<string, number>();
  let lastSweep = 0;

  const pair = (c: Peer, s: Peer) => `${c.ip}|${c.port}|${s.ip}|${s.port}`;

  const event = (
    spec: Parameters<typeof coapEvent>[0],
    client: Peer,
    server: Peer,
    m: FrameMeta,
    more?: Record<string, unknown>,
  ) => {
    const e = coapEvent(spec, client, server, m.ts, '');
    delete e.fields.listener;
    Object.assign(e.fields, options.extra, more, { frame: m.frame });
    return e;
  };

  const requestFields = (p: Pending) => {
    const m = p.message;
    const info = describeCoapMessage(m);
    return {
      info,
      base: {
        method: info.method ?? 'unknown',
        path: info.path,
        query: info.query.length > 0 ? info.query : undefined,
        type: m.type,
        message_id: m.messageId,
        token: m.token.length > 0 ? hex(m.token) : undefined,
        request_bytes: p.bytes,
        payload_bytes: m.payload.length,
        content_format: info.contentFormat,
        observe: info.observe,
      },
    };
  };

  const forget = (p: Pending) => {
    if (byMid.get(p.midKey) === p) byMid.delete(p.midKey);
    if (byToken.get(p.tokenKey) === p) byToken.delete(p.tokenKey);
  };

  /** The events of one exchange; `response` absent when none came (or a Reset did). */
  const exchange = (
    p: Pending,
    out: PendingEvent[],
    m: FrameMeta,
    response?: { message: CoapMessage; bytes: number },
    reset = false,
  ) => {
    const { info, base } = requestFields(p);
    const { client, server } = p;
    const code = response ? response.message.codeText : undefined;
    const more = { request_frame: p.frame };
    const vkey = `${client.ip}|${server.ip}`;
    const now = m.ts.getTime();
    const echoed = info.echo !== undefined;
    if (echoed && code?.startsWith('2')) {
      if (verified.size >= MAX_PENDING) verified.clear();
      verified.set(vkey, now + options.verifiedSecs * 1000);
    }
    const isVerified = echoed || (verified.get(vkey) ?? 0) > now;
    const echoChallenge =
      code === '4.01' && response!.message.options.some((o) => o.number === COAP_OPTION.ECHO);
    if (info.path === '/.well-known/core') {
      out.push(
        event(
          {
            action: 'coap.discovery',
            kind: 'security',
            severity: 5,
            message: `resource discovery by ${client.ip}`,
            fields: base,
            tags: ['discovery'],
          },
          client,
          server,
          m,
          more,
        ),
      );
    }
    if (code === '4.05') {
      out.push(
        event(
          {
            action: 'coap.method_not_allowed',
            kind: 'security',
            severity: 4,
            message: `${base.method} not allowed on ${info.path} (from ${client.ip})`,
            fields: base,
            tags: ['method_not_allowed'],
          },
          client,
          server,
          m,
          more,
        ),
      );
    }
    if (response && !isVerified && response.bytes > options.amplificationFactor * p.bytes) {
      out.push(
        event(
          {
            action: 'coap.amplification_risk',
            kind: 'security',
            severity: 4,
            message: `${base.method} ${info.path} from unverified ${client.ip}: ${response.bytes} bytes of response for ${p.bytes} of request`,
            fields: {
              ...base,
              response_code: code,
              response_bytes: response.bytes,
              factor: Math.round((response.bytes / p.bytes) * 100) / 100,
              limit_factor: options.amplificationFactor,
              mitigation: 'none',
            },
            tags: ['amplification'],
          },
          client,
          server,
          m,
          more,
        ),
      );
    }
    out.push(
      event(
        {
          action: 'coap.request',
          kind: 'security',
          severity: code?.startsWith('2') ? 6 : 5,
          message: `${base.method} ${info.path} → ${code ?? (reset ? 'reset' : 'no response')} from ${client.ip}`,
          fields: {
            ...base,
            response_code: code,
            response_bytes: response?.bytes,
            response_type: response?.message.type,
            no_response: response ? undefined : !reset,
            reset: reset || undefined,
            echo_verified: isVerified || undefined,
            echo_challenge: echoChallenge || undefined,
          },
        },
        client,
        server,
        m,
        more,
      ),
    );
  };

  const unmatched = (
    res: CoapMessage,
    bytes: number,
    server: Peer,
    client: Peer,
    m: FrameMeta,
    out: PendingEvent[],
    request?: Pending,
  ) => {
    const info = describeCoapMessage(res);
    out.push(
      event(
        {
          action: 'coap.response',
          kind: 'security',
          severity: 6,
          message: `${res.codeText} ${res.type} to ${client.ip}${request ? ` (notification for ${requestFields(request).info.path})` : ' answering no request seen'}`,
          fields: {
            response_code: res.codeText,
            type: res.type,
            message_id: res.messageId,
            token: res.token.length > 0 ? hex(res.token) : undefined,
            response_bytes: bytes,
            payload_bytes: res.payload.length,
            content_format: info.contentFormat,
            observe: info.observe,
            path: request ? requestFields(request).info.path : undefined,
          },
        },
        client,
        server,
        m,
        request ? { request_frame: request.frame } : undefined,
      ),
    );
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
        out.push(
          event(
            {
              action: 'coap.malformed',
              kind: 'security',
              severity: 4,
              message: `malformed CoAP datagram from ${sender.ip}: ${r.error.message}`,
              fields: {
                code: r.error.code,
                error: r.error.message,
                bytes: bytes.length,
                preview_hex: hex(bytes),
              },
              tags: ['malformed'],
            },
            sender,
            receiver,
            m,
          ),
        );
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
        const p: Pending = {
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
