/**
 * One ISO-on-TCP connection to an S7 controller seen from the middle (a capture): each direction's
 * bytes are cut into TPKTs, COTP DT segments are joined into S7 PDUs (X.224 §13.7, EOT bit),
 * fragmented userdata answers (data unit reference, "last data unit" clear) are joined so an SZL
 * spanning several PDUs is read whole, and each Ack/Ack_Data/userdata response is paired with
 * its request by PDU reference. The identity a controller gives in SZL 0x0011 and 0x001c is kept
 * for the inventory. Pure: no sockets, no timers; the caller says which way the bytes went
 * (towards TCP port 102 is `request`). Every rebuilt buffer is capped at MAX_REASSEMBLY_BYTES.
 */
import { decodeS7Pdu } from './pdu-decode.ts';
import { parseSzl, type S7Identity, szlIdentity, type SzlList } from './szl.ts';
import { createTpktDeframer, parseCotp, type TpktDeframer } from './tpkt.ts';
import {
  type CotpTpdu,
  MAX_REASSEMBLY_BYTES,
  type S7Direction,
  type S7Error,
  type S7Pdu,
  type S7PlusPdu,
} from './types.ts';

/** Requests kept open per connection; older ones are forgotten (a controller that never answers). */
export const MAX_OPEN_REQUESTS = 256;
/** Fragmented userdata answers being rebuilt at once per connection. */
export const MAX_OPEN_FRAGMENTS = 8;

export interface S7OpenRequest<M> {
  pdu: S7Pdu;
  meta: M;
}

export interface S7Message<M> {
  direction: S7Direction;
  cotp: CotpTpdu;
  /** The decoded PDU of a DT (absent for CR/CC/DR, a DT segment without EOT, or an error). */
  pdu?: S7Pdu | S7PlusPdu;
  /** Why the DT's payload could not be decoded (the message is then a malformed one). */
  error?: S7Error;
  /** The S7 PDU bytes, when `error` is set (for the event's preview). */
  bytes?: Uint8Array;
  request?: S7OpenRequest<M>;
  /** The SZL of a Read SZL answer, rebuilt from its fragments. */
  szl?: SzlList;
  /** What that SZL says about the controller. */
  identity?: S7Identity;
  /** Pairing problems: `unmatched_response`, `function_mismatch`, `duplicate_pdu_ref`. */
  anomalies: string[];
  meta: M;
}

export interface S7FramingError extends S7Error {
  direction: S7Direction;
  /** Bytes skipped (at most 256 kept). */
  skipped: Uint8Array;
}

export interface S7PushResult<M> {
  messages: S7Message<M>[];
  errors: S7FramingError[];
}

export interface S7commSession<M> {
  /** Feeds the next bytes of one direction; `gap` says bytes were missed before them. */
  push(direction: S7Direction, chunk: Uint8Array, meta: M, gap?: boolean): S7PushResult<M>;
  /** Requests still waiting for an answer. */
  open(): number;
  /** Everything the controller said about itself so far (SZL 0x0011, 0x001c). */
  identity(): S7Identity;
}

interface Side {
  deframer: TpktDeframer;
  /** COTP DT segments of a PDU not yet ended (EOT clear). */
  parts: Uint8Array[];
  partBytes: number;
  /** Dropping the rest of an over-long PDU, up to its last segment (EOT set). */
  skipping: boolean;
}

