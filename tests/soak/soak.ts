/**
 * `npm run soak -- [--minutes 60] [--rate 5000] [--out DIR] [--store postgres|pglite]
 * [--sample-secs 60] [--attack-every-secs 60] [--bundle] [--keep]`: the soak of run-soak.ts with
 * its report printed and written to DIR (default .data/soak/<time>). Exits 1 when anything was
 * lost or stored twice, the gateway's sequence has a gap, or an attack raised no alert; 2 on bad
 * arguments.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../support/env.ts';
import { renderText, writeReport } from './report.ts';
import { runSoak } from './run-soak.ts';

const USAGE = `usage: npm run soak -- [options]
  --minutes N            how long the load runs (default 60)
  --rate N               events per second from the load generators (default 5000)
  --out DIR              where the report goes (default .data/soak/<start time>)
  --store KIND           postgres (127.0.0.1:5432, a soak database created and dropped) or pglite
  --sample-secs N        seconds between two RSS/CPU samples (default 60)
  --attack-every-secs N  seconds between two attacks (default 60)
  --bundle               run the gateway bundle as it ships (npm run build:gateway) instead of the sources
  --keep                 keep the database and the data directories`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '60' },
      rate: { type: 'string', default: '5000' },
      out: { type: 'string' },
      store: { type: 'string', default: 'postgres' },
      'sample-secs': { type: 'string', default: '60' },
      'attack-every-secs': { type: 'string', default: '60' },
      bundle: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const num = (name: string, v: string, min: number) => {
  const x = Number(v);
  if (!Number.isFinite(x) || x < min) {
    console.error(`--${name} must be a number >= ${min}\n${USAGE}`);
    process.exit(2);
  }
  return x;
};
if (values.store !== 'postgres' && values.store !== 'pglite') {
  console.error(`--store must be postgres or pglite\n${USAGE}`);
  process.exit(2);
}
const out =
  values.out ?? path.join(REPO_ROOT, '.data', 'soak', new Date().toISOString().replace(/[:.]/g, '-'));
const report = await runSoak({
  minutes: num('minutes', values.minutes, 1),
  rate: num('rate', values.rate, 10),
  out,
  store: values.store,
  sampleSecs: num('sample-secs', values['sample-secs'], 1),
  attackEverySecs: num('attack-every-secs', values['attack-every-secs'], 5),
  bundle: values.bundle,
  keep: values.keep,
  log: (line) => console.log(line),
});
console.log(`\n${renderText(report)}`);
const files = writeReport(report, out);
console.log(`\nreport: ${files.join('  ')}`);
process.exit(report.ok ? 0 : 1);
