/**
 * The link codec v1 and v2 (protocols/link/SPEC.md): every message type round-trips, and every
 * kind of bad frame becomes a typed error; a rule set's version is its content hash (§8.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeLinkMessage,
  encodeLinkMessage,
  estimateClockOffset,
  LINK_MAX_RULE_DOCUMENTS,
  type LinkMessage,
  ruleSetVersion,
} from '../../../protocols/link/codec.ts';

const DOCS = ['title: a\nlogsource: {product: syslog}\ndetection: {s: {action: x}, condition: s}\n'];
const VERSION = ruleSetVersion(DOCS);

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
  { type: 'held', batch_id: 8 },
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
  {
    type: 'hello',
    v: 2,
    gateway: 'plant1-gw',
    sent_at: 1_700_000_000_000,
    proof: 'c2lnbmF0dXJl',
    rules_version: VERSION,
  },
  { type: 'rules', id: 'central-edge', version: VERSION, documents: DOCS },
  { type: 'rules_status', id: 'central-edge', version: VERSION, requested: VERSION, ok: true, rules: 1 },
  {
    type: 'rules_status',
    id: 'local',
    version: VERSION,
    requested: VERSION,
    ok: false,
    rules: 12,
    error: 'r1: detection.sel.x|re: invalid regex',
  },
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
    [
      'rules with a version not a sha256',
      '{"type":"rules","id":"s","version":"v1","documents":[]}',
      'invalid_message',
    ],
    [
      'rules with too many documents',
      JSON.stringify({
        type: 'rules',
        id: 's',
        version: VERSION,
        documents: new Array(LINK_MAX_RULE_DOCUMENTS + 1).fill('x'),
      }),
      'invalid_message',
    ],
    [
      'rules larger than 8 MiB together',
      JSON.stringify({
        type: 'rules',
        id: 's',
        version: VERSION,
        documents: new Array(40).fill('x'.repeat(250_000)),
      }),
      'invalid_message',
    ],
    ['rules_status without requested', '{"type":"rules_status","ok":true}', 'invalid_message'],
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

describe('rule set versions (SPEC §8.2)', () => {
  it('are the sha256 of the documents: same content same version, any change another', () => {
    assert.match(VERSION, /^sha256:[0-9a-f]{64}$/);
    assert.equal(ruleSetVersion([...DOCS]), VERSION);
    assert.notEqual(ruleSetVersion([`${DOCS[0]} `]), VERSION);
    assert.notEqual(ruleSetVersion(['a', 'b']), ruleSetVersion(['b', 'a']), 'order is content');
    assert.notEqual(ruleSetVersion(['ab']), ruleSetVersion(['a', 'b']), 'document boundaries are content');
  });
});
