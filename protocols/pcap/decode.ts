/**
 * Decodes one captured frame down to its UDP datagram or TCP segment: link layer (Ethernet with
 * 802.1Q/802.1ad VLAN tags and PPPoE, raw IP, Linux cooked v1 and v2, BSD loopback), then IPv4
 * (RFC 791) or IPv6 (RFC 8200, walking extension headers; IP-in-IP and 6in4 tunnels are opened),
 * then UDP (RFC 768) or TCP (RFC 9293). Enough for
 * replaying device traffic (syslog, Modbus/TCP, MQTT, CoAP) into the codecs. IP fragments are not
 * reassembled; they are reported as `fragment`. Pure; returns a typed error instead of throwing.
 */

/** LINKTYPE_* values (tcpdump.org/linktypes.html) that decodePacket understands. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** TCP header flag bits (RFC 9293 §3.1). */
export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

export interface DecodedPacket {
  ipVersion: 4 | 6;
  src: string;
  dst: string;
  proto: 'udp' | 'tcp';
  srcPort: number;
  dstPort: number;
  /** The UDP or TCP payload (a view into the frame). */
  payload: Uint8Array;
  /** 802.1Q VLAN ids, outermost first, when the frame was tagged. */
  vlan?: number[];
  tcp?: { seq: number; ack: number; flags: number; window: number };
}

export type PacketDecodeErrorCode =
  'unsupported_link_type' | 'not_ip' | 'truncated' | 'invalid_header' | 'fragment' | 'unsupported_protocol';

export interface PacketDecodeError {
  code: PacketDecodeErrorCode;
  message: string;
}

export type PacketDecodeResult =
  { ok: true; packet: DecodedPacket } | { ok: false; error: PacketDecodeError };

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const VLAN_ETHERTYPES = new Set([0x8100, 0x88a8, 0x9100]);
const ETHERTYPE_PPPOE_SESSION = 0x8864;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
const IPPROTO_IPIP = 4;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_IPV6 = 41;

