/**
 * The gateway's asset inventory: every device seen in the traffic, by the identity its protocol
 * gives it (syslog host, MQTT client id, Modbus unit, CoAP endpoint, DNP3 outstation address, S7
 * controller, CIP target, BACnet device, OPC UA server), with first and last seen,
 * addresses, counts and a message rate. It runs in the pipeline (it enriches nothing yet; the
 * baselines of the detection issue build on it), survives restarts (LevelDB, saved every few
 * seconds), and is bounded: past `maxDevices` the device seen least recently is forgotten and
 * counted. Each device keeps what its protocol says it is (`identity`: the OT identity fields of
 * `IDENTITY_FIELDS`, latest value kept, bounded). A device seen for the first time becomes a `gateway.new_device` event; during the
 * commissioning period after the gateway's first start it is marked as such (no alert).
 * `Inventory.inMemory` is the same without a database, for `siem-gateway replay`, on the file's
 * clock.
 */
import { ClassicLevel } from 'classic-level';
import type * as Api from '../../protocols/api/gateway.ts';
import { RecencyMap } from '../../protocols/event/recency.ts';
import type { PendingEvent } from '../../protocols/event/schema.ts';

/** A device of the inventory: the contract's (protocols/api/gateway.ts); the list adds `baseline`. */
export type DeviceRecord = Omit<Api.Device, 'baseline'>;

export interface InventoryOptions {
  dir: string;
  maxDevices: number;
  saveIntervalMs: number;
  /**
   * For this long after the inventory was first created (the gateway's first start), new devices
   * are the plant as commissioned: their `gateway.new_device` events carry
   * `fields.commissioning: true`, which the shipped rule does not alert on. 0: never.
   */
  commissioningMs?: number;
}

/**
 * What a client says before it is let in, or while it is refused: an attempt, not a device on
 * the network. An MQTT brute force with rotating client ids would otherwise be sixteen "new
 * devices" beside the brute-force alert; a client id becomes a device once it connects.
 */
const NOT_ADMITTED = new Set(['mqtt.auth_failure', 'mqtt.connect_refused', 'mqtt.rate_exceeded']);

/** Where the inventory's creation time is kept (outside the `d!` device keys). */
const CREATED_KEY = 'm!created';

const MAX_ADDRESSES = 8;
const MAX_IDENTITY_FIELDS = 16;
const MAX_IDENTITY_CHARS = 128;

/**
 * Per protocol, the event fields that say what the device is (protocols/event/SPEC.md): `from`
 * names a nested object holding them, `when` the events that speak about the device itself.
 * Read on every event of these protocols, so a short list of property reads.
 */
export const IDENTITY_FIELDS: Readonly<
  Record<string, { keys: readonly string[]; from?: string; when?: (e: PendingEvent) => boolean }>
> = {
  dnp3: { keys: ['outstation_address'] },
  s7comm: {
    keys: [
      'station_name',
      'module_name',
      'module_type',
      'order_number',
      'firmware_version',
      'serial_number',
      'plant_id',
    ],
  },
  enip: {
    from: 'identity',
    keys: ['vendor', 'product_name', 'device_type_name', 'product_code', 'revision', 'serial_number'],
  },
  bacnet: { keys: ['device_instance', 'vendor_id'], when: (e) => e.action === 'bacnet.i_am' },
  opcua: { keys: ['server_application_uri', 'endpoint_url'] },
};

/** Notes the identity fields an event carries on its device's record. */
function noteIdentity(record: DeviceRecord, event: PendingEvent): void {
  const spec = IDENTITY_FIELDS[event.source];
  if (!spec || (spec.when && !spec.when(event))) return;
  let f = event.fields as Record<string, unknown> | undefined;
  if (spec.from) f = f?.[spec.from] as Record<string, unknown> | undefined;
  if (!f || typeof f !== 'object') return;
  for (const key of spec.keys) {
    const v = f[key];
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const text = String(v).slice(0, MAX_IDENTITY_CHARS);
    if (text === '') continue;
    const identity = (record.identity ??= {});
    if (identity[key] === text || (!(key in identity) && Object.keys(identity).length >= MAX_IDENTITY_FIELDS))
      continue;
    identity[key] = text;
  }
}
/**
 * The address the device sent from. A parser that finds a network peer in the message (an
 * sshd failure's client, a firewall drop's source, a Windows logon's IpAddress) makes that peer
 * the event's `src` and moves the sender to `log.source.*`, as ECS does; the device is the sender.
 */
