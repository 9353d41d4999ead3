/**
 * Property tests for the CoAP codec: any datagram decodes to a message or a typed error, never an
 * exception; encode → decode gives the message back (options in number order, RFC 7252 §3.1);
 * and the gateway's CoAP source survives a burst of random datagrams, counting each bad one.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { coapSourceSchema } from '../../gateway/sources/coap/config.ts';
import { createCoapSource } from '../../gateway/sources/coap/index.ts';
import { decodeCoapMessage, encodeCoapMessage } from '../../protocols/coap/index.ts';
import { portOf, recordingContext } from '../gateway/sources/support.ts';
import { waitFor } from '../support/env.ts';

const CODES = new Set([
  'too_short',
  'invalid_version',
  'invalid_token_length',
  'invalid_option',
  'empty_payload',
  'invalid_empty_message',
  'too_large',
]);

const headerish = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 }))
  .map(([b0, code, rest]) => Uint8Array.from([0x40 | (b0 & 0x3f), code, 0x12, 0x34, ...rest]));

describe('CoAP codec properties', () => {
  test('any bytes: a message or a typed error, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), headerish), (bytes) => {
        const r = decodeCoapMessage(bytes, { maxMessageBytes: 150 });
        if (!r.ok) assert.ok(CODES.has(r.error.code), r.error.code);
      }),
      { numRuns: 5000 },
    );
  });

  test('encode → decode round trip', () => {
    const option = fc.record({
      number: fc.integer({ min: 1, max: 2000 }),
      value: fc.uint8Array({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(
        fc.constantFrom('CON', 'NON', 'ACK', 'RST') as fc.Arbitrary<'CON' | 'NON' | 'ACK' | 'RST'>,
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 65_535 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.array(option, { maxLength: 6 }),
        fc.uint8Array({ maxLength: 100 }),
        (type, code, messageId, token, options, payload) => {
          const r = decodeCoapMessage(encodeCoapMessage({ type, code, messageId, token, options, payload }));
          assert.ok(r.ok, JSON.stringify(r));
          const sorted = [...options].sort((a, b) => a.number - b.number);
          assert.deepEqual(
            [
              r.message.type,
              r.message.code,
              r.message.messageId,
              [...r.message.token],
              r.message.options.map((o) => [o.number, [...o.value]]),
              [...r.message.payload],
            ],
            [type, code, messageId, [...token], sorted.map((o) => [o.number, [...o.value]]), [...payload]],
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('the CoAP source counts random datagrams and keeps answering', async () => {
    const ctx = recordingContext();
    const source = createCoapSource(
      'coap_fuzz',
      coapSourceSchema.parse({ type: 'coap', listen: '127.0.0.1:0', resources: [{ path: '/r' }] }),
      ctx,
    );
    await source.start();
    const port = portOf(source, 'udp');
    const client = dgram.createSocket('udp4');
    try {
      const samples = fc.sample(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 200 }), headerish), {
        numRuns: 300,
        seed: Date.now(),
      });
      const bad = samples.filter((s) => !decodeCoapMessage(s, { maxMessageBytes: 1152 }).ok).length;
      // Paced: a burst larger than the socket buffer would be lost by the kernel, not by us.
      for (const [i, s] of samples.entries()) {
        client.send(s, port, '127.0.0.1');
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
      }
      await waitFor(() => (ctx.byAction('coap.malformed').length >= bad ? true : undefined), {
        what: `${bad} malformed events`,
      }).catch((e: Error) => {
        throw new Error(
          `${e.message}; got ${ctx.byAction('coap.malformed').length}, of ${samples.length} sent`,
        );
      });
      const answer = new Promise<Buffer>((resolve) =>
        client.on('message', (m) => {
          const r = decodeCoapMessage(m);
          if (r.ok && r.message.messageId === 4242) resolve(m);
        }),
      );
      client.send(
        encodeCoapMessage({
          type: 'CON',
          code: 2,
          messageId: 4242,
          options: [{ number: 11, value: Buffer.from('r') }],
          payload: Buffer.from('1'),
        }),
        port,
        '127.0.0.1',
      );
      const m = decodeCoapMessage(await answer);
      assert.ok(m.ok && m.message.codeText === '2.04');
    } finally {
      client.close();
      await source.stop();
    }
  });
});
