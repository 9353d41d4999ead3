/**
 * One alert: the triggering and related events, a timeline of the alert's history and comments,
 * and the triage actions (acknowledge, assign, comment, resolve, false positive) through
 * central/api/alerts.ts; it follows the live stream, so a change made elsewhere shows at once.
 */
import { useState } from 'preact/hooks';
import { api } from '../../../shared/api.ts';
import { ago, dateTime, severityName } from '../../../shared/format.ts';
import { href } from '../../../shared/router.ts';
import { useSession } from '../../../shared/session.tsx';
import { useStream } from '../../../shared/stream.ts';
import { ErrorBanner, SeverityBadge, Tags, useApi } from '../../../shared/ui.tsx';
import { StatusPill } from './alerts.tsx';
import { AlertEnrichmentCard, EnrichmentCard } from './enrichment.tsx';
import { EventTable } from './search.tsx';
import type { Alert, AlertDetail, SiemEvent } from '../types.ts';

export function AlertDetailPage({ id }: { id: string }) {
  const { can, session } = useSession();
  const alert = useApi<AlertDetail>(`/api/alerts/${encodeURIComponent(id)}`);
  const related = useApi<{ events: SiemEvent[]; alerts: Alert[] }>(
    `/api/alerts/${encodeURIComponent(id)}/related`,
  );
  const [error, setError] = useState<Error | undefined>(undefined);
  const [assignee, setAssignee] = useState('');
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);

  useStream<Alert>('alert', (a) => {
    if (String(a.id) === id) alert.reload();
  });

  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      alert.reload();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const patch = (body: Record<string, unknown>) =>
    act(() => api(`/api/alerts/${encodeURIComponent(id)}`, { method: 'PATCH', body }));

  const a = alert.data;
  if (alert.error) return <ErrorBanner error={alert.error} />;
  if (!a) return <p class="loading">Loading…</p>;
  const triggering = new Set(a.event_ids);
  const events = related.data?.events ?? [];
  const timeline = [
    ...a.history.map((h) => ({ at: h.at, actor: h.actor, text: historyText(h), key: `h${h.at}${h.change}` })),
    ...a.comments.map((c) => ({
      at: c.created_at,
      actor: c.author,
      text: `commented: ${c.body}`,
      key: `c${c.id}`,
    })),
  ]
    .filter((t) => !t.text.startsWith('comment #'))
    .sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
  const triage = can('alerts');

  return (
    <section>
      <p>
        <a href={href('alerts')}>← Alert queue</a>
      </p>
      <h1>
        #{a.id} {a.rule_title}
      </h1>
      <div class="actions" style={{ marginBottom: '1rem' }}>
        <SeverityBadge severity={a.severity} /> <StatusPill status={a.status} />
        <span class="muted">
          {a.count} hit{a.count === 1 ? '' : 's'} · first {dateTime(a.first_seen)} · last{' '}
          {dateTime(a.last_seen)}
        </span>
      </div>
      <ErrorBanner error={error} />
      <div class="split">
        <div>
          <div class="card">
            <h2>Details</h2>
            <table>
              <tbody>
                <tr>
                  <th>Rule</th>
                  <td class="mono">{a.rule_id}</td>
                </tr>
                <tr>
                  <th>{a.entity_type === 'device' ? 'Device' : 'Host'}</th>
                  <td>
                    <a
                      href={href('search', { [a.entity_type === 'device' ? 'device_id' : 'host']: a.entity })}
                    >
                      {a.entity}
                    </a>
                  </td>
                </tr>
                <tr>
                  <th>Gateway / site</th>
                  <td>
                    {a.gateway ?? '—'} / {a.site ?? '—'}
                  </td>
                </tr>
                <tr>
                  <th>Severity</th>
                  <td>
                    {a.severity} ({severityName(a.severity)})
                  </td>
                </tr>
                <tr>
                  <th>ATT&amp;CK</th>
                  <td>
                    <Tags items={a.techniques} />
                  </td>
                </tr>
                <tr>
                  <th>Tags</th>
                  <td>
                    <Tags items={a.tags} />
                  </td>
                </tr>
                <tr>
                  <th>Assignee</th>
                  <td>{a.assignee ?? '—'}</td>
                </tr>
              </tbody>
            </table>
          </div>
          <AlertEnrichmentCard enrichment={a.enrichment} />
          <EnrichmentCard events={events.filter((e) => triggering.has(e.id))} />
          <div class="card">
            <h2>Triggering events ({a.event_ids.length})</h2>
            <EventTable events={events.filter((e) => triggering.has(e.id))} />
            {a.event_ids.length > 0 && events.filter((e) => triggering.has(e.id)).length === 0 && (
              <ul class="mono">
                {a.event_ids.map((e) => (
                  <li key={e}>{e}</li>
                ))}
              </ul>
            )}
            <h3>Other events on {a.entity} around it</h3>
            <EventTable events={events.filter((e) => !triggering.has(e.id)).slice(0, 50)} />
          </div>
          {related.data && related.data.alerts.length > 0 && (
            <div class="card">
              <h2>Other alerts on {a.entity}</h2>
              <ul>
                {related.data.alerts.map((r) => (
                  <li key={r.id}>
                    <a href={href(`alerts/${r.id}`)}>
                      #{r.id} {r.rule_title}
                    </a>{' '}
                    <StatusPill status={r.status} /> <span class="muted">{ago(r.last_seen)}</span>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>
        <div>
          <div class="card">
            <h2>Triage</h2>
            {!triage && <p class="muted">Your role ({session.user.role}) may look, not change.</p>}
            <div class="actions">
              <button
                class="primary"
                disabled={busy || !triage || a.status === 'acknowledged'}
                onClick={() => void patch({ status: 'acknowledged' })}
              >
                Acknowledge
              </button>
              <button
                disabled={busy || !triage || a.status === 'resolved'}
                onClick={() => void patch({ status: 'resolved' })}
              >
                Resolve
              </button>
              <button
                disabled={busy || !triage || a.status === 'false_positive'}
                onClick={() => void patch({ status: 'false_positive' })}
              >
                False positive
              </button>
              {a.status !== 'new' && (
                <button disabled={busy || !triage} onClick={() => void patch({ status: 'new' })}>
                  Reopen
                </button>
              )}
            </div>
            <form
              class="filters"
              style={{ marginTop: '0.8rem' }}
              onSubmit={(e) => {
                e.preventDefault();
                void patch({ assignee: assignee.trim() || null });
              }}
            >
              <label>
                Assign to
                <input
                  name="assignee"
                  value={assignee}
                  placeholder={a.assignee ?? 'username'}
                  onInput={(e) => setAssignee(e.currentTarget.value)}
                />
              </label>
              <button type="submit" disabled={busy || !triage}>
                Assign
              </button>
              <button
                type="button"
                disabled={busy || !triage}
                onClick={() => void patch({ assignee: session.user.username })}
              >
                Assign to me
              </button>
            </form>
            <form
              onSubmit={(e) => {
                e.preventDefault();
                if (!comment.trim()) return;
                void act(async () => {
                  await api(`/api/alerts/${encodeURIComponent(id)}/comments`, {
                    method: 'POST',
                    body: { body: comment },
                  });
                  setComment('');
                });
              }}
            >
              <label>
                Comment
                <textarea name="comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
              </label>
              <button
                type="submit"
                disabled={busy || !triage || !comment.trim()}
                style={{ marginTop: '0.4rem' }}
              >
                Add comment
              </button>
            </form>
          </div>
          <div class="card">
            <h2>Timeline</h2>
            <ol class="timeline">
              {timeline.map((t) => (
                <li key={t.key}>
                  <div class="muted">
                    {dateTime(t.at)} · {t.actor}
                  </div>
                  <div>{t.text}</div>
                </li>
              ))}
            </ol>
          </div>
        </div>
      </div>
    </section>
  );
}

function historyText(h: AlertDetail['history'][number]): string {
  switch (h.change) {
    case 'raised':
      return 'raised';
    case 'status':
      return `status ${h.from ?? '—'} → ${h.to ?? '—'}`;
    case 'assignee':
      return h.to ? `assigned to ${h.to}` : `unassigned (was ${h.from ?? '—'})`;
    case 'comment':
      return `comment #${h.to ?? ''}`;
    default:
      return `${h.change}: ${h.from ?? ''} → ${h.to ?? ''}`;
  }
}
