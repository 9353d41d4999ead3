/**
 * Runs Debian's `dumpcap` (wireshark-common) as a child process writing pcapng to its stdout
 * (`dumpcap -i IFACE -f FILTER -s SNAPLEN -B MiB -w - -n -q`; dumpcap 4.0 has no `-F`, `-n`
 * selects pcapng) and hands the stream over chunk by chunk. dumpcap is the privileged part (it
 * holds CAP_NET_RAW, or the gateway runs as a member of the `wireshark` group); the gateway
 * needs no native capture binding. Stopping sends SIGTERM, which dumpcap handles by closing the
 * capture cleanly, and SIGKILL if it has not exited within two seconds.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface DumpcapOptions {
  path: string;
  iface: string;
  filter: string;
  snapLength: number;
  bufferMib: number;
}

export interface DumpcapHandlers {
  data(chunk: Buffer): void;
  /** dumpcap ended (by itself or because it was stopped); `stderr` holds its last words. */
  exit(code: number | null, signal: NodeJS.Signals | null, stderr: string): void;
}

export interface Dumpcap {
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const STDERR_KEEP = 4096;
const KILL_AFTER_MS = 2000;

export function dumpcapArgs(o: DumpcapOptions): string[] {
  const args = ['-i', o.iface];
  if (o.filter) args.push('-f', o.filter);
  args.push('-s', String(o.snapLength), '-B', String(o.bufferMib), '-w', '-', '-n', '-q');
  return args;
}

export function startDumpcap(options: DumpcapOptions, handlers: DumpcapHandlers): Dumpcap {
  let stderr = '';
  let exited = false;
  const child: ChildProcess = spawn(options.path, dumpcapArgs(options), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      exited = true;
      handlers.exit(code, signal, stderr.trim());
      resolve();
    });
  });
  // A binary that cannot be started reports through 'error' (ENOENT, EACCES) and then 'close'.
  child.once('error', (error) => {
    stderr += `${error.message}\n`;
  });
  child.stdout!.on('data', (chunk: Buffer) => handlers.data(chunk));
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-STDERR_KEEP);
  });
  return {
    pid: child.pid,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      await done;
      clearTimeout(timer);
    },
  };
}
