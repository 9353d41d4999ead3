/**
 * Password hashing with scrypt, a memory-hard function (SPEC.md §2): N=2^15, r=8, p=1, a 64-byte
 * key and a 16-byte salt, stored as `scrypt$N$r$p$salt_b64$hash_b64` so the parameters can be
 * raised later without invalidating stored hashes. Comparison is constant time.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Role, UserRecord } from './types.ts';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;
const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_BYTES = 64;

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  // 128·N·r bytes are needed (32 MiB at the defaults); Node's default maxmem is exactly that.
  const maxmem = 2 * 128 * (opts.N ?? N) * (opts.r ?? R) + 1024 * 1024;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { ...opts, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True when `password` matches `stored`; false for a malformed hash (never throws on it). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![n, r, p].every((v) => Number.isInteger(v) && v > 0) || n > 2 ** 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (expected.length !== KEY_BYTES) return false;
  const key = await derive(password, salt, { N: n, r, p });
  return timingSafeEqual(key, expected);
}

/** A hash of a random password, verified against when the user does not exist (same timing). */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}

/** A random password for the first admin: 20 characters of base64url (120 bits). */
export function randomPassword(): string {
  return randomBytes(15).toString('base64url');
}

/** A new, enabled user without TOTP: the one shape the API, first start and the CLI create. */
export async function newUserRecord(
  username: string,
  role: Role,
  password: string,
  now: Date,
  requireTotp = false,
): Promise<UserRecord> {
  return {
    username,
    role,
    password_hash: await hashPassword(password),
    totp_secret: null,
    totp_enabled: false,
    totp_last_step: 0,
    require_totp: requireTotp,
    disabled: false,
    created_at: now,
    updated_at: now,
  };
}
