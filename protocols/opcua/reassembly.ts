/**
 * Reassembly of multi-chunk OPC UA messages for one direction of a connection (OPC 10000-6
 * §6.7.2.2: intermediate `C` chunks, a final `F`, or an abort `A`), keyed by request id. Memory is
 * bounded for the direction as a whole, not per message: at most MAX_PARTIAL_MESSAGES messages
 * half built and `maxMessageBytes` held across all of them, so a peer that opens many messages and
 * never finishes them cannot grow the buffer. On a secured channel the request id is ciphertext
 * and the body unreadable: chunks are counted, never kept.
 */
import type { ParsedChunk } from './chunk.ts';
import { OPCUA_LIMITS, type OpcuaError } from './types.ts';

/** Messages half built at once per direction (a client rarely has more than a few in flight). */
export const MAX_PARTIAL_MESSAGES = 16;

export interface Reassembled {
  first: ParsedChunk;
  body: Uint8Array;
  /** Bytes of every chunk, headers included. */
  size: number;
  chunks: number;
}

export type ReassemblyResult = { done: Reassembled } | { error: OpcuaError } | null;

export interface Reassembler {
  /** A `C` or `F` chunk (an `F` with nothing pending completes at once). */
  push(p: ParsedChunk, secured: boolean): ReassemblyResult;
  /** An abort: forget what was held for its request. */
  abort(p: ParsedChunk): void;
  clear(): void;
  /** Body bytes held across the half-built messages. */
  held(): number;
}

interface Partial {
  first: ParsedChunk;
  parts: Uint8Array[];
  bytes: number;
  held: number;
}

export function createReassembler(maxMessageBytes: number): Reassembler {
  const partial = new Map<number, Partial>();
  let held = 0;
  let securedRun: { first: ParsedChunk; chunks: number; bytes: number } | null = null;

  const drop = (key: number) => {
    const part = partial.get(key);
    if (!part) return;
    held -= part.held;
    partial.delete(key);
  };
  const error = (code: OpcuaError['code'], message: string): ReassemblyResult => ({
    error: { code, message },
  });

  return {
    push(p, secured) {
      const final = p.header.chunkType === 'F';
      if (secured && p.header.type === 'MSG') {
        // Ciphertext: count the chunks of the run, keep nothing (the message stays `encrypted`).
        const run = securedRun ?? { first: { ...p, bytes: p.bytes.slice(0, 256) }, chunks: 0, bytes: 0 };
        run.chunks++;
        run.bytes += p.bytes.length;
        securedRun = final ? null : run;
        if (!final && run.chunks >= OPCUA_LIMITS.MAX_CHUNKS) {
          securedRun = null;
          return error('too_many_chunks', `secured message over ${OPCUA_LIMITS.MAX_CHUNKS} chunks`);
        }
        return final
          ? { done: { first: run.first, body: new Uint8Array(0), size: run.bytes, chunks: run.chunks } }
          : null;
      }
      const key = p.requestId ?? -1;
      const body = p.bytes.subarray(p.bodyStart);
      let part = partial.get(key);
      if (final && !part) return { done: { first: p, body, size: p.bytes.length, chunks: 1 } };
      if (!part) {
        if (partial.size >= MAX_PARTIAL_MESSAGES)
          return error('too_many_chunks', `more than ${MAX_PARTIAL_MESSAGES} messages half built`);
        part = { first: { ...p, bytes: p.bytes.slice(0, 256) }, parts: [], bytes: 0, held: 0 };
        partial.set(key, part);
      }
      if (held + body.length > maxMessageBytes) {
        drop(key);
        return error('message_too_large', `messages being reassembled over the ${maxMessageBytes}-byte cap`);
      }
      if (part.parts.length + 1 > OPCUA_LIMITS.MAX_CHUNKS) {
        drop(key);
        return error('too_many_chunks', `message over ${OPCUA_LIMITS.MAX_CHUNKS} chunks`);
      }
      part.parts.push(body.slice());
      part.bytes += p.bytes.length;
      part.held += body.length;
      held += body.length;
      if (!final) return null;
      drop(key);
      const whole = new Uint8Array(part.held);
      let at = 0;
      for (const c of part.parts) {
        whole.set(c, at);
        at += c.length;
      }
      return { done: { first: part.first, body: whole, size: part.bytes, chunks: part.parts.length } };
    },
    abort(p) {
      if (p.header.type === 'MSG') securedRun = null;
      drop(p.requestId ?? -1);
    },
    clear() {
      partial.clear();
      held = 0;
      securedRun = null;
    },
    held: () => held,
  };
}
