/**
 * Maps a BACnet message (a session's complete APDU, network message or BVLC message) to the one
 * `Event` (protocols/event/SPEC.md, "BACnet"): the action is named after the service
 * (`bacnet.reinitialize_device`, `bacnet.write_property`), the network message
 * (`bacnet.who_is_router_to_network`) or the BVLC function (`bacnet.register_foreign_device`);
 * answers that are not acknowledgements are `bacnet.error`, `bacnet.reject` and `bacnet.abort`;
 * undecodable bytes are `bacnet.malformed`. `kind` and `severity` say what matters to a SOC:
 * restarts, communication control, writes, object and file changes and BBMD table changes are
 * `security`; reads, discovery and notifications are `telemetry`. An answer carries its
 * request's service and object, so a rule can match a SimpleACK of a write it did not see.
 */
import {
  type Endpoint,
  type EndpointEventContext,
  endpointEvent,
  eventTags,
} from '../event/endpoint-event.ts';
import type { PendingEvent } from '../event/schema.ts';
import type { BacnetMessage } from './session.ts';
import {
  ABORT_REASONS,
  ENABLE_DISABLE,
  ERROR_CLASSES,
  ERROR_CODES,
  nameOf,
  objectTypeName,
  propertyName,
  REINITIALIZE_STATES,
  REJECT_REASONS,
  SEGMENTATION,
  serviceName,
} from './names.ts';
import type { Apdu, BacnetError, BacnetValue, ServiceParams } from './types.ts';

export interface BacnetEventContext extends EndpointEventContext {
  /** Sender and receiver of the datagram (absent over 802.2 LLC). */
  src?: Endpoint;
  dst?: Endpoint;
  /** `ip` for BACnet/IP (UDP), `ethernet` for BACnet over 802.2 LLC. */
  link?: 'ip' | 'ethernet';
}

/** Confirmed services whose request changes a device: security events. */
const SEVERE = new Map<number, number>([
  [20, 2], // reinitializeDevice
  [17, 2], // deviceCommunicationControl
  [7, 3], // atomicWriteFile
  [10, 3], // createObject
  [11, 3], // deleteObject
  [15, 4], // writeProperty
  [16, 4], // writePropertyMultiple
  [8, 4], // addListElement
  [9, 4], // removeListElement
  [18, 5], // confirmedPrivateTransfer
  [24, 4], // authenticate
  [25, 4], // requestKey
  [27, 4], // lifeSafetyOperation
]);
/** Unconfirmed services that change a device. */
const SEVERE_UNCONFIRMED = new Map<number, number>([
  [6, 5], // timeSynchronization
  [9, 5], // utcTimeSynchronization
  [10, 4], // writeGroup
  [14, 4], // you-Are (assigns a device identity)
  [4, 5], // unconfirmedPrivateTransfer
]);
/** BVLC functions that change a BBMD's tables or join a foreign device (Annex J.4, J.5). */
const BVLC_SEVERE = new Map<number, number>([
  [0x01, 3], // Write-Broadcast-Distribution-Table
  [0x05, 4], // Register-Foreign-Device
  [0x08, 4], // Delete-Foreign-Device-Table-Entry
]);
/** Unconfirmed services the sender sends about itself: the event is about the sender. */
const ABOUT_SENDER = new Set([0, 1, 2, 3, 11, 12]);

export function bacnetAction(m: Pick<BacnetMessage<unknown>, 'frame'>): string {
  const { apdu, npdu, bvlc } = m.frame;
  if (apdu) {
    if (apdu.type === 4) return 'bacnet.segment_ack';
    if (apdu.type === 5) return 'bacnet.error';
    if (apdu.type === 6) return 'bacnet.reject';
    if (apdu.type === 7) return 'bacnet.abort';
    if (apdu.type > 7) return 'bacnet.unknown_pdu';
    const name = serviceName(apdu.type, apdu.serviceChoice ?? -1);
    return name.startsWith('unknown_') ? 'bacnet.unknown_service' : `bacnet.${name}`;
  }
  if (npdu?.networkMessage) {
    const name = npdu.messageName ?? 'unknown';
    return name.startsWith('unknown_') ? 'bacnet.unknown_network_message' : `bacnet.${name}`;
  }
  const fn = bvlc?.functionName ?? 'unknown';
  return fn.startsWith('unknown_') ? 'bacnet.unknown_bvlc_function' : `bacnet.${fn}`;
}

