/**
 * The embedded broker with its sensor, driven by mqtt.js and by raw sockets: authentication
 * (none by default, scrypt passwords), ACLs, client-id takeover, oversized and malformed packets,
 * keepalive timeout, retained writes, wills, telemetry parsing and aggregation, and the PUBACK of
 * a telemetry publish held back until its event is durable.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { mqttBrokerSourceSchema } from '../../../../gateway/sources/mqtt-broker/config.ts';
import { createMqttBrokerSource } from '../../../../gateway/sources/mqtt-broker/index.ts';
import { hashPassword } from '../../../../gateway/sources/mqtt-broker/password.ts';
import type { Source } from '../../../../gateway/pipeline/types.ts';
import { waitFor } from '../../../support/env.ts';
import { portOf, type RecordingContext, recordingContext } from '../support.ts';

const FAST = { N: 1024, r: 8, p: 1 };
let ctx: RecordingContext;
let source: Source;
let port: number;
const clients: MqttClient[] = [];

function connect(opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = mqtt.connect({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: 3000, ...opts });
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

function rawConnect(clientId: string, keepalive = 60, username = 'sensor-1', password = 'pw1'): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s);
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, 0xc2, keepalive >> 8, keepalive & 0xff]),
    str(clientId),
    str(username),
    str(password),
  ]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

function rawSocket(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
    s.resume(); // read what the broker sends, so its close is seen
  });
}

before(async () => {
  ctx = recordingContext();
  const config = mqttBrokerSourceSchema.parse({
    type: 'mqtt_broker',
    listen: '127.0.0.1:0',
    max_packet_bytes: 4096,
    users: [
      {
        username: 'sensor-1',
        password_hash: await hashPassword('pw1', FAST),
        publish: ['plant/%c/#', 'plant/shared/+'],
        subscribe: ['plant/cmd/%u'],
      },
      {
        username: 'admin',
        password_hash: await hashPassword('adminpw', FAST),
        publish: ['#'],
        subscribe: ['#', '$SYS/#'],
      },
    ],
    telemetry: [
      { match: 'plant/+/temp', mode: 'every' },
      { match: 'plant/+/vib', mode: 'aggregate', interval_secs: 1 },
    ],
    rates: { max_auth_failures: 1000, max_connects: 1000 },
  });
  source = createMqttBrokerSource('mqtt_in', config, ctx);
  await source.start();
  port = portOf(source);
});

after(async () => {
  for (const c of clients) c.end(true);
  await source.stop();
});

describe('authentication', () => {
  it('refuses a CONNECT without credentials (no anonymous unless configured)', async () => {
    await assert.rejects(connect({ clientId: 'anon-1' }), /Not authorized/);
    const e = await ctx.waitEvent((x) => x.action === 'mqtt.auth_failure' && x.fields.client_id === 'anon-1');
    assert.equal(e.fields.return_code, 5);
    assert.equal(e.fields.reason, 'no_credentials');
    assert.equal(e.kind, 'security');
    assert.equal(e.src?.ip, '127.0.0.1');
  });

  it('refuses a wrong password and an unknown user with return code 4', async () => {
    await assert.rejects(
      connect({ clientId: 'bad-1', username: 'sensor-1', password: 'nope' }),
      /Bad username or password/,
    );
    await assert.rejects(
      connect({ clientId: 'bad-2', username: 'ghost', password: 'x' }),
      /Bad username or password/,
    );
    const bad = await ctx.waitEvent(
      (x) => x.action === 'mqtt.auth_failure' && x.fields.client_id === 'bad-1',
    );
    const ghost = await ctx.waitEvent(
      (x) => x.action === 'mqtt.auth_failure' && x.fields.client_id === 'bad-2',
    );
    assert.deepEqual(
      [bad.fields.return_code, bad.fields.reason, bad.fields.username],
      [4, 'bad_password', 'sensor-1'],
    );
    assert.deepEqual([ghost.fields.return_code, ghost.fields.reason], [4, 'unknown_user']);
  });

  it('accepts good credentials: mqtt.connect with client id, user, version and addresses', async () => {
    const c = await connect({ clientId: 'dev-a', username: 'sensor-1', password: 'pw1' });
    const e = await ctx.waitEvent((x) => x.action === 'mqtt.connect' && x.fields.client_id === 'dev-a');
    assert.equal(e.fields.username, 'sensor-1');
    assert.equal(e.fields.protocol_version, '3.1.1');
    assert.equal(e.fields.auth_method, 'password');
    assert.equal(e.device?.id, 'mqtt:dev-a');
    assert.equal(e.dst?.port, port);
    c.end();
    const d = await ctx.waitEvent((x) => x.action === 'mqtt.disconnect' && x.fields.client_id === 'dev-a');
    assert.equal(d.fields.reason, 'client_disconnect');
  });

  it('refuses MQTT 5 (not supported by the embedded broker) as protocol_refused with return code 1', async () => {
    await assert.rejects(
      connect({ clientId: 'v5', username: 'sensor-1', password: 'pw1', protocolVersion: 5 }),
    );
    const e = await ctx.waitEvent((x) => x.action === 'mqtt.protocol_refused' && x.fields.client_id === 'v5');
    assert.equal(e.fields.return_code, 1);
    assert.equal(e.fields.protocol_version, '5.0');
  });
});

describe('ACLs and subscriptions', () => {
  it('grants a permitted subscription, refuses `#` with SUBACK 0x80 and flags it', async () => {
    const c = await connect({ clientId: 'dev-b', username: 'sensor-1', password: 'pw1' });
    const granted = await c.subscribeAsync('plant/cmd/sensor-1');
    assert.deepEqual(
      granted.map((g) => [g.topic, g.qos]),
      [['plant/cmd/sensor-1', 0]],
    );
    // mqtt.js turns a SUBACK return code 0x80 into an error.
    await assert.rejects(c.subscribeAsync('#'), /Subscribe error/);
    const denied = await ctx.waitEvent(
      (x) => x.action === 'mqtt.subscribe_denied' && x.fields.client_id === 'dev-b',
    );
    assert.equal(denied.fields.topic_filter, '#');
    assert.equal(denied.fields.all_topics, true);
    assert.ok(denied.tags.includes('wildcard_all'));
    await ctx.waitEvent(
      (x) => x.action === 'mqtt.subscribe' && x.fields.topic_filter === 'plant/cmd/sensor-1',
    );
    c.end();
  });

  it('flags a granted $SYS/# subscription', async () => {
    const c = await connect({ clientId: 'ops', username: 'admin', password: 'adminpw' });
    await c.subscribeAsync('$SYS/#');
    const e = await ctx.waitEvent((x) => x.action === 'mqtt.subscribe' && x.fields.topic_filter === '$SYS/#');
    assert.equal(e.fields.sys_topic, true);
    assert.equal(e.severity, 5);
    assert.ok(e.tags.includes('sys_topic'));
    c.end();
  });

  it('denies a publish outside the ACL, emits mqtt.publish_denied and closes the connection [MQTT-3.3.5-2]', async () => {
    const c = await connect({ clientId: 'dev-c', username: 'sensor-1', password: 'pw1' });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish('plant/other-device/temp', '1', { qos: 1 });
    await closed;
    const e = await ctx.waitEvent(
      (x) => x.action === 'mqtt.publish_denied' && x.fields.client_id === 'dev-c',
    );
    assert.equal(e.fields.topic, 'plant/other-device/temp');
    const d = await ctx.waitEvent((x) => x.action === 'mqtt.disconnect' && x.fields.client_id === 'dev-c');
    assert.equal(d.fields.reason, 'publish_denied');
  });
});

describe('sessions', () => {
  it('reports a client-id takeover [MQTT-3.1.4-2] with both addresses', async () => {
    const first = await connect({ clientId: 'plc-7', username: 'sensor-1', password: 'pw1' });
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    const second = await connect({ clientId: 'plc-7', username: 'admin', password: 'adminpw' });
    await firstClosed;
    const e = await ctx.waitEvent(
      (x) => x.action === 'mqtt.client_takeover' && x.fields.client_id === 'plc-7',
    );
    assert.equal(e.fields.previous_username, 'sensor-1');
    assert.equal(e.fields.username, 'admin');
    assert.equal(e.fields.same_username, false);
    const d = await ctx.waitEvent(
      (x) =>
        x.action === 'mqtt.disconnect' && x.fields.client_id === 'plc-7' && x.fields.reason === 'taken_over',
    );
    assert.equal(d.fields.username, 'sensor-1');
    second.end();
  });

  it('reports a keepalive timeout (1.5 × keep alive, [MQTT-3.1.2-24])', async () => {
    const s = await rawSocket();
    s.write(rawConnect('sleepy', 1));
    const e = await ctx.waitEvent(
      (x) => x.action === 'mqtt.disconnect' && x.fields.client_id === 'sleepy',
      'keepalive disconnect',
      5000,
    );
    assert.equal(e.fields.reason, 'keepalive_timeout');
    s.destroy();
  });

  it('reports the will of a client that vanishes, and retained writes', async () => {
    const c = await connect({
      clientId: 'will-dev',
      username: 'sensor-1',
      password: 'pw1',
      will: { topic: 'plant/will-dev/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await c.publishAsync('plant/will-dev/status', 'online', { qos: 1, retain: true });
    const r = await ctx.waitEvent(
      (x) => x.action === 'mqtt.retained_write' && x.fields.client_id === 'will-dev',
    );
    assert.deepEqual(
      [r.fields.topic, r.fields.payload_bytes, r.fields.cleared],
      ['plant/will-dev/status', 6, false],
    );
    (c as unknown as { stream: net.Socket }).stream.destroy();
    const w = await ctx.waitEvent(
      (x) => x.action === 'mqtt.will_publish' && x.fields.client_id === 'will-dev',
    );
    assert.equal(w.fields.topic, 'plant/will-dev/status');
    const d = await ctx.waitEvent((x) => x.action === 'mqtt.disconnect' && x.fields.client_id === 'will-dev');
    assert.equal(d.fields.reason, 'connection_lost');
  });
});

describe('bad packets', () => {
  it('closes a connection announcing a packet over max_packet_bytes before its body arrives', async () => {
    const s = await rawSocket();
    const closed = new Promise((resolve) => s.once('close', resolve));
    s.write(rawConnect('big-1'));
    await ctx.waitEvent((x) => x.action === 'mqtt.connect' && x.fields.client_id === 'big-1');
    // PUBLISH declaring 10,000,000 bytes; only the header is sent.
    s.write(Buffer.from([0x30, 0x80, 0xad, 0xe2, 0x04]));
    await closed;
    const e = await ctx.waitEvent(
      (x) => x.action === 'mqtt.oversized_packet' && x.fields.client_id === 'big-1',
    );
    assert.equal(e.fields.declared_bytes, 10_000_005);
    assert.equal(e.fields.limit_bytes, 4096);
    assert.equal(e.fields.packet_type, 'publish');
  });

  it('reports a malformed packet with its typed error code, never crashes', async () => {
    const s = await rawSocket();
    const closed = new Promise((resolve) => s.once('close', resolve));
    s.write(rawConnect('bad-pkt'));
    await ctx.waitEvent((x) => x.action === 'mqtt.connect' && x.fields.client_id === 'bad-pkt');
    // PUBLISH with both QoS bits set [MQTT-3.3.1-4]
    s.write(Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]));
    await closed;
    const e = await ctx.waitEvent(
      (x) => x.action === 'mqtt.malformed_packet' && x.fields.client_id === 'bad-pkt',
    );
    assert.equal(e.fields.code, 'invalid_qos');
    assert.ok(String(e.fields.preview_hex).startsWith('36'));
  });

  it('reports a first packet that is not CONNECT [MQTT-3.1.0-1]', async () => {
    const s = await rawSocket();
    const closed = new Promise((resolve) => s.once('close', resolve));
    s.write(Buffer.from([0xc0, 0x00])); // PINGREQ
    await closed;
    await ctx.waitEvent((x) => x.action === 'mqtt.malformed_packet' && x.fields.code === 'unexpected_packet');
  });
});

describe('telemetry', () => {
  it('parses JSON readings and holds the PUBACK until the event is durable', async () => {
    const c = await connect({ clientId: 'therm-1', username: 'sensor-1', password: 'pw1' });
    ctx.hold = true;
    let acked = false;
    const pub = c
      .publishAsync('plant/therm-1/temp', JSON.stringify({ celsius: 21.5, ok: true }), { qos: 1 })
      .then(() => {
        acked = true;
      });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(acked, false, 'no PUBACK while the event is not durable');
    ctx.release();
    await pub;
    const e = await ctx.waitEvent((x) => x.action === 'mqtt.telemetry' && x.fields.client_id === 'therm-1');
    assert.equal(e.kind, 'telemetry');
    assert.deepEqual(e.fields.values, { celsius: 21.5, ok: true });
    assert.equal(e.fields.payload_format, 'json');
    c.end();
  });

  it('hands every reading of an aggregated topic to the pipeline (its telemetry stage aggregates: tests/gateway/pipeline/telemetry.test.ts)', async () => {
    const c = await connect({ clientId: 'vib-1', username: 'sensor-1', password: 'pw1' });
    for (const v of [1, 5, 3]) await c.publishAsync('plant/vib-1/vib', String(v), { qos: 1 });
    const readings = await waitFor(
      () => {
        const r = ctx.events.filter(
          (x) => x.action === 'mqtt.telemetry' && x.fields.topic === 'plant/vib-1/vib',
        );
        return r.length === 3 ? r : undefined;
      },
      { what: 'three readings', timeoutMs: 5000 },
    );
    assert.deepEqual(
      readings.map((r) => [r.fields.values, r.fields.listener]),
      [
        [{ value: 1 }, 'mqtt_in'],
        [{ value: 5 }, 'mqtt_in'],
        [{ value: 3 }, 'mqtt_in'],
      ],
    );
    c.end();
  });
});