const concat = (parts: Uint8Array[], size: number): Uint8Array => {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

function isResponse(pdu: S7Pdu): boolean {
  return pdu.rosctr === 2 || pdu.rosctr === 3 || (pdu.rosctr === 7 && pdu.userdata?.type === 8);
}

export function createS7commSession<M = undefined>(): S7commSession<M> {
  const sides: Record<S7Direction, Side> = {
    request: { deframer: createTpktDeframer(), parts: [], partBytes: 0, skipping: false },
    response: { deframer: createTpktDeframer(), parts: [], partBytes: 0, skipping: false },
  };
  const pending = new Map<string, S7OpenRequest<M>>();
  const fragments = new Map<string, { parts: Uint8Array[]; bytes: number }>();
  const identity: S7Identity = {};

  const pair = (pdu: S7Pdu, meta: M, msg: S7Message<M>) => {
    const key = `${pdu.rosctr === 7 ? 'u' : 'j'}${pdu.pduRef}`;
    if (!isResponse(pdu)) {
      if (pdu.rosctr !== 1 && pdu.rosctr !== 7) return;
      if (pdu.rosctr === 7 && pdu.userdata?.type === 0) return; // push: no answer expected
      if (pending.has(key)) {
        msg.anomalies.push('duplicate_pdu_ref');
        pending.delete(key);
      }
      if (pending.size >= MAX_OPEN_REQUESTS) {
        const oldest = pending.keys().next();
        if (!oldest.done) pending.delete(oldest.value);
      }
      pending.set(key, { pdu, meta });
      return;
    }
    const request = pending.get(key);
    if (!request) {
      msg.anomalies.push('unmatched_response');
      return;
    }
    pending.delete(key);
    msg.request = request;
    const q = request.pdu;
    const agrees =
      pdu.rosctr === 2 ||
      (pdu.rosctr === 3 && q.function === pdu.function) ||
      (pdu.rosctr === 7 &&
        q.userdata?.group === pdu.userdata?.group &&
        q.userdata?.subfunction === pdu.userdata?.subfunction);
    if (!agrees) msg.anomalies.push('function_mismatch');
  };

  /** Joins userdata data units; returns the whole data once the last one is in. */
  const rebuild = (pdu: S7Pdu): Uint8Array | null => {
    const u = pdu.userdata!;
    if (u.type !== 8 || !u.dataUnitRef) return u.data;
    const key = `${u.group}|${u.subfunction}|${u.dataUnitRef}`;
    let f = fragments.get(key);
    if (!f) {
      if (fragments.size >= MAX_OPEN_FRAGMENTS) {
        const oldest = fragments.keys().next();
        if (!oldest.done) fragments.delete(oldest.value);
      }
      f = { parts: [], bytes: 0 };
      fragments.set(key, f);
    }
    if (f.bytes + u.data.length > MAX_REASSEMBLY_BYTES) {
      fragments.delete(key);
      pdu.anomalies.push('fragments_too_large');
      return null;
    }
    f.parts.push(u.data.slice());
    f.bytes += u.data.length;
    if (u.lastDataUnit !== true) return null;
    fragments.delete(key);
    return concat(f.parts, f.bytes);
  };

  const onPdu = (direction: S7Direction, cotp: CotpTpdu, bytes: Uint8Array, meta: M, out: S7Message<M>[]) => {
    const msg: S7Message<M> = { direction, cotp, anomalies: [], meta };
    const r = decodeS7Pdu(bytes);
    if (!r.ok) {
      msg.error = r.error;
      msg.bytes = bytes;
      out.push(msg);
      return;
    }
    msg.pdu = r.value;
    if (r.value.protocol === 's7comm') {
      const pdu = r.value;
      pair(pdu, meta, msg);
      const u = pdu.userdata;
      if (u && u.group === 4 && u.subfunction === 1 && u.type === 8 && u.returnCode === 0xff) {
        const whole = rebuild(pdu);
        const szl = whole ? parseSzl(whole) : null;
        if (szl) {
          u.szlId = szl.id;
          u.szlIndex = szl.index;
          msg.szl = szl;
          const found = szlIdentity(szl);
          if (found) {
            msg.identity = found;
            Object.assign(identity, found);
          }
        }
      }
    }
    out.push(msg);
  };

  return {
    push(direction, chunk, meta, gap = false) {
      const side = sides[direction];
      if (gap) {
        side.deframer.reset();
        side.parts = [];
        side.partBytes = 0;
        side.skipping = false;
      }
      const { tpdus, errors } = side.deframer.push(chunk);
      const messages: S7Message<M>[] = [];
      const errs: S7FramingError[] = errors.map((e) => ({ ...e, direction }));
      for (const t of tpdus) {
        const c = parseCotp(t);
        if (!c.ok) {
          errs.push({ ...c.error, direction, skipped: t.slice(0, 256) });
          continue;
        }
        const cotp = c.value;
        if (cotp.type !== 0xf) {
          messages.push({ direction, cotp, anomalies: [], meta });
          continue;
        }
        if (side.skipping) {
          side.skipping = !cotp.eot;
          continue;
        }
        if (!cotp.eot || side.parts.length > 0) {
          if (side.partBytes + cotp.payload.length > MAX_REASSEMBLY_BYTES) {
            errs.push({
              code: 'too_large',
              message: `S7 PDU over ${MAX_REASSEMBLY_BYTES} bytes in COTP segments`,
              direction,
              skipped: cotp.payload.slice(0, 256),
            });
            side.parts = [];
            side.partBytes = 0;
            side.skipping = !cotp.eot;
            continue;
          }
          // Copy: the segment is a view into a chunk the caller may reuse.
          side.parts.push(cotp.payload.slice());
          side.partBytes += cotp.payload.length;
          if (!cotp.eot) continue;
          const whole = concat(side.parts, side.partBytes);
          side.parts = [];
          side.partBytes = 0;
          onPdu(direction, cotp, whole, meta, messages);
          continue;
        }
        onPdu(direction, cotp, cotp.payload, meta, messages);
      }
      return { messages, errors: errs };
    },
    open: () => pending.size,
    identity: () => ({ ...identity }),
  };
}
