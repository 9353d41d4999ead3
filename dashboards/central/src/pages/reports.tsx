/**
 * Reports (`#/reports`, the `reports` permission): past reports, scheduled and on demand, newest
 * first, each with its period, scope, status, headline figures, deliveries and download links
 * (HTML opens in a new tab, PDF and CSV download); and a form to make one now for a day, a week
 * or a range, fleet-wide or for one site. Reports are made on the server (central/reports); the
 * list refreshes while one is being made.
 */
import { useState } from 'preact/hooks';
import { api, withQuery } from '../../../shared/api.ts';
import { dateTime } from '../../../shared/format.ts';
import { ErrorBanner, Field, Pill, useApi } from '../../../shared/ui.tsx';

interface ReportRow {
  id: number;
  schedule: string | null;
  period: 'daily' | 'weekly' | 'custom';
  scope: string;
  time_zone: string;
  period_start: string;
  period_end: string;
  status: 'running' | 'done' | 'failed';
  title: string;
  requested_by: string | null;
  created_at: string;
  finished_at: string | null;
  formats: { html: boolean; csv: boolean; pdf: boolean };
  pdf_error: string | null;
  summary: { alerts?: number; events?: number; new_devices?: number; outages?: number };
  delivery: Record<string, { ok: boolean; at: string; error?: string }>;
  error: string | null;
}

interface ReportsPage {
  reports: ReportRow[];
  next_before_id: number | null;
  sites: Array<{ name: string; title: string; gateways: string[] }>;
  time_zone: string;
  pdf_unavailable: string | null;
}

/** Yesterday as YYYY-MM-DD in the browser's calendar (the server reads it in its time zone). */
function yesterday(): string {
  const d = new Date(Date.now() - 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

const STATUS_TONE = { running: 'warn', done: 'ok', failed: 'bad' } as const;

export function ReportsPage() {
  const [beforeId, setBeforeId] = useState<number | undefined>(undefined);
  const list = useApi<ReportsPage>(withQuery('/api/reports', { before_id: beforeId, limit: 50 }), 5_000);
  const [period, setPeriod] = useState<'daily' | 'weekly' | 'custom'>('daily');
  const [date, setDate] = useState(yesterday());
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [scope, setScope] = useState('fleet');
  const [error, setError] = useState<Error | undefined>(undefined);
  const [notice, setNotice] = useState('');
  const data = list.data;

  const generate = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setNotice('');
    try {
      const body =
        period === 'custom'
          ? { period, scope, from: new Date(from).toISOString(), to: new Date(to).toISOString() }
          : { period, scope, date };
      const row = await api<ReportRow>('/api/reports', { method: 'POST', body });
      setNotice(`Report #${row.id} is being made; it appears below when ready.`);
      setBeforeId(undefined);
      list.reload();
    } catch (err) {
      setError(err as Error);
    }
  };

  return (
    <section>
      <h1>Reports</h1>
      <ErrorBanner error={list.error ?? error} />
      {notice && (
        <p class="notice" role="status" data-testid="reports-notice">
          {notice}
        </p>
      )}
      <form class="card filters" onSubmit={(e) => void generate(e)} aria-label="Make a report">
        <label>
          Period
          <select
            name="period"
            value={period}
            onChange={(e) => setPeriod(e.currentTarget.value as typeof period)}
          >
            <option value="daily">day</option>
            <option value="weekly">week (Monday to Sunday)</option>
            <option value="custom">range</option>
          </select>
        </label>
        {period === 'custom' ? (
          <>
            <Field label="From" name="from" type="datetime-local" required value={from} onValue={setFrom} />
            <Field label="To" name="to" type="datetime-local" required value={to} onValue={setTo} />
          </>
        ) : (
          <Field
            label={period === 'daily' ? 'Day' : 'A day of the week'}
            name="date"
            type="date"
            required
            value={date}
            onValue={setDate}
          />
        )}
        <label>
          Scope
          <select name="scope" value={scope} onChange={(e) => setScope(e.currentTarget.value)}>
            <option value="fleet">fleet (every gateway)</option>
            {(data?.sites ?? []).map((s) => (
              <option key={s.name} value={s.name}>
                {s.title} ({s.gateways.join(', ')})
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary">
          Make report
        </button>
        {data && (
          <p class="muted">
            Days and weeks are in {data.time_zone}.{data.pdf_unavailable && <> {data.pdf_unavailable}.</>}
          </p>
        )}
      </form>
      <div class="card table-wrap">
        <table data-testid="reports-table">
          <thead>
            <tr>
              <th>Report</th>
              <th>Made by</th>
              <th>Status</th>
              <th>Alerts</th>
              <th>Events</th>
              <th>New devices</th>
              <th>Outages</th>
              <th>Delivered</th>
              <th>Download</th>
            </tr>
          </thead>
          <tbody>
            {(data?.reports ?? []).map((r) => (
              <tr key={r.id} data-report={r.id}>
                <td>
                  {r.title}
                  <div class="muted">
                    {dateTime(r.period_start)} – {dateTime(r.period_end)}
                  </div>
                </td>
                <td>{r.schedule ? `schedule ${r.schedule}` : (r.requested_by ?? '—')}</td>
                <td>
                  <Pill tone={STATUS_TONE[r.status]}>{r.status}</Pill>
                  {r.error && <div class="muted">{r.error}</div>}
                </td>
                <td>{r.summary.alerts ?? '—'}</td>
                <td>{r.summary.events ?? '—'}</td>
                <td>{r.summary.new_devices ?? '—'}</td>
                <td>{r.summary.outages ?? '—'}</td>
                <td>
                  {Object.entries(r.delivery).map(([name, d]) => (
                    <div key={name} title={d.error ?? d.at}>
                      {name}: {d.ok ? 'sent' : `failed (${d.error ?? ''})`}
                    </div>
                  ))}
                  {Object.keys(r.delivery).length === 0 && '—'}
                </td>
                <td class="downloads">
                  {r.formats.html && (
                    <a href={`/api/reports/${r.id}/report.html`} target="_blank" rel="noopener">
                      HTML
                    </a>
                  )}{' '}
                  {r.formats.pdf ? (
                    <a href={`/api/reports/${r.id}/report.pdf`} download>
                      PDF
                    </a>
                  ) : (
                    r.status === 'done' && (
                      <span class="muted" title={r.pdf_error ?? ''}>
                        no PDF
                      </span>
                    )
                  )}{' '}
                  {r.formats.csv && (
                    <a href={`/api/reports/${r.id}/report.csv`} download>
                      CSV
                    </a>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {data && data.reports.length === 0 && <p class="muted">No reports yet.</p>}
        <div class="pager">
          {beforeId !== undefined && <button onClick={() => setBeforeId(undefined)}>Newest</button>}
          {data?.next_before_id && <button onClick={() => setBeforeId(data.next_before_id!)}>Older</button>}
        </div>
      </div>
    </section>
  );
}
