/**
 * Decodes an OPC UA service body (OPC 10000-4 §5, encoded per OPC 10000-6 §5.2): the encoding
 * NodeId, the RequestHeader or ResponseHeader (OPC 10000-4 §7.33, §7.34), then the fields of the
 * services an OT monitor acts on: sessions and identity (CreateSession, ActivateSession), what is
 * written, called, read and browsed, node management, endpoints and the secure channel's security
 * mode. Other services keep their headers only. A body that fails after its header keeps the
 * header and carries `bodyError`, so a malformed Write is still seen as a Write.
 */
import { Reader, ReadError, truncate } from './reader.ts';
import {
  IDENTITY_TOKENS,
  OPCUA_LIMITS,
  type OpcuaResult,
  type OpcuaService,
  type RequestHeader,
  type ResponseHeader,
  SECURITY_MODES,
  SECURITY_POLICY_PREFIX,
  SERVICES,
} from './types.ts';

const KEEP = OPCUA_LIMITS.MAX_KEPT_VALUES;

// The headers' timestamps are the peers' clocks, which no event uses: skipped, not converted.
function requestHeader(r: Reader): RequestHeader {
  const authenticationToken = r.nodeId();
  r.skip(8); // timestamp
  const h: RequestHeader = {
    authenticationToken,
    requestHandle: r.u32(),
    returnDiagnostics: r.u32(),
    auditEntryId: r.string(),
    timeoutHint: r.u32(),
  };
  r.extensionObject(); // additionalHeader
  return h;
}

function responseHeader(r: Reader): ResponseHeader {
  r.skip(8); // timestamp
  const h: ResponseHeader = { requestHandle: r.u32(), serviceResult: r.u32() };
  r.diagnosticInfo();
  r.array((x) => x.string()); // stringTable
  r.extensionObject(); // additionalHeader
  return h;
}

/** `http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256` → `Basic256Sha256`. */
export function policyName(uri: string | null | undefined): string | undefined {
  if (uri === null || uri === undefined) return undefined;
  return uri.startsWith(SECURITY_POLICY_PREFIX) ? uri.slice(SECURITY_POLICY_PREFIX.length) : truncate(uri);
}

function applicationDescription(r: Reader, into: Record<string, unknown>, prefix: string): void {
  const uri = r.string();
  const product = r.string();
  const name = r.localizedText();
  const type = r.u32();
  r.string(); // gatewayServerUri
  r.string(); // discoveryProfileUri
  r.array((x) => x.string()); // discoveryUrls
  if (uri !== null) into[`${prefix}application_uri`] = truncate(uri);
  if (product !== null) into[`${prefix}product_uri`] = truncate(product);
  if (name !== null) into[`${prefix}application_name`] = truncate(name);
  into[`${prefix}application_type`] =
    ['server', 'client', 'client_and_server', 'discovery_server'][type] ?? type;
}

/** EndpointDescription[] (OPC 10000-4 §7.14): the server's identity and what security it offers. */
function endpoints(r: Reader, f: Record<string, unknown>): void {
  const policies = new Set<string>();
  const tokens = new Set<string>();
  const modes = new Set<string>();
  const n = r.array((x) => {
    x.string(); // endpointUrl
    applicationDescription(x, f, 'server_');
    x.byteStringLength(); // serverCertificate
    modes.add(SECURITY_MODES[x.u32()] ?? 'Invalid');
    const p = policyName(x.string());
    if (p) policies.add(p);
    x.array((t) => {
      t.string(); // policyId
      const type = t.u32();
      tokens.add(['anonymous', 'username', 'x509', 'issued'][type] ?? `type_${type}`);
      t.string();
      t.string();
      t.string();
    });
    x.string(); // transportProfileUri
    x.u8(); // securityLevel
  }).length;
  f.endpoints = n;
  f.offered_security_policies = [...policies].slice(0, KEEP);
  f.offered_security_modes = [...modes];
  f.offered_identity_tokens = [...tokens];
}

type BodyDecoder = (r: Reader, f: Record<string, unknown>) => void;

function keptNodes(r: Reader, one: (x: Reader) => string): { ids: string[]; count: number } {
  const ids: string[] = [];
  const count = r.array((x) => {
    const id = one(x);
    if (ids.length < KEEP) ids.push(id);
  }).length;
  return { ids, count };
}

