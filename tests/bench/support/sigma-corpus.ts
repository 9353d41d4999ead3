/**
 * A realistic detection workload for the Sigma benchmark (issue 6): 200 single-event rules and
 * 20 correlation rules written as Sigma YAML over our `Event` fields (protocols/event/SPEC.md),
 * in the shapes an OT site writes them — Modbus writes outside allowed ranges and from unknown
 * masters, diagnostics and program transfer, MQTT wildcard and `$SYS` subscriptions and denied
 * publishes, CoAP discovery, sshd/sudo/firewall syslog, keyword and regex matches, CIDR filters —
 * and a mixed stream of events: loghub's Linux log made into Events as the gateway makes them,
 * interleaved with Modbus, MQTT and CoAP events.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Event } from '../../../protocols/event/schema.ts';
import { parseSyslog, syslogToEvent } from '../../../protocols/syslog/index.ts';
import { SHARED_DATA } from '../../support/env.ts';

const WRITES = [
  'modbus.write_single_register',
  'modbus.write_multiple_registers',
  'modbus.write_single_coil',
];

/** Rule `i` of 200 (YAML), in one of ten shapes; each shape varies by `i`. */
function rule(i: number): string {
  const head = (title: string, product: string) => [
    `title: ${title} ${i}`,
    `id: bench-rule-${i}`,
    `name: bench_rule_${i}`,
    'status: test',
    `logsource: { product: ${product} }`,
  ];
  const tail = (level: string, technique: string) => [`level: ${level}`, `tags: [attack.${technique}]`];
  const net = `10.${i % 4}.${(i * 3) % 250}.0/24`;
  switch (i % 10) {
    case 0:
      return [
        ...head('Modbus write outside the allowed range', 'modbus'),
        'detection:',
        `  selection: { action: [${WRITES.join(', ')}], fields.address|gte: ${1000 + i * 10} }`,
        `  allowed: { src.ip|cidr: ${net} }`,
        '  condition: selection and not allowed',
        ...tail('high', 't0836'),
      ].join('\n');
    case 1:
      return [
        ...head('Modbus write from an unknown master', 'modbus'),
        'detection:',
        `  selection: { action|startswith: modbus.write_, fields.unit_id: ${i % 16} }`,
        `  masters: { src.ip: [10.0.0.${i % 250}, 10.0.1.${i % 250}] }`,
        '  condition: selection and not masters',
        ...tail('medium', 't0855'),
      ].join('\n');
    case 2:
      return [
        ...head('Modbus diagnostics or program transfer', 'modbus'),
        'detection:',
        `  selection: { fields.function_code: [8, 43, 90, ${100 + (i % 10)}] }`,
        '  condition: selection',
        ...tail('high', 't0843'),
      ].join('\n');
    case 3:
      return [
        ...head('MQTT subscription to everything', 'mqtt'),
        'detection:',
        `  selection: { action: mqtt.subscribe, fields.topic_filter|contains: ['#', '$SYS'] }`,
        `  known: { fields.client_id|startswith: historian-${i % 7} }`,
        '  condition: selection and not known',
        ...tail('medium', 't0888'),
      ].join('\n');
    case 4:
      return [
        ...head('MQTT publish denied or retained write', 'mqtt'),
        'detection:',
        `  denied: { action: mqtt.publish_denied, fields.topic|startswith: plant/line${i % 5}/ }`,
        `  retained: { action: mqtt.retained_write, fields.topic|endswith: /setpoint${i % 9} }`,
        '  condition: 1 of denied or retained',
        ...tail('high', 't0836'),
      ].join('\n');
    case 5:
      return [
        ...head('CoAP discovery from outside the cell', 'coap'),
        'detection:',
        `  selection: { action: [coap.discovery, coap.unknown_source], fields.path|contains: well-known }`,
        `  cell: { src.ip|cidr: ${net} }`,
        '  condition: selection and not cell',
        ...tail('low', 't0846'),
      ].join('\n');
    case 6:
      return [
        ...head('SSH login failure for a privileged account', 'syslog'),
        'detection:',
        `  selection: { action: [syslog.sshd.auth_failure, syslog.sshd.invalid_user], message|contains: [root, admin, plc${i % 11}] }`,
        '  condition: selection',
        ...tail('low', 't0812'),
      ].join('\n');
    case 7:
      return [
        ...head('Suspicious command in a log line', 'syslog'),
        'detection:',
        `  keywords: ['wget http', 'curl -o', 'nc -e', 'chmod 777', 'base64 -d', 'tmp/x${i}']`,
        '  condition: keywords',
        ...tail('high', 't0807'),
      ].join('\n');
    case 8:
      return [
        ...head('Firewall drop towards an OT port', 'syslog'),
        'detection:',
        `  selection: { action: syslog.firewall.drop, dst.port: [502, 102, 20000, 44818, ${1000 + i}] }`,
        `  scanner: { src.ip|cidr: 10.99.${i % 250}.0/24 }`,
        '  condition: selection and not scanner',
        ...tail('medium', 't0846'),
      ].join('\n');
    default:
      return [
        ...head('Critical message from a controller', 'syslog'),
        'detection:',
        `  selection: { severity|lte: 2, host|re: '^(plc|rtu|hmi)-${i % 10}[0-9]*$' }`,
        '  condition: selection',
        ...tail('high', 't0879'),
      ].join('\n');
  }
}

