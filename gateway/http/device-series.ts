/**
 * What the device dashboard shows live, kept in memory and bounded so a Raspberry Pi can afford
 * it: per device, one ring buffer of recent (time, value) points for each numeric value its
 * events carry (values.ts), and its most recent events; across devices, the most recent local
 * alerts (an `alert.updated` replaces its `alert.raised`, by `alert_id`). It is fed from the
 * pipeline with what was queued (gateway/pipeline `onQueued`), so it works with the link down.
 * Memory: at most `maxValues` rings of `pointsPerValue` points (16 bytes each), `maxDevices`
 * devices of `eventsPerDevice` summaries, and `maxAlerts` alerts; past a bound the least
 * recently updated device is forgotten, and a value beyond `maxValues` is not charted (counted).
 * Nothing here survives a restart: the durable record is the queue and central.
 * It runs for every queued event, so the common case stays cheap: no object per event (a device's
 * recent events are slots of one flat ring, summaries are built when read), no re-ordering when
 * the same device speaks again, and timestamps parsed only for events that carry values.
 */
import type { AlertSummary, EventSummary, LatestValue, ValueSeries } from '../../protocols/api/gateway.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { RecencyMap } from '../../protocols/event/recency.ts';
import { MessageBytes } from './message-bytes.ts';
import { eventValues } from '../../protocols/telemetry/values.ts';

export interface DeviceHistoryOptions {
  pointsPerValue: number;
  maxValues: number;
  eventsPerDevice: number;
  maxDevices: number;
  maxAlerts: number;
}

export const DEFAULT_DEVICE_HISTORY: DeviceHistoryOptions = {
  pointsPerValue: 300,
  maxValues: 1000,
  eventsPerDevice: 50,
  maxDevices: 1000,
  maxAlerts: 500,
};

const MESSAGE_CHARS = 300;
const NO_TAGS: string[] = [];

// What the dashboard lists and charts is the contract's shape (protocols/api/gateway.ts), defined once there.
export type { AlertSummary, EventSummary, LatestValue, ValueSeries };

class Ring {
  readonly t: Float64Array;
  readonly v: Float64Array;
  head = 0;
  size = 0;
  unit: string | undefined;
  constructor(capacity: number) {
    this.t = new Float64Array(capacity);
    this.v = new Float64Array(capacity);
  }
  push(t: number, v: number): void {
    this.t[this.head] = t;
    this.v[this.head] = v;
    this.head = (this.head + 1) % this.t.length;
    if (this.size < this.t.length) this.size += 1;
  }
  last(): LatestValue | undefined {
    if (this.size === 0) return undefined;
    const i = (this.head - 1 + this.t.length) % this.t.length;
    return { value: this.v[i]!, ts: this.t[i]!, ...(this.unit ? { unit: this.unit } : {}) };
  }
  toSeries(name: string, sinceMs: number): ValueSeries {
    const t: number[] = [];
    const v: number[] = [];
    const start = (this.head - this.size + this.t.length) % this.t.length;
    for (let k = 0; k < this.size; k++) {
      const i = (start + k) % this.t.length;
      if (this.t[i]! <= sinceMs) continue;
      t.push(this.t[i]!);
      v.push(this.v[i]!);
    }
    return { name, ...(this.unit ? { unit: this.unit } : {}), t, v };
  }
}

/**
 * A device's recent events, `capacity` of them, as slots of one flat array (EVENT_SLOTS per event,
 * 64 bytes) written over in place once full. The array starts with room for FIRST_EVENTS (a device
 * that says little costs little) and then takes its whole bound at once (no growth slack). An
 * event kept lives about `eventsPerDevice × devices` events (2,500 on a 50-host syslog feed), long
 * enough to be copied to old space: a summary object each was the largest share of what the
 * gateway promoted. Here only its strings are kept (ts and received are shared across a read;
 * source, kind and action are constants), and the summaries are made when the dashboard asks.
 * Its message, the one string of its own an event has, is kept as UTF-8 bytes (MessageBytes):
 * as a string it was 40% of what the syslog path promoted, a message of 100 characters keeping
 * the whole line it was cut from.
 */
