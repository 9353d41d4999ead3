/**
 * The commit side of the RELP source, per sender address: frames are written to the queue in the
 * order they arrived, several sessions' pending frames in one append, and each session learns
 * when its frames are durable (then, and only then, it acknowledges them).
 *
 * Retransmissions. RELP acknowledges each transaction; a sender (librelp) resends every frame it
 * holds unacknowledged when it reopens a session. When the gateway dies between the durable write
 * and the ack reaching the sender, those frames come again, in the first frames of the next
 * session. So the ledger keeps, per address, the digests of the last `dedupe_window` frames it
 * committed, and stores them in the queue in the same atomic batch as the events (queue SPEC §10):
 * after any crash the stored digests are exactly those of the committed frames. The first
 * `dedupe_window` frames of a new session are compared with the digests as they were when the
 * session's first frames came to be committed; a match is acknowledged and dropped (counted,
 * reason `relp_retransmission`), each stored digest matching at most once per session. A fresh
 * frame identical byte for byte to one of the last committed ones, within the first frames of a
 * session, is taken for a retransmission: syslog lines carry their time, which makes that rare.
 */
import { hash } from 'node:crypto';
import type { PendingEvent } from '../../../protocols/event/schema.ts';
import type { RelpFrame } from '../../../protocols/relp/index.ts';
import type { SourceContext } from '../../pipeline/types.ts';

/** Characters of base64url SHA-1 kept per frame (72 bits). */
const DIGEST_CHARS = 12;

export const digestOf = (data: Uint8Array): string => hash('sha1', data, 'base64url').slice(0, DIGEST_CHARS);

/** What a session tells the ledger about itself. */
export interface LedgerSession {
  /** Frames of this session compared so far (only the first `window` are). */
  checked: number;
  /** The address's digests when the session's first frames were committed (a multiset). */
  snapshot?: Map<string, number>;
}

interface Pending {
  session: LedgerSession;
  frames: RelpFrame[];
  decode: (frames: RelpFrame[]) => PendingEvent[];
  resolve: (duplicates: number) => void;
  reject: (error: Error) => void;
}

export interface PeerLedger {
  /** Resolves (with the retransmissions dropped) once the frames are durable. */
  commit(
    session: LedgerSession,
    frames: RelpFrame[],
    decode: (frames: RelpFrame[]) => PendingEvent[],
  ): Promise<number>;
}

export interface LedgerOptions {
  name: string;
  window: number;
  ctx: SourceContext;
  /**
   * Addresses whose digests are kept (default 256): beyond it the address committed to least
   * recently, and idle, is forgotten, in memory and in the stored state. An attacker who
   * connects from ever new addresses cannot grow either.
   */
  maxPeers?: number;
}

/** The state key of an address's digests. */
export const stateKey = (name: string, ip: string) => `relp/${name}/${ip}`;

export function createLedgers({ name, window, ctx, maxPeers = 256 }: LedgerOptions) {
  /** Each address's digests, the address committed to least recently first. */
  const rings = new Map<string, string[]>();
  const ledgers = new Map<string, PeerLedger & { idle(): boolean }>();
  /** State keys of forgotten addresses, deleted with the next write. */
  const forgotten = new Set<string>();

  /** Keeps `rings` and `ledgers` within `maxPeers`, forgetting idle addresses, oldest first. */
  const bound = () => {
    for (const [ip] of rings) {
      if (rings.size <= maxPeers) break;
      if (ledgers.get(ip)?.idle() === false) continue;
      rings.delete(ip);
      ledgers.delete(ip);
      forgotten.add(stateKey(name, ip));
    }
    for (const [ip, l] of ledgers) {
      if (ledgers.size <= maxPeers) break;
      if (l.idle() && !rings.has(ip)) ledgers.delete(ip);
    }
  };

  const ledger = (ip: string): PeerLedger & { idle(): boolean } => {
    let queue: Pending[] = [];
    let running = false;
    const key = stateKey(name, ip);

    const pump = async () => {
      running = true;
      while (queue.length > 0) {
        const items = queue;
        queue = [];
        const ring = rings.get(ip) ?? [];
        const added: string[] = [];
        const events: PendingEvent[] = [];
        const dups: number[] = [];
        for (const item of items) {
          const s = item.session;
          if (window > 0 && !s.snapshot) {
            s.snapshot = new Map();
            for (const d of ring) s.snapshot.set(d, (s.snapshot.get(d) ?? 0) + 1);
          }
          let n = 0;
          const fresh: RelpFrame[] = [];
          for (const f of item.frames) {
            const d = window > 0 ? digestOf(f.data) : '';
            if (window > 0 && s.checked < window) {
              s.checked++;
              const left = s.snapshot!.get(d) ?? 0;
              if (left > 0) {
                s.snapshot!.set(d, left - 1);
                n++;
                added.push(d); // committed again: its ack may be lost again
                continue;
              }
            }
            if (window > 0) added.push(d);
            fresh.push(f);
          }
          dups.push(n);
          if (fresh.length > 0) events.push(...item.decode(fresh));
        }
        const next = window > 0 ? [...ring, ...added].slice(-window) : ring;
        try {
          let state: Record<string, string | null> | undefined;
          if (window > 0) {
            state = {};
            for (const k of forgotten) state[k] = null;
            state[key] = next.join('');
          }
          if (events.length > 0 || state) await ctx.emit(events, state ? { state } : undefined);
          if (state) for (const k of Object.keys(state)) if (state[k] === null) forgotten.delete(k);
          rings.delete(ip); // to the most recent end
          rings.set(ip, next);
          bound();
          const total = dups.reduce((a, b) => a + b, 0);
          if (total > 0) ctx.metrics.dropped.inc({ source: name, reason: 'relp_retransmission' }, total);
          items.forEach((item, i) => item.resolve(dups[i]!));
        } catch (error) {
          for (const item of items) item.reject(error as Error);
        }
      }
      running = false;
    };

    return {
      idle: () => !running && queue.length === 0,
      commit(session, frames, decode) {
        return new Promise<number>((resolve, reject) => {
          queue.push({ session, frames, decode, resolve, reject });
          if (!running) void pump();
        });
      },
    };
  };

  return {
    /** Loads the digests stored by earlier runs. */
    async load(): Promise<void> {
      if (window === 0 || !ctx.readState) return;
      const prefix = `relp/${name}/`;
      const stored = await ctx.readState(prefix);
      for (const [k, v] of stored) {
        const ring: string[] = [];
        for (let i = 0; i + DIGEST_CHARS <= v.length; i += DIGEST_CHARS)
          ring.push(v.slice(i, i + DIGEST_CHARS));
        rings.set(k.slice(prefix.length), ring.slice(-window));
      }
      bound();
    },
    for(ip: string): PeerLedger {
      let l = ledgers.get(ip);
      if (!l) {
        l = ledger(ip);
        ledgers.set(ip, l);
        bound();
      }
      return l;
    },
    /** Addresses with stored digests (for tests and status). */
    get addresses(): number {
      return rings.size;
    },
  };
}

export type Ledgers = ReturnType<typeof createLedgers>;
