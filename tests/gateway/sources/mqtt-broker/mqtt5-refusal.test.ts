/**
 * An MQTT 5 client against the embedded broker (aedes 1.x speaks 3.1 and 3.1.1 only): Mosquitto's
 * own `mosquitto_pub -V mqttv5` is refused with CONNACK 1, and the refusal is an
 * `mqtt.protocol_refused` event with the client id and address, counted in the metrics and noted
 * on the source's status. A 3.1.1 client on the same broker still connects.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { mqttBrokerSourceSchema } from '../../../../gateway/sources/mqtt-broker/config.ts';
import { createMqttBrokerSource } from '../../../../gateway/sources/mqtt-broker/index.ts';
import type { Source } from '../../../../gateway/pipeline/types.ts';
import { requireTool } from '../../../support/env.ts';
import { portOf, type RecordingContext, recordingContext } from '../support.ts';

let ctx: RecordingContext;
let source: Source;
let port: number;

function pub(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'mosquitto_pub',
      ['-h', '127.0.0.1', '-p', String(port), ...args],
      { timeout: 15_000 },
      (err, _o, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

before(async () => {
  ctx = recordingContext();
  const config = mqttBrokerSourceSchema.parse({
    type: 'mqtt_broker',
    listen: '127.0.0.1:0',
    allow_anonymous: true,
  });
  source = createMqttBrokerSource('mqtt_in', config, ctx);
  await source.start();
  port = portOf(source);
});

after(async () => {
  await source.stop();
});

describe('MQTT 5 clients at the embedded broker', () => {
  it('notes nothing before any refusal', () => {
    assert.deepEqual(source.notes?.(), []);
  });

  it('refuses mosquitto_pub -V mqttv5 as mqtt.protocol_refused, counted and noted', async (t) => {
    if (!requireTool(t, 'mosquitto_pub', 'mosquitto-clients')) return;
    const r = await pub(['-V', 'mqttv5', '-i', 'plc-v5', '-t', 'plant/x', '-m', '1']);
    assert.notEqual(r.code, 0, 'mosquitto_pub must fail: the broker does not speak MQTT 5');
    const e = await ctx.waitEvent(
      (x) => x.action === 'mqtt.protocol_refused' && x.fields.client_id === 'plc-v5',
      'protocol_refused',
    );
    assert.equal(e.kind, 'security');
    assert.equal(e.src?.ip, '127.0.0.1');
    assert.ok(typeof e.src?.port === 'number' && e.src.port > 0);
    assert.equal(e.fields.protocol_version, '5.0');
    assert.equal(e.fields.return_code, 1);
    assert.match(e.message, /plc-v5 from 127\.0\.0\.1:\d+ refused/);
    // Not also reported as a generic refusal.
    assert.equal(ctx.byAction('mqtt.connect_refused').length, 0);

    const metrics = await ctx.metrics.registry.metrics();
    assert.match(
      metrics,
      /siem_gateway_errors_total\{[^}]*code="mqtt_protocol_refused"[^}]*\} 1/,
      'the refusal is counted',
    );
    assert.match(metrics, /siem_gateway_sensor_events_total\{[^}]*action="mqtt.protocol_refused"[^}]*\} 1/);

    const notes = source.notes?.() ?? [];
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /^1 client refused for an unsupported MQTT version/);
    assert.match(notes[0]!, /plc-v5 from 127\.0\.0\.1:\d+ asking for MQTT 5\.0/);
  });

  it('still accepts MQTT 3.1.1 from the same tool, and counts a second refusal', async (t) => {
    if (!requireTool(t, 'mosquitto_pub', 'mosquitto-clients')) return;
    const ok = await pub(['-V', 'mqttv311', '-i', 'plc-v311', '-t', 'plant/x', '-m', '1']);
    assert.equal(ok.code, 0, ok.stderr);
    await ctx.waitEvent((x) => x.action === 'mqtt.connect' && x.fields.client_id === 'plc-v311');
    await pub(['-V', 'mqttv5', '-i', 'plc-v5b', '-t', 'plant/x', '-m', '1']);
    await ctx.waitEvent((x) => x.action === 'mqtt.protocol_refused' && x.fields.client_id === 'plc-v5b');
    assert.match(source.notes?.()[0] ?? '', /^2 clients refused .* last: plc-v5b/);
  });
});
