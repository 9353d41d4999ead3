/**
 * The TCP plumbing the DNP3 and S7 simulators share, over real loopback sockets: the device's
 * listener hands over connections and closes them on stop; the client connect fails on a closed
 * port; pending requests resolve with their own answer, or undefined on timeout, on close, or when
 * sent on a dead socket; and the poller keeps one connection while polls succeed, reconnects after
 * a failed poll or connect, never runs two rounds at once, and closes its connection on stop.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type net from 'node:net';
import { test } from 'node:test';
import {
  connectTcpClient,
  listenTcpDevice,
  pendingRequests,
  startPolling,
} from '../../firmware-shims/simulators/tcp-device.ts';
import { freePort } from '../support/env.ts';

/** Waits until `probe` holds, a short sleep at a time (no wall-clock bound). */
async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('the device listener hands over each connection and closes them all on stop', async () => {
  const seen: net.Socket[] = [];
  const device = await listenTcpDevice({}, (socket) => {
    seen.push(socket);
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
  });
  const a = await connectTcpClient({ host: '127.0.0.1', port: device.port });
  const b = await connectTcpClient({ host: '127.0.0.1', port: device.port });
  a.write('ping');
  const [reply] = (await once(a, 'data')) as [Buffer];
  assert.equal(reply.toString(), 'PING');
  await until(() => seen.length === 2);
  const closed = Promise.all([once(a, 'close'), once(b, 'close')]);
  await device.stop();
  await closed;
});

test('a client connect to a closed port rejects', async () => {
  const port = await freePort();
  await assert.rejects(connectTcpClient({ host: '127.0.0.1', port }), /ECONNREFUSED/);
});

test('pending requests: own answer, unknown keys ignored, timeout, close and a dead socket give undefined', async () => {
  let server: net.Socket | undefined;
  const device = await listenTcpDevice({}, (s) => (server = s));
  const socket = await connectTcpClient({ host: '127.0.0.1', port: device.port });
  await until(() => server !== undefined);
  const sent: number[] = [];
  const pending = pendingRequests<number, string>(socket, 60_000);
  const one = pending.request(1, () => sent.push(1));
  const two = pending.request(2, () => sent.push(2));
  pending.answer(7, 'nobody asked');
  pending.answer(2, 'second');
  assert.equal(await two, 'second');
  assert.deepEqual(sent, [1, 2]);

  const quick = pendingRequests<number, string>(socket, 10);
  assert.equal(await quick.request(3, () => {}), undefined, 'timed out');
  quick.answer(3, 'too late'); // harmless

  server!.destroy();
  assert.equal(await one, undefined, 'the connection closed');
  await until(() => socket.destroyed);
  let called = false;
  assert.equal(await pending.request(4, () => (called = true)), undefined);
  assert.equal(called, false, 'nothing is sent on a dead socket');
  await device.stop();
});

test('the poller keeps its connection, reconnects after a failure, never overlaps, and closes on stop', async () => {
  let connects = 0;
  let closes = 0;
  let polls = 0;
  let running = 0;
  let overlapped = false;
  const answers = [true, false, true, true];
  const poller = startPolling({
    intervalMs: 5,
    async connect() {
      connects += 1;
      if (connects === 2) throw new Error('not there yet');
      return { close: () => void (closes += 1) };
    },
    async poll() {
      running += 1;
      if (running > 1) overlapped = true;
      await new Promise((resolve) => setTimeout(resolve, 20)); // longer than the interval
      running -= 1;
      return answers[polls++] ?? true;
    },
  });
  await until(() => polls >= 5);
  poller.stop();
  const after = polls;
  // Polls: ok, fail (closed), connect fails, then a new connection polls on.
  assert.equal(connects, 3);
  assert.equal(closes, 2, 'the failed poll closed its connection, and stop closed the last one');
  assert.equal(overlapped, false);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.ok(polls <= after + 1, 'no round starts after stop');
});