/** Correlation `k` of 20 over the single-event rules (event_count, value_count, temporal). */
function correlation(k: number): string {
  const a = k * 10 + (k % 10);
  const b = k * 10 + ((k + 1) % 10);
  const type = ['event_count', 'value_count', 'temporal'][k % 3]!;
  const condition =
    type === 'event_count'
      ? '  condition: { gte: 5 }'
      : type === 'value_count'
        ? '  condition: { gte: 3, field: src.ip }'
        : '';
  return [
    `title: Bench correlation ${k}`,
    `id: bench-corr-${k}`,
    'status: test',
    'correlation:',
    `  type: ${type}`,
    `  rules: [bench_rule_${a}${type === 'temporal' ? `, bench_rule_${b}` : ''}]`,
    `  group-by: [${type === 'value_count' ? 'host' : 'src.ip'}]`,
    '  timespan: 5m',
    ...(condition ? [condition] : []),
    'level: high',
  ].join('\n');
}

/** The 200 rules and 20 correlations as one multi-document Sigma YAML text. */
export function benchRulesYaml(): string {
  return [
    ...Array.from({ length: 200 }, (_, i) => rule(i)),
    ...Array.from({ length: 20 }, (_, k) => correlation(k)),
  ].join('\n---\n');
}

/** One Modbus, MQTT or CoAP event, the way the sensors describe them. */
function sensorEvent(n: number, base: Omit<Event, 'source' | 'kind' | 'action' | 'fields'>): Event {
  const ip = `10.${n % 4}.${n % 250}.${(n * 7) % 250}`;
  switch (n % 6) {
    case 0:
    case 1:
      return {
        ...base,
        source: 'modbus',
        kind: 'security',
        action: n % 2 ? 'modbus.read_holding_registers' : WRITES[n % 3]!,
        src: { ip, port: 40000 + (n % 1000) },
        dst: { ip: '10.0.0.10', port: 502 },
        fields: {
          direction: 'request',
          function_code: n % 2 ? 3 : 6,
          unit_id: n % 16,
          address: (n * 37) % 4000,
          quantity: 1,
        },
      };
    case 2:
      return {
        ...base,
        source: 'modbus',
        kind: 'security',
        action: 'modbus.diagnostics',
        src: { ip },
        fields: { direction: 'request', function_code: n % 20 === 2 ? 8 : 3, unit_id: 1 },
      };
    case 3:
      return {
        ...base,
        source: 'mqtt',
        kind: 'security',
        action: 'mqtt.subscribe',
        src: { ip },
        fields: {
          client_id: `sensor-${n % 50}`,
          topic_filter: n % 9 === 0 ? '#' : `plant/line${n % 5}/+/temperature`,
        },
      };
    case 4:
      return {
        ...base,
        source: 'mqtt',
        kind: 'telemetry',
        action: n % 11 === 0 ? 'mqtt.publish_denied' : 'mqtt.telemetry',
        src: { ip },
        fields: { client_id: `sensor-${n % 50}`, topic: `plant/line${n % 5}/s${n % 50}/setpoint${n % 9}` },
      };
    default:
      return {
        ...base,
        source: 'coap',
        kind: 'security',
        action: n % 4 === 0 ? 'coap.discovery' : 'coap.request',
        src: { ip, port: 5683 },
        fields: { path: n % 4 === 0 ? '/.well-known/core' : '/sensors/temp', method: 'GET' },
      };
  }
}

/** loghub's Linux_2k.log as gateway Events, interleaved one to one with sensor events. */
export function mixedEvents(): Event[] {
  const now = new Date('2024-06-01T00:00:00Z');
  const lines = readFileSync(path.join(SHARED_DATA, 'syslog', 'loghub', 'Linux_2k.log'), 'utf8').split('\n');
  const out: Event[] = [];
  const next = () => {
    const seq = out.length + 1;
    return {
      v: 1 as const,
      id: `gw:${seq}`,
      gateway: 'gw',
      seq,
      ts: now.toISOString(),
      received: now.toISOString(),
      severity: 6,
      message: '',
      host: `plc-${seq % 30}`,
      tags: [],
    };
  };
  for (const line of lines) {
    const r = parseSyslog(line, { now });
    if (!r.ok) continue;
    const base = next();
    out.push({ ...base, ...syslogToEvent(r.message, { received: now, transport: 'file' }) } as Event);
    out.push(sensorEvent(out.length, next()));
  }
  return out;
}
