/**
 * Password hashes for MQTT users: the config holds only `scrypt$N$r$p$salt$hash` (base64 salt
 * and hash, node:crypto scrypt, RFC 7914), never a password. Verification runs scrypt off the
 * event loop and compares in constant time; an unknown user costs the same as a wrong password,
 * so timing does not reveal which user names exist.
 *
 *   printf %s 'the password' | npx tsx gateway/sources/mqtt-broker/hash-password.ts
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export const PASSWORD_HASH_PATTERN =
  /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export const DEFAULT_SCRYPT = { N: 16_384, r: 8, p: 1 } as const;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

function derive(
  password: string | Uint8Array,
  salt: Uint8Array,
  length: number,
  s: ScryptParams,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password,
      salt,
      length,
      { N: s.N, r: s.r, p: s.p, maxmem: 256 * s.N * s.r + 1024 * 1024 },
      (e, key) => (e ? reject(e) : resolve(key)),
    ),
  );
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, 32, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Parameters an attacker-controlled config cannot use to exhaust memory or CPU. */
export function checkHash(encoded: string): string | null {
  const m = PASSWORD_HASH_PATTERN.exec(encoded);
  if (!m) return 'expected scrypt$N$r$p$salt$hash (see hash-password.ts)';
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 1024 || N > 1_048_576 || (N & (N - 1)) !== 0)
    return 'scrypt N must be a power of two from 1024 to 1048576';
  if (r < 1 || r > 32 || p < 1 || p > 16) return 'scrypt r must be 1–32 and p 1–16';
  return null;
}

export async function verifyPassword(password: Uint8Array | string, encoded: string): Promise<boolean> {
  const m = PASSWORD_HASH_PATTERN.exec(encoded);
  if (!m) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const key = await derive(password, Buffer.from(m[4]!, 'base64'), expected.length, {
    N: Number(m[1]),
    r: Number(m[2]),
    p: Number(m[3]),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
