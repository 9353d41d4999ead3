/**
 * The shapes the EtherNet/IP + CIP codec produces: the encapsulation header (CIP Vol. 2 §2-3),
 * Common Packet Format items (Vol. 2 §2-6), CIP messages with their EPATH (Vol. 1 §2-4, Appendix
 * C), the List Identity item (Vol. 2 §2-4.3.2), implicit I/O datagrams, typed errors and the
 * limits every length field is capped against, so an attacker-controlled length never sizes an
 * allocation or a loop beyond them.
 */

/** Registered ports (Vol. 2 §2-2): explicit messaging on TCP/UDP 44818, implicit I/O on UDP 2222. */
export const ENIP_PORT = 44818;
export const CIP_IO_PORT = 2222;

/** Vol. 2 §2-3.1: 24-byte header; the length field allows at most 65511 bytes of data. */
export const ENCAP_HEADER_BYTES = 24;
export const MAX_ENCAP_DATA_BYTES = 65_511;
/** CPF items read per message; real messages carry 2 to 4 (Vol. 2 §2-6.1). */
export const MAX_CPF_ITEMS = 16;
/** Services read from one Multiple Service Packet (Vol. 1 § ); a 504-byte frame holds ~120. */
export const MAX_MSP_SERVICES = 256;
/** Nesting of Unconnected Send / Multiple Service Packet inside each other. */
export const MAX_CIP_DEPTH = 4;
/** Bytes of a message's data kept as hex in events. */
export const MAX_PREVIEW_BYTES = 64;

export type EnipDirection = 'request' | 'response';

/** Encapsulation header (Vol. 2 §2-3.1), little-endian on the wire. */
export interface EncapHeader {
  command: number;
  length: number;
  sessionHandle: number;
  status: number;
  /** Sender context, 8 bytes echoed by the target, as 16 hex digits. */
  senderContext: string;
  options: number;
}

/** Common Packet Format item (Vol. 2 §2-6). */
export interface CpfItem {
  typeId: number;
  data: Uint8Array;
}

/** An EPATH decoded to what rules match (Vol. 1 Appendix C-1.4). */
export interface CipPath {
  classId?: number;
  instanceId?: number;
  attributeId?: number;
  memberId?: number;
  connectionPoint?: number;
  /** ANSI extended symbol segments (0x91) joined with '.', e.g. a Logix tag name. */
  symbol?: string;
  /** Port segments (routing through a backplane or a network). */
  route?: Array<{ port: number; link: string }>;
}

export interface CipMessage {
  direction: EnipDirection;
  /** The service without the reply bit (0x80). */
  service: number;
  path?: CipPath;
  /** Responses: general status (Vol. 1 Appendix B) and additional status words. */
  generalStatus?: number;
  extendedStatus?: number[];
  /** The bytes after the path (requests) or the status (responses). */
  data: Uint8Array;
  /** Get/Set_Attribute_List requests: the attribute ids listed (Vol. 1 §, § ). */
  attributes?: number[];
  /** Multiple Service Packet (0x0A) or Unconnected Send (0x52 to class 6): the messages inside. */
  embedded?: CipMessage[];
  /** Forward_Open / Large_Forward_Open requests (Vol. 1 §3-5.4.2): the connection ids asked for. */
  forwardOpen?: { otConnectionId: number; toConnectionId: number; serial: number; vendorId: number };
  /** Spec violations that did not stop decoding. */
  anomalies: string[];
}

/** One List Identity item (Vol. 2 §2-4.3.2, Table 2-4.4): a device describing itself. */
export interface EnipIdentity {
  encapsulationVersion: number;
  socketAddress: string;
  socketPort: number;
  vendorId: number;
  deviceType: number;
  productCode: number;
  revision: string;
  status: number;
  serialNumber: number;
  productName: string;
  state: number;
}

/** A decoded encapsulation message (TCP or UDP 44818) or an implicit I/O datagram (UDP 2222). */
export interface EnipPdu {
  type: 'encap' | 'io';
  header?: EncapHeader;
  items: CpfItem[];
  /** Connected address item (0xA1) or sequenced address item (0x8002). */
  connectionId?: number;
  /** Sequenced address item's sequence number (implicit I/O). */
  ioSequence?: number;
  /** CIP sequence count of connected explicit messages (first 2 bytes of item 0xB1). */
  sequenceCount?: number;
  /** The CIP message of SendRRData / SendUnitData. */
  cip?: CipMessage;
  /** List Identity responses. */
  identities?: EnipIdentity[];
  /** Implicit I/O payload (connected data item of a UDP 2222 datagram). */
  ioData?: Uint8Array;
  anomalies: string[];
}

export type EnipErrorCode =
  | 'truncated'
  | 'invalid_length'
  | 'too_many_items'
  | 'invalid_item'
  | 'invalid_path'
  | 'invalid_cip'
  | 'unknown_command';

export interface EnipError {
  code: EnipErrorCode;
  message: string;
}

export type EnipResult<T> = { ok: true; value: T } | { ok: false; error: EnipError };

export function enipError(code: EnipErrorCode, message: string): { ok: false; error: EnipError } {
  return { ok: false, error: { code, message } };
}

export const u16le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
export const u32le = (b: Uint8Array, at: number) =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

export function hex(b: Uint8Array, max = MAX_PREVIEW_BYTES): string {
  let s = '';
  const n = Math.min(b.length, max);
  for (let i = 0; i < n; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}

export const hex8 = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;
