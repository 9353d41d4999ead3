/**
 * Where a captured packet sits in its capture: the frame number Wireshark shows and the capture's
 * timestamp. Every event built from a capture carries the frame that completed it, and time in a
 * capture is always this timestamp, never the clock. A file of its own so the per-protocol
 * followers (mqtt.ts, coap.ts) and the decoder that routes to them share it without importing
 * each other.
 */
export interface FrameMeta {
  /** 1-based frame number in the capture (as Wireshark counts). */
  frame: number;
  ts: Date;
}
