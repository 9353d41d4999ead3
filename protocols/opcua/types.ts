/**
 * Types, limits and names of the OPC UA binary codec (OPC 10000-6 "Mappings", UA TCP and UA
 * Secure Conversation): the message types a chunk header names, the decoded shapes the codec
 * returns, its typed errors, and the numeric ids of the services' DefaultBinary encodings
 * (OPC 10000-6 Annex A, NodeIds.csv) with the names the events use. No logic beyond lookups.
 */

/** UA TCP and Secure Conversation message types (OPC 10000-6 §7.1.2.2 and §6.7.2.2). */
export const MESSAGE_TYPES = ['HEL', 'ACK', 'ERR', 'RHE', 'OPN', 'MSG', 'CLO'] as const;
export type OpcuaMessageType = (typeof MESSAGE_TYPES)[number];
/** F final, C intermediate, A abort (§6.7.2.2). */
export type OpcuaChunkType = 'F' | 'C' | 'A';
export type OpcuaDirection = 'request' | 'response';

export const CHUNK_HEADER_BYTES = 8;

/**
 * Caps on attacker-controlled lengths. The spec lets peers negotiate buffers (HEL/ACK, §7.1.2.3)
 * with a minimum of 8,192 bytes; we never buffer more than these whatever a header claims.
 */
export const OPCUA_LIMITS = {
  /** One chunk (MessageSize field). open62541 and the .NET stack default to 64 KiB. */
  MAX_CHUNK_BYTES: 1_048_576,
  /** One message reassembled from its chunks. */
  MAX_MESSAGE_BYTES: 4_194_304,
  /** Chunks of one message. */
  MAX_CHUNKS: 4096,
  /** Endpoint URL and ERR reason: 4,096 bytes (§7.1.2.3, §7.1.2.5). */
  MAX_URL_BYTES: 4096,
  /** Nesting of DiagnosticInfo, Variant and DataValue inside one another. */
  MAX_DEPTH: 16,
  /** Values kept per array in an event (the rest are parsed and counted, not kept). */
  MAX_KEPT_VALUES: 32,
  /** Characters kept of a string value in an event. */
  MAX_KEPT_STRING: 256,
} as const;

export type OpcuaErrorCode =
  | 'invalid_message_type'
  | 'invalid_chunk_type'
  | 'invalid_size'
  | 'chunk_too_large'
  | 'message_too_large'
  | 'too_many_chunks'
  | 'truncated'
  | 'invalid_length'
  | 'too_deep'
  | 'invalid_encoding';

export interface OpcuaError {
  code: OpcuaErrorCode;
  message: string;
}

export interface ChunkHeader {
  type: OpcuaMessageType;
  chunkType: OpcuaChunkType;
  /** MessageSize: the whole chunk, header included. */
  size: number;
}

export interface OpcuaHello {
  version: number;
  receiveBufferSize: number;
  sendBufferSize: number;
  maxMessageSize: number;
  maxChunkCount: number;
  endpointUrl?: string;
}

export interface RequestHeader {
  authenticationToken: string;
  requestHandle: number;
  returnDiagnostics: number;
  auditEntryId: string | null;
  timeoutHint: number;
}

export interface ResponseHeader {
  requestHandle: number;
  serviceResult: number;
}

/** A decoded service body (a MSG, OPN or CLO message after its sequence header). */
export interface OpcuaService {
  /** Numeric id of the DefaultBinary encoding node (ns 0), or -1 for a non-numeric one. */
  typeId: number;
  /** `WriteRequest`, `ServiceFault`, or `Unknown_<id>`. */
  name: string;
  requestHeader?: RequestHeader;
  responseHeader?: ResponseHeader;
  /** Service-specific fields, already in event form (snake_case keys, JSON values). */
  detail: Record<string, unknown>;
  /** The body past the header could not be decoded (its header still was). */
  bodyError?: OpcuaError;
}

/** One OPC UA message: a single chunk, or the chunks of a message reassembled. */
export interface OpcuaMessage {
  type: OpcuaMessageType;
  /** The last chunk's type: F, or A when the sender aborted the message. */
  chunkType: OpcuaChunkType;
  /** Bytes of every chunk, headers included. */
  size: number;
  chunks: number;
  hello?: OpcuaHello;
  acknowledge?: Omit<OpcuaHello, 'endpointUrl'>;
  error?: { status: number; reason: string | null };
  reverseHello?: { serverUri: string | null; endpointUrl: string | null };
  secureChannelId?: number;
  tokenId?: number;
  securityPolicyUri?: string | null;
  senderCertificateBytes?: number;
  receiverThumbprintBytes?: number;
  sequenceNumber?: number;
  requestId?: number;
  /** Body unreadable: asymmetric encryption (OPN with a policy other than None) or a secured channel. */
  encrypted?: boolean;
  service?: OpcuaService;
}

export type OpcuaResult<T> = { ok: true; value: T } | { ok: false; error: OpcuaError };

export const SECURITY_POLICY_PREFIX = 'http://opcfoundation.org/UA/SecurityPolicy#';
export const SECURITY_POLICY_NONE = `${SECURITY_POLICY_PREFIX}None`;

