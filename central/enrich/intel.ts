/**
 * Threat-intelligence indicators (IP addresses, CIDRs, domains, file hashes) loaded from CSV
 * (`type,value[,description[,level]]` with a header; type ip | cidr | domain | md5 | sha1 |
 * sha256) or STIX 2.1 bundles (`indicator` objects with `pattern_type: stix`; the comparison
 * expressions `ipv4-addr:value`, `ipv6-addr:value` (an address or a CIDR), `domain-name:value`
 * and `file:hashes.'MD5'|'SHA-1'|'SHA-256'` joined by OR; revoked and expired indicators are
 * skipped, and so is every pattern this reader does not understand, counted, never guessed).
 * Matching an event is set lookups: src/dst IP (exact and CIDR), the host and domain-like fields
 * (a listed domain matches its subdomains), and hash-shaped field values.
 */
import { BlockList } from 'node:net';
import { parseCsv } from '../store/archive-csv.ts';
import type { Event } from '../../protocols/event/schema.ts';
import { cidrList, normaliseIp } from './ip.ts';
import type { SigmaLevel } from '../alerts/types.ts';

export type IndicatorType = 'ip' | 'cidr' | 'domain' | 'hash';
export interface Indicator {
  type: IndicatorType;
  value: string;
  description?: string;
  level?: SigmaLevel;
  /** STIX `valid_until`, ms since the epoch: the indicator expires then. */
  valid_until?: number;
}
export interface IntelHit {
  indicator: Indicator;
  /** Where in the event it matched: src.ip, dst.ip, host, fields.<key>. */
  field: string;
}

const LEVELS = new Set(['informational', 'low', 'medium', 'high', 'critical']);
const HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/;
const DOMAIN_FIELDS = ['domain', 'hostname', 'query', 'server_name', 'sni'];
/** Addresses whose match a set remembers (see matchIp). */
const IP_MEMO_MAX = 50_000;

function indicatorOf(
  type: string,
  value: string,
  description?: string,
  level?: string,
): Indicator | undefined {
  const v = value.trim();
  const extra = {
    ...(description && { description }),
    ...(level && LEVELS.has(level) && { level: level as SigmaLevel }),
  };
  if (type === 'ip' && normaliseIp(v)) return { type: 'ip', value: normaliseIp(v)!.address, ...extra };
  if (type === 'cidr' || (type === 'ip' && v.includes('/'))) {
    try {
      cidrList([v]);
      return { type: 'cidr', value: v, ...extra };
    } catch {
      return undefined;
    }
  }
  if (type === 'domain' && /^[a-z0-9.-]+\.[a-z0-9-]+$/i.test(v)) {
    return { type: 'domain', value: v.toLowerCase().replace(/\.$/, ''), ...extra };
  }
  if (['hash', 'md5', 'sha1', 'sha256', 'sha-1', 'sha-256'].includes(type) && HASH.test(v.toLowerCase())) {
    return { type: 'hash', value: v.toLowerCase(), ...extra };
  }
  return undefined;
}

export async function parseIndicatorCsv(text: string): Promise<{ indicators: Indicator[]; skipped: number }> {
  const indicators: Indicator[] = [];
  let skipped = 0;
  let header = true;
  for await (const record of parseCsv(
    (async function* () {
      yield text.endsWith('\n') ? text : `${text}\n`;
    })(),
  )) {
    if (header) {
      header = false;
      if (record[0]?.trim().toLowerCase() === 'type') continue;
    }
    if (record.length === 1 && (record[0] ?? '') === '') continue;
    const [type, value, description, level] = record;
    const ind = indicatorOf(
      (type ?? '').trim().toLowerCase(),
      value ?? '',
      description ?? undefined,
      level?.trim(),
    );
    if (ind) indicators.push(ind);
    else skipped += 1;
  }
  return { indicators, skipped };
}

/**
 * A plain list: one indicator a line, its type guessed (an address, a CIDR, a hash, else a domain);
 * `#` and `;` start comments; anything else on the line after whitespace or a comma is ignored.
 */
export function parseIndicatorList(text: string): { indicators: Indicator[]; skipped: number } {
  const indicators: Indicator[] = [];
  let skipped = 0;
  for (const raw of text.split(/\r?\n/)) {
    const value =
      raw
        .replace(/[#;].*$/, '')
        .trim()
        .split(/[\s,]/)[0] ?? '';
    if (value === '') continue;
    const type = normaliseIp(value)
      ? 'ip'
      : value.includes('/')
        ? 'cidr'
        : HASH.test(value.toLowerCase())
          ? 'hash'
          : 'domain';
    const ind = indicatorOf(type, value);
    if (ind) indicators.push(ind);
    else skipped += 1;
  }
  return { indicators, skipped };
}

const COMPARISON =
  /(ipv4-addr|ipv6-addr|domain-name):value\s*=\s*'((?:[^'\\]|\\.)*)'|file:hashes\.(?:'(MD5|SHA-1|SHA-256)'|(MD5|SHA1|SHA256))\s*=\s*'([0-9A-Fa-f]+)'/g;

