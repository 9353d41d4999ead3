/**
 * Property tests for the link codec: any bytes or text in gives a message or a typed error,
 * never an exception; any valid message encodes and decodes back to itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeLinkMessage,
  encodeLinkMessage,
  type LinkMessage,
  ruleSetVersion,
} from '../../protocols/link/codec.ts';

const millis = fc.integer({ min: 0, max: 8.64e15 });
const gateway = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const count = fc.nat({ max: 1_000_000 });

const version = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);
const setId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/);
const b64url = (min: number, max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${min},${max}}$`));

const message: fc.Arbitrary<LinkMessage> = fc.oneof(
  fc.record({
    type: fc.constant('challenge' as const),
    v: fc.integer({ min: 1, max: 9 }),
    nonce: b64url(43, 128),
  }),
  fc.record(
    {
      type: fc.constant('hello' as const),
      v: fc.integer({ min: 1, max: 9 }),
      gateway,
      sent_at: millis,
      software: fc.string({ maxLength: 128 }),
      proof: b64url(1, 200),
      rules_version: version,
    },
    { requiredKeys: ['type', 'v', 'gateway', 'sent_at', 'proof'] },
  ),
  fc.array(fc.string({ maxLength: 300 }), { maxLength: 8 }).chain((documents) =>
    fc.record({
      type: fc.constant('rules' as const),
      id: setId,
      version: fc.constant(ruleSetVersion(documents)),
      documents: fc.constant(documents),
    }),
  ),
  fc.record(
    {
      type: fc.constant('rules_status' as const),
      id: setId,
      version,
      requested: version,
      ok: fc.boolean(),
      rules: count,
      error: fc.string({ maxLength: 4096 }),
    },
    { requiredKeys: ['type', 'requested', 'ok'] },
  ),
  fc.record({ type: fc.constant('flow' as const), max_in_flight: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    type: fc.constant('welcome' as const),
    v: fc.integer({ min: 1, max: 9 }),
    central_time: millis,
    max_batch_events: fc.integer({ min: 1, max: 10_000 }),
    heartbeat_interval_ms: fc.integer({ min: 1, max: 3_600_000 }),
  }),
  fc.record({
    type: fc.constant('batch' as const),
    batch_id: fc.nat(),
    events: fc.array(fc.jsonValue(), { maxLength: 20 }),
  }),
  fc.record(
    {
      type: fc.constant('ack' as const),
      batch_id: fc.nat(),
      inserted: count,
      duplicates: count,
      rejected: count,
      delay_ms: fc.integer({ min: 0, max: 60_000 }),
    },
    { requiredKeys: ['type', 'batch_id', 'inserted', 'duplicates', 'rejected'] },
  ),
  fc.record(
    { type: fc.constant('heartbeat' as const), sent_at: millis },
    { requiredKeys: ['type', 'sent_at'] },
  ),
  fc.record({
    type: fc.constant('error' as const),
    code: fc.constantFrom('unsupported_version', 'unauthorized', 'bad_message', 'too_large', 'internal'),
    message: fc.string({ maxLength: 200 }),
  }),
) as fc.Arbitrary<LinkMessage>;

describe('link codec properties', () => {
  it('any bytes decode to a message or a typed error, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const result = decodeLinkMessage(bytes);
        assert.equal(typeof result.ok, 'boolean');
        if (!result.ok)
          assert.match(result.error.code, /^(too_large|invalid_utf8|invalid_json|invalid_message)$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('any JSON value decodes to a message or a typed error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = decodeLinkMessage(JSON.stringify(value) ?? 'null');
        assert.equal(typeof result.ok, 'boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('what it encodes, it decodes back', () => {
    fc.assert(
      fc.property(message, (m) => {
        // JSON has no -0: normalise the expectation the way JSON.stringify does.
        const expected = JSON.parse(JSON.stringify(m));
        assert.deepEqual(decodeLinkMessage(encodeLinkMessage(m)), { ok: true, message: expected });
      }),
      { numRuns: 1000 },
    );
  });

  it('truncating a valid message never throws', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const text = encodeLinkMessage(m);
        decodeLinkMessage(text.slice(0, cut % (text.length + 1)));
      }),
      { numRuns: 1000 },
    );
  });
});
