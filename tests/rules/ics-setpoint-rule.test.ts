/**
 * The set-point range rule of rules/ics/modbus-setpoint.yml: it fires on the poller's
 * `modbus.value_out_of_range` (a set-point written beyond its engineering range) with ATT&CK for
 * ICS T0836, and stays silent on a set-point change inside the range, a return into the range and
 * ordinary polls, the events the poller emits for a tank run normally.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import { loadDetection } from '../../gateway/detection/index.ts';
import { EVENT_SCHEMA_VERSION, type Event } from '../../protocols/event/schema.ts';
import { REPO_ROOT } from '../support/env.ts';

const TITLE = 'Modbus point outside its configured range (set-point tampering or process upset)';

let seq = 0;
function poller(at: number, kind: Event['kind'], action: string, fields: Record<string, unknown>): Event {
  seq += 1;
  const ts = new Date(at).toISOString();
  return {
    v: EVENT_SCHEMA_VERSION,
    id: `gw:${seq}`,
    gateway: 'gw',
    seq,
    ts,
    received: ts,
    time_source: 'gateway',
    source: 'modbus',
    kind,
    action,
    severity: 4,
    message: action,
    device: { id: 'modbus:10.0.10.5/1', name: 'tank-plc' },
    dst: { ip: '10.0.10.5', port: 502 },
    fields: { poller: 'tank', unit_id: 1, transport: 'tcp', ...fields },
    tags: [],
  };
}

function engine() {
  const loaded = loadDetection({ rulesDirs: [path.join(REPO_ROOT, 'rules', 'ics')] });
  assert.deepEqual(loaded.errors, []);
  return loaded.engine;
}

it('fires when a set-point is read outside its range, naming T0836 and the PLC', () => {
  const e = engine();
  const at = Date.parse('2026-11-21T14:00:00Z');
  const where = { point: 'level_high_sp', table: 'holding', address: 0, unit: '%' };
  const alerts = [
    ...e.process(
      poller(at, 'security', 'modbus.setpoint_change', { ...where, previous: 90, value: 99.5 }),
      at,
    ),
    ...e.process(
      poller(at, 'security', 'modbus.value_out_of_range', {
        ...where,
        value: 99.5,
        limit: 'max',
        min: 50,
        max: 95,
      }),
      at,
    ),
  ].filter((a) => a.rule.title === TITLE);
  assert.equal(alerts.length, 1);
  assert.deepEqual(alerts[0]!.techniques, ['T0836']);
  assert.equal(alerts[0]!.level, 'high');
  assert.equal(alerts[0]!.entity.device, 'modbus:10.0.10.5/1');
});

it('stays silent on in-range changes, a return into range and ordinary polls', () => {
  const e = engine();
  const at = Date.parse('2026-11-21T15:00:00Z');
  const where = { point: 'pump_on_level', table: 'holding', address: 2, unit: '%' };
  const alerts = [
    ...e.process(poller(at, 'telemetry', 'modbus.poll', { readings: { level: 50, pump_on_level: 30 } }), at),
    ...e.process(
      poller(at + 1, 'security', 'modbus.setpoint_change', { ...where, previous: 30, value: 35 }),
      at + 1,
    ),
    ...e.process(
      poller(at + 2, 'security', 'modbus.value_in_range', { ...where, value: 35, min: 10, max: 60 }),
      at + 2,
    ),
  ];
  assert.deepEqual(
    alerts.map((a) => a.rule.title),
    [],
  );
});
