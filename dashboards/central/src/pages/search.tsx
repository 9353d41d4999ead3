/**
 * Event search over central/api/events.ts and central/api/search.ts: text and field filters
 * (kept in the URL), the time histogram (drag on it to zoom into a range), top values of a few
 * fields (click one to filter on it), the newest matching events with keyset "load more", and
 * export of everything matching as NDJSON or CSV (streamed by the server, downloaded as a file).
 * Ranges apply to the event's own time or, with "Time by: arrival time" (`time_field=received`),
 * to when the gateway received it, which a device cannot backdate.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, withQuery } from '../../../shared/api.ts';
import { Chart } from '../../../shared/chart.tsx';
import { dateTime } from '../../../shared/format.ts';
import { setQuery, type Route } from '../../../shared/router.ts';
import { ErrorBanner, SeverityBadge, useApi } from '../../../shared/ui.tsx';
import type { Bucket, SiemEvent } from '../types.ts';
import { Bars } from './overview.tsx';

const FIELDS = [
  'q',
  'source',
  'host',
  'device_id',
  'action',
  'gateway',
  'tag',
  'severity_max',
  'time_field',
] as const;
const SOURCES = ['syslog', 'mqtt', 'coap', 'modbus', 'gateway', 'central'];
/** Preset ranges and the histogram interval that keeps them under the server's bucket cap. */
const RANGES: Record<string, [number, string]> = {
  '15m': [900_000, '1m'],
  '1h': [3_600_000, '1m'],
  '6h': [21_600_000, '5m'],
  '24h': [86_400_000, '15m'],
  '7d': [7 * 86_400_000, '3h'],
  '30d': [30 * 86_400_000, '12h'],
};
const TOP = ['action', 'host', 'device_id'] as const;

function intervalFor(ms: number): string {
  if (ms <= 2 * 3_600_000) return '1m';
  if (ms <= 12 * 3_600_000) return '5m';
  if (ms <= 2 * 86_400_000) return '15m';
  if (ms <= 8 * 86_400_000) return '3h';
  return '12h';
}

export function EventTable({ events }: { events: SiemEvent[] }) {
  const [open, setOpen] = useState<string | null>(null);
  if (events.length === 0) return <p class="muted">No events.</p>;
  return (
    <div class="table-wrap">
      <table class="events">
        <thead>
          <tr>
            <th>Time</th>
            <th>Severity</th>
            <th>Source</th>
            <th>Action</th>
            <th>Host / device</th>
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => [
            <tr key={e.id} onClick={() => setOpen(open === e.id ? null : e.id)} style={{ cursor: 'pointer' }}>
              <td class="mono" style={{ whiteSpace: 'nowrap' }}>
                {dateTime(e.ts)}
              </td>
              <td>
                <SeverityBadge severity={e.severity} />
              </td>
              <td>{e.source}</td>
              <td class="mono">{e.action}</td>
              <td>{e.device?.id ?? e.host ?? '—'}</td>
              <td class="ellipsis" title={e.message}>
                {e.message}
              </td>
            </tr>,
            open === e.id && (
              <tr key={`${e.id}-detail`}>
                <td colSpan={6}>
                  <pre>{JSON.stringify(e, null, 2)}</pre>
                </td>
              </tr>
            ),
          ])}
        </tbody>
      </table>
    </div>
  );
}

