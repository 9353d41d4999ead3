/**
 * Enrichment of alerts (issue 21 ask 1): whatever raised it (an edge rule arriving over the link,
 * a central rule or correlation, a threat-intel hit, the API), an alert stores what central knows
 * of what it names — its device's asset (name, role, site), its host when that is an address, and
 * the source and destination addresses of its triggering events, each with scope, GeoIP, ASN,
 * reverse DNS and asset — and the threat-intel matches of those events and addresses (feed and
 * indicator). The triggering events' own enrichment (annotate.ts) is found in a bounded memory of
 * recently inserted events, else read back from storage (at most MAX_EVENTS of them); an event
 * not stored yet (an edge alert that overtook its evidence) leaves only what the alert itself
 * names. Reverse DNS comes from the cache (never waited for). The search tags of the result
 * (`geo.country:`, `geo.asn:`, `intel.feed:`, `asset.site:`, `asset.role:`) go on the alert.
 */
import type * as Api from '../../protocols/api/central.ts';
import type { Event } from '../../protocols/event/schema.ts';
import type { AlertInput } from '../alerts/types.ts';
import type { Asset, Assets, IntelEnrichment, IntelFeed } from './annotate.ts';
import type { AsnInfo } from './asn.ts';
import type { BlockList } from 'node:net';
import { ipInfo } from './ip.ts';
import type { Rdns } from './rdns.ts';

export type AlertEnrichment = Api.AlertEnrichment;
export const MAX_ADDRESSES = 8;
export const MAX_ALERT_INTEL = 16;
/** Triggering events looked at per alert. */
export const MAX_EVENTS = 16;

/** The part of an enriched event an alert needs, kept per event id. */
export interface EventEnrichment {
  src?: string;
  dst?: string;
  device?: string;
  gateway: string;
  geo?: Record<string, unknown>;
  rdns?: { src?: string; dst?: string };
  asset?: Asset;
  intel?: IntelEnrichment[];
}

export function summarise(event: Event): EventEnrichment {
  // Assigned, not spread from `cond && {…}`: one object per event instead of up to eight (this
  // runs for every event central stores).
  const f = event.fields ?? {};
  const out: EventEnrichment = { gateway: event.gateway };
  if (event.src?.ip) out.src = event.src.ip;
  if (event.dst?.ip) out.dst = event.dst.ip;
  if (event.device?.id) out.device = event.device.id;
  if (f.geo !== undefined) out.geo = f.geo as Record<string, unknown>;
  if (f.rdns !== undefined) out.rdns = f.rdns as EventEnrichment['rdns'];
  if (f.asset !== undefined) out.asset = f.asset as Asset;
  if (f.intel !== undefined) out.intel = f.intel as IntelEnrichment[];
  return out;
}

/**
 * The enrichment of the last `max`..2×`max` events inserted, by id: two generations, the older
 * dropped whole when the newer fills (no per-entry eviction cost on the ingest path).
 */
export function createRecentEvents(max = 20_000) {
  let fresh = new Map<string, EventEnrichment>();
  let old = new Map<string, EventEnrichment>();
  return {
    remember(event: Event): void {
      fresh.set(event.id, summarise(event));
      if (fresh.size >= max) {
        old = fresh;
        fresh = new Map();
      }
    },
    get: (id: string) => fresh.get(id) ?? old.get(id),
    get size() {
      return fresh.size + old.size;
    },
  };
}
export type RecentEvents = ReturnType<typeof createRecentEvents>;

export interface AlertEnricherDeps {
  ot: BlockList;
  geo: boolean;
  asn?: (ip: string) => AsnInfo | undefined;
  rdns?: Rdns;
  assets: Assets;
  feeds: () => readonly IntelFeed[];
  recent: RecentEvents;
  /** Reads stored events by id (those not in `recent`). */
  load?: (ids: string[], at: string | undefined) => Promise<Event[]>;
}

const clean = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;

