/**
 * `npm run test:data`: fetches the third-party files the tests read (tests/data/MANIFEST.tsv)
 * into the git-ignored `.data/test-data/`, for a clone that has no `../shared/data` beside it.
 * Each upstream file comes from `<base>/<repo>/<commit>/<upstream_path>` (base:
 * SIEM_TEST_DATA_BASE_URL, default https://raw.githubusercontent.com); each derived one is
 * regenerated with its recorded command when that tool is installed. Every file is checked
 * against its sha256 before it is put in place: a mismatch is reported and the file refused.
 * Exit 0 when every file is present and verified.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveIcsAttackTechniques } from './derive-mitre.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MANIFEST = path.join(HERE, 'MANIFEST.tsv');
export const DEFAULT_BASE_URL = 'https://raw.githubusercontent.com';

export interface ManifestEntry {
  path: string;
  repo: string;
  commit: string;
  upstreamPath: string;
  sha256: string;
  bytes: number;
  licence: string;
  /** Empty for a file copied unchanged; else the command (run in the data folder) that makes it. */
  derive: string;
}

const COLUMNS = ['path', 'repo', 'commit', 'upstream_path', 'sha256', 'bytes', 'licence', 'derive'];

export function readManifest(file = MANIFEST): ManifestEntry[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.shift() !== COLUMNS.join('\t'))
    throw new Error(`${file}: expected the header ${COLUMNS.join(' ')}`);
  return lines.map((line, i) => {
    const c = line.split('\t');
    if (c.length !== COLUMNS.length) throw new Error(`${file}: row ${i + 1} has ${c.length} columns`);
    const entry = {
      path: c[0]!,
      repo: c[1]!,
      commit: c[2]!,
      upstreamPath: c[3]!,
      sha256: c[4]!,
      bytes: Number(c[5]),
      licence: c[6]!,
      derive: c[7]!,
    };
    // A path leaving the data folder would let a manifest row write anywhere.
    if (path.isAbsolute(entry.path) || entry.path.split('/').includes('..'))
      throw new Error(`${file}: row ${i + 1}: path ${entry.path} must stay inside the data folder`);
    if (!/^[0-9a-f]{64}$/.test(entry.sha256)) throw new Error(`${file}: row ${i + 1}: bad sha256`);
    return entry;
  });
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export interface FetchResult {
  /** Already present and verified. */
  present: string[];
  fetched: string[];
  derived: string[];
  /** Path → why it is not there (download failed, sha256 mismatch, tool missing). */
  failed: Map<string, string>;
}

export interface FetchOptions {
  dest: string;
  entries: ManifestEntry[];
  baseUrl?: string;
  /** Downloads at once. */
  concurrency?: number;
  log?: (line: string) => void;
}

export async function fetchData(options: FetchOptions): Promise<FetchResult> {
  const { dest, entries, baseUrl = DEFAULT_BASE_URL, concurrency = 8, log = () => {} } = options;
  const result: FetchResult = { present: [], fetched: [], derived: [], failed: new Map() };
  const todo: ManifestEntry[] = [];
  for (const e of entries) {
    const file = path.join(dest, e.path);
    if (existsSync(file) && sha256(readFileSync(file)) === e.sha256) result.present.push(e.path);
    else todo.push(e);
  }
  // Upstream files first: derived ones are made from them.
  const upstream = todo.filter((e) => !e.derive);
  let next = 0;
  const worker = async () => {
    while (next < upstream.length) {
      const e = upstream[next++]!;
      const url = `${baseUrl.replace(/\/$/, '')}/${e.repo}/${e.commit}/${e.upstreamPath}`;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
        place(dest, e, new Uint8Array(await res.arrayBuffer()));
        result.fetched.push(e.path);
        log(`fetched  ${e.path}`);
      } catch (error) {
        result.failed.set(e.path, (error as Error).message);
        log(`FAILED   ${e.path}: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, upstream.length) }, worker));
  for (const e of todo.filter((x) => x.derive)) {
    try {
      place(dest, e, await derive(dest, e, baseUrl));
      result.derived.push(e.path);
      log(`derived  ${e.path}`);
    } catch (error) {
      result.failed.set(e.path, (error as Error).message);
      log(`FAILED   ${e.path}: ${(error as Error).message}`);
    }
  }
  return result;
}

/** Writes `bytes` as the entry's file, only when they hash to its sha256 (never a wrong file). */
function place(dest: string, e: ManifestEntry, bytes: Uint8Array): void {
  const got = sha256(bytes);
  if (got !== e.sha256)
    throw new Error(`sha256 mismatch: expected ${e.sha256}, got ${got} (${bytes.length} bytes); refused`);
  const file = path.join(dest, e.path);
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.part`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}

/** Regenerates a derived file: a shell command run in the data folder, or a built-in transform. */
async function derive(dest: string, e: ManifestEntry, baseUrl: string): Promise<Uint8Array> {
  const builtin = /^ics-attack-techniques ([\w.-]+\/[\w.-]+)@([0-9a-f]{40}) (\S+)$/.exec(e.derive);
  if (builtin) {
    const url = `${baseUrl.replace(/\/$/, '')}/${builtin[1]}/${builtin[2]}/${builtin[3]}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
    return new TextEncoder().encode(deriveIcsAttackTechniques(await res.json()));
  }
  const tool = e.derive.split(' ')[0]!;
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    throw new Error(
      `${tool} not installed, cannot regenerate it (sudo apt-get install ${tool}): ${e.derive}`,
    );
  }
  const run = spawnSync('sh', ['-c', e.derive], { cwd: dest, maxBuffer: 256 << 20 });
  if (run.status !== 0) throw new Error(`${tool} exited ${run.status}: ${run.stderr.toString().trim()}`);
  return run.stdout;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const { FETCHED_DATA } = await import('../support/env.ts');
  const dest = path.resolve(flag('--dest') ?? FETCHED_DATA);
  const entries = readManifest(flag('--manifest') ?? MANIFEST);
  const baseUrl = process.env.SIEM_TEST_DATA_BASE_URL ?? DEFAULT_BASE_URL;
  console.log(`» test data: ${entries.length} files into ${dest} from ${baseUrl}`);
  const r = await fetchData({ dest, entries, baseUrl, log: (l) => console.log(`  ${l}`) });
  console.log(
    `» ${r.present.length} already there, ${r.fetched.length} fetched, ${r.derived.length} derived, ${r.failed.size} failed`,
  );
  for (const [file, why] of r.failed) console.error(`  not there: ${file}: ${why}`);
  process.exit(r.failed.size === 0 ? 0 : 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
