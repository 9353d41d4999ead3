/**
 * The queue's depth counters (SPEC §4): records, events and bytes per lane, and the events
 * evicted per lane since the queue was created. They are kept in the database under one key and
 * written in the same atomic batch as the records they count, so a reopen reads them instead of
 * counting the backlog; a database without them (format 1, or the key lost) is counted once.
 */
import type { ClassicLevel } from 'classic-level';
import type { EvictionReport } from './evictions.ts';
import { decodeRecord, RECORD_PREFIX } from './records.ts';
import { LANES, type Lane, type LaneCounts, type QueueDepth } from './types.ts';

/**
 * The metadata keys sort after every record (`q!`) and state (`s!`) key (SPEC §1, format 3).
 * Every append writes them, and a table LevelDB flushes from memory spans its first key to its
 * last: format 2's `m!` keys made each new table span from before the oldest record to the
 * newest, so while a backlog grew each compaction rewrote all of level 1 again. After the
 * records, a new table overlaps only the newest ones (docs/performance.md, "The queue on LevelDB").
 */
export const SEQ_KEY = 'z!next_seq';
export const STATS_KEY = 'z!stats';
/** Format 2's names of the same keys, renamed when such a database is opened. */
const FORMAT_2_KEYS = ['m!next_seq', 'm!stats'] as const;

type Evicted = { security: number; telemetry: number };
/** What a failed write rolls the counters back to. */
export type SavedCounters = { lanes: Record<Lane, LaneCounts>; evicted: Evicted };

const emptyCounts = (): LaneCounts => ({ records: 0, events: 0, bytes: 0 });
const emptyDepth = (): QueueDepth => ({
  records: 0,
  events: 0,
  bytes: 0,
  byLane: { alert: 0, security: 0, telemetry: 0 },
  bytesByLane: { alert: 0, security: 0, telemetry: 0 },
  evicted: { security: 0, telemetry: 0 },
});

export class QueueCounters {
  #lanes: Record<Lane, LaneCounts> = {
    alert: emptyCounts(),
    security: emptyCounts(),
    telemetry: emptyCounts(),
  };
  #evicted: Evicted = { security: 0, telemetry: 0 };

  /** Per lane, for the disk cap's plan (evictions.ts); not to be changed by the caller. */
  get lanes(): Record<Lane, LaneCounts> {
    return this.#lanes;
  }

  get depth(): QueueDepth {
    const depth = emptyDepth();
    for (const lane of LANES) {
      const c = this.#lanes[lane];
      depth.records += c.records;
      depth.events += c.events;
      depth.bytes += c.bytes;
      depth.byLane[lane] = c.events;
      depth.bytesByLane[lane] = c.bytes;
    }
    depth.evicted = { ...this.#evicted };
    return depth;
  }

  add(lane: Lane, events: number, bytes: number, sign: 1 | -1, records = 1): void {
    const c = this.#lanes[lane];
    c.records += sign * records;
    c.events += sign * events;
    c.bytes += sign * bytes;
  }

  /** Records the disk cap deleted: out of the lane, into its evicted count. */
  evict(e: EvictionReport): void {
    this.add(e.lane, e.events, e.bytes, -1, e.records);
    this.#evicted[e.lane] += e.events;
  }

  save(): SavedCounters {
    return structuredClone({ lanes: this.#lanes, evicted: this.#evicted });
  }

  restore(saved: SavedCounters): void {
    this.#lanes = saved.lanes;
    this.#evicted = saved.evicted;
  }

  /** The put that stores the counters, for the batch that changes them. */
  statsOp(): { type: 'put'; key: string; value: string } {
    return {
      type: 'put',
      key: STATS_KEY,
      value: JSON.stringify({ lanes: this.#lanes, evicted: this.#evicted }),
    };
  }

  /**
   * Loads the counters and the next sequence from the database. Without stored counters, every
   * record is read once (streaming); the unreadable ones are returned as `corrupt` (SPEC §6).
   */
  async load(db: ClassicLevel<string, string>): Promise<{ nextSeq: number; corrupt: number }> {
    const [seq, stats] = await metadata(db);
    let nextSeq = seq === undefined ? 1 : Number(seq);
    if (stats !== undefined) {
      const parsed = JSON.parse(stats) as SavedCounters;
      this.restore(parsed);
      return { nextSeq, corrupt: 0 };
    }
    // Format-1 databases without stats (or a lost stats key): count once, streaming.
    let corrupt = 0;
    for await (const [key, value] of db.iterator<string, Buffer>({
      gte: RECORD_PREFIX,
      lt: 'q~',
      valueEncoding: 'buffer',
    })) {
      const record = decodeRecord(key, value);
      if (!record) {
        corrupt += 1;
        continue;
      }
      this.add(record.lane, record.count, record.bytes, +1);
      const last = record.firstSeq + record.count - 1;
      if (last >= nextSeq) nextSeq = last + 1;
    }
    return { nextSeq, corrupt };
  }
}

/**
 * The next sequence and the counters as stored, a format-2 database's renamed first (one atomic
 * batch). Both names are there only when a format-2 gateway ran on a database this one had
 * renamed (a downgrade, then this version again): its counters are the newer, and the larger
 * sequence of the two is kept, so that none is given twice (SPEC §4).
 */
async function metadata(db: ClassicLevel<string, string>): Promise<(string | undefined)[]> {
  const [seq, stats, oldSeq, oldStats] = await db.getMany([SEQ_KEY, STATS_KEY, ...FORMAT_2_KEYS]);
  if (oldSeq === undefined && oldStats === undefined) return [seq, stats];
  const larger = seq !== undefined && oldSeq !== undefined && Number(seq) > Number(oldSeq) ? seq : undefined;
  const found = [larger ?? oldSeq ?? seq, oldStats ?? stats];
  await db.batch(
    [
      ...[SEQ_KEY, STATS_KEY].flatMap((key, i) =>
        found[i] === undefined ? [] : [{ type: 'put' as const, key, value: found[i]! }],
      ),
      ...FORMAT_2_KEYS.map((key) => ({ type: 'del' as const, key })),
    ],
    { sync: true },
  );
  return found;
}