function senderOf(event: PendingEvent): PendingEvent['src'] {
  const fields = event.fields as Record<string, unknown> | undefined;
  const ip = fields?.['log.source.ip'];
  if (typeof ip !== 'string') return event.src;
  const port = fields?.['log.source.port'];
  return typeof port === 'number' ? { ip, port } : { ip };
}

const RATE_HALF_LIFE_MS = 5 * 60_000;

/**
 * A device as the inventory tracks it: its record, and when it was last seen in ms (so that an
 * event needs no date parsing; a number field written in place, not a Map entry per event).
 */
interface Tracked {
  readonly record: DeviceRecord;
  lastSeenMs: number;
}

export class Inventory {
  readonly #db: ClassicLevel<string, string> | undefined;
  readonly #options: InventoryOptions;
  /** In least-recently-seen order: a device that speaks becomes the newest. */
  readonly #devices = new RecencyMap<string, Tracked>();
  readonly #dirty = new Set<string>();
  readonly #removed = new Set<string>();
  #forgotten = 0;
  #timer: NodeJS.Timeout | undefined;
  /** A save soon after a new device, so a crash right after cannot announce it twice. */
  #soon: NodeJS.Immediate | undefined;
  /** The last `now` seen and its ISO text: a batch of events shares one `now`. */
  #nowMs = Number.NaN;
  #nowText = '';
  /** New devices before this time are commissioning (ms). */
  #commissioningUntil = Number.NEGATIVE_INFINITY;

  private constructor(db: ClassicLevel<string, string> | undefined, options: InventoryOptions) {
    this.#db = db;
    this.#options = options;
  }

  /** Kept in memory only; commissioning (if any) counts from `createdMs`. */
  static inMemory(options: Omit<InventoryOptions, 'dir' | 'saveIntervalMs'>, createdMs = 0): Inventory {
    const inventory = new Inventory(undefined, { ...options, dir: '', saveIntervalMs: 0 });
    if (options.commissioningMs) inventory.#commissioningUntil = createdMs + options.commissioningMs;
    return inventory;
  }

  static async open(options: InventoryOptions): Promise<Inventory> {
    const db = new ClassicLevel<string, string>(options.dir, { valueEncoding: 'utf8' });
    await db.open();
    const inventory = new Inventory(db, options);
    let created = Date.parse((await db.get(CREATED_KEY)) ?? '');
    if (!Number.isFinite(created)) {
      created = Date.now();
      await db.put(CREATED_KEY, new Date(created).toISOString());
    }
    if (options.commissioningMs) inventory.#commissioningUntil = created + options.commissioningMs;
    const loaded: DeviceRecord[] = [];
    for await (const [, value] of db.iterator({ gte: 'd!', lt: 'd~' })) {
      try {
        loaded.push(JSON.parse(value) as DeviceRecord);
      } catch {
        // An unreadable entry is dropped; the device reappears when it next speaks.
      }
    }
    loaded.sort((a, b) => (a.last_seen < b.last_seen ? -1 : a.last_seen > b.last_seen ? 1 : 0));
    for (const record of loaded)
      inventory.#devices.set(record.id, { record, lastSeenMs: Date.parse(record.last_seen) });
    inventory.#timer = setInterval(() => void inventory.save(), options.saveIntervalMs);
    inventory.#timer.unref();
    return inventory;
  }

  /** Devices forgotten because the inventory was full. */
  get forgotten(): number {
    return this.#forgotten;
  }

  get size(): number {
    return this.#devices.size;
  }

