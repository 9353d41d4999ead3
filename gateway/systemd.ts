/**
 * systemd integration without a native module: readiness, watchdog pings and stopping are sent
 * with the `systemd-notify` command (the unit sets NotifyAccess=all, since it is our child that
 * speaks). Does nothing when not run by systemd (no NOTIFY_SOCKET).
 */
import { execFile } from 'node:child_process';

export function createSystemdNotifier(env: NodeJS.ProcessEnv = process.env) {
  const enabled = Boolean(env.NOTIFY_SOCKET);
  const send = (...args: string[]) => {
    if (enabled) execFile('systemd-notify', args, () => undefined);
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    ready(status: string): void {
      send('--ready', `--status=${status}`);
      // WATCHDOG_USEC is set when the unit has WatchdogSec=; ping at half the interval.
      const usec = Number(env.WATCHDOG_USEC ?? 0);
      if (enabled && usec > 0) {
        timer = setInterval(() => send('WATCHDOG=1'), Math.max(1000, usec / 2000));
        timer.unref();
      }
    },
    status(text: string): void {
      send(`--status=${text}`);
    },
    stopping(): void {
      clearInterval(timer);
      send('STOPPING=1');
    },
  };
}
