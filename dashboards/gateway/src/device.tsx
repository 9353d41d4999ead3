/**
 * One device: its identity (what its protocol says it is: DNP3 address, S7 module and serial, CIP
 * Identity object, BACnet vendor, OPC UA application URI) and counters, its points with their
 * latest values and a live time-series chart per value it reports (Modbus poller readings and
 * registers, DNP3 binary and analog points, S7 data block reads, BACnet present values, OPC UA
 * writes, MQTT/CoAP telemetry), its recent events and alerts, the baseline learned for it and what
 * deviated from that baseline since. The charts load the gateway's recent history once and then
 * grow from the stream's `device` events.
 */
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { Chart } from '../../shared/chart.tsx';
import { ago, dateTime, rate } from '../../shared/format.ts';
import { useStream } from '../../shared/stream.ts';
import { ErrorBanner, SeverityBadge, Tags, useApi } from '../../shared/ui.tsx';
import { AlertTable, upsertAlert } from './alerts.tsx';
import { BaselinePill, PROTOCOL_ID_LABELS } from './devices.tsx';
import type { AlertSummary, Baseline, Device, DeviceUpdate, EventSummary, ValueSeries } from './types.ts';

const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#4b5563', '#db2777'];
const MAX_POINTS = 600;
const MAX_CHARTS = 24;

function ValueChart({
  s,
  color,
  range,
}: {
  s: ValueSeries;
  color: string;
  range?: { min: number; max: number };
}) {
  const data = useMemo(() => [s.t.map((t) => t / 1000), s.v] as [number[], number[]], [s]);
  const last = s.v[s.v.length - 1];
  return (
    <div class="card value-card" data-value={s.name}>
      <div class="value-head">
        <span class="mono">{s.name}</span>
        <span class="current" data-testid="current">
          {last === undefined ? '—' : formatValue(last)}
          {s.unit && <span class="muted"> {s.unit}</span>}
        </span>
      </div>
      {range && (
        <div class="muted small">
          learned range {range.min} … {range.max}
        </div>
      )}
      <Chart
        series={[{ label: s.unit ? `${s.name} (${s.unit})` : s.name, color }]}
        data={data}
        height={140}
      />
    </div>
  );
}

const formatValue = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

