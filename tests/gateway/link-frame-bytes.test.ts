/**
 * The forwarder's batch frames go to ws without a second copy (issue 18; the 1,000,000-event drain's
 * 150 MB RSS ceiling): ws masks a Buffer it is given into a fresh copy, since it may not change the
 * caller's bytes, so sendTextBytes hands a frame that owns its ArrayBuffer over to be masked where
 * it is. A real ws server on loopback must still receive every byte as the same text frame, for a
 * frame that owns its memory and for one that is a slice of a larger one (which must stay unmasked).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { sendTextBytes } from '../../gateway/forwarder/connection.ts';

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

  const send = async (bytes: Buffer) => {
    const got = new Promise<void>((resolve) => (arrived = resolve));
    sendTextBytes(ws, bytes);
    await got;
    return received.at(-1)!;
  };

  it('masks a frame that owns its memory in place and delivers it whole as text', async () => {
    const text = `{"type":"batch","batch_id":7,"events":[${Array.from({ length: 300 }, (_, k) => `{"seq":${k},"message":"h\u00e9 ${k}"}`).join(',')}]}`;
    const frame = Buffer.concat([Buffer.from(text.slice(0, 10)), Buffer.from(text.slice(10))]);
    assert.equal(frame.byteOffset, 0);
    assert.equal(
      frame.buffer.byteLength,
      frame.length,
      'Buffer.concat of more than 4 KB owns its ArrayBuffer',
    );
    const got = await send(frame);
    assert.deepEqual(got, { text, binary: false });
    // Handed over: ws masked these bytes rather than a copy of them.
    assert.notEqual(frame.toString('utf8'), text);
  });

  it('sends a slice of a larger buffer as it is, leaving the rest of that buffer alone', async () => {
    const whole = Buffer.from(`xx{"type":"ping"}yy${'z'.repeat(5000)}`);
    const slice = whole.subarray(2, 17);
    const got = await send(slice);
    assert.deepEqual(got, { text: '{"type":"ping"}', binary: false });
    assert.equal(whole.toString('utf8', 0, 19), 'xx{"type":"ping"}yy');
  });
});
