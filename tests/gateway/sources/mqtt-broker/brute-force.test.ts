/**
 * A brute force (300 bad CONNECTs over rotating client ids, 20 at a time) and a connect flood
 * (200 TCP connections) against the embedded broker, while a legitimate device keeps publishing
 * QoS 1 readings. The events must be enough to detect both (per-address counts that ignore the
 * client id), and every reading of the legitimate device must still be acknowledged.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Source } from '../../../../gateway/pipeline/types.ts';
import { mqttBrokerSourceSchema } from '../../../../gateway/sources/mqtt-broker/config.ts';
import { createMqttBrokerSource } from '../../../../gateway/sources/mqtt-broker/index.ts';
import { hashPassword } from '../../../../gateway/sources/mqtt-broker/password.ts';
import { waitFor } from '../../../support/env.ts';
import { portOf, type RecordingContext, recordingContext } from '../support.ts';

let ctx: RecordingContext;
let source: Source;
let port: number;
let device: MqttClient;

before(async () => {
  ctx = recordingContext();
  source = createMqttBrokerSource(
    'mqtt_in',
    mqttBrokerSourceSchema.parse({
      type: 'mqtt_broker',
      listen: '127.0.0.1:0',
      users: [
        {
          username: 'plc',
          password_hash: await hashPassword('right', { N: 4096, r: 8, p: 1 }),
          publish: ['plant/#'],
        },
      ],
      telemetry: [{ match: 'plant/#' }],
      rates: { window_secs: 60, max_auth_failures: 10, max_connects: 50, max_connections: 100 },
      max_connections: 2048,
    }),
    ctx,
  );
  await source.start();
  port = portOf(source);
  device = await mqtt.connectAsync({
    host: '127.0.0.1',
    port,
    clientId: 'plc-legit',
    username: 'plc',
    password: 'right',
    reconnectPeriod: 0,
  });
});

after(async () => {
  await device.endAsync();
  await source.stop();
});

function attempt(i: number): Promise<void> {
  return new Promise((resolve) => {
    const c = mqtt.connect({
      host: '127.0.0.1',
      port,
      clientId: `bot-${i}`,
      username: i % 2 ? 'plc' : `admin${i}`,
      password: `guess-${i}`,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    const done = () => {
      c.end(true);
      resolve();
    };
    c.once('error', done);
    c.once('close', done);
    c.once('connect', done);
  });
}

it('detects a brute force with rotating client ids while the device keeps being served', async () => {
  let acked = 0;
  let publishing = true;
  const readings = (async () => {
    for (let n = 0; publishing; n++) {
      await device.publishAsync('plant/line/temp', String(n), { qos: 1 });
      acked++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  for (let i = 0; i < 300; i += 20) await Promise.all(Array.from({ length: 20 }, (_, k) => attempt(i + k)));
  publishing = false;
  await readings;

  const failures = await waitFor(
    () => (ctx.byAction('mqtt.auth_failure').length >= 300 ? ctx.byAction('mqtt.auth_failure') : undefined),
    { what: '300 auth failures' },
  );
  assert.equal(failures.length, 300);
  assert.equal(new Set(failures.map((e) => e.fields.client_id)).size, 300, 'every client id different');
  const byIp = ctx
    .byAction('mqtt.rate_exceeded')
    .find((e) => e.fields.counter === 'auth_failures' && e.fields.key_type === 'src_ip');
  assert.ok(byIp, 'an auth_failures crossing for the source address');
  assert.equal(byIp.fields.key, '127.0.0.1');
  assert.ok(Number(byIp.fields.distinct_client_ids) > 10, 'rotating client ids are visible');
  const byUser = ctx
    .byAction('mqtt.rate_exceeded')
    .find(
      (e) =>
        e.fields.counter === 'auth_failures' && e.fields.key_type === 'username' && e.fields.key === 'plc',
    );
  assert.ok(byUser, 'the targeted user name crosses too');
  assert.ok(acked > 10, `the device's QoS 1 readings kept being acknowledged (${acked})`);
  assert.equal(ctx.events.filter((e) => e.action === 'mqtt.telemetry').length, acked);
  assert.equal(device.connected, true);
});

it('detects a connect flood (TCP connections per address) and keeps serving', async () => {
  const sockets = await Promise.all(
    Array.from(
      { length: 200 },
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => resolve(s));
          s.on('error', () => resolve(s));
        }),
    ),
  );
  const e = await ctx.waitEvent(
    (x) => x.action === 'mqtt.rate_exceeded' && x.fields.counter === 'connections',
  );
  assert.equal(e.fields.key, '127.0.0.1');
  assert.equal(e.fields.threshold, 100);
  await device.publishAsync('plant/line/temp', '1', { qos: 1 });
  for (const s of sockets) s.destroy();
});
