/**
 * The benchmarks' syslog lines (sshd, sudo, Cisco IOS, iptables, RFC 5424 application messages
 * from 50 hosts), on their own so that a harness can use them without the blaster's process.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `count` distinct lines, each ending in LF, in the shapes OT sites forward. */
export function syslogLines(count: number, at = new Date()): string[] {
  const stamp = `${MONTHS[at.getMonth()]} ${String(at.getDate()).padStart(2, ' ')} ${at.toTimeString().slice(0, 8)}`;
  const iso = at.toISOString();
  return Array.from({ length: count }, (_, i) => {
    const host = `plc-${i % 50}`;
    const ip = `10.${(i >> 8) & 3}.${i & 255}.${(i * 7) % 250}`;
    switch (i % 8) {
      case 0:
        return `<38>${stamp} ${host} sshd[${800 + (i % 100)}]: Failed password for invalid user admin from ${ip} port ${40000 + i} ssh2\n`;
      case 1:
        return `<86>${stamp} ${host} sshd[${800 + (i % 100)}]: Accepted publickey for ops from ${ip} port ${40000 + i} ssh2\n`;
      case 2:
        return `<187>${stamp} sw-line2-${i % 4}: %LINK-3-UPDOWN: Interface GigabitEthernet1/0/${i % 48}, changed state to ${i % 3 ? 'up' : 'down'}\n`;
      case 3:
        return `<4>${stamp} fw-cell-${i % 3} kernel: [UFW BLOCK] IN=eth0 OUT= MAC= SRC=${ip} DST=10.0.0.1 LEN=60 TTL=64 PROTO=TCP SPT=${40000 + i} DPT=502 WINDOW=29200 SYN\n`;
      case 4:
        return `<85>${stamp} ${host} sudo:      ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/bin/systemctl restart plc-bridge\n`;
      case 5:
        return `<14>1 ${iso} ${host} historian 4711 ID47 [meta sequenceId="${i}"] tank level ${(i % 1000) / 10} % line 2\n`;
      case 6:
        return `<30>${stamp} ${host} systemd[1]: Started Session ${i} of user ops.\n`;
      default:
        return `<13>1 ${iso} ${host} hmi - - - operator acknowledged alarm ${i % 97} on pump P-${i % 12}\n`;
    }
  });
}
