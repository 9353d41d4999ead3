/**
 * The disk cap (queue SPEC §7): makes room for `newBytes` by deleting the oldest telemetry
 * records, then the oldest security records, as `del` ops added to the append's own atomic batch.
 * Alerts are never evicted; if they alone leave no room, the append is refused with
 * QueueFullError. Every eviction is reported per lane, so loss is counted and never silent.
 */
import type { ClassicLevel } from 'classic-level';
import { decodeRecord, lanePrefix } from './records.ts';
import { LANES, type Lane, type LaneCounts } from './types.ts';

/** Thrown to appenders when the cap is reached and only alerts are left to keep (SPEC §7). */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

export interface EvictionReport {
  lane: Exclude<Lane, 'alert'>;
  records: number;
  events: number;
  bytes: number;
}

export async function planEvictions(
  db: ClassicLevel<string, string>,
  lanes: Record<Lane, LaneCounts>,
  capBytes: number,
  newBytes: number,
  ops: Array<{ type: 'del'; key: string } | { type: 'put' }>,
): Promise<EvictionReport[]> {
  const total = LANES.reduce((sum, lane) => sum + lanes[lane].bytes, 0);
  let excess = capBytes > 0 ? total + newBytes - capBytes : 0;
  if (excess <= 0) return [];
  if (lanes.alert.bytes + newBytes > capBytes) {
    throw new QueueFullError(
      `queue is full (${capBytes} bytes) and only alerts are left to keep; refusing ${newBytes} new bytes`,
    );
  }
  const reports: EvictionReport[] = [];
  for (const lane of ['telemetry', 'security'] as const) {
    const report: EvictionReport = { lane, records: 0, events: 0, bytes: 0 };
    const prefix = lanePrefix(lane);
    // Record values are read as bytes: no large strings on the heap (records.ts).
    for await (const [key, value] of db.iterator<string, Buffer>({
      gte: prefix,
      lt: `${prefix}~`,
      valueEncoding: 'buffer',
    })) {
      if (excess <= 0) break;
      const record = decodeRecord(key, value);
      ops.push({ type: 'del', key });
      report.records += 1;
      report.events += record?.count ?? 0;
      report.bytes += value.length;
      excess -= value.length;
    }
    if (report.records > 0) reports.push(report);
    if (excess <= 0) break;
  }
  return reports;
}
