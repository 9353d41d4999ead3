/**
 * The MQTT client collector speaking MQTT 5 to the real Mosquitto of this machine (127.0.0.1:1883),
 * with `mosquitto_pub -V mqttv5` as the publisher: user properties, message expiry and content type
 * arrive in the event; two collectors in one shared-subscription group split the stream so that
 * every message arrives exactly once between them; a retained message whose expiry has passed is
 * not delivered while one still alive is, with its remaining lifetime. Plus the bounds on the
 * properties a publisher can send through the broker.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { Source } from '../../../../gateway/pipeline/types.ts';
import { mqttClientSourceSchema } from '../../../../gateway/sources/mqtt-client/config.ts';
import { createMqttClientSource } from '../../../../gateway/sources/mqtt-client/index.ts';
import {
  MAX_PROPERTY_CHARS,
  MAX_USER_PROPERTIES,
  propertyFields,
  reasonName,
  subscriptionFilters,
} from '../../../../gateway/sources/mqtt-client/properties.ts';
import { missingService, requireTool, skipMissing, waitFor } from '../../../support/env.ts';
import { type RecordingContext, recordingContext } from '../support.ts';

const run = promisify(execFile);
const prefix = `siem-test5/${randomBytes(4).toString('hex')}`;
const sources: Source[] = [];

function mosquittoUp(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(1883, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function ready(t: TestContext, up: boolean): boolean {
  if (!up) {
    skipMissing(t, missingService('Mosquitto', 'no broker listening on 127.0.0.1:1883'));
    return false;
  }
  return requireTool(t, 'mosquitto_pub', 'mosquitto-clients');
}

const pub5 = (topic: string, message: string, ...extra: string[]) =>
  run('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    '1883',
    '-V',
    'mqttv5',
    '-q',
    '1',
    '-t',
    topic,
    '-m',
    message,
    ...extra,
  ]);

async function collector(name: string, extra: Record<string, unknown>): Promise<RecordingContext> {
  const ctx = recordingContext();
  const source = createMqttClientSource(
    name,
    mqttClientSourceSchema.parse({
      type: 'mqtt_client',
      endpoint: 'mqtt://127.0.0.1:1883',
      client_id: `${name}-${randomBytes(3).toString('hex')}`,
      protocol_version: 5,
      sys_topics: false,
      ...extra,
    }),
    ctx,
  );
  sources.push(source);
  await source.start();
  await ctx.waitEvent((e) => e.action === 'mqtt.collector_connected');
  return ctx;
}

let up = false;
before(async () => {
  up = await mosquittoUp();
});

after(async () => {
  for (const s of sources) await s.stop();
  if (up) {
    // Clear the retained messages this file left on the shared broker.
    for (const t of ['alive', 'expired'])
      await run('mosquitto_pub', [
        '-h',
        '127.0.0.1',
        '-p',
        '1883',
        '-r',
        '-n',
        '-t',
        `${prefix}/retained/${t}`,
      ]);
  }
});

describe('MQTT 5 collector against Mosquitto', () => {
  it('keeps user properties, message expiry and content type of an mqttv5 publish', async (t) => {
    if (!ready(t, up)) return;
    const ctx = await collector('plant5', { topics: [`${prefix}/props/#`] });
    const connected = ctx.byAction('mqtt.collector_connected')[0]!;
    assert.equal(connected.fields.protocol_version, 5);
    assert.equal(connected.fields.refused_topics, undefined);
    await pub5(
      `${prefix}/props/boiler-1/temp`,
      '{"c": 72.5}',
      ...['-D', 'publish', 'user-property', 'site', 'north'],
      ...['-D', 'publish', 'user-property', 'line', '3'],
      ...['-D', 'publish', 'message-expiry-interval', '3600'],
      ...['-D', 'publish', 'content-type', 'application/json'],
    );
    const e = await ctx.waitEvent(
      (x) => x.action === 'mqtt.telemetry' && x.fields.topic === `${prefix}/props/boiler-1/temp`,
    );
    assert.deepEqual(e.fields.user_properties, { site: 'north', line: '3' });
    assert.equal(e.fields.content_type, 'application/json');
    const expiry = e.fields.message_expiry_secs as number;
    assert.ok(expiry > 3500 && expiry <= 3600, `remaining expiry ${expiry}`);
    assert.deepEqual(e.fields.values, { c: 72.5 });
    assert.equal(e.fields.qos, 1);
  });

  it('shares a subscription: two collectors in one group get every message exactly once between them', async (t) => {
    if (!ready(t, up)) return;
    const topics = [`${prefix}/shared/#`];
    const a = await collector('share-a', { topics, shared_group: 'siem' });
    const b = await collector('share-b', { topics, shared_group: 'siem' });
    assert.deepEqual(a.byAction('mqtt.collector_connected')[0]!.fields.topics, [
      `$share/siem/${prefix}/shared/#`,
    ]);
    const n = 40;
    for (let i = 0; i < n; i++) await pub5(`${prefix}/shared/dev-${i}/v`, String(i));
    const seen = () =>
      [...a.events, ...b.events]
        .filter((x) => x.action === 'mqtt.telemetry')
        .map((x) => x.fields.topic as string);
    await waitFor(() => (seen().length >= n ? true : undefined), {
      timeoutMs: 20_000,
      what: `${n} messages`,
    });
    // A moment for any duplicate to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const topicsSeen = seen();
    assert.equal(topicsSeen.length, n, 'each message once between the two');
    assert.equal(new Set(topicsSeen).size, n);
    const fromA = a.byAction('mqtt.telemetry').length;
    assert.ok(fromA > 0 && fromA < n, `the group splits the stream (a got ${fromA} of ${n})`);
  });

  it('does not receive a retained message whose expiry has passed; one still alive arrives with what is left', async (t) => {
    if (!ready(t, up)) return;
    const ret = (name: string, secs: string) =>
      pub5(`${prefix}/retained/${name}`, name, '-r', '-D', 'publish', 'message-expiry-interval', secs);
    await ret('expired', '1');
    await ret('alive', '600');
    await new Promise((resolve) => setTimeout(resolve, 2200));
    const ctx = await collector('retained5', { topics: [`${prefix}/retained/#`] });
    const alive = await ctx.waitEvent((x) => x.fields.topic === `${prefix}/retained/alive`);
    assert.equal(alive.fields.retain, true);
    const left = alive.fields.message_expiry_secs as number;
    assert.ok(left < 600 && left > 500, `remaining ${left}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(ctx.events.filter((x) => x.fields.topic === `${prefix}/retained/expired`).length, 0);
  });
});

describe('MQTT 5 properties, bounded', () => {
  it('keeps at most MAX_USER_PROPERTIES, cuts long values, keeps __proto__ as a plain key', () => {
    const user: Record<string, string | string[]> = {};
    for (let i = 0; i < MAX_USER_PROPERTIES + 5; i++) user[`k${i}`] = 'v'.repeat(MAX_PROPERTY_CHARS + 10);
    const f = propertyFields({ userProperties: user, payloadFormatIndicator: true });
    const kept = f.user_properties as Record<string, string>;
    assert.equal(Object.keys(kept).length, MAX_USER_PROPERTIES);
    assert.equal(kept.k0!.length, MAX_PROPERTY_CHARS);
    assert.equal(f.user_properties_dropped, 5);
    assert.equal(f.payload_format, 'utf8');
    const proto = propertyFields({
      userProperties: JSON.parse('{"__proto__": "x"}') as Record<string, string>,
    });
    assert.equal(Object.getPrototypeOf(proto.user_properties), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(proto.user_properties, '__proto__')?.value, 'x');
    assert.deepEqual(propertyFields(undefined), {});
  });

  it('shares the configured filters only, names reason codes', () => {
    assert.deepEqual(subscriptionFilters({ topics: ['a/#', 'b'], shared_group: 'g', sys_topics: true }), [
      '$share/g/a/#',
      '$share/g/b',
      '$SYS/#',
    ]);
    assert.deepEqual(subscriptionFilters({ topics: ['a/#'], sys_topics: false }), ['a/#']);
    assert.equal(reasonName(0x87), 'not_authorized');
    assert.equal(reasonName(0x9e), 'shared_subscriptions_not_supported');
    assert.equal(reasonName(0xfe), 'reason_0xfe');
    assert.throws(() =>
      mqttClientSourceSchema.parse({
        type: 'mqtt_client',
        endpoint: 'mqtt://h',
        topics: ['a'],
        shared_group: 'a/b',
      }),
    );
  });
});
