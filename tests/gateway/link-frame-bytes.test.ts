/**
 * The forwarder's batch frames go to ws without a second copy (issue 18; the 1,000,000-event drain's
 * 150 MB RSS ceiling): ws masks a Buffer it is given into a fresh copy, since it may not change the
 * caller's bytes, so sendTextBuffer hands a frame's ArrayBuffer over to be masked where it is. A
 * real ws server on loopback must still receive every byte as the same text frame. Frames are
 * written into a few buffers used again once the socket has written them (FramePool): the same
 * bytes as a fresh frame, never a buffer still being written.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { FramePool } from '../../gateway/forwarder/batch-frame.ts';
import { sendTextBuffer } from '../../gateway/forwarder/connection.ts';
import { encodeLinkMessage } from '../../protocols/link/codec.ts';
import type { Event } from '../../protocols/event/schema.ts';

/** The batch of `records`' events as the link codec encodes it: what a frame must be, byte for byte. */
const batchFrame = (batchId: number, records: Buffer[]) =>
  Buffer.from(
    encodeLinkMessage({
      type: 'batch',
      batch_id: batchId,
      events: records.flatMap((r) => JSON.parse(r.toString('utf8')) as Event[]),
    }),
  );

describe('link frame bytes', () => {
  let wss: WebSocketServer;
  let ws: WebSocket;
  const received: Array<{ text: string; binary: boolean }> = [];
  let arrived: (() => void) | undefined;

  before(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (s) =>
      s.on('message', (data, binary) => {
        received.push({ text: (data as Buffer).toString('utf8'), binary });
        arrived?.();
      }),
    );
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  });
  after(async () => {
    ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  it('hands an ArrayBuffer over: ws masks it in place and the text arrives whole', async () => {
    const text = `{"type":"batch","batch_id":7,"events":[${Array.from({ length: 300 }, (_, k) => `{"seq":${k},"message":"h\u00e9 ${k}"}`).join(',')}]}`;
    const bytes = Buffer.from(text);
    const ab = new ArrayBuffer(bytes.length);
    new Uint8Array(ab).set(bytes);
    const got = new Promise<void>((resolve) => (arrived = resolve));
    let written = 0;
    sendTextBuffer(ws, ab, () => (written += 1));
    await got;
    assert.deepEqual(received.at(-1), { text, binary: false });
    assert.equal(written, 1);
    // Handed over: ws masked these bytes rather than a copy of them.
    assert.notDeepEqual(Buffer.from(ab), bytes);
  });

  const record = (first: number, n: number) =>
    Buffer.from(
      JSON.stringify(Array.from({ length: n }, (_, k) => ({ seq: first + k, message: `m\u00e9 ${k}` }))),
    );

  it('frames from reused buffers are byte for byte the fresh frames, and arrive whole', async () => {
    const pool = new FramePool(2, 64 * 1024);
    const records = [record(1, 40), Buffer.from('[]'), record(41, 3)];
    const ab = pool.frame(9, records);
    const expected = batchFrame(9, records);
    assert.deepEqual(Buffer.from(ab), expected);
    const got = new Promise<void>((resolve) => (arrived = resolve));
    let written = 0;
    sendTextBuffer(ws, ab, () => {
      written += 1;
      pool.release(ab);
    });
    await got;
    assert.deepEqual(received.at(-1), { text: expected.toString('utf8'), binary: false });
    assert.equal(written, 1);
    // Released: the next frame is written into the same memory, resized to it.
    const next = pool.frame(10, [record(44, 2)]);
    assert.equal(next, ab);
    assert.deepEqual(Buffer.from(next), batchFrame(10, [record(44, 2)]));
  });

  it('never hands out a buffer that was not released, and grows past its reserve with a fresh one', () => {
    const pool = new FramePool(2, 1024);
    const a = pool.frame(1, [record(1, 2)]);
    const b = pool.frame(2, [record(3, 2)]);
    assert.notEqual(a, b);
    pool.release(a);
    pool.release(a); // twice: still one entry
    const big = [record(5, 200)];
    assert.ok(batchFrame(3, big).length > 1024);
    const c = pool.frame(3, big);
    assert.notEqual(c, a, 'a frame larger than the reserve gets a buffer of its own');
    assert.deepEqual(Buffer.from(c), batchFrame(3, big));
    const d = pool.frame(4, [record(9, 1)]);
    const e = pool.frame(5, [record(10, 1)]);
    assert.ok(d !== e && (d === a || e === a), 'the released buffer is used once, not twice');
  });

  it('a frame for a socket that is not open is released at once', () => {
    let written = 0;
    sendTextBuffer(undefined, new ArrayBuffer(4), () => (written += 1));
    assert.equal(written, 1);
  });
});
