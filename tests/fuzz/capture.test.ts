/**
 * Property tests for the capture decoder's MQTT and CoAP paths (shared by `replay` and the live
 * capture source): whatever the bytes, it never throws; every datagram or packet our codecs refuse
 * is one counted `malformed` event; and a good request or publish next to garbage is never lost.
 * Also: `looksLikeMqttConnect` accepts every CONNECT mqtt-packet writes (3.1, 3.1.1, 5.0) and no
 * other packet.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { createCaptureDecoder } from '../../gateway/sources/capture/decoder.ts';
import { decodeCoapMessage, encodeCoapMessage } from '../../protocols/coap/index.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';
import { decodeMqttPacket, looksLikeMqttConnect } from '../../protocols/mqtt/index.ts';
import { LINKTYPE } from '../../protocols/pcap/index.ts';
import { ipv4, TCP, tcp, udp } from '../protocols/pcap/builders.ts';

const RUNS = { numRuns: 150 };
const T0 = Date.UTC(2024, 0, 1);

const goodRequest = fc.record({
  code: fc.integer({ min: 1, max: 7 }),
  token: fc.uint8Array({ maxLength: 8 }),
  path: fc.array(fc.stringMatching(/^[a-z0-9]{1,12}$/), { maxLength: 4 }),
  payload: fc.uint8Array({ maxLength: 64 }),
});

test('CoAP: garbage datagrams are counted malformed events; good requests among them all appear', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(goodRequest, fc.uint8Array({ maxLength: 80 })), { maxLength: 40 }),
      (items) => {
        const decoder = createCaptureDecoder();
        const events: PendingEvent[] = [];
        const good: number[] = [];
        let refused = 0;
        items.forEach((item, i) => {
          const frame = i + 1;
          let bytes: Uint8Array;
          let src: string;
          if (item instanceof Uint8Array) {
            bytes = item;
            src = '10.0.0.66';
            if (!decodeCoapMessage(bytes).ok) refused++;
          } else {
            bytes = encodeCoapMessage({
              type: 'NON',
              code: item.code,
              messageId: frame,
              token: item.token,
              options: item.path.map((p) => ({ number: 11, value: Buffer.from(p) })),
              payload: item.payload,
            });
            src = '10.0.0.7';
            good.push(frame);
          }
          const packet = ipv4(src, '10.0.0.1', 17, udp(40_000 + frame, 5683, bytes));
          events.push(...decoder.packet(LINKTYPE.RAW, packet, { frame, ts: new Date(T0 + frame) }));
        });
        events.push(...decoder.flush());
        const malformed = events.filter((e) => e.action === 'coap.malformed');
        assert.equal(malformed.length, refused);
        assert.equal(decoder.stats.malformed.coap, refused);
        for (const e of malformed) assert.deepEqual(e.tags, ['malformed']);
        const seen = events
          .filter((e) => e.action === 'coap.request' && e.src?.ip === '10.0.0.7')
          .map((e) => e.fields.request_frame);
        assert.deepEqual(
          seen.sort((a, b) => Number(a) - Number(b)),
          good,
        );
      },
    ),
    RUNS,
  );
});

const topic = fc.stringMatching(/^[a-z]{1,8}(\/[a-z0-9]{1,8}){0,3}$/);
/** A packet with a right length but anything in it (not a CONNECT, which would change the level). */
const garbagePacket = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 100 }))
  .filter(([first]) => first >> 4 !== 1)
  .map(([first, body]) => Uint8Array.from([first, body.length, ...body]));

