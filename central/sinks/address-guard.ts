/**
 * The guard against server-side request forgery shared by every outbound HTTP call central makes
 * to an operator-configured URL (the alert webhook sink, playbook webhook actions, report
 * webhooks, all through `guardedPoster` in webhook.ts): a config or API user who can set a URL
 * must not make central call its own loopback services, the cloud metadata endpoint
 * (169.254.169.254, fd00:ec2::254) or hosts on the internal network.
 *   - Link-local, multicast, reserved and metadata addresses are always refused.
 *   - Loopback and private (RFC 1918, RFC 6598, fc00::/7) addresses are refused unless the
 *     address is in an explicit allow-list of addresses and CIDR ranges (an internal SOAR host
 *     the operator means to post to: a sink's or report destination's `allow_addresses`).
 *   - Every address the host name resolves to is checked when the socket connects (the socket's
 *     own `lookup`), so a DNS answer cannot swap in an internal address after a check; and each
 *     request opens a fresh connection (`agent: false`), because a pooled keep-alive socket is
 *     reused without a lookup and so without the check.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const ALWAYS_BLOCKED = new BlockList();
ALWAYS_BLOCKED.addSubnet('0.0.0.0', 8, 'ipv4');
ALWAYS_BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, cloud metadata (169.254.169.254)
ALWAYS_BLOCKED.addSubnet('224.0.0.0', 3, 'ipv4'); // multicast and reserved
ALWAYS_BLOCKED.addSubnet('::', 128, 'ipv6');
ALWAYS_BLOCKED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_BLOCKED.addSubnet('ff00::', 8, 'ipv6');
ALWAYS_BLOCKED.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6

/** Loopback and private ranges: refused unless an allow-list covers the address. */
export const PRIVATE_RANGES: readonly string[] = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10', // RFC 6598 shared address space (carrier-grade NAT)
  '::1/128',
  'fc00::/7', // unique local addresses
];

/** What a caller may reach besides public addresses. */
export interface AddressPolicy {
  /** Addresses and CIDR ranges allowed although loopback or private (`allow_addresses`). */
  allow?: readonly string[];
  /** What the operator should set to allow a refused private address (named in the refusal). */
  allowHint?: string;
}

/** An address (`10.1.2.3`, `fd12::1`) or CIDR range (`10.20.0.0/16`, `fd12::/48`), or null. */
export function parseAddressRange(
  entry: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const slash = entry.indexOf('/');
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > max) return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

function rangeList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const range = parseAddressRange(entry);
    if (!range) throw new Error(`not an address or CIDR range: ${entry}`);
    list.addSubnet(range.address, range.prefix, range.family);
  }
  return list;
}

const PRIVATE = rangeList(PRIVATE_RANGES);

/** The check of one policy, built once (the allow-list parsed) and used per address. */
export type AddressCheck = (address: string) => string | null;

/** Builds the check for `policy`; throws on an allow-list entry that is no address or range. */
export function addressCheck(policy: AddressPolicy): AddressCheck {
  const allowed = rangeList(policy.allow ?? []);
  const hint = policy.allowHint ?? 'list it in allow_addresses to allow it';
  return (address) => {
    // IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are judged as the IPv4 address they carry.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    const version = isIP(ip);
    if (version === 0) return `${address} is not an IP address`;
    const family = version === 6 ? 'ipv6' : 'ipv4';
    // The allow-list cannot open these: no SOAR host lives on a metadata or link-local address.
    if (ALWAYS_BLOCKED.check(ip, family)) return `${address} is a link-local, multicast or metadata address`;
    if (!PRIVATE.check(ip, family) || allowed.check(ip, family)) return null;
    return `${address} is a loopback or private address (${hint})`;
  };
}

/** Why `address` may not be called under `policy`, or null. */
export function refusedAddress(address: string, policy: AddressPolicy): string | null {
  return addressCheck(policy)(address);
}

/** The error code of a refusal, on the request's error (a sink counts it as `refused_address`). */
export const REFUSED_ADDRESS = 'EREFUSED_ADDRESS';

export function isRefusedAddress(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === REFUSED_ADDRESS;
}

/** dns.lookup that refuses a host any of whose addresses `check` refuses, for the socket's own resolution. */
export function guardedLookup(check: AddressCheck): LookupFunction {
  return ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      for (const a of addresses) {
        const why = check(a.address);
        if (why)
          return callback(
            Object.assign(new Error(`refused: ${hostname} resolves to ${why}`), { code: REFUSED_ADDRESS }),
          );
      }
      if ((options as { all?: boolean }).all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as LookupFunction;
}

/**
 * The refusal for a URL whose host is an IP literal (Node does not call `lookup` for those),
 * or null; host names are checked by `guardedLookup` when the socket connects.
 */
export function refusedLiteral(url: URL, check: AddressCheck): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? check(host) : null;
}
