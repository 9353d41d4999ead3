/**
 * Bearer tokens for gateways (the link) and API clients. Only SHA-256 digests are kept; a
 * presented token is hashed and compared in constant time, so neither the config nor a timing
 * side channel reveals a token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token: 32 bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export class TokenTable<T> {
  readonly #entries: Array<{ digest: Buffer; value: T }>;

  constructor(entries: Array<{ token_sha256: string; value: T }>) {
    this.#entries = entries.map((e) => ({ digest: Buffer.from(e.token_sha256, 'hex'), value: e.value }));
  }

  /** The value of the entry whose token this is, or undefined. Checks every entry (constant time). */
  lookup(token: string | undefined): T | undefined {
    if (!token) return undefined;
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: T | undefined;
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.digest, digest)) found = entry.value;
    }
    return found;
  }
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
