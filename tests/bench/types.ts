/**
 * The shape every benchmark module returns, so `npm run bench` can print one report: each figure
 * side by side with a peer measured in the same run, or with the limit it must meet.
 */
export interface BenchFigure {
  /** What was measured, e.g. "gateway syslog TCP → queue, one core". */
  name: string;
  value: number;
  unit: string;
  /** The same thing measured on a peer in the same run (raw LevelDB, plain aedes, Mosquitto...). */
  peer?: { name: string; value: number };
  /**
   * The target from the issues, whether higher or lower is better, and the issue that sets it.
   * Figures without one are context (a peer, a ceiling) and say so in the report.
   */
  target?: { value: number; better: 'higher' | 'lower'; issue?: number };
  note?: string;
  /**
   * Draw this figure as one bar of a chart: figures with the same `id` share a chart, one bar
   * per `series` (e.g. ours, rsyslog (a), rsyslog (b)). Figures with a peer and no chart get a
   * two-bar row in the overview chart.
   */
  chart?: { id: string; title: string; series: string };
}

export interface BenchOptions {
  /** `npm run bench -- --quick`: smaller sizes, for a smoke run. */
  quick: boolean;
}

/** A benchmark module: `tests/bench/<name>.bench.ts` exporting `run`. */
export type BenchModule = { title: string; run: (options: BenchOptions) => Promise<BenchFigure[]> };
