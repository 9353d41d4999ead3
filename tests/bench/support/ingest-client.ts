/**
 * The sender of the HTTP ingest benchmark, in its own process
 * (`node --import tsx ingest-client.ts '<json options>'`): `count` numbered events, the same
 * messages whatever the way in, sent
 * - `ndjson`: to `POST /api/ingest` as NDJSON (one ECS-style object a line), `batch` events a
 *   request, `concurrency` requests in flight on keep-alive connections; an event counts as sent
 *   once its request is answered 202 with every event accepted (202 comes after the durable
 *   write); 429 and 503 are retried after their `retry-after`, anything else fails the run;
 * - `bulk`: the same to `POST /_bulk` in the Elasticsearch bulk shape (an `index` action line
 *   before each document), answered 200 with `errors: false` and one item per document;
 * - `tcp`: the same events as RFC 5424 syslog lines over TCP with LF framing (RFC 6587 §3.4.2) on
 *   `concurrency` connections, `batch` lines a write; TCP syslog has no answer, so "sent" means
 *   written and the caller waits for the receiver to have stored them.
 * Prints `{"sent","startMs","endMs","retries"}` (epoch ms).
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';

export interface IngestClientOptions {
  kind: 'ndjson' | 'bulk' | 'tcp';
  /** http(s)://host:port of the server (ndjson, bulk). */
  url?: string;
  token?: string;
  /** TCP syslog port on 127.0.0.1 (tcp). */
  port?: number;
  count: number;
  batch: number;
  concurrency: number;
  /** Marks this run's messages, so they can be told apart when read back. */
  tag: string;
}

export interface IngestClientResult {
  sent: number;
  startMs: number;
  endMs: number;
  /** Requests answered 429 or 503 and sent again. */
  retries: number;
}

/** The message of event `i` of run `tag` (fixed size past the number); `messageNumber` reads it back. */
export const benchMessage = (tag: string, i: number): string =>
  `bench ${tag} ${i} pump=on level=42 valve=open operator=ops station=line-2`;
export const messageNumber = (tag: string, message: string): number | undefined => {
  const m = /^bench (\S+) (\d+) /.exec(message);
  return m && m[1] === tag ? Number(m[2]) : undefined;
};

function body(o: IngestClientOptions, from: number, to: number, iso: string): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const host = `hmi-${i % 20}`;
    const message = benchMessage(o.tag, i);
    if (o.kind === 'tcp') out += `<14>1 ${iso} ${host} historian - - - ${message}\n`;
    else {
      if (o.kind === 'bulk') out += '{"index":{"_index":"plant-logs"}}\n';
      out += `${JSON.stringify({ '@timestamp': iso, host, 'log.level': 'info', message })}\n`;
    }
  }
  return out;
}

async function postBatch(o: IngestClientOptions, text: string, n: number): Promise<number> {
  const path = o.kind === 'bulk' ? '/_bulk' : '/api/ingest';
  for (let retries = 0; ; retries++) {
    const res = await fetch(`${o.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/x-ndjson' },
      body: text,
    });
    if (res.status === 429 || res.status === 503) {
      await res.arrayBuffer();
      const after = Number(res.headers.get('retry-after') ?? 1);
      await new Promise((r) => setTimeout(r, (Number.isFinite(after) ? after : 1) * 1000));
      continue;
    }
    const answer = (await res.json()) as {
      accepted?: number;
      rejected?: number;
      errors?: boolean;
      items?: unknown[];
    };
    const ok =
      o.kind === 'bulk'
        ? res.status === 200 && answer.errors === false && answer.items?.length === n
        : res.status === 202 && answer.accepted === n && answer.rejected === 0;
    if (!ok) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(answer).slice(0, 300)}`);
    return retries;
  }
}

export async function sendEvents(o: IngestClientOptions): Promise<IngestClientResult> {
  const iso = new Date().toISOString();
  let next = 0;
  let sent = 0;
  let retries = 0;
  const take = () => {
    const from = next;
    next = Math.min(o.count, next + o.batch);
    return [from, next] as const;
  };
  if (o.kind === 'tcp') {
    const sockets = await Promise.all(
      Array.from(
        { length: o.concurrency },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect(o.port!, '127.0.0.1', () => resolve(s));
            s.once('error', reject);
          }),
      ),
    );
    const startMs = Date.now();
    await Promise.all(
      sockets.map(async (socket) => {
        while (next < o.count) {
          const [from, to] = take();
          sent += to - from;
          if (!socket.write(body(o, from, to, iso)))
            await new Promise((resolve) => socket.once('drain', resolve));
        }
        await new Promise<void>((resolve) => socket.end(resolve));
      }),
    );
    return { sent, startMs, endMs: Date.now(), retries };
  }
  const startMs = Date.now();
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < o.count) {
        const [from, to] = take();
        retries += await postBatch(o, body(o, from, to, iso), to - from);
        sent += to - from;
      }
    }),
  );
  return { sent, startMs, endMs: Date.now(), retries };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await sendEvents(JSON.parse(process.argv[2] ?? '{}') as IngestClientOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
