/**
 * Link and buffer status for every page: `/api/status` once, then each `status` event of the
 * live stream (every 2 s). While the link is down the queue's peak depth is remembered, so that
 * once it is back the page can show how much of the backlog has drained (a progress bar) and the
 * gateway's own estimate of the time left (`expected_drain_secs`, backlog over the ack rate).
 */
import { useRef } from 'preact/hooks';
import { ago, bytes, dateTime, duration } from '../../shared/format.ts';
import { useStream } from '../../shared/stream.ts';
import { Pill, useApi } from '../../shared/ui.tsx';
import type { GatewayStatus, Lane } from './types.ts';

export const LANES: Lane[] = ['alert', 'security', 'telemetry'];

export interface Drain {
  /** Deepest backlog since the link went down (or since the page opened mid-drain). */
  peak: number;
  draining: boolean;
  /** 0..1 of the peak sent, while draining. */
  progress: number;
}

export function useGatewayStatus(): { status: GatewayStatus | undefined; drain: Drain } {
  const loaded = useApi<GatewayStatus>('/api/status');
  useStream<GatewayStatus>('status', (s) => loaded.set(() => s));
  const peak = useRef(0);
  const s = loaded.data;
  let drain: Drain = { peak: 0, draining: false, progress: 1 };
  if (s) {
    const depth = s.queue.events;
    if (depth === 0) peak.current = 0;
    else peak.current = Math.max(peak.current, depth);
    const draining = s.link.connected && depth > 0 && s.link.ack_rate_per_sec > 0;
    drain = {
      peak: peak.current,
      draining,
      progress: peak.current > 0 ? (peak.current - depth) / peak.current : 1,
    };
  }
  return { status: s, drain };
}

export function LinkPill({ status }: { status: GatewayStatus | undefined }) {
  if (!status) return <Pill tone="muted">link …</Pill>;
  return status.link.connected ? (
    <Pill tone="ok">central connected</Pill>
  ) : (
    <Pill tone="bad">central offline</Pill>
  );
}

/** The link and buffer panel: used on its own page and at the top of the device list. */
export function LinkPanel({ status, drain, full }: { status: GatewayStatus; drain: Drain; full?: boolean }) {
  const q = status.queue;
  const l = status.link;
  return (
    <section class="card link-panel" aria-label="link and buffer">
      <div class="link-head">
        <h2>
          Link to central <LinkPill status={status} />
          {l.endpoint_index > 0 && (
            <span data-testid="link-fallback">
              {' '}
              <Pill tone="warn">
                on fallback node {l.endpoint_index + 1} of {l.endpoints.length}
              </Pill>
            </span>
          )}
        </h2>
        <span class="muted" data-testid="link-since">
          {l.connected
            ? `connected since ${ago(l.connected_since)}`
            : `offline${l.disconnected_since ? ` since ${ago(l.disconnected_since)} (${dateTime(l.disconnected_since)})` : ''}${l.last_error ? `: ${l.last_error}` : ''} · buffering to disk`}
        </span>
      </div>
      <div class="stats">
        <div class="stat">
          <div class="value" data-testid="queue-depth">
            {q.events.toLocaleString()}
          </div>
          <div class="label">events queued ({bytes(q.bytes)})</div>
        </div>
        {LANES.map((lane) => (
          <div class="stat" key={lane}>
            <div class="value" data-testid={`lane-${lane}`}>
              {(q.byLane[lane] ?? 0).toLocaleString()}
            </div>
            <div class="label">{lane} lane</div>
          </div>
        ))}
        <div class="stat">
          <div class="value">
            {q.oldest_unsent_age_secs === null ? '—' : duration(q.oldest_unsent_age_secs * 1000)}
          </div>
          <div class="label">oldest unsent event</div>
        </div>
      </div>
      {drain.draining && (
        <div class="drain" data-testid="drain">
          <div class="drain-text">
            Catching up: {Math.round(drain.progress * 100)}% of {drain.peak.toLocaleString()} sent
            {q.expected_drain_secs !== null && <> · about {duration(q.expected_drain_secs * 1000)} left</>} (
            {Math.round(l.ack_rate_per_sec)} events/s)
          </div>
          <div
            class="progress"
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={Math.round(drain.progress * 100)}
          >
            <div style={{ width: `${Math.round(drain.progress * 100)}%` }} />
          </div>
        </div>
      )}
      {q.last_write_error && <p class="error">Queue write failing: {q.last_write_error}</p>}
      {full && (
        <table>
          <tbody>
            <tr>
              <th>Disk cap</th>
              <td>
                {q.max_size_bytes ? `${bytes(q.bytes)} of ${bytes(q.max_size_bytes)}` : 'none'}
                {q.max_size_bytes > 0 && (
                  <div class="progress">
                    <div style={{ width: `${Math.min(100, (100 * q.bytes) / q.max_size_bytes)}%` }} />
                  </div>
                )}
              </td>
            </tr>
            <tr>
              <th>Central node</th>
              <td data-testid="link-endpoint">
                {l.endpoint}{' '}
                <span class="muted">
                  {l.endpoints.length === 1
                    ? '(the only endpoint)'
                    : l.endpoint_index === 0
                      ? `(preferred, 1 of ${l.endpoints.length})`
                      : `(fallback ${l.endpoint_index + 1} of ${l.endpoints.length}; back to ${l.endpoints[0]} once it is healthy)`}
                  {l.endpoint_switches > 0 && ` · ${l.endpoint_switches} switches since start`}
                </span>
              </td>
            </tr>
            <tr>
              <th>In flight</th>
              <td>{l.in_flight_batches} batches</td>
            </tr>
            <tr>
              <th>Clock offset</th>
              <td>{l.clock_offset_ms === null ? '—' : `${l.clock_offset_ms} ms`}</td>
            </tr>
            <tr>
              <th>Sources</th>
              <td>
                {status.sources.map((s) => (
                  <div key={s.name}>
                    <b>{s.name}</b> <span class="muted">{s.type}</span>{' '}
                    {s.addresses.map((a) => `${a.transport} ${a.host}:${a.port}`).join(', ')}
                    {s.notes?.map((n) => (
                      <div key={n} class="muted source-note">
                        {n}
                      </div>
                    ))}
                  </div>
                ))}
              </td>
            </tr>
            <tr>
              <th>Memory</th>
              <td>
                {bytes(status.process.rss_bytes)} resident, {bytes(status.process.heap_used_bytes)} heap
              </td>
            </tr>
          </tbody>
        </table>
      )}
    </section>
  );
}
