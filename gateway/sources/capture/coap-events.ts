/**
 * The events of CoAP exchanges seen in a capture (capture/coap.ts pairs the datagrams): built by
 * the gateway's own CoAP builder (`coapEvent`), so a capture gives the actions and fields of the
 * gateway's CoAP server, each with the `frame` that completed it and the `request_frame` it
 * answers. It also remembers which clients proved their address with an Echo option (RFC 9175
 * §2.4), whose large responses are then no amplification risk (RFC 7252 §11.3).
 */
import { COAP_OPTION, type CoapMessage, describeCoapMessage } from '../../../protocols/coap/index.ts';
import { coapEvent, type Peer } from '../../../protocols/coap/to-event.ts';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { FrameMeta } from './frame-meta.ts';

export interface CoapEventsOptions {
  amplificationFactor: number;
  /** How long a client that returned an Echo value counts as verified (RFC 9175 §2.4). */
  verifiedSecs: number;
  extra: Record<string, unknown>;
}

/** A request waiting for its response. */
export interface PendingExchange {
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

/** Verified clients remembered at most (then forgotten all at once). */
const MAX_VERIFIED = 100_000;

export const hex = (b: Uint8Array, n = 64) => Buffer.from(b.subarray(0, n)).toString('hex');

export function createCoapCaptureEvents(options: CoapEventsOptions) {
  /** `client ip|server ip` → verified until (ms). */
  const verified = new Map<string, number>();

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

  const requestFields = (p: PendingExchange) => {
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

  /** The events of one exchange; `response` absent when none came (or a Reset did). */
  const exchange = (
    p: PendingExchange,
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
      if (verified.size >= MAX_VERIFIED) verified.clear();
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
    request?: PendingExchange,
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

  /** A datagram the codec refused, from `sender`. */
  const malformed = (
    error: { code: string; message: string },
    bytes: Uint8Array,
    sender: Peer,
    receiver: Peer,
    m: FrameMeta,
    out: PendingEvent[],
  ) => {
    out.push(
      event(
        {
          action: 'coap.malformed',
          kind: 'security',
          severity: 4,
          message: `malformed CoAP datagram from ${sender.ip}: ${error.message}`,
          fields: {
            code: error.code,
            error: error.message,
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
  };

  return { exchange, unmatched, malformed };
}
