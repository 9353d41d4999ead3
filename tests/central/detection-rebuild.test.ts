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
import type { AlertInput } from '../../central/alerts/types.ts';
import { encodeAlertEvent } from '../../protocols/event/alert.ts';
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

  it('keeps only what a rule matches while it reads, and the windows are as a full replay leaves them', async () => {
    const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();
    const noise = Array.from({ length: 20_000 }, (_, i) =>
      storedEvent(
        {
          ts: at(i * 25),
          received: at(i * 25),
          source: 'syslog',
          kind: 'telemetry',
          action: 'syslog.message',
          severity: 6,
          message: `line ${i}`,
          host: 'sw-1',
        },
        { seq: 100_000 + i },
      ),
    );
    // One failed SSH login from 203.0.113.9 seen by gw-1 five minutes ago: a window of the
    // cross-gateway brute-force correlation (rules/central) that a restart must not forget.
    const failure = {
      source: 'syslog',
      kind: 'security',
      action: 'syslog.sshd.auth_failure',
      severity: 5,
      message: 'Failed password for root',
      src: { ip: '203.0.113.9' },
    };
    const before = storedEvent(
      { ts: at(300_000), received: at(300_000), ...failure },
      { gateway: 'gw-1', seq: 7 },
    );
    // An edge alert raised before the restart: a re-sent batch must not raise it again.
    const edge = storedEvent(
      encodeAlertEvent(
        {
          id: 'a-1',
          kind: 'new',
          rule: { id: 'r-1', title: 'Unknown Modbus master', type: 'detection' },
          level: 'high',
          severity: 3,
          techniques: [],
          tactics: [],
          entity: { key: 'plc-1', device: 'modbus:plc-1' },
          event_ids: ['gw-1:10'],
          count: 1,
          first_ms: NOW - 60_000,
          last_ms: NOW - 60_000,
        },
        new Date(NOW - 60_000),
      ),
      { gateway: 'gw-1', seq: 8 },
    );
    const stored = [...noise, before, edge].sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts));
    const store = {
      async queryEvents(q: EventQuery) {
        const range = stored.filter(
          (e) => Date.parse(e.ts) >= q.from!.getTime() && Date.parse(e.ts) < q.to!.getTime(),
        );
        const start = q.cursor ? Number(q.cursor) : 0;
        return {
          events: range.slice(start, start + q.limit),
          nextCursor: start + q.limit < range.length ? String(start + q.limit) : null,
        };
      },
    };
    const raised: AlertInput[] = [];
    const logs: Array<{ msg: string; events?: number; kept?: number }> = [];
    const detection = createCentralDetection({
      rulesDirs: [path.join(REPO_ROOT, 'rules', 'central')],
      alertWindowMs: 0,
      alerts: () => ({ raise: async (input: AlertInput) => void raised.push(input) }) as unknown as Alerts,
      logger: pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) }),
      store,
      now: () => NOW,
    });
    await detection.rebuilt;
    const line = logs.find((l) => l.msg === 'correlation windows rebuilt from storage');
    assert.ok(line, JSON.stringify(logs));
    assert.equal(line.events, stored.length, 'every event of the span read');
    assert.equal(line.kept, 1, 'only the SSH failure held');
    assert.equal(raised.length, 0, 'nothing raised by the rebuild');
    // The same address fails on gw-2: the window reopened from storage completes the correlation.
    const now = new Date(NOW).toISOString();
    assert.equal(
      await detection.consume([
        storedEvent({ ts: now, received: now, ...failure }, { gateway: 'gw-2', seq: 9 }),
      ]),
      1,
    );
    assert.match(raised[0]!.rule.title, /brute-forcing SSH across several sites/);
    // The edge alert of before the restart, re-sent: already seen.
    assert.equal(await detection.consume([edge]), 0);
    await detection.stop();
  });
});
