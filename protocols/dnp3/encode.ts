/**
 * DNP3 encoders (IEEE 1815-2012 §8–9): a link frame with its CRCs, and an application fragment cut
 * into transport segments of at most 249 octets, each in its own frame. For tests, simulators and
 * fuzzing; the monitor itself only decodes.
 */
import { crcDnp } from './link.ts';
import type { LinkHeader } from './types.ts';

/** User octets per transport segment: 250 per frame minus the transport octet (§8.2). */
export const MAX_SEGMENT_BYTES = 249;

export function encodeLinkFrame(
  h: Omit<LinkHeader, 'length'>,
  user: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (user.length > 250) throw new RangeError('a link frame carries at most 250 user octets');
  const blocks = Math.ceil(user.length / 16);
  const out = new Uint8Array(10 + user.length + 2 * blocks);
  const ctrl =
    (h.dir ? 0x80 : 0) | (h.prm ? 0x40 : 0) | (h.fcb ? 0x20 : 0) | (h.fcv ? 0x10 : 0) | (h.function & 0x0f);
  out.set([
    0x05,
    0x64,
    user.length + 5,
    ctrl,
    h.destination & 0xff,
    h.destination >> 8,
    h.source & 0xff,
    h.source >> 8,
  ]);
  const hc = crcDnp(out, 0, 8);
  out[8] = hc & 0xff;
  out[9] = hc >> 8;
  let at = 10;
  for (let i = 0; i < user.length; i += 16) {
    const block = user.subarray(i, i + 16);
    out.set(block, at);
    const c = crcDnp(block);
    out[at + block.length] = c & 0xff;
    out[at + block.length + 1] = c >> 8;
    at += block.length + 2;
  }
  return out;
}

export interface FragmentFraming {
  source: number;
  destination: number;
  /** DIR: true from the master. */
  dir: boolean;
  /** Transport sequence of the first segment (0–63); later ones wrap modulo 64. */
  firstSeq?: number;
}

/** An application fragment as the link frames that carry it (unconfirmed user data). */
export function encodeFragment(apdu: Uint8Array, f: FragmentFraming): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let seq = f.firstSeq ?? 0;
  const n = Math.max(1, Math.ceil(apdu.length / MAX_SEGMENT_BYTES));
  for (let i = 0; i < n; i++) {
    const body = apdu.subarray(i * MAX_SEGMENT_BYTES, (i + 1) * MAX_SEGMENT_BYTES);
    const user = new Uint8Array(body.length + 1);
    user[0] = (i === n - 1 ? 0x80 : 0) | (i === 0 ? 0x40 : 0) | seq;
    user.set(body, 1);
    frames.push(
      encodeLinkFrame(
        {
          dir: f.dir,
          prm: true,
          fcb: false,
          fcv: false,
          function: 4,
          source: f.source,
          destination: f.destination,
        },
        user,
      ),
    );
    seq = (seq + 1) & 0x3f;
  }
  return frames;
}
