/**
 * COPY text written straight into bytes: the UTF-8 of the lines `copyLineReference` gives, without
 * making each line as a string first. Central's thread spent about a seventh of its time on a
 * drain turning the batch's COPY text (a 256 KB string built by concatenation) into bytes for the
 * socket, and more building it (issue 18 ask 1). ASCII text is written byte by byte with COPY's
 * escapes (PostgreSQL docs, COPY "Text Format": backslash, newline, carriage return and tab); a
 * string with a NUL or any non-ASCII character is finished through `copyText` and Buffer's own
 * UTF-8 encoder, so the bytes never differ from the reference (tests/central/store/event-copy.test.ts
 * checks that with fast-check on hostile text).
 */
import { ByteWriter } from '../../server-shared/byte-writer.ts';
import { clean, jsonText } from './event-rows.ts';

const BACKSLASH = 0x5c;
const TAB = 0x09;
const NEWLINE = 0x0a;
const QUOTE = 0x22;
const RETURN = 0x0d;
const NULL_VALUE = Buffer.from('\\N');

const SPECIAL = /[\\\n\r\t]/g;
/** Deeper than this, a value takes the reference route (JSON.stringify). */
const MAX_DEPTH = 32;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One value in COPY text format. */
export function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = String(value);
  return text.replace(SPECIAL, (c) => ESCAPES[c]!);
}

/** COPY text on the shared byte writer (server-shared/byte-writer.ts). */
export class CopyBytesWriter extends ByteWriter {
  constructor(size: number) {
    super(Buffer.allocUnsafe(size));
  }

  /** `\N`, COPY's NULL. */
  nullValue(): void {
    this.bytes(NULL_VALUE);
  }

  /**
   * `copyText(s)`, with every NUL first replaced as `clean` does when `scrub` (PostgreSQL text
   * cannot hold one).
   */
  text(s: string, scrub: boolean): void {
    const len = s.length;
    // Each ASCII character takes at most two bytes (itself escaped).
    this.ensure(len * 2);
    const buf = this.buf;
    let n = this.n;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f || (c === 0 && scrub)) {
        // Non-ASCII (or a NUL to replace): the rest as the reference writes it.
        this.n = n;
        const rest = s.slice(i);
        this.raw(copyText(scrub ? clean(rest) : rest));
        return;
      }
      if (c === BACKSLASH) {
        buf[n++] = BACKSLASH;
        buf[n++] = BACKSLASH;
      } else if (c === TAB) {
        buf[n++] = BACKSLASH;
        buf[n++] = 0x74; // t
      } else if (c === NEWLINE) {
        buf[n++] = BACKSLASH;
        buf[n++] = 0x6e; // n
      } else if (c === RETURN) {
        buf[n++] = BACKSLASH;
        buf[n++] = 0x72; // r
      } else buf[n++] = c;
    }
    this.n = n;
  }

  /** A string, or `\N` when there is none. */
  optText(s: string | undefined | null, scrub: boolean): void {
    if (s === undefined || s === null) this.nullValue();
    else this.text(s, scrub);
  }

  /**
   * `copyText(jsonText(value))`: JSON of a jsonb column (fields, tags, threat), once per stored
   * event each. Plain data whose strings are printable ASCII without a quote or backslash is
   * written straight into the bytes: its JSON has no backslash, tab or newline, so COPY's escaping
   * changes nothing, and the JSON string and its escaped copy are never made. Anything else (an
   * escape, non-ASCII, a Date or other `toJSON`, depth) starts over through `jsonText`.
   */
  json(value: unknown): void {
    if (value === undefined) {
      this.nullValue();
      return;
    }
    const start = this.n;
    if (this.#plain(value, 0)) return;
    this.n = start;
    const text = jsonText(value);
    if (text === null) this.nullValue();
    else this.text(text, false);
  }

  /** Writes `value` as JSON.stringify would; false as soon as it meets what this cannot write so. */
  #plain(value: unknown, depth: number): boolean {
    switch (typeof value) {
      case 'string':
        return this.#plainString(value);
      case 'number':
        if (Number.isFinite(value)) this.decimal(value);
        else this.raw('null');
        return true;
      case 'boolean':
        this.raw(value ? 'true' : 'false');
        return true;
      case 'object':
        break;
      default:
        return false;
    }
    if (value === null) {
      this.raw('null');
      return true;
    }
    if (depth >= MAX_DEPTH) return false;
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto === Array.prototype) {
      const a = value as unknown[];
      this.byte(0x5b);
      for (let i = 0; i < a.length; i++) {
        if (i > 0) this.byte(0x2c);
        const v = a[i];
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') this.raw('null');
        else if (!this.#plain(v, depth + 1)) return false;
      }
      this.byte(0x5d);
      return true;
    }
    if ((proto !== Object.prototype && proto !== null) || 'toJSON' in value) return false;
    const o = value as Record<string, unknown>;
    this.byte(0x7b);
    let first = true;
    for (const key in o) {
      if (!Object.hasOwn(o, key)) continue;
      const v = o[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      if (!first) this.byte(0x2c);
      first = false;
      if (!this.#plainString(key)) return false;
      this.byte(0x3a);
      if (!this.#plain(v, depth + 1)) return false;
    }
    this.byte(0x7d);
    return true;
  }

  /** A JSON string of printable ASCII without `"` or `\`; false (partly written) for any other. */
  #plainString(s: string): boolean {
    const len = s.length;
    this.ensure(len + 2);
    const buf = this.buf;
    let n = this.n;
    buf[n++] = QUOTE;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) return false;
      buf[n++] = c;
    }
    buf[n++] = QUOTE;
    this.n = n;
    return true;
  }

  /** A number, a string (as `opt` in the reference), or `\N`. */
  optValue(v: number | string | undefined | null): void {
    if (v === undefined || v === null) this.nullValue();
    else if (typeof v === 'number') this.decimal(v);
    else this.text(String(v), false);
  }
}
