/**
 * The parts of the image boot test (qemu-boot.ts) that do not hold its state: a relay to central
 * the test can cut, the boot partition of the "card" read and written with mtools (no mount), SSH
 * into the VM with the dropped key, a syslog datagram into the VM's forwarded port, and QEMU's
 * command line (the `virt` board booting the image's own kernel, initrd and cmdline).
 */
import { execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MINUTE = 60_000;

/** A TCP relay to central that the test can cut (central unreachable) and restore. */
export function createRelay(target: number) {
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  return {
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
      ),
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The card's boot partition (FAT at byte `offset()` of `disk`), through mtools. */
export function cardTools(disk: string, work: string, offset: () => number) {
  const mtools = (tool: string, ...args: string[]) =>
    execFileSync(tool, ['-i', `${disk}@@${offset()}`, ...args], {
      encoding: 'utf8',
      env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
    });
  const bootFile = (name: string) => mtools('mtype', `::/${name}`);
  const bootFiles = () =>
    mtools('mdir', '-b', '::/')
      .split('\n')
      .map((l) => l.replace(/^::\//, '').trim())
      .filter(Boolean);
  const putBootFile = (name: string, text: string) => {
    const local = path.join(work, name);
    writeFileSync(local, text);
    mtools('mcopy', '-o', local, `::/${name}`);
  };
  return { mtools, bootFile, bootFiles, putBootFile };
}

/** SSH into the VM as root with the dropped key, at the forwarded `port()`. */
export function sshTools(key: string, port: () => number) {
  const ssh = async (command: string, timeoutMs = 3 * MINUTE) =>
    (
      await run(
        'ssh',
        [
          '-i',
          key,
          '-p',
          String(port()),
          '-o',
          'BatchMode=yes',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-o',
          'ConnectTimeout=30',
          '-o',
          'LogLevel=ERROR',
          'root@127.0.0.1',
          command,
        ],
        { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      )
    ).stdout.trim();
  /** The gateway's Prometheus metrics, read inside the VM (http.listen is 127.0.0.1 there). */
  const metric = async (name: string) => {
    const text = await ssh(
      `node -e "fetch('http://127.0.0.1:9100/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))"`,
    );
    return text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };
  return { ssh, metric };
}

/** One RFC 5424 line over UDP to the VM's forwarded syslog port. */
export const sendSyslogTo = (syslogPort: number, message: string) =>
  new Promise<void>((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.send(
      `<134>1 2026-12-05T10:00:00Z plc-7 hmi - - - ${message}`,
      syslogPort,
      '127.0.0.1',
      (error) => {
        socket.close();
        if (error) reject(error);
        else resolve();
      },
    );
  });

/** QEMU's arguments: 2 emulated Cortex-A53 cores, 1 GiB, the disk, user networking with forwards. */
export function qemuArgs(o: {
  kernel: string;
  initrd: string;
  cmdline: string;
  disk: string;
  syslogPort: number;
  sshPort: number;
}): string[] {
  const { kernel, initrd, cmdline, disk, syslogPort, sshPort } = o;
  return [
    '-M',
    'virt',
    '-cpu',
    'cortex-a53',
    '-smp',
    '2',
    '-m',
    '1024',
    '-display',
    'none',
    '-monitor',
    'none',
    '-serial',
    'stdio',
    '-kernel',
    kernel,
    '-initrd',
    initrd,
    '-append',
    cmdline,
    '-drive',
    `file=${disk},format=raw,if=none,id=disk0`,
    '-device',
    'virtio-blk-pci,drive=disk0',
    '-netdev',
    `user,id=net0,hostfwd=udp:127.0.0.1:${syslogPort}-:5514,hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
    '-device',
    // No option ROM: the kernel is booted directly, and Debian's qemu-system-arm without its
    // recommended ipxe-qemu has no efi-virtio.rom (QEMU refuses to start without it).
    'virtio-net-pci,netdev=net0,romfile=',
    '-object',
    'rng-random,filename=/dev/urandom,id=rng0',
    '-device',
    'virtio-rng-pci,rng=rng0',
  ];
}
