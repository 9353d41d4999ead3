/**
 * Security events about peers that have not authenticated (refused enrollments, failed link
 * logins), aggregated per source address and interval so that an unauthenticated flood cannot
 * write rows without bound. Within one interval the first refusal of an (action, address, reason)
 * is stored at once as an ordinary event; the following ones are only counted, and when the
 * interval ends they are stored as one summary event of the same action and reason whose
 * `fields.count` says how many it stands for (every event carries `fields.count`, so the counts
 * of the rows add up to the refusals). Reasons are a short fixed list, so rows stay bounded. At
 * most `maxAddresses` keys are tracked per interval: refusals from further addresses go into one
 * overflow summary per action and reason (without `src`). Nothing is lost:
 * every refusal is in one row's count, and in the metrics.
 */
import type { Logger } from 'pino';
import type { CentralEventInput, CentralEvents } from '../events.ts';
import type { CentralMetrics } from '../metrics.ts';

export interface RefusalInput extends CentralEventInput {
  fields: Record<string, unknown> & { reason: string };
}

export interface RefusalOptions {
  centralEvents: Pick<CentralEvents, 'raise'>;
  metrics: CentralMetrics;
  logger: Logger;
  /** Length of one aggregation interval. */
  intervalMs: number;
  /** (action, address, reason) keys tracked per interval; beyond it refusals share an overflow summary. */
  maxAddresses: number;
}

/** Kept for a summary: at most this many distinct claimed gateway ids per bucket. */
const MAX_CLAIMED = 16;

interface Bucket {
  action: string;
  reason: string;
  ip: string | undefined;
  /** Refusals counted and not stored yet. */
  count: number;
  claimed: Set<string>;
  /** Overflow buckets: how many refusals came from untracked addresses (not their number). */
  overflow: boolean;
  template: CentralEventInput;
}

export function createRefusals(options: RefusalOptions) {
  const { centralEvents, metrics, logger } = options;
  /** Keyed by action, reason and address (NUL-separated); overflow buckets have an empty address. */
  let buckets = new Map<string, Bucket>();
  let tracked = 0;
  let pending: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => void flush(), options.intervalMs);
  timer.unref();

  function count(bucket: Bucket, input: RefusalInput): void {
    bucket.count += 1;
    const claimed = input.fields.claimed_gateway;
    if (typeof claimed === 'string' && bucket.claimed.size < MAX_CLAIMED) bucket.claimed.add(claimed);
    metrics.refusalsSummarised.inc({ action: input.action });
  }

  /** Stores the summaries of the interval that ends now and starts a new one. */
  async function flush(): Promise<void> {
    const ended = buckets;
    buckets = new Map();
    tracked = 0;
    const writes: Promise<unknown>[] = [];
    for (const b of ended.values()) {
      if (b.count === 0) continue;
      const from = b.overflow ? 'addresses beyond the tracked limit' : (b.ip ?? 'an unknown address');
      writes.push(
        centralEvents.raise({
          ...b.template,
          message: `${b.count} more refusals (${b.action}, ${b.reason.replaceAll('_', ' ')}) from ${from} in the last ${Math.round(options.intervalMs / 1000)} s`,
          fields: {
            reason: b.reason,
            summary: true,
            count: b.count,
            claimed_gateways: [...b.claimed],
            interval_secs: options.intervalMs / 1000,
          },
          ...(b.ip ? { src: { ip: b.ip } } : {}),
        }),
      );
    }
    pending = Promise.all([pending, ...writes]);
    await pending;
  }

  return {
    /**
     * Records one refusal from `ip`. The first per address and interval is stored before this
     * resolves (callers that await it see the row); the rest wait for the interval's summary.
     */
    async refuse(ip: string | undefined, input: RefusalInput): Promise<void> {
      const key = `${input.action}\0${input.fields.reason}\0${ip ?? ''}`;
      const bucket = buckets.get(key);
      if (bucket) return count(bucket, input);
      if (tracked >= options.maxAddresses) {
        const overflowKey = `${input.action}\0${input.fields.reason}\0\0`;
        let overflow = buckets.get(overflowKey);
        if (!overflow) {
          overflow = newBucket(input, undefined, true);
          buckets.set(overflowKey, overflow);
          logger.warn({ action: input.action }, 'refusals from too many addresses; summarising the rest');
        }
        return count(overflow, input);
      }
      tracked += 1;
      buckets.set(key, newBucket(input, ip, false));
      await centralEvents.raise({
        ...input,
        fields: { ...input.fields, count: 1 },
        ...(ip ? { src: { ip } } : {}),
      });
    },
    /** Stores what is counted now (the interval ends early); used by tests and at stop. */
    flush,
    /** Stops the interval timer and stores the last summaries. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}

function newBucket(input: RefusalInput, ip: string | undefined, overflow: boolean): Bucket {
  const { kind, action, severity, tags } = input;
  return {
    action,
    reason: input.fields.reason,
    ip,
    count: 0,
    claimed: new Set(),
    overflow,
    template: { kind, action, severity, message: '', ...(tags ? { tags } : {}) },
  };
}

export type Refusals = ReturnType<typeof createRefusals>;
