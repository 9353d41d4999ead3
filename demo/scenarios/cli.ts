/**
 * `npm run attack -- <scenario>|all|list [--targets FILE]`: runs attack scenarios against the
 * plant of a running `npm start` (whose addresses the demo writes to `.data/demo/plant.json`;
 * DEMO_DATA_DIR or --targets point elsewhere). Prints what was sent and which alerts to expect.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { findScenario, SCENARIOS } from './index.ts';
import { readTargets } from './types.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { targets: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});

const usage = `usage: npm run attack -- <scenario>|all|list [--targets FILE]

scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(24)}${s.description}`).join('\n')}`;

const name = positionals[0];
if (values.help || !name || name === 'list') {
  console.log(usage);
  process.exit(name || values.help ? 0 : 2);
}
const chosen = name === 'all' ? [...SCENARIOS] : [findScenario(name)];
if (chosen.some((s) => !s)) {
  console.error(`unknown scenario "${name}"\n\n${usage}`);
  process.exit(2);
}
const file =
  values.targets ?? path.join(process.env.DEMO_DATA_DIR ?? path.join(root, '.data', 'demo'), 'plant.json');
if (!existsSync(file)) {
  console.error(`${file} not found: start the demo first (npm start), or pass --targets FILE`);
  process.exit(1);
}
const targets = readTargets(file);
for (const scenario of chosen) {
  try {
    const summary = await scenario!.run(targets, { log: (line) => console.log(`  ${line}`) });
    console.log(`${scenario!.name}: ${summary}`);
    console.log(`  expect: ${scenario!.expects.join('; ')}`);
  } catch (error) {
    console.error(`${scenario!.name} failed: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
