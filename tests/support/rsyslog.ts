/**
 * Where rsyslogd is: Debian's /usr/sbin/rsyslogd, or, when a conflicting system log daemon
 * (syslog-ng, which other tests drive) is installed, the copy tests/setup/install-peers.sh unpacks
 * into /opt/edge-siem-peers/rsyslog. Either way rsyslogd is started with `-M` naming the module directory
 * next to it, so omrelp, imrelp and the gtls driver load from the same install.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

const LIB_DIRS = ['lib/x86_64-linux-gnu', 'lib/aarch64-linux-gnu', 'lib/arm-linux-gnueabihf', 'lib'];

export interface RsyslogInstall {
  rsyslogd: string;
  moduleDir: string;
}

/** The first install found with rsyslogd and every module in `modules` (e.g. omrelp.so). */
export function findRsyslog(modules: readonly string[] = []): RsyslogInstall | undefined {
  for (const root of ['/usr', '/opt/edge-siem-peers/rsyslog/usr']) {
    const rsyslogd = path.join(root, 'sbin', 'rsyslogd');
    if (!existsSync(rsyslogd)) continue;
    const moduleDir = LIB_DIRS.map((d) => path.join(root, d, 'rsyslog')).find((d) =>
      existsSync(path.join(d, 'lmnet.so')),
    );
    if (moduleDir && modules.every((m) => existsSync(path.join(moduleDir, m))))
      return { rsyslogd, moduleDir };
  }
  return undefined;
}

/** rsyslogd's arguments for a foreground run with its own config and pid file. */
export function rsyslogArgs(install: RsyslogInstall, conf: string, pidFile: string): string[] {
  return ['-n', '-M', install.moduleDir, '-f', conf, '-i', pidFile];
}
