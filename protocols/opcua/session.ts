/**
 * One OPC UA TCP connection seen from the middle (a mirror port, a replayed capture): fed with the
 * reassembled bytes of each direction, it cuts them into chunks, reassembles multi-chunk messages
 * per request id (OPC 10000-6 §6.7.2.2, bounded in bytes and chunks), decodes each message, pairs
 * responses with their requests by request id (§6.7.2.4), and follows what the connection says
 * about itself: the endpoint URL (HEL), the security policy and mode (OPN), and each session's
 * client application, user and identity token (CreateSession, ActivateSession), so that every
 * later request carries who made it. Pure: no sockets, no timers; the caller says which direction
 * the bytes travelled (`request` = client to server).
 */
import { type ChunkDeframer, createChunkDeframer, parseChunk, type ParsedChunk } from './chunk.ts';
import { Reader, ReadError } from './reader.ts';
import { createReassembler, type Reassembler } from './reassembly.ts';
import { decodeService, policyName } from './services.ts';
import {
  OPCUA_LIMITS,
  type OpcuaDirection,
  type OpcuaError,
  type OpcuaMessage,
  SECURITY_POLICY_NONE,
  SERVICES,
} from './types.ts';

/** Open requests kept per connection; older ones are forgotten (a server that never answers). */
export const MAX_OPEN_REQUESTS = 256;
/** Sessions remembered per connection (authentication token → who). */
export const MAX_SESSIONS = 64;

export interface OpcuaSessionOptions {
  /** Largest chunk accepted (default OPCUA_LIMITS.MAX_CHUNK_BYTES). */
  maxChunkBytes?: number;
  /** Largest message reassembled from chunks (default OPCUA_LIMITS.MAX_MESSAGE_BYTES). */
  maxMessageBytes?: number;
}

/** What the connection has said about the session a request belongs to. */
export interface SessionInfo {
  clientApplicationUri?: string;
  clientApplicationName?: string;
  sessionName?: string;
  identityToken?: string;
  userName?: string;
}

/** What the connection said about itself so far. */
export interface ConnectionInfo {
  endpointUrl?: string;
  securityPolicy?: string;
  securityMode?: string;
  serverApplicationUri?: string;
}

export interface OpenRequest<M> {
  message: OpcuaMessage;
  meta: M;
}

export type OpcuaDecoded<M> =
  | {
      ok: true;
      direction: OpcuaDirection;
      message: OpcuaMessage;
      meta: M;
      /** The request a response answers (same request id). */
      request?: OpenRequest<M>;
      /** The session a request (or its response) belongs to, when its CreateSession was seen. */
      session?: SessionInfo;
      connection: ConnectionInfo;
      /** `unmatched_response`, `duplicate_request_id`, `aborted`, `body_undecodable`. */
      anomalies: string[];
    }
  | {
      ok: false;
      direction: OpcuaDirection;
      error: OpcuaError;
      /** The offending bytes (at most 256) and how many there were. */
      bytes: Uint8Array;
      byteCount: number;
      meta: M;
      connection: ConnectionInfo;
    };

export interface OpcuaSession<M> {
  /** The next bytes of one direction; `gap` when bytes were missed before them. */
  push(direction: OpcuaDirection, data: Uint8Array, meta: M, gap?: boolean): OpcuaDecoded<M>[];
  /** Requests still waiting for a response. */
  open(): number;
  /** Body bytes held for messages half built (both directions; at most 2 × maxMessageBytes). */
  held(): number;
  /** Drops every half-built message (a caller over its memory budget); returns the bytes freed. */
  discard(): number;
  connection: ConnectionInfo;
}