const EVENT_SLOTS = 8;
const FIRST_EVENTS = 8;

class EventRing {
  slots: unknown[];
  readonly messages: MessageBytes;
  head = 0;
  size = 0;
  constructor(readonly capacity: number) {
    this.slots = new Array<unknown>(Math.max(0, Math.min(capacity, FIRST_EVENTS)) * EVENT_SLOTS);
    this.messages = new MessageBytes(Math.max(0, capacity), MESSAGE_CHARS + 1);
  }
  push(event: PendingEvent & { id?: string }): void {
    if (this.capacity <= 0) return;
    if (this.head * EVENT_SLOTS === this.slots.length) {
      const all = new Array<unknown>(this.capacity * EVENT_SLOTS);
      for (let i = 0; i < this.slots.length; i++) all[i] = this.slots[i];
      this.slots = all;
    }
    const s = this.slots;
    const at = this.head * EVENT_SLOTS;
    s[at] = event.ts;
    s[at + 1] = event.received;
    s[at + 2] = event.source;
    s[at + 3] = event.kind;
    s[at + 4] = event.action;
    s[at + 5] = event.severity;
    s[at + 6] = event.tags.length === 0 ? NO_TAGS : event.tags.slice(0, 8);
    s[at + 7] = event.id;
    const m = event.message;
    this.messages.put(this.head, m.length > MESSAGE_CHARS ? `${m.slice(0, MESSAGE_CHARS)}…` : m);
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    if (this.size < this.capacity) this.size += 1;
  }
  /** Oldest first, as `summarize` would have made them (same keys, same order). */
  summaries(device: string): EventSummary[] {
    const out: EventSummary[] = [];
    const s = this.slots;
    const start = this.size < this.capacity ? 0 : this.head;
    for (let k = 0; k < this.size; k++) {
      const at = ((start + k) % this.capacity) * EVENT_SLOTS;
      const summary: EventSummary = {
        ts: s[at] as string,
        received: s[at + 1] as string,
        source: s[at + 2] as string,
        kind: s[at + 3] as string,
        action: s[at + 4] as string,
        severity: s[at + 5] as number,
        message: this.messages.get(at / EVENT_SLOTS),
        tags: s[at + 6] as string[],
      };
      const id = s[at + 7] as string | undefined;
      if (id) summary.id = id;
      summary.device = device;
      out.push(summary);
    }
    return out;
  }
}

interface DeviceState {
  values: Map<string, Ring>;
  events: EventRing;
}

export type HistoryChange = { type: 'device'; device: string } | { type: 'alert'; alert: AlertSummary };

function summarize(event: PendingEvent & { id?: string }): EventSummary {
  // Built by assignment, not spreads: one object of one shape. The strings are shared with the
  // event; the tags are copied only when there are any (EventRing.push keeps the same values).
  const summary: EventSummary = {
    ts: event.ts,
    received: event.received,
    source: event.source,
    kind: event.kind,
    action: event.action,
    severity: event.severity,
    message:
      event.message.length > MESSAGE_CHARS ? `${event.message.slice(0, MESSAGE_CHARS)}…` : event.message,
    tags: event.tags.length === 0 ? NO_TAGS : event.tags.slice(0, 8),
  };
  if (event.id) summary.id = event.id;
  if (event.device) summary.device = event.device.id;
  return summary;
}

function alertSummary(event: PendingEvent & { id?: string }): AlertSummary | undefined {
  const f = event.fields as Record<string, unknown>;
  if (typeof f.alert_id !== 'string') return undefined;
  return {
    ...summarize(event),
    alert_id: f.alert_id,
    ...(event.threat?.rule_id ? { rule_id: event.threat.rule_id } : {}),
    ...(event.threat?.rule_name ? { rule_name: event.threat.rule_name } : {}),
    techniques: event.threat?.techniques ?? [],
    count: typeof f.count === 'number' ? f.count : 1,
    ...(typeof f.first_seen === 'string' ? { first_seen: f.first_seen } : {}),
    ...(typeof f.last_seen === 'string' ? { last_seen: f.last_seen } : {}),
  };
}

