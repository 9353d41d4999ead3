/**
 * A simulated managed switch / PLC-side Linux box that emits syslog like real plant devices do:
 * RFC 5424 over TCP (octet counting) and BSD/RFC 3164 over UDP. Mostly routine telemetry, with
 * an occasional burst of SSH login failures and a configuration change, so the demo has
 * something worth looking at. `sendSshBruteForce` sends that burst on its own, for the attack
 * scenarios. Used by `npm start` and by tests.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { SyslogFormatInput } from '../../protocols/syslog/index.ts';
import { formatRfc3164, formatRfc5424, frameOctetCounting } from '../../protocols/syslog/index.ts';

export interface SyslogSwitchOptions {
  host: string;
  udpPort: number;
  tcpPort: number;
  hostname?: string;
  intervalMs?: number;
  /** Every n-th tick sends a burst of SSH failures (0 disables). */
  attackEvery?: number;
}

export type SyslogLine = { facility: number; severity: number; app: string; text: string };
type Line = SyslogLine;

/** What sshd logs for `failures` wrong passwords from `attacker`, then a successful login. */
export function sshBruteForceLines(attacker: string, failures = 6, user = 'admin'): SyslogLine[] {
  const lines: SyslogLine[] = [];
  for (let i = 0; i < failures; i += 1) {
    lines.push({
      facility: 10,
      severity: 4,
      app: 'sshd',
      text: `Failed password for invalid user ${user} from ${attacker} port ${40000 + i} ssh2`,
    });
  }
  lines.push({
    facility: 10,
    severity: 6,
    app: 'sshd',
    text: `Accepted password for ${user} from ${attacker} port 40100 ssh2`,
  });
  return lines;
}

/** Sends `lines` as RFC 5424 over one TCP connection (RFC 6587 octet counting), then closes it. */
export async function sendSyslogTcp(
  target: { host: string; port: number },
  hostname: string,
  lines: SyslogLine[],
): Promise<void> {
  const socket = net.connect(target.port, target.host);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const line of lines) {
    const pid = String(1000 + Math.floor(Math.random() * 9000));
    const text = formatRfc5424({
      format: 'rfc5424',
      pri: line.facility * 8 + line.severity,
      timestamp: new Date(),
      hostname,
      appName: line.app,
      procId: pid,
      tag: `${line.app}[${pid}]`,
      programName: line.app,
      msg: line.text,
    });
    socket.write(frameOctetCounting(Buffer.from(text)));
  }
  await new Promise<void>((resolve) => socket.end(resolve));
}

const ROUTINE: Line[] = [
  { facility: 23, severity: 6, app: 'ifmgr', text: 'Interface Gi1/0/7 changed state to up' },
  { facility: 23, severity: 5, app: 'stp', text: 'Topology change on VLAN 20 (port Gi1/0/3)' },
  { facility: 3, severity: 6, app: 'ntpd', text: 'synchronized to 10.20.0.1, stratum 2' },
  { facility: 23, severity: 4, app: 'envmon', text: 'Temperature 61C above warning threshold 60C' },
];

export function startSyslogSwitch(options: SyslogSwitchOptions) {
  const hostname = options.hostname ?? 'sw-line2-01';
  const udp = dgram.createSocket('udp4');
  let tcp: net.Socket | undefined;
  let tick = 0;

  const connectTcp = () => {
    const socket = net.connect(options.tcpPort, options.host);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (tcp === socket) tcp = undefined;
    });
    tcp = socket;
  };
  connectTcp();

  const message = (line: Line, format: 'rfc5424' | 'rfc3164'): SyslogFormatInput => ({
    format,
    pri: line.facility * 8 + line.severity,
    timestamp: new Date(),
    hostname,
    appName: line.app,
    procId: String(1000 + (tick % 50)),
    tag: `${line.app}[${1000 + (tick % 50)}]`,
    programName: line.app,
    msg: line.text,
  });

  const sendUdp = (line: Line) => {
    udp.send(Buffer.from(formatRfc3164(message(line, 'rfc3164'))), options.udpPort, options.host);
  };
  const sendTcp = (line: Line) => {
    if (!tcp || tcp.destroyed) connectTcp();
    tcp?.write(frameOctetCounting(Buffer.from(formatRfc5424(message(line, 'rfc5424')))));
  };

  const timer = setInterval(() => {
    tick += 1;
    const routine = ROUTINE[tick % ROUTINE.length]!;
    if (tick % 2 === 0) sendUdp(routine);
    else sendTcp(routine);
    if (options.attackEvery && tick % options.attackEvery === 0) {
      // An SSH brute force from one address, then a successful login from it.
      const attacker = `198.51.100.${23 + ((tick / options.attackEvery) % 200)}`;
      for (const line of sshBruteForceLines(attacker)) sendTcp(line);
      sendUdp({
        facility: 10,
        severity: 5,
        app: 'cli',
        text: 'User admin changed running-config (vlan 20 removed)',
      });
    }
  }, options.intervalMs ?? 2000);

  return {
    stop(): void {
      clearInterval(timer);
      tcp?.end();
      udp.close();
    },
  };
}
