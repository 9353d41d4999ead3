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
