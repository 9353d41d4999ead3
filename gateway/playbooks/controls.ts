/**
 * The gateway's response controls (issue 21 ask 4): the MQTT client ids and addresses its embedded
 * brokers refuse, the Modbus masters its proxies refuse, and the proxies switched to enforce mode,
 * as entries that playbooks (local runs) and central's commands add and undo. Bounded (at most
 * `maxEntries`; a request beyond is refused, never an old entry evicted silently), optionally
 * expiring, and persisted in `<data_dir>/playbooks/controls.json` (written whole, fsynced and
 * renamed over the old file) so that a block survives a restart. The sources ask it on each
 * CONNECT and each Modbus request (cheap: lookups in sets rebuilt on change).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type BlockRequest, blockRequestSchema } from '../../protocols/playbook/schema.ts';

export const controlEntrySchema = blockRequestSchema.extend({
  id: z.string().min(1).max(64),
  created_at: z.iso.datetime(),
  expires_at: z.iso.datetime().nullable(),
  /** `playbook:<id>` (a local run) or `central:<command id>`. */
  by: z.string().max(200),
});
export type ControlEntry = z.output<typeof controlEntrySchema>;

const fileSchema = z.strictObject({ v: z.literal(1), entries: z.array(controlEntrySchema) });

export type ApplyResult = { ok: true; entry: ControlEntry; existed: boolean } | { ok: false; error: string };

/** What the sources ask; `source` is the source's name in the gateway config. */
export interface ResponseView {
  mqttRefused(source: string, clientId: string | undefined, address: string): ControlEntry | undefined;
  modbusDenied(source: string, address: string): ControlEntry | undefined;
  modbusEnforced(source: string): boolean;
  /** Fires after every change (a broker drops the clients a new block names). */
  on(event: 'changed', listener: () => void): unknown;
  off(event: 'changed', listener: () => void): unknown;
}

export interface ResponseControlsOptions {
  dataDir: string;
  maxEntries: number;
  now?: () => Date;
}

const key = (type: string, source: string | undefined, value: string | undefined) =>
  `${type}\u0000${source ?? '*'}\u0000${(value ?? '').toLowerCase()}`;

export function createResponseControls(options: ResponseControlsOptions) {
  const now = options.now ?? (() => new Date());
  const dir = path.join(options.dataDir, 'playbooks');
  const file = path.join(dir, 'controls.json');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const events = new EventEmitter<{ changed: [] }>();
  let entries: ControlEntry[] = load(file);
  let index = new Map<string, ControlEntry>();

  const live = (e: ControlEntry, at: number) => e.expires_at === null || Date.parse(e.expires_at) > at;
  const rebuild = () => {
    const at = now().getTime();
    index = new Map(entries.filter((e) => live(e, at)).map((e) => [key(e.type, e.source, e.value), e]));
  };
  const save = () => {
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ v: 1, entries }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  };
  /** Drops expired entries (on every change and every minute from the gateway's clock). */
  const prune = (): boolean => {
    const at = now().getTime();
    const kept = entries.filter((e) => live(e, at));
    if (kept.length === entries.length) return false;
    entries = kept;
    save();
    rebuild();
    events.emit('changed');
    return true;
  };
  rebuild();

  const find = (type: string, source: string, value: string | undefined) => {
    // The common case, nothing blocked: no key built, no clock read (a Modbus proxy asks per request).
    if (index.size === 0) return undefined;
    const hit = index.get(key(type, source, value)) ?? index.get(key(type, undefined, value));
    return hit && live(hit, now().getTime()) ? hit : undefined;
  };

  /** Adds an entry in memory (the same block twice is the one entry, its expiry extended). */
  const add = (request: BlockRequest, by: string): ApplyResult & { changed?: boolean } => {
    const parsed = blockRequestSchema.safeParse(request);
    if (!parsed.success) return { ok: false, error: `invalid request: ${parsed.error.issues[0]?.message}` };
    const r = parsed.data;
    if (r.type !== 'modbus_enforce' && !r.value) return { ok: false, error: `${r.type} needs a value` };
    const at = now();
    const expires = r.expire_secs ? new Date(at.getTime() + r.expire_secs * 1000).toISOString() : null;
    const same = entries.find((e) => key(e.type, e.source, e.value) === key(r.type, r.source, r.value));
    if (same) {
      if (same.expires_at !== null && (expires === null || expires > same.expires_at)) {
        same.expires_at = expires;
        return { ok: true, entry: same, existed: true, changed: true };
      }
      return { ok: true, entry: same, existed: true };
    }
    if (entries.length >= options.maxEntries)
      return { ok: false, error: `at most ${options.maxEntries} response entries (playbooks.max_entries)` };
    const entry: ControlEntry = {
      ...r,
      id: `e-${at.getTime().toString(36)}-${randomBytes(4).toString('hex')}`,
      created_at: at.toISOString(),
      expires_at: expires,
      by: by.slice(0, 200),
    };
    entries = [...entries, entry];
    return { ok: true, entry, existed: false, changed: true };
  };

  /** Adds entries, written to disk once, then the sources are told. */
  const applyMany = (requests: readonly BlockRequest[], by: string): ApplyResult[] => {
    prune();
    const results = requests.map((r) => add(r, by));
    if (results.some((r) => r.ok && r.changed)) {
      save();
      rebuild();
      events.emit('changed');
    }
    return results.map((r) => (r.ok ? { ok: true, entry: r.entry, existed: r.existed } : r));
  };

  return {
    list: (): ControlEntry[] => entries.filter((e) => live(e, now().getTime())),
    get: (id: string) => entries.find((e) => e.id === id),

    /** Adds an entry (the same block twice is the one entry, its expiry extended). */
    apply: (request: BlockRequest, by: string): ApplyResult => applyMany([request], by)[0]!,
    applyMany,

    /** Removes an entry; false when there is none (undone already, or expired). */
    undo(id: string): ControlEntry | undefined {
      const entry = entries.find((e) => e.id === id);
      if (!entry) return undefined;
      entries = entries.filter((e) => e !== entry);
      save();
      rebuild();
      events.emit('changed');
      return entry;
    },

    prune,

    view: {
      mqttRefused(source: string, clientId: string | undefined, address: string) {
        return (
          (clientId ? find('mqtt_block_client', source, clientId) : undefined) ??
          find('mqtt_block_address', source, address)
        );
      },
      modbusDenied: (source: string, address: string) => find('modbus_deny_master', source, address),
      modbusEnforced: (source: string) => find('modbus_enforce', source, undefined) !== undefined,
      on: (event: 'changed', listener: () => void) => events.on(event, listener),
      off: (event: 'changed', listener: () => void) => events.off(event, listener),
    } satisfies ResponseView,
  };
}

export type ResponseControls = ReturnType<typeof createResponseControls>;

function load(file: string): ControlEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const parsed = fileSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`${file}: not a response controls file (${parsed.error.issues[0]?.message})`);
  return parsed.data.entries;
}