function fail(code: PacketDecodeErrorCode, message: string): PacketDecodeResult {
  return { ok: false, error: { code, message } };
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function formatIpv4(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952 text form: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIpv6(b: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(u16(b, at + i * 2));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Transport layer: UDP or TCP inside an IP payload. */
function transport(
  ipVersion: 4 | 6,
  src: string,
  dst: string,
  protocol: number,
  seg: Uint8Array,
): PacketDecodeResult {
  if (protocol === IPPROTO_UDP) {
    if (seg.length < 8) return fail('truncated', 'UDP header cut short');
    const length = u16(seg, 4);
    // RFC 768: length covers header and data; 0 is a jumbogram (RFC 2675) or an offloaded checksum.
    const end = length === 0 ? seg.length : length;
    if (end < 8) return fail('invalid_header', `UDP length ${length} is shorter than its header`);
    if (end > seg.length) return fail('truncated', `UDP length ${length}, ${seg.length} bytes captured`);
    const packet: DecodedPacket = {
      ipVersion,
      src,
      dst,
      proto: 'udp',
      srcPort: u16(seg, 0),
      dstPort: u16(seg, 2),
      payload: seg.subarray(8, end),
    };
    return { ok: true, packet };
  }
  if (protocol === IPPROTO_TCP) {
    if (seg.length < 20) return fail('truncated', 'TCP header cut short');
    const headerLen = (seg[12]! >> 4) * 4;
    if (headerLen < 20) return fail('invalid_header', `TCP data offset ${headerLen} is under 20`);
    if (headerLen > seg.length) return fail('truncated', 'TCP options cut short');
    const packet: DecodedPacket = {
      ipVersion,
      src,
      dst,
      proto: 'tcp',
      srcPort: u16(seg, 0),
      dstPort: u16(seg, 2),
      payload: seg.subarray(headerLen),
      tcp: {
        seq: u32(seg, 4),
        ack: u32(seg, 8),
        flags: ((seg[12]! & 1) << 8) | seg[13]!,
        window: u16(seg, 14),
      },
    };
    return { ok: true, packet };
  }
  // IP-in-IP and 6in4 tunnels (RFC 2003, RFC 4213): decode the inner packet.
  if (protocol === IPPROTO_IPIP) return ipv4(seg);
  if (protocol === IPPROTO_IPV6) return ipv6(seg);
  return fail('unsupported_protocol', `IP protocol ${protocol} is neither UDP nor TCP`);
}

function ipv4(b: Uint8Array): PacketDecodeResult {
  if (b.length < 20) return fail('truncated', 'IPv4 header cut short');
  if (b[0]! >> 4 !== 4) return fail('invalid_header', `IP version ${b[0]! >> 4}, expected 4`);
  const headerLen = (b[0]! & 0x0f) * 4;
  if (headerLen < 20) return fail('invalid_header', `IPv4 header length ${headerLen} is under 20`);
  // Total length 0 appears in captures of TCP segmentation offload: trust the captured length.
  const total = u16(b, 2) === 0 ? b.length : u16(b, 2);
  if (total < headerLen) return fail('invalid_header', `IPv4 total length ${total} is under its header`);
  if (total > b.length) return fail('truncated', `IPv4 total length ${total}, ${b.length} bytes captured`);
  if ((u16(b, 6) & 0x3fff) !== 0) return fail('fragment', 'IPv4 fragment (not reassembled)');
  // Ethernet pads short frames: the payload ends at the total length, not at the frame's end.
  return transport(4, formatIpv4(b, 12), formatIpv4(b, 16), b[9]!, b.subarray(headerLen, total));
}

/** IPv6 extension headers skipped on the way to the transport header (RFC 8200 §4). */
const IPV6_EXTENSIONS = new Set([0, 43, 60]);
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;

function ipv6(b: Uint8Array): PacketDecodeResult {
  if (b.length < 40) return fail('truncated', 'IPv6 header cut short');
  if (b[0]! >> 4 !== 6) return fail('invalid_header', `IP version ${b[0]! >> 4}, expected 6`);
  const payloadLen = u16(b, 4);
  const end = payloadLen === 0 ? b.length : 40 + payloadLen;
  if (end > b.length)
    return fail('truncated', `IPv6 payload length ${payloadLen}, ${b.length - 40} bytes captured`);
  let next = b[6]!;
  let off = 40;
  for (;;) {
    if (IPV6_EXTENSIONS.has(next) || next === IPV6_AH || next === IPV6_FRAGMENT) {
      if (off + 8 > end) return fail('truncated', 'IPv6 extension header cut short');
      if (next === IPV6_FRAGMENT && (u16(b, off + 2) & 0xfff9) !== 0) {
        return fail('fragment', 'IPv6 fragment (not reassembled)');
      }
      const len =
        next === IPV6_FRAGMENT ? 8 : next === IPV6_AH ? (b[off + 1]! + 2) * 4 : (b[off + 1]! + 1) * 8;
      next = b[off]!;
      off += len;
      if (off > end) return fail('truncated', 'IPv6 extension header cut short');
      continue;
    }
    return transport(6, formatIpv6(b, 8), formatIpv6(b, 24), next, b.subarray(off, end));
  }
}

/** PPPoE session stage (RFC 2516 §4): a 6-byte header, then the PPP protocol number. */
function pppoe(b: Uint8Array): PacketDecodeResult {
  if (b.length < 8) return fail('truncated', 'PPPoE header cut short');
  const protocol = u16(b, 6);
  if (protocol === PPP_IPV4) return ipv4(b.subarray(8));
  if (protocol === PPP_IPV6) return ipv6(b.subarray(8));
  return fail('not_ip', `PPP protocol 0x${protocol.toString(16).padStart(4, '0')} is not IP`);
}

function byEthertype(ethertype: number, b: Uint8Array): PacketDecodeResult {
  if (ethertype === ETHERTYPE_IPV4) return ipv4(b);
  if (ethertype === ETHERTYPE_IPV6) return ipv6(b);
  if (ethertype === ETHERTYPE_PPPOE_SESSION) return pppoe(b);
  return fail('not_ip', `ethertype 0x${ethertype.toString(16).padStart(4, '0')} is not IP`);
}

function ethernet(b: Uint8Array): PacketDecodeResult {
  if (b.length < 14) return fail('truncated', 'Ethernet header cut short');
  let ethertype = u16(b, 12);
  let off = 14;
  const vlan: number[] = [];
  while (VLAN_ETHERTYPES.has(ethertype)) {
    if (off + 4 > b.length) return fail('truncated', '802.1Q tag cut short');
    vlan.push(u16(b, off) & 0x0fff);
    ethertype = u16(b, off + 2);
    off += 4;
  }
  const result = byEthertype(ethertype, b.subarray(off));
  if (result.ok && vlan.length > 0) result.packet.vlan = vlan;
  return result;
}

function rawIp(b: Uint8Array): PacketDecodeResult {
  if (b.length < 1) return fail('truncated', 'empty packet');
  const version = b[0]! >> 4;
  if (version === 4) return ipv4(b);
  if (version === 6) return ipv6(b);
  return fail('not_ip', `IP version ${version}`);
}

/** BSD loopback: a 4-byte address family in the capturing host's byte order. */
function loopback(b: Uint8Array): PacketDecodeResult {
  if (b.length < 4) return fail('truncated', 'loopback header cut short');
  const le = b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
  const family = le >>> 0 > 0xffff ? u32(b, 0) : le;
  if (family === 2) return ipv4(b.subarray(4));
  if (family === 10 || family === 24 || family === 28 || family === 30) return ipv6(b.subarray(4));
  return fail('not_ip', `loopback address family ${family}`);
}

/** Decodes a frame of the given LINKTYPE to its UDP or TCP layer. Never throws. */
export function decodePacket(linkType: number, data: Uint8Array): PacketDecodeResult {
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      return ethernet(data);
    case LINKTYPE.RAW:
      return rawIp(data);
    case LINKTYPE.IPV4:
      return ipv4(data);
    case LINKTYPE.IPV6:
      return ipv6(data);
    case LINKTYPE.LINUX_SLL:
      // 16-byte header, protocol (an ethertype) in the last two bytes.
      return data.length < 16
        ? fail('truncated', 'SLL header cut short')
        : byEthertype(u16(data, 14), data.subarray(16));
    case LINKTYPE.LINUX_SLL2:
      // 20-byte header, protocol first.
      return data.length < 20
        ? fail('truncated', 'SLL2 header cut short')
        : byEthertype(u16(data, 0), data.subarray(20));
    case LINKTYPE.NULL:
      return loopback(data);
    default:
      return fail('unsupported_link_type', `link type ${linkType} is not supported`);
  }
}
