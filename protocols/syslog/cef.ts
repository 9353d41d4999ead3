/**
 * ArcSight Common Event Format (CEF) payloads, as firewalls, IDSs and OT security appliances send
 * them inside syslog: `CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|
 * Severity|Extension` (Micro Focus "Implementing ArcSight CEF" rev. 25, "CEF Header" and
 * "Character Encoding"). In the header a pipe or backslash is escaped with a backslash; in the
 * extension, `=` and backslash are escaped and `\n`/`\r` stand for newlines; extension values
 * run to the space before the next `key=`. Also the generic `key=value` payloads many devices
 * send (FortiGate, NetScreen, OT gateways). Pure; never throws.
 */

export interface CefRecord {
  version: number;
  deviceVendor: string;
  deviceProduct: string;
  deviceVersion: string;
  signatureId: string;
  name: string;
  /** As sent: 0–10 or Unknown, Low, Medium, High, Very-High. */
  severity: string;
  extensions: Record<string, string>;
}

export type CefResult = { ok: true; cef: CefRecord } | { ok: false; error: string };

/** Extension keys: letters, digits and the few signs custom labels use (cs1Label, ad.foo). */
const EXT_KEY = /(?:^|\s)([A-Za-z0-9_.[\]-]{1,64})=/g;
const MAX_PAIRS = 256;

function unescapeHeader(field: string): string {
  return field.replace(/\\([\\|])/g, '$1');
}

function unescapeValue(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}

/** Splits on pipes not escaped by a backslash, at most `max` fields (the last keeps the rest). */
function splitHeader(text: string, max: number): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length && out.length < max - 1; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '|') {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** Extension `key=value key2=value with spaces`: values end at the space before the next key. */
export function parseCefExtension(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const keys: Array<{ key: string; start: number; valueStart: number }> = [];
  EXT_KEY.lastIndex = 0;
  for (let m = EXT_KEY.exec(text); m && keys.length < MAX_PAIRS; m = EXT_KEY.exec(text)) {
    keys.push({ key: m[1]!, start: m.index, valueStart: EXT_KEY.lastIndex });
  }
  keys.forEach((k, i) => {
    const end = i + 1 < keys.length ? keys[i + 1]!.start : text.length;
    if (!(k.key in out)) out[k.key] = unescapeValue(text.slice(k.valueStart, end).trimEnd());
  });
  return out;
}

/** Parses `CEF:...` (the text must start with `CEF:`). */
export function parseCef(text: string): CefResult {
  if (!text.startsWith('CEF:')) return { ok: false, error: 'not CEF' };
  const parts = splitHeader(text.slice(4), 8);
  if (parts.length < 8) return { ok: false, error: `CEF header has ${parts.length} of 8 fields` };
  const version = /^\s*(\d{1,3})$/.exec(parts[0]!);
  if (!version) return { ok: false, error: 'CEF version is not a number' };
  const [, vendor, product, deviceVersion, signatureId, name, severity, ext] = parts;
  return {
    ok: true,
    cef: {
      version: Number(version[1]),
      deviceVendor: unescapeHeader(vendor!),
      deviceProduct: unescapeHeader(product!),
      deviceVersion: unescapeHeader(deviceVersion!),
      signatureId: unescapeHeader(signatureId!),
      name: unescapeHeader(name!),
      severity: unescapeHeader(severity!).trim(),
      extensions: parseCefExtension(ext!),
    },
  };
}

/** CEF severity (0–10 or its names) to the syslog scale: Low → 5, Medium → 4, High → 3, Very-High → 2. */
export function cefSeverityToSyslog(severity: string): number | undefined {
  const s = severity.toLowerCase();
  const n = /^\d{1,2}$/.test(s) ? Number(s) : undefined;
  if (s === 'very-high' || (n !== undefined && n >= 9 && n <= 10)) return 2;
  if (s === 'high' || n === 7 || n === 8) return 3;
  if (s === 'medium' || (n !== undefined && n >= 4 && n <= 6)) return 4;
  if (s === 'low' || (n !== undefined && n <= 3)) return 5;
  return undefined;
}

const KV_TOKEN = /([A-Za-z_][A-Za-z0-9_.-]{0,63})=("(?:[^"\\]|\\.)*"|\S*)/y;

/**
 * A `key=value key="quoted value"` payload, when most of the message is pairs: at least three,
 * covering at least 60% of its space-separated words. Null otherwise (free text that happens to
 * hold an `=`). The first value of a repeated key is kept.
 */
export function parseKeyValue(text: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  let pairs = 0;
  let words = 0;
  let i = 0;
  while (i < text.length && pairs < MAX_PAIRS) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) break;
    words++;
    KV_TOKEN.lastIndex = i;
    const m = KV_TOKEN.exec(text);
    if (m && (KV_TOKEN.lastIndex >= text.length || /\s/.test(text[KV_TOKEN.lastIndex]!))) {
      pairs++;
      const raw = m[2]!;
      const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      if (!(m[1]! in out)) out[m[1]!] = value.slice(0, 1024);
      i = KV_TOKEN.lastIndex;
      continue;
    }
    while (i < text.length && text[i] !== ' ' && text[i] !== '\t') i++;
  }
  return pairs >= 3 && pairs >= words * 0.6 ? out : null;
}
