/**
 * The OPC UA binary codec's public API (OPC 10000-6 UA TCP and UA Secure Conversation, services of
 * OPC 10000-4): chunk framing with resynchronisation, multi-chunk reassembly, decoding of the
 * services an OT monitor acts on, request/response pairing and session following per connection,
 * the mapping to the one `Event`, and a stream-level decoder for passive captures. Pure
 * throughout; nothing here opens a socket.
 */
export * from './types.ts';
export { type ChunkDeframer, createChunkDeframer, parseChunk, readChunkHeader } from './chunk.ts';
export { decodeService, policyName } from './services.ts';
export {
  type ConnectionInfo,
  createOpcuaSession,
  MAX_OPEN_REQUESTS,
  MAX_SESSIONS,
  type OpcuaDecoded,
  type OpcuaSession,
  type OpcuaSessionOptions,
  type SessionInfo,
} from './session.ts';
export {
  messageFields,
  opcuaAction,
  type OpcuaEventContext,
  opcuaErrorToEvent,
  opcuaToEvent,
} from './to-event.ts';
export {
  createOpcuaFlowDecoder,
  looksLikeOpcuaHello,
  MAX_OPCUA_CONNECTIONS,
  OPCUA_DEFAULT_PORTS,
  type OpcuaFlowDecoder,
  type OpcuaFlowOptions,
  type OpcuaFrameMeta,
  type OpcuaTcpChunk,
} from './flow.ts';
