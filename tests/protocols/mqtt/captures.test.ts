/**
 * Real MQTT traffic through our decoder: Suricata's verification captures (MQTT 3.1, 3.1.1 and
 * 5.0, malformed and truncated traffic), Zeek's MQTT 3.1 session and nDPI's captures. Each packet
 * is compared with tshark's reading of the same frames (type, version, client id, user name,
 * clean session, return/reason code, topic, QoS, retain, DUP, packet id, remaining length), and
 * every `event_type: mqtt` check of suricata-verify's test.yaml must match as many packets as
 * Suricata counted. The malformed captures must give the typed error for the bad packet.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { MQTT_PACKET_TYPES, type MqttPacket } from '../../../protocols/mqtt/index.ts';
import { SHARED_DATA, sharedData } from '../../support/env.ts';
import { readTsharkCsv, readZeekLog } from '../syslog/traces.ts';
import { mqttDirections, suricataTransactions } from './captures.ts';

const SV = path.join(SHARED_DATA, 'suricata-verify');
const TYPES: readonly string[] = MQTT_PACKET_TYPES;
const dirs = existsSync(SV) ? readdirSync(SV).filter((d) => d.startsWith('mqtt')) : [];

/** The capture a suricata-verify test reads: its own .pcap, or the one test.yaml points to. */
function pcapOf(dir: string): string | undefined {
  const own = readdirSync(path.join(SV, dir)).find((f) => f.endsWith('.pcap'));
  if (own) return path.join(SV, dir, own);
  const yaml = parseYaml(readFileSync(path.join(SV, dir, 'test.yaml'), 'utf8')) as { pcap?: string };
  return yaml.pcap ? path.join(SV, dir, yaml.pcap) : undefined;
}

function compareWithTshark(pcap: string, csv: string) {
  const rows = readTsharkCsv(csv);
  const directions = mqttDirections(pcap);
  let compared = 0;
  for (const dir of directions) {
    const mine = dir.items;
    const theirs = rows.filter(
      (r) => Number(r['tcp.srcport']) === dir.srcPort && Number(r['tcp.dstport']) === dir.dstPort,
    );
    // tshark dissects MQTT on its registered ports only; a direction it did not read is not compared.
    if (theirs.length === 0) continue;
    const types = theirs.flatMap((r) => r['mqtt.msgtype']!.split(';'));
    const lengths = theirs.flatMap((r) => r['mqtt.len']!.split(';'));
    assert.equal(
      mine.length,
      types.length,
      `${dir.srcPort}→${dir.dstPort}: packet count (tshark types ${types.join(',')})`,
    );
    let i = 0;
    for (const row of theirs) {
      const count = row['mqtt.msgtype']!.split(';').length;
      for (let k = 0; k < count; k++, i++) {
        const item = mine[i]!;
        const where = `${path.basename(pcap)} frame ${row['frame.number']} packet ${k}`;
        if (row['mqtt.qos'] === '3') {
          assert.ok(
            !item.result.ok && item.result.error.code === 'invalid_qos',
            `${where}: QoS 3 is an error`,
          );
          continue;
        }
        if (!item.result.ok) {
          // tshark shows what it could of a packet we refuse; the type read from the first byte must agree.
          const typeNumber = TYPES.indexOf(item.result.error.type ?? 'reserved');
          assert.equal(String(typeNumber), types[i], `${where}: type of a refused packet`);
          continue;
        }
        const p = item.result.packet;
        const typeNumber = TYPES.indexOf(p.type);
        assert.equal(String(typeNumber), types[i], `${where}: type`);
        assert.equal(String(p.remainingLength), lengths[i], `${where}: remaining length`);
        compared++;
        if (count > 1) continue;
        checkFields(p, row, where);
      }
    }
  }
  assert.ok(compared > 0, 'compared at least one packet');
  return compared;
}

