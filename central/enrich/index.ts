/**
 * Enrichment of what central stores: after each committed batch, the device inventory is
 * updated (only the rows the batch changes) and every event is checked against the loaded
 * threat-intelligence lists, a hit raising an alert (rule `intel:<list>:<value>`, on the event's
 * device or host, grouped like any alert). Work runs one batch at a time behind the link, which
 * stops storing while the backlog is long (central/ingest.ts); past MAX_PENDING_EVENTS waiting
 * (a writer that does not wait) a batch is skipped and counted, never silently. IP lookups (scope,
 * OT, GeoIP, ASN) serve the API.
 * Alerts are enriched too (`enrichAlert`, alert.ts), from a bounded memory of the enrichment of
 * recently inserted events, else from storage.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Event } from '../../protocols/event/schema.ts';
import type { Alerts } from '../alerts/index.ts';
import { createDeviceRecorder } from '../inventory/devices.ts';
import { MAX_AFTER_COMMIT_EVENTS } from '../ingest.ts';
import type { CentralMetrics } from '../metrics.ts';
import type { SqlClient } from '../store/sql-client.ts';
import type { EnrichmentConfig } from './config.ts';
import { annotateEvent, createAssets, ENRICH_TAG, type InventoryAsset } from './annotate.ts';
import { createAlertEnricher, createRecentEvents, mergeEnrichment } from './alert.ts';
import type { Alert } from '../alerts/types.ts';
import type { AlertEnrichment as AlertEnrichmentApi } from '../../protocols/api/central.ts';
import { createAsnSource } from './asn.ts';
import type { AlertInput } from '../alerts/types.ts';
import { cidrList, ipInfo } from './ip.ts';
import { createFeeds, type LoadedFeed } from './feeds.ts';
import { createRdns } from './rdns.ts';
import { createOrderedTasks } from '../ordered-tasks.ts';
import { rowToEvent, type EventRow, SELECT_COLUMNS } from '../store/event-rows.ts';
import {
  createIndicatorSet,
  type Indicator,
  type IndicatorSet,
  parseIndicatorCsv,
  parseStixBundle,
} from './intel.ts';

/** Events waiting past which a batch is skipped, by default: twice the bound the link waits at (ingest.ts). */
export const MAX_PENDING_EVENTS = 2 * MAX_AFTER_COMMIT_EVENTS;

export async function loadIntel(config: EnrichmentConfig): Promise<
  Array<{
    name: string;
    level: EnrichmentConfig['intel'][number]['level'];
    set: IndicatorSet;
    skipped: number;
  }>
> {
  const lists = [];
  for (const list of config.intel) {
    if (list.file === undefined) continue;
    let parsed: { indicators: Indicator[]; skipped: number };
    try {
      const text = await readFile(list.file, 'utf8');
      parsed = list.format === 'csv' ? await parseIndicatorCsv(text) : parseStixBundle(JSON.parse(text));
    } catch (error) {
      throw new Error(`enrichment.intel ${list.name} (${list.file}): ${(error as Error).message}`);
    }
    lists.push({
      name: list.name,
      level: list.level,
      set: createIndicatorSet(parsed.indicators),
      skipped: parsed.skipped,
    });
  }
  return lists;
}

