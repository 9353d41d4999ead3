/**
 * The encoding modifiers of the Sigma modifiers appendix ("Encoding"): `utf16le`/`wide`, `utf16be`,
 * `utf16` (with a byte order mark), `base64` and `base64offset`. They run once, when a rule is
 * compiled, and turn a rule value into the literal strings to look for; nothing here runs per event.
 */

export type Utf16Mode = 'le' | 'be' | 'bom';

/** The value's bytes: UTF-8 by default, or UTF-16 as the modifier says (`cmd` → `63 00 6d 00 64 00`). */
export function encodeBytes(value: string, utf16?: Utf16Mode): Buffer {
  if (!utf16) return Buffer.from(value, 'utf8');
  const le = Buffer.from(value, 'utf16le');
  if (utf16 === 'le') return le;
  if (utf16 === 'bom') return Buffer.concat([Buffer.from([0xff, 0xfe]), le]);
  const be = Buffer.from(le);
  be.swap16();
  return be;
}

/** Modifiers appendix, `base64`: the value encoded with standard Base64, padding kept. */
export function base64Of(bytes: Buffer): string {
  return bytes.toString('base64');
}

/**
 * Modifiers appendix, `base64offset`: the value may sit at any byte offset inside a longer encoded
 * string, which changes its encoding. For shifts of 0, 1 and 2 bytes the value is encoded behind
 * that many filler bytes and the characters that depend on the filler or on what follows are cut,
 * leaving the three stable middles (the same construction as pySigma's reference implementation).
 */
export function base64OffsetVariants(bytes: Buffer): string[] {
  const START = [0, 2, 3];
  const END = [undefined, -3, -2];
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift, 0x20), bytes]).toString('base64');
    const variant = encoded.slice(START[shift], END[(bytes.length + shift) % 3]);
    if (variant && !out.includes(variant)) out.push(variant);
  }
  return out;
}

/**
 * A UTF-16 value without a following base64 modifier is matched as the raw code units, one
 * character per byte (latin1): it only makes sense on fields that carry decoded binary text.
 */
export function bytesAsText(bytes: Buffer): string {
  return bytes.toString('latin1');
}
