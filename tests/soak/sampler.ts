/**
 * RSS and CPU of each process of the soak, read from /proc (proc(5): utime and stime, fields 14
 * and 15 of /proc/<pid>/stat, over all threads; VmRSS of /proc/<pid>/status): central, the
 * gateway, the load generator, the driver with the plant's simulators, and the PostgreSQL
 * backends serving the soak's database (found in pg_stat_activity; their RSS counts the shared
 * buffers they touched, so it overstates what they own). CPU is the share of one core since the
 * previous sample; a process that restarted in between counts from its own start.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { cpuSeconds, memoryMb } from '../bench/support/procs.ts';

export interface ProcSample {
  pid: number;
  rssMb: number;
  /** Percent of one core since the previous sample. */
  cpuPct: number;
  /** CPU seconds used so far by this process (the sum over backends for PostgreSQL). */
  cpuSecs: number;
}

export interface Sample {
  atSecs: number;
  procs: Record<string, ProcSample | undefined>;
  /** Events in the gateway's queue (undefined while it is down). */
  queued?: number;
  /** Messages the load generator sent so far. */
  sent?: number;
  /** 1 when the gateway's link to central was up at the sample. */
  linkConnected?: number;
}

export interface SamplerOptions {
  t0: number;
  pids: () => Record<string, number | undefined>;
  postgres?: { adminUrl: string; database: string };
  extra: () => Promise<{ queued?: number; sent?: number; linkConnected?: number }>;
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat). */
function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** Seconds since the process started (/proc/uptime less its start time; 100 ticks a second). */
function ageSecs(pid: number): number {
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return Math.max(0.01, uptime - startTicks(pid) / 100);
}

export function createSampler(o: SamplerOptions) {
  const samples: Sample[] = [];
  /** Last reading per "name/pid/start": CPU seconds and the wall time it was read. */
  const last = new Map<string, { cpu: number; at: number }>();
  let pgClient: pg.Client | undefined;

  const read = (name: string, pid: number, now: number) => {
    try {
      const key = `${name}/${pid}/${startTicks(pid)}`;
      const cpu = cpuSeconds(pid);
      const prev = last.get(key);
      last.set(key, { cpu, at: now });
      return {
        rssMb: memoryMb(pid, 'VmRSS'),
        cpu,
        dCpu: prev ? cpu - prev.cpu : cpu,
        // A process not seen before counts over its own life, not since the previous sample.
        dt: prev ? Math.max(0.001, (now - prev.at) / 1000) : ageSecs(pid),
      };
    } catch {
      return undefined; // gone between listing and reading
    }
  };

  async function postgresPids(): Promise<number[]> {
    if (!o.postgres) return [];
    try {
      if (!pgClient) {
        pgClient = new pg.Client({ connectionString: o.postgres.adminUrl });
        await pgClient.connect();
      }
      const { rows } = await pgClient.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = $1',
        [o.postgres.database],
      );
      return rows.map((r) => r.pid);
    } catch {
      pgClient = undefined;
      return [];
    }
  }

  let previousAt = o.t0;
  return {
    samples,
    async sample(): Promise<Sample> {
      const now = Date.now();
      const dt = Math.max(0.001, (now - previousAt) / 1000);
      previousAt = now;
      const procs: Sample['procs'] = {};
      for (const [name, pid] of Object.entries(o.pids())) {
        if (pid === undefined) {
          procs[name] = undefined;
          continue;
        }
        const r = read(name, pid, now);
        procs[name] = r && {
          pid,
          rssMb: round(r.rssMb),
          cpuPct: round((100 * r.dCpu) / r.dt),
          cpuSecs: round(r.cpu),
        };
      }
      const backends = await postgresPids();
      if (o.postgres) {
        let rss = 0;
        let dCpu = 0;
        let cpu = 0;
        for (const pid of backends) {
          const r = read('postgres', pid, now);
          if (!r) continue;
          rss += r.rssMb;
          // Per backend over its own interval, as a rate; the sum is the share of one core.
          dCpu += (r.dCpu / r.dt) * dt;
          cpu += r.cpu;
        }
        procs.postgres = { pid: 0, rssMb: round(rss), cpuPct: round((100 * dCpu) / dt), cpuSecs: round(cpu) };
      }
      const extra = await o.extra().catch(() => ({}));
      const s: Sample = { atSecs: Math.round((now - o.t0) / 1000), procs, ...extra };
      samples.push(s);
      return s;
    },
    async close() {
      await pgClient?.end().catch(() => undefined);
    },
  };
}

const round = (x: number) => Math.round(x * 10) / 10;
