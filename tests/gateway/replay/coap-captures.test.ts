/**
 * CoAP in captures, through the decoder `replay` and the live capture source share: nDPI's real
 * capture (IPv6 probes that get no answer, a separate response, a storage resource, a 4.05) is
 * checked against tshark's reading of every frame (expected-tshark/coap_mqtt.coap.csv): each
 * request has one `coap.request` naming its frame, with tshark's method, message id, token and
 * path, and the response code of the frame that answered it, paired as RFC 7252 §5.2 says
 * (piggybacked: same message id; separate: same token). Then a built capture shows discovery,
 * amplification to an unverified client and none after an Echo (RFC 9175 §2.4), a retransmission
 * counted once, Observe notifications, and a malformed datagram as a counted event.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCaptureDecoder } from '../../../gateway/sources/capture/decoder.ts';
import {
  COAP_METHODS,
  COAP_OPTION,
  codeText,
  encodeCoapMessage,
  uintOption,
} from '../../../protocols/coap/index.ts';
import { type Event, type PendingEvent, parseEvent } from '../../../protocols/event/schema.ts';
import { LINKTYPE } from '../../../protocols/pcap/index.ts';
import { replayFiles } from '../../../gateway/replay/index.ts';
import { sharedData } from '../../support/env.ts';
import { readTsharkCsv } from '../../protocols/syslog/traces.ts';
import { ipv4, udp } from '../../protocols/pcap/builders.ts';

test('nDPI coap_mqtt.pcap: every request paired with its response as tshark reads the frames', async (t) => {
  const pcap = sharedData(t, 'ndpi', 'coap_mqtt.pcap');
  const csv = sharedData(t, 'ndpi', 'expected-tshark', 'coap_mqtt.coap.csv');
  if (!pcap || !csv) return;
  const events: Event[] = [];
  await replayFiles([pcap], { write: (l) => events.push(JSON.parse(l) as Event) });
  const coap = events.filter((e) => e.source === 'coap');
  for (const e of coap) assert.ok(parseEvent(e).ok, JSON.stringify(e));
  const rows = new Map(readTsharkCsv(csv).map((r) => [Number(r['frame.number']), r]));
  const requests = [...rows.values()].filter(
    (r) => Number(r['coap.code']) >= 1 && Number(r['coap.code']) < 32,
  );
  assert.equal(requests.length, 11);
  const answered = new Set<number>();
  for (const row of requests) {
    const frame = Number(row['frame.number']);
    const mine = coap.filter((e) => e.action === 'coap.request' && e.fields.request_frame === frame);
    assert.equal(mine.length, 1, `frame ${frame}: one coap.request`);
    const e = mine[0]!;
    const where = `frame ${frame}`;
    assert.equal(e.fields.method, COAP_METHODS[Number(row['coap.code'])], `${where} method`);
    assert.equal(String(e.fields.message_id), row['coap.mid'], `${where} message id`);
    assert.equal(e.fields.token ?? '', row['coap.token'], `${where} token`);
    assert.equal(e.src?.ip, row['ipv6.src'], `${where} client`);
    if (row['coap.opt.uri_path_recon']?.startsWith('/'))
      assert.equal(e.fields.path, row['coap.opt.uri_path_recon'], `${where} path`);
    if (e.fields.response_code === undefined) {
      assert.equal(e.fields.no_response, true);
      continue;
    }
    const answer = rows.get(e.fields.frame as number)!;
    answered.add(e.fields.frame as number);
    assert.equal(codeText(Number(answer['coap.code'])), e.fields.response_code, `${where} response code`);
    assert.equal(answer['ipv6.src'], row['ipv6.dst'], `${where} answered by the server`);
    const piggybacked = answer['coap.type'] === '2';
    assert.ok(
      piggybacked ? answer['coap.mid'] === row['coap.mid'] : answer['coap.token'] === row['coap.token'],
      `${where}: paired by ${piggybacked ? 'message id' : 'token'} (RFC 7252 §5.2)`,
    );
  }
  // Every response tshark saw answers one of the requests (empty ACKs carry code 0).
  const responses = [...rows.values()].filter((r) => Number(r['coap.code']) >= 64);
  assert.deepEqual(
    responses.map((r) => Number(r['frame.number'])),
    [...answered].sort((a, b) => a - b),
  );
  // The four probes without an answer came from a client nobody replied to.
  assert.equal(coap.filter((e) => e.fields.no_response === true).length, 5);
  const notAllowed = coap.filter((e) => e.action === 'coap.method_not_allowed');
  assert.deepEqual(
    notAllowed.map((e) => [e.fields.method, e.fields.request_frame, e.fields.frame]),
    [['PUT', 12, 13]],
  );
});

/** A capture built frame by frame: raw IPv4 datagrams on the CoAP port. */
function coapCapture() {
  const decoder = createCaptureDecoder();
  const events: PendingEvent[] = [];
  let frame = 0;
  let ms = Date.UTC(2024, 0, 1);
  const send = (from: [string, number], to: [string, number], bytes: Uint8Array, afterMs = 10) => {
    ms += afterMs;
    frame++;
    events.push(
      ...decoder.packet(LINKTYPE.RAW, ipv4(from[0], to[0], 17, udp(from[1], to[1], bytes)), {
        frame,
        ts: new Date(ms),
      }),
    );
    return frame;
  };
  return { decoder, events, send, finish: () => events.push(...decoder.flush()) };
}

const client: [string, number] = ['10.0.0.7', 40_001];
const server: [string, number] = ['10.0.0.1', 5683];
const path = (p: string) =>
  p.split('/').map((s) => ({ number: COAP_OPTION.URI_PATH, value: Buffer.from(s) }));
