/**
 * `modbus_reads`: the OT-aware reduction. An HMI or SCADA master polls the same registers many
 * times a second, and each request and response is an event; this stage summarises them per
 * (master, device, function, address range) per interval into one `modbus.read_summary`
 * (requests, responses, exceptions by code, response times, the last values read) and the
 * poller's cycles per device into one `modbus.poll_summary` (readings as count/min/max/avg/last).
 * Everything else — writes, diagnostics, identification, policy violations, malformed frames,
 * reads with anomalies — goes on one by one; an exception to a read is counted in its summary
 * and also goes on. A master reading more than `MAX_RANGES` ranges of one device with one
 * function in an interval (a scan, or a master that walks the map) gets one more summary for all
 * the others, with the lowest and highest address and how many ranges, so a scan costs one event,
 * not one per address. Windows are released on the pipeline's clock and on stop.
 * Fields: protocols/event/SPEC.md ("Pipeline summaries").
 */
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { EvictionCursor } from '../../../protocols/event/evict.ts';
import { addStat, MAX_WINDOWS, type Stat, statsObject } from './aggregate.ts';
import type { Stage, StageContext } from '../stage.ts';

const READS = new Set([
  'modbus.read_coils',
  'modbus.read_discrete_inputs',
  'modbus.read_holding_registers',
  'modbus.read_input_registers',
]);
const READ_CODES = new Set([1, 2, 3, 4]);
/** Requests waiting for their response (for response times), bounded. */
const MAX_PENDING = 4096;
/** Address ranges summarised one by one per master, device and function; beyond, folded together. */
export const MAX_RANGES = 16;

interface ReadWindow {
  kind: 'read';
  /** Master, device and function: what MAX_RANGES counts per. */
  group: string;
  /** The window of every range beyond MAX_RANGES: lowest and highest address, ranges seen. */
  others?: { min: number; max: number; ranges: Set<string> };
  first: PendingEvent;
  master: string | null;
  sinceMs: number;
  firstTs: string;
  lastTs: string;
  events: number;
  requests: number;
  responses: number;
  exceptions: number;
  exceptionCodes: Record<string, number>;
  rt: Stat | undefined;
  lastValues: unknown;
}

interface PollWindow {
  kind: 'poll';
  first: PendingEvent;
  sinceMs: number;
  firstTs: string;
  lastTs: string;
  polls: number;
  failedPoints: number;
  duration: Map<string, Stat>;
  readings: Map<string, Stat>;
  units: Record<string, unknown>;
}

type Window = ReadWindow | PollWindow;

type F = Record<string, unknown>;

