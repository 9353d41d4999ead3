/**
 * The incremental TCP tracker's connection ends: a direction is forgotten once every byte before
 * its FIN is delivered (also when the FIN came before a late segment filled a hole), both
 * directions at a RST after what waited behind a hole is delivered with `gap`; a late
 * retransmission of a closed stream is not delivered again, and a new connection on the same
 * ports starts with `gap: true`. A long capture of many short connections keeps the state bounded
 * (the review's finding: it grew with every connection until `maxFlows`), and a property checks
 * that, however the segments of a connection are cut, reordered and repeated, each direction's
 * bytes come out once, in order, and nothing is left tracked after both FINs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { createTcpStreamTracker, type DecodedPacket, TCP_FLAGS } from '../../../protocols/pcap/index.ts';

const { SYN, ACK, FIN, RST } = TCP_FLAGS;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A segment of the connection `port` (client 10.0.0.1:port ↔ server 10.0.0.2:502). */
function seg(
  port: number,
  from: 'c' | 's',
  seq: number,
  flags: number,
  data: string | Uint8Array = '',
): DecodedPacket {
  const client = { ip: '10.0.0.1', port };
  const server = { ip: '10.0.0.2', port: 502 };
  const [a, b] = from === 'c' ? [client, server] : [server, client];
  return {
    ipVersion: 4,
    src: a.ip,
    srcPort: a.port,
    dst: b.ip,
    dstPort: b.port,
    proto: 'tcp',
    payload: typeof data === 'string' ? enc(data) : data,
    tcp: { seq: seq >>> 0, ack: 0, flags, window: 1000 },
  };
}

/** One whole short connection: handshake, a request and an answer, FIN both ways (or a RST). */
function connection(port: number, isnC: number, isnS: number, end: 'fin' | 'rst'): DecodedPacket[] {
  const req = `req ${port}`;
  const res = `res ${port}`;
  const out = [
    seg(port, 'c', isnC, SYN),
    seg(port, 's', isnS, SYN | ACK),
    seg(port, 'c', isnC + 1, ACK, req),
    seg(port, 's', isnS + 1, ACK, res),
  ];
  if (end === 'rst') out.push(seg(port, 'c', isnC + 1 + req.length, RST));
  else
    out.push(
      seg(port, 'c', isnC + 1 + req.length, FIN | ACK),
      seg(port, 's', isnS + 1 + res.length, FIN | ACK),
      seg(port, 'c', isnC + 2 + req.length, ACK),
    );
  return out;
}

