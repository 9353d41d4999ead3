/**
 * What an IP address is: its scope (RFC 1918 private, RFC 6598 shared, loopback, link-local,
 * multicast, documentation, reserved, or public), whether it is inside one of the plant's OT
 * networks (config `enrichment.ot_networks`), and for public addresses where it is (country,
 * city; geoip-lite's bundled GeoLite data, loaded on first use since it takes ~150 MB). ASN is
 * not in geoip-lite's data and is reported as absent rather than guessed.
 */
import { createRequire } from 'node:module';
import { BlockList, isIP } from 'node:net';
import { unmapIpv4 } from '../../protocols/event/address.ts';

export type IpScope =
  'private' | 'shared' | 'loopback' | 'link_local' | 'multicast' | 'documentation' | 'reserved' | 'public';

export interface IpInfo {
  ip: string;
  scope: IpScope;
  /** Inside a configured OT network. */
  ot: boolean;
  /** Public addresses only, when the GeoIP data knows them. */
  geo?: { country: string; city?: string; region?: string };
}

/** RFC 6890 special-purpose ranges, most specific first where they overlap. */
const RANGES: Array<[IpScope, string, number, 'ipv4' | 'ipv6']> = [
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['shared', '100.64.0.0', 10, 'ipv4'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link_local', '169.254.0.0', 16, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['documentation', '192.0.2.0', 24, 'ipv4'],
  ['documentation', '198.51.100.0', 24, 'ipv4'],
  ['documentation', '203.0.113.0', 24, 'ipv4'],
  ['reserved', '0.0.0.0', 8, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['loopback', '::1', 128, 'ipv6'],
  ['reserved', '::', 128, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link_local', 'fe80::', 10, 'ipv6'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['documentation', '2001:db8::', 32, 'ipv6'],
];

const lists = new Map<IpScope, BlockList>();
for (const [scope, network, prefix, family] of RANGES) {
  if (!lists.has(scope)) lists.set(scope, new BlockList());
  lists.get(scope)!.addSubnet(network, prefix, family);
}

/** A list of CIDRs (`10.10.0.0/16`, `fd00:1::/48`); throws naming the bad one. */
export function cidrList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefixText] = cidr.split('/');
    const family = isIP(network ?? '');
    const prefix = Number(prefixText ?? (family === 6 ? 128 : 32));
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new Error(`not a CIDR: ${cidr}`);
    }
    list.addSubnet(network!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; zone ids dropped; undefined when not an IP at all. */
export function normaliseIp(ip: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const bare = ip.replace(/%.*$/, '');
  const address = unmapIpv4(bare);
  const family = isIP(address);
  if (!family) return undefined;
  return { address, family: family === 6 ? 'ipv6' : 'ipv4' };
}

type Classified = { address: string; family: 'ipv4' | 'ipv6'; scope: IpScope };
/**
 * Addresses already classified (the scope of an address never changes): `BlockList.check` makes a
 * SocketAddress per call, and every event's addresses are classified on central's ingest thread
 * (~18% of it before this memo), while a plant's traffic repeats the same few hundred addresses.
 * Bounded: emptied when full. `null`: not an IP.
 */
const scopeMemo = new Map<string, Classified | null>();
/** OT-network membership by list, then address (configs change by making a new list). */
const otMemo = new WeakMap<BlockList, Map<string, boolean>>();
const MEMO_MAX = 50_000;

function classify(ip: string): Classified | undefined {
  const known = scopeMemo.get(ip);
  if (known !== undefined) return known ?? undefined;
  const n = normaliseIp(ip);
  let out: Classified | null = null;
  if (n) {
    let scope: IpScope = 'public';
    for (const [s, list] of lists) {
      if (list.check(n.address, n.family)) {
        scope = s;
        break;
      }
    }
    out = { ...n, scope };
  }
  if (scopeMemo.size >= MEMO_MAX) scopeMemo.clear();
  scopeMemo.set(ip, out);
  return out ?? undefined;
}

function inOt(list: BlockList, c: Classified): boolean {
  let memo = otMemo.get(list);
  if (!memo) otMemo.set(list, (memo = new Map()));
  let hit = memo.get(c.address);
  if (hit === undefined) {
    hit = list.check(c.address, c.family);
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(c.address, hit);
  }
  return hit;
}

export function ipScope(ip: string): IpScope | undefined {
  return classify(ip)?.scope;
}

interface GeoLookup {
  lookup(ip: string): { country: string; region: string; city: string } | null;
}
let geoip: GeoLookup | undefined;
/**
 * Answers of geoip-lite by address (its data never changes while central runs): the same few
 * public addresses recur in a plant's traffic, and a lookup costs several µs. Bounded: emptied
 * when full.
 */
const geoMemo = new Map<string, IpInfo['geo'] | null>();
const GEO_MEMO_MAX = 50_000;

function geo(address: string): IpInfo['geo'] {
  const known = geoMemo.get(address);
  if (known !== undefined) return known === null ? undefined : { ...known };
  geoip ??= createRequire(import.meta.url)('geoip-lite') as GeoLookup;
  const hit = geoip.lookup(address);
  const where =
    hit && hit.country
      ? {
          country: hit.country,
          ...(hit.city && { city: hit.city }),
          ...(hit.region && { region: hit.region }),
        }
      : undefined;
  if (geoMemo.size >= GEO_MEMO_MAX) geoMemo.clear();
  geoMemo.set(address, where ?? null);
  return where && { ...where };
}

export function ipInfo(
  ip: string,
  otNetworks?: BlockList,
  options: { geo?: boolean } = {},
): IpInfo | undefined {
  const c = classify(ip);
  if (!c) return undefined;
  const info: IpInfo = { ip: c.address, scope: c.scope, ot: otNetworks ? inOt(otNetworks, c) : false };
  if (c.scope === 'public' && options.geo !== false) {
    const where = geo(c.address);
    if (where) info.geo = where;
  }
  return info;
}
