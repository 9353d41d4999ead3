/**
 * BACnet traffic seen from the middle (a mirror port or a replayed capture): reassembles segmented
 * APDUs (ANSI/ASHRAE 135-2020 clause 5.2: segments in sequence-number order, `more-follows` clear
 * on the last) and pairs each answer (SimpleACK, ComplexACK, Error, Reject, Abort) with its
 * confirmed request by invoke id between the same two BACnet addresses (clause 5.4: the invoke id
 * is unique per requester and responder), so an answer carries its request's service and object
 * and an answer nobody asked for is visible. One session serves a whole capture point: BACnet/IP
 * is UDP, so there is no connection to hang it on; addresses are the caller's `ip:port` strings
 * extended with the NPDU's network address when the message was routed. Pure: no sockets, no
 * timers; every table is capped so a flood cannot grow it.
 */
import { decodeBacnetIp, decodeBacnetLlc } from './decode.ts';
import { decodeParams } from './services.ts';
import type { Apdu, BacnetError, BacnetFrame, Npdu, ServiceParams } from './types.ts';

/** Confirmed requests kept waiting for an answer; the oldest is forgotten beyond this. */
export const MAX_OPEN_TRANSACTIONS = 1024;
/** Segmented APDUs being reassembled at once. */
export const MAX_REASSEMBLIES = 64;
/**
 * Largest reassembled APDU: 256 segments of the largest B/IP APDU (1,476 octets, clause 20.1.2.5)
 * fit under it. A transfer that grows past it is dropped with `reassembly_too_large`.
 */
export const MAX_REASSEMBLY_BYTES = 384 * 1024;

export interface OpenRequest<M> {
  client: string;
  server: string;
  invokeId: number;
  serviceChoice: number;
  params?: ServiceParams;
  meta: M;
}

/** A complete BACnet message: one datagram, or the last segment of a reassembled APDU. */
export interface BacnetMessage<M> {
  frame: BacnetFrame;
  /** Sender and receiver as BACnet addresses (`ip:port`, plus `/net:mac` when routed). */
  from: string;
  to: string;
  /** How many segments the APDU arrived in, when it was segmented. */
  segments?: number;
  /** The request this answers. */
  request?: OpenRequest<M>;
  /** Pairing and reassembly problems: `unmatched_response`, `service_mismatch`, `segment_out_of_order`... */
  anomalies: string[];
}

export type SessionResult<M> =
  { ok: true; frame: BacnetFrame; message?: BacnetMessage<M> } | { ok: false; error: BacnetError };

export interface BacnetSession<M> {
  /** A BACnet/IP datagram (UDP payload) between `src` and `dst` (`ip:port`). */
  decodeDatagram(payload: Uint8Array, src: string, dst: string, meta: M): SessionResult<M>;
  /** A BACnet/Ethernet 802.2 LLC payload (DSAP onwards) between two MAC addresses. */
  decodeLlc(payload: Uint8Array, src: string, dst: string, meta: M): SessionResult<M>;
  /** Requests still waiting for an answer, and reassemblies in progress. */
  open(): { requests: number; reassemblies: number };
}

interface Reassembly {
  next: number;
  parts: Uint8Array[];
  bytes: number;
}

function address(base: string, net?: number, mac?: string): string {
  return net === undefined ? base : `${base}/${net}:${mac ?? ''}`;
}

function evictOldest<K, V>(m: Map<K, V>, max: number): void {
  if (m.size < max) return;
  const oldest = m.keys().next();
  if (!oldest.done) m.delete(oldest.value);
}

