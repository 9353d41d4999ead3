/**
 * Maps decoded EtherNet/IP + CIP to the one `Event` (protocols/event/SPEC.md, "EtherNet/IP and
 * CIP"): one event per CIP message, the messages inside a Multiple Service Packet or an Unconnected Send included, named
 * after the service (`cip.set_attribute_single`, `cip.reset`, `cip.forward_open`); one event per
 * encapsulation command that carries no CIP (`enip.list_identity`, `enip.register_session`); one
 * per implicit I/O datagram (`cip.io`); undecodable bytes as `enip.malformed`. Replies carry the
 * path of the request they answer. `kind`/`severity` say what matters to a SOC: resets, stops,
 * writes, connection set-up, non-volatile storage (firmware) and identity enumeration are
 * `security`; reads and I/O are `telemetry`.
 */
import {
  type Endpoint,
  type EndpointEventContext,
  endpointEvent,
  eventTags,
} from '../event/endpoint-event.ts';
import type { PendingEvent } from '../event/schema.ts';
import {
  className,
  commandName,
  DEVICE_TYPE_NAMES,
  generalStatusName,
  serviceName,
  VENDOR_NAMES,
} from './names.ts';
import { answeredRequest } from './session.ts';
import {
  type CipMessage,
  type EnipDirection,
  type EnipError,
  type EnipIdentity,
  type EnipPdu,
  hex,
} from './types.ts';

export interface EnipEventContext extends EndpointEventContext {
  /** Originator (client, scanner) and target (the device the event is about). */
  client?: Endpoint;
  server?: Endpoint;
  /** Pairing anomalies from the session. */
  anomalies?: string[];
}

/** Services that change a device: writes, resets, mode changes, object life cycle (Vol. 1 App. A). */
const CHANGES = new Set([0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0d, 0x10, 0x15, 0x16, 0x19, 0x1a, 0x1b]);
const DISRUPTIVE = new Set([0x05, 0x07]); // reset, stop
const NON_VOLATILE_STORAGE = 0xa1;
const IDENTITY = 0x01;

/** A new event: the originator sends requests, the target answers; the target is the device. */
function newEvent(
  ctx: EnipEventContext,
  direction: EnipDirection,
  kind: PendingEvent['kind'],
  action: string,
  severity: number,
  message: string,
  fields: Record<string, unknown>,
  tags: string[],
): PendingEvent {
  const [from, to] = direction === 'request' ? [ctx.client, ctx.server] : [ctx.server, ctx.client];
  const device = ctx.server ? { id: `enip:${ctx.server.ip}` } : undefined;
  return endpointEvent(ctx, 'enip', kind, action, severity, message, device, fields, tags, from, to);
}

function assign(to: Record<string, unknown>, from: Record<string, unknown> | undefined): void {
  if (from) for (const k in from) to[k] = from[k];
}

function classify(
  msg: CipMessage,
  ctx: CipMessage | undefined,
): { kind: PendingEvent['kind']; severity: number } {
  const classId = (ctx ?? msg).path?.classId;
  const response = msg.direction === 'response';
  if (response && msg.generalStatus !== 0) return { kind: 'security', severity: 5 };
  if (classId === NON_VOLATILE_STORAGE && msg.service !== 0x01 && msg.service !== 0x0e)
    return { kind: 'security', severity: response ? 4 : 2 };
  if (DISRUPTIVE.has(msg.service)) return { kind: 'security', severity: response ? 4 : 2 };
  if (CHANGES.has(msg.service) || msg.service === 0x4d || msg.service === 0x53)
    return { kind: 'security', severity: response ? 6 : 5 };
  if (classId === 0x06 && msg.service >= 0x4b) return { kind: 'security', severity: 6 };
  return { kind: 'telemetry', severity: 6 };
}