function classify(
  m: BacnetMessage<unknown>,
  anomalies: number,
): { kind: PendingEvent['kind']; severity: number } {
  const { apdu, bvlc, npdu } = m.frame;
  let severity = 6;
  let kind: PendingEvent['kind'] = 'telemetry';
  if (apdu) {
    const service = apdu.serviceChoice ?? m.request?.serviceChoice ?? -1;
    if (apdu.type === 0 && SEVERE.has(service)) severity = SEVERE.get(service)!;
    else if (apdu.type === 1 && SEVERE_UNCONFIRMED.has(service)) severity = SEVERE_UNCONFIRMED.get(service)!;
    else if (apdu.type >= 5 && apdu.type <= 7) severity = 4;
    else if ((apdu.type === 2 || apdu.type === 3) && SEVERE.has(service)) severity = 5;
    else if (apdu.type === 4) severity = 7;
    else if (apdu.type > 7 || serviceName(apdu.type, service).startsWith('unknown_')) severity = 4;
    // Writing out-of-service (property 81) detaches an object's value from the process.
    const writesOos = apdu.params?.property === 81 || apdu.params?.properties?.includes(81) === true;
    if (apdu.type === 0 && writesOos && (service === 15 || service === 16)) severity = 2;
    if (apdu.type === 0 && service === 17 && apdu.params?.enableDisable === 0) severity = 4;
  } else if (npdu?.networkMessage) severity = npdu.messageType === 6 ? 4 : 6;
  else if (bvlc && BVLC_SEVERE.has(bvlc.function)) severity = BVLC_SEVERE.get(bvlc.function)!;
  if (severity <= 5) kind = 'security';
  if (anomalies > 0) severity = Math.min(severity, 4);
  return { kind, severity };
}

const objectText = (o: { type: number; instance: number }) => `${objectTypeName(o.type)}:${o.instance}`;

/** A value as an event field: object identifiers as `type:instance`. */
function valueField(v: BacnetValue): unknown {
  return v !== null && typeof v === 'object' ? objectText(v) : v;
}

/** The service parameters as event fields (snake_case, absent values omitted). */
export function paramFields(p: ServiceParams, f: Record<string, unknown>): void {
  if (p.object) {
    f.object_type = objectTypeName(p.object.type);
    f.object_type_code = p.object.type;
    f.object_instance = p.object.instance;
    f.object = objectText(p.object);
  }
  if (p.property !== undefined) {
    f.property = propertyName(p.property);
    f.property_id = p.property;
  }
  if (p.properties && p.properties.length > 1) f.properties = p.properties.map(propertyName);
  if (p.arrayIndex !== undefined) f.array_index = p.arrayIndex;
  if (p.values) {
    f.values = p.values.map(valueField);
    if (p.values.length === 1) f.value = valueField(p.values[0]!);
  }
  if (p.valueCount !== undefined) f.value_count = p.valueCount;
  if (p.priority !== undefined) f.priority = p.priority;
  if (p.reinitializeState !== undefined)
    f.reinitialize_state = nameOf(REINITIALIZE_STATES, p.reinitializeState);
  if (p.enableDisable !== undefined) f.enable_disable = nameOf(ENABLE_DISABLE, p.enableDisable);
  if (p.timeDurationMins !== undefined) f.time_duration_mins = p.timeDurationMins;
  if (p.passwordPresent !== undefined) f.password_present = p.passwordPresent;
  if (p.lowLimit !== undefined) f.low_limit = p.lowLimit;
  if (p.highLimit !== undefined) f.high_limit = p.highLimit;
  if (p.deviceInstance !== undefined) f.device_instance = p.deviceInstance;
  if (p.vendorId !== undefined) f.vendor_id = p.vendorId;
  if (p.maxApdu !== undefined) f.max_apdu = p.maxApdu;
  if (p.segmentationSupported !== undefined)
    f.segmentation_supported = nameOf(SEGMENTATION, p.segmentationSupported);
  if (p.objectName !== undefined) f.object_name = p.objectName;
  if (p.errorClass !== undefined) f.error_class = nameOf(ERROR_CLASSES, p.errorClass);
  if (p.errorCode !== undefined) f.error_code = nameOf(ERROR_CODES, p.errorCode);
}

function apduFields(a: Apdu, m: BacnetMessage<unknown>, f: Record<string, unknown>): void {
  f.pdu_type = a.typeName;
  f.direction = a.type === 0 || a.type === 1 || (a.type === 4 && !a.server) ? 'request' : 'response';
  const choice = a.serviceChoice ?? m.request?.serviceChoice;
  if (choice !== undefined && a.type !== 4) {
    f.service_choice = choice;
    f.service = serviceName(a.type === 1 ? 1 : 0, choice);
  }
  if (a.invokeId !== undefined) f.invoke_id = a.invokeId;
  if (a.type === 4) f.sequence_number = a.sequenceNumber;
  if (a.type === 6) f.reject_reason = nameOf(REJECT_REASONS, a.reason ?? -1);
  if (a.type === 7) f.abort_reason = nameOf(ABORT_REASONS, a.reason ?? -1);
  if (m.segments !== undefined) f.segments = m.segments;
  // An answer says what it answers: the request's object and property when it has none.
  const params = a.params ?? {};
  const request = m.request?.params;
  paramFields(request && !params.object ? { ...pick(request), ...params } : params, f);
  if (a.anomalies.length > 0) f.anomalies = [...a.anomalies];
}

function pick(p: ServiceParams): ServiceParams {
  const out: ServiceParams = {};
  if (p.object) out.object = p.object;
  if (p.property !== undefined) out.property = p.property;
  if (p.arrayIndex !== undefined) out.arrayIndex = p.arrayIndex;
  return out;
}

