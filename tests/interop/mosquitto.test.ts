/**
 * Mosquitto's own clients (mosquitto_pub, mosquitto_sub from mosquitto-clients) against the
 * gateway's embedded broker: good and bad credentials, ACL denials, `#` and `$SYS/#`
 * subscriptions, QoS 0/1/2 and a retained message, over plain TCP and over TLS with a certificate
 * made by openssl. Each step must produce the events a detection needs.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { Source } from '../../gateway/pipeline/types.ts';
import { mqttBrokerSourceSchema } from '../../gateway/sources/mqtt-broker/config.ts';
import { createMqttBrokerSource } from '../../gateway/sources/mqtt-broker/index.ts';
import { hashPassword } from '../../gateway/sources/mqtt-broker/password.ts';
import { portOf, type RecordingContext, recordingContext } from '../gateway/sources/support.ts';
import { hasTool, requireTool, waitFor } from '../support/env.ts';

const run = promisify(execFile);
let ctx: RecordingContext;
let source: Source;
let dir: string;
let tlsReady = false;

const auth = (user = 'plc-1', pw = 'pw-plc') => ['-u', user, '-P', pw];
const pub = (port: number, args: string[]) =>
  run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });

function sub(port: number, args: string[]): { child: ChildProcess; lines: string[] } {
  const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-v', ...args]);
  const lines: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => lines.push(...d.split('\n').filter(Boolean)));
  return { child, lines };
}

function tools(t: TestContext): boolean {
  return (
    requireTool(t, 'mosquitto_pub', 'mosquitto-clients') &&
    requireTool(t, 'mosquitto_sub', 'mosquitto-clients')
  );
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'siem-mqtt-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  if (hasTool('openssl')) {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    tlsReady = true;
  }
  ctx = recordingContext();
  const fast = { N: 1024, r: 8, p: 1 };
  source = createMqttBrokerSource(
    'mqtt_devices',
    mqttBrokerSourceSchema.parse({
      type: 'mqtt_broker',
      listen: '127.0.0.1:0',
      ...(tlsReady ? { tls: { listen: '127.0.0.1:0', cert_file: cert, key_file: key } } : {}),
      users: [
        {
          username: 'plc-1',
          password_hash: await hashPassword('pw-plc', fast),
          publish: ['plant/%u/#'],
          subscribe: ['plant/%u/#'],
        },
        {
          username: 'scada',
          password_hash: await hashPassword('pw-scada', fast),
          publish: ['plant/#'],
          subscribe: ['#', '$SYS/#'],
        },
      ],
      telemetry: [{ match: 'plant/+/temp' }],
    }),
    ctx,
  );
  await source.start();
});

after(async () => {
  await source.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('mosquitto clients → embedded broker', () => {
  it('publishes with good credentials at QoS 0, 1 and 2; each reading is a telemetry event', async (t) => {
    if (!tools(t)) return;
    const port = portOf(source);
    for (const qos of ['0', '1', '2']) {
      await pub(port, [
        ...auth(),
        '-i',
        `plc-1-q${qos}`,
        '-q',
        qos,
        '-t',
        'plant/plc-1/temp',
        '-m',
        `2${qos}.5`,
      ]);
    }
    for (const qos of [0, 1, 2]) {
      const e = await ctx.waitEvent(
        (x) => x.action === 'mqtt.telemetry' && x.fields.client_id === `plc-1-q${qos}`,
      );
      assert.deepEqual([e.fields.qos, e.fields.values], [qos, { value: Number(`2${qos}.5`) }]);
      assert.equal(e.fields.protocol_version, '3.1.1');
    }
  });

  it('refuses bad credentials: mosquitto_pub fails and mqtt.auth_failure names the user', async (t) => {
    if (!tools(t)) return;
    await assert.rejects(
      pub(portOf(source), [...auth('plc-1', 'wrong'), '-i', 'intruder', '-t', 'plant/plc-1/temp', '-m', '1']),
    );
    const e = await ctx.waitEvent(
      (x) => x.action === 'mqtt.auth_failure' && x.fields.client_id === 'intruder',
    );
    assert.deepEqual(
      [e.fields.username, e.fields.return_code, e.fields.reason],
      ['plc-1', 4, 'bad_password'],
    );
    await assert.rejects(pub(portOf(source), ['-i', 'anon', '-t', 'plant/x', '-m', '1']));
    await ctx.waitEvent(
      (x) => x.action === 'mqtt.auth_failure' && x.fields.client_id === 'anon' && x.fields.return_code === 5,
    );
  });

  it('denies a publish outside the ACL (mqtt.publish_denied)', async (t) => {
    if (!tools(t)) return;
    await pub(portOf(source), [
      ...auth(),
      '-i',
      'plc-1-rogue',
      '-q',
      '1',
      '-t',
      'plant/plc-2/setpoint',
      '-m',
      '99',
    ]).catch(() => undefined);
    const e = await ctx.waitEvent(
      (x) => x.action === 'mqtt.publish_denied' && x.fields.client_id === 'plc-1-rogue',
    );
    assert.equal(e.fields.topic, 'plant/plc-2/setpoint');
  });

  it('reports `#` refused for a device and `#`/`$SYS/#` granted to SCADA, which then receives a retained value', async (t) => {
    if (!tools(t)) return;
    const port = portOf(source);
    await pub(port, [
      '-u',
      'scada',
      '-P',
      'pw-scada',
      '-i',
      'scada-pub',
      '-q',
      '1',
      '-r',
      '-t',
      'plant/line1/mode',
      '-m',
      'auto',
    ]);
    await ctx.waitEvent((x) => x.action === 'mqtt.retained_write' && x.fields.topic === 'plant/line1/mode');
    const denied = sub(port, [...auth(), '-i', 'plc-1-snoop', '-t', '#']);
    const granted = sub(port, [
      '-u',
      'scada',
      '-P',
      'pw-scada',
      '-i',
      'scada-sub',
      '-t',
      '#',
      '-t',
      '$SYS/#',
    ]);
    try {
      await ctx.waitEvent(
        (x) =>
          x.action === 'mqtt.subscribe_denied' &&
          x.fields.client_id === 'plc-1-snoop' &&
          x.fields.topic_filter === '#',
      );
      const all = await ctx.waitEvent(
        (x) =>
          x.action === 'mqtt.subscribe' &&
          x.fields.client_id === 'scada-sub' &&
          x.fields.topic_filter === '#',
      );
      assert.ok(all.tags.includes('wildcard_all'));
      const sys = await ctx.waitEvent(
        (x) =>
          x.action === 'mqtt.subscribe' &&
          x.fields.client_id === 'scada-sub' &&
          x.fields.topic_filter === '$SYS/#',
      );
      assert.ok(sys.tags.includes('sys_topic'));
      await waitFor(() => (granted.lines.includes('plant/line1/mode auto') ? true : undefined), {
        what: 'retained message at mosquitto_sub',
      });
    } finally {
      denied.child.kill();
      granted.child.kill();
    }
  });

  it('works over the TLS listener (mosquitto_pub --cafile with an openssl certificate)', async (t) => {
    if (!tools(t) || !requireTool(t, 'openssl', 'openssl')) return;
    assert.ok(tlsReady);
    await pub(portOf(source, 'tls'), [
      ...auth(),
      '--cafile',
      path.join(dir, 'cert.pem'),
      '-i',
      'plc-1-tls',
      '-q',
      '1',
      '-t',
      'plant/plc-1/temp',
      '-m',
      '19.5',
    ]);
    const e = await ctx.waitEvent((x) => x.action === 'mqtt.connect' && x.fields.client_id === 'plc-1-tls');
    assert.equal(e.fields.transport, 'tls');
    await ctx.waitEvent((x) => x.action === 'mqtt.telemetry' && x.fields.client_id === 'plc-1-tls');
  });
});