describe('TCP stream tracker: connection ends', () => {
  test('a long capture of short connections keeps the state bounded, and every byte is delivered', () => {
    const t = createTcpStreamTracker<number>();
    const delivered = new Map<string, string>();
    let most = 0;
    const connections = 20_000;
    for (let i = 0; i < connections; i++) {
      // Ports cycle, as a busy client's ephemeral ports do: reuse after close is common.
      const port = 30_000 + (i % 5_000);
      const packets = connection(port, i * 7919, i * 104_729, i % 10 === 0 ? 'rst' : 'fin');
      // Each direction's packets carry one flow hash (decode.ts makes it from the 4-tuple).
      for (const p of packets)
        for (const c of t.push({ ...p, flowHash: p.srcPort * 2 + (p.src === '10.0.0.1' ? 0 : 1) }, i))
          delivered.set(`${c.key}#${i}`, (delivered.get(`${c.key}#${i}`) ?? '') + dec(c.data));
      most = Math.max(most, t.flows());
    }
    assert.equal(t.flows(), 0, 'nothing left tracked once every connection ended');
    assert.equal(t.indexed(), 0, 'nor left in the flow-hash index');
    assert.ok(most <= 2, `at most one connection's two directions tracked at once, saw ${most}`);
    assert.equal(delivered.size, 2 * connections);
    assert.equal(delivered.get('10.0.0.1|30007|10.0.0.2|502#7'), 'req 30007');
    assert.equal(delivered.get('10.0.0.2|502|10.0.0.1|30007#7'), 'res 30007');
  });

  test('connections open at once stay tracked until their FIN; a FIN before a late segment waits for it', () => {
    const t = createTcpStreamTracker<number>();
    const out: string[] = [];
    const push = (p: DecodedPacket) => out.push(...t.push(p, 0).map((c) => dec(c.data)));
    push(seg(1, 'c', 100, SYN));
    push(seg(2, 'c', 500, SYN));
    assert.equal(t.flows(), 2);
    push(seg(1, 'c', 101, ACK, 'ab'));
    push(seg(1, 'c', 105, FIN | ACK, 'ef')); // early: 103-104 missing
    assert.equal(t.flows(), 2, 'the FIN waits for the hole');
    push(seg(1, 'c', 103, ACK, 'cd'));
    assert.deepEqual(out, ['ab', 'cd', 'ef']);
    assert.equal(t.flows(), 1, 'port 1 done; port 2 still open');
    push(seg(1, 'c', 103, ACK, 'cd')); // a late retransmission after the close
    push(seg(1, 'c', 105, FIN | ACK, 'ef'));
    assert.deepEqual(out, ['ab', 'cd', 'ef'], 'not delivered again');
    assert.equal(t.flows(), 1);
  });

  test('a RST delivers what waited behind a hole (with gap), then forgets both directions', () => {
    const t = createTcpStreamTracker<number>();
    t.push(seg(1, 'c', 0, SYN), 0);
    t.push(seg(1, 's', 1000, SYN | ACK), 0);
    t.push(seg(1, 'c', 1, ACK, 'x'), 0);
    t.push(seg(1, 'c', 5, ACK, 'late'), 0); // 2-4 missing
    assert.equal(t.flows(), 2);
    const chunks = t.push(seg(1, 's', 1001, RST), 0);
    assert.deepEqual(
      chunks.map((c) => [dec(c.data), c.gap]),
      [['late', true]],
    );
    assert.equal(t.flows(), 0);
    assert.deepEqual(t.flush(), []);
  });

  test('a new connection on the ports of a closed one starts with gap: true', () => {
    const t = createTcpStreamTracker<number>();
    for (const p of connection(7, 100, 900, 'fin')) t.push(p, 0);
    assert.equal(t.flows(), 0);
    t.push(seg(7, 'c', 5000, SYN), 0);
    const [first] = t.push(seg(7, 'c', 5001, ACK, 'again'), 0);
    assert.equal(first?.gap, true);
    assert.equal(dec(first!.data), 'again');
  });

  test('closed directions remembered are bounded by maxClosed', () => {
    const t = createTcpStreamTracker<number>({ maxClosed: 3 });
    for (let port = 1; port <= 10; port++) for (const p of connection(port, 100, 900, 'fin')) t.push(p, 0);
    // Port 1's end was forgotten: a retransmission of its last data is taken as a (mid-stream) new one.
    const [again] = t.push(seg(1, 'c', 101, ACK, 'req 1'), 0);
    assert.equal(again?.gap, false);
    // Port 10's is remembered: dropped.
    assert.deepEqual(t.push(seg(10, 'c', 101, ACK, 'req 10'), 0), []);
  });

  test('property: however a connection is cut, reordered and repeated, each direction once, in order; then nothing tracked', () => {
    const direction = fc.record({
      isn: fc.nat({ max: 0xffffffff }),
      data: fc.uint8Array({ minLength: 0, maxLength: 200 }),
      cuts: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
    });
    fc.assert(
      fc.property(
        direction,
        direction,
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (c, s, swaps, repeats) => {
          const segments = (d: typeof c, from: 'c' | 's') => {
            const out: DecodedPacket[] = [];
            let off = 0;
            for (let i = 0; off < d.data.length; i++) {
              const n = d.cuts[i % d.cuts.length]!;
              out.push(seg(1, from, d.isn + 1 + off, ACK, d.data.subarray(off, off + n)));
              off += n;
            }
            out.push(seg(1, from, d.isn + 1 + d.data.length, FIN | ACK));
            return out;
          };
          const body = [...segments(c, 'c'), ...segments(s, 's')];
          for (const r of repeats) body.push(body[r % body.length]!);
          for (const x of swaps) {
            const a = x % body.length;
            const b = (x >> 4) % body.length;
            [body[a], body[b]] = [body[b]!, body[a]!];
          }
          const t = createTcpStreamTracker<number>();
          const got = { c: [] as number[], s: [] as number[] };
          const take = (chunks: ReturnType<typeof t.push>) => {
            for (const ch of chunks) {
              assert.equal(ch.gap, false);
              got[ch.flow.src === '10.0.0.1' ? 'c' : 's'].push(...ch.data);
            }
          };
          take(t.push(seg(1, 'c', c.isn, SYN), 0));
          take(t.push(seg(1, 's', s.isn, SYN | ACK), 0));
          for (const p of body) take(t.push(p, 0));
          assert.equal(t.flows(), 0);
          assert.deepEqual(got.c, [...c.data]);
          assert.deepEqual(got.s, [...s.data]);
        },
      ),
      { numRuns: 300 },
    );
  });
  test('property: the flow hash is a hint: colliding, inconsistent or absent hashes deliver what none do', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.nat({ max: 9 })), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 2, max: 12 }),
        (steps, hashes, maxFlows) => {
          // Connections on six ports, their packets interleaved (step k: the k-th packet of a
          // connection, wrapping), evicted early by a small maxFlows.
          const conns = new Map<number, DecodedPacket[]>();
          const sent = new Map<number, number>();
          const packets: DecodedPacket[] = [];
          for (const [port, isn] of steps) {
            if (!conns.has(port))
              conns.set(port, connection(port, isn * 1000, isn * 7000 + 5, isn % 3 ? 'fin' : 'rst'));
            const list = conns.get(port)!;
            const k = sent.get(port) ?? 0;
            sent.set(port, k + 1);
            packets.push(list[k % list.length]!);
          }
          const run = (hint: (i: number) => number | undefined) => {
            const t = createTcpStreamTracker<number>({ maxFlows });
            const out: string[] = [];
            packets.forEach((p, i) => {
              const flowHash = hint(i);
              const packet = flowHash === undefined ? p : { ...p, flowHash };
              for (const c of t.push(packet, i)) out.push(`${c.key} ${c.gap} ${dec(c.data)} ${c.meta}`);
              // A direction released or evicted leaves the hash index too (else it would leak).
              assert.ok(t.indexed() <= t.flows(), `${t.indexed()} indexed, ${t.flows()} tracked`);
            });
            for (const c of t.flush()) out.push(`${c.key} ${c.gap} ${dec(c.data)} ${c.meta}`);
            return { out, flows: t.flows() };
          };
          const none = run(() => undefined);
          assert.deepEqual(
            run((i) => hashes[i % hashes.length]),
            none,
          );
          assert.deepEqual(
            run(() => 7),
            none,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
