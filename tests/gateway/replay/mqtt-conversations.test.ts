/**
 * MQTT conversations in a built capture (packets written by mqtt-packet, the encoder of mqtt.js and
 * aedes), through the decoder `replay` and the live capture source share: a brute force with
 * rotating client ids crosses the per-address rate while the device keeps connecting; a second
 * connection with a connected client's id is a takeover [MQTT-3.1.4-2] and the first one's end
 * says so; a packet larger than the limit is reported and skipped without losing the next one; a
 * hole in the capture resynchronises silently on the next packet boundary.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqttPacket from 'mqtt-packet';
import { createCaptureDecoder } from '../../../gateway/sources/capture/decoder.ts';
import { type PendingEvent, parseEvent } from '../../../protocols/event/schema.ts';
import { LINKTYPE } from '../../../protocols/pcap/index.ts';
import { ipv4, TCP, tcp } from '../../protocols/pcap/builders.ts';

const BROKER = '10.0.0.1';

function capture(options: Parameters<typeof createCaptureDecoder>[0] = {}) {
  const decoder = createCaptureDecoder(options);
  const events: PendingEvent[] = [];
  let frame = 0;
  let ms = Date.UTC(2024, 0, 1);
  const seqs = new Map<string, number>();
  const packet = (
    src: string,
    sport: number,
    dst: string,
    dport: number,
    flags: number,
    data: Uint8Array,
  ) => {
    const key = `${src}:${sport}>${dst}:${dport}`;
    const seq = seqs.get(key) ?? 1000;
    seqs.set(key, (seq + data.length + (flags & (TCP.SYN | TCP.FIN) ? 1 : 0)) >>> 0);
    ms += 5;
    frame++;
    const bytes = ipv4(src, dst, 6, tcp(sport, dport, seq, flags, data));
    events.push(...decoder.packet(LINKTYPE.RAW, bytes, { frame, ts: new Date(ms) }));
    return frame;
  };
  /** One TCP connection from `ip:port` to the broker on 1883. */
  const conn = (ip: string, port: number) => {
    packet(ip, port, BROKER, 1883, TCP.SYN, new Uint8Array(0));
    packet(BROKER, 1883, ip, port, TCP.SYN | TCP.ACK, new Uint8Array(0));
    return {
      up: (p: mqttPacket.Packet) => packet(ip, port, BROKER, 1883, TCP.ACK | TCP.PSH, mqttPacket.generate(p)),
      down: (p: mqttPacket.Packet) =>
        packet(BROKER, 1883, ip, port, TCP.ACK | TCP.PSH, mqttPacket.generate(p)),
      raw: (b: Uint8Array) => packet(ip, port, BROKER, 1883, TCP.ACK | TCP.PSH, b),
      skip: (n: number) =>
        seqs.set(`${ip}:${port}>${BROKER}:1883`, (seqs.get(`${ip}:${port}>${BROKER}:1883`)! + n) >>> 0),
      fin: () => packet(ip, port, BROKER, 1883, TCP.FIN | TCP.ACK, new Uint8Array(0)),
    };
  };
  const of = (action: string) => events.filter((e) => e.action === action);
  return { decoder, events, conn, of, finish: () => events.push(...decoder.flush()) };
}

const connect = (clientId: string, username?: string, password?: string): mqttPacket.IConnectPacket => ({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: 4,
  clean: true,
  keepalive: 30,
  clientId,
  ...(username ? { username } : {}),
  ...(password ? { password: Buffer.from(password) } : {}),
});
const connack = (returnCode: number): mqttPacket.IConnackPacket => ({
  cmd: 'connack',
  returnCode,
  sessionPresent: false,
});

test('a brute force rotating client ids crosses the per-address rate; the device is still seen', () => {
  const c = capture({ mqttRates: { maxAuthFailures: 5, maxConnects: 1000 } });
  for (let i = 0; i < 40; i++) {
    const s = c.conn('10.0.0.66', 20_000 + i);
    s.up(connect(`bot-${i}`, 'admin', `guess-${i}`));
    s.down(connack(4));
    s.fin();
  }
  const dev = c.conn('10.0.0.7', 30_000);
  dev.up(connect('sensor-1', 'sensor-1', 'right'));
  dev.down(connack(0));
  c.finish();
  for (const e of c.events) assert.ok(parseEvent({ v: 1, id: 'g:1', gateway: 'g', seq: 1, ...e }).ok);
  assert.equal(c.of('mqtt.auth_failure').length, 40);
  const rates = c.of('mqtt.rate_exceeded');
  // The address and the user name cross once each; every client id is new, so none crosses.
  assert.deepEqual(
    rates.map((e) => [e.fields.counter, e.fields.key_type, e.fields.key, e.fields.count]),
    [
      ['auth_failures', 'src_ip', '10.0.0.66', 6],
      ['auth_failures', 'username', 'admin', 6],
    ],
  );
  assert.equal(rates[0]!.fields.distinct_client_ids, 6);
  const ok = c.of('mqtt.connect');
  assert.deepEqual(
    ok.map((e) => [e.fields.client_id, e.fields.username, e.fields.auth_method, e.fields.protocol_version]),
    [['sensor-1', 'sensor-1', 'password', '3.1.1']],
  );
});

