/**
 * Maps a decoded Modbus ADU to the one `Event` (protocols/event/SPEC.md, "Actions"): one event per
 * request and per response, the action named after the function (`modbus.write_single_register`),
 * exceptions as `modbus.exception`, undecodable bytes as `modbus.malformed`. `kind` and `severity`
 * say what matters to a SOC: writes, diagnostics that silence or restart a device (Application
 * Protocol §6.8.1 sub-functions 1 and 4), identification reads (reconnaissance) and unknown or vendor
 * codes are `security`; reads are `telemetry`. The same mapping serves the proxy, the poller and
 * captures, so a rule cannot tell how the gateway saw the traffic.
 */
import {
  type Endpoint,
  type EndpointEventContext,
  endpointEvent,
  eventTags,
} from '../event/endpoint-event.ts';
import type { PendingEvent } from '../event/schema.ts';
import {
  DEVICE_ID_OBJECT_NAMES,
  DIAGNOSTIC_NAMES,
  EXCEPTION_NAMES,
  FUNCTION_NAMES,
  functionName,
  isUserDefinedFunction,
  MEI_CANOPEN,
  MEI_READ_DEVICE_ID,
  type MbapHeader,
  type ModbusError,
  type ModbusPdu,
} from './types.ts';

export interface ModbusEventContext extends EndpointEventContext {
  /** Master and server (server = the device the event is about). */
  master?: Endpoint;
  server?: Endpoint;
  transport: 'tcp' | 'rtu';
  /** Pairing anomalies from the session, merged with the PDU's own. */
  anomalies?: string[];
}

const WRITES = new Set([5, 6, 15, 16, 21, 22, 23]);
const DIAG_CRITICAL = new Set([1, 4]); // restart communications, force listen only mode
const DIAG_CLEARS = new Set([10, 20]); // clear counters

const hex = (b: Uint8Array, max = 253) => Buffer.from(b.subarray(0, max)).toString('hex');

export function modbusAction(pdu: Pick<ModbusPdu, 'function' | 'exception' | 'meiType'>): string {
  if (pdu.exception) return 'modbus.exception';
  const fc = pdu.function;
  if (fc === 43 && pdu.meiType === MEI_READ_DEVICE_ID) return 'modbus.read_device_identification';
  if (fc === 43 && pdu.meiType === MEI_CANOPEN) return 'modbus.canopen_general_reference';
  if (FUNCTION_NAMES[fc]) return `modbus.${FUNCTION_NAMES[fc]}`;
  return isUserDefinedFunction(fc) ? 'modbus.user_defined_function' : 'modbus.unknown_function';
}

function classify(pdu: ModbusPdu): { kind: PendingEvent['kind']; severity: number } {
  const fc = pdu.function;
  if (pdu.exception) return { kind: 'security', severity: 4 };
  if (fc === 8) {
    const sub = pdu.subFunction ?? -1;
    if (DIAG_CRITICAL.has(sub)) return { kind: 'security', severity: 2 };
    return { kind: 'security', severity: DIAG_CLEARS.has(sub) ? 4 : 5 };
  }
  if (!FUNCTION_NAMES[fc]) return { kind: 'security', severity: 4 };
  const response = pdu.direction === 'response';
  if (WRITES.has(fc)) return { kind: 'security', severity: response ? 6 : 5 };
  if (fc === 17 || fc === 43) return { kind: 'security', severity: response ? 6 : 5 };
  return { kind: 'telemetry', severity: pdu.anomalies.length > 0 ? 5 : 6 };
}

/**
 * PDU fields copied as they are, under their event field names (absent ones omitted). Written out
 * property by property: a loop over a [from, to] table made every read a megamorphic keyed load,
 * a tenth of the mapping's cost (node --cpu-prof on modbusBig.pcap).
 */
function copyPduFields(pdu: ModbusPdu, f: Record<string, unknown>): void {
  if (pdu.address !== undefined) f.address = pdu.address;
  if (pdu.quantity !== undefined) f.quantity = pdu.quantity;
  if (pdu.values !== undefined) f.values = pdu.values;
  if (pdu.byteCount !== undefined) f.byte_count = pdu.byteCount;
  if (pdu.readAddress !== undefined) f.read_address = pdu.readAddress;
  if (pdu.readQuantity !== undefined) f.read_quantity = pdu.readQuantity;
  if (pdu.writeAddress !== undefined) f.write_address = pdu.writeAddress;
  if (pdu.writeQuantity !== undefined) f.write_quantity = pdu.writeQuantity;
  if (pdu.andMask !== undefined) f.and_mask = pdu.andMask;
  if (pdu.orMask !== undefined) f.or_mask = pdu.orMask;
  if (pdu.meiType !== undefined) f.mei_type = pdu.meiType;
  if (pdu.readDeviceIdCode !== undefined) f.read_device_id_code = pdu.readDeviceIdCode;
  if (pdu.objectId !== undefined) f.object_id = pdu.objectId;
  if (pdu.conformityLevel !== undefined) f.conformity_level = pdu.conformityLevel;
  if (pdu.moreFollows !== undefined) f.more_follows = pdu.moreFollows;
  if (pdu.nextObjectId !== undefined) f.next_object_id = pdu.nextObjectId;
  if (pdu.status !== undefined) f.status = pdu.status;
  if (pdu.eventCount !== undefined) f.event_count = pdu.eventCount;
  if (pdu.messageCount !== undefined) f.message_count = pdu.messageCount;
  if (pdu.fifoCount !== undefined) f.fifo_count = pdu.fifoCount;
  if (pdu.runIndicator !== undefined) f.run_indicator = pdu.runIndicator;
}

