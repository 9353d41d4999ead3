/**
 * The events the proxy itself raises, beside the decoded request and response events of
 * protocols/modbus/to-event.ts: `modbus.policy_violation` (a request the policy denies or enforce
 * mode refuses, and broken MBAP framing in enforce mode). `modbus.device_unreachable` is built
 * by shared/device-unreachable.ts, as the OT proxy's.
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import {
  functionName,
  type MbapHeader,
  type ModbusPdu,
  modbusToEvent,
  type ModbusEventContext,
  pduFields,
} from '../../../protocols/modbus/index.ts';

export interface ViolationInfo {
  proxy: string;
  mode: 'monitor' | 'enforce';
  reason: string;
  blocked: boolean;
  exceptionCode?: number;
  /** What is wrong with a malformed request or a broken frame. */
  detail?: string;
}

function verdictFields(v: ViolationInfo): Record<string, unknown> {
  const f: Record<string, unknown> = {
    transport: 'tcp',
    proxy: v.proxy,
    reason: v.reason,
    mode: v.mode,
    blocked: v.blocked,
  };
  if (v.blocked && v.exceptionCode !== undefined) f.exception_code = v.exceptionCode;
  if (v.detail) f.error = v.detail;
  return f;
}

const outcome = (v: ViolationInfo) =>
  !v.blocked ? 'reported' : v.exceptionCode === undefined ? 'connection closed' : 'blocked';

/** A violation by a request that decoded: the request's own fields, and the verdict. */
export function decodedViolation(
  header: MbapHeader,
  pdu: ModbusPdu,
  ectx: ModbusEventContext,
  v: ViolationInfo,
  masterIp: string,
): PendingEvent {
  const base = modbusToEvent(header, pdu, { ...ectx, extra: { proxy: v.proxy } });
  return {
    ...base,
    action: 'modbus.policy_violation',
    kind: 'security',
    severity: v.blocked ? 4 : 3,
    message: `${v.reason.replace(/_/g, ' ')}: ${masterIp} ${base.message} (${outcome(v)})`,
    fields: {
      ...pduFields(pdu),
      unit_id: header.unitId,
      transaction_id: header.transactionId,
      ...verdictFields(v),
    },
  };
}

/**
 * A violation by bytes that did not decode: a malformed PDU (with its MBAP header) or a broken
 * MBAP header (without one). Carries the function code byte and a preview of the bytes.
 */
export function rawViolation(
  bytes: Uint8Array,
  header: MbapHeader | undefined,
  ectx: ModbusEventContext,
  v: ViolationInfo,
  masterIp: string,
): PendingEvent {
  const received = ectx.received.toISOString();
  const fields: Record<string, unknown> = {
    direction: 'request',
    bytes: bytes.length,
    preview: Buffer.from(bytes.subarray(0, 64)).toString('hex'),
    ...verdictFields(v),
  };
  let what = 'broken MBAP frame';
  if (header) {
    const fc = bytes[0] ?? 0;
    fields.function_code = fc;
    fields.function = functionName(fc);
    fields.unit_id = header.unitId;
    fields.transaction_id = header.transactionId;
    what = `${functionName(fc)} request unit ${header.unitId}`;
  }
  const event: PendingEvent = {
    ts: received,
    received,
    source: 'modbus',
    kind: 'security',
    action: 'modbus.policy_violation',
    severity: 4,
    message: `${v.reason.replace(/_/g, ' ')}: ${masterIp} ${what}${v.detail ? ` (${v.detail})` : ''} (${outcome(v)})`,
    fields,
    tags: [],
  };
  if (ectx.master) event.src = { ...ectx.master };
  if (ectx.server) event.dst = { ...ectx.server };
  if (header && ectx.server)
    event.device = { id: `modbus:${ectx.server.ip}/${header.unitId}`, protocol_id: String(header.unitId) };
  return event;
}