/** MessageSecurityMode (OPC 10000-4 §7.20). */
export const SECURITY_MODES: Record<number, string> = {
  0: 'Invalid',
  1: 'None',
  2: 'Sign',
  3: 'SignAndEncrypt',
};

/** DefaultBinary encoding ids of the identity tokens (OPC 10000-4 §7.41). */
export const IDENTITY_TOKENS: Record<number, string> = {
  321: 'anonymous',
  324: 'username',
  327: 'x509',
  940: 'issued',
};

/** DefaultBinary encoding ids of the services (NodeIds.csv), request and response. */
const SERVICE_PAIRS: ReadonlyArray<readonly [string, number, number]> = [
  ['FindServers', 422, 425],
  ['FindServersOnNetwork', 12208, 12209],
  ['GetEndpoints', 428, 431],
  ['RegisterServer', 437, 440],
  ['RegisterServer2', 12211, 12212],
  ['OpenSecureChannel', 446, 449],
  ['CloseSecureChannel', 452, 455],
  ['CreateSession', 461, 464],
  ['ActivateSession', 467, 470],
  ['CloseSession', 473, 476],
  ['Cancel', 479, 482],
  ['AddNodes', 488, 491],
  ['AddReferences', 494, 497],
  ['DeleteNodes', 500, 503],
  ['DeleteReferences', 506, 509],
  ['Browse', 527, 530],
  ['BrowseNext', 533, 536],
  ['TranslateBrowsePathsToNodeIds', 554, 557],
  ['RegisterNodes', 560, 563],
  ['UnregisterNodes', 566, 569],
  ['QueryFirst', 615, 618],
  ['QueryNext', 621, 624],
  ['Read', 631, 634],
  ['HistoryRead', 664, 667],
  ['Write', 673, 676],
  ['HistoryUpdate', 700, 703],
  ['Call', 712, 715],
  ['CreateMonitoredItems', 751, 754],
  ['ModifyMonitoredItems', 763, 766],
  ['SetMonitoringMode', 769, 772],
  ['SetTriggering', 775, 778],
  ['DeleteMonitoredItems', 781, 784],
  ['CreateSubscription', 787, 790],
  ['ModifySubscription', 793, 796],
  ['SetPublishingMode', 799, 802],
  ['Publish', 826, 829],
  ['Republish', 832, 835],
  ['TransferSubscriptions', 841, 844],
  ['DeleteSubscriptions', 847, 850],
];

export interface ServiceInfo {
  /** `Write` */
  service: string;
  /** `WriteRequest` */
  name: string;
  kind: 'request' | 'response' | 'fault';
}

export const SERVICE_FAULT_ID = 397;

export const SERVICES: ReadonlyMap<number, ServiceInfo> = new Map<number, ServiceInfo>([
  ...SERVICE_PAIRS.flatMap(([service, req, res]) => [
    [req, { service, name: `${service}Request`, kind: 'request' as const }] as const,
    [res, { service, name: `${service}Response`, kind: 'response' as const }] as const,
  ]),
  [SERVICE_FAULT_ID, { service: 'ServiceFault', name: 'ServiceFault', kind: 'fault' }],
]);

/** `TranslateBrowsePathsToNodeIds` → `translate_browse_paths_to_node_ids`. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** Status codes an OT monitor cares to name (OPC 10000-4 §7.39, StatusCode.csv). */
export const STATUS_NAMES: Record<number, string> = {
  0x00000000: 'Good',
  0x80010000: 'BadUnexpectedError',
  0x80020000: 'BadInternalError',
  0x80060000: 'BadEncodingError',
  0x80070000: 'BadDecodingError',
  0x800a0000: 'BadTimeout',
  0x800b0000: 'BadServiceUnsupported',
  0x800f0000: 'BadNothingToDo',
  0x80100000: 'BadTooManyOperations',
  0x80130000: 'BadSecurityChecksFailed',
  0x801f0000: 'BadUserAccessDenied',
  0x80200000: 'BadIdentityTokenInvalid',
  0x80210000: 'BadIdentityTokenRejected',
  0x80220000: 'BadSecureChannelIdInvalid',
  0x80250000: 'BadSessionIdInvalid',
  0x80260000: 'BadSessionClosed',
  0x80270000: 'BadSessionNotActivated',
  0x80340000: 'BadNodeIdUnknown',
  0x80350000: 'BadAttributeIdInvalid',
  0x803a0000: 'BadNotReadable',
  0x803b0000: 'BadNotWritable',
  0x80550000: 'BadSecurityPolicyRejected',
  0x80790000: 'BadNoSubscription',
};

export function statusHex(code: number): string {
  return `0x${(code >>> 0).toString(16).padStart(8, '0')}`;
}

/** Top two bits of a StatusCode: 00 Good, 01 Uncertain, 10/11 Bad (OPC 10000-4 §7.39.1). */
export function statusSeverity(code: number): 'good' | 'uncertain' | 'bad' {
  const top = code >>> 30;
  return top === 0 ? 'good' : top === 1 ? 'uncertain' : 'bad';
}