/** The PDU's decoded content as event fields (snake_case, absent values omitted). */
export function pduFields(pdu: ModbusPdu): Record<string, unknown> {
  const f: Record<string, unknown> = {
    direction: pdu.direction,
    function_code: pdu.function,
    function: functionName(pdu.function),
  };
  if (pdu.exception) {
    f.exception_code = pdu.exceptionCode;
    f.exception = EXCEPTION_NAMES[pdu.exceptionCode ?? -1] ?? `unknown_${pdu.exceptionCode}`;
  }
  copyPduFields(pdu, f);
  if (pdu.subFunction !== undefined) {
    f.sub_function = pdu.subFunction;
    f.sub_function_name = DIAGNOSTIC_NAMES[pdu.subFunction] ?? `unknown_${pdu.subFunction}`;
  }
  if (pdu.fileRecords) {
    f.file_records = pdu.fileRecords.map((r) => {
      const o: Record<string, unknown> = { reference_type: r.referenceType };
      if (r.fileNumber !== undefined) o.file_number = r.fileNumber;
      if (r.recordNumber !== undefined) o.record_number = r.recordNumber;
      if (r.recordLength !== undefined) o.record_length = r.recordLength;
      if (r.values) o.values = r.values;
      return o;
    });
  }
  if (pdu.objects) {
    const objects: Record<string, string> = {};
    for (const o of pdu.objects) objects[DEVICE_ID_OBJECT_NAMES[o.id] ?? `object_${o.id}`] = o.value;
    f.objects = objects;
  }
  if (pdu.serverId) f.server_id = hex(pdu.serverId);
  const rawFc = pdu.function === 8 || !FUNCTION_NAMES[pdu.function] || pdu.function === 43;
  if (rawFc && pdu.data.length > 0) f.data = hex(pdu.data);
  if (pdu.function === 90) f.vendor_protocol = 'schneider_umas';
  if (pdu.anomalies.length > 0) f.anomalies = [...pdu.anomalies];
  return f;
}

function device(ctx: ModbusEventContext, unitId: number): PendingEvent['device'] {
  const where = ctx.server?.ip ?? 'serial';
  return { id: `modbus:${where}/${unitId}`, protocol_id: String(unitId) };
}

function describe(pdu: ModbusPdu, unitId: number): string {
  let text = pdu.exception
    ? `exception ${EXCEPTION_NAMES[pdu.exceptionCode ?? -1] ?? pdu.exceptionCode} to ${functionName(pdu.function)}`
    : functionName(pdu.function);
  text += ` ${pdu.direction} unit ${unitId}`;
  if (pdu.subFunction !== undefined)
    text += ` ${DIAGNOSTIC_NAMES[pdu.subFunction] ?? `sub-function ${pdu.subFunction}`}`;
  if (pdu.address !== undefined) text += ` address ${pdu.address}`;
  if (pdu.quantity !== undefined) text += ` quantity ${pdu.quantity}`;
  if (pdu.values && pdu.values.length <= 8) text += ` values ${pdu.values.join(',')}`;
  return text;
}

export function modbusToEvent(header: MbapHeader, pdu: ModbusPdu, ctx: ModbusEventContext): PendingEvent {
  const { kind, severity } = classify(pdu);
  const anomalies =
    ctx.anomalies && ctx.anomalies.length > 0 ? [...pdu.anomalies, ...ctx.anomalies] : pdu.anomalies;
  // Unit 0 is the serial broadcast address (Application Protocol §4.1 / serial line §2.2): a write
  // to it over TCP reaches every device behind a gateway.
  if (header.unitId === 0 && ctx.transport === 'tcp' && pdu.direction === 'request')
    anomalies.push('unit_zero');
  // Built by assignment, not spreads: this runs once per frame on a busy segment.
  const fields = pduFields(pdu);
  fields.unit_id = header.unitId;
  fields.transport = ctx.transport;
  if (ctx.extra) Object.assign(fields, ctx.extra);
  if (ctx.transport === 'tcp') fields.transaction_id = header.transactionId;
  if (header.protocolId !== 0) fields.protocol_id = header.protocolId;
  if (anomalies.length > 0) fields.anomalies = anomalies;
  const [from, to] = pdu.direction === 'request' ? [ctx.master, ctx.server] : [ctx.server, ctx.master];
  return endpointEvent(
    ctx,
    'modbus',
    kind,
    modbusAction(pdu),
    anomalies.length > 0 ? Math.min(severity, 4) : severity,
    describe(pdu, header.unitId),
    device(ctx, header.unitId),
    fields,
    eventTags(ctx.tags, anomalies.length > 0),
    from,
    to,
  );
}

/** Bytes that are not a Modbus ADU or PDU: a visible, counted event, never a silent drop. */
export function modbusErrorToEvent(
  error: ModbusError,
  bytes: Uint8Array,
  direction: 'request' | 'response' | 'unknown',
  ctx: ModbusEventContext,
  header?: MbapHeader,
): PendingEvent {
  const fields: Record<string, unknown> = {
    code: error.code,
    error: error.message,
    direction,
    bytes: bytes.length,
    preview: hex(bytes, 64),
    transport: ctx.transport,
    ...ctx.extra,
  };
  if (header) {
    fields.transaction_id = header.transactionId;
    fields.unit_id = header.unitId;
    if (bytes[0] !== undefined) fields.function_code = bytes[0] & 0x7f;
  }
  const [from, to] = direction === 'response' ? [ctx.server, ctx.master] : [ctx.master, ctx.server];
  const message = `malformed Modbus ${direction}: ${error.message}`;
  const unit = header ? device(ctx, header.unitId) : undefined;
  return endpointEvent(
    ctx,
    'modbus',
    'security',
    'modbus.malformed',
    4,
    message,
    unit,
    fields,
    eventTags(ctx.tags, false),
    from,
    to,
  );
}
