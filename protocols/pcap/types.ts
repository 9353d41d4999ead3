/**
 * Types shared by the pcap and pcapng readers: what a packet is, the typed errors, and the small
 * constructors both readers use to report them.
 */

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CapturePacket {
  /** Capture time (millisecond precision; see `tsNanos` for the full precision). */
  readonly ts: Date;
  /** Capture time in nanoseconds since the epoch. */
  readonly tsNanos: bigint;
  /** LINKTYPE_* of the interface (1 Ethernet, 101 raw IP, 113 Linux SLL, ...). */
  readonly linkType: number;
  /** The frame's bytes: a plain Uint8Array view (not a Buffer, whose views cost more to make). */
  readonly data: Uint8Array;
  /** Length on the wire; more than `data.length` when the capture cut the packet at its snap length. */
  readonly originalLength: number;
  /** pcapng interface index; 0 for classic pcap. */
  readonly interfaceId: number;
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

/**
 * `bytes` as a plain Uint8Array view of the same memory. Packets are views of what was read, and
 * the codecs slice them many times: a Buffer's subarray builds a Buffer through its species
 * constructor, several times slower than a Uint8Array's (`node --cpu-prof`).
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** No real capture has a larger record; a bigger length means a corrupt file, not a big packet. */
export const MAX_PACKET_BYTES = 256 * 1024 * 1024;

export function captureError(code: CaptureErrorCode, message: string, offset: number): CaptureItem {
  return { type: 'error', error: { code, message, offset } };
}

/**
 * A captured packet. Its time in nanoseconds is a BigInt made when asked for: nothing on the
 * gateway's paths asks, and four BigInt operations per packet were a tenth of reading a capture
 * (`node --cpu-prof` on modbusBig.pcap).
 */
class Packet implements CapturePacket {
  readonly #ms: number;
  readonly #subMsNanos: number;
  readonly #nanos: bigint | undefined;
  constructor(
    readonly ts: Date,
    readonly linkType: number,
    readonly data: Uint8Array,
    readonly originalLength: number,
    readonly interfaceId: number,
    ms: number,
    subMsNanos: number,
    nanos: bigint | undefined,
  ) {
    this.#ms = ms;
    this.#subMsNanos = subMsNanos;
    this.#nanos = nanos;
  }

  get tsNanos(): bigint {
    return this.#nanos ?? BigInt(this.#ms) * 1_000_000n + BigInt(this.#subMsNanos);
  }
}

/**
 * A packet item, or an `invalid_timestamp` error when the time does not fit a Date. The time is
 * either exact nanoseconds (a BigInt) or whole milliseconds since the epoch and the nanoseconds
 * after them (`subMsNanos`, 0 to 999,999), as plain numbers.
 */
export function packetItem(
  time: bigint | number,
  linkType: number,
  data: Uint8Array,
  originalLength: number,
  interfaceId: number,
  offset: number,
  subMsNanos = 0,
): CaptureItem {
  const exact = typeof time === 'bigint';
  const ms = exact ? Number(time / 1_000_000n) : time;
  const ts = new Date(ms);
  if (!Number.isFinite(ts.getTime())) {
    const nanos = exact ? time : BigInt(time) * 1_000_000n + BigInt(subMsNanos);
    return captureError('invalid_timestamp', `timestamp ${nanos} ns is out of range`, offset);
  }
  const packet = new Packet(
    ts,
    linkType,
    data,
    originalLength,
    interfaceId,
    ms,
    subMsNanos,
    exact ? time : undefined,
  );
  return { type: 'packet', packet };
}
