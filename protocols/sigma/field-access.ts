/**
 * How a Sigma field name reaches a value of the `Event`, and the per-event cache the compiled
 * matchers read through. A rule field is first renamed by the configured field map (rules
 * specification "Field Usage": `ClientId` → `fields.client_id`), then read as a dotted path of the
 * Event (`host`, `src.ip`, `fields.function_code`); a name that is not an Event attribute is looked
 * up in `fields` (`logtype` → `fields.logtype`, `id.orig_h` → `fields["id.orig_h"]`). Each distinct
 * path gets a slot; per event, a slot's value and its lower-cased strings are computed at most once,
 * however many rules read it. Case-insensitive `contains` literals of all rules are registered per
 * slot and found in one pass over the text (a character-pair index), so forty keyword rules cost
 * one scan of the message rather than hundreds of substring searches.
 */
import type { Event } from '../event/schema.ts';
import { windowsFieldValue } from './windows.ts';

/** The attributes of `Event` (protocols/event/schema.ts) that a dotted path may start with. */
export const EVENT_ATTRIBUTES: ReadonlySet<string> = new Set([
  'v',
  'id',
  'gateway',
  'seq',
  'ts',
  'received',
  'time_source',
  'clock_offset_ms',
  'source',
  'kind',
  'action',
  'severity',
  'message',
  'host',
  'device',
  'src',
  'dst',
  'fields',
  'tags',
  'threat',
]);

const OBJECT_ATTRIBUTES: ReadonlySet<string> = new Set(['device', 'src', 'dst', 'threat']);

type Getter = (event: Event) => unknown;

function walk(root: unknown, parts: readonly string[], from: number): unknown {
  let cur = root;
  for (let i = from; i < parts.length; i++) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    const key = parts[i]!;
    cur = Object.hasOwn(cur, key) ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return cur;
}

const own = (o: unknown, key: string): unknown =>
  o !== null && typeof o === 'object' && !Array.isArray(o) && Object.hasOwn(o, key)
    ? (o as Record<string, unknown>)[key]
    : undefined;

/** `walk` from the root, unrolled for the one- and two-part paths almost every rule reads. */
function pathGetter(parts: readonly string[]): Getter {
  if (parts.length === 1) {
    const a = parts[0]!;
    return (event) => own(event, a);
  }
  if (parts.length === 2) {
    const [a, b] = parts as [string, string];
    return (event) => own(own(event, a), b);
  }
  return (event) => walk(event, parts, 0);
}

/** Inside `fields`: the whole (dotted) name as one key first, then as a nested path. */
function fieldsGetter(path: string): Getter {
  const parts = path.split('.');
  return (event) => {
    const fields = event.fields as Record<string, unknown> | undefined;
    if (!fields || typeof fields !== 'object') return undefined;
    if (Object.hasOwn(fields, path)) return fields[path];
    return parts.length > 1 ? walk(fields, parts, 0) : undefined;
  };
}

/** The canonical Event path a rule field resolves to, and its getter. */
export function resolveField(
  name: string,
  fieldMap: Readonly<Record<string, string>>,
): { path: string; get: Getter } {
  const mapped = Object.hasOwn(fieldMap, name) ? fieldMap[name]! : name;
  const parts = mapped.split('.');
  const head = parts[0]!;
  if (head === 'fields' && parts.length > 1) {
    const rest = mapped.slice('fields.'.length);
    return { path: mapped, get: fieldsGetter(rest) };
  }
  // A scalar attribute only as a whole name: `id.orig_h` (Zeek) is a field, not a part of `id`.
  if (EVENT_ATTRIBUTES.has(head) && (parts.length === 1 || OBJECT_ATTRIBUTES.has(head))) {
    return { path: mapped, get: pathGetter(parts) };
  }
  // SigmaHQ's Windows names (EventData `TargetUserName`, System `EventID`): windows.ts.
  const inFields = fieldsGetter(mapped);
  const get: Getter = (event) => {
    const v = inFields(event);
    return v === undefined && event.source === 'windows' ? windowsFieldValue(event.fields, mapped) : v;
  };
  return { path: `fields.${mapped}`, get };
}

