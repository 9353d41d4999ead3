/**
 * The store conformance suite on PGlite (embedded PostgreSQL), in memory: one instance for the
 * whole suite, since each takes seconds and hundreds of MB to start. Then what only an embedded
 * database can get wrong: data in a data directory survives close and reopen.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createPgliteStore, createStore } from '../../../central/store/index.ts';
import { runStoreConformance } from './conformance.ts';
import { iso, makeEvent, timeSlice, uniqueGateway } from './fixtures.ts';

runStoreConformance('pglite (in memory)', ({ clock }) => createPgliteStore({ clock }));

describe('PGlite store on disk', () => {
  it('keeps events, partitions and migrations across close and reopen', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'siem-store-'));
    try {
      const gateway = uniqueGateway('persist');
      const t = timeSlice();
      const events = [1, 2, 3].map((seq) => makeEvent(gateway, seq, iso(t + seq)));
      const outside = makeEvent(gateway, 4, '1970-01-01T00:00:00.000Z');

      const first = await createStore({ type: 'pglite', data_dir: dataDir });
      await first.init(new Date());
      assert.deepEqual(await first.insertEvents([...events, outside]), { inserted: 4, duplicates: 0 });
      const partitions = await first.listPartitions();
      await first.close();
      await first.close();
      assert.equal((await first.health()).ok, false, 'a closed store is not healthy');

      const second = await createStore({ type: 'pglite', data_dir: dataDir });
      try {
        await second.init(new Date());
        assert.deepEqual(await second.listPartitions(), partitions);
        assert.equal(await second.countDefaultPartition(), 1);
        assert.deepEqual(
          (await second.queryEvents({ gateway, limit: 10 })).events,
          [...events].reverse().concat(outside),
        );
        assert.deepEqual(await second.insertEvents(events), { inserted: 0, duplicates: 3 });
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
