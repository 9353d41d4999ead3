/**
 * CoAP → `Event`: the `coap.*` events. The device is the CoAP endpoint (address and port), fields
 * carry the method, path, sizes and response code. One builder for the gateway's CoAP endpoint
 * (gateway/sources/coap) and for CoAP seen in a capture (gateway/sources/capture). Pure: the time
 * is passed in. Actions and fields are documented in protocols/event/SPEC.md.
 */
import { compact } from '../event/compact.ts';
import type { EventKind, PendingEvent } from '../event/schema.ts';

export interface Peer {
  ip: string;
  port: number;
}

export function coapEvent(
  spec: {
    action: string;
    kind: EventKind;
    severity: number;
    message: string;
    fields?: Record<string, unknown>;
    tags?: string[];
  },
  peer: Peer,
  local: Peer | undefined,
  now: Date,
  listener: string,
): PendingEvent {
  const received = now.toISOString();
  const endpoint = peer.ip.includes(':') ? `[${peer.ip}]:${peer.port}` : `${peer.ip}:${peer.port}`;
  return {
    ts: received,
    received,
    source: 'coap',
    kind: spec.kind,
    action: spec.action,
    severity: spec.severity,
    message: spec.message.slice(0, 4096),
    device: { id: `coap:${peer.ip}`, protocol_id: endpoint },
    src: { ip: peer.ip, port: peer.port },
    ...(local ? { dst: { ip: local.ip, port: local.port } } : {}),
    fields: compact({ listener, ...spec.fields }),
    tags: spec.tags ?? [],
  };
}