export function parseStixBundle(
  bundle: unknown,
  now: Date = new Date(),
): { indicators: Indicator[]; skipped: number } {
  const objects = (bundle as { type?: unknown; objects?: unknown })?.objects;
  if ((bundle as { type?: unknown })?.type !== 'bundle' || !Array.isArray(objects)) {
    throw new Error('not a STIX 2.1 bundle (type "bundle" with objects)');
  }
  const indicators: Indicator[] = [];
  let skipped = 0;
  for (const o of objects as Array<Record<string, unknown>>) {
    if (o?.type !== 'indicator') continue;
    const expired = typeof o.valid_until === 'string' && Date.parse(o.valid_until) <= now.getTime();
    if (o.revoked === true || expired || o.pattern_type !== 'stix' || typeof o.pattern !== 'string') {
      skipped += 1;
      continue;
    }
    // Only ORs of understood comparisons: an AND or a FOLLOWEDBY means something narrower.
    if (/\bAND\b|\bFOLLOWEDBY\b|\bWITHIN\b|\bSTART\b/.test(o.pattern)) {
      skipped += 1;
      continue;
    }
    const description = typeof o.name === 'string' ? o.name : undefined;
    const until = typeof o.valid_until === 'string' ? Date.parse(o.valid_until) : NaN;
    let found = 0;
    for (const m of o.pattern.matchAll(COMPARISON)) {
      const ind = m[1]
        ? indicatorOf(m[1] === 'domain-name' ? 'domain' : 'ip', m[2]!.replace(/\\(.)/g, '$1'), description)
        : indicatorOf('hash', m[5]!, description);
      if (ind) {
        indicators.push(Number.isFinite(until) ? { ...ind, valid_until: until } : ind);
        found += 1;
      }
    }
    if (found === 0) skipped += 1;
  }
  return { indicators, skipped };
}

export function createIndicatorSet(indicators: readonly Indicator[]) {
  const ips = new Map<string, Indicator>();
  const domains = new Map<string, Indicator>();
  const hashes = new Map<string, Indicator>();
  const cidrs: Array<{ list: BlockList; indicator: Indicator }> = [];
  for (const ind of indicators) {
    if (ind.type === 'ip') ips.set(ind.value, ind);
    else if (ind.type === 'domain') domains.set(ind.value, ind);
    else if (ind.type === 'hash') hashes.set(ind.value, ind);
    else cidrs.push({ list: cidrList([ind.value]), indicator: ind });
  }
  // The answer per address as given (a set never changes; a reload makes a new one): matching
  // one normalised the address and ran BlockList.check, which makes a SocketAddress, once per
  // CIDR indicator, for both addresses of every event, twice (annotation and after commit); a
  // plant's traffic repeats a few hundred addresses. Bounded: emptied when full.
  const ipMemo = new Map<string, Indicator | null>();
  const matchIp = (ip: string | undefined): Indicator | undefined => {
    if (ip === undefined) return undefined;
    const known = ipMemo.get(ip);
    if (known !== undefined) return known ?? undefined;
    const n = normaliseIp(ip);
    const hit = n
      ? (ips.get(n.address) ?? cidrs.find((c) => c.list.check(n.address, n.family))?.indicator)
      : undefined;
    if (ipMemo.size >= IP_MEMO_MAX) ipMemo.clear();
    ipMemo.set(ip, hit ?? null);
    return hit;
  };
  const matchDomain = (name: string): Indicator | undefined => {
    let d = name.toLowerCase().replace(/\.$/, '');
    for (;;) {
      const hit = domains.get(d);
      if (hit) return hit;
      const dot = d.indexOf('.');
      if (dot < 0) return undefined;
      d = d.slice(dot + 1);
    }
  };
  return {
    size: indicators.length,
    match(event: Event): IntelHit[] {
      const hits: IntelHit[] = [];
      const src = matchIp(event.src?.ip);
      if (src) hits.push({ indicator: src, field: 'src.ip' });
      const dst = matchIp(event.dst?.ip);
      if (dst) hits.push({ indicator: dst, field: 'dst.ip' });
      if (domains.size > 0 && event.host) {
        const d = matchDomain(event.host);
        if (d) hits.push({ indicator: d, field: 'host' });
      }
      // Only when a domain or hash could match: no entries array per event otherwise.
      if (domains.size === 0 && hashes.size === 0) return hits;
      for (const [key, value] of Object.entries(event.fields)) {
        if (typeof value !== 'string') continue;
        if (domains.size > 0 && DOMAIN_FIELDS.includes(key)) {
          const d = matchDomain(value);
          if (d) hits.push({ indicator: d, field: `fields.${key}` });
        } else if (hashes.size > 0 && HASH.test(value.toLowerCase())) {
          const h = hashes.get(value.toLowerCase());
          if (h) hits.push({ indicator: h, field: `fields.${key}` });
        }
      }
      return hits;
    },
  };
}

export type IndicatorSet = ReturnType<typeof createIndicatorSet>;