export async function createEnrichment(options: {
  config: EnrichmentConfig;
  sql: SqlClient;
  alerts: () => Alerts;
  metrics: CentralMetrics;
  logger: Logger;
  /** Events waiting past which a batch is skipped (default MAX_PENDING_EVENTS). */
  maxPendingEvents?: number;
}) {
  const { config, metrics, logger } = options;
  const maxPending = options.maxPendingEvents ?? MAX_PENDING_EVENTS;
  let lists: LoadedFeed[] = [];
  const feeds = createFeeds({
    config,
    logger,
    onChange: (next) => {
      lists = next;
    },
    onNew: (feed, added) => retroHunt(feed, added),
  });
  await feeds.start();
  for (const l of lists)
    logger.info({ list: l.name, indicators: l.set.size, skipped: l.skipped }, 'intel loaded');
  const ot = cidrList(config.ot_networks);
  const rd = config.reverse_dns;
  const rdns = rd.enabled
    ? createRdns({
        timeoutMs: rd.timeout_ms,
        concurrency: rd.concurrency,
        maxEntries: rd.cache_entries,
        ttlMs: rd.ttl_secs * 1000,
        ...(rd.servers && { servers: rd.servers }),
      })
    : undefined;
  const asnSource = config.asn
    ? createAsnSource({
        file: config.asn.file,
        maxRanges: config.asn.max_ranges,
        maxBytes: config.asn.max_bytes,
        pollSecs: config.asn.poll_secs,
        logger,
      })
    : undefined;
  try {
    await asnSource?.start();
  } catch (error) {
    feeds.stop();
    throw error;
  }
  const asn = asnSource ? (ip: string) => asnSource.lookup(ip) : undefined;
  const assets = createAssets(config.assets, config.gateway_sites);
  const annotator = { ot, geo: config.geoip, asn, rdns, assets, feeds: () => lists };
  const recent = createRecentEvents();
  const alertEnricher = createAlertEnricher({
    ...annotator,
    recent,
    load: async (ids, at) => {
      // `<gateway>:<seq>` ids, read back within a day of the alert (partition pruning on ts).
      const pairs = ids
        .map((id) => /^(.+):(\d+)$/.exec(id))
        .filter((m): m is RegExpExecArray => m !== null)
        .slice(0, 64);
      if (pairs.length === 0) return [];
      const t = at ? Date.parse(at) : Date.now();
      const around = Number.isFinite(t) ? t : Date.now();
      const { rows } = await options.sql.query<EventRow>(
        `SELECT ${SELECT_COLUMNS} FROM events
          WHERE (gateway, seq) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))
            AND ts >= $3::timestamptz AND ts <= $4::timestamptz LIMIT 64`,
        [
          pairs.map((m) => m[1]!),
          pairs.map((m) => m[2]!),
          new Date(around - 86_400_000).toISOString(),
          new Date(around + 3_600_000).toISOString(),
        ],
      );
      return rows.map(rowToEvent);
    },
  });
  async function refreshInventory(): Promise<void> {
    try {
      const { rows } = await options.sql.query<{
        device_id: string;
        name: string | null;
        role: string | null;
      }>(
        `SELECT device_id, coalesce(name, host) AS name, role FROM devices
          WHERE name IS NOT NULL OR host IS NOT NULL OR role IS NOT NULL ORDER BY last_seen DESC LIMIT 100000`,
      );
      const known = new Map<string, InventoryAsset>();
      for (const r of rows)
        known.set(r.device_id, { ...(r.name && { name: r.name }), ...(r.role && { role: r.role }) });
      assets.setInventory(known);
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'could not read device names for enrichment');
    }
  }
  await refreshInventory();
  const inventoryTimer = setInterval(() => void refreshInventory(), config.inventory_refresh_secs * 1000);
  inventoryTimer.unref();
  // Writes only the inventory rows a batch changes (inventory/devices.ts).
  const devices = createDeviceRecorder(options.sql);
  /** Batches and retro-hunts, one at a time in order; one that throws is counted and the next runs. */
  const tasks = createOrderedTasks((what, error) => {
    metrics.errors.inc({ component: 'enrichment', stage: 'processing', code: 'task' });
    logger.error({ err: error.message }, 'enrichment: %s failed', what);
  });
  /** Events queued by `onStored` and not processed yet. */
  let pending = 0;
  const MAX_FOLLOW_UPS = 1000;
  const following = new Set<number>();
  const followUps = new Set<Promise<void>>();

  async function process(events: readonly Event[]): Promise<void> {
    try {
      await devices.record(events);
    } catch (error) {
      metrics.errors.inc({ component: 'inventory', stage: 'processing', code: 'store' });
      logger.error({ err: (error as Error).message }, 'could not update the device inventory');
    }
    // Awaited only for an event with a hit: an async call per event (a promise and a turn of
    // the microtask queue each) was most of this loop's cost, with no list loaded too.
    for (const event of events) if (hasHit(event, lists)) await raiseHits(event, lists);
  }

  const hasHit = (event: Event, feeds: readonly LoadedFeed[]): boolean => {
    for (const list of feeds) if (list.set.match(event).length > 0) return true;
    return false;
  };

  async function raiseHits(event: Event, feeds: readonly LoadedFeed[], retro = false): Promise<void> {
    for (const list of feeds) {
      for (const hit of list.set.match(event)) {
        metrics.intelHits.inc({ list: list.name, type: hit.indicator.type });
        const entity = event.device
          ? { device_id: event.device.id }
          : { host: event.host ?? event.src?.ip ?? event.gateway };
        try {
          await options.alerts().raise({
            rule: {
              id: `intel:${list.name}:${hit.indicator.value}`.slice(0, 128),
              title:
                `Threat-intel match (${list.name}): ${hit.indicator.type} ${hit.indicator.value} in ${hit.field}${
                  hit.indicator.description ? ` — ${hit.indicator.description}` : ''
                }`.slice(0, 256),
              level: hit.indicator.level ?? list.level,
              // The event's enrichment (geo, asset, intel tags) is stored with the alert too.
              tags: [
                'intel',
                `intel.${list.name}`,
                ...(retro ? ['intel.retro_hunt'] : []),
                ...event.tags.filter((t) => ENRICH_TAG.test(t)),
              ].slice(0, 64),
            },
            entity: { ...entity, gateway: event.gateway },
            event_ids: [event.id],
            at: event.ts,
          });
        } catch (error) {
          metrics.errors.inc({ component: 'intel', stage: 'processing', code: 'raise' });
          logger.error({ err: (error as Error).message }, 'could not raise an intel alert');
        }
      }
    }
  }

  const RETRO_PAGE = 1000;
  /**
   * Retro-hunt: the indicators a feed just added, matched against the stored events of the last
   * `retro_hunt_hours`, newest first, a page of RETRO_PAGE at a time (keyset on ts, gateway, seq),
   * at most `retro_hunt_max_events`; hits raise alerts tagged `intel.retro_hunt`. Queued behind
   * ingest's enrichment work, one hunt at a time.
   */
  function retroHunt(feed: LoadedFeed, added: Indicator[]): void {
    if (config.retro_hunt_hours === 0) return;
    const only = [{ ...feed, set: createIndicatorSet(added) }];
    void tasks.run('a retro-hunt', async () => {
      const from = new Date(Date.now() - config.retro_hunt_hours * 3_600_000).toISOString();
      let key: [string, string, number] | undefined;
      let seen = 0;
      try {
        while (seen < config.retro_hunt_max_events) {
          const params: unknown[] = [from];
          let where = 'ts >= $1::timestamptz';
          if (key) {
            params.push(...key);
            where += ' AND (ts, gateway, seq) < ($2::timestamptz, $3, $4::bigint)';
          }
          params.push(Math.min(RETRO_PAGE, config.retro_hunt_max_events - seen));
          const { rows } = await options.sql.query<EventRow>(
            `SELECT ${SELECT_COLUMNS} FROM events WHERE ${where} ORDER BY ts DESC, gateway DESC, seq DESC LIMIT $${params.length}`,
            params,
          );
          for (const row of rows) await raiseHits(rowToEvent(row), only, true);
          seen += rows.length;
          if (rows.length === 0 || rows.length < RETRO_PAGE) break;
          const last = rows[rows.length - 1]!;
          key = [last.ts_text, last.gateway, Number(last.seq)];
        }
        logger.info({ feed: feed.name, indicators: added.length, events: seen }, 'retro-hunt done');
      } catch (error) {
        metrics.errors.inc({ component: 'intel', stage: 'processing', code: 'retro_hunt' });
        logger.error({ err: (error as Error).message }, 'retro-hunt failed');
      }
    });
  }

  return {
    /**
     * Enriches a batch in place just before it is inserted (annotate.ts): memory only, never waits.
     * A failure leaves the events as they came and is counted.
     */
    annotate(events: readonly Event[]): void {
      for (const event of events) {
        try {
          annotateEvent(event, annotator);
          recent.remember(event);
        } catch (error) {
          metrics.errors.inc({ component: 'enrichment', stage: 'processing', code: 'annotate' });
          logger.warn({ err: (error as Error).message }, 'could not enrich an event');
        }
      }
    },
    /** Replaces the threat-intel lists (feeds.ts reloads). */
    setLists(next: typeof lists) {
      lists = next;
    },
    lists: () => lists,
    rdns,
    asn: asnSource,
    /**
     * Fills in the reverse-DNS names an alert's addresses lacked when it was raised (the lookup
     * was still running): waits for each lookup off the alert path, then merges the names in
     * under the row lock. At most MAX_FOLLOW_UPS alerts are followed at a time; more are left.
     */
    followUp(alert: Alert): void {
      if (!rdns || !alert.enrichment || following.has(alert.id) || following.size >= MAX_FOLLOW_UPS) return;
      const missing = alert.enrichment.addresses.filter((a) => !a.rdns).map((a) => a.ip);
      if (missing.length === 0) return;
      following.add(alert.id);
      const work = (async () => {
        const names = await Promise.all(missing.map(async (ip) => [ip, await rdns.resolve(ip)] as const));
        const found = names.filter((n): n is readonly [string, string] => n[1] !== null);
        if (found.length === 0) return;
        const patch = {
          addresses: found.map(([ip, name]) => ({ ip, rdns: name, seen_as: 'src' as const, scope: '' })),
          intel: [],
        };
        await options.sql.transaction(async (tx) => {
          const { rows } = await tx.query<{ enrichment: unknown }>(
            'SELECT enrichment FROM alerts WHERE id = $1 FOR UPDATE',
            [alert.id],
          );
          const raw = rows[0]?.enrichment;
          const current = (typeof raw === 'string' ? JSON.parse(raw) : raw) as AlertEnrichmentApi | null;
          if (!current) return;
          // Only names of addresses the alert already lists are merged (the patch adds none).
          const merged = mergeEnrichment(current, {
            ...patch,
            addresses: patch.addresses.filter((p) => current.addresses.some((a) => a.ip === p.ip)),
          });
          await tx.query('UPDATE alerts SET enrichment = $2::jsonb WHERE id = $1', [
            alert.id,
            JSON.stringify(merged),
          ]);
        });
      })()
        .catch((error: Error) => {
          metrics.errors.inc({ component: 'enrichment', stage: 'processing', code: 'alert_rdns' });
          logger.warn({ err: error.message }, 'could not add reverse DNS names to an alert');
        })
        .finally(() => following.delete(alert.id));
      followUps.add(work);
      void work.finally(() => followUps.delete(work));
    },
    /** Resolves when every reverse-DNS follow-up of alerts has ended (tests, shutdown). */
    followUpsDone: () => Promise.all([...followUps]).then(() => undefined),
    /** The enrichment of what an alert names (alert.ts): given to the alert service. */
    async enrichAlert(input: AlertInput) {
      return (await alertEnricher.enrich(input)).enrichment;
    },
    refreshInventory,
    feeds,
    stop() {
      feeds.stop();
      asnSource?.stop();
      clearInterval(inventoryTimer);
      rdns?.cancel();
    },
    ipInfo: (ip: string) => {
      const info = ipInfo(ip, ot, { geo: config.geoip });
      const as = info?.scope === 'public' ? asn?.(info.ip) : undefined;
      return info && as ? { ...info, ...as } : info;
    },
    /** Intel hits of one IP address, for the lookup API. */
    intelFor(ip: string) {
      const probe = { src: { ip }, fields: {} } as unknown as Event;
      return lists.flatMap((l) => l.set.match(probe).map((h) => ({ list: l.name, ...h.indicator })));
    },
    /**
     * The `onStored` hook: queued behind the previous batch, never awaited by the link (which stops
     * storing while `backlog` is past ingest's bound; past `maxPending` a batch is skipped, counted).
     */
    onStored(events: Event[]) {
      if (pending >= maxPending) {
        metrics.enrichmentSkipped.inc(events.length);
        return;
      }
      pending += events.length;
      void tasks.run('a stored batch', () =>
        process(events).finally(() => {
          pending -= events.length;
        }),
      );
    },
    /** Events queued and not processed yet. */
    backlog: () => pending,
    /** Resolves when every queued batch is processed (tests, shutdown). */
    idle: () => tasks.idle(),
  };
}

export type Enrichment = Awaited<ReturnType<typeof createEnrichment>>;
