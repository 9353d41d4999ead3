/**
 * Where an observation's number lives: on the event itself, where no copy or encoding sees it.
 * Detection gives every event it sees an observation id once; an alert names its evidence by it
 * until the event is durable. A copy of an event is another observation (a stage's deviation made
 * from the event it deviates from is another event) unless the pipeline carries a stage's copy;
 * the number never reaches the event's JSON, keys or equality; a frozen event is numbered too; two
 * pipelines (replay beside a running gateway) number the same event each their own way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import { createEvidence } from '../../../gateway/pipeline/evidence.ts';

const event = (i: number): PendingEvent =>
  ({
    ts: '2026-03-01T10:00:00.000Z',
    received: '2026-03-01T10:00:00.000Z',
    source: 'syslog',
    kind: 'security',
    action: 'syslog.message',
    severity: 4,
    message: `line ${i}`,
    device: { id: 'plc-1' },
    fields: { n: i },
    tags: [],
  }) as PendingEvent;

describe('observation numbers', () => {
  it('numbers an event once; a copy is another observation unless carried', () => {
    const evidence = createEvidence({ prefix: 'obs-n-' });
    const e = event(1);
    const id = evidence.idFor(e);
    assert.equal(evidence.idFor(e), id);
    const copies = [{ ...e }, Object.assign({}, e), structuredClone(e), JSON.parse(JSON.stringify(e))];
    const copyIds = copies.map((c) => evidence.idFor(c as PendingEvent));
    assert.equal(new Set([id, ...copyIds]).size, 5, 'each copy is its own observation');
    const carried = { ...e, tags: ['normalised'] };
    evidence.carry(e, carried);
    assert.equal(evidence.idFor(carried), id);
    assert.equal(evidence.observation(carried), evidence.observation(e));
    // Carried onto an event already numbered: it takes the number it is carried.
    evidence.carry(copies[0] as PendingEvent, carried);
    assert.equal(evidence.idFor(carried), copyIds[0]);
    assert.equal(evidence.observation(event(2)), 0, 'never seen');
  });

  it('leaves the event as it was to every reader: JSON, keys, equality', () => {
    const evidence = createEvidence();
    const e = event(3);
    const json = JSON.stringify(e);
    evidence.idFor(e);
    assert.equal(JSON.stringify(e), json);
    assert.deepEqual(Object.keys(e), Object.keys(event(3)));
    assert.deepStrictEqual(e, event(3));
    assert.deepStrictEqual({ ...e }, event(3));
  });

  it('numbers a frozen event, and resolves it once queued', () => {
    const evidence = createEvidence({ prefix: 'obs-f-' });
    const e = Object.freeze(event(4));
    const id = evidence.idFor(e);
    assert.equal(evidence.idFor(e), id);
    assert.ok(evidence.observation(e) > 0);
    evidence.queued(e, 'gw:4');
    assert.deepEqual(evidence.resolve([id]).ids, ['gw:4']);
  });

  it('keeps two pipelines’ numbers apart', () => {
    const a = createEvidence({ prefix: 'obs-a-' });
    const b = createEvidence({ prefix: 'obs-b-' });
    a.idFor(event(5));
    a.idFor(event(6));
    const e = event(7);
    assert.equal(a.idFor(e), 'obs-a-3');
    assert.equal(b.idFor(e), 'obs-b-1');
    a.queued(e, 'gw:a');
    b.queued(e, 'gw:b');
    assert.deepEqual(a.resolve(['obs-a-3']).ids, ['gw:a']);
    assert.deepEqual(b.resolve(['obs-b-1']).ids, ['gw:b']);
  });
});
