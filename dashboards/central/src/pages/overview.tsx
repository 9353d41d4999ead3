/**
 * Overview: event rate over time (uPlot), live events/s and gateways online from the stream,
 * alerts by severity and by ATT&CK technique, gateways online or lagging, top devices and hosts.
 * Reloads on every new alert and every 30 s; the live figures move every 2 s (SSE `stats`).
 */
import { useMemo, useState } from 'preact/hooks';
import { withQuery } from '../../../shared/api.ts';
import { Chart } from '../../../shared/chart.tsx';
import { duration, rate, SEVERITY_COLORS, severityName } from '../../../shared/format.ts';
import { href } from '../../../shared/router.ts';
import { useStream } from '../../../shared/stream.ts';
import { ErrorBanner, useApi } from '../../../shared/ui.tsx';
import type { LiveStats, Overview } from '../types.ts';
import { FeedStatusPanel } from './enrichment.tsx';

const RANGES = ['1h', '6h', '24h', '7d'];

export function Bars({
  rows,
}: {
  rows: Array<{ label: string; count: number; color?: string; href?: string }>;
}) {
  const max = Math.max(1, ...rows.map((r) => r.count));
  if (rows.length === 0) return <p class="muted">None.</p>;
  return (
    <div>
      {rows.map((r) => (
        <div class="bar-row" key={r.label}>
          <span class="ellipsis">{r.href ? <a href={r.href}>{r.label}</a> : r.label}</span>
          <div class="bar" style={{ width: `${(100 * r.count) / max}%`, background: r.color }} />
          <span class="num">{r.count.toLocaleString()}</span>
        </div>
      ))}
    </div>
  );
}

export function OverviewPage() {
  const [range, setRange] = useState('1h');
  const overview = useApi<Overview>(withQuery('/api/overview', { range }), 30_000);
  const [live, setLive] = useState<LiveStats | undefined>(undefined);
  useStream<LiveStats>('stats', setLive);
  useStream('alert', () => overview.reload());
  const o = overview.data;
  const stats = live ?? o?.live;

  const chartData = useMemo(() => {
    const b = o?.events.buckets ?? [];
    const secs = (o?.interval_ms ?? 60_000) / 1000;
    return [b.map((x) => Date.parse(x.start) / 1000), b.map((x) => x.count / secs)] as [number[], number[]];
  }, [o]);

  const open = (o?.alerts.by_status.new ?? 0) + (o?.alerts.by_status.acknowledged ?? 0);
  return (
    <section>
      <div class="actions" style={{ justifyContent: 'space-between' }}>
        <h1>Overview</h1>
        <label>
          Range
          <select value={range} onChange={(e) => setRange(e.currentTarget.value)} name="range">
            {RANGES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBanner error={overview.error} />
      <div class="stats">
        <div class="stat">
          <div class="value" data-testid="live-rate">
            {stats ? rate(stats.events_per_sec) : '—'}
          </div>
          <div class="label">events/s now</div>
        </div>
        <div class="stat">
          <div class="value">{o ? o.events.total.toLocaleString() : '—'}</div>
          <div class="label">events in {range}</div>
        </div>
        <div class="stat">
          <div class="value">
            <a href={href('alerts', { status: 'new' })}>{o ? open : '—'}</a>
          </div>
          <div class="label">open alerts in {range}</div>
        </div>
        <div class="stat">
          <div class="value">
            {stats?.gateways_connected ?? o?.gateways.online ?? '—'} / {o?.gateways.enrolled ?? '—'}
          </div>
          <div class="label">gateways online</div>
        </div>
        <div class="stat">
          <div class="value" style={{ color: o?.gateways.lagging.length ? 'var(--warn)' : undefined }}>
            {o?.gateways.lagging.length ?? '—'}
          </div>
          <div class="label">gateways lagging</div>
        </div>
      </div>
      <div class="card">
        <h2>Event rate (events/s)</h2>
        <Chart series={[{ label: 'events/s', color: '#2563eb' }]} data={chartData} height={220} />
      </div>
      <div class="grid">
        <div class="card">
          <h2>Alerts by severity</h2>
          <Bars
            rows={(o?.alerts.by_severity ?? []).map((s) => ({
              label: severityName(s.severity),
              count: s.count,
              color: SEVERITY_COLORS[s.severity],
              href: href('alerts', { severity_max: String(s.severity) }),
            }))}
          />
        </div>
        <div class="card">
          <h2>Alerts by ATT&amp;CK technique</h2>
          <Bars
            rows={(o?.alerts.by_technique ?? []).map((t) => ({
              label: t.technique,
              count: t.count,
              href: `https://attack.mitre.org/techniques/${t.technique.replace('.', '/')}/`,
            }))}
          />
        </div>
        <div class="card">
          <h2>Gateways</h2>
          {o && o.gateways.offline.length === 0 && o.gateways.lagging.length === 0 && (
            <p class="muted">All {o.gateways.enrolled} enrolled gateways online and current.</p>
          )}
          {o?.gateways.offline.map((g) => (
            <p key={g}>
              <span class="pill bad">offline</span> <a href={href('gateways')}>{g}</a>
            </p>
          ))}
          {o?.gateways.lagging.map((g) => (
            <p key={g.id}>
              <span class="pill warn">lagging {duration(g.lag_ms)}</span>{' '}
              <a href={href('gateways')}>{g.id}</a>
            </p>
          ))}
        </div>
        <div class="card">
          <h2>Top devices</h2>
          <Bars
            rows={(o?.top_devices ?? []).map((d) => ({
              label: d.value,
              count: d.count,
              href: href('search', { device_id: d.value }),
            }))}
          />
          <h3>Top hosts</h3>
          <Bars
            rows={(o?.top_hosts ?? []).map((d) => ({
              label: d.value,
              count: d.count,
              href: href('search', { host: d.value }),
            }))}
          />
        </div>
      </div>
      <FeedStatusPanel />
    </section>
  );
}
