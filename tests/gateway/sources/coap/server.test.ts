/**
 * The CoAP source with raw datagrams from our own codec: a reading is answered 2.04 only once
 * durable (piggybacked on the ACK), a retransmission in progress is not a second reading (RFC 7252
 * §4.5), malformed datagrams are events answered with a Reset (§4.2), discovery by an unverified
 * source gets a 4.01 Echo challenge and the repeat with the Echo value gets the resource list
 * (RFC 9175 §2.4), unknown sources and methods not allowed are flagged.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import type { Source } from '../../../../gateway/pipeline/types.ts';
import { coapSourceSchema } from '../../../../gateway/sources/coap/config.ts';
import { createCoapSource } from '../../../../gateway/sources/coap/index.ts';
import { type CoapMessage, decodeCoapMessage, encodeCoapMessage } from '../../../../protocols/coap/index.ts';
import { portOf, type RecordingContext, recordingContext } from '../support.ts';

let ctx: RecordingContext;
let source: Source;
let client: dgram.Socket;
let port: number;
let mid = 100;

const path = (p: string) =>
  p
    .split('/')
    .filter(Boolean)
    .map((s) => ({ number: 11, value: Buffer.from(s) }));

function exchange(bytes: Uint8Array, timeoutMs = 3000): Promise<CoapMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer')), timeoutMs);
    client.once('message', (msg) => {
      clearTimeout(timer);
      const r = decodeCoapMessage(msg);
      if (r.ok) resolve(r.message);
      else reject(new Error(JSON.stringify(r.error)));
    });
    client.send(bytes, port, '127.0.0.1');
  });
}

before(async () => {
  ctx = recordingContext();
  source = createCoapSource(
    'coap_in',
    coapSourceSchema.parse({
      type: 'coap',
      listen: '127.0.0.1:0',
      resources: [
        { path: '/readings/#', methods: ['POST', 'PUT'], title: 'readings' },
        { path: '/logs' },
        { path: '/firmware', methods: ['GET'] },
      ],
      known_sources: ['10.0.0.0/8'],
      amplification_factor: 2,
      telemetry: [{ match: 'readings/#' }],
    }),
    ctx,
  );
  await source.start();
  port = portOf(source, 'udp');
  client = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', () => resolve()));
});

after(async () => {
  client.close();
  await source.stop();
});

describe('readings', () => {
  it('answers a CON POST with a piggybacked 2.04 only once the reading is durable', async () => {
    ctx.hold = true;
    const id = ++mid;
    const req = encodeCoapMessage({
      type: 'CON',
      code: 2,
      messageId: id,
      token: Buffer.from('t1'),
      options: [...path('/readings/boiler'), { number: 12, value: Buffer.from([50]) }],
      payload: Buffer.from('{"c":70.5}'),
    });
    const answer = exchange(req);
    let answered = false;
    void answer.then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 150));
    client.send(req, port, '127.0.0.1'); // a retransmission while the first is in progress
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(answered, false, 'no ACK before the event is durable');
    ctx.release();
    const m = await answer;
    assert.deepEqual([m.type, m.codeText, m.messageId], ['ACK', '2.04', id]);
    const e = await ctx.waitEvent((x) => x.action === 'coap.telemetry' && x.fields.message_id === id);
    assert.deepEqual(e.fields.values, { c: 70.5 });
    assert.equal(e.fields.response_code, '2.04');
    assert.equal(e.fields.known_source, false);
    assert.equal(
      ctx.events.filter((x) => x.action === 'coap.telemetry' && x.fields.message_id === id).length,
      1,
      'one reading, not two',
    );
  });

  it('flags a source outside known_sources once per interval', async () => {
    const e = await ctx.waitEvent((x) => x.action === 'coap.unknown_source');
    assert.equal(e.src?.ip, '127.0.0.1');
    assert.equal(ctx.byAction('coap.unknown_source').length, 1);
  });
});

describe('security checks', () => {
  it('answers 4.05 to a method the resource does not allow, with an event', async () => {
    const m = await exchange(
      encodeCoapMessage({ type: 'CON', code: 4, messageId: ++mid, options: path('/logs') }),
    );
    assert.equal(m.codeText, '4.05');
    const e = await ctx.waitEvent((x) => x.action === 'coap.method_not_allowed');
    assert.deepEqual(
      [e.fields.method, e.fields.path, e.fields.allowed],
      ['DELETE', '/logs', ['POST', 'PUT']],
    );
  });

  it('challenges discovery from an unverified source with Echo (RFC 9175 §2.4), then serves the repeat', async () => {
    const wk = path('/.well-known/core');
    const first = await exchange(encodeCoapMessage({ type: 'CON', code: 1, messageId: ++mid, options: wk }));
    assert.equal(first.codeText, '4.01');
    const echo = first.options.find((o) => o.number === 252);
    assert.ok(echo && echo.value.length > 0, 'an Echo option');
    const risk = await ctx.waitEvent((x) => x.action === 'coap.amplification_risk');
    assert.equal(risk.fields.mitigation, 'echo_challenge');
    await ctx.waitEvent((x) => x.action === 'coap.discovery');
    const second = await exchange(
      encodeCoapMessage({
        type: 'CON',
        code: 1,
        messageId: ++mid,
        options: [...wk, { number: 252, value: echo.value }],
      }),
    );
    assert.equal(second.codeText, '2.05');
    assert.match(Buffer.from(second.payload).toString(), /<\/readings>;title="readings"/);
  });

  it('reports a malformed datagram and answers a readable CON with a Reset (RFC 7252 §4.2)', async () => {
    // CON, token length 9 (reserved, §3), message id 0x1234
    const m = await exchange(Uint8Array.from([0x49, 0x01, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert.deepEqual([m.type, m.messageId], ['RST', 0x1234]);
    const e = await ctx.waitEvent((x) => x.action === 'coap.malformed');
    assert.equal(e.fields.code, 'invalid_token_length');
    assert.equal(e.fields.reset_sent, true);
  });

  it('records every other request with its response code', async () => {
    const m = await exchange(
      encodeCoapMessage({ type: 'CON', code: 1, messageId: ++mid, options: path('/nothing-here') }),
    );
    assert.equal(m.codeText, '4.04');
    const e = await ctx.waitEvent((x) => x.action === 'coap.request' && x.fields.path === '/nothing-here');
    assert.deepEqual([e.fields.method, e.fields.response_code, e.kind], ['GET', '4.04', 'security']);
  });
});
