/**
 * protocols/coap/to-event.ts, the one CoAP → Event builder of the gateway's endpoint and of
 * captures: the device is the endpoint's address (an IPv6 endpoint bracketed with its port), the
 * local address when known, the listener and undefined fields left out, the message bounded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coapEvent } from '../../../protocols/coap/to-event.ts';

const NOW = new Date('2026-01-02T03:04:05.000Z');
const SPEC = { action: 'coap.request', kind: 'telemetry' as const, severity: 6, message: 'POST /temp' };

describe('CoAP to event', () => {
  it('names the device by endpoint address and carries both addresses', () => {
    const e = coapEvent(
      { ...SPEC, fields: { method: 'POST', token: undefined } },
      { ip: '192.0.2.5', port: 5683 },
      { ip: '192.0.2.1', port: 5683 },
      NOW,
      'udp',
    );
    assert.deepEqual(e.device, { id: 'coap:192.0.2.5', protocol_id: '192.0.2.5:5683' });
    assert.deepEqual(e.dst, { ip: '192.0.2.1', port: 5683 });
    assert.deepEqual(e.fields, { listener: 'udp', method: 'POST' });
    assert.equal(e.received, NOW.toISOString());
  });

  it('brackets an IPv6 endpoint, has no destination when the local address is unknown, bounds the message', () => {
    const e = coapEvent(
      { ...SPEC, message: 'x'.repeat(5000) },
      { ip: '2001:db8::5', port: 61616 },
      undefined,
      NOW,
      '',
    );
    assert.equal(e.device?.protocol_id, '[2001:db8::5]:61616');
    assert.equal(e.dst, undefined);
    assert.equal(e.message.length, 4096);
  });
});