  /**
   * Notes an event; returns a `gateway.new_device` event when the device is new. Events without
   * a device (the gateway's own health reports) are ignored.
   */
  observe(event: PendingEvent, now: Date): PendingEvent | undefined {
    const device = event.device;
    if (!device || event.source === 'gateway' || event.source === 'central') return undefined;
    if (NOT_ADMITTED.has(event.action) && !this.#devices.has(device.id)) return undefined;
    const nowMs = now.getTime();
    if (nowMs !== this.#nowMs) {
      this.#nowMs = nowMs;
      this.#nowText = now.toISOString();
    }
    const at = this.#nowText;
    const sender = senderOf(event);
    let tracked = this.#devices.use(device.id);
    let created: PendingEvent | undefined;
    if (!tracked) {
      if (this.#devices.size >= this.#options.maxDevices) this.#forgetOldest();
      const record: DeviceRecord = {
        id: device.id,
        protocol: event.source,
        protocol_id: device.protocol_id ?? null,
        host: event.host ?? null,
        addresses: [],
        first_seen: at,
        last_seen: at,
        events: 0,
        security_events: 0,
        last_action: event.action,
        rate_per_min: 0,
      };
      tracked = { record, lastSeenMs: nowMs };
      this.#devices.set(device.id, tracked);
      // New devices are written at once (one batch per burst of them), not at the next
      // interval: after a SIGKILL a device the inventory forgot would be announced again, and
      // alerted on (18 repeated "new device" alerts in a 5-minute soak with a gateway kill).
      if (this.#db && !this.#soon)
        this.#soon = setImmediate(() => {
          this.#soon = undefined;
          void this.save().catch(() => undefined);
        });
      const commissioning = nowMs < this.#commissioningUntil;
      created = {
        ts: at,
        received: at,
        time_source: 'gateway',
        source: 'gateway',
        kind: 'security',
        action: 'gateway.new_device',
        severity: 5,
        message: `new ${event.source} device ${device.id}${sender?.ip ? ` at ${sender.ip}` : ''}${commissioning ? ' (commissioning)' : ''}`,
        device,
        ...(event.host && { host: event.host }),
        ...(sender && { src: sender }),
        fields: {
          protocol: event.source,
          first_action: event.action,
          ...(commissioning && { commissioning: true }),
        },
        tags: commissioning ? ['commissioning'] : [],
      };
    }
    const record = tracked.record;
    const elapsed = Math.max(0, nowMs - (Number.isFinite(tracked.lastSeenMs) ? tracked.lastSeenMs : nowMs));
    const decay = 0.5 ** (elapsed / RATE_HALF_LIFE_MS);
    // An EWMA of the per-minute rate: each event adds 1/τ per minute (τ in minutes).
    const tauMin = RATE_HALF_LIFE_MS / 60_000 / Math.LN2;
    record.rate_per_min = record.rate_per_min * decay + 1 / tauMin;
    record.events += 1;
    if (event.kind === 'security' || event.kind === 'alert') record.security_events += 1;
    record.last_seen = at;
    tracked.lastSeenMs = nowMs;
    // Written only when they change: the event's own strings (often slices of the line it was
    // parsed from) would otherwise be kept by a long-lived record, one per event (issue 18).
    if (event.action !== record.last_action) record.last_action = event.action;
    if (event.host && event.host !== record.host) record.host = event.host;
    // Identity often comes after the first event (an S7 serial from an SZL answer, a BACnet device
    // instance from I-Am, an OPC UA application URI from the session): the latest one is kept.
    if (device.protocol_id && device.protocol_id !== record.protocol_id)
      record.protocol_id = device.protocol_id;
    if (device.name && device.name !== record.name) record.name = device.name;
    if (event.source in IDENTITY_FIELDS) noteIdentity(record, event);
    const ip = sender?.ip;
    if (ip && !record.addresses.includes(ip)) {
      record.addresses.push(ip);
      if (record.addresses.length > MAX_ADDRESSES) record.addresses.shift();
    }
    this.#dirty.add(record.id);
    return created;
  }

  list(filter: { protocol?: string; q?: string } = {}): DeviceRecord[] {
    const q = filter.q?.toLowerCase();
    return [...this.#devices.values()]
      .map((t) => t.record)
      .filter((d) => !filter.protocol || d.protocol === filter.protocol)
      .filter(
        (d) =>
          !q ||
          d.id.toLowerCase().includes(q) ||
          (d.host ?? '').toLowerCase().includes(q) ||
          (d.name ?? '').toLowerCase().includes(q) ||
          d.addresses.some((a) => a.includes(q)),
      )
      .sort((a, b) => (a.last_seen < b.last_seen ? 1 : -1));
  }

  get(id: string): DeviceRecord | undefined {
    return this.#devices.get(id)?.record;
  }

  /** Forgets the device seen least recently, in O(1). */
  #forgetOldest(): void {
    const [, tracked] = this.#devices.evictOldest() ?? [];
    if (!tracked) return;
    const oldest = tracked.record;
    this.#dirty.delete(oldest.id);
    this.#removed.add(oldest.id);
    this.#forgotten += 1;
  }

  /** Writes changed devices (a lost save costs at most the last interval's counters). */
  async save(): Promise<void> {
    if (this.#dirty.size === 0 && this.#removed.size === 0) return;
    const ops: Array<{ type: 'put'; key: string; value: string } | { type: 'del'; key: string }> = [];
    for (const id of this.#dirty) {
      const record = this.#devices.get(id)?.record;
      if (record) ops.push({ type: 'put', key: `d!${id}`, value: JSON.stringify(record) });
    }
    for (const id of this.#removed) ops.push({ type: 'del', key: `d!${id}` });
    this.#dirty.clear();
    this.#removed.clear();
    await this.#db?.batch(ops);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#soon) clearImmediate(this.#soon);
    this.#soon = undefined;
    await this.save();
    await this.#db?.close();
  }
}
