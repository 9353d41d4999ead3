/**
 * reassembleTcp: per-direction in-order streams from out-of-order, retransmitted, overlapping
 * and missing segments, across the 2^32 sequence wrap, with port reuse.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DecodedPacket, reassembleTcp, type TcpSegmentInput } from '../../../protocols/pcap/index.ts';
import { TCP } from './builders.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function seg(
  seq: number,
  data: string,
  flags: number = TCP.ACK,
  from: 'c' | 's' = 'c',
  ts?: Date,
): TcpSegmentInput {
  const client = { ip: '10.0.0.1', port: 40000 };
  const server = { ip: '10.0.0.2', port: 514 };
  const [a, b] = from === 'c' ? [client, server] : [server, client];
  const p: DecodedPacket & { ts?: Date } = {
    ipVersion: 4,
    src: a.ip,
    srcPort: a.port,
    dst: b.ip,
    dstPort: b.port,
    proto: 'tcp',
    payload: enc(data),
    tcp: { seq: seq >>> 0, ack: 0, flags, window: 1000 },
  };
  if (ts) p.ts = ts;
  return p;
}

describe('reassembleTcp', () => {
  test('one connection, both directions, handshake and FIN', () => {
    const streams = reassembleTcp([
      seg(999, '', TCP.SYN),
      seg(4999, '', TCP.SYN | TCP.ACK, 's'),
      seg(1000, 'hello ', TCP.ACK | TCP.PSH),
      seg(5000, 'ok', TCP.ACK, 's'),
      seg(1006, 'world', TCP.ACK | TCP.PSH),
      seg(1011, '', TCP.FIN | TCP.ACK),
    ]);
    assert.equal(streams.length, 2);
    const [c, s] = streams;
    assert.deepEqual([c!.src, c!.srcPort, c!.dst, c!.dstPort], ['10.0.0.1', 40000, '10.0.0.2', 514]);
    assert.equal(dec(c!.data), 'hello world');
    assert.deepEqual([c!.synSeen, c!.finSeen, c!.rstSeen, c!.gaps], [true, true, false, []]);
    assert.equal(dec(s!.data), 'ok');
  });

  test('reordered segments, exact retransmissions and partial overlaps give each byte once', () => {
    const [c] = reassembleTcp([
      seg(99, '', TCP.SYN),
      seg(110, 'klmno'),
      seg(100, 'abcde'),
      seg(100, 'abcde'),
      seg(103, 'defghij'),
      seg(105, 'fghij'),
      seg(110, 'klmnopq'),
    ]);
    assert.equal(dec(c!.data), 'abcdefghijklmnopq');
    assert.deepEqual(c!.gaps, []);
  });

  test('when a retransmission disagrees, the segment starting earlier (then arriving first) wins', () => {
    const [c] = reassembleTcp([seg(0, 'abc'), seg(1, 'XY'), seg(3, 'd')]);
    assert.equal(dec(c!.data), 'abcd');
    const [d] = reassembleTcp([seg(5, 'one'), seg(5, 'two')]);
    assert.equal(dec(d!.data), 'one');
  });

  test('missing data is reported as a gap, not invented', () => {
    const [c] = reassembleTcp([seg(0, '', TCP.SYN), seg(1, 'abc'), seg(10, 'xyz')]);
    assert.equal(dec(c!.data), 'abcxyz');
    assert.deepEqual(c!.gaps, [{ offset: 3, length: 6 }]);
  });

  test('sequence numbers wrap at 2^32', () => {
    const [c] = reassembleTcp([
      seg(0xfffffffd, '', TCP.SYN),
      seg(0xfffffffe, 'ab'),
      seg(2, 'ef'),
      seg(0, 'cd'),
    ]);
    assert.equal(dec(c!.data), 'abcdef');
  });

  test('without a SYN the stream starts at the earliest data seen (a capture begun mid-connection)', () => {
    const [c] = reassembleTcp([seg(5005, 'world'), seg(5000, 'hello')]);
    assert.equal(dec(c!.data), 'helloworld');
    assert.equal(c!.synSeen, false);
  });

  test('a new SYN with another ISN on the same ports is a new stream', () => {
    const streams = reassembleTcp([
      seg(0, '', TCP.SYN),
      seg(1, 'first'),
      seg(7000, '', TCP.SYN),
      seg(7001, 'second'),
    ]);
    assert.deepEqual(
      streams.map((s) => dec(s.data)),
      ['first', 'second'],
    );
  });

  test('segment times map byte offsets to capture times; UDP is ignored', () => {
    const t0 = new Date('2024-01-01T00:00:00Z');
    const t1 = new Date('2024-01-01T00:00:01Z');
    const udp = { ...seg(0, 'ignored'), proto: 'udp' as const };
    const [c] = reassembleTcp([udp, seg(0, 'ab', TCP.ACK, 'c', t0), seg(2, 'cd', TCP.ACK, 'c', t1)]);
    assert.deepEqual(c!.segments, [
      { offset: 0, length: 2, ts: t0 },
      { offset: 2, length: 2, ts: t1 },
    ]);
  });
});
