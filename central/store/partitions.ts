/**
 * Daily partitions of `events`: naming (`events_pYYYYMMDD`, one per UTC day), the window kept
 * ready around "today", listing, and creation. Creating a day's partition while events_default
 * already holds rows of that day would fail (PostgreSQL checks the default partition's new
 * constraint), so those rows are moved out and back in within the same transaction.
 * Days from today on are themselves split into 24 hourly partitions (`events_pYYYYMMDD_hHH`), so
 * that the indexes too costly to keep up at ingest can be built on each hour once it has closed
 * (closed-indexes.ts); a day created after it has passed (late events, a restore) stays one table.
 */
import { lockDdl, quoteIdent, type SqlClient, type SqlExecutor } from './sql-client.ts';
import type { PartitionInfo, PartitionPolicy } from './types.ts';

export const DEFAULT_PARTITION_POLICY: PartitionPolicy = { pastDays: 7, aheadDays: 3 };
export const DEFAULT_PARTITION = 'events_default';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const NAME = /^events_p(\d{4})(\d{2})(\d{2})$/;
/** What a bound literal spliced into DDL may look like (it comes from Date#toISOString, never from input). */
const BOUND = /^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/;
/** Far enough for any sane retention; keeps a typo in config from creating thousands of tables. */
const MAX_POLICY_DAYS = 3660;

export function validatePolicy(policy: PartitionPolicy): PartitionPolicy {
  for (const key of ['pastDays', 'aheadDays'] as const) {
    const days = policy[key];
    if (!Number.isInteger(days) || days < 0 || days > MAX_POLICY_DAYS) {
      throw new RangeError(`partition policy ${key} must be an integer 0..${MAX_POLICY_DAYS}, got ${days}`);
    }
  }
  return { pastDays: policy.pastDays, aheadDays: policy.aheadDays };
}

/** Start (ms since epoch) of the UTC day holding `ms`. */
export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function partitionName(dayStart: number): string {
  return `events_p${new Date(dayStart).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** Bounds of a daily partition from its name; null for any other name. */
export function partitionBounds(name: string): { from: Date; to: Date } | null {
  const match = NAME.exec(name);
  if (!match) return null;
  const from = Date.parse(`${match[1]}-${match[2]}-${match[3]}T00:00:00.000Z`);
  if (Number.isNaN(from)) return null;
  return { from: new Date(from), to: new Date(from + DAY_MS) };
}

/** The hourly partition of a daily one holding `hourStart`: `events_pYYYYMMDD_hHH`. */
export function hourlyPartitionName(hourStart: number): string {
  return `${partitionName(utcDayStart(hourStart))}_h${new Date(hourStart).toISOString().slice(11, 13)}`;
}

/** Day starts of [today - pastDays, today + aheadDays], oldest first. */
export function windowDays(now: Date, policy: PartitionPolicy): number[] {
  const today = utcDayStart(now.getTime());
  const days: number[] = [];
  for (let d = -policy.pastDays; d <= policy.aheadDays; d++) days.push(today + d * DAY_MS);
  return days;
}

export function inWindow(dayStart: number, now: Date, policy: PartitionPolicy): boolean {
  const today = utcDayStart(now.getTime());
  return dayStart >= today - policy.pastDays * DAY_MS && dayStart <= today + policy.aheadDays * DAY_MS;
}

/** Every partition of `events`: daily ones oldest first, then the DEFAULT partition. */
export async function listPartitions(db: SqlExecutor): Promise<PartitionInfo[]> {
  const { rows } = await db.query<{ name: string; is_default: boolean }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'events'::regclass`,
  );
  const daily: PartitionInfo[] = [];
  const other: PartitionInfo[] = [];
  for (const row of rows) {
    const bounds = row.is_default ? null : partitionBounds(row.name);
    if (bounds) daily.push({ name: row.name, ...bounds });
    else other.push({ name: row.name, from: null, to: null });
  }
  daily.sort((a, b) => a.from!.getTime() - b.from!.getTime());
  return [...daily, ...other];
}

/**
 * Creates the daily partitions of `days` (day starts) that do not exist yet, moving their rows
 * out of events_default, in one transaction under the DDL lock. Returns the partitions created.
 */
export async function createDailyPartitions(
  client: SqlClient,
  days: readonly number[],
  { hourlyFrom = Infinity }: { hourlyFrom?: number } = {},
): Promise<PartitionInfo[]> {
  if (days.length === 0) return [];
  return client.transaction(async (tx) => {
    await lockDdl(tx);
    // Checked under the lock: another central node may have created them meanwhile.
    const { rows } = await tx.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass AND c.relname = ANY($1::text[])`,
      [days.map(partitionName)],
    );
    const existing = new Set(rows.map((r) => r.name));
    const created: PartitionInfo[] = [];
    let stagingReady = false;
    for (const day of [...new Set(days)].sort((a, b) => a - b)) {
      const name = partitionName(day);
      if (existing.has(name)) continue;
      const from = new Date(day).toISOString();
      const to = new Date(day + DAY_MS).toISOString();
      if (!BOUND.test(from) || !BOUND.test(to)) throw new RangeError(`no daily partition for ${from}`);
      const { rows: stray } = await tx.query<{ present: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM ${DEFAULT_PARTITION} WHERE ts >= $1::timestamptz AND ts < $2::timestamptz) AS present`,
        [from, to],
      );
      const move = stray[0]?.present === true;
      if (move) {
        if (!stagingReady) {
          await tx.query('CREATE TEMP TABLE events_moving (LIKE events) ON COMMIT DROP');
          stagingReady = true;
        }
        await tx.query(
          `WITH moved AS (DELETE FROM ${DEFAULT_PARTITION} WHERE ts >= $1::timestamptz AND ts < $2::timestamptz RETURNING *)
           INSERT INTO events_moving SELECT * FROM moved`,
          [from, to],
        );
      }
      // DDL takes no parameters; both bounds were checked against BOUND above, and hour bounds
      // are whole hours of that day.
      const hourly = day >= hourlyFrom;
      await tx.query(
        `CREATE TABLE ${quoteIdent(name)} PARTITION OF events FOR VALUES FROM ('${from}') TO ('${to}')${
          hourly ? ' PARTITION BY RANGE (ts)' : ''
        }`,
      );
      for (let hour = day; hourly && hour < day + DAY_MS; hour += HOUR_MS) {
        await tx.query(
          `CREATE TABLE ${quoteIdent(hourlyPartitionName(hour))} PARTITION OF ${quoteIdent(name)} FOR VALUES FROM ('${new Date(
            hour,
          ).toISOString()}') TO ('${new Date(hour + HOUR_MS).toISOString()}')`,
        );
      }
      if (move) {
        await tx.query('INSERT INTO events SELECT * FROM events_moving');
        await tx.query('DELETE FROM events_moving');
      }
      created.push({ name, from: new Date(day), to: new Date(day + DAY_MS) });
    }
    return created;
  });
}
