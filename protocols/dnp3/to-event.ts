/**
 * Maps a decoded DNP3 application fragment to the one `Event` (protocols/event/SPEC.md, DNP3): one
 * event per request and per response, the action named after the function (`dnp3.cold_restart`,
 * `dnp3.direct_operate`, `dnp3.unsolicited_response`), refused bytes as `dnp3.malformed`. `kind`
 * and `severity` say what matters to an OT monitor: restarts, stopping or initialising an
 * application and activating a configuration are critical; controls, writes and disabling
 * unsolicited reporting are security events; polling (READ, responses, CONFIRM) is telemetry. The
 * device is the outstation (its IP and DNP3 address); flat fields (`object_groups`,
 * `point_indexes`, `values`) let a Sigma rule match any object of the fragment.
 */
import {
  type Endpoint,
  type EndpointEventContext,
  endpointEvent,
  eventTags,
} from '../event/endpoint-event.ts';
import type { PendingEvent } from '../event/schema.ts';
import { type Dnp3SessionItem, isBroadcast } from './session.ts';
import {
  CROB_OP_NAMES,
  CROB_TCC_NAMES,
  DNP3_LIMITS,
  type Dnp3Apdu,
  type Dnp3Error,
  functionName,
  GROUP_NAMES,
  iinFlags,
  type LinkHeader,
} from './types.ts';

export type Dnp3Endpoint = Endpoint;

export interface Dnp3EventContext extends EndpointEventContext {
  /** The packet's sender and receiver (the fragment says which one is the master). */
  src?: Dnp3Endpoint;
  dst?: Dnp3Endpoint;
  transport: 'tcp' | 'udp';
  /** Link frames the fragment was carried in. */
  segments?: number;
  /** The request a response answers (from the session). */
  requestFunction?: number;
  /** Pairing anomalies from the session. */
  anomalies?: string[];
}

/** Functions that restart or reconfigure an outstation (IEEE 1815 §4.4.11–4.4.16, §4.4.20). */
const CRITICAL = new Set([13, 14, 15, 16, 18, 31]);
/** Controls, writes, disabling unsolicited reporting, file deletion, saving a configuration. */
const CONTROL = new Set([2, 3, 4, 5, 6, 19, 21, 27]);
/** Polling and its answers. */
const TELEMETRY = new Set([0, 1, 129, 130]);
/** Object errors that mean the bytes are wrong, not that we lack an object's size. */
const MALFORMED_OBJECTS = new Set(['bad_qualifier', 'bad_range', 'truncated', 'too_many_objects']);

export function dnp3Action(fc: number): string {
  const name = functionName(fc);
  return name.startsWith('unknown_') ? 'dnp3.unknown_function' : `dnp3.${name}`;
}

function classify(
  apdu: Dnp3Apdu,
  requestFunction?: number,
): { kind: PendingEvent['kind']; severity: number } {
  const fc = apdu.function;
  if (apdu.direction === 'response') {
    const asked = requestFunction;
    const security = asked !== undefined && !TELEMETRY.has(asked);
    return { kind: security || fc === 131 ? 'security' : 'telemetry', severity: 6 };
  }
  if (CRITICAL.has(fc)) return { kind: 'security', severity: 2 };
  if (CONTROL.has(fc)) return { kind: 'security', severity: 4 };
  if (TELEMETRY.has(fc)) return { kind: 'telemetry', severity: 6 };
  return { kind: 'security', severity: functionName(fc).startsWith('unknown_') ? 4 : 5 };
}

const objectName = (g: number, v: number) => `g${g}v${v}`;

