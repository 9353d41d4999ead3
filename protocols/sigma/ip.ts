/**
 * IP addresses and CIDR ranges for the `cidr` modifier (modifiers appendix, "IP Modifiers": IPv4
 * and IPv6 notations). Addresses are parsed into 128-bit bigints (IPv4 into the low 32 bits of its
 * own family), so a range test is two shifts and a compare. Parsing never throws: a string that is
 * not an address simply does not match.
 */

export interface Cidr {
  v6: boolean;
  bits: number;
  /** The network address, already shifted right by (width - bits). */
  prefix: bigint;
}

/** Dotted-quad IPv4 (no octal or shortened forms) → 32-bit value. */
export function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = (n << 8n) | BigInt(v);
  }
  return n;
}

/** RFC 4291 §2.2 text forms, including `::` and an embedded IPv4 tail; a `%zone` suffix is ignored. */
export function parseIpv6(input: string): bigint | undefined {
  let text = input;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (text.length < 2 || text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  let n = 0n;
  for (const g of all) n = (n << 16n) | BigInt(g);
  return n;
}

/** An address of either family, or undefined. */
export function parseIp(text: string): { v6: boolean; n: bigint } | undefined {
  const t = text.trim();
  if (t.includes(':')) {
    const n = parseIpv6(t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t);
    return n === undefined ? undefined : { v6: true, n };
  }
  const n = parseIpv4(t);
  return n === undefined ? undefined : { v6: false, n };
}

/** `10.0.0.0/8`, `fe80::/10`; a bare address is a /32 or /128. Host bits are ignored. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addr = parseIp(slash >= 0 ? text.slice(0, slash) : text);
  if (!addr) return undefined;
  const width = addr.v6 ? 128 : 32;
  let bits = width;
  if (slash >= 0) {
    const b = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) return undefined;
    bits = Number(b);
    if (bits > width) return undefined;
  }
  return { v6: addr.v6, bits, prefix: addr.n >> BigInt(width - bits) };
}

const MAPPED_V4 = 0xffffn << 32n;

/**
 * True when `text` is an address inside the range. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`)
 * is also tested against IPv4 ranges, since dual-stack sockets report IPv4 peers that way.
 */
export function cidrContains(cidr: Cidr, text: string): boolean {
  const addr = parseIp(text);
  if (!addr) return false;
  let { v6, n } = addr;
  if (v6 && !cidr.v6 && n >> 32n === MAPPED_V4 >> 32n) {
    v6 = false;
    n &= 0xffffffffn;
  }
  if (v6 !== cidr.v6) return false;
  const width = v6 ? 128 : 32;
  return n >> BigInt(width - cidr.bits) === cidr.prefix;
}
