/**
 * End-to-end latency (issue 8's benchmark, issue 10 §5): the time from an event at a device — a
 * syslog line sent to the gateway over TCP — to its alert stored on central (PostgreSQL), and to
 * the alert's appearance on the SOC dashboard's live stream (`GET /api/stream`, server-sent events,
 * server-shared/web-auth/SPEC.md §5), median and p99, with 1,000 events/s of background syslog load.
 * The gateway is the shipped bundle in its own process with the shipped rules (rules/ics) and one
 * probe rule; each probe comes from a new host, so each raises a new alert (no grouping).
 * Where central does not serve the stream yet, only "stored" is measured and the report says so.
 */
import pg from 'pg';
import { waitFor } from '../support/env.ts';
import { createTempDatabase } from '../support/postgres.ts';
import { startTestCentral } from '../support/stack.ts';
import { percentile, probeLine, startProbeGateway, type ProbeGateway } from './support/probe-gateway.ts';
import type { BenchFigure, BenchOptions } from './types.ts';

export const title = 'end-to-end latency';

/** Opens the SOC stream; resolves to a reader of `alert` events, or undefined when not served. */
async function openStream(url: string, token: string, onAlert: (data: string) => void) {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/stream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: controller.signal,
  }).catch(() => undefined);
  if (!res || res.status !== 200 || !res.headers.get('content-type')?.includes('text/event-stream')) {
    controller.abort();
    return undefined;
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        // Server-sent events (WHATWG HTML §9.2): blank-line separated, `event:` and `data:` lines.
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          const event = lines
            .find((l) => l.startsWith('event:'))
            ?.slice(6)
            .trim();
          const data = lines
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (event === 'alert') onAlert(data);
        }
      }
    } catch {
      // Aborted at the end of the benchmark.
    }
  })();
  return { close: () => controller.abort() };
}

export async function run({ quick }: BenchOptions): Promise<BenchFigure[]> {
  const probes = quick ? 30 : 300;
  const db = await createTempDatabase();
  if ('error' in db) throw new Error(db.error);
  const c = await startTestCentral({ type: 'postgres', url: db.url }, { gatewayId: 'gw-unused' });
  const client = new pg.Client({ connectionString: db.url });
  let gw: ProbeGateway | undefined;
  let stream: { close: () => void } | undefined;
  try {
    await client.connect();
    gw = await startProbeGateway(c, 'gw-latency', { prefix: 'probe-', ruleId: '7d1f0a52-bench-probe' });
    const { device } = gw;

    const sentAt = new Map<string, number>();
    const storedAt = new Map<string, number>();
    const shownAt = new Map<string, number>();
    stream = await openStream(c.central.url(), c.apiToken, (data) => {
      const host = /"(probe-\d+)"/.exec(data)?.[1];
      if (host && !shownAt.has(host)) shownAt.set(host, Date.now());
    });

    await new Promise((resolve) => setTimeout(resolve, quick ? 2000 : 5000));

    // Probes, 5 a second; central polled every 10 ms for the alert rows.
    let lastId = 0;
    const poll = setInterval(() => {
      void client
        .query<{ id: string; host: string }>(
          "SELECT id, host FROM alerts WHERE id > $1 AND host LIKE 'probe-%' ORDER BY id",
          [lastId],
        )
        .then(({ rows }) => {
          const now = Date.now();
          for (const r of rows) {
            lastId = Math.max(lastId, Number(r.id));
            if (!storedAt.has(r.host)) storedAt.set(r.host, now);
          }
        })
        .catch(() => undefined);
    }, 10);
    try {
      for (let i = 0; i < probes; i += 1) {
        const host = `probe-${i}`;
        sentAt.set(host, Date.now());
        device.write(probeLine(host, i));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await waitFor(() => (storedAt.size >= probes ? true : undefined), {
        timeoutMs: 30_000,
        what: `alerts of all ${probes} probes on central (${storedAt.size} so far)`,
      });
      if (stream)
        await waitFor(() => (shownAt.size >= probes ? true : undefined), {
          timeoutMs: 10_000,
          what: `all ${probes} alerts on the SOC stream (${shownAt.size} so far)`,
        });
    } finally {
      clearInterval(poll);
    }
    const latencies = (at: Map<string, number>) =>
      [...at].map(([host, t]) => t - sentAt.get(host)!).sort((a, b) => a - b);
    const stored = latencies(storedAt);
    const figures: BenchFigure[] = [];
    for (const [label, p] of [
      ['median', 50],
      ['p99', 99],
    ] as const) {
      figures.push({
        name: `syslog at the gateway → alert stored on central, ${label}`,
        value: percentile(stored, p),
        unit: 'ms',
        ...(p === 99 && { target: { value: 2000, better: 'lower', issue: 8 } }),
        note: `${probes} alerts, 1,000 events/s background${stream ? '' : '; SOC dashboard (GET /api/stream): pending, central does not serve it yet'}`,
      });
      if (stream) {
        const shown = latencies(shownAt);
        figures.push({
          name: `syslog at the gateway → alert on the SOC dashboard stream, ${label}`,
          value: percentile(shown, p),
          unit: 'ms',
          ...(p === 99 && { target: { value: 2000, better: 'lower', issue: 8 } }),
          note: `${probes} alerts, 1,000 events/s background`,
        });
      }
    }
    return figures;
  } finally {
    stream?.close();
    await gw?.stop();
    await client.end().catch(() => undefined);
    await c.central.stop();
    await db.drop();
  }
}
