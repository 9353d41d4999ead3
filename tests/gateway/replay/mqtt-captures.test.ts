/**
 * Real MQTT captures through `replay` (the path the live capture source shares): Suricata's
 * verification captures (MQTT 3.1, 3.1.1 and 5.0, malformed, truncated, mid-stream), Zeek's MQTT
 * 3.1 session and nDPI's captures. Each event is checked against tshark's reading of the frame it
 * names (expected-tshark/*.mqtt.csv): CONNECT client id, user name and protocol version, the
 * CONNACK return/reason code, SUBSCRIBE topic filters, PUBLISH topic, QoS, retain, DUP and packet
 * id; and every CONNECT, SUBSCRIBE and PUBLISH tshark saw must have its event. Zeek's logs and
 * Suricata's CONNACK 134 check the conversation level (accepted, refused, who published).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { replayFiles } from '../../../gateway/replay/index.ts';
import { type Event, parseEvent } from '../../../protocols/event/schema.ts';
import { SHARED_DATA, sharedData } from '../../support/env.ts';
import { readTsharkCsv, readZeekLog } from '../../protocols/syslog/traces.ts';

async function replay(file: string, mqttPorts?: number[]): Promise<Event[]> {
  const events: Event[] = [];
  await replayFiles([file], {
    write: (line) => events.push(JSON.parse(line) as Event),
    ...(mqttPorts ? { mqttPorts } : {}),
  });
  return events.filter((e) => e.source === 'mqtt');
}

const VERSIONS: Record<string, string> = { '3': '3.1', '4': '3.1.1', '5': '5.0' };
const CONNECT_OUTCOMES = new Set(['mqtt.connect', 'mqtt.auth_failure', 'mqtt.connect_refused']);

/** Mismatches between tshark's rows and the events, as readable lines (empty when all agree). */
function compare(rows: Array<Record<string, string>>, events: Event[]): string[] {
  const problems: string[] = [];
  const at = (key: string, frame: number) => events.filter((e) => e.fields[key] === frame);
  const publishFrames = new Map<number, number>();
  for (const row of rows) {
    const frame = Number(row['frame.number']);
    const types = row['mqtt.msgtype']!.split(';');
    const single = types.length === 1;
    const where = `frame ${frame}`;
    const eq = (e: Event, field: string, column: string, map: (v: string) => unknown = (v) => v) => {
      const theirs = row[column];
      if (!single || theirs === undefined || theirs === '') return;
      if (String(e.fields[field]) !== String(map(theirs)))
        problems.push(`${where} ${e.action} ${field}: got ${String(e.fields[field])}, tshark ${theirs}`);
    };
    const malformed = at('frame', frame).filter((e) => e.action === 'mqtt.malformed_packet');
    if (types.includes('1')) {
      const outcome = [
        ...at('connect_frame', frame).filter((e) => CONNECT_OUTCOMES.has(e.action)),
        ...at('frame', frame).filter((e) => e.action === 'mqtt.connect_unanswered'),
      ];
      if (outcome.length === 0 && malformed.length === 0) problems.push(`${where}: CONNECT without an event`);
      for (const e of outcome) {
        eq(e, 'client_id', 'mqtt.clientid');
        eq(e, 'username', 'mqtt.username');
        eq(e, 'protocol_version', 'mqtt.ver', (v) => VERSIONS[v]);
        // Refusals carry no session fields (as the broker's).
        if (e.action === 'mqtt.connect' || e.action === 'mqtt.connect_unanswered')
          eq(e, 'clean_session', 'mqtt.conflag.cleansess', (v) => v === '1');
      }
    }
    if (types.includes('2')) {
      for (const e of at('frame', frame).filter((x) => CONNECT_OUTCOMES.has(x.action))) {
        const code = row['mqtt.conack.val'] || row['mqtt.connack.reason_code'];
        if (single && String(e.fields.return_code ?? 0) !== code)
          problems.push(`${where} ${e.action}: return code ${String(e.fields.return_code)}, tshark ${code}`);
      }
    }
    if (types.includes('8')) {
      const subs = at('subscribe_frame', frame);
      if (subs.length === 0 && malformed.length === 0) problems.push(`${where}: SUBSCRIBE without an event`);
      if (single && row['mqtt.topic'] && subs.length > 0) {
        const mine = subs.map((e) => e.fields.topic_filter).join(';');
        if (mine !== row['mqtt.topic'])
          problems.push(`${where}: filters ${mine}, tshark ${row['mqtt.topic']}`);
      }
    }
    const publishes = types.filter((t) => t === '3').length;
    if (publishes > 0) {
      publishFrames.set(frame, publishes);
      const mine = at('frame', frame).filter((e) => e.action === 'mqtt.publish');
      const refused = malformed.filter((e) => e.fields.packet_type === 'publish').length;
      if (mine.length + refused !== publishes)
        problems.push(`${where}: ${mine.length} publish events (+${refused} refused), tshark ${publishes}`);
      if (single && mine.length === 1) {
        const e = mine[0]!;
        eq(e, 'topic', 'mqtt.topic');
        eq(e, 'qos', 'mqtt.qos');
        eq(e, 'retain', 'mqtt.retain', (v) => v === '1');
        eq(e, 'dup', 'mqtt.dupflag', (v) => v === '1');
        eq(e, 'message_id', 'mqtt.msgid');
      }
    }
  }
  for (const e of events)
    if (e.action === 'mqtt.publish' && !publishFrames.has(e.fields.frame as number))
      problems.push(`frame ${String(e.fields.frame)}: mqtt.publish, tshark saw no PUBLISH`);
  return problems;
}