export function createBacnetSession<M = undefined>(): BacnetSession<M> {
  const pending = new Map<string, OpenRequest<M>>();
  const segments = new Map<string, Reassembly>();

  function reassemble(
    key: string,
    apdu: Apdu,
    anomalies: string[],
  ): { body: Uint8Array; count: number } | null {
    const seq = apdu.sequenceNumber ?? 0;
    let r = segments.get(key);
    // Sequence numbers count modulo 256 (clause 20.1.2.7): a 0 that is the expected next segment
    // continues a long transfer; any other 0 starts a new one.
    if (seq === 0 && !(r && r.next > 0 && (r.next & 0xff) === 0)) {
      segments.delete(key);
      evictOldest(segments, MAX_REASSEMBLIES);
      r = { next: 0, parts: [], bytes: 0 };
      segments.set(key, r);
    }
    if (!r || seq !== (r.next & 0xff)) {
      // A duplicate of the previous segment is a retransmission, not a gap.
      if (r && seq === ((r.next - 1) & 0xff)) anomalies.push('duplicate_segment');
      else {
        anomalies.push('segment_out_of_order');
        segments.delete(key);
      }
      return null;
    }
    r.bytes += apdu.body.length;
    if (r.bytes > MAX_REASSEMBLY_BYTES) {
      anomalies.push('reassembly_too_large');
      segments.delete(key);
      return null;
    }
    r.parts.push(apdu.body);
    r.next++;
    if (apdu.moreFollows) return null;
    segments.delete(key);
    return { body: Buffer.concat(r.parts), count: r.parts.length };
  }

  function handle(frame: BacnetFrame, src: string, dst: string, meta: M): SessionResult<M> {
    const npdu: Npdu | undefined = frame.npdu;
    const from = address(src, npdu?.snet, npdu?.sadr);
    const to = address(dst, npdu?.dnet, npdu?.dadr);
    const anomalies: string[] = [];
    const apdu = frame.apdu;
    if (!apdu) return { ok: true, frame, message: { frame, from, to, anomalies } };
    let message: BacnetMessage<M> = { frame, from, to, anomalies };
    if (apdu.segmented) {
      const done = reassemble(`${from}>${to}|${apdu.type}|${apdu.invokeId}`, apdu, anomalies);
      if (!done) return anomalies.length > 0 ? { ok: true, frame, message } : { ok: true, frame };
      const decoded = decodeParams(apdu.type, apdu.serviceChoice ?? 0, done.body);
      const whole: Apdu = { ...apdu, body: done.body, params: decoded.params, anomalies: decoded.anomalies };
      message = { frame: { ...frame, apdu: whole }, from, to, segments: done.count, anomalies };
    }
    const a = message.frame.apdu!;
    if (a.type === 0) {
      evictOldest(pending, MAX_OPEN_TRANSACTIONS);
      const key = `${from}>${to}|${a.invokeId}`;
      pending.delete(key);
      const open: OpenRequest<M> = {
        client: from,
        server: to,
        invokeId: a.invokeId!,
        serviceChoice: a.serviceChoice!,
        meta,
      };
      if (a.params) open.params = a.params;
      pending.set(key, open);
    } else if (a.type >= 2 && a.type !== 4) {
      // An Abort sent by the client (SRV clear, clause 20.1.9.2) travels client → server.
      const fromClient = a.type === 7 && a.server === false;
      const key = fromClient ? `${from}>${to}|${a.invokeId}` : `${to}>${from}|${a.invokeId}`;
      const request = pending.get(key);
      if (!request) anomalies.push('unmatched_response');
      else {
        pending.delete(key);
        message.request = request;
        if (a.serviceChoice !== undefined && a.serviceChoice !== request.serviceChoice)
          anomalies.push('service_mismatch');
      }
    }
    return { ok: true, frame, message };
  }

  return {
    decodeDatagram(payload, src, dst, meta) {
      const r = decodeBacnetIp(payload);
      return r.ok ? handle(r.value, src, dst, meta) : r;
    },
    decodeLlc(payload, src, dst, meta) {
      const r = decodeBacnetLlc(payload);
      return r.ok ? handle(r.value, src, dst, meta) : r;
    },
    open: () => ({ requests: pending.size, reassemblies: segments.size }),
  };
}
