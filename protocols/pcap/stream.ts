/**
 * A chunked pcapng reader for live captures: dumpcap writes a pcapng stream to a pipe, and the
 * pipe hands it over in chunks that cut blocks anywhere. `push(chunk)` returns the packets of
 * every block the chunk completed; a partial block waits for the next chunk. It reads blocks
 * with the same code as the whole-file reader (pcapng.ts: `readPcapngBlock`), so a live capture
 * and its saved file decode identically. Bounded: a block longer than MAX_PACKET_BYTES is damage,
 * not a big packet. After damage it cannot step over (a bad block length, no byte-order magic)
 * it reports one typed error and ignores the rest of the stream. Pure; never throws.
 */
import { createPcapngState, readPcapngBlock } from './pcapng.ts';
import { type CaptureItem, captureError, plainBytes } from './types.ts';

export interface PcapngStreamReader {
  /** Feeds the next chunk; returns the packets (and errors) of the blocks it completed. */
  push(chunk: Uint8Array): CaptureItem[];
  /** End of the stream: an error if it stopped inside a block. */
  end(): CaptureItem[];
  /** Bytes waiting for the rest of a block. */
  buffered(): number;
  /** Bytes consumed so far (complete blocks). */
  offset(): number;
}

const EMPTY: Uint8Array = new Uint8Array(0);

export function createPcapngStreamReader(): PcapngStreamReader {
  const state = createPcapngState();
  let buf = EMPTY;
  /** Stream offset of buf[0]. */
  let base = 0;
  let dead = false;
  return {
    push(chunk) {
      if (dead || chunk.length === 0) return [];
      if (buf.length === 0) buf = plainBytes(chunk);
      else {
        const next = new Uint8Array(buf.length + chunk.length);
        next.set(buf);
        next.set(chunk, buf.length);
        buf = next;
      }
      const out: CaptureItem[] = [];
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      let off = 0;
      while (off < buf.length) {
        const step = readPcapngBlock(buf, off, state, view);
        if (step.kind === 'need') break;
        if (step.kind === 'fatal') {
          const e = step.item.type === 'error' ? step.item.error : undefined;
          out.push(e ? captureError(e.code, e.message, base + off) : step.item);
          dead = true;
          buf = EMPTY;
          return out;
        }
        if (step.item) {
          // Report the stream offset, not the offset inside this chunk.
          if (step.item.type === 'error') step.item.error.offset = base + off;
          out.push(step.item);
        }
        off += step.len;
      }
      // Packets are views into `buf`; a new buffer is made for what follows, so they stay valid.
      buf = off === buf.length ? EMPTY : buf.slice(off);
      base += off;
      return out;
    },
    end() {
      if (dead || buf.length === 0) return [];
      const left = buf.length;
      buf = EMPTY;
      dead = true;
      return [captureError('truncated', `stream ended inside a block (${left} bytes)`, base)];
    },
    buffered: () => buf.length,
    offset: () => base,
  };
}