const SV = path.join(SHARED_DATA, 'suricata-verify');
const CAPTURES: Array<{ pcap: string; csv: string; ports?: number[] }> = [
  { pcap: 'mqtt/zeek/mqtt.pcap', csv: 'mqtt/zeek/expected-tshark/mqtt.mqtt.csv' },
  { pcap: 'ndpi/mqtt.pcap', csv: 'ndpi/expected-tshark/mqtt.mqtt.csv' },
  // MQTT on 17501: tshark was told (decode as); we are told too, since these connections were
  // captured after their CONNECT (one that was not is found by detection, see below).
  { pcap: 'ndpi/coap_mqtt.pcap', csv: 'ndpi/expected-tshark/coap_mqtt.mqtt.csv', ports: [17501] },
];
if (existsSync(SV)) {
  for (const dir of readdirSync(SV).filter((d) => d.startsWith('mqtt'))) {
    const tsharkDir = path.join(SV, dir, 'expected-tshark');
    if (!existsSync(tsharkDir)) continue;
    for (const csv of readdirSync(tsharkDir).filter((f) => f.endsWith('.mqtt.csv')))
      CAPTURES.push({
        pcap: `suricata-verify/${dir}/${csv.replace(/\.mqtt\.csv$/, '.pcap')}`,
        csv: `suricata-verify/${dir}/expected-tshark/${csv}`,
      });
  }
}

describe('MQTT captures through replay agree with tshark frame by frame', () => {
  test('the suricata-verify captures are there', (t) => {
    if (!sharedData(t, 'suricata-verify', 'mqtt311-pub-qos1', 'input.pcap')) return;
    assert.ok(CAPTURES.length >= 35, `${CAPTURES.length} captures`);
  });
  for (const c of CAPTURES) {
    test(c.pcap, async (t) => {
      const pcap = sharedData(t, ...c.pcap.split('/'));
      const csv = sharedData(t, ...c.csv.split('/'));
      if (!pcap || !csv) return;
      const events = await replay(pcap, c.ports);
      for (const e of events) assert.ok(parseEvent(e).ok, JSON.stringify(e));
      assert.deepEqual(compare(readTsharkCsv(csv), events), []);
    });
  }
});

