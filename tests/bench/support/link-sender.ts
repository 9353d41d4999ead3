/**
 * The gateway side of the central ingest benchmark, on a worker thread of its own: it encodes its
 * batches before the clock starts and only sends them on a link connection (authenticated like a
 * gateway, `inFlight` batches unacknowledged at most), so central's thread does central's work
 * alone, as it does in production where gateways are other machines. The worker still runs on
 * this machine's two cores: what it costs (WebSocket framing and masking, reading acks) is taken
 * from PostgreSQL and central as a real gateway's would be.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import type { Event } from '../../../protocols/event/schema.ts';
import { signLinkProof } from '../../../protocols/link/auth.ts';
import { decodeLinkMessage, encodeLinkMessage, type LinkMessage } from '../../../protocols/link/codec.ts';

const HOSTS = Array.from({ length: 50 }, (_, i) => `plc-${i}`);
const DAY_MS = 86_400_000;

/** How `makeEvents` spreads its events: over `spanMs` before `end`, and whether each names a device. */
export interface EventShape {
  /** Default 24 hours. */
  spanMs?: number;
  /** Default true: `device.id` syslog:<host> (so central's device inventory is updated). */
  devices?: boolean;
}

/** `count` syslog-like events of `gateway`, spread evenly over the `spanMs` (24 hours) before `end`. */
export function makeEvents(
  gateway: string,
  count: number,
  end: number,
  { spanMs = DAY_MS, devices = true }: EventShape = {},
): Event[] {
  return Array.from({ length: count }, (_, i) => {
    const ts = new Date(end - spanMs + Math.floor((i * spanMs) / count)).toISOString();
    return {
      v: 1,
      id: `${gateway}:${i + 1}`,
      gateway,
      seq: i + 1,
      ts,
      received: ts,
      source: 'syslog',
      kind: i % 10 === 0 ? 'security' : 'telemetry',
      action: 'syslog.message',
      severity: i % 8,
      message: `%LINK-3-UPDOWN: Interface Gi1/0/${i % 48} changed state to ${i % 2 ? 'up' : 'down'} seq ${i}`,
      host: HOSTS[i % HOSTS.length],
      ...(devices && { device: { id: `syslog:${HOSTS[i % HOSTS.length]}` } }),
      src: { ip: `10.0.${i % 4}.${i % 250}`, port: 514 },
      fields: { facility: 23, app_name: 'ifmgr' },
      tags: [],
    };
  });
}

export interface LinkSendOptions {
  url: string;
  gateway: string;
  privateKey: string;
  count: number;
  /** End of the 24 hours the events cover (ms). */
  end: number;
  batch: number;
  inFlight: number;
}

export interface LinkSendResult {
  /** Events acknowledged (inserted + duplicates + rejected). */
  acked: number;
  inserted: number;
  /** From the first batch sent to the last ack received. */
  seconds: number;
}

/** Sends `count` events through the link from a worker thread; resolves once all are acked. */
export function sendThroughLink(options: LinkSendOptions): Promise<LinkSendResult> {
  return new Promise((resolve, reject) => {
    // A worker's entry is loaded without the parent's loader hooks: it registers tsx's first,
    // then imports this file, which runs `runWorker` below.
    const entry = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
      .then((tsx) => tsx.register())
      .then(() => import(${JSON.stringify(import.meta.url)}))`;
    const worker = new Worker(entry, { eval: true, workerData: options });
    worker.once('message', (result: LinkSendResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`link sender exited with ${code}`)));
  });
}

async function runWorker(o: LinkSendOptions): Promise<void> {
  const events = makeEvents(o.gateway, o.count, o.end);
  // Encoded up front: the gateway's serialisation is not central's cost.
  const frames: Buffer[] = [];
  for (let start = 0, id = 1; start < o.count; start += o.batch, id += 1) {
    const message: LinkMessage = {
      type: 'batch',
      batch_id: id,
      events: events.slice(start, start + o.batch),
    };
    frames.push(Buffer.from(encodeLinkMessage(message)));
  }
  const sizes = frames.map((_, i) => Math.min(o.batch, o.count - i * o.batch));
  const ws = new WebSocket(o.url);
  const inbox: LinkMessage[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data) => {
    const decoded = decodeLinkMessage(data.toString());
    if (!decoded.ok) return;
    inbox.push(decoded.message);
    wake?.();
  });
  ws.on('error', (error) => {
    throw error;
  });
  const next = async <T extends LinkMessage['type']>(type: T) => {
    for (;;) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return inbox.splice(i, 1)[0] as Extract<LinkMessage, { type: T }>;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  await new Promise<void>((resolve) => ws.once('open', () => resolve()));
  const challenge = await next('challenge');
  const proof = signLinkProof(o.privateKey, o.gateway, challenge.nonce);
  ws.send(encodeLinkMessage({ type: 'hello', v: 1, gateway: o.gateway, sent_at: Date.now(), proof }));
  await next('welcome');
  const started = performance.now();
  let sent = 0;
  let acked = 0;
  let inserted = 0;
  let f = 0;
  while (acked < o.count) {
    while (f < frames.length && sent - acked < o.inFlight * o.batch) {
      ws.send(frames[f]!, { binary: false });
      sent += sizes[f]!;
      f += 1;
    }
    const ack = await next('ack');
    acked += ack.inserted + ack.duplicates + ack.rejected;
    inserted += ack.inserted;
  }
  const seconds = (performance.now() - started) / 1000;
  ws.close();
  parentPort!.postMessage({ acked, inserted, seconds } satisfies LinkSendResult);
}

if (!isMainThread && parentPort) await runWorker(workerData as LinkSendOptions);
