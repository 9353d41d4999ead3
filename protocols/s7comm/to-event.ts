/**
 * Maps a decoded S7comm message (session.ts) to the one `Event` (protocols/s7comm/EVENTS.md): one
 * event per PDU, the action named after what it does (`s7comm.plc_stop`, `s7comm.read_szl`,
 * `s7comm.start_upload`), answers with the request's action and `direction: response`, error
 * answers as `s7comm.error`, COTP connects and disconnects as `s7comm.cotp_*`, S7comm-plus as
 * `s7comm.plus_<function>`, undecodable bytes as `s7comm.malformed`. `kind` and `severity` say
 * what matters to a SOC: what changes the controller's mode or program is `security` 2–3, writes
 * and reconnaissance (SZL, block lists) `security` 5, reads and polling `telemetry`.
 */
import {
  type Endpoint,
  type EndpointEventContext,
  endpointEvent,
  eventTags,
} from '../event/endpoint-event.ts';
import type { PendingEvent } from '../event/schema.ts';
import { hex2, identityFields, plusFields, s7PduFields } from './fields.ts';
import type { S7Message } from './session.ts';
import type { S7Identity } from './szl.ts';
import {
  COTP_TYPES,
  FUNCTION_NAMES,
  hexOf,
  PI_SERVICE_ACTIONS,
  PLUS_FUNCTIONS,
  ROSCTR_NAMES,
  type S7Direction,
  type S7Error,
  type S7Pdu,
  type S7PlusPdu,
  USERDATA_SUBFUNCTIONS,
} from './types.ts';

export interface S7EventContext extends EndpointEventContext {
  /** The client (HMI, engineering station) and the server (the controller, TCP 102). */
  client?: Endpoint;
  server?: Endpoint;
}

const CRITICAL = new Set([
  'plc_stop',
  'plc_start',
  'delete_block',
  'insert_block',
  'request_download',
  'erase',
  'forces',
]);
const HIGH = new Set([
  'download_block',
  'download_ended',
  'start_upload',
  'upload',
  'end_upload',
  'copy_ram_to_rom',
  'compress_memory',
  'set_clock',
  'set_clock_2',
  'plc_password',
  'clear_password',
  'pi_service',
]);
const RECON = new Set(['read_szl', 'list_blocks', 'list_blocks_of_type', 'get_block_info', 'write_var']);
const PLUS_WRITES = new Set([0x04ca, 0x04d4, 0x04f2, 0x0542, 0x056b]);

/** The verb of a classic PDU (without the `s7comm.` prefix); answers take their request's. */
export function s7Verb(pdu: S7Pdu, request?: S7Pdu): string {
  const u = pdu.userdata;
  if (u) return USERDATA_SUBFUNCTIONS[u.group]?.[u.subfunction] ?? 'userdata';
  const fn = pdu.function ?? request?.function;
  if (fn === undefined) return pdu.rosctr === 2 ? 'ack' : (ROSCTR_NAMES[pdu.rosctr] ?? 'unknown_rosctr');
  if (fn === 0x28) {
    const service = pdu.piService ?? request?.piService;
    return (service !== undefined && PI_SERVICE_ACTIONS[service]) || 'pi_service';
  }
  return FUNCTION_NAMES[fn] ?? 'unknown_function';
}

function failed(pdu: S7Pdu): boolean {
  if ((pdu.errorClass ?? 0) !== 0) return true;
  return (pdu.userdata?.errorCode ?? 0) !== 0;
}

export function s7commAction(pdu: S7Pdu | S7PlusPdu, request?: S7Pdu): string {
  if (pdu.protocol === 's7comm_plus') {
    if (pdu.function !== undefined)
      return `s7comm.plus_${PLUS_FUNCTIONS[pdu.function] ?? 'unknown_function'}`;
    return pdu.opcode === 0x33 ? 's7comm.plus_notification' : 's7comm.plus_data';
  }
  return failed(pdu) ? 's7comm.error' : `s7comm.${s7Verb(pdu, request)}`;
}

function classify(verb: string, pdu: S7Pdu | S7PlusPdu, direction: S7Direction) {
  const response = direction === 'response';
  if (pdu.protocol === 's7comm_plus') {
    const write = pdu.function !== undefined && PLUS_WRITES.has(pdu.function);
    return write
      ? { kind: 'security' as const, severity: response ? 6 : 5 }
      : { kind: 'telemetry' as const, severity: 6 };
  }
  if (failed(pdu)) return { kind: 'security' as const, severity: 4 };
  if (CRITICAL.has(verb)) return { kind: 'security' as const, severity: response ? 4 : 2 };
  if (HIGH.has(verb)) return { kind: 'security' as const, severity: response ? 5 : 3 };
  if (RECON.has(verb)) return { kind: 'security' as const, severity: response ? 6 : 5 };
  return { kind: 'telemetry' as const, severity: 6 };
}

/** Sender and receiver: the client sends requests, the controller answers. */
function peers(ctx: S7EventContext, direction: S7Direction): [Endpoint | undefined, Endpoint | undefined] {
  return direction === 'request' ? [ctx.client, ctx.server] : [ctx.server, ctx.client];
}

