/**
 * Autonomous system of an address, from a table the operator points to (`enrichment.asn.file`),
 * since geoip-lite's data has no ASN. The format is iptoasn.com's free `ip2asn-v4.tsv` /
 * `ip2asn-v6.tsv` / `ip2asn-combined.tsv`: one range a line, tab-separated
 * `range_start  range_end  AS_number  country_code  AS_description`, sorted by start; AS number 0
 * ("Not routed") is skipped. The table is held compactly: IPv4 ranges in Uint32Arrays, IPv6 in
 * BigUint64Arrays (high and low halves), the AS number per range, and one description per AS;
 * a lookup is a binary search. At most `max_ranges` ranges are kept (more are counted as
 * skipped), lines over 1 KiB are skipped. The file is re-read when it changes (fs.watch on its
 * directory, plus a poll of its mtime) and on SIGHUP; a reload that fails keeps the old table.
 */
import { createReadStream, watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { normaliseIp } from './ip.ts';

export interface AsnInfo {
  /** `AS13335`. */
  asn: string;
  /** The AS's description (`CLOUDFLARENET`), when the table has one. */
  as_name?: string;
  /** The country the table gives the AS (not GeoIP's). */
  as_country?: string;
}

export interface AsnTable {
  lookup(ip: string): AsnInfo | undefined;
  readonly ranges: number;
  readonly skipped: number;
}

const MAX_LINE = 1024;
const MAX_NAME = 128;

/** Dotted-quad IPv4 → unsigned 32-bit; undefined when not one. */
export function ipv4ToUint(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** An IPv6 address (RFC 4291 §2.2 text forms, with `::` and a trailing dotted quad) → 128-bit. */
export function ipv6ToBigInt(ip: string): bigint | undefined {
  if (isIP(ip) !== 6) return undefined;
  let text = ip.toLowerCase();
  const tail: number[] = [];
  if (text.includes('.')) {
    const i = text.lastIndexOf(':');
    const v4 = ipv4ToUint(text.slice(i + 1));
    if (v4 === undefined) return undefined;
    tail.push(v4 >>> 16, v4 & 0xffff);
    text = text.slice(0, i + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const words = (s: string) =>
    s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : Number.NaN));
  const head = words(halves[0]!);
  const rest = halves.length === 2 ? words(halves[1]!) : [];
  if ([...head, ...rest].some(Number.isNaN)) return undefined;
  const want = 8 - tail.length;
  const explicit = head.length + rest.length;
  let all: number[];
  if (halves.length === 1) {
    if (explicit !== want) return undefined;
    all = head;
  } else {
    if (explicit >= want) return undefined;
    all = [...head, ...new Array<number>(want - explicit).fill(0), ...rest];
  }
  let n = 0n;
  for (const w of [...all, ...tail]) n = (n << 16n) | BigInt(w);
  return n;
}

/** The index of the last start <= x in a sorted array, or -1. */
function floorIndex(starts: Uint32Array, x: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

const MASK64 = (1n << 64n) - 1n;

/** Builds the table from the file's lines (an async iterable, so a large file is streamed). */
export async function buildAsnTable(
  lines: AsyncIterable<string> | Iterable<string>,
  options: { maxRanges: number },
): Promise<AsnTable> {
  const v4: Array<[number, number, number]> = [];
  const v6: Array<[bigint, bigint, number]> = [];
  const names = new Map<number, { name?: string; country?: string }>();
  let skipped = 0;
  for await (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    if (line.length > MAX_LINE || v4.length + v6.length >= options.maxRanges) {
      skipped += 1;
      continue;
    }
    const [start, end, asText, country, ...desc] = line.split('\t');
    const asn = Number(asText);
    if (!start || !end || !/^\d{1,10}$/.test(asText ?? '') || asn === 0 || asn > 0xffffffff) {
      skipped += 1;
      continue;
    }
    const a4 = ipv4ToUint(start);
    const b4 = a4 === undefined ? undefined : ipv4ToUint(end);
    if (a4 !== undefined && b4 !== undefined && a4 <= b4) v4.push([a4, b4, asn]);
    else {
      const a6 = a4 === undefined ? ipv6ToBigInt(start) : undefined;
      const b6 = a6 === undefined ? undefined : ipv6ToBigInt(end);
      if (a6 === undefined || b6 === undefined || a6 > b6) {
        skipped += 1;
        continue;
      }
      v6.push([a6, b6, asn]);
    }
    if (!names.has(asn)) {
      const name = desc.join('\t').trim().slice(0, MAX_NAME);
      const cc = country?.trim();
      names.set(asn, {
        ...(name && name !== 'Not routed' && { name }),
        ...(cc && /^[A-Z]{2}$/.test(cc) && { country: cc }),
      });
    }
  }
  v4.sort((x, y) => x[0] - y[0]);
  v6.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const s4 = Uint32Array.from(v4, (r) => r[0]);
  const e4 = Uint32Array.from(v4, (r) => r[1]);
  const n4 = Uint32Array.from(v4, (r) => r[2]);
  const s6hi = BigUint64Array.from(v6, (r) => r[0] >> 64n);
  const s6lo = BigUint64Array.from(v6, (r) => r[0] & MASK64);
  const e6hi = BigUint64Array.from(v6, (r) => r[1] >> 64n);
  const e6lo = BigUint64Array.from(v6, (r) => r[1] & MASK64);
  const n6 = Uint32Array.from(v6, (r) => r[2]);
  // The search compares (high, low) pairs rather than rebuilding a 128-bit BigInt per probe.
  const floor6 = (x: bigint): number => {
    const hi = x >> 64n;
    const lo = x & MASK64;
    let a = 0;
    let b = s6hi.length - 1;
    let found = -1;
    while (a <= b) {
      const mid = (a + b) >>> 1;
      const h = s6hi[mid]!;
      if (h < hi || (h === hi && s6lo[mid]! <= lo)) {
        found = mid;
        a = mid + 1;
      } else b = mid - 1;
    }
    return found;
  };
  const info = (asn: number): AsnInfo => {
    const n = names.get(asn);
    return {
      asn: `AS${asn}`,
      ...(n?.name && { as_name: n.name }),
      ...(n?.country && { as_country: n.country }),
    };
  };
  return {
    ranges: v4.length + v6.length,
    skipped,
    lookup(ip: string): AsnInfo | undefined {
      const n = normaliseIp(ip);
      if (!n) return undefined;
      if (n.family === 'ipv4') {
        const x = ipv4ToUint(n.address);
        if (x === undefined) return undefined;
        const i = floorIndex(s4, x);
        return i >= 0 && x <= e4[i]! ? info(n4[i]!) : undefined;
      }
      const x = ipv6ToBigInt(n.address);
      if (x === undefined) return undefined;
      const i = floor6(x);
      if (i < 0) return undefined;
      const end = (e6hi[i]! << 64n) | e6lo[i]!;
      return x <= end ? info(n6[i]!) : undefined;
    },
  };
}

export interface AsnStatus {
  file: string;
  ranges: number;
  skipped: number;
  last_load: string | null;
  last_error: string | null;
}

/**
 * The table of `file`, loaded at `start` (an unreadable file fails start), then reloaded on
 * change and on SIGHUP. `table()` is the current one (undefined before start).
 */
export function createAsnSource(options: {
  file: string;
  maxRanges: number;
  maxBytes: number;
  pollSecs: number;
  logger: Logger;
}) {
  const { file, logger } = options;
  let table: AsnTable | undefined;
  let mtime: number | undefined;
  let busy = false;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  const status: AsnStatus = { file, ranges: 0, skipped: 0, last_load: null, last_error: null };

  async function load(force: boolean, strict = false): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      const st = await stat(file);
      if (!force && st.mtimeMs === mtime) return;
      if (st.size > options.maxBytes) throw new Error(`file of ${st.size} bytes is over max_bytes`);
      const stream = createReadStream(file, { encoding: 'utf8' });
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      const next = await buildAsnTable(lines, { maxRanges: options.maxRanges });
      mtime = st.mtimeMs;
      table = next;
      Object.assign(status, {
        ranges: next.ranges,
        skipped: next.skipped,
        last_load: new Date().toISOString(),
        last_error: null,
      });
      logger.info({ file, ranges: next.ranges, skipped: next.skipped }, 'ASN table loaded');
    } catch (error) {
      const message = (error as Error).message.slice(0, 500);
      if (strict) throw new Error(`enrichment.asn (${file}): ${message}`);
      status.last_error = message;
      logger.warn({ file, err: message }, 'ASN table reload failed; the previous one stays');
    } finally {
      busy = false;
    }
  }
  const onHup = () => void load(true);

  return {
    async start(): Promise<void> {
      await load(true, true);
      timer = setInterval(() => void load(false), options.pollSecs * 1000);
      timer.unref();
      try {
        const base = path.basename(file);
        watcher = watch(path.dirname(file), (_event, name) => {
          if (name === null || name === base) void load(false);
        });
        watcher.on('error', () => {});
        watcher.unref();
      } catch {
        // The poll covers it.
      }
      process.on('SIGHUP', onHup);
    },
    table: () => table,
    lookup: (ip: string) => table?.lookup(ip),
    /** Re-reads the file now whether or not it changed (tests, SIGHUP). */
    reload: () => load(true),
    /** Re-reads the file if its mtime changed (the poll). */
    poll: () => load(false),
    status: (): AsnStatus => ({ ...status }),
    stop(): void {
      if (timer) clearInterval(timer);
      watcher?.close();
      process.off('SIGHUP', onHup);
    },
  };
}

export type AsnSource = ReturnType<typeof createAsnSource>;
