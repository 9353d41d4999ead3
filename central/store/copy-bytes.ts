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
import { JsonBytesWriter } from '../../server-shared/json-bytes.ts';
import { clean, jsonText } from './event-rows.ts';

const BACKSLASH = 0x5c;
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const NULL_VALUE = Buffer.from('\\N');

const SPECIAL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One value in COPY text format. */
export function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = String(value);
  return text.replace(SPECIAL, (c) => ESCAPES[c]!);
}

/** COPY text on the shared byte and JSON writers (server-shared/byte-writer.ts, json-bytes.ts). */
export class CopyBytesWriter extends JsonBytesWriter {
  /** A JSON escape's backslash is itself escaped in COPY text (`\\"` for a quote). */
  protected override readonly backslashBytes = 2;

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
   * event each, written by the shared JSON writer straight into the bytes: printable ASCII needs
   * no COPY escape, and what JSON.stringify writes (escapes, non-ASCII, a Date or other `toJSON`)
   * comes through the two methods below, scrubbed of NULs as `jsonText` does and escaped for COPY.
   * The JSON string of the whole value and its escaped copy are never made.
   */
  json(value: unknown): void {
    if (!this.value(value)) this.nullValue();
  }

  override escapedString(s: string): void {
    this.raw(copyText(JSON.stringify(clean(s))));
  }

  override stringified(value: unknown): string | undefined {
    const text = jsonText(value);
    return text === null ? undefined : copyText(text);
  }

  /** A number, a string (as `opt` in the reference), or `\N`. */
  optValue(v: number | string | undefined | null): void {
    if (v === undefined || v === null) this.nullValue();
    else if (typeof v === 'number') this.decimal(v);
    else this.text(String(v), false);
  }
}