function checkFields(p: MqttPacket, row: Record<string, string>, where: string) {
  const eq = (field: string, value: unknown) => {
    if (row[field] !== '' && row[field] !== undefined)
      assert.equal(String(value), row[field], `${where}: ${field}`);
  };
  if (p.type === 'connect') {
    eq('mqtt.ver', p.protocolLevel);
    eq('mqtt.proto_len', p.protocolName.length);
    eq('mqtt.clientid', p.clientId);
    eq('mqtt.username', p.username);
    eq('mqtt.conflag.cleansess', Number(p.flags.cleanSession));
  }
  if (p.type === 'connack') {
    eq('mqtt.conack.val', p.returnCode);
    eq('mqtt.connack.reason_code', p.returnCode);
  }
  if (p.type === 'publish') {
    eq('mqtt.topic', p.topic);
    eq('mqtt.qos', p.qos);
    eq('mqtt.retain', Number(p.retain));
    eq('mqtt.dupflag', Number(p.dup));
  }
  if (p.type === 'subscribe') eq('mqtt.topic', p.subscriptions.map((s) => s.topic).join(';'));
  if ('messageId' in p) eq('mqtt.msgid', p.messageId);
}

describe('suricata-verify MQTT captures against tshark', () => {
  for (const dir of dirs) {
    const tsharkDir = path.join(SV, dir, 'expected-tshark');
    if (!existsSync(tsharkDir)) continue;
    for (const csv of readdirSync(tsharkDir).filter((f) => f.endsWith('.mqtt.csv'))) {
      test(`${dir}/${csv}`, () => {
        const pcap = path.join(SV, dir, csv.replace(/\.mqtt\.csv$/, '.pcap'));
        compareWithTshark(pcap, path.join(tsharkDir, csv));
      });
    }
  }
});

/** A value from test.yaml against ours: objects and arrays compare deeply, scalars as strings. */
function matches(mine: unknown, expected: unknown): boolean {
  if (Array.isArray(expected))
    return (
      Array.isArray(mine) && mine.length === expected.length && expected.every((e, i) => matches(mine[i], e))
    );
  if (expected !== null && typeof expected === 'object') {
    return (
      mine !== null &&
      typeof mine === 'object' &&
      Object.entries(expected).every(([k, e]) => matches((mine as Record<string, unknown>)[k], e))
    );
  }
  return String(mine) === String(expected);
}

/** Suricata-only accounting (its stream and log limits) that a decoder has no equivalent for. */
const SURICATA_ONLY = /\.(truncated|skipped_length)$|^mqtt\.enabled$/;
const SURICATA_TRUNCATED = (v: unknown) => JSON.stringify(v).includes('[truncated ');

/**
 * Where we read the bytes differently from Suricata, on purpose. These captures end with the
 * DISCONNECT `e0 01 04`: a one-byte body is the reason code (MQTT 5.0 §3.14.2.1), 0x04 "Disconnect
 * with Will Message", as tshark also reads it (length 1); Suricata logs 0.
 */
const DISCONNECT_WITH_WILL = new Set([
  'mqtt-sub-rules',
  'mqtt-unsub-rules',
  'mqtt5-sub-userpass',
  'mqtt5-unsub-qos1',
  'mqtt5-unsub-qos2',
  'mqtt5-unsub-userpass',
]);

describe('suricata-verify MQTT test.yaml expectations', () => {
  for (const dir of dirs) {
    test(dir, (t) => {
      const pcap = pcapOf(dir);
      if (!pcap || !existsSync(pcap)) return t.skip('no capture');
      type Check = { filter: { count: number; match: Record<string, unknown> } };
      const yaml = parseYaml(readFileSync(path.join(SV, dir, 'test.yaml'), 'utf8')) as { checks?: Check[] };
      const records = suricataTransactions(mqttDirections(pcap));
      let checked = 0;
      for (const check of yaml.checks ?? []) {
        const m = check.filter?.match;
        if (!m || m.event_type !== 'mqtt') continue;
        const wanted = Object.entries(m)
          .filter(([k]) => k !== 'event_type' && k !== 'has-key')
          .map(([k, e]): [string, unknown] =>
            k === 'mqtt.disconnect.reason_code' && DISCONNECT_WITH_WILL.has(dir) ? [k, 4] : [k, e],
          );
        if (wanted.some(([k, e]) => SURICATA_ONLY.test(k) || SURICATA_TRUNCATED(e))) continue;
        const hasKey = typeof m['has-key'] === 'string' ? m['has-key'].slice('mqtt.'.length) : undefined;
        const count = records.filter(
          (view) =>
            (hasKey === undefined || Object.keys(view).some((k) => k.startsWith(`${hasKey}.`))) &&
            wanted.every(([k, e]) => matches(view[k.slice('mqtt.'.length)], e)),
        ).length;
        assert.equal(count, check.filter.count, `${dir}: ${JSON.stringify(m)}`);
        checked++;
      }
      if (checked === 0) t.diagnostic('no comparable mqtt checks');
    });
  }
});

