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
  /**
   * A hash of (src, srcPort, dst, dstPort) made from the header's bytes, for a flow table's first
   * lookup (tcp-stream.ts): equal tuples of one decoder have equal hashes, different ones rarely.
   * A hint only: a table checks the tuple and falls back to it.
   */
  flowHash?: number;
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

/** One step of a 32-bit hash (the multiply and shifts of MurmurHash3's finaliser). */
function mix(h: number, word: number): number {
  let x = Math.imul(h ^ word, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** IPv4 text by address (as an int32), up to 4,096 addresses, then forgotten all at once. */
const IPV4_TEXT = new Map<number, string>();
const IPV4_TEXT_MAX = 4096;

/**
 * Dotted-quad text. A capture names the same few addresses again and again: each gets one string,
 * which flow tables then compare by identity and the JSON writer reads flat (a fresh one per
 * packet is a concatenation, flattened again wherever it is read).
 */
export function formatIpv4(b: Uint8Array, at: number): string {
  const address = (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
  let text = IPV4_TEXT.get(address);
  if (text === undefined) {
    if (IPV4_TEXT.size >= IPV4_TEXT_MAX) IPV4_TEXT.clear();
    text = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
    IPV4_TEXT.set(address, text);
  }
  return text;
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

/*
 * Each layer reads the frame between `off` and `end` (its own bytes) instead of a view made per
 * layer: a typed array view is an allocation, and only the payload needs one.
 */

/** Transport layer: UDP or TCP inside an IP payload. */
function transport(
  ipVersion: 4 | 6,
  src: string,
  dst: string,
  protocol: number,
  b: Uint8Array,
  off: number,
  end: number,
  addressHash: number,
): PacketDecodeResult {
  const length = end - off;
  if (protocol === IPPROTO_UDP) {
    if (length < 8) return fail('truncated', 'UDP header cut short');
    const udpLength = u16(b, off + 4);
    // RFC 768: length covers header and data; 0 is a jumbogram (RFC 2675) or an offloaded checksum.
    const udpEnd = udpLength === 0 ? length : udpLength;
    if (udpEnd < 8) return fail('invalid_header', `UDP length ${udpLength} is shorter than its header`);
    if (udpEnd > length) return fail('truncated', `UDP length ${udpLength}, ${length} bytes captured`);
    const packet: DecodedPacket = {
      ipVersion,
      src,
      dst,
      proto: 'udp',
      srcPort: u16(b, off),
      dstPort: u16(b, off + 2),
      payload: b.subarray(off + 8, off + udpEnd),
      flowHash: mix(addressHash, u32(b, off)),
    };
    return { ok: true, packet };
  }
  if (protocol === IPPROTO_TCP) {
    if (length < 20) return fail('truncated', 'TCP header cut short');
    const headerLen = (b[off + 12]! >> 4) * 4;
    if (headerLen < 20) return fail('invalid_header', `TCP data offset ${headerLen} is under 20`);
    if (headerLen > length) return fail('truncated', 'TCP options cut short');
    const packet: DecodedPacket = {
      ipVersion,
      src,
      dst,
      proto: 'tcp',
      srcPort: u16(b, off),
      dstPort: u16(b, off + 2),
      payload: b.subarray(off + headerLen, end),
      flowHash: mix(addressHash, u32(b, off)),
      tcp: {
        seq: u32(b, off + 4),
        ack: u32(b, off + 8),
        flags: ((b[off + 12]! & 1) << 8) | b[off + 13]!,
        window: u16(b, off + 14),
      },
    };
    return { ok: true, packet };
  }
  // IP-in-IP and 6in4 tunnels (RFC 2003, RFC 4213): decode the inner packet.
  if (protocol === IPPROTO_IPIP) return ipv4(b, off, end);
  if (protocol === IPPROTO_IPV6) return ipv6(b, off, end);
  return fail('unsupported_protocol', `IP protocol ${protocol} is neither UDP nor TCP`);
}

function ipv4(b: Uint8Array, off: number, end: number): PacketDecodeResult {
  const length = end - off;
  if (length < 20) return fail('truncated', 'IPv4 header cut short');
  if (b[off]! >> 4 !== 4) return fail('invalid_header', `IP version ${b[off]! >> 4}, expected 4`);
  const headerLen = (b[off]! & 0x0f) * 4;
  if (headerLen < 20) return fail('invalid_header', `IPv4 header length ${headerLen} is under 20`);
  // Total length 0 appears in captures of TCP segmentation offload: trust the captured length.
  const total = u16(b, off + 2) === 0 ? length : u16(b, off + 2);
  if (total < headerLen) return fail('invalid_header', `IPv4 total length ${total} is under its header`);
  if (total > length) return fail('truncated', `IPv4 total length ${total}, ${length} bytes captured`);
  if ((u16(b, off + 6) & 0x3fff) !== 0) return fail('fragment', 'IPv4 fragment (not reassembled)');
  const addressHash = mix(mix(0, u32(b, off + 12)), u32(b, off + 16));
  // Ethernet pads short frames: the payload ends at the total length, not at the frame's end.
  const src = formatIpv4(b, off + 12);
  const dst = formatIpv4(b, off + 16);
  return transport(4, src, dst, b[off + 9]!, b, off + headerLen, off + total, addressHash);
}

/** IPv6 extension headers skipped on the way to the transport header (RFC 8200 §4). */
const IPV6_EXTENSIONS = new Set([0, 43, 60]);
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;

function ipv6(b: Uint8Array, start: number, frameEnd: number): PacketDecodeResult {
  const length = frameEnd - start;
  if (length < 40) return fail('truncated', 'IPv6 header cut short');
  if (b[start]! >> 4 !== 6) return fail('invalid_header', `IP version ${b[start]! >> 4}, expected 6`);
  const payloadLen = u16(b, start + 4);
  const end = payloadLen === 0 ? frameEnd : start + 40 + payloadLen;
  if (end > frameEnd)
    return fail('truncated', `IPv6 payload length ${payloadLen}, ${length - 40} bytes captured`);
  let next = b[start + 6]!;
  let off = start + 40;
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
    let addressHash = 6;
    for (let at = start + 8; at < start + 40; at += 4) addressHash = mix(addressHash, u32(b, at));
    const src = formatIpv6(b, start + 8);
    const dst = formatIpv6(b, start + 24);
    return transport(6, src, dst, next, b, off, end, addressHash);
  }
}

/** PPPoE session stage (RFC 2516 §4): a 6-byte header, then the PPP protocol number. */
function pppoe(b: Uint8Array, off: number, end: number): PacketDecodeResult {
  if (end - off < 8) return fail('truncated', 'PPPoE header cut short');
  const protocol = u16(b, off + 6);
  if (protocol === PPP_IPV4) return ipv4(b, off + 8, end);
  if (protocol === PPP_IPV6) return ipv6(b, off + 8, end);
  return fail('not_ip', `PPP protocol 0x${protocol.toString(16).padStart(4, '0')} is not IP`);
}

function byEthertype(ethertype: number, b: Uint8Array, off: number): PacketDecodeResult {
  if (ethertype === ETHERTYPE_IPV4) return ipv4(b, off, b.length);
  if (ethertype === ETHERTYPE_IPV6) return ipv6(b, off, b.length);
  if (ethertype === ETHERTYPE_PPPOE_SESSION) return pppoe(b, off, b.length);
  return fail('not_ip', `ethertype 0x${ethertype.toString(16).padStart(4, '0')} is not IP`);
}

function ethernet(b: Uint8Array): PacketDecodeResult {
  if (b.length < 14) return fail('truncated', 'Ethernet header cut short');
  let ethertype = u16(b, 12);
  let off = 14;
  let vlan: number[] | undefined;
  while (VLAN_ETHERTYPES.has(ethertype)) {
    if (off + 4 > b.length) return fail('truncated', '802.1Q tag cut short');
    (vlan ??= []).push(u16(b, off) & 0x0fff);
    ethertype = u16(b, off + 2);
    off += 4;
  }
  const result = byEthertype(ethertype, b, off);
  if (result.ok && vlan) result.packet.vlan = vlan;
  return result;
}

function rawIp(b: Uint8Array): PacketDecodeResult {
  if (b.length < 1) return fail('truncated', 'empty packet');
  const version = b[0]! >> 4;
  if (version === 4) return ipv4(b, 0, b.length);
  if (version === 6) return ipv6(b, 0, b.length);
  return fail('not_ip', `IP version ${version}`);
}

/** BSD loopback: a 4-byte address family in the capturing host's byte order. */
function loopback(b: Uint8Array): PacketDecodeResult {
  if (b.length < 4) return fail('truncated', 'loopback header cut short');
  const le = b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
  const family = le >>> 0 > 0xffff ? u32(b, 0) : le;
  if (family === 2) return ipv4(b, 4, b.length);
  if (family === 10 || family === 24 || family === 28 || family === 30) return ipv6(b, 4, b.length);
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
      return ipv4(data, 0, data.length);
    case LINKTYPE.IPV6:
      return ipv6(data, 0, data.length);
    case LINKTYPE.LINUX_SLL:
      // 16-byte header, protocol (an ethertype) in the last two bytes.
      return data.length < 16
        ? fail('truncated', 'SLL header cut short')
        : byEthertype(u16(data, 14), data, 16);
    case LINKTYPE.LINUX_SLL2:
      // 20-byte header, protocol first.
      return data.length < 20
        ? fail('truncated', 'SLL2 header cut short')
        : byEthertype(u16(data, 0), data, 20);
    case LINKTYPE.NULL:
      return loopback(data);
    default:
      return fail('unsupported_link_type', `link type ${linkType} is not supported`);
  }
}
