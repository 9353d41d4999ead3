/**
 * The device dashboard's API on the gateway, every route behind the `read` permission
 * (server-shared/web-auth/SPEC.md §1): a device's charted values (`/api/devices/:id/series`), its
 * recent events (`/events`), its learned baseline and what deviated from it since (`/baseline`),
 * the local alerts (`/api/alerts`, kept while the link is down), and the live stream
 * (`/api/stream`, SPEC §5): `status` every 2 s, `device` when a device's values or events change
 * (at most once a second per device), `alert` for each local alert, a heartbeat comment every
 * 15 s. Streams are capped in number, since each holds a socket and a timer on a small box.
 */
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type * as Api from '../../protocols/api/gateway.ts';
import { apiError } from '../../server-shared/http-errors.ts';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type { DeviceBaseline } from '../baselines/index.ts';
import type { DeviceRecord, Inventory } from '../inventory/index.ts';
import type { AlertSummary, DeviceHistory } from './device-series.ts';

export type BaselineState = 'learning' | 'learned' | 'none';

export interface DashboardDeps {
  history: DeviceHistory;
  inventory: Inventory;
  status: () => Promise<Api.GatewayStatus>;
  /** The learned baselines, when baselines are enabled (gateway/baselines). */
  baselines?: { get(device: string): DeviceBaseline | undefined; learningMs: number };
  now?: () => number;
  stream?: {
    statusIntervalMs?: number;
    heartbeatMs?: number;
    deviceIntervalMs?: number;
    maxStreams?: number;
  };
}

/** A device's baseline state for the device list. */
export function baselineState(
  deps: Pick<DashboardDeps, 'baselines'>,
  device: string,
  now: number,
): BaselineState {
  const b = deps.baselines?.get(device);
  if (!b) return 'none';
  return now - b.since < deps.baselines!.learningMs ? 'learning' : 'learned';
}

/** The `reported` keys of a baseline (gateway/baselines `report`) as changes a person can read. */
function changes(b: DeviceBaseline) {
  return b.reported.map((key) => {
    const [kind, ...rest] = key.split(':');
    const detail = rest.join(':');
    if (kind === 'range') {
      const cut = detail.lastIndexOf(':');
      return { kind: 'out_of_range', point: detail.slice(0, cut), value: Number(detail.slice(cut + 1)) };
    }
    if (kind === 'rate') return { kind: 'rate_surge', at: new Date(Number(detail) * 60_000).toISOString() };
    return { kind: kind === 'peer' ? 'new_peer' : 'new_action', detail };
  });
}

const intParam = (raw: string | undefined, fallback: number, max: number) => {
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : fallback;
};

export function registerDashboardRoutes(app: Hono, deps: DashboardDeps): void {
  const read = requirePermission('read');
  const now = deps.now ?? Date.now;
  const statusMs = deps.stream?.statusIntervalMs ?? 2000;
  const heartbeatMs = deps.stream?.heartbeatMs ?? 15_000;
  const deviceMs = deps.stream?.deviceIntervalMs ?? 1000;
  const maxStreams = deps.stream?.maxStreams ?? 16;
  let streams = 0;

  const known = (id: string) => deps.inventory.get(id) !== undefined || deps.history.has(id);
  const deviceView = (record: DeviceRecord) => ({
    ...record,
    baseline: baselineState(deps, record.id, now()),
  });

  app.get('/api/devices/:id/series', read, (c) => {
    const id = c.req.param('id');
    const since = Number(c.req.query('since') ?? 0);
    const series = deps.history.series(id, Number.isFinite(since) ? since : 0);
    if (!series) {
      if (!known(id)) throw apiError(404, 'not_found', 'no such device');
      return c.json({ device: id, series: [] } satisfies Api.DeviceSeriesResponse);
    }
    const field = c.req.query('field');
    return c.json({
      device: id,
      series: field ? series.filter((s) => s.name === field) : series,
    } satisfies Api.DeviceSeriesResponse);
  });

  app.get('/api/devices/:id/events', read, (c) => {
    const id = c.req.param('id');
    if (!known(id)) throw apiError(404, 'not_found', 'no such device');
    const limit = intParam(c.req.query('limit'), 50, 1000);
    return c.json({
      device: id,
      events: deps.history.events(id, limit),
      alerts: deps.history.alerts({ device: id, limit }),
    } satisfies Api.DeviceEventsResponse);
  });

  app.get('/api/devices/:id/baseline', read, (c) => {
    const id = c.req.param('id');
    if (!known(id)) throw apiError(404, 'not_found', 'no such device');
    const b = deps.baselines?.get(id);
    if (!b) return c.json({ device: id, state: deps.baselines ? 'none' : 'disabled' } satisfies Api.Baseline);
    const learnedAt = b.since + deps.baselines!.learningMs;
    return c.json({
      device: id,
      state: baselineState(deps, id, now()),
      since: new Date(b.since).toISOString(),
      learned_at: new Date(learnedAt).toISOString(),
      peers: b.peers,
      actions: b.actions,
      ranges: Object.fromEntries(Object.entries(b.ranges).map(([k, [min, max]]) => [k, { min, max }])),
      peak_rate_per_min: b.rate,
      changes: changes(b),
    } satisfies Api.Baseline);
  });

  app.get('/api/alerts', read, (c) => {
    const limit = intParam(c.req.query('limit'), 100, 1000);
    const device = c.req.query('device') || undefined;
    return c.json({
      alerts: deps.history.alerts({ device, limit }),
      stats: deps.history.stats(),
    } satisfies Api.AlertsResponse);
  });

  app.get('/api/stream', read, (c) => {
    if (streams >= maxStreams) throw apiError(503, 'unavailable', 'too many live streams');
    streams += 1;
    return streamSSE(c, async (stream) => {
      const changed = new Set<string>();
      const alerts: AlertSummary[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = deps.history.subscribe((change) => {
        if (change.type === 'device') {
          if (changed.size < 1000) changed.add(change.device);
        } else {
          alerts.push(change.alert);
          if (alerts.length > 100) alerts.shift();
          wake?.();
        }
      });
      let closed = false;
      stream.onAbort(() => {
        closed = true;
        wake?.();
      });
      let lastStatus = 0;
      let lastDevices = 0;
      let lastBeat = now();
      try {
        while (!closed) {
          const t = now();
          for (const alert of alerts.splice(0))
            await stream.writeSSE({ event: 'alert', data: JSON.stringify(alert) });
          if (changed.size > 0 && t - lastDevices >= deviceMs) {
            lastDevices = t;
            const ids = [...changed].slice(0, 100);
            for (const id of ids) {
              changed.delete(id);
              const record = deps.inventory.get(id);
              const data = { device: record ? deviceView(record) : { id }, values: deps.history.latest(id) };
              await stream.writeSSE({ event: 'device', data: JSON.stringify(data) });
            }
          }
          if (t - lastStatus >= statusMs) {
            lastStatus = t;
            await stream.writeSSE({ event: 'status', data: JSON.stringify(await deps.status()) });
          }
          if (t - lastBeat >= heartbeatMs) {
            lastBeat = t;
            await stream.write(': heartbeat\n\n');
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(deviceMs, statusMs, 250));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      } finally {
        unsubscribe();
        streams -= 1;
      }
    });
  });
}
