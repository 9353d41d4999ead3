/**
 * The queue's source state (gateway/queue/SPEC.md §10), which the file source keeps its offsets
 * in: written in the same atomic batch as the events of its append, read back after a reopen,
 * deleted with null, and an append of state alone (no events) still written.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { LevelQueue } from '../../../../gateway/queue/leveldb-queue.ts';
import type { PendingEvent } from '../../../../protocols/event/schema.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const open = (dir: string) =>
  LevelQueue.open({ dir, gateway: 'gw-state', maxRecordEvents: 100, flushIntervalMs: 2, sync: true });

function line(message: string): PendingEvent {
  const now = new Date().toISOString();
  return {
    ts: now,
    received: now,
    source: 'file',
    kind: 'telemetry',
    action: 'file.line',
    severity: 6,
    message,
    fields: {},
    tags: [],
  };
}

describe('queue source state', () => {
  it('keeps state written with events, state alone and deletions across a reopen', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'siem-qstate-'));
    dirs.push(dir);
    let queue = await open(dir);
    await queue.append([line('a'), line('b')], { state: { 'file/src/1:2': '{"offset":4}' } });
    await queue.append([], { state: { 'file/src/1:3': '{"offset":9}', 'other/x': 'y' } });
    // Two appends gathered into one write: the later one's value wins.
    await Promise.all([
      queue.append([line('c')], { state: { 'file/src/1:2': '{"offset":6}' } }),
      queue.append([line('d')], { state: { 'file/src/1:2': '{"offset":8}', 'file/src/1:3': null } }),
    ]);
    await queue.close();
    queue = await open(dir);
    assert.deepEqual([...(await queue.readState('file/src/'))], [['file/src/1:2', '{"offset":8}']]);
    assert.deepEqual([...(await queue.readState('other/'))], [['other/x', 'y']]);
    assert.equal(queue.depth.events, 4);
    assert.equal(queue.nextSeq, 5);
    await queue.close();
  });
});