export function SearchPage({ route }: { route: Route }) {
  const q = route.query;
  const range = q.get('range') ?? '1h';
  const filters: Record<string, string | undefined> = {};
  for (const f of FIELDS) filters[f] = q.get(f) ?? undefined;
  // An absolute from/to (from zooming) wins over the preset range; the preset is anchored on load.
  const [anchor, setAnchor] = useState(Date.now());
  const to = q.get('to') ?? new Date(anchor).toISOString();
  const from = q.get('from') ?? new Date(Date.parse(to) - (RANGES[range]?.[0] ?? 3_600_000)).toISOString();
  const interval = q.get('from')
    ? intervalFor(Date.parse(to) - Date.parse(from))
    : (RANGES[range]?.[1] ?? '1m');
  const params = { ...filters, from, to };
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [route.query.toString()]);

  const histogram = useApi<{ buckets: Bucket[]; total: number; interval_ms: number }>(
    withQuery('/api/events/histogram', { ...params, interval }),
  );
  const page = useApi<{ events: SiemEvent[]; next_cursor: string | null }>(
    withQuery('/api/events', { ...params, limit: 100 }),
  );
  const topPath = (field: string) => withQuery('/api/events/top', { ...params, field, limit: 8 });
  type Top = { values: Array<{ value: string; count: number }> };
  const tops = [
    useApi<Top>(topPath('action')),
    useApi<Top>(topPath('host')),
    useApi<Top>(topPath('device_id')),
  ];
  const [more, setMore] = useState<SiemEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [moreError, setMoreError] = useState<Error | undefined>(undefined);
  useEffect(() => {
    setMore([]);
    setCursor(page.data?.next_cursor ?? null);
  }, [page.data]);

  const chart = useMemo(() => {
    const b = histogram.data?.buckets ?? [];
    return [b.map((x) => Date.parse(x.start) / 1000), b.map((x) => x.count)] as [number[], number[]];
  }, [histogram.data]);

  const go = (next: Record<string, string | undefined>) => setQuery(next);
  const current = () => {
    const out: Record<string, string | undefined> = { ...filters, range };
    if (q.get('from')) {
      out.from = q.get('from')!;
      out.to = q.get('to') ?? undefined;
    }
    return out;
  };
  const loadMore = async () => {
    if (!cursor) return;
    try {
      const next = await api<{ events: SiemEvent[]; next_cursor: string | null }>(
        withQuery('/api/events', { ...params, limit: 100, cursor }),
      );
      setMore((m) => [...m, ...next.events]);
      setCursor(next.next_cursor);
    } catch (e) {
      setMoreError(e as Error);
    }
  };
  const exportHref = (format: 'ndjson' | 'csv') => withQuery('/api/events/export', { ...params, format });

  return (
    <section>
      <h1>Event search</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setAnchor(Date.now());
          go({ ...draft, range, from: q.get('from') ?? undefined, to: q.get('to') ?? undefined });
        }}
      >
        <label style={{ flex: '1 1 16rem' }}>
          Text
          <input
            name="q"
            type="search"
            placeholder="words in the message"
            value={draft.q ?? ''}
            onInput={(e) => setDraft({ ...draft, q: e.currentTarget.value || undefined })}
          />
        </label>
        <label>
          Source
          <select
            name="source"
            value={draft.source ?? ''}
            onChange={(e) => setDraft({ ...draft, source: e.currentTarget.value || undefined })}
          >
            <option value="">any</option>
            {SOURCES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        {(['host', 'device_id', 'action', 'gateway', 'tag'] as const).map((f) => (
          <label key={f}>
            {f.replace('_', ' ')}
            <input
              name={f}
              value={draft[f] ?? ''}
              onInput={(e) => setDraft({ ...draft, [f]: e.currentTarget.value || undefined })}
            />
          </label>
        ))}
        <label>
          Severity at most
          <input
            name="severity_max"
            type="number"
            min={0}
            max={7}
            value={draft.severity_max ?? ''}
            onInput={(e) => setDraft({ ...draft, severity_max: e.currentTarget.value || undefined })}
          />
        </label>
        <label title="A device can backdate its own time; the gateway's arrival time it cannot. Events far from their arrival carry the tag clock_skew.">
          Time by
          <select
            name="time_field"
            value={draft.time_field ?? 'ts'}
            onChange={(e) =>
              setDraft({
                ...draft,
                time_field: e.currentTarget.value === 'ts' ? undefined : e.currentTarget.value,
              })
            }
          >
            <option value="ts">event time</option>
            <option value="received">arrival time</option>
          </select>
        </label>
        <label>
          Range
          <select
            name="range"
            value={q.get('from') ? 'custom' : range}
            onChange={(e) => {
              setAnchor(Date.now());
              go({ ...filters, range: e.currentTarget.value });
            }}
          >
            {q.get('from') && <option value="custom">custom</option>}
            {Object.keys(RANGES).map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      <ErrorBanner error={histogram.error ?? page.error} />
      <div class="card">
        <div class="actions" style={{ justifyContent: 'space-between' }}>
          <h2 data-testid="hits">
            {histogram.data ? `${histogram.data.total.toLocaleString()} events` : '…'}{' '}
            <span class="muted">
              {dateTime(from)} – {dateTime(to)} · per {interval}
            </span>
          </h2>
          <div class="actions">
            <a class="button" href={exportHref('ndjson')} download="events.ndjson">
              Export NDJSON
            </a>
            <a class="button" href={exportHref('csv')} download="events.csv">
              Export CSV
            </a>
          </div>
        </div>
        <Chart
          series={[{ label: 'events', color: '#2563eb', bars: true }]}
          data={chart}
          height={160}
          onSelect={(a, b) =>
            go({ ...current(), from: new Date(a * 1000).toISOString(), to: new Date(b * 1000).toISOString() })
          }
        />
        <p class="muted">Drag across the chart to zoom into a time range.</p>
      </div>
      <div class="split">
        <div class="card">
          <EventTable events={[...(page.data?.events ?? []), ...more]} />
          <ErrorBanner error={moreError} />
          {cursor && (
            <button onClick={() => void loadMore()} style={{ marginTop: '0.6rem' }}>
              Load more
            </button>
          )}
        </div>
        <div>
          {TOP.map((field, i) => (
            <div class="card" key={field}>
              <h2>Top {field.replace('_', ' ')}</h2>
              <Bars
                rows={(tops[i]!.data?.values ?? []).map((v) => ({
                  label: v.value,
                  count: v.count,
                  href: `#/search?${new URLSearchParams(
                    Object.entries({ ...current(), [field]: v.value }).filter(
                      (x): x is [string, string] => !!x[1],
                    ),
                  ).toString()}`,
                }))}
              />
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}
