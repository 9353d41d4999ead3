/**
 * The capture-facing API (`createS7commStreams`) as the gateway's capture source will drive it:
 * packets of a real capture through protocols/pcap's incremental TCP tracker, every chunk of an
 * S7 flow pushed with its frame and time. Events are valid, answers carry their request's frame,
 * other flows are not claimed, non-standard ports are configurable, and the connection count is
 * bounded.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { type PendingEvent, parseEvent } from '../../../protocols/event/schema.ts';
import { createTcpStreamTracker, decodePacket, readCapture } from '../../../protocols/pcap/index.ts';
import { createS7commStreams, type S7commStreamOptions } from '../../../protocols/s7comm/index.ts';
import { sharedData } from '../../support/env.ts';
import { dt, PLC_STOP, READ_DB, READ_DB_ACK } from './frames.ts';

function replay(file: string, options: S7commStreamOptions = {}): PendingEvent[] {
  const streams = createS7commStreams(options);
  const tcp = createTcpStreamTracker<{ frame: number; ts: Date }>({ maxPendingBytes: 0 });
  const out: PendingEvent[] = [];
  readCapture(readFileSync(file)).packets.forEach((p, i) => {
    const d = decodePacket(p.linkType, p.data);
    if (!d.ok) return;
    for (const c of tcp.push(d.packet, { frame: i + 1, ts: p.ts }))
      if (streams.matches(c.flow)) out.push(...streams.push(c.flow, c.data, c.gap, c.meta));
  });
  return out;
}

describe('createS7commStreams', () => {
  test('snap7.pcap: one valid event per PDU, answers name their request frame', (t) => {
    const file = sharedData(t, 's7comm', 'icsnpp', 'snap7.pcap');
    if (!file) return;
    const events = replay(file, { extraFields: { file: 'snap7.pcap' } });
    assert.equal(events.length, 64);
    for (const e of events) {
      const r = parseEvent({ ...e, v: 1, id: 'g:1', gateway: 'g', seq: 1 });
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(e.fields.file, 'snap7.pcap');
    }
    const stop = events.filter((e) => e.action === 's7comm.plc_stop');
    assert.deepEqual(
      stop.map((e) => [e.fields.direction, e.fields.frame, e.fields.request_frame, e.ts]),
      [
        // tshark: frame 57 at epoch 1454969290.350892
        ['request', 57, undefined, '2016-02-08T22:08:10.350Z'],
        ['response', 58, 57, stop[1]!.ts],
      ],
    );
    assert.equal(stop[0]!.src?.ip, '134.217.61.131');
  });

  test('a controller on another port is followed only when configured; connections are bounded', () => {
    const streams = createS7commStreams({ ports: [1102], maxConnections: 2 });
    const flow = (n: number) => ({ src: `10.0.0.${n}`, srcPort: 40000 + n, dst: '10.0.0.1', dstPort: 1102 });
    assert.equal(streams.matches({ ...flow(9), dstPort: 102 }), false);
    assert.ok(streams.matches(flow(9)));
    const ts = new Date('2024-01-01T00:00:00Z');
    for (const n of [2, 3, 4]) {
      const [e] = streams.push(flow(n), dt(PLC_STOP), false, { ts, frame: n });
      assert.deepEqual([e!.action, e!.src?.ip, e!.dst?.port], ['s7comm.plc_stop', `10.0.0.${n}`, 1102]);
    }
    assert.equal(streams.connections(), 2);
    assert.deepEqual(streams.stats, { messages: 3, malformed: 0 });
    const [bad] = streams.push(flow(5), Uint8Array.from([9, 9, 9, 9, 9, 9]), false, { ts });
    assert.deepEqual([bad!.action, streams.stats.malformed], ['s7comm.malformed', 1]);
  });

  test('close() frees a connection from either side: open requests and half-built fragments go', () => {
    const streams = createS7commStreams({ maxConnections: 64 });
    const ts = new Date('2024-01-01T00:00:00Z');
    const toPlc = (n: number) => ({
      src: `10.1.${n >> 8}.${n & 255}`,
      srcPort: 40000,
      dst: '10.0.0.1',
      dstPort: 102,
    });
    const fromPlc = (n: number) => {
      const f = toPlc(n);
      return { src: f.dst, srcPort: f.dstPort, dst: f.src, dstPort: f.srcPort };
    };
    // 5,000 connections opened and closed: each leaves a request open and a fragment half built.
    for (let n = 0; n < 5000; n++) {
      streams.push(toPlc(n), dt(READ_DB), false, { ts, frame: 1 });
      streams.push(toPlc(n), dt(PLC_STOP, false), false, { ts, frame: 2 });
      assert.equal(streams.connections(), 1);
      streams.close(n % 2 === 0 ? toPlc(n) : fromPlc(n));
      assert.equal(streams.connections(), 0);
    }
    // The same four-tuple again: the answer finds no request of the closed connection.
    const [answer] = streams.push(fromPlc(7), dt(READ_DB_ACK), false, { ts, frame: 3 });
    assert.equal(answer!.fields.request_frame, undefined);
    // Not closed: the answer pairs with its request (so the check above can fail).
    streams.push(toPlc(8), dt(READ_DB), false, { ts, frame: 4 });
    const [paired] = streams.push(fromPlc(8), dt(READ_DB_ACK), false, { ts, frame: 5 });
    assert.equal(paired!.fields.request_frame, 4);
    // Never closed: an attacker's connections stay at the cap.
    for (let n = 0; n < 5000; n++) streams.push(toPlc(n), dt(READ_DB), false, { ts, frame: 6 });
    assert.equal(streams.connections(), 64);
  });
});
