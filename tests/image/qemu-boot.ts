/**
 * `npm run test:image` (root; not part of `npm test`, a build and an emulated boot take many
 * minutes): the gateway image proved by booting it. The image from `npm run build:image` (built
 * here unless SIEM_IMAGE names a .img or .img.xz) is checked against its sha256, its boot partition
 * is checked as the Pi firmware reads it (firmware, config.txt naming a kernel and initrd that are
 * there, the DTBs of the 64-bit boards, cmdline.txt), then prepared as an installer would from a
 * laptop (enrollment-token, gateway.yaml, authorized_keys, network.conf with a static address), and
 * the image's own kernel, initrd and cmdline boot its root file system in qemu-system-aarch64
 * (the `virt` board, software emulation) on a disk 1 GiB larger than the image. Central runs on
 * this machine behind a relay the test can cut, reached from the VM through QEMU's user-mode
 * networking (10.0.2.2 → 127.0.0.1); syslog goes into the VM through a forwarded UDP port; SSH
 * with the dropped key is the test's way in. It checks first-boot enrollment (token spent and gone
 * from the card, config moved), the hostname, the root grown to the disk, key-only SSH, a syslog
 * line arriving at central, a line queued while central is unreachable surviving a reboot and
 * arriving after it, a bad gateway.yaml dropped before that reboot reported on the console and in
 * siem-gateway-error.txt while the gateway keeps running, and systemd healthy. It prints the build
 * time, boot times and the gateway's idle RSS inside the VM.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, freePort, requireTool, waitFor } from '../support/env.ts';
import { startTestCentral, type TestCentral } from '../support/stack.ts';
import { cardTools, createRelay, qemuArgs, sendSyslogTo, sshTools } from './vm.ts';

const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};
const SUITE = process.env.IMAGE_SUITE ?? 'trixie';
const BUILT = path.join(REPO_ROOT, 'dist', 'image', `siem-gateway-${version}-${SUITE}-arm64.img.xz`);
const MINUTE = 60_000;
/** Emulated arm64 on a shared 2-core machine: generous bounds, polled, never slept on. */
const BOOT_TIMEOUT = 25 * MINUTE;

