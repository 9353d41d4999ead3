/**
 * A gateway with no central, as the fault tests and the input benchmarks run it: its data
 * directory holds credentials for a central nobody runs, so the forwarder only backs off and the
 * queue keeps every event; afterwards the queue is read back event by event, from the running
 * gateway's queue or from the directory of a stopped one.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { LANES, LevelQueue } from '../../gateway/queue/leveldb-queue.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { generateGatewayKeys } from '../../protocols/link/auth.ts';
import { freePort } from './env.ts';

/**
 * Writes `<dataDir>/credentials.json` (fresh keys) for `gatewayId`, enrolled with a central at a
 * port nothing listens on, and returns that central's link URL for the config's `central.endpoint`.
 */
export async function writeOfflineCredentials(dataDir: string, gatewayId: string): Promise<string> {
  const keys = generateGatewayKeys();
  const dead = await freePort();
  writeFileSync(
    path.join(dataDir, 'credentials.json'),
    JSON.stringify({
      gateway_id: gatewayId,
      private_key: keys.privateKey,
      public_key: keys.publicKey,
      central: `http://127.0.0.1:${dead}`,
      enrolled_at: new Date().toISOString(),
    }),
    { mode: 0o600 },
  );
  return `ws://127.0.0.1:${dead}/link`;
}

/** Every event `queue` holds, lane after lane, in `seq` order. */
export async function queuedEventsOf(queue: Pick<LevelQueue, 'read'>, pageSize = 1000): Promise<Event[]> {
  const events: Event[] = [];
  for (const lane of LANES) {
    let after: string | null = null;
    for (;;) {
      const records = await queue.read(lane, after, pageSize);
      if (records.length === 0) break;
      for (const r of records) events.push(...r.events);
      after = records.at(-1)!.key;
    }
  }
  return events.sort((a, b) => a.seq - b.seq);
}

/** Every event in the queue of the stopped gateway `gatewayId` whose data directory is `dataDir`. */
export async function readStoppedQueue(dataDir: string, gatewayId: string): Promise<Event[]> {
  // (Only read: the record size and flush settings matter to appends alone.)
  const queue = await LevelQueue.open({
    dir: path.join(dataDir, 'queue'),
    gateway: gatewayId,
    maxRecordEvents: 200,
    flushIntervalMs: 10,
    sync: false,
  });
  try {
    return await queuedEventsOf(queue);
  } finally {
    await queue.close();
  }
}
