/**
 * A link batch frame (protocols/link/SPEC.md: `{"type":"batch","batch_id":N,"events":[...]}`) made
 * from the bytes of queue records, byte for byte the UTF-8 of what `encodeLinkMessage` makes of the
 * batch of their events. Working on bytes keeps a batch of a thousand events out of the JavaScript
 * heap: a string that size would be allocated in V8's old space and force full collections.
 */
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

/** `records`: each the UTF-8 JSON text of an array of events (a queue record's value). */
export function batchFrame(batchId: number, records: readonly Uint8Array[]): Buffer {
  const parts: Uint8Array[] = [Buffer.from(`{"type":"batch","batch_id":${batchId},"events":[`)];
  for (const record of records) {
    // The array's elements, without its brackets; an empty array adds nothing.
    if (record.length <= 2) continue;
    if (parts.length > 1) parts.push(COMMA);
    parts.push(record.subarray(1, record.length - 1));
  }
  parts.push(CLOSE);
  return Buffer.concat(parts);
}