const linkFormat = Buffer.from(
  '</sensors/temp>;rt="temperature";if="sensor",</sensors/hum>;rt="humidity",</fw>'.repeat(3),
);

test('discovery, amplification, Echo, retransmission, Observe and a malformed datagram', () => {
  const c = coapCapture();
  const token = Uint8Array.from([1, 2]);
  // GET /.well-known/core (CON), retransmitted once, answered by a large piggybacked 2.05.
  const get = encodeCoapMessage({
    type: 'CON',
    code: 1,
    messageId: 100,
    token,
    options: path('.well-known/core'),
  });
  const first = c.send(client, server, get);
  c.send(client, server, get, 2000);
  const big = encodeCoapMessage({ type: 'ACK', code: 69, messageId: 100, token, payload: linkFormat });
  const answer = c.send(server, client, big);
  // The server challenges the next one with Echo (4.01); the client repeats it with the value.
  const echo = Uint8Array.from([9, 9, 9, 9]);
  const again = { type: 'CON' as const, code: 1, token, options: path('.well-known/core') };
  c.send(client, server, encodeCoapMessage({ ...again, messageId: 101 }));
  c.send(
    server,
    client,
    encodeCoapMessage({
      type: 'ACK',
      code: 129,
      messageId: 101,
      token,
      options: [{ number: COAP_OPTION.ECHO, value: echo }],
    }),
  );
  c.send(
    client,
    server,
    encodeCoapMessage({
      ...again,
      messageId: 102,
      options: [...path('.well-known/core'), { number: COAP_OPTION.ECHO, value: echo }],
    }),
  );
  c.send(
    server,
    client,
    encodeCoapMessage({ type: 'ACK', code: 69, messageId: 102, token, payload: linkFormat }),
  );
  // GET /sensors/temp with Observe 0; two notifications follow (RFC 7641).
  const obs = Uint8Array.from([7]);
  const observe = c.send(
    client,
    server,
    encodeCoapMessage({
      type: 'CON',
      code: 1,
      messageId: 103,
      token: obs,
      options: [{ number: COAP_OPTION.OBSERVE, value: uintOption(0) }, ...path('sensors/temp')],
    }),
  );
  c.send(
    server,
    client,
    encodeCoapMessage({
      type: 'ACK',
      code: 69,
      messageId: 103,
      token: obs,
      options: [{ number: COAP_OPTION.OBSERVE, value: uintOption(1) }],
      payload: Buffer.from('21.5'),
    }),
  );
  const note = c.send(
    server,
    client,
    encodeCoapMessage({
      type: 'NON',
      code: 69,
      messageId: 9000,
      token: obs,
      options: [{ number: COAP_OPTION.OBSERVE, value: uintOption(2) }],
      payload: Buffer.from('21.7'),
    }),
  );
  // A datagram with token length 9 (reserved, RFC 7252 §3), then a good POST after it.
  const bad = c.send(['10.0.0.66', 5000], server, Uint8Array.from([0x49, 0x01, 0x00, 0x01, 1, 2, 3]));
  const post = c.send(
    client,
    server,
    encodeCoapMessage({
      type: 'NON',
      code: 2,
      messageId: 104,
      options: path('sensors/temp'),
      payload: Buffer.from('{"t":21}'),
    }),
  );
  c.finish();

  for (const e of c.events)
    assert.ok(parseEvent({ v: 1, id: 'g:1', gateway: 'g', seq: 1, ...e }).ok, JSON.stringify(e));
  const of = (action: string) => c.events.filter((e) => e.action === action);
  assert.deepEqual(
    of('coap.discovery').map((e) => [e.fields.request_frame, e.fields.message_id]),
    [
      [first, 100],
      [first + 3, 101],
      [first + 5, 102],
    ],
  );
  const amp = of('coap.amplification_risk');
  assert.equal(amp.length, 1, 'only the unverified exchange');
  assert.deepEqual(
    [amp[0]!.fields.frame, amp[0]!.fields.request_frame, amp[0]!.fields.response_bytes],
    [answer, first, big.length],
  );
  assert.equal(amp[0]!.fields.limit_factor, 3);
  const requests = of('coap.request');
  assert.equal(
    requests.filter((e) => e.fields.message_id === 100).length,
    1,
    'a retransmission is one request',
  );
  assert.equal(c.decoder.stats.coapMessages, 12);
  assert.deepEqual(
    requests.map((e) => [
      e.fields.message_id,
      e.fields.response_code,
      e.fields.echo_challenge ?? false,
      e.fields.echo_verified ?? false,
    ]),
    [
      [100, '2.05', false, false],
      [101, '4.01', true, false],
      [102, '2.05', false, true],
      // Verified once, the client stays verified (RFC 9175 §2.4: the server may remember).
      [103, '2.05', false, true],
      [104, undefined, false, true],
    ],
  );
  assert.deepEqual(
    of('coap.response').map((e) => [e.fields.frame, e.fields.request_frame, e.fields.observe, e.fields.path]),
    [[note, observe, 2, '/sensors/temp']],
  );
  const malformed = of('coap.malformed');
  assert.deepEqual(
    malformed.map((e) => [e.fields.frame, e.fields.code, e.src?.ip, e.tags]),
    [[bad, 'invalid_token_length', '10.0.0.66', ['malformed']]],
  );
  assert.equal(c.decoder.stats.malformed.coap, 1);
  const last = requests.at(-1)!;
  assert.deepEqual(
    [last.fields.request_frame, last.fields.method, last.fields.path, last.fields.no_response],
    [post, 'POST', '/sensors/temp', true],
  );
});