function isBroadcast(m: BacnetMessage<unknown>): boolean {
  const fn = m.frame.bvlc?.function;
  return fn === 0x0b || fn === 0x09 || m.frame.npdu?.dnet === 0xffff || m.frame.npdu?.dadr === '';
}

function deviceOf(m: BacnetMessage<unknown>, f: Record<string, unknown>): PendingEvent['device'] {
  const a = m.frame.apdu;
  const aboutSender =
    (a && (a.type >= 2 || (a.type === 1 && ABOUT_SENDER.has(a.serviceChoice ?? -1)))) ||
    (!a && m.frame.npdu?.networkMessage === true);
  if (!aboutSender && isBroadcast(m)) return undefined;
  const where = aboutSender ? m.from : m.to;
  const device: NonNullable<PendingEvent['device']> = { id: `bacnet:${where}` };
  // The device instance, when the message names the device itself (i-Am, a device object).
  const instance =
    typeof f.device_instance === 'number' && aboutSender
      ? f.device_instance
      : f.object_type === 'device'
        ? f.object_instance
        : undefined;
  if (typeof instance === 'number') device.protocol_id = String(instance);
  return device;
}

function describe(action: string, f: Record<string, unknown>): string {
  let text = `${action.slice(7)}${f.direction ? ` ${String(f.direction)}` : ''}`;
  if (f.object) text += ` ${String(f.object)}`;
  if (f.property) text += ` ${String(f.property)}`;
  if (f.value !== undefined) text += ` = ${JSON.stringify(f.value)}`;
  if (f.reinitialize_state) text += ` ${String(f.reinitialize_state)}`;
  if (f.enable_disable) text += ` ${String(f.enable_disable)}`;
  if (f.error_code) text += ` ${String(f.error_class)}/${String(f.error_code)}`;
  if (f.reject_reason) text += ` ${String(f.reject_reason)}`;
  if (f.abort_reason) text += ` ${String(f.abort_reason)}`;
  return text;
}

export function bacnetToEvent(m: BacnetMessage<unknown>, ctx: BacnetEventContext): PendingEvent {
  const { bvlc, npdu, apdu } = m.frame;
  const f: Record<string, unknown> = { link: ctx.link ?? 'ip' };
  if (bvlc) {
    f.bvlc_function = bvlc.functionName;
    if (bvlc.originalSource) f.original_source = bvlc.originalSource;
    if (bvlc.ttlSecs !== undefined) f.ttl_secs = bvlc.ttlSecs;
    if (bvlc.resultCode !== undefined) f.result_code = bvlc.resultCode;
  }
  if (npdu) {
    if (npdu.dnet !== undefined) f.dnet = npdu.dnet;
    if (npdu.dadr !== undefined) f.dadr = npdu.dadr;
    if (npdu.snet !== undefined) f.snet = npdu.snet;
    if (npdu.sadr !== undefined) f.sadr = npdu.sadr;
    if (npdu.hopCount !== undefined) f.hop_count = npdu.hopCount;
    if (npdu.priority !== 0) f.network_priority = npdu.priority;
    if (npdu.networkMessage) {
      f.direction = 'request';
      f.network_message = npdu.messageName;
      f.network_message_type = npdu.messageType;
      if (npdu.networks) f.networks = [...npdu.networks];
      if (npdu.vendorId !== undefined) f.vendor_id = npdu.vendorId;
    }
  }
  if (apdu) apduFields(apdu, m, f);
  // BVLC-Result and the two table ACKs answer; every other BVLC message asks or announces.
  else if (!npdu) f.direction = bvlc && [0x00, 0x03, 0x07].includes(bvlc.function) ? 'response' : 'request';
  if (isBroadcast(m)) f.broadcast = true;
  if (ctx.extra) Object.assign(f, ctx.extra);
  const anomalies = [
    ...(m.frame.anomalies ?? []),
    ...((f.anomalies as string[] | undefined) ?? []),
    ...m.anomalies,
  ];
  if (anomalies.length > 0) f.anomalies = anomalies;
  const action = bacnetAction(m);
  const { kind, severity } = classify(m, anomalies.length);
  return endpointEvent(
    ctx,
    'bacnet',
    kind,
    action,
    severity,
    describe(action, f),
    deviceOf(m, f),
    f,
    eventTags(ctx.tags, anomalies.length > 0),
    ctx.src,
    ctx.dst,
  );
}

/** Bytes that are not a BACnet message: a visible, counted event, never a silent drop. */
export function bacnetErrorToEvent(
  error: BacnetError,
  bytes: Uint8Array,
  ctx: BacnetEventContext,
): PendingEvent {
  const fields: Record<string, unknown> = {
    code: error.code,
    error: error.message,
    bytes: bytes.length,
    preview: Buffer.from(bytes.subarray(0, 64)).toString('hex'),
    link: ctx.link ?? 'ip',
    ...ctx.extra,
  };
  const message = `malformed BACnet: ${error.message}`;
  const tags = eventTags(ctx.tags, false);
  return endpointEvent(
    ctx,
    'bacnet',
    'security',
    'bacnet.malformed',
    4,
    message,
    undefined,
    fields,
    tags,
    ctx.src,
    ctx.dst,
  );
}
