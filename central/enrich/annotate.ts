/**
 * Enrichment stored with the event: run on each batch just before it is inserted, synchronously
 * and from memory only, so it never holds up ingest. It adds, under the event's `fields`:
 *   - `geo`: country and city (and `ip`) of the first public address of src, dst (GeoIP), with its
 *     autonomous system (`asn`, `as_name`) when an ASN table is loaded (asn.ts);
 *   - `rdns`: `{ src, dst }` host names from the reverse-DNS cache (rdns.ts); an address not cached
 *     yet is looked up in the background and named on later events;
 *   - `asset`: `{ name, role, site }` of the event's device or address: the configured assets
 *     (enrichment.assets) win field by field over what central's inventory knows of the device
 *     (the name and role gateways reported, inventory/devices.ts) and the site of the gateway
 *     that saw it (enrichment.gateway_sites);
 *   - `intel`: up to MAX_INTEL threat-intel hits, `{ feed, type, indicator, field }`;
 * and tags `geo.country:<CC>`, `geo.asn:AS<n>`, `intel.feed:<feed>`, `asset.site:<site>`, `asset.role:<role>`,
 * which the search's tag filter finds (and `q=geo.country:RU`, search-params.ts). A sender cannot
 * forge them: incoming tags with these prefixes and incoming `fields.geo|rdns|asset|intel` are
 * dropped first.
 */
import type { BlockList } from 'node:net';
import type { Event } from '../../protocols/event/schema.ts';
import { EVENT_LIMITS } from '../../protocols/event/schema.ts';
import type { Indicator, IndicatorSet } from './intel.ts';
import type { AsnInfo } from './asn.ts';
import { cidrList, ipInfo } from './ip.ts';
import type { Rdns } from './rdns.ts';

export const MAX_INTEL = 8;
export const ENRICH_FIELDS = ['geo', 'rdns', 'asset', 'intel'] as const;
export const ENRICH_TAG = /^(?:geo|intel|asset|rdns)\./;

export interface Asset {
  name?: string;
  role?: string;
  site?: string;
}
export interface AssetRule extends Asset {
  device_id?: string;
  /** An address or a CIDR. */
  ip?: string;
}
export interface IntelFeed {
  name: string;
  set: IndicatorSet;
}
export interface IntelEnrichment {
  feed: string;
  type: Indicator['type'];
  indicator: string;
  field: string;
}

/** What the central inventory knows of a device (inventory/devices.ts). */
export interface InventoryAsset {
  name?: string;
  role?: string;
}

export function createAssets(
  rules: readonly AssetRule[],
  gatewaySites: Readonly<Record<string, string>> = {},
) {
  const byDevice = new Map<string, Asset>();
  const byIp: Array<{ list: BlockList; asset: Asset }> = [];
  for (const r of rules) {
    const asset: Asset = {
      ...(r.name && { name: r.name }),
      ...(r.role && { role: r.role }),
      ...(r.site && { site: r.site }),
    };
    if (r.device_id) byDevice.set(r.device_id, asset);
    if (r.ip) byIp.push({ list: cidrList([r.ip]), asset });
  }
  const sites = new Map(Object.entries(gatewaySites));
  /** Device id → name and role, refreshed from central's inventory. */
  let inventory = new Map<string, InventoryAsset>();

  function configuredIp(ip: string | undefined): Asset | undefined {
    if (!ip || byIp.length === 0) return undefined;
    const info = ipInfo(ip, undefined, { geo: false });
    if (!info) return undefined;
    const family = info.ip.includes(':') ? 'ipv6' : 'ipv4';
    return byIp.find((r) => r.list.check(info.ip, family))?.asset;
  }

  /** Lowest precedence first: inventory, the gateway's site, the device's own name, configuration. */
  function merge(
    configured: Asset | undefined,
    deviceId: string | undefined,
    deviceName: string | undefined,
    gateway: string | undefined,
  ): Asset | undefined {
    const known = deviceId ? inventory.get(deviceId) : undefined;
    const site = gateway ? sites.get(gateway) : undefined;
    const name = configured?.name ?? deviceName ?? known?.name;
    const role = configured?.role ?? known?.role;
    const where = configured?.site ?? site;
    if (!name && !role && !where) return undefined;
    return { ...(name && { name }), ...(role && { role }), ...(where && { site: where }) };
  }

  return {
    setInventory(known: Map<string, InventoryAsset>) {
      inventory = known;
    },
    of(event: Event): Asset | undefined {
      const id = event.device?.id;
      const configured =
        (id ? byDevice.get(id) : undefined) ?? configuredIp(event.src?.ip) ?? configuredIp(event.dst?.ip);
      return merge(configured, id, event.device?.name, event.gateway);
    },
    /** The asset of a device id an alert names (seen through `gateway`). */
    ofDevice(id: string, gateway?: string): Asset | undefined {
      return merge(byDevice.get(id), id, undefined, gateway);
    },
    /** The configured asset of an address (an alert's host), with the site of `gateway`. */
    ofIp(ip: string, gateway?: string): Asset | undefined {
      const configured = configuredIp(ip);
      return configured ? merge(configured, undefined, undefined, gateway) : undefined;
    },
  };
}
export type Assets = ReturnType<typeof createAssets>;

