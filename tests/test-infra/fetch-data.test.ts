/**
 * `npm run test:data` (tests/data/fetch.ts) against a loopback HTTP server standing in for
 * raw.githubusercontent.com: it fetches the manifest's files into the given folder, checks each
 * sha256 and refuses a file whose bytes do not match, regenerates derived files with their
 * command (and says which tool is missing), and fetches nothing again on a second run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { fetchData, type ManifestEntry, readManifest, sha256 } from '../data/fetch.ts';
import { REPO_ROOT, sharedData } from '../support/env.ts';

const COMMIT = 'a'.repeat(40);
const entry = (p: string, content: string, derive = ''): ManifestEntry => ({
  path: p,
  repo: 'upstream/project',
  commit: COMMIT,
  upstreamPath: `testing/${p}`,
  sha256: sha256(Buffer.from(content)),
  bytes: content.length,
  licence: 'MIT',
  derive,
});

const GOOD = entry('proto/trace.pcap', 'pcap bytes\n');
const ALSO_GOOD = entry('proto/expected/trace.log', 'expected output\n');
// Served with other bytes than the manifest records: the fetcher must refuse it.
const TAMPERED = entry('proto/tampered.pcap', 'the bytes the manifest pinned\n');
const ABSENT = entry('proto/absent.pcap', 'never served\n');
// Derived from GOOD by a command run in the data folder.
const DERIVED = entry('proto/expected-tshark/trace.csv', 'PCAP BYTES\n', "tr 'a-z' 'A-Z' < proto/trace.pcap");
const NO_TOOL = entry('proto/expected-tshark/other.csv', 'x\n', 'no-such-deriver-tool -r proto/trace.pcap');

describe('test data fetcher against a loopback server', () => {
  let server: Server;
  let base: string;
  const requests: string[] = [];
  const served = new Map<string, string>([
    [`/upstream/project/${COMMIT}/testing/${GOOD.path}`, 'pcap bytes\n'],
    [`/upstream/project/${COMMIT}/testing/${ALSO_GOOD.path}`, 'expected output\n'],
    [`/upstream/project/${COMMIT}/testing/${TAMPERED.path}`, 'other bytes, same name\n'],
  ]);
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'siem-fetch-'));
    dirs.push(d);
    return d;
  };

  before(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const body = served.get(req.url ?? '');
      res.statusCode = body === undefined ? 404 : 200;
      res.end(body === undefined ? 'not found' : Buffer.from(body, 'latin1'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('fetches and verifies, refuses a wrong sha256, derives, and reports what is not there', async () => {
    const dest = tempDir();
    const r = await fetchData({
      dest,
      baseUrl: base,
      entries: [GOOD, ALSO_GOOD, TAMPERED, ABSENT, DERIVED, NO_TOOL],
    });
    assert.deepEqual(r.fetched.sort(), [ALSO_GOOD.path, GOOD.path]);
    assert.equal(readFileSync(path.join(dest, GOOD.path), 'utf8'), 'pcap bytes\n');
    assert.deepEqual(r.derived, [DERIVED.path]);
    assert.equal(readFileSync(path.join(dest, DERIVED.path), 'utf8'), 'PCAP BYTES\n');

    assert.match(r.failed.get(TAMPERED.path) ?? '', /sha256 mismatch.*refused/);
    assert.equal(existsSync(path.join(dest, TAMPERED.path)), false, 'a tampered file must not be kept');
    assert.equal(existsSync(path.join(dest, `${TAMPERED.path}.part`)), false);
    assert.match(r.failed.get(ABSENT.path) ?? '', /HTTP 404/);
    assert.match(r.failed.get(NO_TOOL.path) ?? '', /no-such-deriver-tool not installed/);
    assert.equal(r.failed.size, 3);

    // A second run finds the verified files in place and downloads none of them again.
    const before = requests.length;
    const again = await fetchData({ dest, baseUrl: base, entries: [GOOD, ALSO_GOOD, DERIVED] });
    assert.deepEqual(again.present.sort(), [ALSO_GOOD.path, DERIVED.path, GOOD.path].sort());
    assert.equal(requests.length, before);
  });

  it('fetches real manifest rows from a copy of their upstream files, at their pinned revision', async (t) => {
    const rows = readManifest().filter((e) =>
      ['mqtt/zeek/mqtt.pcap', 'syslog/zeek/syslog-single-udp.pcap', 'ndpi/syslog.pcap'].includes(e.path),
    );
    assert.equal(rows.length, 3);
    for (const e of rows) {
      const copy = sharedData(t, ...e.path.split('/'));
      if (!copy) return;
      served.set(`/${e.repo}/${e.commit}/${e.upstreamPath}`, readFileSync(copy, 'latin1'));
    }
    const dest = tempDir();
    const r = await fetchData({ dest, baseUrl: base, entries: rows });
    assert.deepEqual(r.failed, new Map());
    assert.equal(r.fetched.length, 3);
    for (const e of rows) assert.equal(sha256(readFileSync(path.join(dest, e.path))), e.sha256);
  });

  it('replaces a local file whose sha256 no longer matches', async () => {
    const dest = tempDir();
    await fetchData({ dest, baseUrl: base, entries: [GOOD] });
    writeFileSync(path.join(dest, GOOD.path), 'edited by hand\n');
    const r = await fetchData({ dest, baseUrl: base, entries: [GOOD] });
    assert.deepEqual(r.fetched, [GOOD.path]);
    assert.equal(readFileSync(path.join(dest, GOOD.path), 'utf8'), 'pcap bytes\n');
  });

  it('as `npm run test:data`: SIEM_TEST_DATA_BASE_URL, exit 1 naming the refused file, 0 when all verify', async () => {
    const dest = tempDir();
    const manifest = (entries: ManifestEntry[]) => {
      const file = path.join(tempDir(), 'MANIFEST.tsv');
      const rows = entries.map((e) =>
        [e.path, e.repo, e.commit, e.upstreamPath, e.sha256, e.bytes, e.licence, e.derive].join('\t'),
      );
      writeFileSync(
        file,
        [
          '# a comment',
          'path\trepo\tcommit\tupstream_path\tsha256\tbytes\tlicence\tderive',
          ...rows,
          '',
        ].join('\n'),
      );
      return file;
    };
    const cli = (manifestFile: string) =>
      promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'tests/data/fetch.ts', '--manifest', manifestFile, '--dest', dest],
        { cwd: REPO_ROOT, env: { ...process.env, SIEM_TEST_DATA_BASE_URL: base } },
      ).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );

    const bad = await cli(manifest([GOOD, TAMPERED]));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not there: proto\/tampered\.pcap: sha256 mismatch/);
    assert.match(bad.stdout, new RegExp(`from ${base}`));

    const good = await cli(manifest([GOOD, ALSO_GOOD]));
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /1 already there, 1 fetched, 0 derived, 0 failed/);
  });

  it('refuses a manifest row whose path leaves the data folder', async () => {
    const file = path.join(tempDir(), 'MANIFEST.tsv');
    writeFileSync(
      file,
      `path\trepo\tcommit\tupstream_path\tsha256\tbytes\tlicence\tderive\n../../etc/x\tr/p\t${COMMIT}\tx\t${GOOD.sha256}\t1\tMIT\t\n`,
    );
    assert.throws(() => readManifest(file), /must stay inside the data folder/);
  });
});