/** The fragment's content as event fields (snake_case, absent values omitted). */
export function apduFields(apdu: Dnp3Apdu, link: LinkHeader): Record<string, unknown> {
  const request = apdu.direction === 'request';
  const f: Record<string, unknown> = {
    direction: apdu.direction,
    function_code: apdu.function,
    function: functionName(apdu.function),
    master_address: request ? link.source : link.destination,
    outstation_address: request ? link.destination : link.source,
    app_seq: apdu.control.seq,
  };
  if (request) f.broadcast = isBroadcast(link.destination);
  if (apdu.control.con) f.confirm_requested = true;
  if (apdu.control.uns) f.unsolicited = true;
  if (!apdu.control.fir || !apdu.control.fin) f.fragment = { fir: apdu.control.fir, fin: apdu.control.fin };
  if (apdu.iin !== undefined) {
    f.iin = apdu.iin;
    f.iin_flags = iinFlags(apdu.iin);
  }
  const groups = new Set<string>();
  const indexes = new Set<number>();
  const values: Array<number | string> = [];
  const points: Array<Record<string, unknown>> = [];
  f.objects = apdu.objects.map((o) => {
    const name = objectName(o.group, o.variation);
    groups.add(name);
    const out: Record<string, unknown> = {
      object: name,
      group: o.group,
      variation: o.variation,
      qualifier: o.qualifier,
    };
    if (GROUP_NAMES[o.group]) out.name = GROUP_NAMES[o.group];
    if (o.start !== undefined) {
      out.start = o.start;
      out.stop = o.stop;
    }
    if (o.count !== undefined) out.count = o.count;
    for (const p of o.points) {
      if (indexes.size < DNP3_LIMITS.MAX_EVENT_POINTS) indexes.add(p.index);
      if (points.length >= DNP3_LIMITS.MAX_EVENT_POINTS) continue;
      const point: Record<string, unknown> = { object: name, index: p.index };
      if (p.value !== undefined) {
        point.value = typeof p.value === 'boolean' ? Number(p.value) : p.value;
        if (typeof p.value !== 'boolean') values.push(p.value);
      }
      if (p.flags !== undefined) point.flags = p.flags;
      if (p.crob) {
        point.op_type = CROB_OP_NAMES[p.crob.opType] ?? `unknown_${p.crob.opType}`;
        point.tcc = CROB_TCC_NAMES[p.crob.tcc] ?? `unknown_${p.crob.tcc}`;
        point.clear = p.crob.clear;
        point.count = p.crob.count;
        point.on_time_ms = p.crob.onTimeMs;
        point.off_time_ms = p.crob.offTimeMs;
        point.status = p.crob.status;
      }
      points.push(point);
    }
    return out;
  });
  f.object_groups = [...groups];
  if (indexes.size > 0) f.point_indexes = [...indexes];
  if (points.length > 0) f.points = points;
  if (values.length > 0) f.values = values;
  if (apdu.objectError) {
    f.object_error = apdu.objectError.code;
    f.object_error_message = apdu.objectError.message;
  }
  return f;
}

function describe(apdu: Dnp3Apdu, link: LinkHeader): string {
  const name = functionName(apdu.function).replace(/_/g, ' ');
  const objs = apdu.objects.slice(0, 6).map((o) => objectName(o.group, o.variation));
  const more = apdu.objects.length > 6 ? ` +${apdu.objects.length - 6}` : '';
  const what = objs.length > 0 ? ` ${objs.join(',')}${more}` : '';
  return apdu.direction === 'request'
    ? `DNP3 ${name} from master ${link.source} to outstation ${link.destination}${what}`
    : `DNP3 ${name} from outstation ${link.source} to master ${link.destination}${what}` +
        (apdu.iin ? ` IIN ${iinFlags(apdu.iin).join(',')}` : '');
}

/** The outstation: its IP and DNP3 address (`dnp3:10.0.0.3/4`), the inventory's identity. */
function device(apdu: Dnp3Apdu, link: LinkHeader, ctx: Dnp3EventContext): PendingEvent['device'] {
  const request = apdu.direction === 'request';
  const address = request ? link.destination : link.source;
  const ip = (request ? ctx.dst?.ip : ctx.src?.ip) ?? 'serial';
  return { id: `dnp3:${ip}/${address}`, protocol_id: String(address) };
}

