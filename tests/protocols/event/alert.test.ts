/**
 * protocols/event/alert.ts, the edge alert as an `Event`: what the gateway encodes from an engine
 * alert is a valid `Event` that central decodes back to the same rule, count, entity and event
 * ids; an event that only looks like an alert (wrong action or source, no rule, a count or event
 * ids of the wrong type) is refused with a reason instead of being read by cast.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAlertEvent, encodeAlertEvent } from '../../../protocols/event/alert.ts';
import { EVENT_SCHEMA_VERSION, type Event, parseEvent } from '../../../protocols/event/schema.ts';
import type { SigmaAlert } from '../../../protocols/sigma/index.ts';

const ALERT: SigmaAlert = {
  id: 'a-1',
  kind: 'update',
  rule: { id: 'rule-1', title: 'Modbus write from an unknown master', type: 'detection' },
  level: 'high',
  severity: 3,
  techniques: ['T0855'],
  tactics: ['impair-process-control'],
  entity: { key: 'plc-1', device: 'modbus:plc-1' },
  event_ids: ['gw-1:10', 'gw-1:11', 'gw-1:12'],
  count: 3,
  first_ms: Date.parse('2026-01-02T03:00:00Z'),
  last_ms: Date.parse('2026-01-02T03:04:00Z'),
};

function stored(pending: object): Event {
  const parsed = parseEvent({ v: EVENT_SCHEMA_VERSION, gateway: 'gw-1', seq: 20, id: 'gw-1:20', ...pending });
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return parsed.event;
}

describe('edge alert event', () => {
  it('round-trips: encoded on the gateway, decoded on central', () => {
    const event = stored(encodeAlertEvent(ALERT, new Date('2026-01-02T03:04:05Z')));
    assert.equal(event.action, 'alert.updated');
    assert.equal(event.ts, '2026-01-02T03:04:00.000Z');
    assert.equal(event.message, 'Modbus write from an unknown master (3 times)');
    const decoded = decodeAlertEvent(event);
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.error);
    assert.equal(decoded.alert.action, 'alert.updated');
    assert.deepEqual(decoded.alert.threat, {
      rule_id: 'rule-1',
      rule_name: 'Modbus write from an unknown master',
      techniques: ['T0855'],
    });
    assert.equal(decoded.alert.fields.count, 3);
    assert.equal(decoded.alert.fields.alert_id, 'a-1');
    assert.equal(decoded.alert.fields.entity, 'plc-1');
    assert.deepEqual(decoded.alert.fields.event_ids, ['gw-1:10', 'gw-1:11', 'gw-1:12']);
    assert.equal(decoded.alert.fields.level, 'high');
    assert.deepEqual(event.device, { id: 'modbus:plc-1' });
  });

  it('reads a missing count as one hit and missing event ids as none', () => {
    const event = stored({
      ...encodeAlertEvent({ ...ALERT, kind: 'new', count: 1 }, new Date()),
      fields: {},
    });
    const decoded = decodeAlertEvent(event);
    assert.ok(decoded.ok);
    assert.equal(decoded.alert.action, 'alert.raised');
    assert.equal(decoded.alert.fields.count, 1);
    assert.deepEqual(decoded.alert.fields.event_ids, []);
  });

  it('refuses what only looks like an edge alert, saying why', () => {
    const good = encodeAlertEvent(ALERT, new Date());
    const cases: Array<[string, object, RegExp]> = [
      ['event ids that are not strings', { fields: { ...good.fields, event_ids: [{ id: 1 }] } }, /event_ids/],
      ['a count that is not a number', { fields: { ...good.fields, count: '3' } }, /count/],
      ['a count of zero', { fields: { ...good.fields, count: 0 } }, /count/],
      ['an entity that is not a string', { fields: { ...good.fields, entity: ['x'] } }, /entity/],
      ['another action', { action: 'alert.deleted' }, /action/],
      ['no rule', { threat: undefined }, /threat/],
      ['another source', { source: 'mqtt' }, /source/],
    ];
    for (const [what, change, reason] of cases) {
      const decoded = decodeAlertEvent(stored({ ...good, ...change }));
      assert.equal(decoded.ok, false, what);
      assert.match(decoded.ok ? '' : decoded.error, reason, what);
    }
  });
});
