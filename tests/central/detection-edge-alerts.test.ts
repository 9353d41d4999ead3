/**
 * Central raises the alerts gateways send (central/detection.ts through protocols/event/alert.ts):
 * an `alert.raised` becomes an alert with its rule, device and event ids, the `alert.updated` adds
 * the rest of the group's hits; an alert event whose fields are of the wrong type (event ids that
 * are not strings, a count that is not a number) is refused and logged, never raised by cast.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { Alerts } from '../../central/alerts/index.ts';
import type { AlertInput } from '../../central/alerts/types.ts';
import { createCentralDetection } from '../../central/detection.ts';
import { encodeAlertEvent } from '../../protocols/event/alert.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { storedEvent } from '../support/stored-event.ts';
import type { SigmaAlert } from '../../protocols/sigma/index.ts';

const ALERT: SigmaAlert = {
  id: 'a-1',
  kind: 'new',
  rule: { id: 'rule-1', title: 'Unknown Modbus master', type: 'detection' },
  level: 'high',
  severity: 3,
  techniques: ['T0855'],
  tactics: [],
  entity: { key: 'plc-1', device: 'modbus:plc-1' },
  event_ids: ['gw-1:10'],
  count: 1,
  first_ms: Date.parse('2026-01-02T03:00:00Z'),
  last_ms: Date.parse('2026-01-02T03:00:00Z'),
};

let seq = 0;
function stored(pending: object): Event {
  seq += 1;
  return storedEvent(pending, { seq });
}

async function run(events: Event[]): Promise<{ raised: AlertInput[]; warnings: string[] }> {
  const raised: AlertInput[] = [];
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
  const detection = createCentralDetection({
    rulesDirs: [],
    alertWindowMs: 300_000,
    alerts: () => ({ raise: async (input: AlertInput) => void raised.push(input) }) as unknown as Alerts,
    logger,
  });
  detection.onStored(events);
  await detection.stop();
  return { raised, warnings };
}

describe('edge alerts on central', () => {
  it('raises a gateway alert and its update with the rest of the group', async () => {
    const raisedEvent = stored(encodeAlertEvent(ALERT, new Date()));
    const update = stored(
      encodeAlertEvent({ ...ALERT, kind: 'update', count: 4, event_ids: ['gw-1:10', 'gw-1:11'] }, new Date()),
    );
    const { raised, warnings } = await run([raisedEvent, update]);
    assert.deepEqual(warnings, []);
    assert.equal(raised.length, 2);
    assert.equal(raised[0]!.rule.id, 'rule-1');
    assert.deepEqual(raised[0]!.entity, { device_id: 'modbus:plc-1', gateway: 'gw-1' });
    assert.deepEqual(raised[0]!.event_ids, ['gw-1:10']);
    assert.equal(raised[0]!.count, 1);
    assert.equal(raised[1]!.count, 3);
    assert.deepEqual(raised[1]!.event_ids, ['gw-1:10', 'gw-1:11']);
  });

  it('refuses an alert event whose fields are of the wrong type, and says so', async () => {
    const good = encodeAlertEvent(ALERT, new Date());
    const { raised, warnings } = await run([
      stored({ ...good, fields: { ...good.fields, event_ids: [{ $ne: null }, 42] } }),
      stored({ ...good, action: 'alert.updated', fields: { ...good.fields, count: '1000000' } }),
    ]);
    assert.deepEqual(raised, []);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /edge alert refused: fields\.event_ids/);
    assert.match(warnings[1]!, /edge alert refused: fields\.count/);
  });
});

describe('central detection after a failure', () => {
  const alertOf = (id: string) =>
    stored(encodeAlertEvent({ ...ALERT, id, rule: { ...ALERT.rule, id: `rule-${id}` } }, new Date()));

  it('logs an alert the alert queue cannot take and goes on with the next batches', async () => {
    const raised: AlertInput[] = [];
    const errors: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => errors.push(JSON.parse(line).err) });
    let calls = 0;
    const detection = createCentralDetection({
      rulesDirs: [],
      alertWindowMs: 300_000,
      // The first alert finds the alert queue unavailable (it throws, not rejects); the rest do not.
      alerts: () => {
        calls += 1;
        if (calls === 1) throw new Error('alert queue not ready');
        return { raise: async (input: AlertInput) => void raised.push(input) } as unknown as Alerts;
      },
      logger,
    });
    detection.onStored([alertOf('1')]);
    detection.onStored([alertOf('2')]);
    assert.equal(await detection.consume([alertOf('3')]), 1);
    await detection.stop();
    assert.deepEqual(
      raised.map((a) => a.rule.id),
      ['rule-2', 'rule-3'],
    );
    // Nothing is left counted as waiting (central/ingest.ts stops storing past its bound).
    assert.equal(detection.backlog(), 0);
    assert.deepEqual(errors, ['alert queue not ready']);
  });

  it('runs the tasks after one that threw', async () => {
    const raised: AlertInput[] = [];
    const detection = createCentralDetection({
      rulesDirs: [],
      alertWindowMs: 300_000,
      alerts: () => ({ raise: async (input: AlertInput) => void raised.push(input) }) as unknown as Alerts,
      logger: pino({ level: 'silent' }),
    });
    // A malformed event makes the replay throw: that call rejects...
    await assert.rejects(detection.replay([null as unknown as Event]));
    // ...and the batches after it are still handled.
    detection.onStored([alertOf('4')]);
    assert.equal(await detection.consume([alertOf('5')]), 1);
    await detection.stop();
    assert.deepEqual(
      raised.map((a) => a.rule.id),
      ['rule-4', 'rule-5'],
    );
    assert.equal(detection.backlog(), 0);
  });
});