export function identityFields(id: EnipIdentity): Record<string, unknown> {
  return {
    vendor_id: id.vendorId,
    vendor: VENDOR_NAMES[id.vendorId] ?? `vendor_${id.vendorId}`,
    device_type: id.deviceType,
    device_type_name: DEVICE_TYPE_NAMES[id.deviceType] ?? `device_type_${id.deviceType}`,
    product_code: id.productCode,
    revision: id.revision,
    status: id.status,
    serial_number: `0x${id.serialNumber.toString(16).padStart(8, '0')}`,
    product_name: id.productName,
    state: id.state,
    encapsulation_version: id.encapsulationVersion,
    socket_address: id.socketAddress,
    socket_port: id.socketPort,
  };
}

/** The events of one decoded encapsulation message or I/O datagram. */
export function enipToEvents(
  pdu: EnipPdu,
  direction: EnipDirection,
  ctx: EnipEventContext,
  request?: EnipPdu,
): PendingEvent[] {
  const anomalies =
    ctx.anomalies && ctx.anomalies.length > 0 ? pdu.anomalies.concat(ctx.anomalies) : pdu.anomalies;
  if (pdu.type === 'io') {
    const fields: Record<string, unknown> = {
      connection_id: pdu.connectionId,
      sequence: pdu.ioSequence,
      data_bytes: pdu.ioData?.length ?? 0,
    };
    assign(fields, ctx.extra);
    if (pdu.ioData) fields.data = hex(pdu.ioData);
    if (anomalies.length > 0) fields.anomalies = anomalies;
    const text = `CIP I/O connection 0x${(pdu.connectionId ?? 0).toString(16)} sequence ${pdu.ioSequence}`;
    return [newEvent(ctx, direction, 'telemetry', 'cip.io', 7, text, fields, eventTags(ctx.tags, false))];
  }
  const h = pdu.header!;
  const common: Record<string, unknown> = {
    direction,
    command: commandName(h.command),
    command_code: h.command,
    session_handle: h.sessionHandle,
  };
  if (h.status !== 0) common.encap_status = h.status;
  if (!pdu.cip) {
    const fields = common;
    assign(fields, ctx.extra);
    const recon = h.command === 0x63 || h.command === 0x04 || h.command === 0x64;
    const ev = newEvent(
      ctx,
      direction,
      recon ? 'security' : 'telemetry',
      `enip.${commandName(h.command)}`,
      6,
      `EtherNet/IP ${commandName(h.command)} ${direction}`,
      fields,
      eventTags(ctx.tags, false),
    );
    if (pdu.identities && pdu.identities.length > 0) {
      const id = pdu.identities[0]!;
      fields.identity = identityFields(id);
      ev.message += `: ${id.productName} serial 0x${id.serialNumber.toString(16).padStart(8, '0')}`;
      if (ev.device) ev.device.name = id.productName;
    }
    if (anomalies.length > 0) fields.anomalies = anomalies;
    return [ev];
  }
  if (pdu.connectionId !== undefined) common.connection_id = pdu.connectionId;
  if (pdu.sequenceCount !== undefined) common.sequence_count = pdu.sequenceCount;
  common.connected = h.command === 0x70;
  const events: PendingEvent[] = [];
  const top = pdu.cip;
  const topRequest = direction === 'response' ? answeredRequest(request?.cip, top) : undefined;
  const add = (msg: CipMessage, req: CipMessage | undefined, parent?: { service: number; index: number }) => {
    events.push(cipEvent(msg, req, direction, ctx, common, anomalies, parent));
    if (!msg.embedded) return;
    msg.embedded.forEach((inner, index) => {
      const innerReq = req?.embedded?.[index];
      add(inner, innerReq && innerReq.service === inner.service ? innerReq : undefined, {
        service: msg.service,
        index,
      });
    });
  };
  add(top, topRequest);
  return events;
}

