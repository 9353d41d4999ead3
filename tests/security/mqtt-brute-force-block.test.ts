/**
 * Issue 15 item 5: an MQTT password brute force is stopped, not only reported. Blocking is on by
 * default; with short settings here, a real MQTT client (mqtt.js) guesses 40 passwords with
 * rotating client ids against the embedded broker: the address is blocked after
 * max_auth_failures, the right password is refused while blocked and accepted once the block has
 * expired, and the next block of the same address lasts twice as long. Before the fix (block_secs
 * 0 by default) the right password was accepted right after the guesses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import type { Source } from '../../gateway/pipeline/types.ts';
import { mqttBrokerSourceSchema } from '../../gateway/sources/mqtt-broker/config.ts';
import { createMqttBrokerSource } from '../../gateway/sources/mqtt-broker/index.ts';
import { hashPassword } from '../../gateway/sources/mqtt-broker/password.ts';
import { waitFor } from '../support/env.ts';
import { portOf, type RecordingContext, recordingContext } from '../gateway/sources/support.ts';

let ctx: RecordingContext;
let source: Source;
let port: number;

/** One CONNECT with mqtt.js: 0 when accepted, else the CONNACK return code. */
function connect(clientId: string, password: string): Promise<number> {
  return new Promise((resolve) => {
    const c = mqtt.connect({
      host: '127.0.0.1',
      port,
      clientId,
      username: 'plc',
      password,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    c.once('connect', () => {
      c.end(true);
      resolve(0);
    });
    c.once('error', (error: Error & { code?: number }) => {
      c.end(true);
      resolve(typeof error.code === 'number' ? error.code : -1);
    });
  });
}

describe('MQTT brute force blocking', () => {
  before(async () => {
    ctx = recordingContext();
    const config = mqttBrokerSourceSchema.parse({
      type: 'mqtt_broker',
      listen: '127.0.0.1:0',
      users: [
        {
          username: 'plc',
          password_hash: await hashPassword('right', { N: 4096, r: 8, p: 1 }),
          publish: ['plant/#'],
        },
      ],
      rates: { window_secs: 60, max_auth_failures: 5, block_secs: 1, max_block_secs: 4 },
    });
    source = createMqttBrokerSource('mqtt_in', config, ctx);
    await source.start();
    port = portOf(source);
  });

  after(async () => {
    await source.stop();
  });

  it('blocks by default', () => {
    const rates = mqttBrokerSourceSchema.parse({ type: 'mqtt_broker', listen: '127.0.0.1:0' }).rates;
    assert.ok(rates.block_secs > 0, 'block_secs defaults to blocking');
    assert.ok(rates.max_block_secs >= rates.block_secs);
  });

  it('refuses the right password while blocked, accepts it once the block expires, then doubles', async () => {
    for (let i = 0; i < 40; i++) assert.notEqual(await connect(`bot-${i}`, `guess-${i}`), 0);
    const t0 = Date.now();
    assert.equal(await connect('plc-1', 'right'), 5, 'the right password is refused while blocked');

    const block = await ctx.waitEvent(
      (e) => e.action === 'mqtt.rate_exceeded' && e.fields.blocked_secs !== undefined,
    );
    assert.equal(block.fields.key_type, 'src_ip');
    assert.equal(block.fields.key, '127.0.0.1');
    assert.equal(block.fields.blocked_secs, 1);
    assert.equal(block.fields.block_level, 1);
    const failures = await waitFor(
      () => {
        const f = ctx.byAction('mqtt.auth_failure');
        return f.length >= 41 ? f : undefined;
      },
      { what: '41 auth failures' },
    );
    // 6 passwords checked (the 6th over max_auth_failures starts the block), 35 refused unchecked.
    assert.equal(failures.filter((e) => e.fields.reason === 'blocked').length, 35);

    // Accepted again once the block has expired, and not before.
    await waitFor(async () => ((await connect('plc-1', 'right')) === 0 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the right password accepted after the block',
    });
    const until = Date.parse(String(block.fields.blocked_until));
    assert.ok(Date.now() >= until, 'accepted only after blocked_until');
    assert.ok(Date.now() - t0 < 5_000);

    // The same address again: the second block lasts twice as long.
    for (let i = 0; i < 6; i++) assert.notEqual(await connect(`bot2-${i}`, `guess-${i}`), 0);
    assert.equal(await connect('plc-2', 'right'), 5);
    const second = await ctx.waitEvent(
      (e) => e.action === 'mqtt.rate_exceeded' && e.fields.block_level === 2,
    );
    assert.equal(second.fields.blocked_secs, 2);
  });
});