/** `s7comm:<controller ip>`: one controller per address (rack/slot are in the COTP TSAP). */
function device(ctx: S7EventContext, identity?: S7Identity): PendingEvent['device'] {
  const d: NonNullable<PendingEvent['device']> = { id: `s7comm:${ctx.server?.ip ?? 'unknown'}` };
  if (identity?.serialNumber) d.protocol_id = identity.serialNumber;
  const name = identity?.stationName || identity?.moduleName;
  if (name) d.name = name;
  return d;
}

/** One decoded message → one event (CR, CC, DR and DT alike). */
export function s7commToEvent<M>(msg: S7Message<M>, ctx: S7EventContext): PendingEvent {
  if (msg.error) return s7commErrorToEvent(msg.error, msg.bytes ?? new Uint8Array(0), msg.direction, ctx);
  const f: Record<string, unknown> = { direction: msg.direction };
  const anomalies = [...msg.anomalies];
  let action: string;
  let kind: PendingEvent['kind'] = 'telemetry';
  let severity = 6;
  let message: string;
  const pdu = msg.pdu;
  if (!pdu) {
    const name = COTP_TYPES[msg.cotp.type] ?? 'unknown';
    action = `s7comm.cotp_${{ cr: 'connect', cc: 'connect_confirm', dr: 'disconnect', dc: 'disconnect_confirm', er: 'error' }[name] ?? name}`;
    f.cotp_type = hex2(msg.cotp.type);
    if (msg.cotp.srcTsap !== undefined) f.src_tsap = msg.cotp.srcTsap;
    if (msg.cotp.dstTsap !== undefined) f.dst_tsap = msg.cotp.dstTsap;
    if (msg.cotp.tpduSizeBytes !== undefined) f.tpdu_size_bytes = msg.cotp.tpduSizeBytes;
    if (msg.cotp.reason !== undefined) f.reason = msg.cotp.reason;
    if (name === 'er') kind = 'security';
    message = `COTP ${name.toUpperCase()} ${msg.direction}`;
  } else {
    anomalies.unshift(...pdu.anomalies);
    action = s7commAction(pdu, msg.request?.pdu);
    const verb = action.slice('s7comm.'.length);
    ({ kind, severity } = classify(verb, pdu, msg.direction));
    if (pdu.protocol === 's7comm_plus') {
      f.protocol = 's7comm_plus';
      plusFields(pdu, f);
      message = `S7comm-plus ${String(f.opcode_name ?? 'data')} ${String(f.function ?? '')}`.trimEnd();
    } else {
      f.protocol = 's7comm';
      s7PduFields(pdu, f);
      if (
        msg.request &&
        msg.direction === 'response' &&
        f.function === undefined &&
        msg.request.pdu.function !== undefined
      ) {
        f.function_code = msg.request.pdu.function;
        f.function = FUNCTION_NAMES[msg.request.pdu.function] ?? `unknown_${hex2(msg.request.pdu.function)}`;
      }
      // A read answer's data items are only values: what they are (area, DB, offset, type) is in
      // the request, copied as `request_items` so the values can be named (DB1.DBW0).
      if (msg.request && msg.direction === 'response' && pdu.function === 0x04 && msg.request.pdu.items) {
        const asked: Record<string, unknown> = {};
        s7PduFields(msg.request.pdu, asked);
        f.request_items = asked.items;
      }
      const what = failed(pdu)
        ? `error ${String(f.error ?? f.userdata_error_code)} to ${s7Verb(pdu, msg.request?.pdu)}`
        : verb;
      message = `S7 ${what.replace(/_/g, ' ')} ${msg.direction} pdu ${pdu.pduRef}`;
      if (f.szl_id !== undefined) message += ` szl ${String(f.szl_id)}`;
      if (f.pi_service !== undefined) message += ` ${String(f.pi_service)}`;
      if (f.filename !== undefined) message += ` ${String(f.filename)}`;
    }
  }
  if (msg.identity) Object.assign(f, identityFields(msg.identity));
  if (ctx.extra) Object.assign(f, ctx.extra);
  if (anomalies.length > 0) f.anomalies = anomalies;
  const [from, to] = peers(ctx, msg.direction);
  return endpointEvent(
    ctx,
    's7comm',
    kind,
    action,
    anomalies.length > 0 ? Math.min(severity, 4) : severity,
    message,
    device(ctx, msg.identity),
    f,
    eventTags(ctx.tags, anomalies.length > 0),
    from,
    to,
  );
}

/** Bytes that are not TPKT, COTP or an S7 PDU: a visible event, never a silent drop. */
export function s7commErrorToEvent(
  error: S7Error,
  bytes: Uint8Array,
  direction: S7Direction,
  ctx: S7EventContext,
): PendingEvent {
  const fields: Record<string, unknown> = {
    code: error.code,
    error: error.message,
    direction,
    bytes: bytes.length,
    preview: hexOf(bytes),
    ...ctx.extra,
  };
  const message = `malformed S7comm ${direction}: ${error.message}`;
  const [from, to] = peers(ctx, direction);
  return endpointEvent(
    ctx,
    's7comm',
    'security',
    's7comm.malformed',
    4,
    message,
    device(ctx),
    fields,
    eventTags(ctx.tags, false),
    from,
    to,
  );
}