export function createDeviceHistory(options: DeviceHistoryOptions = DEFAULT_DEVICE_HISTORY) {
  /** Least recently updated first. */
  const devices = new RecencyMap<string, DeviceState>();
  /** Newest last. */
  let alerts: AlertSummary[] = [];
  let valueCount = 0;
  let refusedValues = 0;
  let forgottenDevices = 0;
  const listeners = new Set<(change: HistoryChange) => void>();

  const touch = (id: string): DeviceState => {
    let state = devices.use(id);
    if (state) return state;
    state = { values: new Map(), events: new EventRing(options.eventsPerDevice) };
    while (devices.size >= options.maxDevices) {
      const [, oldest] = devices.evictOldest()!;
      valueCount -= oldest.values.size;
      forgottenDevices += 1;
    }
    devices.set(id, state);
    return state;
  };

  const notify = (change: HistoryChange) => {
    if (listeners.size === 0) return;
    for (const listener of listeners) {
      try {
        listener(change);
      } catch {
        // A listener (an SSE stream) failing must not stop the pipeline.
      }
    }
  };

  function observeOne(event: PendingEvent & { id?: string }): void {
    if (event.kind === 'alert') {
      const alert = alertSummary(event);
      if (!alert) return;
      alerts = alerts.filter((a) => a.alert_id !== alert.alert_id);
      alerts.push(alert);
      if (alerts.length > options.maxAlerts) alerts.shift();
      notify({ type: 'alert', alert });
      return;
    }
    const id = event.device?.id;
    if (!id) return;
    const state = touch(id);
    state.events.push(event);
    const values = eventValues(event);
    if (values.length === 0) {
      notify({ type: 'device', device: id });
      return;
    }
    const parsed = Date.parse(event.ts);
    const t = Number.isFinite(parsed) ? parsed : Date.parse(event.received);
    for (const { name, value, unit } of values) {
      let ring = state.values.get(name);
      if (!ring) {
        if (valueCount >= options.maxValues) {
          refusedValues += 1;
          continue;
        }
        ring = new Ring(options.pointsPerValue);
        state.values.set(name, ring);
        valueCount += 1;
      }
      if (unit) ring.unit = unit;
      ring.push(t, value);
    }
    notify({ type: 'device', device: id });
  }

  return {
    /** Notes queued events (and alerts); called by the pipeline after each append. */
    observe(events: ReadonlyArray<PendingEvent & { id?: string }>): void {
      for (const event of events) observeOne(event);
    },
    has: (device: string) => devices.has(device),
    /** Every charted value of a device, points newer than `sinceMs`. */
    series(device: string, sinceMs = 0): ValueSeries[] | undefined {
      const state = devices.get(device);
      if (!state) return undefined;
      return [...state.values.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, ring]) => ring.toSeries(name, sinceMs));
    },
    /** The latest value of each field of a device. */
    latest(device: string): Record<string, LatestValue> {
      const out: Record<string, LatestValue> = {};
      for (const [name, ring] of devices.get(device)?.values ?? []) {
        const last = ring.last();
        if (last) out[name] = last;
      }
      return out;
    },
    /** Recent events of a device, newest first. */
    events(device: string, limit = options.eventsPerDevice): EventSummary[] {
      return (devices.get(device)?.events.summaries(device) ?? []).slice(-limit).reverse();
    },
    /** Recent local alerts, newest first, optionally of one device. */
    alerts(filter: { device?: string; limit?: number } = {}): AlertSummary[] {
      const out: AlertSummary[] = [];
      for (let i = alerts.length - 1; i >= 0 && out.length < (filter.limit ?? options.maxAlerts); i--) {
        const a = alerts[i]!;
        if (!filter.device || a.device === filter.device) out.push(a);
      }
      return out;
    },
    subscribe(listener: (change: HistoryChange) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stats() {
      return {
        devices: devices.size,
        values: valueCount,
        refused_values: refusedValues,
        forgotten_devices: forgottenDevices,
        alerts: alerts.length,
        /** Upper bound of the rings' memory. */
        value_bytes: valueCount * options.pointsPerValue * 16,
      };
    },
  };
}

export type DeviceHistory = ReturnType<typeof createDeviceHistory>;