/** The scalar text forms of a value: strings as is, numbers and booleans printed, arrays flattened. */
export function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    out.push(String(value));
  else if (Array.isArray(value)) for (const v of value) if (!Array.isArray(v)) stringsOf(v, out);
  return out;
}

const EMPTY: readonly string[] = [];

/**
 * The contains-literals registered on one slot, bucketed by the low bytes of their first one or
 * two characters (a flat array lookup per text position; the candidates are then compared).
 */
interface SlotNeedles {
  byPair: Array<Array<{ text: string; id: number }> | undefined>;
  byChar: Array<Array<{ text: string; id: number }> | undefined>;
  singles: number;
  ids: Map<string, number>;
  scanned: number;
}

const pairKey = (c0: number, c1: number) => ((c0 & 0xff) << 8) | (c1 & 0xff);

/**
 * The slot table of one compiled rule set, and the cache of the event being matched. Matching is
 * synchronous and one event at a time, so the cache is reused from event to event: `begin` bumps a
 * generation number instead of allocating. The arrays `strings` and `lowers` return are valid for
 * the current event only (scalar values reuse one array per slot).
 */
export class FieldTable {
  private readonly slots = new Map<string, number>();
  private getters: Getter[] = [];
  private gen = 0;
  private stamp: number[] = [];
  private rawCache: unknown[] = [];
  private strCache: (readonly string[])[] = [];
  private lowerCache: (readonly string[])[] = [];
  private lowerStamp: number[] = [];
  /** Per slot, one-element arrays reused for scalar values (no allocation per event). */
  private oneStr: string[][] = [];
  private oneLower: string[][] = [];
  private event: Event | undefined;
  private needles: Array<SlotNeedles | undefined> = [];
  private found: number[] = [];
  /** Compiled items by their canonical text; per-event results of the shared ones. */
  private readonly items = new Map<string, { value: { test: () => boolean }; memo?: unknown }>();
  private memoStamp: number[] = [];
  private memoValue: boolean[] = [];

  constructor(readonly fieldMap: Readonly<Record<string, string>> = {}) {}

  /** The slot of a rule field name (allocated on first use, at compile time). */
  slot(name: string): number {
    const { path, get } = resolveField(name, this.fieldMap);
    let s = this.slots.get(path);
    if (s === undefined) {
      s = this.getters.length;
      this.slots.set(path, s);
      this.getters.push(get);
      this.stamp.push(0);
      this.rawCache.push(undefined);
      this.strCache.push(EMPTY);
      this.lowerCache.push(EMPTY);
      this.lowerStamp.push(0);
      this.oneStr.push(['']);
      this.oneLower.push(['']);
      this.needles.push(undefined);
    }
    return s;
  }

  get size(): number {
    return this.getters.length;
  }

  /**
   * A compiled item registered under `key` before (compile time), its test now answering from a
   * per-event memo, so that however many rules hold the item it is evaluated about once per event.
   */
  shared<T extends { test: () => boolean }>(key: string): T | undefined {
    const entry = this.items.get(key);
    if (!entry) return undefined;
    if (!entry.memo) {
      const id = this.memoStamp.length;
      this.memoStamp.push(0);
      this.memoValue.push(false);
      const test = entry.value.test;
      const stamps = this.memoStamp;
      const values = this.memoValue;
      const memoTest = () => {
        if (stamps[id] === this.gen) return values[id]!;
        const v = test();
        stamps[id] = this.gen;
        values[id] = v;
        return v;
      };
      entry.memo = { ...entry.value, test: memoTest };
    }
    return entry.memo as T;
  }

  /** Registers a compiled item under its canonical text (see `shared`). */
  share(key: string, value: { test: () => boolean }): void {
    this.items.set(key, { value });
  }

  begin(event: Event): void {
    this.event = event;
    this.gen = (this.gen + 1) | 0 || 1;
  }

