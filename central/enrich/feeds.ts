/**
 * Live threat-intel feeds (issue 21 ask 2). Each configured list is one feed:
 *   - `file`: re-read when it changes (fs.watch on its directory, plus a poll of its mtime every
 *     `poll_secs` for file systems where watching misses changes) and on SIGHUP;
 *   - `url`: fetched every `poll_secs` with If-None-Match / If-Modified-Since (a 304 keeps the set);
 *   - `taxii_collection`: a TAXII 2.1 collection's `objects/` polled with `added_after` (the last
 *     X-TAXII-Date-Added-Last seen) and followed through `next` while `more` is true.
 * Bounded: the body is read up to `max_bytes` (more is an error, the old set stays), at most
 * `max_indicators` are kept, each request times out after `timeout_ms`. Indicators expire at their
 * STIX `valid_until` and, with `max_age_days`, when no fetch has carried them for that long.
 * Every feed has a status (last fetch, last success, indicator count, last error). Indicators
 * that a fetch adds are handed to `onNew` (the retro-hunt).
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { EnrichmentConfig } from './config.ts';
import {
  createIndicatorSet,
  type Indicator,
  type IndicatorSet,
  parseIndicatorCsv,
  parseIndicatorList,
  parseStixBundle,
} from './intel.ts';

type FeedConfig = EnrichmentConfig['intel'][number];

export interface FeedStatus {
  name: string;
  kind: 'file' | 'url' | 'taxii';
  source: string;
  indicators: number;
  skipped: number;
  last_fetch: string | null;
  last_success: string | null;
  last_error: string | null;
  /** Fetches answered 304 Not Modified. */
  not_modified: number;
}

export interface LoadedFeed {
  name: string;
  level: FeedConfig['level'];
  set: IndicatorSet;
  skipped: number;
}

const key = (i: Indicator) => `${i.type}\u0000${i.value}`;

