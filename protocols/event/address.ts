/**
 * Peer addresses as events carry them. A dual-stack socket reports an IPv4 peer as an
 * IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, RFC 4291 §2.5.5.2); events, rules, refusal
 * counters and allow lists want the IPv4 address a device and an analyst know. Pure: every
 * server and source strips the prefix here.
 */

const MAPPED_IPV4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** `::ffff:10.0.0.1` → `10.0.0.1`; any other text unchanged. */
export function unmapIpv4(address: string): string {
  return MAPPED_IPV4.exec(address)?.[1] ?? address;
}

/** A socket's peer or local address for an event: unmapped, `unknown` when the socket has none. */
export function normalizeIp(address: string | undefined): string {
  return address ? unmapIpv4(address) : 'unknown';
}
