/**
 * Text written straight into a growing byte buffer, the part the gateway's JSON record encoder
 * (server-shared/json-bytes.ts) and central's COPY writer (central/store/copy-bytes.ts) share:
 * both write per event on a hot path and make no string of what they write.
 */
export class ByteWriter {
  buf: Buffer;
  n = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  /** Room for `bytes` more; a bigger buffer is made when needed (the caller keeps `buf`). */
  ensure(bytes: number): void {
    const need = this.n + bytes;
    if (need <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(bigger, 0, 0, this.n);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.n++] = b;
  }

  /** Bytes already in the target format. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }

  /** Text as UTF-8, as it is. */
  raw(text: string): void {
    this.ensure(text.length * 3);
    this.n += this.buf.write(text, this.n, 'utf8');
  }

  /**
   * `String(x)` for a finite number: small non-negative integers (severities, ports, sequences)
   * digit by digit, any other through `String`.
   */
  decimal(x: number): void {
    if (Number.isInteger(x) && x >= 0 && x < 0x40000000) {
      let digits = 1;
      for (let v = x; v >= 10; v = Math.floor(v / 10)) digits++;
      this.ensure(digits);
      let v = x;
      for (let i = this.n + digits - 1; i >= this.n; i--) {
        this.buf[i] = 0x30 + (v % 10);
        v = Math.floor(v / 10);
      }
      this.n += digits;
    } else this.raw(String(x));
  }
}
