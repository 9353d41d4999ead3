/**
 * decodePacket: each supported link type down to UDP/TCP, VLAN tags, Ethernet padding, IPv6
 * extension headers and address text, and the typed errors for what it does not decode.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DecodedPacket, decodePacket, formatIpv6, LINKTYPE } from '../../../protocols/pcap/index.ts';
import { concat, ethernet, ipv4, ipv6, linuxSll, TCP, tcp, udp } from './builders.ts';

const PAYLOAD = new TextEncoder().encode('<13>hello');
const V6_SRC = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_DST = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55];

function decoded(linkType: number, data: Uint8Array): DecodedPacket {
  const r = decodePacket(linkType, data);
  assert.ok(r.ok, JSON.stringify(r));
  return r.packet;
}

function text(p: DecodedPacket): string {
  return new TextDecoder().decode(p.payload);
}

describe('link layers', () => {
  const ip = ipv4('10.0.0.1', '10.0.0.2', 17, udp(40000, 514, PAYLOAD));

  test('Ethernet, with the short frame padded to 60 bytes', () => {
    const p = decoded(LINKTYPE.ETHERNET, ethernet(0x0800, ip));
    assert.deepEqual(
      [p.ipVersion, p.src, p.dst, p.proto, p.srcPort, p.dstPort, text(p), p.vlan],
      [4, '10.0.0.1', '10.0.0.2', 'udp', 40000, 514, '<13>hello', undefined],
    );
  });

  test('802.1Q, and stacked (QinQ) VLAN tags', () => {
    assert.deepEqual(decoded(1, ethernet(0x0800, ip, [0x2064])).vlan, [100]);
    assert.deepEqual(decoded(1, ethernet(0x0800, ip, [10, 20])).vlan, [10, 20]);
  });

  test('raw IP (101, either version), IPv4 (228), IPv6 (229), Linux SLL (113), SLL2 (276), loopback (0)', () => {
    const v6 = ipv6(V6_SRC, V6_DST, 17, udp(1, 2, PAYLOAD));
    assert.equal(decoded(101, ip).src, '10.0.0.1');
    assert.equal(decoded(101, v6).src, '2001:db8::1');
    assert.equal(decoded(228, ip).dst, '10.0.0.2');
    assert.equal(decoded(229, v6).dst, 'fe80::211:22ff:fe33:4455');
    assert.equal(text(decoded(113, linuxSll(0x0800, ip))), '<13>hello');
    const sll2 = concat(Uint8Array.of(0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0), v6);
    assert.equal(decoded(276, sll2).ipVersion, 6);
    assert.equal(
      decoded(0, concat(Uint8Array.of(2, 0, 0, 0), ip)).src,
      '10.0.0.1',
      'AF_INET, little-endian host',
    );
    assert.equal(
      decoded(0, concat(Uint8Array.of(0, 0, 0, 30), v6)).ipVersion,
      6,
      'AF_INET6 (macOS), big-endian host',
    );
  });

  test('PPPoE sessions and 6in4 tunnels are opened', () => {
    const pppoe = concat(Uint8Array.of(0x11, 0, 0, 1, 0, ip.length + 2, 0x00, 0x21), ip);
    assert.equal(decoded(1, ethernet(0x8864, pppoe)).src, '10.0.0.1');
    const tunnel = ipv4('192.0.2.1', '192.0.2.2', 41, ipv6(V6_SRC, V6_DST, 17, udp(1, 514, PAYLOAD)));
    const p = decoded(1, ethernet(0x0800, tunnel));
    assert.deepEqual([p.ipVersion, p.src, text(p)], [6, '2001:db8::1', '<13>hello']);
  });
});

describe('transport', () => {
  test('TCP: ports, sequence and flags, payload after the options', () => {
    const seg = tcp(12345, 514, 0xfffffff0, TCP.PSH | TCP.ACK, PAYLOAD, 77);
    const p = decoded(228, ipv4('192.168.1.1', '192.168.1.2', 6, seg));
    assert.deepEqual(
      [p.proto, p.srcPort, p.dstPort, p.tcp, text(p)],
      ['tcp', 12345, 514, { seq: 0xfffffff0, ack: 77, flags: TCP.PSH | TCP.ACK, window: 65535 }, '<13>hello'],
    );
  });

  test('IPv6 hop-by-hop, destination options and an atomic fragment header are walked', () => {
    const ext: Array<[number, number[]]> = [
      [0, [1, 4, 0, 0, 0, 0]],
      [60, [1, 4, 0, 0, 0, 0]],
      [44, [0, 0, 0, 0, 0, 1]],
    ];
    const p = decoded(229, ipv6(V6_SRC, V6_DST, 6, tcp(1, 2, 3, TCP.ACK, PAYLOAD), ext));
    assert.deepEqual([p.proto, text(p)], ['tcp', '<13>hello']);
  });
});

describe('typed errors, never exceptions', () => {
  const code = (linkType: number, data: Uint8Array) => {
    const r = decodePacket(linkType, data);
    assert.ok(!r.ok);
    return r.error.code;
  };

  test('what is not decoded says why', () => {
    const ip = ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, PAYLOAD));
    assert.equal(code(147, ip), 'unsupported_link_type');
    assert.equal(code(1, ethernet(0x0806, new Uint8Array(28))), 'not_ip', 'ARP');
    assert.equal(
      code(101, ipv4('10.0.0.1', '10.0.0.2', 1, new Uint8Array(8))),
      'unsupported_protocol',
      'ICMP',
    );
    assert.equal(
      code(101, ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, PAYLOAD), 0x2000)),
      'fragment',
      'more fragments',
    );
    assert.equal(
      code(101, ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2, PAYLOAD), 0x0010)),
      'fragment',
      'offset',
    );
    assert.equal(code(101, ip.subarray(0, ip.length - 1)), 'truncated', 'snapped IP payload');
    assert.equal(code(101, ip.subarray(0, 10)), 'truncated');
    assert.equal(code(101, new Uint8Array(0)), 'truncated');
    const v6frag = ipv6(V6_SRC, V6_DST, 17, udp(1, 2, PAYLOAD), [[44, [0, 8, 0, 0, 0, 1]]]);
    assert.equal(code(229, v6frag), 'fragment');
  });
});

test('formatIpv6 follows RFC 5952: lower case, longest zero run compressed, first on a tie', () => {
  const v6 = (groups: number[]) => {
    const b = new Uint8Array(16);
    groups.forEach((g, i) => {
      b[i * 2] = g >> 8;
      b[i * 2 + 1] = g & 0xff;
    });
    return formatIpv6(b, 0);
  };
  assert.equal(v6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1');
  assert.equal(v6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]), '2001:db8:0:1::1');
  assert.equal(v6([0, 0, 0, 0, 0, 0, 0, 0]), '::');
  assert.equal(v6([0, 0, 0, 0, 0, 0, 0, 1]), '::1');
  assert.equal(
    v6([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]),
    '2001:db8:0:1:1:1:1:1',
    'one zero group is not compressed',
  );
  assert.equal(v6([0xabcd, 0, 0, 0, 0, 0, 0, 0]), 'abcd::');
});
