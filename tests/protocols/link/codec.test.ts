/**
 * The link codec v1 (protocols/link/SPEC.md): every message type round-trips, and every kind
 * of bad frame becomes a typed error.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeLinkMessage,
  encodeLinkMessage,
  estimateClockOffset,
  type LinkMessage,
} from '../../../protocols/link/codec.ts';

const EXAMPLES: LinkMessage[] = [
  {
    type: 'hello',
    v: 1,
    gateway: 'plant1-gw',
    sent_at: 1_700_000_000_000,
    software: 'edge-siem-gateway/0.1.0',
    proof: 'c2lnbmF0dXJlLW9mLXRoZS1jaGFsbGVuZ2U',
  },
  { type: 'challenge', v: 1, nonce: 'bm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2Utbm9uY2U' },
  { type: 'flow', max_in_flight: 1 },
  { type: 'ack', batch_id: 8, inserted: 10, duplicates: 0, rejected: 0, delay_ms: 250 },
  {
    type: 'welcome',
    v: 1,
    central_time: 1_700_000_000_010,
    max_batch_events: 5000,
    heartbeat_interval_ms: 10_000,
  },
  { type: 'batch', batch_id: 7, events: [{ anything: 'validated by central per event' }] },
  { type: 'ack', batch_id: 7, inserted: 1, duplicates: 0, rejected: 0 },
  { type: 'heartbeat', sent_at: 1_700_000_000_000 },
  { type: 'heartbeat', sent_at: 1_700_000_000_050, echo: 1_700_000_000_000 },
  { type: 'error', code: 'unauthorized', message: 'the token was not issued to this gateway' },
];

describe('link codec v1', () => {
  for (const message of EXAMPLES) {
    it(`round-trips ${message.type}${'echo' in message ? ' (answer)' : ''}`, () => {
      const text = encodeLinkMessage(message);
      assert.deepEqual(decodeLinkMessage(text), { ok: true, message });
      assert.deepEqual(decodeLinkMessage(new TextEncoder().encode(text)), { ok: true, message });
    });
  }

  const bad: Array<[string, string | Uint8Array, string]> = [
    ['not JSON', '{"type":', 'invalid_json'],
    ['JSON but not an object', '42', 'invalid_message'],
    ['unknown type', '{"type":"bogus"}', 'invalid_message'],
    ['unknown field (newer peer)', '{"type":"heartbeat","sent_at":1,"extra":true}', 'invalid_message'],
    ['hello without a gateway', '{"type":"hello","v":1,"sent_at":1}', 'invalid_message'],
    ['gateway id with a slash', '{"type":"hello","v":1,"gateway":"a/b","sent_at":1}', 'invalid_message'],
    ['negative batch id', '{"type":"batch","batch_id":-1,"events":[]}', 'invalid_message'],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'invalid_utf8'],
  ];
  for (const [what, input, code] of bad) {
    it(`rejects ${what} as ${code}`, () => {
      const result = decodeLinkMessage(input);
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.error.code, code);
    });
  }

  it('refuses frames over the size limit before parsing them', () => {
    const big = encodeLinkMessage({ type: 'batch', batch_id: 1, events: ['x'.repeat(2000)] });
    const result = decodeLinkMessage(big, { maxBytes: 1000 });
    assert.deepEqual(result.ok ? undefined : result.error.code, 'too_large');
    const bytes = decodeLinkMessage(new TextEncoder().encode(big), { maxBytes: 1000 });
    assert.deepEqual(bytes.ok ? undefined : bytes.error.code, 'too_large');
  });

  it('refuses batches over 10,000 events', () => {
    const events = Array.from({ length: 10_001 }, () => 0);
    const result = decodeLinkMessage(JSON.stringify({ type: 'batch', batch_id: 1, events }));
    assert.equal(result.ok, false);
  });

  it('estimates the clock offset from one heartbeat round trip (SPEC §5.2)', () => {
    // Gateway 5 s ahead of central, 40 ms round trip: sent 10_000 (gw), central stamps 5_020, back at 10_040.
    assert.equal(estimateClockOffset(10_000, 5_020, 10_040), 5000);
    assert.equal(estimateClockOffset(10_000, 10_020, 10_040), 0);
  });
});
