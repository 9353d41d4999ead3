/**
 * What a contributor sees after `git clone` on a machine without the peers or the data: part of
 * the suite (replay, browser, an mbpoll interop file, the data manifest) runs in a copy of the
 * repository's tracked files, with a PATH that finds no chromium, rsyslogd, mbpoll or tshark,
 * no ../shared/data beside it and nothing fetched. The run must exit 0, each skip line must name
 * what is missing and the command that provides it, and the closing table must list each
 * missing thing. Under CI=true the same run must fail instead.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, requireTool, skipUnmet, whichTool } from '../support/env.ts';

const SELECTION = ['tests/gateway/replay/', 'tests/e2e/', 'tests/interop/modbus-plc'];

function runSuite(cwd: string, env: NodeJS.ProcessEnv, filters: string[]) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/run.ts', ...filters], { cwd, env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // 'close', not 'exit': the output may still be arriving when the process has exited.
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

describe('the suite in a fresh clone without peers or data', () => {
  let work: string;
  let clone: string;
  let env: NodeJS.ProcessEnv | undefined;

  before((s) => {
    if (!requireTool(s, 'git', 'git')) return;
    work = mkdtempSync(path.join(tmpdir(), 'siem-fresh-'));
    clone = path.join(work, 'clone');
    // The files of this checkout that git would commit (tracked, or new and not ignored): what a
    // clone of it holds. Nothing ignored comes along: no node_modules, no .data/test-data.
    const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).split('\0');
    for (const file of tracked) {
      const from = path.join(REPO_ROOT, file);
      if (!file || !existsSync(from) || !statSync(from).isFile()) continue;
      mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
      cpSync(from, path.join(clone, file));
    }
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(clone, 'node_modules'));
    // A PATH holding only node and sh: every peer tool is missing, whatever this machine has.
    const bin = path.join(work, 'bin');
    mkdirSync(bin);
    for (const tool of ['sh', 'node'])
      symlinkSync(tool === 'node' ? process.execPath : whichTool(tool)!, path.join(bin, tool));
    const clean: NodeJS.ProcessEnv = { ...process.env, PATH: bin };
    for (const name of ['CI', 'SIEM_SHARED_DATA', 'SIEM_CHROMIUM', 'NODE_TEST_CONTEXT', 'NODE_OPTIONS'])
      delete clean[name];
    env = clean;
  });
  after(() => work && rmSync(work, { recursive: true, force: true }));

  it(
    'exits 0 and names each missing thing with the command that provides it',
    { timeout: 180_000 },
    async (t) => {
      if (!env) return skipUnmet(t);
      const { code, out } = await runSuite(clone, env, SELECTION);
      const lines = out.trimEnd().split('\n');
      assert.equal(code, 0, out.slice(-3000));
      const last = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/.exec(lines.at(-1)!);
      assert.ok(last, `last line: ${lines.at(-1)}`);
      assert.equal(last[2], '0');
      assert.ok(Number(last[1]) > 0 && Number(last[3]) > 20, lines.at(-1));

      const table = lines.slice(lines.indexOf('» skipped, and why:'));
      assert.ok(table.length > 2, out.slice(-3000));
      for (const [what, command] of [
        ['chromium', 'sudo apt-get install chromium'],
        ['mbpoll', 'sudo apt-get install mbpoll'],
        ['third-party test data', 'npm run test:data'],
      ] as const)
        assert.ok(
          table.some((l) => l.trim().startsWith(what) && l.trimEnd().endsWith(command)),
          `no row for ${what} → ${command} in\n${table.join('\n')}`,
        );
      assert.ok(!table.some((l) => l.includes('(other)')), `a skip without its reason:\n${table.join('\n')}`);
      // The spec reporter's skip lines: each names what is missing and how to get it.
      const skips = lines.filter((l) => /^\s*﹣ /.test(l));
      assert.ok(skips.length > 20, `${skips.length} skip lines`);
      for (const l of skips) assert.match(l, /# missing .+: .+; get it with: .+$/, l);
    },
  );

  it('fails under CI=true, where nothing may skip', { timeout: 120_000 }, async (t) => {
    if (!env) return skipUnmet(t);
    const { code, out } = await runSuite(clone, { ...env, CI: 'true' }, ['tests/e2e/central-rules']);
    assert.equal(code, 1, out.slice(-2000));
    assert.match(out.trimEnd().split('\n').at(-1)!, /^tests: 0 passed, [1-9]\d* failed, \d+ skipped$/);
  });
});
