/**
 * `pseudonymise`: replaces chosen fields (user names, addresses) with a keyed HMAC before they
 * leave the site: `ps:` + the first 16 hex digits of HMAC-SHA256(key, value). The same value gives
 * the same pseudonym, so the SOC can still count and correlate; only the gateway, which keeps the
 * key, can tell what it stands for. Arrays are pseudonymised element by element. The event is
 * copied along the changed paths; the original (which inventory, baselines and detection saw)
 * is not touched. Alerts and their evidence skip the stages but not this: evidence gets the same
 * fields replaced, and an alert's entity, id and message lose every value this stage has hidden
 * (an alert on a source address is keyed by that address).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { Stage } from '../stage.ts';

/** Reads the key, or creates one (32 random bytes, hex, mode 0600) when the file does not exist. */
export function loadPseudonymKey(file: string): Buffer {
  if (!existsSync(file)) {
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  const text = readFileSync(file, 'utf8').trim();
  if (text.length < 32) throw new Error(`${file}: a pseudonymisation key needs at least 32 characters`);
  return Buffer.from(text, 'utf8');
}

export function pseudonym(key: Buffer, value: string): string {
  return `ps:${createHmac('sha256', key).update(value).digest('hex').slice(0, 16)}`;
}

export function createPseudonymiseStage(options: {
  name: string;
  fields: readonly string[];
  key: Buffer;
}): Stage {
  const paths = options.fields.map((p) => p.split('.'));
  const cache = new Map<string, string>();
  const hide = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(hide);
    if (v === null || v === undefined || typeof v === 'object') return v;
    const text = String(v);
    if (text.startsWith('ps:')) return text;
    let p = cache.get(text);
    if (p === undefined) {
      p = pseudonym(options.key, text);
      // Bounded: an alert can only be scrubbed of values seen recently (documented).
      if (cache.size > 10_000) cache.clear();
      cache.set(text, p);
    }
    return p;
  };
  /** A copy of `obj` with `parts` replaced, or `obj` itself when the path is absent. */
  const replace = (obj: Record<string, unknown>, parts: string[], i: number): Record<string, unknown> => {
    const part = parts[i]!;
    // `fields` may hold dotted keys of its own.
    const rest = parts.slice(i).join('.');
    if (i > 0 && Object.hasOwn(obj, rest)) return { ...obj, [rest]: hide(obj[rest]) };
    if (!Object.hasOwn(obj, part)) return obj;
    const v = obj[part];
    if (i === parts.length - 1) return { ...obj, [part]: hide(v) };
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return obj;
    const inner = replace(v as Record<string, unknown>, parts, i + 1);
    return inner === v ? obj : { ...obj, [part]: inner };
  };
  const apply = (event: PendingEvent): PendingEvent => {
    let out = event as unknown as Record<string, unknown>;
    for (const parts of paths) out = replace(out, parts, 0);
    return out as unknown as PendingEvent;
  };
  /** Every hidden value that occurs in `text`, replaced by its pseudonym. */
  const scrub = (text: string): string => {
    let out = text;
    for (const [value, p] of cache)
      if (value.length >= 3 && out.includes(value)) out = out.split(value).join(p);
    return out;
  };
  return {
    name: options.name,
    type: 'pseudonymise',
    dropReason: 'none',
    process: apply,
    outgoing(event) {
      const e = apply(event);
      if (e.kind !== 'alert') return e;
      const f = e.fields as Record<string, unknown>;
      const fields = { ...f };
      for (const k of ['entity', 'alert_id'])
        if (typeof fields[k] === 'string') fields[k] = scrub(fields[k] as string);
      return {
        ...e,
        message: scrub(e.message),
        ...(e.host !== undefined && { host: scrub(e.host) }),
        ...(e.device && { device: { ...e.device, id: scrub(e.device.id) } }),
        fields,
      };
    },
  };
}