/** Reads a response body up to `max` bytes; throws beyond it. */
async function boundedText(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) throw new Error(`feed body of ${declared} bytes is over max_bytes ${max}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  for (;;) {
    const next = await reader?.read();
    if (!next || next.done) break;
    size += next.value.byteLength;
    if (size > max) {
      await reader!.cancel();
      throw new Error(`feed body over max_bytes ${max}`);
    }
    chunks.push(next.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function parseFeed(format: FeedConfig['format'], text: string, now = new Date()) {
  if (format === 'csv') return parseIndicatorCsv(text);
  if (format === 'list') return parseIndicatorList(text);
  return parseStixBundle(JSON.parse(text), now);
}

export function createFeeds(options: {
  config: EnrichmentConfig;
  logger: Logger;
  /** Called with the whole set of feeds after any of them changed. */
  onChange: (feeds: LoadedFeed[]) => void;
  /** Indicators a fetch added (not in the feed before), per feed. */
  onNew?: (feed: LoadedFeed, added: Indicator[]) => void;
  now?: () => Date;
  fetch?: typeof fetch;
}) {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  const doFetch = options.fetch ?? fetch;
  interface State {
    cfg: FeedConfig;
    status: FeedStatus;
    /** key → indicator, when it was last carried by a fetch, when it expires (ms). */
    held: Map<string, { indicator: Indicator; seen: number; until?: number }>;
    etag?: string;
    lastModified?: string;
    addedAfter?: string;
    mtime?: number;
    loaded: LoadedFeed;
    busy: boolean;
  }
  const states: State[] = config.intel.map((cfg) => {
    const kind = cfg.file ? 'file' : cfg.url ? 'url' : 'taxii';
    return {
      cfg,
      status: {
        name: cfg.name,
        kind,
        source: (cfg.file ?? cfg.url ?? cfg.taxii_collection)!,
        indicators: 0,
        skipped: 0,
        last_fetch: null,
        last_success: null,
        last_error: null,
        not_modified: 0,
      },
      held: new Map(),
      loaded: { name: cfg.name, level: cfg.level, set: createIndicatorSet([]), skipped: 0 },
      busy: false,
    };
  });
  const timers: NodeJS.Timeout[] = [];
  const watchers: FSWatcher[] = [];

  function publish(): void {
    options.onChange(states.map((s) => s.loaded));
  }

  /** Replaces (`replace`) or adds to the feed's indicators; expires old ones; publishes. */
  function apply(s: State, indicators: Indicator[], skipped: number, replace: boolean): void {
    const t = now().getTime();
    // The first load of a feed is not "new": only what later fetches add is retro-hunted.
    const first = s.status.last_success === null;
    const before = new Set(s.held.keys());
    if (replace && s.cfg.max_age_days === undefined) s.held.clear();
    for (const ind of indicators) {
      if (s.held.size >= s.cfg.max_indicators && !s.held.has(key(ind))) {
        skipped += 1;
        continue;
      }
      s.held.set(key(ind), { indicator: ind, seen: t, ...(ind.valid_until && { until: ind.valid_until }) });
    }
    const maxAge = s.cfg.max_age_days === undefined ? Infinity : s.cfg.max_age_days * 86_400_000;
    for (const [k, h] of s.held) if ((h.until ?? Infinity) <= t || t - h.seen > maxAge) s.held.delete(k);
    const all = [...s.held.values()].map((h) => h.indicator);
    s.loaded = { name: s.cfg.name, level: s.cfg.level, set: createIndicatorSet(all), skipped };
    s.status.indicators = all.length;
    s.status.skipped = skipped;
    s.status.last_success = new Date(t).toISOString();
    s.status.last_error = null;
    publish();
    const added = [...s.held.entries()].filter(([k]) => !before.has(k)).map(([, h]) => h.indicator);
    if (!first && added.length > 0 && options.onNew) options.onNew(s.loaded, added);
  }

  async function request(s: State, url: string, headers: Record<string, string>): Promise<Response> {
    return doFetch(url, { headers, signal: AbortSignal.timeout(s.cfg.timeout_ms), redirect: 'follow' });
  }

  async function pollFile(s: State, force: boolean): Promise<void> {
    const st = await stat(s.cfg.file!);
    if (!force && s.mtime === st.mtimeMs) return;
    if (st.size > s.cfg.max_bytes) throw new Error(`file of ${st.size} bytes is over max_bytes`);
    const text = await readFile(s.cfg.file!, 'utf8');
    const parsed = await parseFeed(s.cfg.format, text, now());
    s.mtime = st.mtimeMs;
    apply(s, parsed.indicators, parsed.skipped, true);
  }

  async function pollUrl(s: State): Promise<void> {
    const headers: Record<string, string> = { accept: '*/*' };
    if (s.etag) headers['if-none-match'] = s.etag;
    if (s.lastModified) headers['if-modified-since'] = s.lastModified;
    const res = await request(s, s.cfg.url!, headers);
    if (res.status === 304) {
      await res.body?.cancel();
      s.status.not_modified += 1;
      s.status.last_success = now().toISOString();
      s.status.last_error = null;
      return;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    const parsed = await parseFeed(s.cfg.format, await boundedText(res, s.cfg.max_bytes), now());
    s.etag = res.headers.get('etag') ?? undefined;
    s.lastModified = res.headers.get('last-modified') ?? undefined;
    apply(s, parsed.indicators, parsed.skipped, true);
  }

  async function pollTaxii(s: State): Promise<void> {
    const base = s.cfg.taxii_collection!.replace(/\/?$/, '/');
    const headers: Record<string, string> = { accept: 'application/taxii+json;version=2.1' };
    if (s.cfg.taxii_token) headers.authorization = `Bearer ${s.cfg.taxii_token}`;
    const indicators: Indicator[] = [];
    let skipped = 0;
    let next: string | undefined;
    let lastAdded = s.addedAfter;
    for (let page = 0; page < 1000; page += 1) {
      const u = new URL('objects/', base);
      if (s.addedAfter) u.searchParams.set('added_after', s.addedAfter);
      if (next) u.searchParams.set('next', next);
      const res = await request(s, u.href, headers);
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`TAXII HTTP ${res.status}`);
      }
      const envelope = JSON.parse(await boundedText(res, s.cfg.max_bytes)) as {
        objects?: unknown[];
        more?: boolean;
        next?: string;
      };
      const parsed = parseStixBundle({ type: 'bundle', objects: envelope.objects ?? [] }, now());
      indicators.push(...parsed.indicators);
      skipped += parsed.skipped;
      lastAdded = res.headers.get('x-taxii-date-added-last') ?? lastAdded;
      if (indicators.length > s.cfg.max_indicators) break;
      if (!envelope.more || !envelope.next) break;
      next = envelope.next;
    }
    s.addedAfter = lastAdded;
    // TAXII answers only what was added since: the set accumulates (and expires).
    apply(s, indicators, skipped, false);
  }

  async function poll(s: State, force = false, strict = false): Promise<void> {
    if (s.busy) return;
    s.busy = true;
    s.status.last_fetch = now().toISOString();
    try {
      if (s.status.kind === 'file') await pollFile(s, force);
      else if (s.status.kind === 'url') await pollUrl(s);
      else await pollTaxii(s);
    } catch (error) {
      if (strict)
        throw new Error(`enrichment.intel ${s.cfg.name} (${s.status.source}): ${(error as Error).message}`);
      s.status.last_error = (error as Error).message.slice(0, 500);
      logger.warn({ feed: s.cfg.name, err: s.status.last_error }, 'threat-intel feed fetch failed');
    } finally {
      s.busy = false;
    }
  }

  const onHup = () => {
    logger.info('SIGHUP: reloading threat-intel files');
    void reloadFiles();
  };
  async function reloadFiles(): Promise<void> {
    await Promise.all(states.filter((s) => s.status.kind === 'file').map((s) => poll(s, true)));
  }

  return {
    /** First load of every feed (a file that cannot be read fails start); then watches and polls. */
    async start(): Promise<void> {
      await Promise.all(states.map((s) => poll(s, true, s.status.kind === 'file')));
      for (const s of states) {
        const t = setInterval(() => void poll(s), s.cfg.poll_secs * 1000);
        t.unref();
        timers.push(t);
        if (s.status.kind === 'file') {
          try {
            const file = path.basename(s.cfg.file!);
            const w = watch(path.dirname(s.cfg.file!), (_event, name) => {
              if (name === null || name === file) void poll(s);
            });
            w.on('error', () => {});
            w.unref();
            watchers.push(w);
          } catch {
            // The poll covers it.
          }
        }
      }
      process.on('SIGHUP', onHup);
    },
    loaded: () => states.map((s) => s.loaded),
    status: (): FeedStatus[] => states.map((s) => ({ ...s.status })),
    /** Polls every feed now (tests, the API). */
    pollAll: () => Promise.all(states.map((s) => poll(s))).then(() => undefined),
    reloadFiles,
    stop(): void {
      for (const t of timers) clearInterval(t);
      for (const w of watchers) w.close();
      process.off('SIGHUP', onHup);
    },
  };
}

export type Feeds = ReturnType<typeof createFeeds>;