describe('gateway image booted in QEMU', { timeout: 120 * MINUTE }, () => {
  const work = mkdtempSync(path.join(tmpdir(), 'siem-image-'));
  const disk = path.join(work, 'disk.img');
  const key = path.join(work, 'id_ed25519');
  const figures: string[] = [];
  let bootOffset = 0;
  let imageBytes = 0;
  let c: TestCentral;
  let relay: ReturnType<typeof createRelay>;
  let qemu: ChildProcess | undefined;
  let qemuExit: Promise<number | null> | undefined;
  let consoleText = '';
  let sshPort = 0;
  let syslogPort = 0;
  let qemuStarted = 0;

  const note = (line: string) => {
    figures.push(line);
    console.log(`# ${line}`);
  };
  const card = cardTools(disk, work, () => bootOffset);
  const { mtools, bootFile, bootFiles, putBootFile } = card;
  const { ssh, metric } = sshTools(key, () => sshPort);
  const sendSyslog = (message: string) => sendSyslogTo(syslogPort, message);
  const atCentral = async (text: string) => (await c.events(`q=${encodeURIComponent(text)}`)).length;

  const bootVm = async (kernel: string, initrd: string, cmdline: string) => {
    qemuStarted = Date.now();
    qemu = spawn('qemu-system-aarch64', qemuArgs({ kernel, initrd, cmdline, disk, syslogPort, sshPort }), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    qemu.stdout?.on('data', (d: Buffer) => {
      consoleText += d.toString('utf8');
    });
    qemu.stderr?.on('data', (d: Buffer) => {
      consoleText += d.toString('utf8');
    });
    qemuExit = new Promise((resolve) => qemu!.on('exit', (code) => resolve(code)));
  };

  before(async (t) => {
    for (const [tool, pkg] of [
      ['qemu-system-aarch64', 'qemu-system-arm'],
      ['mcopy', 'mtools'],
      ['sfdisk', 'fdisk'],
      ['xz', 'xz-utils'],
      ['ssh', 'openssh-client'],
      ['ssh-keygen', 'openssh-client'],
    ] as const) {
      if (!requireTool(t, tool, pkg)) return;
    }
    let image = process.env.SIEM_IMAGE;
    if (!image) {
      const started = Date.now();
      execFileSync('bash', [path.join(REPO_ROOT, 'firmware-shims', 'image', 'build-image.sh')], {
        stdio: 'inherit',
      });
      note(`build: npm run build:image took ${((Date.now() - started) / MINUTE).toFixed(1)} min`);
      image = BUILT;
    }
    // The deliverable: the .xz with its sha256 (checked), unpacked onto the "card".
    if (image.endsWith('.xz')) {
      const [expected] = readFileSync(`${image}.sha256`, 'utf8').split(/\s+/);
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(image)) hash.update(chunk as Buffer);
      assert.equal(hash.digest('hex'), expected, `${image} matches its .sha256`);
      note(`image: ${path.basename(image)} ${(statSync(image).size / 2 ** 20).toFixed(0)} MiB compressed`);
      execFileSync('sh', ['-c', `xz -dc "$1" > "$2"`, 'sh', image, disk]);
    } else {
      execFileSync('cp', ['--sparse=always', image, disk]);
    }
    imageBytes = statSync(disk).size;
    note(`image: ${(imageBytes / 2 ** 20).toFixed(0)} MiB raw`);
    const table = JSON.parse(execFileSync('sfdisk', ['--json', disk], { encoding: 'utf8' })) as {
      partitiontable: {
        label: string;
        partitions: { start: number; size: number; type: string; bootable?: boolean }[];
      };
    };
    assert.equal(table.partitiontable.label, 'dos', 'an MBR, as the Pi firmware reads it');
    const [boot, root] = table.partitiontable.partitions;
    assert.equal(boot?.type, 'c', 'partition 1 is FAT32 (LBA)');
    assert.equal(root?.type, '83', 'partition 2 is Linux');
    bootOffset = boot.start * 512;
    // The card is bigger than the image: the first boot grows the root to it.
    execFileSync('truncate', ['-s', `+1G`, disk]);

    c = await startTestCentral({ type: 'pglite' }, { gatewayId: 'gw-seed' });
    relay = createRelay(Number(new URL(c.central.url()).port));
    const relayPort = await relay.listen();
    sshPort = await freePort();
    syslogPort = await freePort();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'installer@laptop', '-f', key]);
    const { token } = await c.central.registry.createEnrollmentToken({
      gatewayId: 'gw-image',
      ttlSecs: 3 * 3600,
      now: new Date(),
    });
    const linkPath = new URL(c.central.linkUrl()).pathname;
    // What an installer writes on the boot partition from a laptop (CRLF line ends included).
    putBootFile('enrollment-token', `${token}\r\n`);
    putBootFile(
      'gateway.yaml',
      [
        'gateway: { id: gw-image, data_dir: /var/lib/siem-gateway }',
        'sources: { syslog: { type: syslog, mode: udp, listen: "0.0.0.0:5514" } }',
        `central: { endpoint: "ws://10.0.2.2:${relayPort}${linkPath}", initial_backoff_secs: 0.5, max_backoff_secs: 3 }`,
        'http: { listen: "127.0.0.1:9100" }',
        '',
      ].join('\r\n'),
    );
    putBootFile('authorized_keys', readFileSync(`${key}.pub`, 'utf8'));
    putBootFile('network.conf', 'address=10.0.2.15/24\r\ngateway=10.0.2.2\r\ndns=10.0.2.3\r\n');
  });

  after(async () => {
    if (qemu && qemu.exitCode === null) qemu.kill('SIGKILL');
    await relay?.close();
    await c?.central.stop();
    if (figures.length) console.log(['# figures:', ...figures.map((f) => `#   ${f}`)].join('\n'));
    if (process.env.SIEM_IMAGE_KEEP) console.log(`# kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  });

  it('has the Pi boot path as files: firmware, config.txt, the kernel and initrd it names, DTBs, cmdline.txt', () => {
    const files = bootFiles();
    for (const f of [
      'bootcode.bin',
      'start.elf',
      'start4.elf',
      'fixup.dat',
      'fixup4.dat',
      'config.txt',
      'cmdline.txt',
    ])
      assert.ok(files.includes(f), `boot partition has ${f}`);
    // The 64-bit boards: Pi 3 B/B+, Zero 2 W, 4 B, 400, CM4, 5.
    for (const dtb of [
      'bcm2837-rpi-3-b.dtb',
      'bcm2837-rpi-3-b-plus.dtb',
      'bcm2837-rpi-zero-2-w.dtb',
      'bcm2711-rpi-4-b.dtb',
      'bcm2711-rpi-400.dtb',
      'bcm2712-rpi-5-b.dtb',
    ])
      assert.ok(files.includes(dtb), `boot partition has ${dtb}`);
    assert.ok(
      files.some((f) => f.startsWith('overlays')),
      'the firmware overlays',
    );
    const config = bootFile('config.txt');
    assert.match(config, /^arm_64bit=1$/m);
    const kernel = /^kernel=(\S+)$/m.exec(config)?.[1];
    const initrd = /^initramfs (\S+)/m.exec(config)?.[1];
    assert.ok(kernel && files.includes(kernel), `config.txt names a kernel on the partition (${kernel})`);
    assert.ok(initrd && files.includes(initrd), `config.txt names an initrd on the partition (${initrd})`);
    const cmdline = bootFile('cmdline.txt');
    assert.match(cmdline, /root=LABEL=siem-root/);
    assert.match(cmdline, /console=ttyS1,115200/);
    assert.equal(cmdline.trim().split('\n').length, 1, 'cmdline.txt is one line');
    assert.ok(files.includes('README-siem-gateway.txt') && files.includes('network.conf.example'));
  });

  it('boots, enrolls with the token from the boot partition, and runs healthy', async () => {
    const kernelName = /^kernel=(\S+)$/m.exec(bootFile('config.txt'))![1]!;
    const initrdName = /^initramfs (\S+)/m.exec(bootFile('config.txt'))![1]!;
    mtools('mcopy', `::/${kernelName}`, path.join(work, 'vmlinuz'));
    mtools('mcopy', `::/${initrdName}`, path.join(work, 'initrd'));
    // The image's own cmdline, with the virt board's serial console instead of the Pi's.
    const cmdline = bootFile('cmdline.txt')
      .trim()
      .split(/\s+/)
      .filter((a) => !a.startsWith('console='))
      .concat('console=ttyAMA0')
      .join(' ');
    await bootVm(path.join(work, 'vmlinuz'), path.join(work, 'initrd'), cmdline);
    try {
      const provisioned = await waitFor(
        () => {
          if (/siem-provision: .*enrollment token moved/.test(consoleText)) return true;
          // QEMU gone (it refused its arguments, or the VM powered off): no point waiting.
          return qemu?.exitCode != null || qemu?.signalCode != null ? false : undefined;
        },
        { timeoutMs: BOOT_TIMEOUT, intervalMs: 1000, what: 'siem-provision on the console' },
      );
      assert.ok(
        provisioned,
        `QEMU exited (${qemu?.exitCode ?? qemu?.signalCode}) before the first boot's provisioning`,
      );
      await waitFor(() => ssh('true', MINUTE).then(() => true), {
        timeoutMs: BOOT_TIMEOUT,
        intervalMs: 5000,
        what: 'SSH with the dropped key',
      });
      const sshReady = (Date.now() - qemuStarted) / 1000;
      const state = await ssh('systemctl is-system-running --wait || true', 20 * MINUTE);
      const settled = (Date.now() - qemuStarted) / 1000;
      assert.equal(
        state,
        'running',
        `systemd: ${state}; failed: ${await ssh('systemctl --failed --no-legend || true')}`,
      );
      await waitFor(
        async () => ((await ssh('systemctl is-active siem-gateway || true')) === 'active' ? true : undefined),
        {
          timeoutMs: 10 * MINUTE,
          intervalMs: 5000,
          what: 'siem-gateway active',
        },
      );
      const active = (Date.now() - qemuStarted) / 1000;
      note(
        `boot (emulated, qemu-system-aarch64 TCG cortex-a53 x2): SSH up ${sshReady.toFixed(0)} s, system running ${settled.toFixed(0)} s, gateway active ${active.toFixed(0)} s after QEMU started`,
      );
      note(`boot (inside, systemd-analyze): ${(await ssh('systemd-analyze || true')).split('\n')[0]}`);

      // Enrolled: the token spent and gone from the card and the data dir, the config moved.
      const journal = await ssh('journalctl -b -u siem-gateway --no-pager -o cat');
      assert.match(journal, /enrolled as "gw-image"/);
      assert.equal(
        await ssh(
          'ls /boot/firmware/enrollment-token /var/lib/siem-gateway/enrollment-token /boot/firmware/gateway.yaml 2>/dev/null | wc -l',
        ),
        '0',
      );
      assert.equal(await ssh('stat -c "%a %U" /var/lib/siem-gateway/credentials.json'), '600 siem-gateway');
      assert.equal(await ssh('stat -c "%a %U:%G" /etc/siem-gateway/gateway.yaml'), '640 root:siem-gateway');
      assert.match(await ssh('cat /boot/firmware/siem-gateway-status.txt'), /running/);
      // Hostname from the machine id (the virt board has no serial number).
      const machineId = await ssh('cat /etc/machine-id');
      assert.equal(await ssh('hostname'), `siem-gw-${machineId.slice(-8)}`);
      // The static address from network.conf, SSH key-only.
      assert.match(await ssh('ip -4 addr show eth0'), /inet 10\.0\.2\.15\/24/);
      const sshd = await ssh('sshd -T');
      assert.match(sshd, /^passwordauthentication no$/m);
      assert.match(sshd, /^kbdinteractiveauthentication no$/m);
      assert.equal(await ssh('passwd -S root | cut -d" " -f2'), 'L', 'root has no password');
      // The root file system grown to the disk (the image plus 1 GiB).
      const [before, grown] = (await ssh('cat /var/lib/siem-image/root-grown')).split(' ').map(Number);
      assert.ok(grown! - before! > 900, `root grown by ~1 GiB: ${before} → ${grown} MiB`);
      note(`root file system grown at first boot: ${before} → ${grown} MiB`);
      // The hardened unit as shipped, plus the image's drop-in.
      const unit = await ssh('systemctl cat siem-gateway');
      assert.match(unit, /NoNewPrivileges=yes/);
      assert.match(unit, /ConditionPathExists=\/etc\/siem-gateway\/gateway.yaml/);
      assert.equal(await ssh('systemctl is-active systemd-timesyncd'), 'active');
      assert.equal(await ssh('systemctl --failed --no-legend | wc -l'), '0');
    } catch (error) {
      console.log(`# console (last 6000 characters):\n${consoleText.slice(-6000)}`);
      throw error;
    }
  });

  it('forwards a syslog line sent into the VM to central', async () => {
    await sendSyslog('image boot test: first line');
    await waitFor(async () => ((await atCentral('image boot test: first line')) === 1 ? true : undefined), {
      timeoutMs: 5 * MINUTE,
      intervalMs: 1000,
      what: 'the syslog line at central',
    });
    const pid = await ssh('systemctl show -p MainPID --value siem-gateway');
    const rss = Number(await ssh(`awk '/VmRSS/ {print $2}' /proc/${pid}/status`));
    const memory = Number(await ssh('systemctl show -p MemoryCurrent --value siem-gateway'));
    note(
      `idle gateway inside the VM: RSS ${(rss / 1024).toFixed(1)} MiB (node, MainPID), cgroup memory ${(memory / 2 ** 20).toFixed(1)} MiB`,
    );
    note(
      `whole VM after boot: ${await ssh("free -m | awk '/Mem:/ {print $3}'")} MiB used of ${await ssh("free -m | awk '/Mem:/ {print $2}'")} MiB`,
    );
  });

  it('keeps a line queued while central is unreachable across a reboot, and reports a bad config dropped on the card', async () => {
    relay.cut();
    await waitFor(async () => ((await metric('siem_gateway_link_connected')) === 0 ? true : undefined), {
      timeoutMs: 3 * MINUTE,
      intervalMs: 2000,
      what: 'the link down',
    });
    const received = await metric('siem_gateway_events_received_total');
    await sendSyslog('image boot test: queued across a reboot');
    await waitFor(
      async () => ((await metric('siem_gateway_events_received_total')) > received ? true : undefined),
      {
        timeoutMs: 3 * MINUTE,
        intervalMs: 2000,
        what: 'the line received by the gateway',
      },
    );
    assert.equal(await atCentral('queued across a reboot'), 0, 'not at central while the link is cut');
    // An installer drops a broken config: it must be reported, and must not stop the gateway.
    await ssh("printf 'gateway: { id: gw-image, colour: blue }\\n' > /boot/firmware/gateway.yaml");
    const bootId = await ssh('cat /proc/sys/kernel/random/boot_id');
    const consoleBefore = consoleText.length;
    await ssh('systemctl reboot').catch(() => undefined); // the connection may drop under it
    await waitFor(
      async () => ((await ssh('cat /proc/sys/kernel/random/boot_id', MINUTE)) !== bootId ? true : undefined),
      { timeoutMs: BOOT_TIMEOUT, intervalMs: 5000, what: 'the VM back from its reboot' },
    );
    note(
      `reboot: back on SSH ${((Date.now() - qemuStarted) / 1000).toFixed(0)} s after QEMU started (one process across both boots)`,
    );
    assert.match(consoleText.slice(consoleBefore), /siem-provision: ERROR: gateway\.yaml is not valid/);
    assert.match(await ssh('cat /boot/firmware/siem-gateway-error.txt'), /unknown key gateway\.colour/);
    await waitFor(
      async () => ((await ssh('systemctl is-active siem-gateway || true')) === 'active' ? true : undefined),
      {
        timeoutMs: 10 * MINUTE,
        intervalMs: 5000,
        what: 'siem-gateway active on the previous config after the reboot',
      },
    );
    assert.match(
      await ssh('cat /boot/firmware/siem-gateway-status.txt'),
      /previous config: see siem-gateway-error\.txt/,
    );
    assert.equal(
      await ssh('systemctl show -p ConditionResult --value siem-growroot'),
      'no',
      'the root is grown once',
    );
    relay.restore();
    await waitFor(async () => ((await atCentral('queued across a reboot')) === 1 ? true : undefined), {
      timeoutMs: 5 * MINUTE,
      intervalMs: 1000,
      what: 'the queued line at central after the reboot',
    });
    assert.equal(await ssh('systemctl is-system-running --wait || true', 20 * MINUTE), 'running');
    assert.match(await ssh('systemctl status siem-gateway --no-pager || true'), /Active: active \(running\)/);
  });

  it('powers off cleanly, and the card tells the installer what happened', async () => {
    await ssh('systemctl poweroff').catch(() => undefined);
    const code = await Promise.race([
      qemuExit,
      new Promise((r) => setTimeout(() => r('timeout'), 10 * MINUTE).unref()),
    ]);
    assert.equal(code, 0, 'QEMU exits when the guest powers off');
    const files = bootFiles();
    assert.ok(!files.includes('enrollment-token'), 'no token left on the card');
    assert.ok(files.includes('gateway.yaml'), 'the bad config stays on the card to be fixed');
    assert.match(bootFile('siem-gateway-error.txt'), /unknown key gateway\.colour/);
    assert.ok(existsSync(disk));
  });
});