test('MQTT: malformed packets between publishes are counted events; every publish is kept', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.record({ topic, payload: fc.uint8Array({ maxLength: 200 }) }), garbagePacket), {
        maxLength: 30,
      }),
      (items) => {
        const decoder = createCaptureDecoder();
        const events: PendingEvent[] = [];
        let seq = 1000;
        let frame = 0;
        const send = (flags: number, data: Uint8Array) => {
          frame++;
          const packet = ipv4('10.0.0.7', '10.0.0.1', 6, tcp(40_000, 1883, seq, flags, data));
          seq += data.length + (flags & TCP.SYN ? 1 : 0);
          events.push(...decoder.packet(LINKTYPE.RAW, packet, { frame, ts: new Date(T0 + frame) }));
          return frame;
        };
        send(TCP.SYN, new Uint8Array(0));
        const connect = {
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: 'fuzz',
          clean: true,
        };
        send(TCP.ACK, mqttPacket.generate(connect as mqttPacket.IConnectPacket));
        const good = new Map<number, string>();
        let refused = 0;
        for (const item of items) {
          if (item instanceof Uint8Array) {
            if (!decodeMqttPacket(item, { protocolLevel: 4 }).ok) refused++;
            send(TCP.ACK, item);
          } else {
            const bytes = mqttPacket.generate({
              cmd: 'publish',
              topic: item.topic,
              payload: Buffer.from(item.payload),
              qos: 0,
              retain: false,
              dup: false,
            });
            good.set(send(TCP.ACK, bytes), item.topic);
          }
        }
        events.push(...decoder.flush());
        const malformed = events.filter((e) => e.action === 'mqtt.malformed_packet');
        assert.equal(malformed.length, refused);
        assert.equal(decoder.stats.malformed.mqtt, refused);
        for (const [f, t] of good) {
          const pub = events.filter((e) => e.action === 'mqtt.publish' && e.fields.frame === f);
          assert.deepEqual(
            pub.map((e) => [e.fields.topic, e.fields.client_id]),
            [[t, 'fuzz']],
          );
        }
      },
    ),
    RUNS,
  );
});

test('any bytes on the MQTT and CoAP ports: no exception, every malformed event counted', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 300 })), { maxLength: 20 }),
      (chunks) => {
        const decoder = createCaptureDecoder({ maxMqttPacketBytes: 256 });
        const events: PendingEvent[] = [];
        let seq = 1;
        chunks.forEach(([onTcp, bytes], i) => {
          const packet = onTcp
            ? ipv4(
                '10.0.0.7',
                '10.0.0.1',
                6,
                tcp(40_000, 1883, (seq += bytes.length) - bytes.length, TCP.ACK, bytes),
              )
            : ipv4('10.0.0.7', '10.0.0.1', 17, udp(40_000, 5683, bytes));
          events.push(...decoder.packet(LINKTYPE.RAW, packet, { frame: i + 1, ts: new Date(T0 + i) }));
        });
        events.push(...decoder.flush());
        const tagged = events.filter((e) => e.tags?.includes('malformed')).length;
        assert.equal(tagged, decoder.stats.malformed.mqtt + decoder.stats.malformed.coap);
      },
    ),
    RUNS,
  );
});

test('looksLikeMqttConnect: every CONNECT mqtt-packet writes, and no other packet', () => {
  const connect = fc.record({
    cmd: fc.constant('connect' as const),
    protocolVersion: fc.constantFrom(3, 4, 5),
    clientId: fc.string({ minLength: 1, maxLength: 23 }),
    clean: fc.boolean(),
    keepalive: fc.integer({ min: 0, max: 65_535 }),
    username: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
  });
  fc.assert(
    fc.property(connect, (c) => {
      const p = {
        ...c,
        protocolId: c.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
        ...(c.username === undefined ? {} : { username: c.username }),
      } as mqttPacket.IConnectPacket;
      assert.equal(looksLikeMqttConnect(mqttPacket.generate(p)), true);
    }),
    RUNS,
  );
  const others: mqttPacket.Packet[] = [
    { cmd: 'connack', returnCode: 0, sessionPresent: false },
    { cmd: 'publish', topic: 'MQTT', payload: Buffer.from('MQTT'), qos: 0, retain: false, dup: false },
    { cmd: 'pingreq' },
    { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }] },
  ];
  for (const p of others) assert.equal(looksLikeMqttConnect(mqttPacket.generate(p)), false, p.cmd);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
      // Anything it accepts starts like a CONNECT: type 1, flags 0 ([MQTT-3.1.0-1]).
      if (looksLikeMqttConnect(b)) assert.equal(b[0], 0x10);
    }),
    RUNS,
  );
});
