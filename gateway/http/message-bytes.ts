/**
 * Strings kept for a long time as UTF-8 bytes outside the JavaScript heap: the device dashboard's
 * recent messages (device-series.ts). A message kept as a string lives long enough to be copied to
 * V8's old generation, whose full collections then pay for it (issue 18).
 */
const FIRST_BYTES = 1024;

/**
 * Buffer's own UTF-8 writer, which `buf.write(s, offset, length, 'utf8')` calls after parsing its
 * arguments: called for every event the dashboard keeps, that parsing was a fifth of its cost.
 */
type Utf8Writable = Buffer & { utf8Write(s: string, offset: number, length: number): number };

/**
 * The messages of a ring's slots as UTF-8 in one buffer, outside the JavaScript heap (nothing for
 * the collector to copy or mark). Each is written where the last one ended; when the end is
 * reached, the kept ones move to the front (in place, in order) or, if that leaves too little
 * room, to a buffer twice as large, up to `capacity` messages of the longest kind. A message
 * dropped with its slot is left where it is until then. A string reads back as it was written,
 * but for a lone UTF-16 surrogate (a message cut inside a pair), which UTF-8 cannot hold: it
 * reads as U+FFFD, as a browser would show it anyway.
 */
export class MessageBytes {
  #bytes: Buffer;
  readonly #start: Uint32Array;
  readonly #end: Uint32Array;
  /** Slots holding a message, in the order written: `#first` and the `#count - 1` after it. */
  #first = 0;
  #count = 0;
  #tail = 0;
  /** The most bytes the messages can take: `capacity` of `maxChars` UTF-16 units, 3 bytes each. */
  readonly #maxBytes: number;
  constructor(
    readonly capacity: number,
    maxChars: number,
  ) {
    this.#maxBytes = capacity * maxChars * 3;
    this.#bytes = Buffer.allocUnsafe(Math.min(FIRST_BYTES, this.#maxBytes));
    this.#start = new Uint32Array(capacity);
    this.#end = new Uint32Array(capacity);
  }

  /** Sets the message of `slot`, the slot after the newest (the oldest one when all are used). */
  put(slot: number, message: string): void {
    if (this.#count === this.capacity) {
      this.#first = this.#first + 1 === this.capacity ? 0 : this.#first + 1;
      this.#count -= 1;
    }
    if (this.#count === 0) this.#first = slot;
    const room = message.length * 3;
    if (this.#tail + room > this.#bytes.length) this.#compact(room);
    this.#start[slot] = this.#tail;
    this.#tail += (this.#bytes as Utf8Writable).utf8Write(message, this.#tail, room);
    this.#end[slot] = this.#tail;
    this.#count += 1;
  }

  /** The bytes held (the buffer's size). */
  get byteLength(): number {
    return this.#bytes.length;
  }

  get(slot: number): string {
    return this.#bytes.toString('utf8', this.#start[slot], this.#end[slot]);
  }

  /**
   * Moves the kept messages to the front, into a buffer twice as large when they would fill more
   * than half of this one (so that moving them costs at most a byte per byte written since). They
   * are one run of bytes, from the oldest's start to the newest's end: moved in one copy.
   */
  #compact(room: number): void {
    const from = this.#count === 0 ? this.#tail : this.#start[this.#first]!;
    const kept = this.#tail - from;
    let to = this.#bytes;
    if (2 * (kept + room) > to.length && to.length < this.#maxBytes) {
      let size = to.length * 2;
      while (size < 2 * (kept + room)) size *= 2;
      to = Buffer.allocUnsafe(Math.min(size, this.#maxBytes));
    }
    if (kept + room > to.length) to = Buffer.allocUnsafe(kept + room);
    this.#bytes.copy(to, 0, from, this.#tail);
    for (let k = 0, i = this.#first; k < this.#count; k++, i = i + 1 === this.capacity ? 0 : i + 1) {
      this.#start[i]! -= from;
      this.#end[i]! -= from;
    }
    this.#bytes = to;
    this.#tail = kept;
  }
}