function cipEvent(
  msg: CipMessage,
  req: CipMessage | undefined,
  direction: EnipDirection,
  ctx: EnipEventContext,
  common: Record<string, unknown>,
  anomalies: string[],
  parent?: { service: number; index: number },
): PendingEvent {
  const path = (msg.direction === 'request' ? msg : (req ?? msg)).path;
  const name = serviceName(msg.service, path?.classId, path?.symbol !== undefined);
  const fields: Record<string, unknown> = {};
  assign(fields, common);
  fields.service_code = msg.service;
  fields.service = name;
  if (msg.direction !== direction) fields.cip_direction = msg.direction;
  let text = `CIP ${name} ${msg.direction}`;
  if (path) {
    if (path.classId !== undefined) {
      fields.class_id = path.classId;
      fields.class = className(path.classId);
      text += ` ${className(path.classId)}`;
    }
    if (path.instanceId !== undefined) {
      fields.instance_id = path.instanceId;
      text += ` instance ${path.instanceId}`;
    }
    if (path.attributeId !== undefined) {
      fields.attribute_id = path.attributeId;
      text += ` attribute ${path.attributeId}`;
    }
    if (path.memberId !== undefined) fields.member_id = path.memberId;
    if (path.connectionPoint !== undefined) fields.connection_point = path.connectionPoint;
    if (path.symbol !== undefined) {
      fields.symbol = path.symbol;
      text += ` ${path.symbol}`;
    }
    if (path.route) fields.route = path.route.map((r) => `${r.port}/${r.link}`).join(',');
  }
  const attrs = (msg.direction === 'request' ? msg : req)?.attributes;
  if (attrs) fields.attributes = attrs;
  if (msg.generalStatus !== undefined) {
    fields.general_status = msg.generalStatus;
    fields.status = generalStatusName(msg.generalStatus);
    if (msg.generalStatus !== 0) text += ` status ${generalStatusName(msg.generalStatus)}`;
  }
  if (msg.extendedStatus) fields.extended_status = msg.extendedStatus;
  if (msg.forwardOpen) {
    fields.ot_connection_id = msg.forwardOpen.otConnectionId;
    fields.to_connection_id = msg.forwardOpen.toConnectionId;
    fields.originator_vendor_id = msg.forwardOpen.vendorId;
  }
  if (parent) {
    fields.embedded = true;
    fields.parent_service = serviceName(parent.service, parent.service === 0x52 ? 0x06 : undefined);
    fields.index = parent.index;
  }
  if (!msg.embedded && msg.data.length > 0) {
    fields.data_bytes = msg.data.length;
    fields.data = hex(msg.data);
  }
  assign(fields, ctx.extra);
  const all = msg.anomalies.length > 0 ? anomalies.concat(msg.anomalies) : anomalies;
  if (all.length > 0) fields.anomalies = all;
  const { kind, severity } = classify(msg, req);
  const tags = eventTags(ctx.tags, all.length > 0);
  const event = newEvent(
    ctx,
    direction,
    kind,
    `cip.${name}`,
    all.length > 0 ? Math.min(severity, 4) : severity,
    text,
    fields,
    tags,
  );
  if (
    path?.classId === IDENTITY &&
    msg.direction === 'response' &&
    msg.service === 0x01 &&
    msg.generalStatus === 0
  )
    fields.identity_reply = true;
  return event;
}

/** Bytes that are not EtherNet/IP: a visible, counted event, never a silent drop. */
export function enipErrorToEvent(
  error: EnipError,
  bytes: Uint8Array,
  direction: EnipDirection,
  ctx: EnipEventContext,
): PendingEvent {
  const fields: Record<string, unknown> = {
    code: error.code,
    error: error.message,
    direction,
    bytes: bytes.length,
    preview: hex(bytes),
  };
  assign(fields, ctx.extra);
  const text = `malformed EtherNet/IP ${direction}: ${error.message}`;
  return newEvent(ctx, direction, 'security', 'enip.malformed', 4, text, fields, eventTags(ctx.tags, false));
}
