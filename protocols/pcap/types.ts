/**
 * Types shared by the pcap and pcapng readers: what a packet is, the typed errors, and the small
 * constructors both readers use to report them.
 */

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CapturePacket {
  /** Capture time (millisecond precision; see `tsNanos` for the full precision). */
  ts: Date;
  /** Capture time in nanoseconds since the epoch. */
  tsNanos: bigint;
  /** LINKTYPE_* of the interface (1 Ethernet, 101 raw IP, 113 Linux SLL, ...). */
  linkType: number;
  data: Uint8Array;
  /** Length on the wire; more than `data.length` when the capture cut the packet at its snap length. */
  originalLength: number;
  /** pcapng interface index; 0 for classic pcap. */
  interfaceId: number;
}

export type CaptureErrorCode =
  | 'unknown_format'
  | 'invalid_header'
  | 'truncated'
  | 'invalid_block'
  | 'unknown_interface'
  | 'invalid_timestamp';

export interface CaptureError {
  code: CaptureErrorCode;
  message: string;
  /** Byte offset in the file where the problem was found. */
  offset: number;
}

export type CaptureItem = { type: 'packet'; packet: CapturePacket } | { type: 'error'; error: CaptureError };

export interface CaptureResult {
  format: CaptureFormat | null;
  packets: CapturePacket[];
  errors: CaptureError[];
}

/** No real capture has a larger record; a bigger length means a corrupt file, not a big packet. */
export const MAX_PACKET_BYTES = 256 * 1024 * 1024;

export function captureError(code: CaptureErrorCode, message: string, offset: number): CaptureItem {
  return { type: 'error', error: { code, message, offset } };
}

/** A packet item, or an `invalid_timestamp` error when the time does not fit a Date. */
export function packetItem(
  tsNanos: bigint,
  linkType: number,
  data: Uint8Array,
  originalLength: number,
  interfaceId: number,
  offset: number,
  /** `tsNanos` in whole milliseconds when the reader has it as a number already (no BigInt division). */
  tsMs?: number,
): CaptureItem {
  const ts = new Date(tsMs ?? Number(tsNanos / 1_000_000n));
  if (!Number.isFinite(ts.getTime())) {
    return captureError('invalid_timestamp', `timestamp ${tsNanos} ns is out of range`, offset);
  }
  return { type: 'packet', packet: { ts, tsNanos, linkType, data, originalLength, interfaceId } };
}