test('client-id takeover, then the first connection ends as taken over', () => {
  const c = capture();
  const a = c.conn('10.0.0.7', 30_001);
  a.up(connect('plc-gw'));
  a.down(connack(0));
  const b = c.conn('10.0.0.99', 30_002);
  b.up(connect('plc-gw'));
  const frame = b.down(connack(0));
  a.fin();
  c.finish();
  const takeover = c.of('mqtt.client_takeover');
  assert.deepEqual(
    takeover.map((e) => [
      e.fields.frame,
      e.src?.ip,
      e.fields.previous_src_ip,
      e.fields.same_source_ip,
      e.tags,
    ]),
    [[frame, '10.0.0.99', '10.0.0.7', false, ['takeover']]],
  );
  assert.deepEqual(
    c.of('mqtt.disconnect').map((e) => [e.src?.port, e.fields.reason]),
    [[30_001, 'taken_over']],
  );
});

test('an oversized packet is reported and skipped; the next publish is decoded', () => {
  const c = capture({ maxMqttPacketBytes: 1024 });
  const s = c.conn('10.0.0.7', 30_003);
  s.up(connect('cam-1'));
  s.down(connack(0));
  const publish = (payload: Buffer): mqttPacket.IPublishPacket => ({
    cmd: 'publish',
    topic: 'plant/cam',
    payload,
    qos: 0,
    retain: false,
    dup: false,
  });
  const big = mqttPacket.generate(publish(Buffer.alloc(5000, 1)));
  s.raw(big.subarray(0, 1400));
  s.raw(big.subarray(1400, 2800));
  s.raw(big.subarray(2800));
  const next = s.up(publish(Buffer.from('{"t":21.5}')));
  c.finish();
  assert.deepEqual(
    c.of('mqtt.oversized_packet').map((e) => [e.fields.packet_type, e.fields.declared_bytes]),
    [['publish', big.length]],
  );
  const pubs = c.of('mqtt.publish');
  assert.deepEqual(
    pubs.map((e) => [e.fields.frame, e.fields.topic, e.fields.values]),
    [[next, 'plant/cam', { t: 21.5 }]],
  );
  assert.equal(c.of('mqtt.malformed_packet').length, 0);
});

test('after a hole in the capture, decoding resumes at the next packet without false alarms', () => {
  const c = capture();
  const s = c.conn('10.0.0.7', 30_004);
  s.up(connect('meter-1'));
  s.down(connack(0));
  const pub = (topic: string): mqttPacket.IPublishPacket => ({
    cmd: 'publish',
    topic,
    payload: Buffer.from('42'),
    qos: 0,
    retain: false,
    dup: false,
  });
  const lost = mqttPacket.generate(pub('plant/lost'));
  s.skip(7); // the capture missed the first 7 bytes of a publish...
  s.raw(lost.subarray(7)); // ...and sees its tail, which starts mid-packet
  const after = s.up(pub('plant/after'));
  c.finish();
  assert.deepEqual(
    c.of('mqtt.publish').map((e) => [e.fields.frame, e.fields.topic]),
    [[after, 'plant/after']],
  );
  assert.equal(c.of('mqtt.malformed_packet').length, 0);
  assert.ok(c.decoder.stats.malformed.mqtt === 0);
});

test('a subscription to # and $SYS/# is flagged; a refused one is subscribe_denied', () => {
  const c = capture();
  const s = c.conn('10.0.0.7', 30_005);
  s.up(connect('scada'));
  s.down(connack(0));
  const sub = s.up({
    cmd: 'subscribe',
    messageId: 7,
    subscriptions: [
      { topic: '#', qos: 0 },
      { topic: '$SYS/#', qos: 1 },
    ],
  });
  s.down({ cmd: 'suback', messageId: 7, granted: [0, 128] });
  c.finish();
  assert.deepEqual(
    c.events
      .filter((e) => e.action.startsWith('mqtt.subscribe'))
      .map((e) => [e.action, e.fields.topic_filter, e.fields.subscribe_frame, e.tags]),
    [
      ['mqtt.subscribe', '#', sub, ['wildcard_all', 'wildcard']],
      ['mqtt.subscribe_denied', '$SYS/#', sub, ['wildcard', 'sys_topic']],
    ],
  );
});