test('Zeek MQTT 3.1 session: the connects, subscription and publishes of its logs', async (t) => {
  const pcap = sharedData(t, 'mqtt', 'zeek', 'mqtt.pcap');
  if (!pcap) return;
  const logs = path.join(path.dirname(pcap), 'expected', 'mqtt');
  const events = await replay(pcap);
  const connects = readZeekLog(path.join(logs, 'mqtt_connect.log'));
  assert.deepEqual(
    events
      .filter((e) => CONNECT_OUTCOMES.has(e.action))
      .map((e) => [e.src?.ip, e.src?.port, e.fields.client_id, e.fields.protocol_version, e.action])
      .sort(),
    connects
      .map((r) => [
        r['id.orig_h'],
        Number(r['id.orig_p']),
        r.client_id,
        r.proto_version,
        r.connect_status === 'Connection Accepted' ? 'mqtt.connect' : 'refused',
      ])
      .sort(),
  );
  const subs = readZeekLog(path.join(logs, 'mqtt_subscribe.log'));
  assert.deepEqual(
    events
      .filter((e) => e.action === 'mqtt.subscribe')
      .map((e) => [e.src?.port, e.fields.topic_filter, e.fields.qos, e.fields.granted_qos]),
    subs.map((r) => [Number(r['id.orig_p']), r.topics, Number(r.qos_levels), Number(r.granted_qos_level)]),
  );
  const pubs = readZeekLog(path.join(logs, 'mqtt_publish.log'));
  assert.deepEqual(
    events
      .filter((e) => e.action === 'mqtt.publish')
      .map((e) => [
        e.src?.port,
        e.fields.direction === 'to_broker',
        e.fields.retain,
        e.fields.topic,
        e.fields.payload_text,
        e.fields.payload_bytes,
      ])
      .sort(),
    pubs
      .map((r) => [
        Number(r['id.orig_p']),
        r.from_client === 'T',
        r.retain === 'T',
        r.topic,
        r.payload,
        Number(r.payload_len),
      ])
      .sort(),
  );
});

test('Suricata mqtt-connect-rules-2: CONNACK 134 is an MQTT 5 authentication failure', async (t) => {
  const pcap = sharedData(t, 'suricata-verify', 'mqtt-connect-rules-2', 'mqtt5_pub_jpeg_connack134.pcap');
  if (!pcap) return;
  const events = await replay(pcap);
  const refused = events.filter((e) => e.action === 'mqtt.auth_failure');
  assert.equal(refused.length, 1);
  assert.deepEqual(
    [
      refused[0]!.fields.return_code,
      refused[0]!.fields.return_code_name,
      refused[0]!.fields.protocol_version,
    ],
    [134, 'bad_username_or_password', '5.0'],
  );
  assert.equal(events.filter((e) => e.action === 'mqtt.connect').length, 0);
});

test('malformed packets in real traffic are counted events, and the good packets around them stay', async (t) => {
  const cases: Array<[string, string]> = [
    ['mqtt-events-invalid-qos', 'invalid_qos'],
    ['mqtt-events-unassigned-msgtype', 'reserved_type'],
    ['mqtt5-excessiveproplen', 'invalid_property'],
  ];
  for (const [dir, code] of cases) {
    const pcap = sharedData(t, 'suricata-verify', dir, 'input.pcap');
    if (!pcap) return;
    const events = await replay(pcap);
    const bad = events.filter((e) => e.action === 'mqtt.malformed_packet');
    assert.deepEqual(
      bad.map((e) => [e.fields.code, e.tags]),
      [[code, ['malformed']]],
      dir,
    );
    assert.ok(
      events.some((e) => e.action === 'mqtt.connect'),
      `${dir}: the connect before the bad packet`,
    );
  }
});

test('MQTT on a port nobody configured is found by its CONNECT (nDPI, port 17501)', async (t) => {
  const pcap = sharedData(t, 'ndpi', 'coap_mqtt.pcap');
  if (!pcap) return;
  const events = await replay(pcap);
  const connect = events.find((e) => e.action === 'mqtt.connect');
  assert.equal(connect?.dst?.port, 17501);
  assert.ok(events.filter((e) => e.action === 'mqtt.publish').length > 0);
});