export function dnp3ToEvent(link: LinkHeader, apdu: Dnp3Apdu, ctx: Dnp3EventContext): PendingEvent {
  const { kind, severity } = classify(apdu, ctx.requestFunction);
  const fields = apduFields(apdu, link);
  fields.transport = ctx.transport;
  if (ctx.segments !== undefined) fields.segments = ctx.segments;
  if (ctx.requestFunction !== undefined) fields.request_function = functionName(ctx.requestFunction);
  if (ctx.extra) Object.assign(fields, ctx.extra);
  const anomalies = [...(ctx.anomalies ?? [])];
  if (apdu.objectError && MALFORMED_OBJECTS.has(apdu.objectError.code)) anomalies.push('malformed_objects');
  if (anomalies.length > 0) fields.anomalies = anomalies;
  return endpointEvent(
    ctx,
    'dnp3',
    kind,
    dnp3Action(apdu.function),
    anomalies.length > 0 ? Math.min(severity, 4) : severity,
    describe(apdu, link),
    device(apdu, link, ctx),
    fields,
    eventTags(ctx.tags, anomalies.length > 0),
    ctx.src,
    ctx.dst,
  );
}

/** Bytes, frames or fragments the codec refused: a visible, counted event, never a silent drop. */
export function dnp3ErrorToEvent(error: Dnp3Error, ctx: Dnp3EventContext, link?: LinkHeader): PendingEvent {
  const fields: Record<string, unknown> = {
    code: error.code,
    error: error.message,
    transport: ctx.transport,
  };
  if (link) {
    fields.link_source = link.source;
    fields.link_destination = link.destination;
    fields.link_dir = link.dir;
  }
  if (ctx.extra) Object.assign(fields, ctx.extra);
  let outstation: PendingEvent['device'] | undefined;
  if (link) {
    // DIR=1: from the master, so the outstation is the destination.
    const address = link.dir ? link.destination : link.source;
    const ip = (link.dir ? ctx.dst?.ip : ctx.src?.ip) ?? 'serial';
    outstation = { id: `dnp3:${ip}/${address}`, protocol_id: String(address) };
  }
  const message = `malformed DNP3: ${error.message}`;
  const tags = eventTags(ctx.tags, false);
  return endpointEvent(
    ctx,
    'dnp3',
    'security',
    'dnp3.malformed',
    4,
    message,
    outstation,
    fields,
    tags,
    ctx.src,
    ctx.dst,
  );
}

/**
 * One session item → its event: fragments and refusals give one, plain link frames none (link
 * status polls and ACKs are chatter; they are counted by the caller if at all). `extra` gains the
 * frame numbers when `meta` has them: `frame` (the frame that completed it) and `request_frame`.
 */
export function dnp3ItemToEvent<M extends { frame?: number }>(
  item: Dnp3SessionItem<M>,
  ctx: Omit<Dnp3EventContext, 'segments' | 'requestFunction' | 'anomalies'>,
): PendingEvent | null {
  if (item.type === 'link') return null;
  const extra: Record<string, unknown> = ctx.extra ? Object.assign({}, ctx.extra) : {};
  if (item.meta.frame !== undefined) extra.frame = item.meta.frame;
  const full: Dnp3EventContext = { received: ctx.received, transport: ctx.transport, extra };
  if (ctx.ts) full.ts = ctx.ts;
  if (ctx.src) full.src = ctx.src;
  if (ctx.dst) full.dst = ctx.dst;
  if (ctx.tags) full.tags = ctx.tags;
  if (item.type === 'error') return dnp3ErrorToEvent(item.error, full, item.link);
  if (item.request?.meta.frame !== undefined) extra.request_frame = item.request.meta.frame;
  full.segments = item.segments;
  full.anomalies = item.anomalies;
  if (item.request) full.requestFunction = item.request.apdu.function;
  return dnp3ToEvent(item.link, item.apdu, full);
}
