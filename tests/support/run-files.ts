/**
 * Runs test files with Node's test runner in the order given, `concurrency` at a time: Node 20's
 * `node --test` sorts the files it is given, and tests/run.ts starts the longest first. Prints the
 * spec report, writes the TAP report to `tapFile` (tap-summary.ts reads it) and exits 1 when a test
 * failed. A file that has not ended after 10 minutes fails (a socket or timer left open must not
 * hold CI until its own limit). Run as `node --import tsx tests/support/run-files.ts <tapFile>
 * <concurrency> <file>...`: the test files' processes inherit `--import tsx`.
 */
import { createWriteStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';

const [tapFile, concurrency, ...files] = process.argv.slice(2);
if (!tapFile || !concurrency || files.length === 0) {
  console.error('usage: run-files.ts <tapFile> <concurrency> <file>...');
  process.exit(2);
}
let failed = 0;
const stream = run({ files, concurrency: Number(concurrency), timeout: 600_000 });
stream.on('test:fail', () => (failed += 1));
// One stream of test events, two reports: each reporter reads its own copy.
const toSpec = new PassThrough({ objectMode: true });
const toTap = new PassThrough({ objectMode: true });
stream.pipe(toSpec);
stream.pipe(toTap);
/** The spec report to stdout, which is not ended: it may be a socket shared with whoever ran us. */
async function printSpec(): Promise<void> {
  for await (const chunk of toSpec.pipe(new spec())) process.stdout.write(chunk as string);
}
await Promise.all([
  printSpec(),
  pipeline(
    toTap,
    tap as unknown as (source: AsyncIterable<unknown>) => AsyncIterable<string>,
    createWriteStream(tapFile),
  ),
]);
process.exitCode = failed > 0 ? 1 : 0;
