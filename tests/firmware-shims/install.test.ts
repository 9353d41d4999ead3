/**
 * The gateway artefact as an installer meets it: the linux-x64 tarball from
 * `npm run build:gateway` is installed into a temporary root with its install.sh; the installed
 * gateway enrolls on first start from a token file, forwards a syslog message to a central in the
 * test, reloads its config on SIGHUP and stops cleanly; the systemd unit passes
 * `systemd-analyze verify`; an upgrade to a release that does not become healthy is rolled back,
 * and a good one is kept.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, requireTool, waitFor, freePort } from '../support/env.ts';
import { startTestCentral, type TestCentral } from '../support/stack.ts';

const run = promisify(execFile);
const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

describe('gateway artefact: tarball, install.sh, systemd unit, upgrade', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'siem-install-'));
  const root = path.join(work, 'root');
  const release = path.join(work, `siem-gateway-${version}-linux-x64`);
  const config = path.join(root, 'etc', 'siem-gateway', 'gateway.yaml');
  let c: TestCentral;
  let httpPort = 0;
  let syslogPort = 0;

  before(async () => {
    const built = await run(
      process.execPath,
      ['--import', 'tsx', 'firmware-shims/build/bundle-gateway.ts', '--targets', 'linux-x64'],
      {
        cwd: REPO_ROOT,
      },
    );
    execFileSync('tar', [
      '-C',
      work,
      '-xzf',
      path.join(REPO_ROOT, 'dist', `siem-gateway-${version}-linux-x64.tar.gz`),
    ]);
    // Issue 8: the device dashboard ships beside the bundle, and the build reports its gzip sizes.
    for (const file of ['index.html', 'app.js', 'base.css'])
      assert.ok(
        existsSync(path.join(release, 'dashboards', 'gateway', file)),
        `tarball has dashboards/gateway/${file}`,
      );
    assert.match(built.stdout, /dashboards\/gateway\/app\.js: [\d.]+ KiB, [\d.]+ KiB gzip/);
    assert.match(built.stdout, /dashboards\/gateway\/base\.css: [\d.]+ KiB, [\d.]+ KiB gzip/);
    // ws masks the link's frames with firmware-shims/build/ws-mask.ts, not bufferutil's byte loop;
    // the forwarding below goes through it to central.
    const bundle = readFileSync(path.join(release, 'siem-gateway.mjs'), 'utf8');
    assert.match(bundle, /\/\/ firmware-shims\/build\/ws-mask\.ts/);
    assert.doesNotMatch(bundle, /node_modules\/bufferutil/);
    c = await startTestCentral({ type: 'pglite' }, { gatewayId: 'gw-seed' });
    mkdirSync(root);
    httpPort = await freePort();
    syslogPort = await freePort();
  });
  after(async () => {
    await c?.central.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const writeConfig = (extra = '') =>
    writeFileSync(
      config,
      [
        `gateway: { id: gw-installed, data_dir: ${path.join(root, 'var', 'lib', 'siem-gateway')} }`,
        `sources: { udp: { type: syslog, mode: udp, listen: "127.0.0.1:${syslogPort}" }${extra} }`,
        `central: { endpoint: "${c.central.linkUrl()}", initial_backoff_secs: 0.05, max_backoff_secs: 0.5 }`,
        `http: { listen: "127.0.0.1:${httpPort}" }`,
        'log: { level: error }',
      ].join('\n'),
    );

  const startInstalled = () => {
    const child = spawn(
      path.join(root, 'opt', 'siem-gateway', 'current', 'siem-gateway'),
      ['run', '--config', config],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const output = { out: '', err: '' };
    child.stdout?.on('data', (d) => {
      output.out += d;
    });
    child.stderr?.on('data', (d) => {
      output.err += d;
    });
    return { child, output };
  };

  it('installs into a root, enrolls on first start from a token file, forwards, reloads on SIGHUP, stops cleanly', async () => {
    const { token } = await c.central.registry.createEnrollmentToken({
      gatewayId: 'gw-installed',
      ttlSecs: 300,
      now: new Date(),
    });
    const tokenFile = path.join(work, 'token');
    writeFileSync(tokenFile, `${token}\n`);
    const installed = await run(path.join(release, 'install.sh'), [
      '--root',
      root,
      '--token-file',
      tokenFile,
    ]);
    assert.match(installed.stdout, /release .* installed/);
    assert.equal(readlinkSync(path.join(root, 'opt', 'siem-gateway', 'current')), `releases/${version}`);
    const stored = path.join(root, 'var', 'lib', 'siem-gateway', 'enrollment-token');
    assert.equal(statSync(stored).mode & 0o777, 0o600);
    assert.ok(existsSync(config), 'a config was written from the example');
    writeConfig();

    const { child, output } = startInstalled();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => (output.out.includes('http:') ? true : undefined), {
        timeoutMs: 30_000,
        what: `the installed gateway to start (stderr: ${output.err})`,
      });
      assert.match(output.out, /enrolled as "gw-installed"/);
      assert.equal(existsSync(stored), false, 'the spent token is deleted');
      const credentials = path.join(root, 'var', 'lib', 'siem-gateway', 'credentials.json');
      assert.equal(statSync(credentials).mode & 0o777, 0o600);

      const socket = dgram.createSocket('udp4');
      socket.send(
        '<134>1 2026-11-21T10:00:00Z plc-3 hmi - - - installed gateway works',
        syslogPort,
        '127.0.0.1',
      );
      await waitFor(
        async () => ((await c.events('q=installed%20gateway%20works')).length === 1 ? true : undefined),
        {
          what: 'the message at central',
        },
      );
      socket.close();

      // The installed release serves its device dashboard (found beside siem-gateway.mjs).
      const page = await fetch(`http://127.0.0.1:${httpPort}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /app\.js/);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      const script = await fetch(`http://127.0.0.1:${httpPort}/app.js`);
      assert.equal(script.status, 200);
      assert.ok((await script.arrayBuffer()).byteLength > 10_000, 'the bundled page script');

      const tcpPort = await freePort();
      writeConfig(`, tcp: { type: syslog, mode: tcp, listen: "127.0.0.1:${tcpPort}" }`);
      child.kill('SIGHUP');
      await waitFor(() => (output.out.includes('config reloaded') ? true : undefined), {
        what: 'the reload',
      });
      assert.match(output.out, new RegExp(`syslog tcp on 127\\.0\\.0\\.1:${tcpPort}`));
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `clean exit; stderr: ${output.err}`);
  });

  it('the systemd unit passes systemd-analyze verify', async (t) => {
    if (!requireTool(t, 'systemd-analyze', 'systemd')) return;
    // verify checks that ExecStart exists: point the unit's absolute paths into the temp root.
    const unit = readFileSync(path.join(root, 'etc', 'systemd', 'system', 'siem-gateway.service'), 'utf8');
    const copy = path.join(work, 'siem-gateway.service');
    writeFileSync(copy, unit.replaceAll('/opt/siem-gateway', path.join(root, 'opt', 'siem-gateway')));
    const result = await run('systemd-analyze', ['verify', copy]).catch(
      (e: { stderr: string; code: number }) => e,
    );
    assert.equal('code' in result ? result.code : 0, 0, 'stderr' in result ? result.stderr : '');
    assert.match(unit, /NoNewPrivileges=yes/);
    assert.match(unit, /AmbientCapabilities=CAP_NET_BIND_SERVICE/);
    assert.match(unit, /WatchdogSec=/);
    assert.match(unit, /Restart=on-failure/);
  });

  it('rolls an upgrade back when the new release does not become healthy, and keeps a healthy one', async () => {
    writeConfig();
    // How the test "service manager" restarts the gateway: kill the running one, start `current`.
    const pidFile = path.join(work, 'gateway.pid');
    const restart = path.join(work, 'restart.sh');
    writeFileSync(
      restart,
      [
        '#!/bin/sh',
        `[ -f ${pidFile} ] && kill "$(cat ${pidFile})" 2>/dev/null && sleep 0.5`,
        `${path.join(root, 'opt', 'siem-gateway', 'current', 'siem-gateway')} run --config ${config} >/dev/null 2>&1 &`,
        `echo $! > ${pidFile}`,
      ].join('\n'),
    );
    chmodSync(restart, 0o755);
    const env = {
      ...process.env,
      SIEM_RESTART_CMD: restart,
      SIEM_HEALTH_URL: `http://127.0.0.1:${httpPort}/healthz`,
      SIEM_HEALTH_TIMEOUT: '8',
    };
    const makeRelease = (name: string, broken: boolean) => {
      const dir = path.join(work, name);
      cpSync(release, dir, { recursive: true });
      writeFileSync(path.join(dir, 'VERSION'), `${name}\n`);
      if (broken)
        writeFileSync(path.join(dir, 'siem-gateway'), '#!/bin/sh\necho "broken build" >&2\nexit 1\n');
      return dir;
    };
    try {
      await run(path.join(release, 'install.sh'), ['--root', root], { env });
      const broken = makeRelease('9.9.9-broken', true);
      const failed = await run(path.join(broken, 'install.sh'), ['--root', root], { env }).then(
        () => assert.fail('the broken upgrade must fail'),
        (e: { code: number; stderr: string }) => e,
      );
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /rolled back to releases\/0\.1\.0/);
      assert.equal(readlinkSync(path.join(root, 'opt', 'siem-gateway', 'current')), `releases/${version}`);
      const health = await waitFor(
        () =>
          fetch(`http://127.0.0.1:${httpPort}/healthz`)
            .then((r) => (r.ok ? true : undefined))
            .catch(() => undefined),
        { what: 'the rolled-back gateway to answer' },
      );
      assert.equal(health, true);

      const good = makeRelease('9.9.10', false);
      await run(path.join(good, 'install.sh'), ['--root', root], { env });
      assert.equal(readlinkSync(path.join(root, 'opt', 'siem-gateway', 'current')), 'releases/9.9.10');
      assert.equal(readlinkSync(path.join(root, 'opt', 'siem-gateway', 'previous')), `releases/${version}`);
    } finally {
      if (existsSync(pidFile)) {
        try {
          process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
  });
});
