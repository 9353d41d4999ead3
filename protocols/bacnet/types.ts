/**
 * BACnet types (ANSI/ASHRAE 135-2020: Annex J for BVLC, clause 6 for the NPDU, clauses 20 and 21
 * for the APDU and its services): what the decoder returns and its typed errors. The names of the
 * codes are in names.ts.
 */

/** What a datagram or a frame could not be decoded as; never an exception. */
export type BacnetErrorCode =
  | 'truncated'
  | 'not_bvlc'
  | 'bvlc_length_mismatch'
  | 'unsupported_npdu_version'
  | 'invalid_address'
  | 'invalid_tag'
  | 'invalid_apdu';

export interface BacnetError {
  code: BacnetErrorCode;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: BacnetError };

export const fail = (code: BacnetErrorCode, message: string): { ok: false; error: BacnetError } => ({
  ok: false,
  error: { code, message },
});

/** BACnet Virtual Link Control header (Annex J.2). */
export interface Bvlc {
  function: number;
  functionName: string;
  length: number;
  /** Forwarded-NPDU (J.2.9): the B/IP address of the original sender, `ip:port`. */
  originalSource?: string;
  /** Register-Foreign-Device (J.2.6): the time-to-live the foreign device asks for. */
  ttlSecs?: number;
  /** BVLC-Result (J.2.1) result code. */
  resultCode?: number;
}

/** Network layer protocol data unit header (clause 6.2). */
export interface Npdu {
  version: number;
  control: number;
  /** Clause 6.2.2 bit 7: a network layer message, not an APDU. */
  networkMessage: boolean;
  expectingReply: boolean;
  priority: number;
  dnet?: number;
  /** DADR as hex; empty string for a broadcast on DNET (DLEN 0). */
  dadr?: string;
  snet?: number;
  sadr?: string;
  hopCount?: number;
  messageType?: number;
  messageName?: string;
  vendorId?: number;
  /** Networks a router announces or asks for (Who-Is-Router, I-Am-Router..., clause 6.4). */
  networks?: number[];
}

export const PDU_TYPES = [
  'confirmed_request',
  'unconfirmed_request',
  'simple_ack',
  'complex_ack',
  'segment_ack',
  'error',
  'reject',
  'abort',
] as const;
export type PduTypeName = (typeof PDU_TYPES)[number] | `unknown_${number}`;

/** An object identifier (clause 20.2.14): 10-bit type, 22-bit instance. */
export interface ObjectId {
  type: number;
  instance: number;
}

/** A decoded primitive value (clause 20.2): what a rule or a baseline can compare. */
export type BacnetValue = null | boolean | number | string | ObjectId;

/** Service parameters a rule or the inventory can use; absent when the service does not carry them. */
export interface ServiceParams {
  object?: ObjectId;
  property?: number;
  arrayIndex?: number;
  /** Primitive values of the property value (writeProperty, readProperty-ACK), capped. */
  values?: BacnetValue[];
  /** How many values there were, when more than kept. */
  valueCount?: number;
  priority?: number;
  /** reinitializeDevice reinitialized-state-of-device (21.x, clause 16.4.1.1.1). */
  reinitializeState?: number;
  /** deviceCommunicationControl enable-disable (clause 16.1.1.1.2). */
  enableDisable?: number;
  timeDurationMins?: number;
  /** A non-empty password was sent (its value is never kept). */
  passwordPresent?: boolean;
  /** who-Is / who-Has limits. */
  lowLimit?: number;
  highLimit?: number;
  /** i-Am (clause 16.10): the device's identity. */
  deviceInstance?: number;
  maxApdu?: number;
  segmentationSupported?: number;
  vendorId?: number;
  objectName?: string;
  errorClass?: number;
  errorCode?: number;
  /** Every property named in a list (readPropertyMultiple, writePropertyMultiple...), capped. */
  properties?: number[];
  /** Every object identifier in encoding order (parameters and values), capped. */
  objects?: ObjectId[];
}

/** Application layer header (clause 20.1) and, when complete, its service parameters. */
export interface Apdu {
  type: number;
  typeName: PduTypeName;
  segmented: boolean;
  moreFollows: boolean;
  segmentedResponseAccepted?: boolean;
  maxSegments?: number;
  maxApdu?: number;
  invokeId?: number;
  sequenceNumber?: number;
  windowSize?: number;
  /** Segment-ACK: negative acknowledgement, and sent by the server. */
  nak?: boolean;
  server?: boolean;
  serviceChoice?: number;
  /** Reject reason, abort reason. */
  reason?: number;
  /** The service parameters' bytes (one segment's share when segmented). */
  body: Uint8Array;
  /** Decoded parameters; absent for a segment not yet reassembled. */
  params?: ServiceParams;
  /** Problems in the parameters that did not stop the header decoding (`invalid_tag`...). */
  anomalies: string[];
}

/** One BACnet message: a BVLC datagram (absent over 802.2 LLC), its NPDU and its APDU. */
export interface BacnetFrame {
  /** Problems that did not stop the decoding (`bvlc_length_mismatch`). */
  anomalies?: string[];
  bvlc?: Bvlc;
  npdu?: Npdu;
  apdu?: Apdu;
}
