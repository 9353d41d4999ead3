/**
 * A file source on a real LevelDB queue, for the file source's tests: the source's emits go
 * straight into the queue with their state (as the pipeline hands them on), and `lines()` reads
 * back every event queued, in order. Restarting makes a new source over the same queue, as a
 * gateway restart does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createGatewayMetrics } from '../../../../gateway/metrics.ts';
import type { Source, SourceContext } from '../../../../gateway/pipeline/types.ts';
import { LANES, LevelQueue } from '../../../../gateway/queue/leveldb-queue.ts';
import { fileSourceSchema } from '../../../../gateway/sources/file/config.ts';
import { createFileSource } from '../../../../gateway/sources/file/index.ts';
import type { Event } from '../../../../protocols/event/schema.ts';

export interface Harness {
  dir: string;
  queue: LevelQueue;
  metrics: ReturnType<typeof createGatewayMetrics>;
  source: Source;
  start(config: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
  events(): Promise<Event[]>;
  close(): Promise<void>;
}

export async function fileHarness(): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'siem-file-'));
  const queue = await LevelQueue.open({
    dir: path.join(dir, 'queue'),
    gateway: 'gw-file',
    maxRecordEvents: 200,
    flushIntervalMs: 5,
    sync: false,
  });
  const metrics = createGatewayMetrics('gw-file', { processMetrics: false });
  const ctx: SourceContext = {
    emit: async (events, options) => {
      await queue.append(events, options?.state ? { state: options.state } : undefined);
    },
    readState: (prefix) => queue.readState(prefix),
    metrics,
    logger: pino({ level: 'silent' }),
    now: () => new Date(),
  };
  const h: Harness = {
    dir,
    queue,
    metrics,
    source: undefined as unknown as Source,
    async start(config) {
      h.source = createFileSource('logs', fileSourceSchema.parse({ type: 'file', ...config }), ctx);
      await h.source.start();
    },
    async stop() {
      await h.source?.stop();
    },
    async events() {
      const out: Event[] = [];
      for (const lane of LANES) {
        let after: string | null = null;
        for (;;) {
          const records = await queue.read(lane, after, 100);
          if (records.length === 0) break;
          for (const r of records) out.push(...r.events);
          after = records.at(-1)!.key;
        }
      }
      return out.sort((a, b) => a.seq - b.seq);
    },
    async close() {
      await h.source?.stop();
      await queue.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
