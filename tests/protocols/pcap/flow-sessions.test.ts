/**
 * The followers' per-connection state (protocols/pcap/flow-sessions.ts): both directions of a
 * connection share one state, found through each direction's flow object or, for a flow object
 * not seen before, by the connection's key; a closed or evicted connection starts afresh for every
 * flow object that pointed to it; at most `max` are held. A property compares it with a plain Map
 * of keys in insertion order, the model of what the followers did before.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FlowSessions, type TcpFlow } from '../../../protocols/pcap/index.ts';

const SERVER_PORT = 502;
/** `client|cport|server|sport` for both directions, the server on SERVER_PORT. */
const keyOf = (f: TcpFlow) =>
  f.dstPort === SERVER_PORT
    ? `${f.src}|${f.srcPort}|${f.dst}|${f.dstPort}`
    : `${f.dst}|${f.dstPort}|${f.src}|${f.srcPort}`;
const request = (port: number): TcpFlow => ({
  src: '10.0.0.1',
  srcPort: port,
  dst: '10.0.0.2',
  dstPort: SERVER_PORT,
});
const response = (port: number): TcpFlow => ({
  src: '10.0.0.2',
  srcPort: SERVER_PORT,
  dst: '10.0.0.1',
  dstPort: port,
});

function table(max: number, evicted: number[] = []) {
  let made = 0;
  const sessions = new FlowSessions<{ id: number; port: number }>({
    max,
    keyOf,
    create: (f) => ({ id: ++made, port: f.dstPort === SERVER_PORT ? f.srcPort : f.dstPort }),
    evicted: (s) => evicted.push(s.port),
  });
  return sessions;
}

describe('FlowSessions', () => {
  test('both directions, and a new flow object of the same connection, find one state', () => {
    const t = table(10);
    const req = request(40_000);
    const s = t.of(req);
    assert.equal(t.of(req), s);
    assert.equal(t.of(response(40_000)), s);
    assert.equal(t.of(request(40_000)), s, 'another object, same connection');
    assert.notEqual(t.of(request(40_001)), s);
    assert.equal(t.size, 2);
  });

  test('a closed connection starts afresh, also for the flow objects that found the old one', () => {
    const t = table(10);
    const req = request(1);
    const res = response(1);
    const old = t.of(req);
    t.of(res);
    assert.equal(t.close(res), old);
    assert.equal(t.size, 0);
    const fresh = t.of(req);
    assert.notEqual(fresh, old);
    assert.equal(t.of(res), fresh);
    assert.equal(t.close(request(2)), undefined, 'closing what is not held changes nothing');
  });

  test('holds at most max, forgetting the oldest (and says which), whose flows then start afresh', () => {
    const evicted: number[] = [];
    const t = table(3, evicted);
    const first = request(1);
    const old = t.of(first);
    for (let port = 2; port <= 5; port++) t.of(request(port));
    assert.equal(t.size, 3);
    assert.deepEqual(evicted, [1, 2]);
    assert.notEqual(t.of(first), old);
    assert.deepEqual(evicted, [1, 2, 3]);
  });

  test('a datagram pair is held by key alone, in the same bound', () => {
    const t = table(2);
    const a = t.byKey('udp|a', request(7));
    assert.equal(t.byKey('udp|a', response(7)), a);
    t.of(request(8));
    t.of(request(9));
    assert.notEqual(t.byKey('udp|a', request(7)), a, 'evicted as the oldest');
  });

  test('property: the same connections and the same states as a Map of keys in insertion order', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('of' as const),
        port: fc.integer({ min: 1, max: 8 }),
        reply: fc.boolean(),
        fresh: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant('close' as const),
        port: fc.integer({ min: 1, max: 8 }),
        reply: fc.boolean(),
        fresh: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 120 }), (max, ops) => {
        const t = table(max);
        // The model: key → state, oldest first; a state is who made it (the table's own id).
        const model = new Map<string, number>();
        // Flow objects kept across steps, as the tracker keeps them while it follows a direction.
        const kept = new Map<string, TcpFlow>();
        for (const { kind, port, reply, fresh } of ops) {
          const name = `${port}${reply}`;
          let flow = kept.get(name);
          if (!flow || fresh) kept.set(name, (flow = reply ? response(port) : request(port)));
          const key = keyOf(flow);
          if (kind === 'close') {
            assert.equal(t.close(flow)?.id, model.get(key));
            model.delete(key);
          } else {
            const got = t.of(flow);
            const expected = model.get(key);
            if (expected === undefined) {
              if (model.size >= max) model.delete(model.keys().next().value!);
              model.set(key, got.id);
            } else assert.equal(got.id, expected);
            assert.equal(got.port, port);
          }
          assert.equal(t.size, model.size);
          assert.ok(t.size <= max);
        }
      }),
      { numRuns: 300 },
    );
  });
});
