/**
 * A day of known history for the report tests (2026-03-01, UTC): alerts of two sites with known
 * severities, techniques and counts (and one the day before, which no report of the day may
 * count), events from known talkers, two link outages of gw-north whose events were buffered and
 * drained (stored 30 and 10 minutes late; the first with the eviction reported during it), a disk-cap eviction and a queue-full refusal reported
 * by the gateways, a clock-skew event central raised, and devices first seen that day and before.
 * EXPECTED holds the figures a correct report states.
 */
import type { EventStore } from '../../../central/store/types.ts';
import { makeEvent } from '../store/fixtures.ts';

export const DAY = '2026-03-01';
export const T0 = Date.parse(`${DAY}T00:00:00.000Z`);
const at = (hhmm: string, secs = 0) =>
  new Date(Date.parse(`${DAY}T${hhmm}:00.000Z`) + secs * 1000).toISOString();

export const SITES = [
  { name: 'north', title: 'North plant', gateways: ['gw-north'] },
  { name: 'south', gateways: ['gw-south'] },
];

export const EXPECTED = {
  fleet: {
    alerts: 5,
    alert_hits: 21,
    events: 30,
    new_devices: 2,
    outages: 2,
    outage_secs: 2400,
    buffered_events: 12,
    evicted_events: 42,
    incidents: { 'Attack on plc-1': 3, Scan: 1 },
    by_severity: { critical: [2, 7], error: [1, 12], warning: [1, 1], notice: [1, 1] },
    by_technique: { T0855: 3, T0836: 1, T0866: 1, T0846: 1 },
    by_device: { 'plc-1': 2, broker: 1, 'mqtt:scan-1': 1, 'hmi-1': 1 },
    talkers: { '10.0.0.5': [12, 2, 0], '10.0.0.66': [10, 1, 1], '10.1.0.7': [3, 1, 0] },
  },
  north: { alerts: 3, events: 26, new_devices: 1, incidents: ['Attack on plc-1'] },
  south: { alerts: 2, events: 4, new_devices: 1, incidents: ['Scan'] },
};

interface AlertSeed {
  rule: string;
  severity: number;
  techniques: string[];
  entity: string;
  gateway: string | null;
  site: string | null;
  count: number;
  first: string;
  events: string[];
}