export function createOpcuaSession<M = undefined>(options: OpcuaSessionOptions = {}): OpcuaSession<M> {
  const maxChunk = options.maxChunkBytes ?? OPCUA_LIMITS.MAX_CHUNK_BYTES;
  const maxMessage = options.maxMessageBytes ?? OPCUA_LIMITS.MAX_MESSAGE_BYTES;
  const deframers: Record<OpcuaDirection, ChunkDeframer> = {
    request: createChunkDeframer(maxChunk),
    response: createChunkDeframer(maxChunk),
  };
  const reassembly: Record<OpcuaDirection, Reassembler> = {
    request: createReassembler(maxMessage),
    response: createReassembler(maxMessage),
  };
  const pending = new Map<number, OpenRequest<M> & { session?: SessionInfo }>();
  const sessions = new Map<string, SessionInfo>();
  const connection: ConnectionInfo = {};
  let secured = false;

  const remember = <K, V>(map: Map<K, V>, key: K, value: V, cap: number) => {
    map.delete(key);
    if (map.size >= cap) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(key, value);
  };

  /** The message of a complete (possibly reassembled) body. */
  const decodeMessage = (
    first: ParsedChunk,
    body: Uint8Array,
    size: number,
    chunks: number,
  ): OpcuaMessage => {
    const h = first.header;
    const m: OpcuaMessage = { type: h.type, chunkType: 'F', size, chunks };
    if (first.secureChannelId !== undefined) m.secureChannelId = first.secureChannelId;
    if (first.tokenId !== undefined) m.tokenId = first.tokenId;
    if (first.securityPolicyUri !== undefined) {
      m.securityPolicyUri = first.securityPolicyUri;
      m.senderCertificateBytes = first.senderCertificateBytes!;
      m.receiverThumbprintBytes = first.receiverThumbprintBytes!;
    }
    if (first.sequenceNumber !== undefined) m.sequenceNumber = first.sequenceNumber;
    if (first.requestId !== undefined) m.requestId = first.requestId;
    if (first.encrypted || (secured && h.type !== 'OPN')) {
      m.encrypted = true;
      return m;
    }
    const r = new Reader(body);
    switch (h.type) {
      case 'HEL':
      case 'ACK': {
        const fields = {
          version: r.u32(),
          receiveBufferSize: r.u32(),
          sendBufferSize: r.u32(),
          maxMessageSize: r.u32(),
          maxChunkCount: r.u32(),
        };
        if (h.type === 'ACK') m.acknowledge = fields;
        else {
          const url = r.string(OPCUA_LIMITS.MAX_URL_BYTES);
          m.hello = url === null ? fields : { ...fields, endpointUrl: url };
        }
        return m;
      }
      case 'ERR':
        m.error = { status: r.u32(), reason: r.string(OPCUA_LIMITS.MAX_URL_BYTES) };
        return m;
      case 'RHE':
        m.reverseHello = {
          serverUri: r.string(OPCUA_LIMITS.MAX_URL_BYTES),
          endpointUrl: r.string(OPCUA_LIMITS.MAX_URL_BYTES),
        };
        return m;
      default: {
        const s = decodeService(body);
        if (!s.ok) throw new ReadError(s.error.code, s.error.message);
        m.service = s.value;
        return m;
      }
    }
  };

  /** Updates the connection's and sessions' state from a decoded message. */
  const follow = (direction: OpcuaDirection, m: OpcuaMessage, request?: OpenRequest<M>) => {
    if (m.hello?.endpointUrl) connection.endpointUrl = m.hello.endpointUrl;
    if (m.type === 'OPN' && m.securityPolicyUri !== undefined) {
      connection.securityPolicy = policyName(m.securityPolicyUri ?? SECURITY_POLICY_NONE);
      secured = m.securityPolicyUri !== null && m.securityPolicyUri !== SECURITY_POLICY_NONE;
      if (secured) delete connection.securityMode;
    }
    const d = m.service?.detail;
    if (!d) return;
    if (direction === 'request' && typeof d.security_mode === 'string')
      connection.securityMode = d.security_mode;
    if (typeof d.server_application_uri === 'string')
      connection.serverApplicationUri = d.server_application_uri;
    const token = d.authentication_token;
    if (m.service!.name === 'CreateSessionResponse' && typeof token === 'string' && request) {
      const q = request.message.service?.detail ?? {};
      const info: SessionInfo = {};
      if (typeof q.client_application_uri === 'string') info.clientApplicationUri = q.client_application_uri;
      if (typeof q.client_application_name === 'string')
        info.clientApplicationName = q.client_application_name;
      if (typeof q.session_name === 'string') info.sessionName = q.session_name;
      remember(sessions, token, info, MAX_SESSIONS);
    }
  };

  const complete = (
    direction: OpcuaDirection,
    first: ParsedChunk,
    body: Uint8Array,
    size: number,
    chunks: number,
    meta: M,
    out: OpcuaDecoded<M>[],
  ) => {
    let message: OpcuaMessage;
    try {
      message = decodeMessage(first, body, size, chunks);
    } catch (e) {
      const error =
        e instanceof ReadError
          ? { code: e.code, message: e.message }
          : { code: 'invalid_encoding' as const, message: String(e) };
      out.push({
        ok: false,
        direction,
        error,
        bytes: first.bytes.slice(0, 256),
        byteCount: size,
        meta,
        connection,
      });
      return;
    }
    const anomalies: string[] = [];
    if (message.service?.bodyError) anomalies.push('body_undecodable');
    // The service says which way it goes (a ...Response or ServiceFault is a server's answer):
    // trust it over the ports, and say that the ports disagreed.
    const kind = message.service ? SERVICES.get(message.service.typeId)?.kind : undefined;
    const said = kind === undefined ? direction : kind === 'request' ? 'request' : 'response';
    if (said !== direction) {
      anomalies.push('direction_mismatch');
      direction = said;
    }
    let request: OpenRequest<M> | undefined;
    let session: SessionInfo | undefined;
    const rid = message.requestId;
    const isService = message.type === 'MSG' || message.type === 'OPN' || message.type === 'CLO';
    if (isService && rid !== undefined) {
      if (direction === 'request') {
        if (pending.has(rid)) anomalies.push('duplicate_request_id');
        const token = message.service?.requestHeader?.authenticationToken;
        session = token !== undefined ? sessions.get(token) : undefined;
        if (session && message.service?.name === 'ActivateSessionRequest') {
          const d = message.service.detail;
          if (typeof d.identity_token === 'string') session.identityToken = d.identity_token;
          if (typeof d.user_name === 'string') session.userName = d.user_name;
          else delete session.userName;
        }
        // CLO has no response (§6.7.6): nothing to wait for.
        if (message.type !== 'CLO') remember(pending, rid, { message, meta, session }, MAX_OPEN_REQUESTS);
      } else {
        const open = pending.get(rid);
        if (open) {
          pending.delete(rid);
          request = { message: open.message, meta: open.meta };
          session = open.session;
        } else anomalies.push('unmatched_response');
      }
    }
    follow(direction, message, request);
    const item: OpcuaDecoded<M> = { ok: true, direction, message, meta, connection, anomalies };
    if (request) item.request = request;
    if (session) item.session = session;
    out.push(item);
  };

  const chunk = (
    direction: OpcuaDirection,
    bytes: Uint8Array,
    meta: M,
    out: OpcuaDecoded<M>[],
    header: ParsedChunk['header'],
  ) => {
    const parsed = parseChunk(bytes, header);
    if (!parsed.ok) {
      out.push({
        ok: false,
        direction,
        error: parsed.error,
        bytes: bytes.slice(0, 256),
        byteCount: bytes.length,
        meta,
        connection,
      });
      return;
    }
    const p = parsed.value;
    if (header.chunkType === 'A') {
      // §6.7.2.2: an abort chunk carries an error code and reason instead of the rest of the body.
      reassembly[direction].abort(p);
      const m: OpcuaMessage = { type: header.type, chunkType: 'A', size: bytes.length, chunks: 1 };
      if (p.secureChannelId !== undefined) m.secureChannelId = p.secureChannelId;
      if (!secured) {
        if (p.requestId !== undefined) m.requestId = p.requestId;
        if (p.sequenceNumber !== undefined) m.sequenceNumber = p.sequenceNumber;
        const r = new Reader(bytes, p.bodyStart);
        try {
          m.error = { status: r.u32(), reason: r.string(OPCUA_LIMITS.MAX_URL_BYTES) };
        } catch {
          // an abort without its reason is still an abort
        }
      }
      out.push({ ok: true, direction, message: m, meta, connection, anomalies: ['aborted'] });
      return;
    }
    const r = reassembly[direction].push(p, secured);
    if (r === null) return;
    if ('error' in r) {
      out.push({
        ok: false,
        direction,
        error: r.error,
        bytes: bytes.slice(0, 256),
        byteCount: bytes.length,
        meta,
        connection,
      });
      return;
    }
    complete(direction, r.done.first, r.done.body, r.done.size, r.done.chunks, meta, out);
  };

  return {
    connection,
    push(direction, data, meta, gap = false) {
      const out: OpcuaDecoded<M>[] = [];
      if (gap) {
        deframers[direction].reset();
        reassembly[direction].clear();
      }
      const { chunks, errors } = deframers[direction].push(data);
      for (const e of errors)
        out.push({
          ok: false,
          direction,
          error: { code: e.code, message: e.message },
          bytes: e.skipped,
          byteCount: e.skippedBytes,
          meta,
          connection,
        });
      for (const c of chunks) chunk(direction, c.bytes, meta, out, c.header);
      return out;
    },
    open: () => pending.size,
    held: () => reassembly.request.held() + reassembly.response.held(),
    discard() {
      const freed = reassembly.request.held() + reassembly.response.held();
      reassembly.request.clear();
      reassembly.response.clear();
      return freed;
    },
  };
}
