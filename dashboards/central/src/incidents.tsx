/**
 * Incidents (central/api/incidents.ts): the list, newest first, filtered by status and attacker
 * (kept in the URL); and one incident's page: its attacker and span, the triage actions
 * (acknowledge, assign, comment, resolve, false positive), and the timeline of its child alerts
 * and their triggering events in time order, beside the incident's own history.
 */
import { useState } from 'preact/hooks';
import { api, withQuery } from '../../shared/api.ts';
import { ago, dateTime } from '../../shared/format.ts';
import { href, setQuery, type Route } from '../../shared/router.ts';
import { useSession } from '../../shared/session.tsx';
import { ErrorBanner, Field, SeverityBadge, useApi } from '../../shared/ui.tsx';
import { StatusFilter, StatusPill } from './pages/alerts.tsx';
import type { Alert, AlertStatus } from './types.ts';

interface Incident {
  id: number;
  attacker_kind: 'address' | 'user';
  attacker: string;
  title: string;
  severity: number;
  alert_count: number;
  first_seen: string;
  last_seen: string;
  status: AlertStatus;
  assignee: string | null;
}
interface IncidentDetail extends Incident {
  alerts: Alert[];
  comments: Array<{ id: number; author: string; body: string; created_at: string }>;
  history: Array<{ at: string; actor: string; change: string; from: string | null; to: string | null }>;
}
interface TimelineEntry {
  at: string;
  kind: 'alert' | 'event';
  alert_id: number;
  text: string;
  severity: number;
  event_id?: string;
  action?: string;
  src_ip?: string | null;
}

export function IncidentsPage({ route }: { route: Route }) {
  const status = route.query.get('status') ?? undefined;
  const attacker = route.query.get('attacker') ?? undefined;
  const list = useApi<{ incidents: Incident[] }>(
    withQuery('/api/incidents', { status, attacker, limit: 200 }),
    10_000,
  );
  const [draft, setDraft] = useState<Record<string, string | undefined>>({ status, attacker });
  return (
    <section>
      <h1>Incidents</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(draft);
        }}
      >
        <StatusFilter value={draft.status} onValue={(status) => setDraft({ ...draft, status })} />
        <Field
          label="Attacker"
          name="attacker"
          value={draft.attacker ?? ''}
          onValue={(v) => setDraft({ ...draft, attacker: v || undefined })}
        />
        <button type="submit" class="primary">
          Filter
        </button>
      </form>
      <ErrorBanner error={list.error} />
      <div class="card table-wrap">
        <table class="incidents">
          <thead>
            <tr>
              <th>#</th>
              <th>Severity</th>
              <th>Incident</th>
              <th>Attacker</th>
              <th class="num">Alerts</th>
              <th>Span</th>
              <th>Status</th>
              <th>Assignee</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.incidents.map((i) => (
              <tr key={i.id} data-incident-id={i.id}>
                <td>
                  <a href={href(`incidents/${i.id}`)}>{i.id}</a>
                </td>
                <td>
                  <SeverityBadge severity={i.severity} />
                </td>
                <td>
                  <a href={href(`incidents/${i.id}`)}>{i.title}</a>
                </td>
                <td class="mono">
                  {i.attacker} <span class="muted">({i.attacker_kind})</span>
                </td>
                <td class="num">{i.alert_count}</td>
                <td title={`${dateTime(i.first_seen)} – ${dateTime(i.last_seen)}`}>{ago(i.last_seen)}</td>
                <td>
                  <StatusPill status={i.status} />
                </td>
                <td>{i.assignee ?? <span class="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data && list.data.incidents.length === 0 && <p class="muted">No incidents match.</p>}
      </div>
    </section>
  );
}

export function IncidentDetailPage({ id }: { id: string }) {
  const { can, session } = useSession();
  const path = `/api/incidents/${encodeURIComponent(id)}`;
  const incident = useApi<IncidentDetail>(path);
  const timeline = useApi<{ timeline: TimelineEntry[] }>(`${path}/timeline`);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [comment, setComment] = useState('');
  const act = async (run: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await run();
      incident.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const patch = (body: Record<string, unknown>) => act(() => api(path, { method: 'PATCH', body }));
  const i = incident.data;
  if (incident.error) return <ErrorBanner error={incident.error} />;
  if (!i) return <p class="loading">Loading…</p>;
  const writer = can('alerts');
  return (
    <section>
      <h1>
        Incident #{i.id}: {i.title}
      </h1>
      <p>
        <SeverityBadge severity={i.severity} /> <StatusPill status={i.status} /> {i.alert_count} alerts from{' '}
        <span class="mono">{i.attacker}</span> ({i.attacker_kind}), {dateTime(i.first_seen)} –{' '}
        {dateTime(i.last_seen)}, assignee {i.assignee ?? '—'}
      </p>
      <ErrorBanner error={error} />
      {writer && (
        <div class="actions">
          <button onClick={() => void patch({ status: 'acknowledged' })}>Acknowledge</button>
          <button onClick={() => void patch({ assignee: session.user.username })}>Assign to me</button>
          <button onClick={() => void patch({ status: 'resolved' })}>Resolve</button>
          <button onClick={() => void patch({ status: 'false_positive' })}>False positive</button>
        </div>
      )}
      <h2>Timeline</h2>
      <ErrorBanner error={timeline.error} />
      <ol class="timeline incident-timeline">
        {timeline.data?.timeline.map((t, n) => (
          <li key={n} data-kind={t.kind}>
            <span class="muted">{dateTime(t.at)}</span>{' '}
            {t.kind === 'alert' ? (
              <>
                <SeverityBadge severity={t.severity} /> alert{' '}
                <a href={href(`alerts/${t.alert_id}`)}>#{t.alert_id}</a> {t.text}
              </>
            ) : (
              <>
                <span class="mono">{t.action}</span> {t.text}
                {t.src_ip && <span class="muted"> from {t.src_ip}</span>}
              </>
            )}
          </li>
        ))}
      </ol>
      <h2>History</h2>
      <ul class="history">
        {i.history.map((h, n) => (
          <li key={`h${n}`}>
            {dateTime(h.at)} {h.actor}: {h.change} {h.from ?? ''}
            {h.to ? ` → ${h.to}` : ''}
          </li>
        ))}
        {i.comments.map((c) => (
          <li key={`c${c.id}`}>
            {dateTime(c.created_at)} {c.author} commented: {c.body}
          </li>
        ))}
      </ul>
      {writer && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!comment.trim()) return;
            void act(async () => {
              await api(`${path}/comments`, { method: 'POST', body: { body: comment } });
              setComment('');
            });
          }}
        >
          <label>
            Comment
            <textarea name="comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          </label>
          <button type="submit">Comment</button>
        </form>
      )}
    </section>
  );
}
