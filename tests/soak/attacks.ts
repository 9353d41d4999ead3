/**
 * The soak's attacks: the demo's scenarios (demo/scenarios) run in turn at known times while the
 * load runs, and afterwards each run is credited with the alerts central stored for it.
 */
import { SCENARIOS } from '../../demo/scenarios/index.ts';
import type { plantTargets } from '../../demo/plant.ts';
import type { storedAlerts } from './verify.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface AttackRun {
  name: string;
  atSecs: number;
  startMs: number;
  endMs: number;
  summary: string;
  error?: string;
  /** The error of a first attempt that was retried. */
  retried?: string;
  expects: string[];
  /** Alert events central stored for each expected title in this run's window. */
  alerts: Record<string, number>;
}

export interface AttackPlan {
  t0: number;
  durationMs: number;
  gatewayRestartMs: number;
  attackEverySecs: number;
  targets: ReturnType<typeof plantTargets>;
  gatewayDown: () => boolean;
  /** Seconds since t0, for the log. */
  at: () => number;
  log: (line: string) => void;
  fmt: (secs: number) => string;
}

/**
 * Attacks in turn every attackEverySecs, never in the 20 s before the gateway kill nor while it
 * is down (an attack on a dead gateway is not an attack the soak can count). `stop()` ends the
 * loop (on a failure too: a pending attack loop would keep the process or the test file alive);
 * `done` resolves with the runs.
 */
export function startAttacks(p: AttackPlan): { stop(): void; done: Promise<AttackRun[]> } {
  const attacks: AttackRun[] = [];
  let stopAttacks = false;
  const { t0, durationMs, gatewayRestartMs, targets, log, fmt, at } = p;
  const done = (async () => {
    let n = 0;
    let next = Math.min(15_000, p.attackEverySecs * 1000);
    while (!stopAttacks) {
      await sleep(Math.max(0, t0 + next - Date.now()));
      next += p.attackEverySecs * 1000;
      if (stopAttacks || Date.now() - t0 > durationMs - 20_000) break;
      const since = Date.now() - t0;
      if (p.gatewayDown() || (since > gatewayRestartMs - 20_000 && since < gatewayRestartMs)) continue;
      const scenario = SCENARIOS[n % SCENARIOS.length]!;
      n += 1;
      const run: AttackRun = {
        name: scenario.name,
        atSecs: Math.round(at()),
        startMs: Date.now(),
        endMs: 0,
        summary: '',
        expects: scenario.expects,
        alerts: {},
      };
      // One retry, 3 s later, when the attack could not reach the plant (a connection refused or
      // timed out on a loaded machine is not an attack the gateway missed); the report says so.
      for (let attempt = 0; ; attempt += 1) {
        try {
          run.summary = await scenario.run(targets);
          run.error = undefined;
          break;
        } catch (error) {
          run.error = (error as Error).message;
          if (attempt > 0) break;
          run.retried = run.error;
          await sleep(3000);
        }
      }
      run.endMs = Date.now();
      attacks.push(run);
      log(`[${fmt(at())}] attack ${scenario.name}: ${run.error ?? run.summary}`);
    }
    return attacks;
  })();
  return {
    stop: () => void (stopAttacks = true),
    done,
  };
}

/**
 * Alerts per attack run: alert events of an expected title whose last_seen falls between the
 * run's start and the next run's start (a minute at most after the last one). Returns the alert
 * events credited to no run, by title.
 */
export function creditAlerts(
  attacks: AttackRun[],
  alertEvents: Awaited<ReturnType<typeof storedAlerts>>,
): Record<string, number> {
  attacks.sort((a, b) => a.startMs - b.startMs);
  const attributed = new Set<number>();
  attacks.forEach((run, k) => {
    const until = attacks[k + 1]?.startMs ?? run.endMs + 60_000;
    for (const title of run.expects) {
      run.alerts[title] = 0;
      alertEvents.forEach((a, idx) => {
        if (a.title === title && a.lastSeen >= run.startMs - 1000 && a.lastSeen < until) {
          run.alerts[title]! += 1;
          attributed.add(idx);
        }
      });
    }
  });
  const otherAlerts: Record<string, number> = {};
  alertEvents.forEach((a, idx) => {
    if (!attributed.has(idx)) otherAlerts[a.title] = (otherAlerts[a.title] ?? 0) + 1;
  });
  return otherAlerts;
}
