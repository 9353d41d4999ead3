/**
 * protocols/mqtt/to-event.ts, the one MQTT → Event builder of the broker and of captures: the
 * device is the client id (named by the authenticated user), both addresses, the protocol version
 * named, undefined fields left out; rate crossings and blocks as `mqtt.rate_exceeded`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_SCHEMA_VERSION, eventSchema } from '../../../protocols/event/schema.ts';
import { blockedSpec, mqttEvent, rateExceededSpec } from '../../../protocols/mqtt/to-event.ts';

const NOW = new Date('2026-01-02T03:04:05.000Z');
const CONN = {
  ip: '192.0.2.10',
  port: 50000,
  localIp: '192.0.2.1',
  localPort: 1883,
  transport: 'tcp' as const,
};

describe('MQTT to event', () => {
  it('names the device by client id and user, and leaves out what the connection did not say', () => {
    const e = mqttEvent(
      {
        ...CONN,
        clientId: 'pump-7',
        username: 'alice',
        protocolLevel: 4,
        identity: { username: 'alice', anonymous: false, method: 'password' },
      },
      {
        action: 'mqtt.connect',
        kind: 'audit',
        severity: 6,
        message: 'pump-7 connected',
        fields: { keepalive_secs: undefined, clean_session: true },
      },
      NOW,
      'plain',
    );
    assert.deepEqual(e.device, { id: 'mqtt:pump-7', protocol_id: 'pump-7', name: 'alice' });
    assert.deepEqual(e.src, { ip: '192.0.2.10', port: 50000 });
    assert.deepEqual(e.dst, { ip: '192.0.2.1', port: 1883 });
    assert.deepEqual(e.fields, {
      client_id: 'pump-7',
      username: 'alice',
      protocol_version: '3.1.1',
      transport: 'tcp',
      listener: 'plain',
      clean_session: true,
    });
    assert.equal(e.ts, NOW.toISOString());
    const stored = eventSchema.safeParse({
      ...e,
      v: EVENT_SCHEMA_VERSION,
      gateway: 'gw-1',
      seq: 1,
      id: 'gw-1:1',
    });
    assert.ok(stored.success, stored.success ? '' : stored.error.message);
  });

  it('has no device before the CONNECT named a client', () => {
    const e = mqttEvent(
      CONN,
      { action: 'mqtt.connection_closed', kind: 'audit', severity: 6, message: 'closed' },
      NOW,
      '',
    );
    assert.equal(e.device, undefined);
    assert.deepEqual(e.fields, { transport: 'tcp', listener: '' });
  });

  it('says a rate crossing, and a block with its length, level and end', () => {
    const crossing = {
      counter: 'auth_failures',
      keyType: 'src_ip',
      key: '192.0.2.66',
      count: 10,
      threshold: 10,
      windowSecs: 60,
    };
    const rate = rateExceededSpec(crossing);
    assert.equal(rate.action, 'mqtt.rate_exceeded');
    assert.equal(rate.message, '10 auth failures from src_ip 192.0.2.66 within 60 s (threshold 10)');
    const until = new Date(NOW.getTime() + 120_000);
    const blocked = blockedSpec(crossing, { secs: 120, level: 2, until });
    assert.match(blocked.message, /address blocked for 120 s \(block 2\)$/);
    assert.equal(blocked.fields?.blocked_secs, 120);
    assert.equal(blocked.fields?.blocked_until, until.toISOString());
    assert.deepEqual(blocked.tags, ['rate', 'blocked']);
  });
});
