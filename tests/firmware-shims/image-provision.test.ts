/**
 * The flashed image's installer interface (firmware-shims/image/rootfs/usr/local/sbin/siem-provision)
 * run against a directory tree on this machine, with the real config validator of the gateway:
 * what an installer drops on the boot partition is applied and taken off the card, the host is
 * named after the board's serial, network.conf becomes systemd-networkd files, and every bad file
 * is reported in siem-gateway-error.txt and left in place while the previous settings stay. The
 * boot in QEMU (`npm run test:image`) proves the same on the real image.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { REPO_ROOT } from '../support/env.ts';

const run = promisify(execFile);
const SCRIPT = path.join(
  REPO_ROOT,
  'firmware-shims',
  'image',
  'rootfs',
  'usr',
  'local',
  'sbin',
  'siem-provision',
);
const GOOD_CONFIG = [
  'gateway: { id: plant1-gw, data_dir: /var/lib/siem-gateway }',
  'sources: { udp: { type: syslog, mode: udp, listen: "0.0.0.0:5514" } }',
  'central: { endpoint: "wss://central.example.net:8443/link" }',
  '',
].join('\r\n'); // written on a Windows laptop
const KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0rJYkN1bqzP0W1a2b3c4d5e6f7g8h9i0j1k2l3m4n installer@laptop';

describe('image provisioning from the boot partition (siem-provision)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'siem-provision-'));
  let validator = '';
  let n = 0;

  before(() => {
    // The gateway's own `validate`, from the sources (the image runs the bundled one).
    validator = path.join(work, 'siem-gateway');
    writeFileSync(
      validator,
      `#!/bin/sh\nexec "${process.execPath}" --import tsx "${path.join(REPO_ROOT, 'gateway', 'main.ts')}" "$@"\n`,
    );
    chmodSync(validator, 0o755);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  /** A fresh root: /boot/firmware with `boot` files, /etc with a machine id, an optional serial. */
  const makeRoot = (boot: Record<string, string>, serial?: string) => {
    const root = path.join(work, `root${++n}`);
    for (const dir of ['boot/firmware', 'etc/siem-gateway', 'etc/systemd/network', 'var/lib/siem-gateway'])
      mkdirSync(path.join(root, dir), { recursive: true });
    writeFileSync(path.join(root, 'etc', 'machine-id'), '0123456789abcdef0123456789abcdef\n');
    writeFileSync(path.join(root, 'etc', 'hostname'), 'siem-gateway\n');
    writeFileSync(path.join(root, 'etc', 'hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\tsiem-gateway\n');
    if (serial !== undefined) {
      mkdirSync(path.join(root, 'proc', 'device-tree'), { recursive: true });
      writeFileSync(path.join(root, 'proc', 'device-tree', 'serial-number'), `${serial}\0`);
    }
    for (const [name, text] of Object.entries(boot))
      writeFileSync(path.join(root, 'boot', 'firmware', name), text);
    return root;
  };
  const provision = async (root: string) =>
    run('sh', [SCRIPT, 'boot'], {
      env: {
        ...process.env,
        SIEM_PROVISION_ROOT: root,
        SIEM_PROVISION_APPLY: '0',
        SIEM_GATEWAY_BIN: validator,
      },
    });
  const read = (root: string, ...p: string[]) => readFileSync(path.join(root, ...p), 'utf8');
  const has = (root: string, ...p: string[]) => existsSync(path.join(root, ...p));

  it('applies config, token, SSH key and a static address on a VLAN, and takes them off the card', async () => {
    const root = makeRoot(
      {
        'gateway.yaml': GOOD_CONFIG,
        'enrollment-token': 'tok_0123456789abcdefABCDEF\r\n',
        authorized_keys: `# the installer's key\r\n${KEY}\r\n`,
        'network.conf':
          'address = 192.168.10.20/24\r\ngateway=192.168.10.1\r\ndns=192.168.10.1, 9.9.9.9\r\nvlan=20\r\nntp=ntp.plant.local\r\n',
      },
      '10000000C0FFEE42',
    );
    const { stdout } = await provision(root);
    assert.match(stdout, /hostname siem-gw-c0ffee42 \(from the serial number\)/);
    assert.equal(read(root, 'etc', 'hostname'), 'siem-gw-c0ffee42\n');
    assert.match(read(root, 'etc', 'hosts'), /^127\.0\.1\.1\tsiem-gw-c0ffee42$/m);

    // gateway.yaml moved (without Windows line ends), token moved with tight modes; none left on the card.
    assert.equal(read(root, 'etc', 'siem-gateway', 'gateway.yaml'), GOOD_CONFIG.replaceAll('\r', '') + '\n');
    assert.equal(statSync(path.join(root, 'etc', 'siem-gateway', 'gateway.yaml')).mode & 0o777, 0o640);
    assert.equal(
      read(root, 'var', 'lib', 'siem-gateway', 'enrollment-token'),
      'tok_0123456789abcdefABCDEF\n',
    );
    assert.equal(
      statSync(path.join(root, 'var', 'lib', 'siem-gateway', 'enrollment-token')).mode & 0o777,
      0o600,
    );
    assert.equal(read(root, 'root', '.ssh', 'authorized_keys'), `${KEY}\n`);
    assert.equal(statSync(path.join(root, 'root', '.ssh', 'authorized_keys')).mode & 0o777, 0o600);
    for (const f of [
      'gateway.yaml',
      'enrollment-token',
      'authorized_keys',
      'network.conf',
      'siem-gateway-error.txt',
    ])
      assert.equal(has(root, 'boot', 'firmware', f), false, `${f} is off the boot partition`);
    assert.ok(has(root, 'etc', 'siem-gateway', 'network.conf'), 'the applied network.conf is kept');

    // The port carries only the VLAN; the VLAN carries the address.
    const net = (f: string) => read(root, 'etc', 'systemd', 'network', f);
    assert.match(net('10-siem-uplink.network'), /\[Match\]\nName=eth0\n/);
    assert.match(net('10-siem-uplink.network'), /VLAN=vlan20\nLinkLocalAddressing=no\nDHCP=no\n$/);
    assert.match(net('10-siem-vlan.netdev'), /Name=vlan20\nKind=vlan\n\n\[VLAN\]\nId=20\n/);
    assert.match(
      net('11-siem-vlan.network'),
      /Name=vlan20\n\n\[Network\]\nDHCP=no\nAddress=192\.168\.10\.20\/24\nGateway=192\.168\.10\.1\nDNS=192\.168\.10\.1\nDNS=9\.9\.9\.9\nNTP=ntp\.plant\.local\n$/,
    );
    const status = read(root, 'boot', 'firmware', 'siem-gateway-status.txt');
    assert.match(status, /hostname: siem-gw-c0ffee42/);
    assert.match(status, /configured, starting/);
    assert.match(status, /SSH: 1 key\(s\) for root/);
  });

  it('reports a bad gateway.yaml on the card, keeps it and the token there, and keeps the running config', async () => {
    const root = makeRoot({
      'gateway.yaml': 'gateway: { id: gw-x, data_dir: /var/lib/siem-gateway, colour: blue }\n',
      'enrollment-token': 'tok_0123456789abcdef\n',
    });
    writeFileSync(path.join(root, 'etc', 'siem-gateway', 'gateway.yaml'), GOOD_CONFIG);
    const { stdout } = await provision(root); // exits 0: never fails the boot
    assert.match(stdout, /ERROR: gateway\.yaml is not valid/);
    const error = read(root, 'boot', 'firmware', 'siem-gateway-error.txt');
    assert.match(error, /unknown key gateway\.colour/);
    assert.match(error, /central: required key is missing/);
    assert.ok(has(root, 'boot', 'firmware', 'gateway.yaml'), 'left on the card to be fixed');
    assert.ok(has(root, 'boot', 'firmware', 'enrollment-token'), 'the token is not spent on a bad config');
    assert.equal(has(root, 'var', 'lib', 'siem-gateway', 'enrollment-token'), false);
    assert.equal(read(root, 'etc', 'siem-gateway', 'gateway.yaml'), GOOD_CONFIG, 'the running config stays');
    assert.match(read(root, 'boot', 'firmware', 'siem-gateway-status.txt'), /NOT CONFIGURED/);
    // Hostname from the machine id when the board has no serial (QEMU's virt machine).
    assert.equal(read(root, 'etc', 'hostname'), 'siem-gw-89abcdef\n');

    // Fixed on the laptop: the next boot applies it and clears the report.
    writeFileSync(path.join(root, 'boot', 'firmware', 'gateway.yaml'), GOOD_CONFIG);
    await provision(root);
    assert.equal(has(root, 'boot', 'firmware', 'siem-gateway-error.txt'), false);
    assert.equal(has(root, 'boot', 'firmware', 'enrollment-token'), false);
    assert.ok(has(root, 'var', 'lib', 'siem-gateway', 'enrollment-token'));
  });

  it('refuses a token without a config, a malformed token, a bad key file and a bad network.conf', async () => {
    const root = makeRoot({
      'enrollment-token': 'tok_0123456789abcdef\n',
      authorized_keys: 'my password is hunter2\n',
      'network.conf': 'address=192.168.10.300/24\ngateway=192.168.10.1\nvlan=5000\nmtu=9000\nnonsense\n',
    });
    writeFileSync(path.join(root, 'etc', 'systemd', 'network', '10-siem-uplink.network'), '# previous\n');
    await provision(root);
    const error = read(root, 'boot', 'firmware', 'siem-gateway-error.txt');
    assert.match(error, /enrollment-token needs a gateway\.yaml/);
    assert.match(error, /authorized_keys line 1: not an SSH public key/);
    assert.match(error, /network\.conf line 1: address '192\.168\.10\.300\/24'/);
    assert.match(error, /network\.conf line 3: vlan '5000'/);
    assert.match(error, /network\.conf line 4: unknown key 'mtu'/);
    assert.match(error, /network\.conf line 5: expected key=value/);
    assert.equal(read(root, 'etc', 'systemd', 'network', '10-siem-uplink.network'), '# previous\n');
    assert.equal(has(root, 'root', '.ssh', 'authorized_keys'), false);
    for (const f of ['enrollment-token', 'authorized_keys', 'network.conf'])
      assert.ok(has(root, 'boot', 'firmware', f), `${f} stays on the card`);

    const token = makeRoot({ 'gateway.yaml': GOOD_CONFIG, 'enrollment-token': 'not a token; rm -rf /\n' });
    await provision(token);
    assert.match(
      read(token, 'boot', 'firmware', 'siem-gateway-error.txt'),
      /enrollment-token: expected the token/,
    );
  });

  it('DHCP on a VLAN of a named port, and a new token sets the old credentials aside', async () => {
    const root = makeRoot({
      'network.conf': 'interface=end0\nvlan=7\n',
      'enrollment-token': 'tok_new_0123456789\n',
    });
    writeFileSync(path.join(root, 'etc', 'siem-gateway', 'gateway.yaml'), GOOD_CONFIG);
    writeFileSync(path.join(root, 'var', 'lib', 'siem-gateway', 'credentials.json'), '{}');
    await provision(root);
    assert.match(
      read(root, 'etc', 'systemd', 'network', '10-siem-uplink.network'),
      /Name=end0\n[\s\S]*VLAN=vlan7/,
    );
    assert.match(read(root, 'etc', 'systemd', 'network', '11-siem-vlan.network'), /\[Network\]\nDHCP=yes\n$/);
    assert.equal(has(root, 'var', 'lib', 'siem-gateway', 'credentials.json'), false);
    assert.ok(
      readdirSync(path.join(root, 'var', 'lib', 'siem-gateway')).some((f) =>
        f.startsWith('credentials.json.replaced-'),
      ),
    );
  });

  it('property: any network.conf either becomes networkd files of known keys only, or an error and nothing', async () => {
    const line = fc.oneof(
      fc
        .constantFrom(
          'address',
          'gateway',
          'dns',
          'ntp',
          'vlan',
          'interface',
          'dhcp',
          'mtu',
          ' address ',
          '[Network]',
        )
        .chain((key) =>
          fc
            .oneof(
              fc.constantFrom(
                '10.0.0.5/24',
                '10.0.0.1',
                'fd00::5/64',
                '20',
                'eth0',
                'yes',
                'no',
                '256.1.1.1',
                '0',
                '4095',
              ),
              fc.string({ maxLength: 30 }),
            )
            .map((value) => `${key}=${value}`),
        ),
      fc.constantFrom('# comment', '', '   ', 'garbage'),
      fc.string({ maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 6 }),
        fc.constantFrom('\n', '\r\n'),
        async (lines, eol) => {
          const root = makeRoot({ 'network.conf': lines.join(eol) });
          await provision(root);
          const netdir = path.join(root, 'etc', 'systemd', 'network');
          const written = readdirSync(netdir).filter((f) => f.includes('siem'));
          const reported = has(root, 'boot', 'firmware', 'siem-gateway-error.txt');
          assert.notEqual(written.length > 0, reported, 'exactly one of: applied, reported');
          assert.equal(
            has(root, 'boot', 'firmware', 'network.conf'),
            reported,
            'left on the card only when reported',
          );
          for (const f of written) {
            for (const l of readFileSync(path.join(netdir, f), 'utf8').split('\n')) {
              assert.match(
                l,
                /^(|#.*|\[(Match|Network|NetDev|VLAN)\]|(Name|VLAN|LinkLocalAddressing|DHCP|Address|Gateway|DNS|NTP|Kind|Id)=[A-Za-z0-9_.:/*-]+)$/,
                `${f}: ${JSON.stringify(l)} from ${JSON.stringify(lines)}`,
              );
            }
          }
          rmSync(root, { recursive: true, force: true });
        },
      ),
      { numRuns: 40 },
    );
  });
});