describe('malformed traffic gives typed errors', () => {
  const cases = [
    { dir: 'mqtt-events-invalid-qos', code: 'invalid_qos' },
    { dir: 'mqtt-events-unassigned-msgtype', code: 'reserved_type' },
    { dir: 'mqtt5-excessiveproplen', code: 'invalid_property' },
  ];
  for (const c of cases) {
    test(`${c.dir} → ${c.code}`, (t) => {
      const pcap = sharedData(t, 'suricata-verify', c.dir, 'input.pcap');
      if (!pcap) return;
      const errors = mqttDirections(pcap).flatMap((d) =>
        d.items.flatMap((i) => (i.result.ok ? [] : [i.result.error.code])),
      );
      assert.deepEqual(errors, [c.code]);
    });
  }
});

test('Zeek MQTT 3.1 session: connects, subscribe and publishes as in Zeek logs', (t) => {
  const pcap = sharedData(t, 'mqtt', 'zeek', 'mqtt.pcap');
  const csv = sharedData(t, 'mqtt', 'zeek', 'expected-tshark', 'mqtt.mqtt.csv');
  if (!pcap || !csv) return;
  compareWithTshark(pcap, csv);
  const packets = mqttDirections(pcap).flatMap((d) =>
    d.items.flatMap((i) => (i.result.ok ? [{ d, p: i.result.packet }] : [])),
  );
  const connects = readZeekLog(path.join(path.dirname(pcap), 'expected', 'mqtt', 'mqtt_connect.log'));
  const mine = packets.filter((x) => x.p.type === 'connect');
  assert.deepEqual(
    mine.map(({ d, p }) => [d.src, d.srcPort, p.type === 'connect' ? [p.protocolName, p.clientId] : []]),
    connects.map((r) => [r['id.orig_h'], Number(r['id.orig_p']), [r.proto_name, r.client_id]]),
  );
  const publishes = readZeekLog(path.join(path.dirname(pcap), 'expected', 'mqtt', 'mqtt_publish.log'));
  const minePub = packets.flatMap(({ p }) =>
    p.type === 'publish' ? [[p.topic, Buffer.from(p.payload).toString(), p.retain]] : [],
  );
  assert.deepEqual([...minePub].sort(), publishes.map((r) => [r.topic, r.payload, r.retain === 'T']).sort());
  const subscribes = readZeekLog(path.join(path.dirname(pcap), 'expected', 'mqtt', 'mqtt_subscribe.log'));
  const mineSub = packets.flatMap(({ p }) =>
    p.type === 'subscribe' ? p.subscriptions.map((s) => [s.topic, String(s.qos)]) : [],
  );
  assert.deepEqual(
    mineSub,
    subscribes.map((r) => [r.topics, r.qos_levels]),
  );
});

for (const name of ['mqtt.pcap', 'coap_mqtt.pcap']) {
  test(`nDPI ${name}: MQTT packets against tshark`, (t) => {
    const pcap = sharedData(t, 'ndpi', name);
    const csv = sharedData(t, 'ndpi', 'expected-tshark', name.replace('.pcap', '.mqtt.csv'));
    if (!pcap || !csv) return;
    compareWithTshark(pcap, csv);
  });
}
