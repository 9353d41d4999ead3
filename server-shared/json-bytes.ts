/**
 * JSON written straight into a byte buffer: the UTF-8 of `JSON.stringify(value)`, byte for byte,
 * without making the JSON string first. V8's stringify builds its result in parts and then copies
 * them into one string, about three bytes of young heap per byte of JSON, for every event the
 * gateway queues; the garbage collector's work on that was the largest single cost of the syslog
 * path (issue 18). Plain objects, arrays, strings, numbers, booleans and null are written here;
 * printable ASCII strings byte by byte (a quote or backslash escaped in place), any other string,
 * and any value that is not plain data (a Date, a class instance, an object with `toJSON`), through
 * `JSON.stringify` itself, so the output does not differ from it (tests/gateway/queue-bytes.test.ts
 * checks that with fast-check); the one difference: a `toJSON` method is called without the
 * member's key. Central's COPY writer (central/store/copy-bytes.ts) writes jsonb columns with it,
 * through the two methods that take what JSON.stringify writes (`escapedString`, `stringified`),
 * which it overrides to scrub and escape that text for COPY, and `backslashBytes`.
 */

import { ByteWriter } from './byte-writer.ts';

/** Deeper than this, the value goes through `JSON.stringify` (which also reports a cycle). */
const MAX_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether Object.prototype has an enumerable key, which for-in would visit on every plain object. */
function prototypeEnumerable(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}

/** An array or object JSON.stringify writes member by member (no toJSON, no class). */
export function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === Array.prototype) return true;
  return (proto === Object.prototype || proto === null) && !('toJSON' in value);
}

/** JSON on the shared byte writer (server-shared/byte-writer.ts: the buffer, bytes, raw text, digits). */
export class JsonBytesWriter extends ByteWriter {
  /**
   * How many bytes stand for each backslash of the JSON: 1 here; central's COPY writer doubles
   * them (COPY text escapes a backslash), so a quote or backslash inside a string is escaped in
   * place for both instead of sending the whole string through `escapedString`.
   */
  protected readonly backslashBytes: number = 1;

  string(s: string): void {
    const len = s.length;
    this.ensure(len + 2);
    const buf = this.buf;
    const start = this.n;
    let n = start;
    buf[n++] = QUOTE;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) {
        this.#escapedFrom(s, i, n, start);
        return;
      }
      buf[n++] = c;
    }
    buf[n++] = QUOTE;
    this.n = n;
  }

  /**
   * The rest of `s` from its character `i` on, written at `n`: a quote or backslash escaped in
   * place (`\"`, `\\`, as JSON.stringify writes them), and on a control character or anything
   * beyond ASCII, the whole string again from `start` through `escapedString`. Apart from the
   * plain loop above, which stays as small as it was (it is the gateway's hottest).
   */
  #escapedFrom(s: string, i: number, n: number, start: number): void {
    const len = s.length;
    const slash = this.backslashBytes;
    this.n = n;
    // At most two backslashes' bytes for each character left (a backslash escaped), and the quote.
    this.ensure((len - i) * 2 * slash + 1);
    const buf = this.buf;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        for (let k = 0; k < slash; k++) buf[n++] = BACKSLASH;
        buf[n++] = QUOTE;
      } else if (c === BACKSLASH) {
        for (let k = 0; k < 2 * slash; k++) buf[n++] = BACKSLASH;
      } else if (c < 0x20 || c > 0x7e) {
        this.n = start;
        this.escapedString(s);
        return;
      } else buf[n++] = c;
    }
    buf[n++] = QUOTE;
    this.n = n;
  }

  /** A string with escapes or beyond ASCII, as JSON.stringify writes it. */
  escapedString(s: string): void {
    this.raw(JSON.stringify(s));
  }

  /** The text of `value` as JSON.stringify writes it (undefined where it writes nothing), to write as it is. */
  stringified(value: unknown): string | undefined {
    return JSON.stringify(value) as string | undefined;
  }

  number(x: number): void {
    if (!Number.isFinite(x)) this.raw('null');
    else this.decimal(x);
  }

  /**
   * `value` as JSON; returns false when it writes nothing (undefined, a function, a symbol),
   * where JSON.stringify would omit an object member or write `null` in an array.
   */
  value(value: unknown, depth = 0): boolean {
    switch (typeof value) {
      case 'string':
        this.string(value);
        return true;
      case 'number':
        this.number(value);
        return true;
      case 'boolean':
        this.raw(value ? 'true' : 'false');
        return true;
      case 'undefined':
      case 'function':
      case 'symbol':
        return false;
      case 'object':
        break;
      default:
        // bigint: JSON.stringify throws, and so does this.
        this.raw(this.stringified(value)!);
        return true;
    }
    if (value === null) {
      this.raw('null');
      return true;
    }
    if (depth >= MAX_DEPTH) {
      this.raw(this.stringified(value)!);
      return true;
    }
    if (!isPlain(value)) return this.#other(value);
    if (Array.isArray(value)) {
      this.byte(0x5b);
      for (let i = 0; i < value.length; i++) {
        if (i > 0) this.byte(0x2c);
        if (!this.value(value[i], depth + 1)) this.raw('null');
      }
      this.byte(0x5d);
      return true;
    }
    this.byte(0x7b);
    this.members(value as Record<string, unknown>, true, depth);
    this.byte(0x7d);
    return true;
  }

  /**
   * The members of a plain object (`isPlain`: its prototype Object.prototype or null) as JSON,
   * without its braces: `,"key":value` for each, the first without its comma when `first`.
   * Returns whether the next member is still the first.
   */
  members(obj: Record<string, unknown>, first: boolean, depth = 0): boolean {
    // for-in visits inherited enumerable keys too, which JSON.stringify leaves out; a plain object
    // inherits none unless Object.prototype was given one (polluted): asked once per object
    // rather than `Object.hasOwn` per member (a fifth of this loop's time, `node --cpu-prof`).
    const inherits = prototypeEnumerable();
    for (const key in obj) {
      if (inherits && !Object.hasOwn(obj, key)) continue;
      const v = obj[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      // Not plain data: its text first, since a toJSON that gives undefined omits the member.
      const text = typeof v === 'object' && v !== null && !isPlain(v) ? this.stringified(v) : '';
      if (text === undefined) continue;
      if (!first) this.byte(0x2c);
      first = false;
      this.string(key);
      this.byte(0x3a);
      if (text) this.raw(text);
      else this.value(v, depth + 1);
    }
    return first;
  }

  /** Anything but plain data, as JSON.stringify writes it. */
  #other(value: object): boolean {
    const text = this.stringified(value);
    if (text === undefined) return false;
    this.raw(text);
    return true;
  }
}
