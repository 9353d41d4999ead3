/**
 * Maps a decoded OPC UA message to the one `Event` (protocols/event/SPEC.md, "OPC UA"): one
 * event per request and per response, the action named after the service (`opcua.write`, `opcua.call`,
 * `opcua.activate_session`), UA TCP and secure channel messages after their type
 * (`opcua.hello`, `opcua.open_secure_channel`), bodies on a secured channel as
 * `opcua.secured_message`, undecodable bytes as `opcua.malformed`. `kind` and `severity` say what
 * matters to a SOC: what changes the process or the address space (Write, Call, node management,
 * HistoryUpdate) and who authenticates how (sessions, channels, rejected identities) are
 * `security`; reads, browsing and subscriptions are `telemetry`.
 */
import {
  type Endpoint,
  type EndpointEventContext,
  endpointEvent,
  eventTags,
} from '../event/endpoint-event.ts';
import type { PendingEvent } from '../event/schema.ts';
import type { OpcuaDecoded } from './session.ts';
import { snakeCase, SERVICES, STATUS_NAMES, statusHex, statusSeverity, type OpcuaMessage } from './types.ts';

export interface OpcuaEventContext extends EndpointEventContext {
  /**
   * The server's application URI learnt on an earlier connection to the same address and port:
   * the device's identity until this connection names one itself.
   */
  serverApplicationUri?: string;
  /** The client and the server of the connection (the server is the device the event is about). */
  client?: Endpoint;
  server?: Endpoint;
}

/** Services that change the process or the server's address space. */
const CHANGES = new Set([
  'Write',
  'Call',
  'AddNodes',
  'DeleteNodes',
  'AddReferences',
  'DeleteReferences',
  'HistoryUpdate',
]);
/** Services about who connects and how. */
const ACCESS = new Set([
  'CreateSession',
  'ActivateSession',
  'CloseSession',
  'OpenSecureChannel',
  'CloseSecureChannel',
  'RegisterServer',
  'RegisterServer2',
]);
/** Refusals of an identity or of the channel's security (OPC 10000-4 §7.39). */
const ACCESS_REFUSED = new Set([0x801f0000, 0x80200000, 0x80210000, 0x80130000, 0x80550000]);

const TRANSPORT_ACTIONS: Record<string, string> = {
  HEL: 'opcua.hello',
  ACK: 'opcua.acknowledge',
  ERR: 'opcua.error',
  RHE: 'opcua.reverse_hello',
  OPN: 'opcua.open_secure_channel',
  CLO: 'opcua.close_secure_channel',
};

export function opcuaAction(m: OpcuaMessage): string {
  if (m.chunkType === 'A') return 'opcua.abort';
  if (m.type !== 'MSG') return TRANSPORT_ACTIONS[m.type]!;
  if (m.encrypted) return 'opcua.secured_message';
  return (m.service && SERVICE_ACTIONS.get(m.service.typeId)) ?? 'opcua.unknown_service';
}

/** `opcua.write` for both WriteRequest and WriteResponse, computed once per service. */
const SERVICE_ACTIONS = new Map([...SERVICES].map(([id, info]) => [id, `opcua.${snakeCase(info.service)}`]));

function classify(
  m: OpcuaMessage,
  direction: string,
  status?: number,
): { kind: PendingEvent['kind']; severity: number } {
  if (m.type === 'ERR' || m.chunkType === 'A') return { kind: 'security', severity: 4 };
  if (status !== undefined && ACCESS_REFUSED.has(status)) return { kind: 'security', severity: 4 };
  const service = m.service ? SERVICES.get(m.service.typeId)?.service : undefined;
  const response = direction === 'response';
  if (m.type === 'MSG' && !m.encrypted && !service) return { kind: 'security', severity: 4 };
  if (service && CHANGES.has(service)) return { kind: 'security', severity: response ? 6 : 5 };
  if (m.type === 'OPN' || m.type === 'CLO' || (service && ACCESS.has(service)))
    return { kind: 'security', severity: 6 };
  if (service === 'ServiceFault') return { kind: 'security', severity: 5 };
  return { kind: 'telemetry', severity: 6 };
}

function describe(m: OpcuaMessage, direction: string, fields: Record<string, unknown>): string {
  let text = m.service?.name ?? `${m.type}${m.encrypted ? ' (secured)' : ''} ${direction}`;
  if (fields.status && fields.status !== 'Good') text += ` ${String(fields.status)}`;
  if (fields.security_policy) text += ` policy ${String(fields.security_policy)}`;
  if (fields.identity_token) text += ` identity ${String(fields.identity_token)}`;
  if (fields.user_name) text += ` user ${String(fields.user_name)}`;
  const ids = (fields.node_ids ?? fields.method_ids) as string[] | undefined;
  if (ids && ids.length > 0) text += ` ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''}`;
  if (fields.endpoint_url && m.type === 'HEL') text += ` ${String(fields.endpoint_url)}`;
  return text;
}

/** Sender and receiver: the client sends requests, the server answers. */
function peers(ctx: OpcuaEventContext, direction: string): [Endpoint | undefined, Endpoint | undefined] {
  return direction === 'response' ? [ctx.server, ctx.client] : [ctx.client, ctx.server];
}

/**
 * The server as a device. Its `protocol_id` is its application URI and nothing else (OPC 10000-4
 * §7.2: unique to the application instance): never the endpoint URL of a HEL, which each client
 * spells its own way (host name, address, `localhost`), so the identity cannot flip between
 * connections. Absent until a GetEndpoints or CreateSession response names the URI.
 */
