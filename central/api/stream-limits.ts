/**
 * Limits of the live stream, `GET /api/stream` (issue 15 item 15): how many streams may be open
 * at once, in total and per user, how many messages may wait for one client, and how long one
 * write may hang before the client is disconnected. Each open stream holds a slot, counted here
 * with its queue depth and drops so that tests and operators can see that memory stays bounded.
 */
import { z } from 'zod';
import type { AuthIdentity } from '../../server-shared/web-auth/permissions.ts';

export const streamConfigSchema = z
  .strictObject({
    max_streams: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(200)
      .describe('Live streams (GET /api/stream) open at once on this central; one more is refused with 429.'),
    max_streams_per_user: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(8)
      .describe(
        'Live streams one user (all their sessions and personal tokens) or one config token may hold open at once; one more is refused with 429.',
      ),
    max_queued_messages: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(256)
      .describe(
        'Messages waiting for one client that reads slower than they come; beyond this the oldest are dropped, counted, and reported to that client as a `dropped` event.',
      ),
    stall_timeout_secs: z
      .number()
      .positive()
      .max(3600)
      .default(30)
      .describe(
        'A client that has taken nothing for this long while a message waits for it is disconnected, freeing its slot.',
      ),
  })
  .describe('Limits of the live stream (GET /api/stream).');

export type StreamConfig = z.output<typeof streamConfigSchema>;

export const DEFAULT_STREAM_CONFIG: StreamConfig = streamConfigSchema.parse({});

/** What one open stream reports about itself. */
export interface StreamSlot {
  user: string;
  /** Messages waiting to be written to this client now. */
  queued: number;
  /** Messages dropped for this client since it connected. */
  dropped: number;
  release(): void;
}

export type Acquired = { ok: true; slot: StreamSlot } | { ok: false; error: string };

/** Who a stream counts against: the user behind a session or personal token, else the config token. */
export function streamOwner(identity: AuthIdentity | undefined): string {
  if (!identity) return '-';
  return identity.username !== null ? `user:${identity.username}` : `token:${identity.actor}`;
}

export function createStreamSlots(config: Pick<StreamConfig, 'max_streams' | 'max_streams_per_user'>) {
  const open = new Set<StreamSlot>();
  const perUser = new Map<string, number>();
  return {
    acquire(user: string): Acquired {
      if (open.size >= config.max_streams) {
        return {
          ok: false,
          error: `too many live streams: this central serves at most ${config.max_streams} at once (api.stream.max_streams)`,
        };
      }
      const mine = perUser.get(user) ?? 0;
      if (mine >= config.max_streams_per_user) {
        return {
          ok: false,
          error: `too many live streams for ${user}: at most ${config.max_streams_per_user} at once (api.stream.max_streams_per_user); close one first`,
        };
      }
      perUser.set(user, mine + 1);
      let released = false;
      const slot: StreamSlot = {
        user,
        queued: 0,
        dropped: 0,
        release() {
          if (released) return;
          released = true;
          open.delete(slot);
          const left = (perUser.get(user) ?? 1) - 1;
          if (left > 0) perUser.set(user, left);
          else perUser.delete(user);
        },
      };
      open.add(slot);
      return { ok: true, slot };
    },
    /** The open streams, for tests and diagnostics. */
    list(): ReadonlyArray<Readonly<StreamSlot>> {
      return [...open];
    },
  };
}

export type StreamSlots = ReturnType<typeof createStreamSlots>;