export function createModbusReadsStage(options: { name: string; intervalSecs: number }): Stage {
  const windows = new Map<string, Window>();
  const oldest = new EvictionCursor(windows);
  const pending = new Map<string, number>();
  const oldestPending = new EvictionCursor(pending);
  const intervalMs = options.intervalSecs * 1000;

  const groupOf = (e: PendingEvent, f: F, master: string | null) =>
    `r\u0000${master ?? ''}\u0000${e.device?.id ?? ''}\u0000${String(f.function_code)}`;
  const rangeOf = (f: F) => `${String(f.address ?? '')}\u0000${String(f.quantity ?? '')}`;
  /** Open range windows per group. */
  const ranges = new Map<string, number>();
  const pairKey = (peer: { ip?: string; port?: number } | undefined, e: PendingEvent, f: F) =>
    `${peer?.ip ?? ''}:${peer?.port ?? ''}\u0000${e.device?.id ?? ''}\u0000${String(f.transaction_id ?? '')}\u0000${String(f.function_code)}`;

  const summary = (w: Window, nowMs: number): PendingEvent => {
    const f = w.first.fields as F;
    const at = new Date(nowMs).toISOString();
    const base = {
      ts: w.firstTs,
      received: at,
      time_source: 'gateway' as const,
      source: 'modbus' as const,
      kind: 'telemetry' as const,
      severity: 6,
      ...(w.first.device && { device: w.first.device }),
      tags: ['summary'],
    };
    if (w.kind === 'poll') {
      const readings = statsObject(w.readings);
      return {
        ...base,
        action: 'modbus.poll_summary',
        message: `${w.polls} polls of ${w.first.device?.id ?? '?'} by ${String(f.poller)} from ${w.firstTs} to ${w.lastTs}`,
        ...(w.first.dst && { dst: w.first.dst }),
        fields: {
          poller: f.poller,
          unit_id: f.unit_id,
          ...(f.endpoint !== undefined && { endpoint: f.endpoint }),
          polls: w.polls,
          failed_points: w.failedPoints,
          ...(w.duration.size > 0 && { duration_ms: statsObject(w.duration).duration_ms }),
          readings,
          units: w.units,
          first_seen: w.firstTs,
          last_seen: w.lastTs,
          interval_secs: options.intervalSecs,
        },
      };
    }
    const server = w.first.fields.direction === 'request' ? w.first.dst : w.first.src;
    const rt = w.rt && { count: w.rt.count, min: w.rt.min, max: w.rt.max, avg: w.rt.sum / w.rt.count };
    const o = w.others;
    const range = o
      ? `${o.min}-${o.max} (${o.ranges.size} ranges)`
      : typeof f.address === 'number' && typeof f.quantity === 'number'
        ? `${f.address}-${f.address + f.quantity - 1}`
        : '?';
    return {
      ...base,
      action: 'modbus.read_summary',
      message: `${w.requests} ${String(f.function)} requests from ${w.master ?? '?'} to unit ${String(f.unit_id)} address ${range}, ${w.exceptions} exceptions, from ${w.firstTs} to ${w.lastTs}`,
      ...(w.master && { src: { ip: w.master } }),
      ...(server && { dst: server }),
      fields: {
        summary_of: w.first.action,
        function_code: f.function_code,
        function: f.function,
        unit_id: f.unit_id,
        ...(o
          ? { address_min: o.min, address_max: o.max, ranges: o.ranges.size }
          : {
              ...(f.address !== undefined && { address: f.address }),
              ...(f.quantity !== undefined && { quantity: f.quantity }),
            }),
        ...(f.transport !== undefined && { transport: f.transport }),
        ...(f.proxy !== undefined && { proxy: f.proxy }),
        ...(f.capture !== undefined && { capture: f.capture }),
        ...(w.master && { master: w.master }),
        events: w.events,
        requests: w.requests,
        responses: w.responses,
        exceptions: w.exceptions,
        ...(w.exceptions > 0 && { exception_codes: w.exceptionCodes }),
        ...(rt && { response_time_ms: rt }),
        ...(w.lastValues !== undefined && { last_values: w.lastValues }),
        first_seen: w.firstTs,
        last_seen: w.lastTs,
        interval_secs: options.intervalSecs,
      },
    };
  };

  /** A window's summary goes on; its range no longer counts against its group. */
  const release = (w: Window, ctx: StageContext) => {
    if (w.kind === 'read' && !w.others) {
      const n = (ranges.get(w.group) ?? 1) - 1;
      if (n > 0) ranges.set(w.group, n);
      else ranges.delete(w.group);
    }
    ctx.emit(summary(w, ctx.nowMs));
  };

  const open = <W extends Window>(key: string, make: () => W, ctx: StageContext): W => {
    let w = windows.get(key);
    if (w && ctx.nowMs - w.sinceMs >= intervalMs) {
      windows.delete(key);
      release(w, ctx);
      w = undefined;
    }
    if (!w) {
      if (windows.size >= MAX_WINDOWS) {
        const [, early] = oldest.evict() ?? [];
        if (early) release(early, ctx);
      }
      w = make();
      windows.set(key, w);
    }
    return w as W;
  };

  const responseTime = (w: ReadWindow, e: PendingEvent, f: F) => {
    const k = pairKey(e.dst, e, f);
    const sent = pending.get(k);
    if (sent === undefined) return;
    pending.delete(k);
    const ms = Date.parse(e.ts) - sent;
    if (Number.isFinite(ms) && ms >= 0) {
      if (!w.rt) w.rt = { count: 1, min: ms, max: ms, sum: ms, last: ms };
      else {
        w.rt.count++;
        w.rt.min = Math.min(w.rt.min, ms);
        w.rt.max = Math.max(w.rt.max, ms);
        w.rt.sum += ms;
        w.rt.last = ms;
      }
    }
  };

  return {
    name: options.name,
    type: 'modbus_reads',
    dropReason: 'aggregated',
    process(event, ctx) {
      if (event.source !== 'modbus') return event;
      const f = event.fields as F;
      if (event.action === 'modbus.poll' && event.kind === 'telemetry') {
        const key = `p\u0000${String(f.poller)}\u0000${event.device?.id ?? ''}`;
        const w = open<PollWindow>(
          key,
          () => ({
            kind: 'poll',
            first: event,
            sinceMs: ctx.nowMs,
            firstTs: event.ts,
            lastTs: event.ts,
            polls: 0,
            failedPoints: 0,
            duration: new Map(),
            readings: new Map(),
            units: {},
          }),
          ctx,
        );
        w.polls++;
        w.lastTs = event.ts;
        if (Array.isArray(f.failed_points)) w.failedPoints += f.failed_points.length;
        if (typeof f.duration_ms === 'number') addStat(w.duration, 'duration_ms', f.duration_ms);
        if (f.readings && typeof f.readings === 'object')
          for (const [point, v] of Object.entries(f.readings as F)) {
            if (typeof v === 'number' && Number.isFinite(v)) addStat(w.readings, point, v);
            else if (typeof v === 'boolean') addStat(w.readings, point, v ? 1 : 0);
          }
        if (f.units && typeof f.units === 'object') Object.assign(w.units, f.units);
        return null;
      }
      const isException = event.action === 'modbus.exception' && READ_CODES.has(f.function_code as number);
      const isRead = READS.has(event.action) && event.kind === 'telemetry' && !f.anomalies;
      if (!isRead && !isException) return event;
      const request = f.direction === 'request';
      const master = (request ? event.src?.ip : event.dst?.ip) ?? null;
      const group = groupOf(event, f, master);
      const range = rangeOf(f);
      let key = `${group}\u0000${range}`;
      const folded = !windows.has(key) && (ranges.get(group) ?? 0) >= MAX_RANGES;
      if (folded) key = `${group}\u0000*`;
      const w = open<ReadWindow>(
        key,
        () => {
          if (!folded) ranges.set(group, (ranges.get(group) ?? 0) + 1);
          return {
            kind: 'read',
            group,
            ...(folded && {
              others: {
                min: Number.POSITIVE_INFINITY,
                max: Number.NEGATIVE_INFINITY,
                ranges: new Set<string>(),
              },
            }),
            first: event,
            master,
            sinceMs: ctx.nowMs,
            firstTs: event.ts,
            lastTs: event.ts,
            events: 0,
            requests: 0,
            responses: 0,
            exceptions: 0,
            exceptionCodes: {},
            rt: undefined,
            lastValues: undefined,
          };
        },
        ctx,
      );
      w.lastTs = event.ts;
      if (w.others) {
        const a = typeof f.address === 'number' ? f.address : undefined;
        const q = typeof f.quantity === 'number' ? f.quantity : 1;
        if (a !== undefined) {
          w.others.min = Math.min(w.others.min, a);
          w.others.max = Math.max(w.others.max, a + Math.max(1, q) - 1);
        }
        if (w.others.ranges.size < 65_536) w.others.ranges.add(range);
      }
      if (request) {
        w.events++;
        w.requests++;
        const k = pairKey(event.src, event, f);
        if (!pending.has(k) && pending.size >= MAX_PENDING) oldestPending.evict();
        const t = Date.parse(event.ts);
        if (Number.isFinite(t)) pending.set(k, t);
        return null;
      }
      responseTime(w, event, f);
      if (isException) {
        // Counted here, and forwarded one by one as well: an exception is news.
        w.exceptions++;
        const code = String(f.exception_code ?? '?');
        w.exceptionCodes[code] = (w.exceptionCodes[code] ?? 0) + 1;
        return event;
      }
      w.events++;
      w.responses++;
      if (f.values !== undefined) w.lastValues = f.values;
      return null;
    },
    flush(ctx: StageContext, final: boolean) {
      for (const [key, w] of windows) {
        if (!final && ctx.nowMs - w.sinceMs < intervalMs) continue;
        windows.delete(key);
        release(w, ctx);
      }
    },
  };
}