  private load(slot: number): void {
    if (this.stamp[slot] === this.gen) return;
    this.stamp[slot] = this.gen;
    let raw: unknown;
    try {
      raw = this.event ? this.getters[slot]!(this.event) : undefined;
    } catch {
      raw = undefined; // a hostile getter-bearing object: treated as absent
    }
    this.rawCache[slot] = raw;
    if (typeof raw === 'string' || typeof raw === 'number') {
      const one = this.oneStr[slot]!;
      one[0] = typeof raw === 'string' ? raw : String(raw);
      this.strCache[slot] = one;
    } else this.strCache[slot] = raw === undefined || raw === null ? EMPTY : stringsOf(raw);
  }

  /** Registers a lower-case literal to find in `slot` (compile time); returns its id. */
  needle(slot: number, text: string): number {
    let n = this.needles[slot];
    if (!n) {
      n = {
        byPair: new Array(65536).fill(undefined),
        byChar: new Array(256).fill(undefined),
        singles: 0,
        ids: new Map(),
        scanned: 0,
      };
      this.needles[slot] = n;
    }
    const known = n.ids.get(text);
    if (known !== undefined) return known;
    const id = this.found.length;
    this.found.push(0);
    n.ids.set(text, id);
    if (text.length === 1) {
      const k = text.charCodeAt(0) & 0xff;
      (n.byChar[k] ??= []).push({ text, id });
      n.singles++;
    } else (n.byPair[pairKey(text.charCodeAt(0), text.charCodeAt(1))] ??= []).push({ text, id });
    return id;
  }

  /** True when the literal `id` (registered on `slot`) occurs in the slot's lower-cased text. */
  contains(slot: number, id: number): boolean {
    const n = this.needles[slot];
    if (n && n.scanned !== this.gen) this.scan(slot, n);
    return this.found[id] === this.gen;
  }

  /** True when any of the literals `ids` (all registered on `slot`) occurs in its text. */
  containsAny(slot: number, ids: readonly number[]): boolean {
    const n = this.needles[slot];
    if (n && n.scanned !== this.gen) this.scan(slot, n);
    const found = this.found;
    const gen = this.gen;
    for (let i = 0; i < ids.length; i++) if (found[ids[i]!] === gen) return true;
    return false;
  }

  private scan(slot: number, n: SlotNeedles): void {
    n.scanned = this.gen;
    const gen = this.gen;
    const found = this.found;
    const single = n.singles > 0;
    const byPair = n.byPair;
    for (const l of this.lowers(slot)) {
      let c0 = l.charCodeAt(0);
      for (let i = 0; i < l.length; i++) {
        const c1 = l.charCodeAt(i + 1); // NaN past the end: & 0xff makes it 0, and startsWith decides
        if (single) {
          const ones = n.byChar[c0 & 0xff];
          if (ones) for (const c of ones) if (l.charCodeAt(i) === c.text.charCodeAt(0)) found[c.id] = gen;
        }
        const cands = byPair[pairKey(c0, c1)];
        if (cands)
          for (const c of cands) if (found[c.id] !== gen && l.startsWith(c.text, i)) found[c.id] = gen;
        c0 = c1;
      }
    }
  }

  raw(slot: number): unknown {
    this.load(slot);
    return this.rawCache[slot];
  }

  strings(slot: number): readonly string[] {
    this.load(slot);
    return this.strCache[slot]!;
  }

  /** The slot's strings lower-cased, once per event however many rules ask. */
  lowers(slot: number): readonly string[] {
    this.load(slot);
    if (this.lowerStamp[slot] === this.gen) return this.lowerCache[slot]!;
    this.lowerStamp[slot] = this.gen;
    const s = this.strCache[slot]!;
    let l: readonly string[];
    if (s.length === 1) {
      const one = this.oneLower[slot]!;
      one[0] = s[0]!.toLowerCase();
      l = one;
    } else l = s.length === 0 ? EMPTY : s.map((x) => x.toLowerCase());
    this.lowerCache[slot] = l;
    return l;
  }
}
