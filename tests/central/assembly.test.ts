/**
 * The parts of central's assembly that are contracts of their own: the teardown stops what was
 * built in reverse order, exactly once however often stop() is called, and a failing part does
 * not keep the rest (the store last of all) from stopping; the ingest step hands each committed
 * batch to the subscriber, enrichment and detection, in that order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createIngest } from '../../central/ingest.ts';
import { createLogger } from '../../central/log.ts';
import { createTeardown } from '../../central/teardown.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { makeEvent } from './store/fixtures.ts';

describe('central teardown', () => {
  it('stops in reverse order of building, once, past a failing part', async () => {
    const logger = createLogger('silent');
    const failures: string[] = [];
    logger.error = ((obj: { part?: string }) => {
      failures.push(String(obj.part));
    }) as typeof logger.error;
    const teardown = createTeardown(logger);
    const stopped: string[] = [];
    teardown.add('store', () => stopped.push('store'));
    teardown.add('sinks', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      stopped.push('sinks');
    });
    teardown.add('detection', () => {
      throw new Error('stuck');
    });
    teardown.add('link', () => stopped.push('link'));
    assert.deepEqual(teardown.order(), ['link', 'detection', 'sinks', 'store']);
    await Promise.all([teardown.run(), teardown.run()]);
    await teardown.run();
    assert.deepEqual(stopped, ['link', 'sinks', 'store']);
    assert.deepEqual(failures, ['detection']);
    assert.throws(() => teardown.add('late', () => undefined), /after central stopped/);
  });
});

describe('central ingest', () => {
  it('hands each committed batch to the subscriber, enrichment and detection, in order', () => {
    const seen: Array<[string, Event[]]> = [];
    const step = (name: string) => ({ onStored: (events: Event[]) => void seen.push([name, events]) });
    const ingest = createIngest({
      subscriber: step('subscriber').onStored,
      enrichment: step('enrichment'),
      detection: step('detection'),
    });
    assert.deepEqual(ingest.steps, ['subscriber', 'enrichment', 'detection']);
    const batch = [makeEvent('gw-a', 1, '2026-03-01T10:00:00.000Z')];
    ingest.afterCommit(batch);
    assert.deepEqual(
      seen.map(([name]) => name),
      ['subscriber', 'enrichment', 'detection'],
    );
    for (const [, events] of seen) assert.equal(events, batch);
    assert.deepEqual(createIngest({ enrichment: step('e'), detection: step('d') }).steps, [
      'enrichment',
      'detection',
    ]);
  });
});
