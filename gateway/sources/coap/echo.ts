/**
 * The Echo option of RFC 9175 §2.4 against amplification (RFC 7252 §11.3): to an unverified source,
 * a response much larger than the request is replaced by a 4.01 carrying a fresh Echo value; a
 * client that repeats the request with that value has shown it receives at its address. Values are
 * stateless (time + HMAC of time and address), fresh for 60 s; verified addresses are remembered.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const FRESH_SECS = 60;

export function createEchoGuard({
  verifiedSecs,
  maxSources = 50_000,
}: {
  verifiedSecs: number;
  maxSources?: number;
}) {
  const key = randomBytes(32);
  const verified = new Map<string, number>();
  const mac = (secs: number, ip: string) =>
    createHmac('sha256', key).update(`${secs}|${ip}`).digest().subarray(0, 8);

  return {
    /** A new Echo value for `ip`: 4 bytes of seconds, 8 bytes of HMAC (RFC 9175 §2.2.1: at most 40 bytes). */
    challenge(ip: string, now: Date): Buffer {
      const secs = Math.floor(now.getTime() / 1000);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(secs >>> 0);
      return Buffer.concat([head, mac(secs, ip)]);
    },
    /** Checks a returned Echo value; a good one verifies the address. */
    accept(ip: string, value: Uint8Array, now: Date): boolean {
      if (value.length !== 12) return false;
      const secs = Buffer.from(value).readUInt32BE(0);
      const age = Math.floor(now.getTime() / 1000) - secs;
      if (age < 0 || age > FRESH_SECS) return false;
      if (!timingSafeEqual(mac(secs, ip), Buffer.from(value.subarray(4)))) return false;
      if (verified.size >= maxSources) verified.clear();
      verified.set(ip, now.getTime() + verifiedSecs * 1000);
      return true;
    },
    isVerified(ip: string, now: Date): boolean {
      const until = verified.get(ip);
      return until !== undefined && until > now.getTime();
    },
  };
}

export type EchoGuard = ReturnType<typeof createEchoGuard>;