export interface AnnotatorDeps {
  ot: BlockList;
  geo: boolean;
  /** The ASN of an address, when a table is loaded. */
  asn?: (ip: string) => AsnInfo | undefined;
  rdns?: Rdns;
  assets: Assets;
  feeds: () => readonly IntelFeed[];
}

const GEO = { geo: true };
const NO_GEO = { geo: false };

function addTag(event: Event, tag: string): void {
  const t = tag.slice(0, EVENT_LIMITS.TAG_CHARS);
  if (event.tags.length < EVENT_LIMITS.TAGS && !event.tags.includes(t)) event.tags.push(t);
}

/** Enriches `event` in place from memory; returns it. */
export function annotateEvent(event: Event, deps: AnnotatorDeps): Event {
  event.fields ??= {};
  event.tags ??= [];
  for (const key of ENRICH_FIELDS) delete event.fields[key];
  if (event.tags.some((t) => ENRICH_TAG.test(t))) event.tags = event.tags.filter((t) => !ENRICH_TAG.test(t));

  // No array, options or result object per event unless there is something to say: this runs
  // for every event central stores, before the COPY.
  if (deps.geo || deps.asn) {
    for (let side = 0; side < 2; side++) {
      const ip = side === 0 ? event.src?.ip : event.dst?.ip;
      const info = ip ? ipInfo(ip, deps.ot, deps.geo ? GEO : NO_GEO) : undefined;
      if (info?.scope !== 'public') continue;
      const as = deps.asn?.(info.ip);
      if (!info.geo && !as) continue;
      event.fields.geo = { ip: info.ip, ...info.geo, ...as };
      if (info.geo) addTag(event, `geo.country:${info.geo.country}`);
      if (as) addTag(event, `geo.asn:${as.asn}`);
      break;
    }
  }
  if (deps.rdns) {
    const src = event.src?.ip ? deps.rdns.peek(event.src.ip) : undefined;
    const dst = event.dst?.ip ? deps.rdns.peek(event.dst.ip) : undefined;
    if (src || dst) event.fields.rdns = { ...(src && { src }), ...(dst && { dst }) };
  }
  const asset = deps.assets.of(event);
  if (asset) {
    event.fields.asset = asset;
    if (asset.site) addTag(event, `asset.site:${asset.site}`);
    if (asset.role) addTag(event, `asset.role:${asset.role}`);
  }
  let intel: IntelEnrichment[] | undefined;
  for (const feed of deps.feeds()) {
    for (const hit of feed.set.match(event)) {
      intel ??= [];
      if (intel.length >= MAX_INTEL) break;
      intel.push({
        feed: feed.name,
        type: hit.indicator.type,
        indicator: hit.indicator.value,
        field: hit.field,
      });
      addTag(event, `intel.feed:${feed.name}`);
    }
  }
  if (intel) event.fields.intel = intel;
  return event;
}
