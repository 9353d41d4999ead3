/**
 * After a restart, central's detection reopens correlation windows from the stored events of the
 * longest timespan (central/detection.ts `rebuild`). It reads them a slice of time at a time: the
 * open hour has no index in the listing's order (migration 019), so a page over the whole span
 * sorted every row of it, 200 pages in a row, and a restart under load held every batch stored
 * meanwhile in memory until central ran out of heap (the 60-minute soak). The store here is a
 * stand-in that counts the rows each page's range holds, which is what PostgreSQL sorts.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { Alerts } from '../../central/alerts/index.ts';
import { createCentralDetection } from '../../central/detection.ts';
import type { EventQuery } from '../../central/store/types.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { REPO_ROOT } from '../support/env.ts';
import { LOGIN_FAILURE, storedEvent } from '../support/stored-event.ts';

const NOW = Date.parse('2026-12-06T10:00:00.000Z');
/** 30,000 events over the last 9 minutes (central's rules correlate over 10). */
const EVENTS: Event[] = Array.from({ length: 30_000 }, (_, i) => {
  const ts = new Date(NOW - i * 18).toISOString();
  return storedEvent({ ts, received: ts, ...LOGIN_FAILURE, host: `plc-${i % 7}` }, { seq: 30_000 - i });
}); // newest first

describe('central detection rebuild after a restart', () => {
  it('reads the span a slice of time at a time: no page sorts the whole span, every event is read once', async () => {
    const sorted: number[] = [];
    const read = new Set<string>();
    const store = {
      async queryEvents(q: EventQuery) {
        const from = q.from!.getTime();
        const to = q.to!.getTime();
        const range = EVENTS.filter((e) => Date.parse(e.ts) >= from && Date.parse(e.ts) < to);
        sorted.push(range.length);
        const start = q.cursor ? Number(q.cursor) : 0;
        const events = range.slice(start, start + q.limit);
        for (const e of events) {
          assert.ok(!read.has(e.id), `${e.id} read twice`);
          read.add(e.id);
        }
        const next = start + q.limit < range.length ? String(start + q.limit) : null;
        return { events, nextCursor: next };
      },
    };
    const detection = createCentralDetection({
      rulesDirs: [path.join(REPO_ROOT, 'rules', 'central')],
      alertWindowMs: 0,
      alerts: () => ({ raise: async () => undefined }) as unknown as Alerts,
      logger: pino({ level: 'silent' }),
      store,
      now: () => NOW,
    });
    await detection.rebuilt;
    await detection.stop();
    assert.equal(read.size, EVENTS.length, 'every event of the span read');
    const widest = Math.max(...sorted);
    assert.ok(widest <= 5_000, `a page's range held ${widest} of ${EVENTS.length} rows`);
  });
});
