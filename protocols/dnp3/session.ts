/**
 * One DNP3 conversation seen from the middle (a mirror port, a replayed capture): the stream-level
 * API a capture source feeds with reassembled TCP payload per direction, or with UDP datagrams.
 * It cuts link frames (link.ts), joins transport segments (transport.ts), decodes each complete
 * fragment (application.ts) and pairs a solicited response with the open request between the same
 * master and outstation (IEEE 1815-2012 §4.2.2.4.3: a solicited response repeats its request's
 * sequence number), so that a response nobody asked for, or one with another sequence number,
 * is visible. Pure: no sockets, no timers; the caller's `meta` (frame number, time) rides along.
 */
import { decodeApdu } from './application.ts';
import { createLinkDeframer, type LinkDeframer, scanLinkFrames, type LinkScanItem } from './link.ts';
import { createTransportReassembler, readTransportHeader } from './transport.ts';
import {
  DNP3_LIMITS,
  type Dnp3Apdu,
  type Dnp3Error,
  type LinkHeader,
  type TransportHeader,
} from './types.ts';

/** Requests that expect no response (§4.4: the _NR functions) and CONFIRM. */
const NO_RESPONSE = new Set([0, 6, 8, 10, 12, 33]);

/** Destinations 0xFFFD–0xFFFF are broadcast (IEEE 1815 §9.2.4.1.5 / Table 9-3). */
export const isBroadcast = (address: number) => address >= 0xfffd;

export interface OpenDnp3Request<M> {
  apdu: Dnp3Apdu;
  link: LinkHeader;
  meta: M;
}

export type Dnp3SessionItem<M> =
  /** Every valid link frame, with its transport octet when it carries user data. */
  | { type: 'link'; link: LinkHeader; transport?: TransportHeader; meta: M }
  /** A complete application fragment; `link` is the header of its last frame. */
  | {
      type: 'apdu';
      link: LinkHeader;
      apdu: Dnp3Apdu;
      segments: number;
      meta: M;
      firstMeta: M;
      request?: OpenDnp3Request<M>;
      anomalies: string[];
    }
  /** Octets, frames or fragments the codec refused; `link` when a valid frame carried them. */
  | { type: 'error'; error: Dnp3Error; link?: LinkHeader; skipped?: number; meta: M };

/** Names one direction of a connection (e.g. `client`/`server`, or the flow key). */
export type Dnp3Side = string;

export interface Dnp3SessionOptions {
  /** Largest application fragment reassembled (default DNP3_LIMITS.MAX_FRAGMENT_BYTES). */
  maxFragmentBytes?: number;
}

export interface Dnp3Session<M> {
  /** Bytes of one direction of a TCP connection, in order; `gap` when bytes were missed before them. */
  push(side: Dnp3Side, data: Uint8Array, meta: M, gap?: boolean): Dnp3SessionItem<M>[];
  /** One UDP datagram (DNP3 over UDP carries whole link frames, IEEE 1815 Annex D). */
  datagram(data: Uint8Array, meta: M): Dnp3SessionItem<M>[];
  /** Requests still waiting for their response. */
  open(): number;
}

export function createDnp3Session<M = undefined>(options: Dnp3SessionOptions = {}): Dnp3Session<M> {
  const deframers = new Map<string, LinkDeframer>();
  const transport = createTransportReassembler<M>(options.maxFragmentBytes);
  const pending = new Map<string, OpenDnp3Request<M>>();

  const pair = (link: LinkHeader, apdu: Dnp3Apdu, meta: M, anomalies: string[]) => {
    if (apdu.direction === 'request') {
      if (NO_RESPONSE.has(apdu.function)) return undefined;
      const key = `${link.source}|${link.destination}`;
      pending.delete(key);
      if (pending.size >= DNP3_LIMITS.MAX_OPEN_REQUESTS) {
        const oldest = pending.keys().next();
        if (!oldest.done) pending.delete(oldest.value);
      }
      pending.set(key, { apdu, link, meta });
      return undefined;
    }
    if (apdu.function !== 129) return undefined; // unsolicited and auth responses answer nothing
    const key = `${link.destination}|${link.source}`;
    const request = pending.get(key);
    if (!request) {
      anomalies.push('unmatched_response');
      return undefined;
    }
    // A multi-fragment response (FIN=0) keeps the request open for the fragments after it.
    if (apdu.control.fin) pending.delete(key);
    if (request.apdu.control.seq !== apdu.control.seq) anomalies.push('sequence_mismatch');
    return request;
  };

  const handle = (key: string, scanned: LinkScanItem[], meta: M, out: Dnp3SessionItem<M>[]) => {
    for (const item of scanned) {
      if (item.type === 'error') {
        out.push({ type: 'error', error: item.error, skipped: item.skipped, meta });
        continue;
      }
      const { header, data } = item.frame;
      if (data.length === 0) {
        out.push({ type: 'link', link: header, meta });
        continue;
      }
      out.push({ type: 'link', link: header, transport: readTransportHeader(data[0]!), meta });
      const r = transport.push(`${key}|${header.source}|${header.destination}`, data, meta);
      if (r === null) continue;
      if (r.type === 'error') {
        out.push({ type: 'error', error: r.error, link: header, meta });
        continue;
      }
      const decoded = decodeApdu(r.data);
      if (!decoded.ok) {
        out.push({ type: 'error', error: decoded.error, link: header, meta });
        continue;
      }
      const anomalies: string[] = [];
      const request = pair(header, decoded.apdu, meta, anomalies);
      const apduItem: Dnp3SessionItem<M> = {
        type: 'apdu',
        link: header,
        apdu: decoded.apdu,
        segments: r.segments,
        meta,
        firstMeta: r.firstMeta,
        anomalies,
      };
      if (request) apduItem.request = request;
      out.push(apduItem);
    }
  };

  return {
    push(side, data, meta, gap = false) {
      let deframer = deframers.get(side);
      if (!deframer) {
        deframer = createLinkDeframer();
        deframers.set(side, deframer);
      }
      if (gap) {
        deframer.reset();
        transport.clear(`${side}|`);
      }
      const out: Dnp3SessionItem<M>[] = [];
      handle(side, deframer.push(data), meta, out);
      return out;
    },
    datagram(data, meta) {
      const out: Dnp3SessionItem<M>[] = [];
      handle('udp', scanLinkFrames(data, true).items, meta, out);
      return out;
    },
    open: () => pending.size,
  };
}
