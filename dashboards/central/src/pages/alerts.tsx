/**
 * The alert queue. It filters by status, severity, rule, device (entity) and assignee (kept in
 * the URL), and merges every `alert` event of the live stream in place, so a new alert appears
 * without a reload. One alert's page is alert-detail.tsx.
 */
import { useState } from 'preact/hooks';
import { withQuery } from '../../../shared/api.ts';
import { ago, dateTime, SEVERITY_NAMES } from '../../../shared/format.ts';
import { href, setQuery, type Route } from '../../../shared/router.ts';
import { useStream } from '../../../shared/stream.ts';
import { ErrorBanner, Field, Pill, SeverityBadge, Tags, useApi } from '../../../shared/ui.tsx';
import { ALERT_STATUSES, type Alert, type AlertStatus } from '../types.ts';

const STATUS_TONE: Record<AlertStatus, 'bad' | 'warn' | 'ok' | 'muted'> = {
  new: 'bad',
  acknowledged: 'warn',
  resolved: 'ok',
  false_positive: 'muted',
};

export function StatusPill({ status }: { status: AlertStatus }) {
  return <Pill tone={STATUS_TONE[status]}>{status.replace('_', ' ')}</Pill>;
}

/** The status filter of the alert and incident lists: any status, or one. */
export function StatusFilter({
  value,
  onValue,
}: {
  value: string | undefined;
  onValue: (status: string | undefined) => void;
}) {
  return (
    <label>
      Status
      <select name="status" value={value ?? ''} onChange={(e) => onValue(e.currentTarget.value || undefined)}>
        <option value="">any</option>
        {ALERT_STATUSES.map((s) => (
          <option key={s} value={s}>
            {s.replace('_', ' ')}
          </option>
        ))}
      </select>
    </label>
  );
}

const FILTERS = ['status', 'severity_max', 'rule_id', 'entity', 'assignee', 'q'] as const;

function matches(a: Alert, f: Record<string, string | undefined>): boolean {
  if (f.status && a.status !== f.status) return false;
  if (f.severity_max && a.severity > Number(f.severity_max)) return false;
  if (f.rule_id && a.rule_id !== f.rule_id) return false;
  if (f.entity && a.entity !== f.entity) return false;
  if (f.assignee && a.assignee !== f.assignee) return false;
  // Enrichment terms (`geo.country:RU intel.feed:c2`) are tags the alert must all carry; the
  // server normalises case, so a live alert is compared without it.
  const tags = new Set(a.tags.map((t) => t.toLowerCase()));
  for (const term of f.q?.split(/\s+/).filter(Boolean) ?? []) {
    const t = term.toLowerCase().replace(/^geo\.asn:(\d+)$/, 'geo.asn:as$1');
    if (!tags.has(t)) return false;
  }
  return true;
}

export function AlertsPage({ route }: { route: Route }) {
  const filters: Record<string, string | undefined> = {};
  for (const k of FILTERS) filters[k] = route.query.get(k) ?? undefined;
  const list = useApi<{ alerts: Alert[]; next_before_id: number | null }>(
    withQuery('/api/alerts', { ...filters, limit: 200 }),
  );
  const [fresh, setFresh] = useState<Set<number>>(new Set());
  const [draft, setDraft] = useState(filters);

  useStream<Alert>('alert', (alert) => {
    list.set((old) => {
      if (!old) return old;
      const rest = old.alerts.filter((a) => a.id !== alert.id);
      const alerts = matches(alert, filters) ? [alert, ...rest].sort((a, b) => b.id - a.id) : rest;
      return { ...old, alerts };
    });
    setFresh((s) => new Set(s).add(alert.id));
  });

  const apply = (e: Event) => {
    e.preventDefault();
    setQuery(draft);
  };
  const field = (name: (typeof FILTERS)[number], label: string) => (
    <Field
      label={label}
      name={name}
      value={draft[name] ?? ''}
      onValue={(v) => setDraft({ ...draft, [name]: v || undefined })}
    />
  );

  return (
    <section>
      <h1>Alert queue</h1>
      <form class="filters" onSubmit={apply}>
        <StatusFilter value={draft.status} onValue={(status) => setDraft({ ...draft, status })} />
        <label>
          Severity at least
          <select
            name="severity_max"
            value={draft.severity_max ?? ''}
            onChange={(e) => setDraft({ ...draft, severity_max: e.currentTarget.value || undefined })}
          >
            <option value="">any</option>
            {SEVERITY_NAMES.map((n, i) => (
              <option key={n} value={String(i)}>
                {n}
              </option>
            ))}
          </select>
        </label>
        {field('rule_id', 'Rule')}
        {field('entity', 'Device / host')}
        {field('assignee', 'Assignee')}
        {field('q', 'Enrichment (geo.country:RU, intel.feed:…)')}
        <button type="submit" class="primary">
          Filter
        </button>
        <button
          type="button"
          onClick={() => {
            setDraft({});
            setQuery({});
          }}
        >
          Clear
        </button>
      </form>
      <ErrorBanner error={list.error} />
      <div class="card table-wrap">
        <table class="alerts">
          <thead>
            <tr>
              <th>#</th>
              <th>Severity</th>
              <th>Rule</th>
              <th>Device / host</th>
              <th>ATT&amp;CK</th>
              <th class="num">Count</th>
              <th>Last seen</th>
              <th>Status</th>
              <th>Assignee</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.alerts.map((a) => (
              <tr key={a.id} class={fresh.has(a.id) ? 'fresh' : ''} data-alert-id={a.id}>
                <td>
                  <a href={href(`alerts/${a.id}`)}>{a.id}</a>
                </td>
                <td>
                  <SeverityBadge severity={a.severity} />
                </td>
                <td>
                  <a href={href(`alerts/${a.id}`)}>{a.rule_title}</a>
                  <div class="muted mono">{a.rule_id}</div>
                </td>
                <td>
                  {a.entity}
                  {a.gateway && <div class="muted">{a.gateway}</div>}
                </td>
                <td>
                  <Tags items={a.techniques} />
                </td>
                <td class="num">{a.count}</td>
                <td title={dateTime(a.last_seen)}>{ago(a.last_seen)}</td>
                <td>
                  <StatusPill status={a.status} />
                </td>
                <td>{a.assignee ?? <span class="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data && list.data.alerts.length === 0 && <p class="muted">No alerts match.</p>}
      </div>
    </section>
  );
}