const BODIES: Record<string, BodyDecoder> = {
  OpenSecureChannelRequest(r, f) {
    f.client_protocol_version = r.u32();
    f.request_type = r.u32() === 1 ? 'renew' : 'issue';
    f.security_mode = SECURITY_MODES[r.u32()] ?? 'Invalid';
    r.byteStringLength();
    f.requested_lifetime_ms = r.u32();
  },
  OpenSecureChannelResponse(r, f) {
    f.server_protocol_version = r.u32();
    f.secure_channel_id = r.u32();
    f.token_id = r.u32();
    r.dateTime();
    f.revised_lifetime_ms = r.u32();
  },
  GetEndpointsRequest(r, f) {
    const url = r.string();
    if (url !== null) f.endpoint_url = truncate(url);
  },
  GetEndpointsResponse: endpoints,
  CreateSessionRequest(r, f) {
    applicationDescription(r, f, 'client_');
    r.string(); // serverUri
    const url = r.string();
    if (url !== null) f.endpoint_url = truncate(url);
    const name = r.string();
    if (name !== null) f.session_name = truncate(name);
    r.byteStringLength(); // clientNonce
    f.client_certificate_bytes = Math.max(0, r.byteStringLength());
    f.requested_session_timeout_ms = r.f64();
  },
  CreateSessionResponse(r, f) {
    f.session_id = r.nodeId();
    f.authentication_token = r.nodeId();
    f.revised_session_timeout_ms = r.f64();
    r.byteStringLength(); // serverNonce
    f.server_certificate_bytes = Math.max(0, r.byteStringLength());
    endpoints(r, f);
  },
  ActivateSessionRequest(r, f) {
    r.string(); // clientSignature.algorithm
    r.byteStringLength();
    r.array((x) => (x.byteStringLength(), x.byteStringLength()));
    r.array((x) => x.string()); // localeIds
    const token = r.extensionObject();
    f.identity_token =
      token.body || token.typeId !== 0 ? (IDENTITY_TOKENS[token.typeId] ?? 'unknown') : 'none';
    if (token.body) {
      const policy = token.body.string();
      if (policy !== null) f.identity_policy_id = truncate(policy);
      // The user name is who acts; the password (and its encryption algorithm) is never kept.
      if (token.typeId === 324) {
        const user = token.body.string();
        if (user !== null) f.user_name = truncate(user);
      }
    }
  },
  WriteRequest(r, f) {
    const nodes: string[] = [];
    const attributes: number[] = [];
    const values: unknown[] = [];
    f.nodes_count = r.array((x) => {
      const id = x.nodeId();
      const attribute = x.u32();
      x.string(); // indexRange
      const dv = x.dataValue();
      if (nodes.length < KEEP) {
        nodes.push(id);
        attributes.push(attribute);
        values.push(dv.value ?? null);
      }
    }).length;
    f.node_ids = nodes;
    f.attribute_ids = attributes;
    f.values = values;
  },
  ReadRequest(r, f) {
    f.max_age_ms = r.f64();
    r.u32(); // timestampsToReturn
    const { ids, count } = keptNodes(r, (x) => {
      const id = x.nodeId();
      x.u32();
      x.string();
      x.qualifiedName();
      return id;
    });
    f.nodes_count = count;
    f.node_ids = ids;
  },
  CallRequest(r, f) {
    const objects: string[] = [];
    const methods: string[] = [];
    const args: unknown[] = [];
    f.methods_count = r.array((x) => {
      const object = x.nodeId();
      const method = x.nodeId();
      const input = x.array((v) => v.variant());
      if (methods.length < KEEP) {
        objects.push(object);
        methods.push(method);
        args.push(input.slice(0, KEEP));
      }
    }).length;
    f.object_ids = objects;
    f.method_ids = methods;
    f.input_arguments = args;
  },
  BrowseRequest(r, f) {
    r.nodeId(); // view.viewId
    r.dateTime();
    r.u32();
    f.max_references_per_node = r.u32();
    const { ids, count } = keptNodes(r, (x) => {
      const id = x.nodeId();
      x.u32();
      x.nodeId();
      x.boolean();
      x.u32();
      x.u32();
      return id;
    });
    f.nodes_count = count;
    f.node_ids = ids;
  },
  BrowseNextRequest(r, f) {
    f.release_continuation_points = r.boolean();
    f.nodes_count = r.array((x) => x.byteStringLength()).length;
  },
  AddNodesRequest(r, f) {
    const { ids, count } = keptNodes(r, (x) => {
      x.expandedNodeId(); // parentNodeId
      x.nodeId(); // referenceTypeId
      x.expandedNodeId(); // requestedNewNodeId
      const name = x.qualifiedName();
      x.u32(); // nodeClass
      x.extensionObject(); // nodeAttributes
      x.expandedNodeId(); // typeDefinition
      return name;
    });
    f.nodes_count = count;
    f.browse_names = ids;
  },
  DeleteNodesRequest(r, f) {
    const { ids, count } = keptNodes(r, (x) => {
      const id = x.nodeId();
      x.boolean();
      return id;
    });
    f.nodes_count = count;
    f.node_ids = ids;
  },
  WriteResponse: statusResults,
  CallResponse(r, f) {
    const statuses: number[] = [];
    r.array((x) => {
      const s = x.u32();
      if (statuses.length < KEEP) statuses.push(s);
      x.array((y) => y.u32());
      x.array((y) => y.diagnosticInfo());
      x.array((y) => y.variant());
    });
    f.results = statuses;
  },
};

function statusResults(r: Reader, f: Record<string, unknown>): void {
  const statuses: number[] = [];
  r.array((x) => {
    const s = x.u32();
    if (statuses.length < KEEP) statuses.push(s);
  });
  f.results = statuses;
}

/** Decodes the body of a MSG/OPN/CLO message after its sequence header. Never throws. */
export function decodeService(bytes: Uint8Array, start = 0, end = bytes.length): OpcuaResult<OpcuaService> {
  const r = new Reader(bytes, start, end);
  let service: OpcuaService | undefined;
  try {
    const typeId = r.numericTypeId();
    const info = typeId >= 0 ? SERVICES.get(typeId) : undefined;
    service = { typeId, name: info?.name ?? `Unknown_${typeId}`, detail: {} };
    if (!info) return { ok: true, value: service };
    if (info.kind === 'request') service.requestHeader = requestHeader(r);
    else service.responseHeader = responseHeader(r);
    BODIES[info.name]?.(r, service.detail);
    return { ok: true, value: service };
  } catch (e) {
    const error =
      e instanceof ReadError
        ? { code: e.code, message: e.message }
        : { code: 'invalid_encoding' as const, message: String(e) };
    if (service && (service.requestHeader || service.responseHeader)) {
      service.bodyError = error;
      return { ok: true, value: service };
    }
    return { ok: false, error };
  }
}
