/**
 * Property tests for the MQTT codec: any bytes decode to a packet or a typed error, never an
 * exception; the frame scanner finds the same packet boundaries as the whole-stream splitter
 * however the stream is chunked; packets written by mqtt-packet (mqtt.js' own encoder) decode
 * back to what was written; and the topic ACL helpers agree with matching.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import {
  createMqttFrameScanner,
  decodeMqttPacket,
  decodeMqttStream,
  filterCovers,
  matchTopic,
  splitMqttFrames,
} from '../../protocols/mqtt/index.ts';

const CODES = new Set([
  'invalid_remaining_length',
  'too_large',
  'reserved_type',
  'invalid_flags',
  'invalid_qos',
  'length_mismatch',
  'invalid_protocol',
  'invalid_connect_flags',
  'invalid_utf8',
  'invalid_topic',
  'empty_payload',
  'invalid_property',
  'invalid_packet_id',
  'unexpected_packet',
]);

/** Packets steered towards the interesting branches: a valid first byte and a plausible length. */
const packetish = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 64 }))
  .map(([first, body]) => Uint8Array.from([first, body.length, ...body]));

describe('MQTT codec properties', () => {
  test('any bytes: a packet or a typed error, never a throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 300 }), packetish),
        fc.constantFrom(3, 4, 5),
        (bytes, level) => {
          const r = decodeMqttPacket(bytes, { protocolLevel: level, maxPacketBytes: 256 });
          if (!r.ok) assert.ok(CODES.has(r.error.code), r.error.code);
          const s = decodeMqttStream(bytes, { protocolLevel: level });
          for (const item of s.items) if (!item.result.ok) assert.ok(CODES.has(item.result.error.code));
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('the scanner sees the splitter’s packets whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(packetish, { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 20 }),
        (packets, cuts) => {
          const stream = Uint8Array.from(packets.flatMap((p) => [...p]));
          const split = splitMqttFrames(stream);
          const scanner = createMqttFrameScanner();
          const seen: number[] = [];
          let at = 0;
          let i = 0;
          while (at < stream.length) {
            const n = cuts[i++ % cuts.length]!;
            seen.push(
              ...scanner
                .push(stream.subarray(at, at + n))
                .headers.map((h) => h.headerLength + h.remainingLength),
            );
            at += n;
          }
          assert.deepEqual(
            seen,
            split.frames.map((f) => f.length),
          );
        },
      ),
    );
  });

  const str = fc
    .string({ minLength: 1, maxLength: 20 })
    .filter((s) => !/[#+\u0000]/.test(s) && !s.startsWith('$'));
  test('mqtt-packet → our decoder: PUBLISH, SUBSCRIBE and CONNECT round trip (3.1.1 and 5.0)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4, 5),
        str,
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom(0, 1, 2),
        fc.boolean(),
        fc.integer({ min: 1, max: 65_535 }),
        str,
        (level, topic, payload, qos, retain, id, clientId) => {
          const opts = { protocolVersion: level };
          const pub = mqttPacket.generate(
            { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain, dup: false, messageId: id },
            opts,
          );
          const p = decodeMqttPacket(pub, { protocolLevel: level });
          assert.ok(p.ok && p.packet.type === 'publish', JSON.stringify(p));
          assert.deepEqual(
            [p.packet.topic, Buffer.from(p.packet.payload), p.packet.qos, p.packet.retain],
            [topic, Buffer.from(payload), qos, retain],
          );
          if (qos > 0) assert.equal(p.packet.messageId, id);
          const sub = mqttPacket.generate(
            { cmd: 'subscribe', messageId: id, subscriptions: [{ topic: `${topic}/#`, qos }] },
            opts,
          );
          const s = decodeMqttPacket(sub, { protocolLevel: level });
          assert.ok(s.ok && s.packet.type === 'subscribe');
          assert.deepEqual(
            s.packet.subscriptions.map((x) => [x.topic, x.qos]),
            [[`${topic}/#`, qos]],
          );
          const con = mqttPacket.generate(
            {
              cmd: 'connect',
              protocolId: 'MQTT',
              protocolVersion: level,
              clientId,
              clean: true,
              keepalive: 30,
              username: 'u',
              password: Buffer.from('p'),
            },
            opts,
          );
          const c = decodeMqttPacket(con);
          assert.ok(c.ok && c.packet.type === 'connect');
          assert.deepEqual(
            [c.packet.clientId, c.packet.protocolLevel, c.packet.username, c.packet.keepalive],
            [clientId, level, 'u', 30],
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a filter that covers a topic filter matches every topic that one matches', () => {
    const level = fc.constantFrom('a', 'b', '+', '#');
    const filter = fc
      .array(level, { minLength: 1, maxLength: 4 })
      .map((l) => l.filter((x, i) => x !== '#' || i === l.length - 1).join('/') || 'a');
    const topic = fc
      .array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 4 })
      .map((l) => l.join('/'));
    fc.assert(
      fc.property(filter, filter, topic, (allowed, requested, t) => {
        if (filterCovers(allowed, requested) && matchTopic(requested, t))
          assert.ok(matchTopic(allowed, t), `${allowed} ⊇ ${requested} ∋ ${t}`);
      }),
      { numRuns: 3000 },
    );
  });
});
