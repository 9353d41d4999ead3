/**
 * Builds captures and packets byte by byte for the pcap tests: classic pcap and pcapng files in
 * either byte order, and Ethernet/SLL/IPv4/IPv6/UDP/TCP frames. Written from the format
 * documents, independently of the reader, so the tests do not check the reader against itself.
 * Checksums are left zero: the decoder does not verify them (captures often hold offloaded ones).
 */

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

class Writer {
  private readonly bytes: number[] = [];
  constructor(private readonly little: boolean) {}
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    const b = [(v >>> 8) & 0xff, v & 0xff];
    this.bytes.push(...(this.little ? b.reverse() : b));
    return this;
  }
  u32(v: number): this {
    const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    this.bytes.push(...(this.little ? b.reverse() : b));
    return this;
  }
  raw(b: Uint8Array | number[]): this {
    this.bytes.push(...b);
    return this;
  }
  pad4(): this {
    while (this.bytes.length % 4) this.bytes.push(0);
    return this;
  }
  get length(): number {
    return this.bytes.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export interface RecordSpec {
  /** Seconds and the sub-second part in the file's unit (µs or ns). */
  sec: number;
  frac: number;
  data: Uint8Array;
  originalLength?: number;
}

/** Classic pcap: 24-byte header, then 16-byte record headers. */
export function pcapFile(
  records: RecordSpec[],
  opts: { linkType: number; little?: boolean; nanos?: boolean; snaplen?: number },
): Uint8Array {
  const w = new Writer(opts.little ?? true);
  w.u32(opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0)
    .u32(opts.snaplen ?? 65_535);
  w.u32(opts.linkType);
  for (const r of records) {
    w.u32(r.sec)
      .u32(r.frac)
      .u32(r.data.length)
      .u32(r.originalLength ?? r.data.length)
      .raw(r.data);
  }
  return w.done();
}

function block(little: boolean, type: number, body: Uint8Array): Uint8Array {
  const len = 12 + Math.ceil(body.length / 4) * 4;
  return new Writer(little).u32(type).u32(len).raw(body).pad4().u32(len).done();
}

export interface PcapngInterface {
  linkType: number;
  snaplen?: number;
  /** if_tsresol option value; absent means the default (microseconds). */
  tsresol?: number;
}

export type PcapngPacket =
  | { kind: 'epb'; iface: number; units: bigint; data: Uint8Array; originalLength?: number }
  | { kind: 'spb'; data: Uint8Array; originalLength?: number };

/** pcapng: one section (SHB), its interfaces (IDB), then packet blocks; unknown blocks can be mixed in. */
export function pcapngSection(
  interfaces: PcapngInterface[],
  packets: PcapngPacket[],
  opts: { little?: boolean; extraBlock?: boolean } = {},
): Uint8Array {
  const little = opts.little ?? true;
  const shb = new Writer(little).u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff).done();
  const parts = [block(little, 0x0a0d0d0a, shb)];
  for (const i of interfaces) {
    const idb = new Writer(little)
      .u16(i.linkType)
      .u16(0)
      .u32(i.snaplen ?? 0);
    if (i.tsresol !== undefined) idb.u16(9).u16(1).u8(i.tsresol).pad4();
    idb.u16(0).u16(0); // opt_endofopt
    parts.push(block(little, 1, idb.done()));
  }
  if (opts.extraBlock) parts.push(block(little, 0x00000004, Uint8Array.of(0, 0, 0, 0))); // name resolution
  for (const p of packets) {
    if (p.kind === 'epb') {
      const epb = new Writer(little)
        .u32(p.iface)
        .u32(Number(p.units >> 32n))
        .u32(Number(p.units & 0xffffffffn));
      epb
        .u32(p.data.length)
        .u32(p.originalLength ?? p.data.length)
        .raw(p.data)
        .pad4();
      parts.push(block(little, 6, epb.done()));
    } else {
      parts.push(
        block(
          little,
          3,
          new Writer(little)
            .u32(p.originalLength ?? p.data.length)
            .raw(p.data)
            .done(),
        ),
      );
    }
  }
  return concat(...parts);
}

// Packets, always big-endian (network byte order).

export function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

export function udp(srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  return new Writer(false)
    .u16(srcPort)
    .u16(dstPort)
    .u16(8 + payload.length)
    .u16(0)
    .raw(payload)
    .done();
}

export function tcp(
  srcPort: number,
  dstPort: number,
  seq: number,
  flags: number,
  payload: Uint8Array,
  ack = 0,
): Uint8Array {
  // 20-byte header plus a 4-byte MSS option, to check that the data offset is honoured.
  return new Writer(false)
    .u16(srcPort)
    .u16(dstPort)
    .u32(seq >>> 0)
    .u32(ack)
    .u8(6 << 4)
    .u8(flags)
    .u16(65_535)
    .u16(0)
    .u16(0)
    .raw([2, 4, 5, 0xb4])
    .raw(payload)
    .done();
}

export function ipv4(
  src: string,
  dst: string,
  protocol: number,
  payload: Uint8Array,
  flagsFrag = 0,
): Uint8Array {
  return new Writer(false)
    .u8(0x45)
    .u8(0)
    .u16(20 + payload.length)
    .u16(1)
    .u16(flagsFrag)
    .u8(64)
    .u8(protocol)
    .u16(0)
    .raw(ipv4Bytes(src))
    .raw(ipv4Bytes(dst))
    .raw(payload)
    .done();
}

/** IPv6 with optional extension headers given as [type, body-after-the-2-byte-header]. */
export function ipv6(
  src: number[],
  dst: number[],
  protocol: number,
  payload: Uint8Array,
  ext: Array<[number, number[]]> = [],
): Uint8Array {
  const chain = new Writer(false);
  ext.forEach(([, body], i) => {
    const next = i + 1 < ext.length ? ext[i + 1]![0] : protocol;
    const total = 2 + body.length; // multiple of 8 for options headers, exactly 8 for fragment
    chain
      .u8(next)
      .u8(ext[i]![0] === 44 ? 0 : total / 8 - 1)
      .raw(body);
  });
  const headers = chain.done();
  const first = ext.length > 0 ? ext[0]![0] : protocol;
  return new Writer(false)
    .u32(0x60000000)
    .u16(headers.length + payload.length)
    .u8(first)
    .u8(64)
    .raw(src)
    .raw(dst)
    .raw(headers)
    .raw(payload)
    .done();
}

export function ethernet(ethertype: number, payload: Uint8Array, vlans: number[] = []): Uint8Array {
  const w = new Writer(false).raw([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  for (const v of vlans) w.u16(0x8100).u16(v);
  w.u16(ethertype).raw(payload);
  // Ethernet pads frames to 60 bytes: the decoder must use the IP length, not the frame's.
  while (w.length < 60) w.u8(0);
  return w.done();
}

export function linuxSll(protocol: number, payload: Uint8Array): Uint8Array {
  return new Writer(false)
    .u16(0)
    .u16(1)
    .u16(6)
    .raw([2, 0, 0, 0, 0, 1, 0, 0])
    .u16(protocol)
    .raw(payload)
    .done();
}

export const TCP = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;