export async function seedReportDay(store: EventStore): Promise<void> {
  const sql = store.sql;
  await sql.query(
    `INSERT INTO gateways (id, public_key, status, last_seen_at) VALUES
       ('gw-north', 'k1', 'active', $1::timestamptz), ('gw-south', 'k2', 'active', $1::timestamptz),
       ('gw-old', 'k3', 'revoked', NULL)`,
    [at('23:00')],
  );
  const events = [];
  // gw-north: ten events from the attacker to the PLC, four from an engineering station.
  for (let i = 0; i < 10; i++)
    events.push(
      makeEvent('gw-north', i + 1, at(`10:${String(i).padStart(2, '0')}`), {
        source: 'modbus',
        kind: 'security',
        action: 'modbus.write_single_register',
        src: { ip: '10.0.0.66', port: 40000 + i },
        dst: { ip: '10.0.0.10', port: 502 },
        device: { id: 'plc-1' },
      }),
    );
  for (let i = 0; i < 4; i++)
    events.push(
      makeEvent('gw-north', 11 + i, at(`11:0${i}`), {
        src: { ip: '10.0.0.5' },
        dst: { ip: i % 2 ? '10.0.0.10' : '10.0.0.11' },
        device: { id: 'plc-1' },
      }),
    );
  // Outage 1: received 14:00–14:07, drained at 14:30:00–14:30:07. Outage 2: 18:00–18:02, stored 18:10.
  for (let i = 0; i < 8; i++)
    events.push(
      makeEvent('gw-north', 20 + i, at(`14:0${i}`), { src: { ip: '10.0.0.5' }, device: { id: 'plc-1' } }),
    );
  for (let i = 0; i < 3; i++)
    events.push(makeEvent('gw-north', 30 + i, at(`18:0${i}`), { device: { id: 'plc-2' } }));
  events.push(
    makeEvent('gw-north', 40, at('14:05'), {
      source: 'gateway',
      kind: 'health',
      action: 'gateway.queue_eviction',
      severity: 4,
      fields: {
        evicted: {
          telemetry: { events: 40, records: 1, bytes: 9 },
          security: { events: 2, records: 1, bytes: 9 },
        },
      },
    }),
  );
  for (let i = 0; i < 3; i++)
    events.push(
      makeEvent('gw-south', i + 1, at(`12:0${i}`), { src: { ip: '10.1.0.7' }, dst: { ip: '10.1.0.1' } }),
    );
  events.push(
    makeEvent('gw-south', 9, at('12:30'), {
      source: 'gateway',
      kind: 'health',
      action: 'gateway.queue_full',
      severity: 2,
      fields: { refused: 7 },
    }),
  );
  // Central's own event about gw-south's clock (not counted as traffic), and one of the day before.
  events.push(
    makeEvent('central', 1, at('09:00'), {
      source: 'central',
      kind: 'health',
      action: 'central.clock_skew',
      fields: { gateway_id: 'gw-south', clock_offset_ms: 120_000 },
    }),
  );
  events.push(makeEvent('gw-north', 99, new Date(T0 - 60_000).toISOString(), { src: { ip: '10.0.0.66' } }));
  await store.insertEvents(events);
  // Stored a second after receipt, except the buffered ones.
  await sql.query(`UPDATE events SET stored_at = received + interval '1 second'`);
  await sql.query(
    `UPDATE events SET stored_at = $1::timestamptz + make_interval(secs => seq - 20)
      WHERE gateway = 'gw-north' AND seq BETWEEN 20 AND 27`,
    [at('14:30')],
  );
  // The eviction reported during outage 1 waited for the link too (central stored nothing then).
  await sql.query(`UPDATE events SET stored_at = $1::timestamptz WHERE gateway = 'gw-north' AND seq = 40`, [
    at('14:30'),
  ]);
  await sql.query(
    `UPDATE events SET stored_at = $1::timestamptz WHERE gateway = 'gw-north' AND seq BETWEEN 30 AND 32`,
    [at('18:10')],
  );

  const alerts: AlertSeed[] = [
    {
      rule: 'modbus-write',
      severity: 2,
      techniques: ['T0855', 'T0836'],
      entity: 'plc-1',
      gateway: 'gw-north',
      site: null,
      count: 5,
      first: at('10:00'),
      events: ['gw-north:1'],
    },
    {
      rule: 'mqtt-brute',
      severity: 3,
      techniques: ['T0866'],
      entity: 'broker',
      gateway: 'gw-north',
      site: null,
      count: 12,
      first: at('11:00'),
      events: [],
    },
    {
      rule: 'new-device',
      severity: 5,
      techniques: ['T0846'],
      entity: 'mqtt:scan-1',
      gateway: 'gw-south',
      site: null,
      count: 1,
      first: at('12:00'),
      events: [],
    },
    {
      rule: 'modbus-write',
      severity: 2,
      techniques: ['T0855'],
      entity: 'plc-1',
      gateway: 'gw-north',
      site: null,
      count: 2,
      first: at('20:00'),
      events: [],
    },
    {
      rule: 'hmi-login',
      severity: 4,
      techniques: ['T0855'],
      entity: 'hmi-1',
      gateway: null,
      site: 'south',
      count: 1,
      first: at('13:00'),
      events: [],
    },
    {
      rule: 'modbus-write',
      severity: 1,
      techniques: ['T0855'],
      entity: 'plc-9',
      gateway: 'gw-north',
      site: null,
      count: 3,
      first: new Date(T0 - 60_000).toISOString(),
      events: [],
    },
  ];
  for (const a of alerts)
    await sql.query(
      `INSERT INTO alerts (rule_id, rule_title, severity, techniques, entity_type, entity, gateway, site, event_ids, count, first_seen, last_seen)
       VALUES ($1, $2, $3, $4::text[], 'device', $5, $6, $7, $8::text[], $9, $10::timestamptz, $10::timestamptz + interval '5 minutes')`,
      [
        a.rule,
        `Rule ${a.rule}`,
        a.severity,
        a.techniques,
        a.entity,
        a.gateway,
        a.site,
        a.events,
        a.count,
        a.first,
      ],
    );
  // Incidents: the attacker of the PLC and the broker (north, three children), a scan (south), and
  // one opened the day before (counted by no report of the day).
  for (const [attacker, title, first, entities] of [
    ['10.0.0.66', 'Attack on plc-1', at('10:00'), ['plc-1', 'broker']],
    ['10.1.0.7', 'Scan', at('12:00'), ['mqtt:scan-1']],
    ['10.0.0.99', 'Old', new Date(T0 - 60_000).toISOString(), ['plc-9']],
  ] as const) {
    const { rows } = await sql.query<{ id: number }>(
      `INSERT INTO incidents (attacker_kind, attacker, title, severity, alert_count, first_seen, last_seen)
       VALUES ('address', $1, $2, 2, 0, $3::timestamptz, $3::timestamptz) RETURNING id::int AS id`,
      [attacker, title, first],
    );
    await sql.query(
      `INSERT INTO incident_alerts (alert_id, incident_id) SELECT id, $1 FROM alerts WHERE entity = ANY($2::text[])`,
      [rows[0]!.id, entities],
    );
    await sql.query(
      `UPDATE incidents SET alert_count = (SELECT count(*) FROM incident_alerts WHERE incident_id = $1) WHERE id = $1`,
      [rows[0]!.id],
    );
  }
  await sql.query(
    `INSERT INTO devices (device_id, first_seen, last_seen, gateways, protocols, name) VALUES
       ('plc-1', '2026-02-01T00:00:00Z', $1::timestamptz, '{gw-north}', '{modbus}', 'Tank PLC'),
       ('mqtt:scan-1', $2::timestamptz, $2::timestamptz, '{gw-south}', '{mqtt}', NULL),
       ('rogue-hmi', $3::timestamptz, $3::timestamptz, '{gw-north}', '{modbus}', '=cmd|calc')`,
    [at('20:00'), at('12:00'), at('15:00')],
  );
}