export function createAlertEnricher(deps: AlertEnricherDeps) {
  function address(ip: string, seenAs: Api.EnrichedAddress['seen_as'], gateway: string | undefined) {
    const info = ipInfo(ip, deps.ot, { geo: deps.geo });
    if (!info) return undefined;
    const as = info.scope === 'public' ? deps.asn?.(info.ip) : undefined;
    const rdns = deps.rdns?.peek(info.ip) ?? undefined;
    const asset = deps.assets.ofIp(info.ip, gateway);
    return clean<Api.EnrichedAddress>({
      ip: info.ip,
      seen_as: seenAs,
      scope: info.scope,
      ...(info.ot && { ot: true }),
      ...info.geo,
      ...(as && { asn: as.asn, as_name: as.as_name }),
      ...(rdns && { rdns }),
      ...(asset && { asset }),
    });
  }

  return {
    /** The enrichment of `input` and its search tags. Never throws on a missing piece. */
    async enrich(input: AlertInput): Promise<{ enrichment: AlertEnrichment; tags: string[] }> {
      const ids = (input.event_ids ?? []).slice(0, MAX_EVENTS);
      const events: EventEnrichment[] = [];
      const missing: string[] = [];
      for (const id of ids) {
        const e = deps.recent.get(id);
        if (e) events.push(e);
        else missing.push(id);
      }
      if (missing.length > 0 && deps.load) {
        try {
          for (const e of await deps.load(missing, input.at)) events.push(summarise(e));
        } catch {
          // Enrichment is best effort: the alert is raised with what is known.
        }
      }
      const gateway = input.entity.gateway ?? events[0]?.gateway;
      const addresses: Api.EnrichedAddress[] = [];
      const seen = new Set<string>();
      const add = (ip: string | undefined, as: Api.EnrichedAddress['seen_as'], rdns?: string) => {
        if (!ip || addresses.length >= MAX_ADDRESSES) return;
        const a = address(ip, as, gateway);
        if (!a || seen.has(a.ip)) return;
        seen.add(a.ip);
        if (!a.rdns && rdns) a.rdns = rdns;
        addresses.push(a);
      };
      add(input.entity.host, 'entity');
      for (const e of events) {
        add(e.src, 'src', e.rdns?.src);
        add(e.dst, 'dst', e.rdns?.dst);
      }

      const intel: Api.IntelMatch[] = [];
      const intelSeen = new Set<string>();
      const addIntel = (m: Api.IntelMatch) => {
        const k = `${m.feed}|${m.type}|${m.indicator}`;
        if (intel.length >= MAX_ALERT_INTEL || intelSeen.has(k)) return;
        intelSeen.add(k);
        intel.push({ feed: m.feed, type: m.type, indicator: m.indicator, field: m.field });
      };
      for (const e of events) for (const m of e.intel ?? []) addIntel(m);
      for (const a of addresses) {
        if (a.seen_as !== 'entity') continue;
        const probe = { src: { ip: a.ip }, fields: {}, tags: [] } as unknown as Event;
        for (const feed of deps.feeds())
          for (const hit of feed.set.match(probe))
            addIntel({
              feed: feed.name,
              type: hit.indicator.type,
              indicator: hit.indicator.value,
              field: 'host',
            });
      }

      const deviceId = input.entity.device_id ?? events.find((e) => e.device)?.device;
      let asset: Api.AlertEnrichment['asset'];
      const fromDevice = deviceId ? deps.assets.ofDevice(deviceId, gateway) : undefined;
      const fromEvent = events.find((e) => e.device === deviceId && e.asset)?.asset;
      const known = { ...fromEvent, ...fromDevice };
      if (deviceId) asset = clean({ device_id: deviceId, ...known });
      else {
        const host = addresses.find((a) => a.seen_as === 'entity');
        if (host?.asset) asset = { ...host.asset };
      }

      const enrichment: AlertEnrichment = { addresses, ...(asset && { asset }), intel };
      return { enrichment, tags: enrichmentTags(enrichment) };
    },
  };
}
export type AlertEnricher = ReturnType<typeof createAlertEnricher>;

/** The search tags of an alert's enrichment (the same terms as events'). */
export function enrichmentTags(e: AlertEnrichment): string[] {
  const tags = new Set<string>();
  for (const a of e.addresses) {
    if (a.country) tags.add(`geo.country:${a.country}`);
    if (a.asn) tags.add(`geo.asn:${a.asn}`);
    if (a.asset?.site) tags.add(`asset.site:${a.asset.site}`);
  }
  for (const m of e.intel) tags.add(`intel.feed:${m.feed}`);
  if (e.asset?.site) tags.add(`asset.site:${e.asset.site}`);
  if (e.asset?.role) tags.add(`asset.role:${e.asset.role}`);
  return [...tags].map((t) => t.slice(0, 128));
}

/** Folds a repeat's enrichment into the stored one (addresses and matches added, bounded). */
export function mergeEnrichment(old: AlertEnrichment | null, added: AlertEnrichment): AlertEnrichment {
  if (!old) return added;
  const addresses = [...old.addresses];
  for (const a of added.addresses) {
    const same = addresses.find((x) => x.ip === a.ip);
    if (same) {
      // A name the cache had not resolved when the alert was first raised.
      if (!same.rdns && a.rdns) same.rdns = a.rdns;
    } else if (addresses.length < MAX_ADDRESSES) addresses.push(a);
  }
  const intel = [...old.intel];
  for (const m of added.intel) {
    if (intel.length >= MAX_ALERT_INTEL) break;
    if (!intel.some((x) => x.feed === m.feed && x.type === m.type && x.indicator === m.indicator))
      intel.push(m);
  }
  const asset = old.asset ?? added.asset;
  return { addresses, ...(asset && { asset }), intel };
}
