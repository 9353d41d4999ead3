/**
 * ws's frame masking (RFC 6455 §5.3) for the gateway bundle, where it takes the place of the
 * optional `bufferutil` (bundle-gateway.ts aliases it here). bufferutil has no prebuilt binary for
 * arm64, and bundled it cannot find the one it has, so ws masked every byte of every link frame in
 * a JavaScript byte loop: 4–5% of the gateway's main thread under the syslog path's load (issue 18).
 * This masks four bytes at a time where source and output are 4-byte aligned (a batch frame owns its
 * ArrayBuffer and is masked in place: forwarder/connection.ts), and byte by byte elsewhere.
 */

/** The 4-byte mask as one 32-bit word in the platform's byte order (that of Int32Array views). */
function maskWord(mask: Uint8Array): number {
  return new Int32Array(Uint8Array.of(mask[0]!, mask[1]!, mask[2]!, mask[3]!).buffer)[0]!;
}

/** `output[offset + i] = source[i] ^ mask[i % 4]` for i < length (ws's `bufferUtil.mask`). */
export function mask(
  source: Uint8Array,
  mask: Uint8Array,
  output: Uint8Array,
  offset: number,
  length: number,
): void {
  let i = 0;
  const to = output.byteOffset + offset;
  if (length >= 16 && source.byteOffset % 4 === 0 && to % 4 === 0) {
    const words = length >>> 2;
    const m = maskWord(mask);
    const src = new Int32Array(source.buffer, source.byteOffset, words);
    const dst = new Int32Array(output.buffer, to, words);
    for (let w = 0; w < words; w++) dst[w] = src[w]! ^ m;
    i = words << 2;
  }
  for (; i < length; i++) output[offset + i] = source[i]! ^ mask[i & 3]!;
}

/** `buffer[i] ^= mask[i % 4]` (ws's `bufferUtil.unmask`). */
export function unmask(buffer: Uint8Array, m: Uint8Array): void {
  mask(buffer, m, buffer, 0, buffer.length);
}
