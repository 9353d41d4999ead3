/**
 * The MQTT client collector against the real Mosquitto broker of this machine (127.0.0.1:1883,
 * started by .ci/run): a reading published by mosquitto_pub arrives as a telemetry event with its
 * JSON parsed, `$SYS` arrives as broker status (one event per topic per interval), and the
 * collector reports its own connection.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { Source } from '../../../../gateway/pipeline/types.ts';
import { mqttClientSourceSchema } from '../../../../gateway/sources/mqtt-client/config.ts';
import { createMqttClientSource } from '../../../../gateway/sources/mqtt-client/index.ts';
import { missingService, requireTool, skipMissing, waitFor } from '../../../support/env.ts';
import { type RecordingContext, recordingContext } from '../support.ts';

const run = promisify(execFile);
const prefix = `siem-test/${randomBytes(4).toString('hex')}`;
let ctx: RecordingContext;
let source: Source | undefined;

async function mosquittoUp(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(1883, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function requireMosquitto(t: TestContext, up: boolean): boolean {
  if (up) return true;
  skipMissing(t, missingService('Mosquitto', 'no broker listening on 127.0.0.1:1883'));
  return false;
}

let up = false;
before(async () => {
  up = await mosquittoUp();
  if (!up) return;
  ctx = recordingContext();
  source = createMqttClientSource(
    'plant_broker',
    mqttClientSourceSchema.parse({
      type: 'mqtt_client',
      endpoint: 'mqtt://127.0.0.1:1883',
      topics: [`${prefix}/#`],
      telemetry: [{ match: `${prefix}/+/temp` }],
      sys_interval_secs: 3600,
    }),
    ctx,
  );
  await source.start();
  await ctx.waitEvent((e) => e.action === 'mqtt.collector_connected');
});

after(async () => {
  await source?.stop();
});

it('turns a reading published to the plant broker into a telemetry event', async (t) => {
  if (!requireMosquitto(t, up) || !requireTool(t, 'mosquitto_pub', 'mosquitto-clients')) return;
  await run('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    '1883',
    '-q',
    '1',
    '-t',
    `${prefix}/boiler-3/temp`,
    '-m',
    '{"c": 81.25}',
  ]);
  await run('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    '1883',
    '-q',
    '1',
    '-t',
    `${prefix}/boiler-3/noise`,
    '-m',
    'ignored',
  ]);
  const e = await ctx.waitEvent(
    (x) => x.action === 'mqtt.telemetry' && x.fields.topic === `${prefix}/boiler-3/temp`,
  );
  assert.deepEqual(e.fields.values, { c: 81.25 });
  assert.equal(e.kind, 'telemetry');
  assert.equal(e.fields.qos, 1);
  assert.equal(e.dst?.port, 1883);
  assert.equal(
    ctx.events.filter((x) => x.fields.topic === `${prefix}/boiler-3/noise`).length,
    0,
    'not a telemetry topic',
  );
});

it('reports $SYS broker status, once per topic per interval', async (t) => {
  if (!requireMosquitto(t, up)) return;
  const e = await ctx.waitEvent(
    (x) => x.action === 'mqtt.broker_status' && x.fields.topic === '$SYS/broker/version',
    '$SYS version',
    15_000,
  );
  assert.match(String(e.fields.value), /mosquitto/);
  assert.equal(e.kind, 'health');
  const topics = ctx.byAction('mqtt.broker_status').map((x) => x.fields.topic);
  assert.equal(new Set(topics).size, topics.length, 'no topic twice within the interval');
  // The updates held back within the interval are counted, never silently lost (Mosquitto
  // republishes its changing $SYS topics every 10 s by default).
  await waitFor(
    async () => {
      const dropped = (await ctx.metrics.dropped.get()).values.find(
        (v) => v.labels.source === 'plant_broker' && v.labels.reason === 'sys_interval',
      );
      return dropped && dropped.value > 0 ? true : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: 'a held-back $SYS update counted as dropped (sys_interval)' },
  );
  const after = ctx.byAction('mqtt.broker_status').map((x) => x.fields.topic);
  assert.equal(new Set(after).size, after.length, 'still no topic twice within the interval');
});
