/**
 * The application of the file-source benchmark, in its own process
 * (`node --import tsx log-writer.ts '<json options>'`): appends `count` numbered lines
 * (`bench line <n> ...`, about 90 bytes) to a log, 100 lines per write(2), at `rate` lines/s
 * (0: as fast as it can). With `reopen`, it checks after each write whether its path still names
 * the file it has open and reopens it when not, as an application does on logrotate's
 * postrotate signal (`create` rotation); without, it keeps its one O_APPEND descriptor
 * (`copytruncate`). Prints `{"startMs","endMs"}` (epoch ms) once the last line is written.
 */
import { closeSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface LogWriterOptions {
  file: string;
  count: number;
  rate: number;
  reopen: boolean;
}

const CHUNK = 100;
const PAD = 'pump=on level=42 valve=open '.repeat(2);

/** The line numbered `n` (with its LF); `lineNumber` reads the number back. */
export const benchLine = (n: number): string => `bench line ${n} ${PAD}\n`;
export const lineNumber = (line: string): number => Number(/^bench line (\d+) /.exec(line)?.[1] ?? NaN);

export async function writeLog(o: LogWriterOptions): Promise<{ startMs: number; endMs: number }> {
  let fd = openSync(o.file, 'a');
  const startMs = Date.now();
  const started = performance.now();
  for (let i = 0; i < o.count;) {
    if (o.rate > 0) {
      const ahead = i / o.rate - (performance.now() - started) / 1000;
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead * 1000));
    }
    let chunk = '';
    const end = Math.min(o.count, i + CHUNK);
    for (; i < end; i++) chunk += benchLine(i);
    writeSync(fd, chunk);
    if (o.reopen) {
      let moved = false;
      try {
        const now = statSync(o.file);
        const mine = fstatSync(fd);
        moved = now.ino !== mine.ino || now.dev !== mine.dev;
      } catch {
        moved = true; // renamed away, not created yet
      }
      if (moved) {
        closeSync(fd);
        fd = openSync(o.file, 'a');
      }
    }
  }
  closeSync(fd);
  return { startMs, endMs: Date.now() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await writeLog(JSON.parse(process.argv[2] ?? '{}') as LogWriterOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