function device(ctx: OpcuaEventContext, protocolId?: string): PendingEvent['device'] {
  const where = ctx.server ? `${ctx.server.ip}:${ctx.server.port}` : 'unknown';
  return protocolId ? { id: `opcua:${where}`, protocol_id: protocolId } : { id: `opcua:${where}` };
}

/** The message's decoded content as event fields (snake_case; absent values omitted). */
export function messageFields(d: Extract<OpcuaDecoded<unknown>, { ok: true }>): Record<string, unknown> {
  const m = d.message;
  const f: Record<string, unknown> = { direction: d.direction, message_type: m.type, message_size: m.size };
  if (m.chunks > 1) f.chunks = m.chunks;
  if (m.secureChannelId !== undefined) f.secure_channel_id = m.secureChannelId;
  if (m.tokenId !== undefined) f.token_id = m.tokenId;
  if (m.sequenceNumber !== undefined) f.sequence_number = m.sequenceNumber;
  if (m.requestId !== undefined) f.request_id = m.requestId;
  if (m.encrypted) f.encrypted = true;
  const h = m.hello ?? m.acknowledge;
  if (h) {
    f.protocol_version = h.version;
    f.receive_buffer_bytes = h.receiveBufferSize;
    f.send_buffer_bytes = h.sendBufferSize;
    f.max_message_bytes = h.maxMessageSize;
    f.max_chunk_count = h.maxChunkCount;
  }
  if (m.error) {
    f.status_code = statusHex(m.error.status);
    f.status = STATUS_NAMES[m.error.status] ?? statusHex(m.error.status);
    if (m.error.reason) f.reason = m.error.reason.slice(0, 256);
  }
  if (m.reverseHello?.serverUri) f.server_uri = m.reverseHello.serverUri;
  const c = d.connection;
  if (c.endpointUrl) f.endpoint_url = c.endpointUrl;
  if (c.securityPolicy) f.security_policy = c.securityPolicy;
  if (c.securityMode) f.security_mode = c.securityMode;
  if (c.serverApplicationUri) f.server_application_uri = c.serverApplicationUri;
  if (m.type === 'OPN' && m.securityPolicyUri !== undefined) {
    f.security_policy_uri = m.securityPolicyUri;
    f.sender_certificate_bytes = m.senderCertificateBytes;
  }
  const s = m.service;
  if (s) {
    f.service = s.name;
    f.service_id = s.typeId;
    if (s.requestHeader) f.request_handle = s.requestHeader.requestHandle;
    if (s.responseHeader) {
      const code = s.responseHeader.serviceResult;
      f.request_handle = s.responseHeader.requestHandle;
      f.status_code = statusHex(code);
      f.status = STATUS_NAMES[code] ?? statusHex(code);
      f.status_severity = statusSeverity(code);
    }
    Object.assign(f, s.detail);
    if (s.bodyError) f.body_error = s.bodyError.message;
  }
  const who = d.session;
  if (who) {
    if (who.clientApplicationUri) f.client_application_uri = who.clientApplicationUri;
    if (who.clientApplicationName) f.client_application_name = who.clientApplicationName;
    if (who.sessionName) f.session_name = who.sessionName;
    if (who.identityToken && f.identity_token === undefined) f.identity_token = who.identityToken;
    if (who.userName && f.user_name === undefined) f.user_name = who.userName;
  }
  return f;
}

export function opcuaToEvent(
  d: Extract<OpcuaDecoded<unknown>, { ok: true }>,
  ctx: OpcuaEventContext,
): PendingEvent {
  const fields = messageFields(d);
  if (ctx.extra) Object.assign(fields, ctx.extra);
  const status = d.message.service?.responseHeader?.serviceResult ?? d.message.error?.status;
  const classified = classify(d.message, d.direction, status);
  const kind = classified.kind;
  let severity = classified.severity;
  if (status !== undefined && statusSeverity(status) === 'bad') severity = Math.min(severity, 5);
  if (d.anomalies.length > 0) {
    fields.anomalies = [...d.anomalies];
    severity = Math.min(severity, 4);
  }
  const c = d.connection;
  const [from, to] = peers(ctx, d.direction);
  return endpointEvent(
    ctx,
    'opcua',
    kind,
    opcuaAction(d.message),
    severity,
    describe(d.message, d.direction, fields),
    device(ctx, c.serverApplicationUri ?? ctx.serverApplicationUri),
    fields,
    eventTags(ctx.tags, d.anomalies.length > 0),
    from,
    to,
  );
}

/** Bytes that are not OPC UA: a visible, counted event, never a silent drop. */
export function opcuaErrorToEvent(
  d: Extract<OpcuaDecoded<unknown>, { ok: false }>,
  ctx: OpcuaEventContext,
): PendingEvent {
  const fields: Record<string, unknown> = {
    code: d.error.code,
    error: d.error.message,
    direction: d.direction,
    bytes: d.byteCount,
    preview: Buffer.from(d.bytes.subarray(0, 64)).toString('hex'),
    ...ctx.extra,
  };
  const c = d.connection;
  const message = `malformed OPC UA ${d.direction}: ${d.error.message}`;
  const [from, to] = peers(ctx, d.direction);
  const server = device(ctx, c.serverApplicationUri ?? ctx.serverApplicationUri);
  return endpointEvent(
    ctx,
    'opcua',
    'security',
    'opcua.malformed',
    4,
    message,
    server,
    fields,
    eventTags(ctx.tags, false),
    from,
    to,
  );
}
