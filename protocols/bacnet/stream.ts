/**
 * What a capture source or `replay` adopts to turn BACnet traffic into events: one stream per
 * capture point, fed every UDP datagram to or from a BACnet/IP port (and, on Ethernet, every
 * 802.2 LLC frame with the BACnet SAP), returning the events of the complete messages and a
 * `bacnet.malformed` event for bytes that are not BACnet. Segments of a longer APDU return no
 * event until the last one. Pure: the caller owns sockets, files and clocks.
 */
import type { PendingEvent } from '../event/schema.ts';
import { createBacnetSession } from './session.ts';
import { bacnetErrorToEvent, bacnetToEvent } from './to-event.ts';

/** The BACnet/IP UDP port (Annex J.1: X'BAC0'); installations use X'BAC0'–X'BACF'. */
export const BACNET_IP_PORT = 47808;

/** True for the sixteen ports Annex J reserves for BACnet/IP networks (47808–47823). */
export function isBacnetPort(port: number): boolean {
  return port >= 0xbac0 && port <= 0xbacf;
}

export interface BacnetDatagram {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Uint8Array;
}

export interface BacnetEventStream {
  /** One UDP datagram; `extra` fields (frame number...) are copied into each event. */
  datagram(d: BacnetDatagram, received: Date, ts?: Date, extra?: Record<string, unknown>): PendingEvent[];
  /** One 802.2 LLC payload (from the DSAP on) between two MAC addresses. */
  llc(
    payload: Uint8Array,
    srcMac: string,
    dstMac: string,
    received: Date,
    ts?: Date,
    extra?: Record<string, unknown>,
  ): PendingEvent[];
  /** Confirmed requests waiting for an answer, and segmented APDUs being reassembled. */
  open(): { requests: number; reassemblies: number };
}

export function createBacnetEventStream(): BacnetEventStream {
  const session = createBacnetSession<undefined>();
  return {
    datagram(d, received, ts, extra) {
      const ctx = {
        received,
        ...(ts ? { ts } : {}),
        ...(extra ? { extra } : {}),
        src: { ip: d.src, port: d.srcPort },
        dst: { ip: d.dst, port: d.dstPort },
        link: 'ip' as const,
      };
      const r = session.decodeDatagram(
        d.payload,
        `${d.src}:${d.srcPort}`,
        `${d.dst}:${d.dstPort}`,
        undefined,
      );
      if (!r.ok) return [bacnetErrorToEvent(r.error, d.payload, ctx)];
      return r.message ? [bacnetToEvent(r.message, ctx)] : [];
    },
    llc(payload, srcMac, dstMac, received, ts, extra) {
      const ctx = { received, ...(ts ? { ts } : {}), ...(extra ? { extra } : {}), link: 'ethernet' as const };
      const r = session.decodeLlc(payload, srcMac, dstMac, undefined);
      if (!r.ok) return [bacnetErrorToEvent(r.error, payload, ctx)];
      return r.message ? [bacnetToEvent(r.message, ctx)] : [];
    },
    open: () => session.open(),
  };
}
