/**
 * The file-source benchmark's peer: rsyslog's imfile (Debian rsyslog, inotify mode, its default
 * on Linux) following one log as its documentation sets it up for logrotate (`reopenOnTruncate`
 * for copytruncate), each line written as it was read (`%rawmsg%`) to a file by omfile, in a
 * foreground rsyslogd with its own config, work directory (imfile's state files) and pid file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../../support/env.ts';
import { findRsyslog, rsyslogArgs } from '../../support/rsyslog.ts';
import { stopChild, track } from './procs.ts';

export interface RsyslogImfile<K extends string = string> {
  /** rsyslogd's own pid (from its pid file). */
  pid: number;
  /** Where omfile writes the lines read, per followed log. */
  outFiles: Record<K, string>;
  stop(): Promise<void>;
}

/** Starts rsyslogd in `dir` following each of `logs` (name → path); rejects when it does not start. */
export async function startRsyslogImfile<K extends string>(
  dir: string,
  logs: Record<K, string>,
): Promise<RsyslogImfile<K>> {
  const install = findRsyslog(['imfile.so']);
  if (!install) throw new Error('rsyslogd with imfile.so not found (Debian rsyslog; npm run test:setup)');
  mkdirSync(path.join(dir, 'work'), { recursive: true });
  const names = Object.keys(logs) as K[];
  const outFiles = Object.fromEntries(names.map((name) => [name, path.join(dir, `${name}.out`)])) as Record<
    K,
    string
  >;
  const conf = path.join(dir, 'rsyslog.conf');
  const pidFile = path.join(dir, 'rsyslogd.pid');
  writeFileSync(
    conf,
    `global(workDirectory="${dir}/work" maxMessageSize="64k")
module(load="imfile" mode="inotify")
template(name="line" type="string" string="%rawmsg%\\n")
${names
  .map(
    (name) => `input(type="imfile" file="${logs[name]}" tag="${name}" ruleset="${name}" reopenOnTruncate="on")
ruleset(name="${name}") { action(type="omfile" file="${outFiles[name]}" template="line") }`,
  )
  .join('\n')}
`,
  );
  const child: ChildProcess = track(
    spawn(install.rsyslogd, rsyslogArgs(install, conf, pidFile), { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let said = '';
  const keep = (d: Buffer) => (said = (said + d.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const pid = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited with ${child.exitCode}: ${said}`);
      return existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) || undefined : undefined;
    },
    { timeoutMs: 20_000, what: `rsyslogd to start (${said})` },
  );
  return { pid, outFiles, stop: () => stopChild(child, 10_000) };
}