/** What the device's protocol says it is, one row a field. */
function IdentityPanel({ device }: { device: Device }) {
  const rows: Array<[string, string]> = [];
  if (device.protocol_id)
    rows.push([PROTOCOL_ID_LABELS[device.protocol] ?? 'protocol id', device.protocol_id]);
  if (device.name) rows.push(['name', device.name]);
  // What the protocol id or the name already say is not repeated.
  for (const [k, v] of Object.entries(device.identity ?? {}))
    if (v !== device.protocol_id && v !== device.name) rows.push([k.replace(/_/g, ' '), v]);
  if (rows.length === 0) return null;
  return (
    <section class="card" aria-label="identity">
      <h2>Identity</h2>
      <table data-testid="identity">
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th>{k}</th>
              <td class="mono">{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Every point the device reports with its latest value, as a table (the charts show history). */
function PointsTable({ series }: { series: ValueSeries[] }) {
  if (series.length === 0) return null;
  return (
    <section class="card" aria-label="points">
      <h2>Points</h2>
      <div class="table-wrap">
        <table data-testid="points">
          <thead>
            <tr>
              <th>Point</th>
              <th class="num">Latest value</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {series.map((s) => {
              const last = s.v[s.v.length - 1];
              const at = s.t[s.t.length - 1];
              return (
                <tr key={s.name} data-point={s.name}>
                  <td class="mono">{s.name}</td>
                  <td class="num" data-testid="point-value">
                    {last === undefined ? '—' : formatValue(last)}
                    {s.unit && <span class="muted"> {s.unit}</span>}
                  </td>
                  <td>{at === undefined ? '—' : ago(new Date(at).toISOString())}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function BaselinePanel({ baseline }: { baseline: Baseline | undefined }) {
  if (!baseline) return null;
  const changes = baseline.changes ?? [];
  return (
    <section class="card" aria-label="baseline">
      <h2>
        Baseline <BaselinePill state={baseline.state} />
      </h2>
      {baseline.since && (
        <p class="muted">
          watched since {dateTime(baseline.since)};{' '}
          {baseline.state === 'learning' ? 'learning until' : 'learned at'} {dateTime(baseline.learned_at)}
        </p>
      )}
      {baseline.peers && (
        <table>
          <tbody>
            <tr>
              <th>Peers</th>
              <td class="mono">{baseline.peers.join(', ') || '—'}</td>
            </tr>
            <tr>
              <th>Behaviour</th>
              <td>
                <Tags items={baseline.actions ?? []} />
              </td>
            </tr>
            <tr>
              <th>Value ranges</th>
              <td class="mono">
                {Object.entries(baseline.ranges ?? {})
                  .map(([k, r]) => `${k}: ${r.min}…${r.max}`)
                  .join(', ') || '—'}
              </td>
            </tr>
            <tr>
              <th>Peak rate</th>
              <td>{baseline.peak_rate_per_min ?? 0} msgs/min</td>
            </tr>
          </tbody>
        </table>
      )}
      <h3>Changed since it was learned</h3>
      {changes.length === 0 ? (
        <p class="muted" data-testid="no-changes">
          Nothing new.
        </p>
      ) : (
        <ul class="changes" data-testid="changes">
          {changes.map((c, i) => (
            <li key={i}>
              <b>{c.kind.replace('_', ' ')}</b>{' '}
              <span class="mono">
                {c.kind === 'out_of_range'
                  ? `${c.point} = ${c.value}`
                  : c.kind === 'rate_surge'
                    ? dateTime(c.at)
                    : c.detail}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function DevicePage({ id }: { id: string }) {
  const enc = encodeURIComponent(id);
  const device = useApi<Device>(`/api/devices/${enc}`);
  const series = useApi<{ series: ValueSeries[] }>(`/api/devices/${enc}/series`);
  const recent = useApi<{ events: EventSummary[]; alerts: AlertSummary[] }>(
    `/api/devices/${enc}/events?limit=30`,
  );
  const baseline = useApi<Baseline>(`/api/devices/${enc}/baseline`, 10_000);
  const lastReload = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(pending.current), []);

  useStream<DeviceUpdate>('device', (u) => {
    if (u.device.id !== id) return;
    if (u.device.protocol) device.set(() => u.device);
    series.set((old) => {
      if (!old) return old;
      const byName = new Map(old.series.map((s) => [s.name, s]));
      for (const [name, latest] of Object.entries(u.values)) {
        const s = byName.get(name) ?? { name, ...(latest.unit && { unit: latest.unit }), t: [], v: [] };
        if (s.t.length > 0 && s.t[s.t.length - 1]! >= latest.ts) continue;
        byName.set(name, {
          ...s,
          t: [...s.t, latest.ts].slice(-MAX_POINTS),
          v: [...s.v, latest.value].slice(-MAX_POINTS),
        });
      }
      return { series: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)) };
    });
    // Recent events are re-read at most every 2 s, however chatty the device.
    if (pending.current) return;
    const wait = Math.max(0, lastReload.current + 2000 - Date.now());
    pending.current = setTimeout(() => {
      pending.current = undefined;
      lastReload.current = Date.now();
      recent.reload();
    }, wait);
  });
  useStream<AlertSummary>('alert', (a) => {
    if (a.device === id) recent.set((old) => old && { ...old, alerts: upsertAlert(old.alerts, a) });
  });

  const d = device.data;
  const all = series.data?.series ?? [];
  const charts = all.slice(0, MAX_CHARTS);
  return (
    <>
      <section class="card">
        <h1 class="mono">{id}</h1>
        {d?.name && <p class="muted">{d.name}</p>}
        <ErrorBanner error={device.error} />
        {d && (
          <div class="stats">
            <div class="stat">
              <div class="value">{d.protocol}</div>
              <div class="label">
                protocol {d.protocol_id ? `(${PROTOCOL_ID_LABELS[d.protocol] ?? 'id'} ${d.protocol_id})` : ''}
              </div>
            </div>
            <div class="stat">
              <div class="value" title={d.last_seen}>
                {ago(d.last_seen)}
              </div>
              <div class="label">last seen</div>
            </div>
            <div class="stat">
              <div class="value">{rate(d.rate_per_min)}</div>
              <div class="label">messages / min</div>
            </div>
            <div class="stat">
              <div class="value">{d.events.toLocaleString()}</div>
              <div class="label">events ({d.security_events} security)</div>
            </div>
            <div class="stat">
              <div class="value small">{[d.host, ...d.addresses].filter(Boolean).join(', ') || '—'}</div>
              <div class="label">host / addresses · first seen {dateTime(d.first_seen)}</div>
            </div>
          </div>
        )}
      </section>
      {d && <IdentityPanel device={d} />}
      <PointsTable series={all} />
      <h2>Live values</h2>
      {series.data && charts.length === 0 && <p class="muted card">This device reports no numeric value.</p>}
      <div class="grid charts">
        {charts.map((s, i) => (
          <ValueChart
            key={s.name}
            s={s}
            color={COLORS[i % COLORS.length]!}
            range={baseline.data?.ranges?.[s.name]}
          />
        ))}
      </div>
      <div class="split">
        <section class="card">
          <h2>Recent events</h2>
          <div class="table-wrap">
            <table data-testid="events">
              <tbody>
                {(recent.data?.events ?? []).map((e, i) => (
                  <tr key={e.id ?? i}>
                    <td title={e.ts}>{ago(e.ts)}</td>
                    <td>
                      <SeverityBadge severity={e.severity} />
                    </td>
                    <td class="mono">{e.action}</td>
                    <td class="ellipsis" title={e.message}>
                      {e.message}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
        <div>
          <section class="card">
            <h2>Alerts</h2>
            <AlertTable alerts={recent.data?.alerts ?? []} showDevice={false} />
          </section>
          <BaselinePanel baseline={baseline.data} />
        </div>
      </div>
    </>
  );
}
