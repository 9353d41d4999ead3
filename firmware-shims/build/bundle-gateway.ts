/**
 * `npm run build:gateway`: the gateway as one artefact per target. esbuild bundles the whole
 * gateway into one ES module; the native modules it needs (LevelDB; the serial port for Modbus
 * RTU) stay external and are copied with their dependency closure, keeping only the prebuilt
 * binary of the target, so nothing is compiled on the box. Each target is packed as
 * dist/siem-gateway-<version>-<target>.tar.gz with the install script, the systemd unit and the
 * built device dashboard (`dashboards/gateway/` beside siem-gateway.mjs, where gateway/http/static.ts
 * looks for it; the gzip size of each page's JS and CSS is printed, issue 8).
 * Pass `--targets linux-x64` to build fewer, `--no-pack` to stop after the bundle.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { buildDashboards } from '../../dashboards/build.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
const NATIVE = ['classic-level', 'serialport'];
/** Target name → the directory name of prebuilds in the native packages. */
const TARGETS: Record<string, string> = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'linux-armv7': 'linux-arm',
};

const { values } = parseArgs({
  options: { targets: { type: 'string' }, 'no-pack': { type: 'boolean' } },
});
const targets = values.targets ? values.targets.split(',') : Object.keys(TARGETS);
for (const t of targets)
  if (!TARGETS[t]) throw new Error(`unknown target ${t}; known: ${Object.keys(TARGETS).join(', ')}`);

const dist = path.join(root, 'dist');
const outfile = path.join(dist, 'gateway', 'siem-gateway.mjs');
await build({
  entryPoints: [path.join(root, 'gateway', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external: [...NATIVE, '@serialport/*'],
  // ws's optional native masking: word-at-a-time JavaScript instead of bufferutil's byte loop.
  alias: { bufferutil: path.join(root, 'firmware-shims', 'build', 'ws-mask.ts') },
  // Some bundled CommonJS dependencies call require(); give the ES module one.
  banner: {
    js: "import { createRequire as __siemRequire } from 'node:module'; const require = __siemRequire(import.meta.url);",
  },
  logLevel: 'warning',
  // V8 keeps a script's source in the heap, two bytes a character if one character is beyond
  // Latin-1: ASCII keeps the bundle's 3 MB of source at one byte a character (issue 9 footprint).
  charset: 'ascii',
});
// esbuild keeps some comments verbatim; a non-ASCII character in one would still make the whole
// source two-byte. One '?' per UTF-16 unit keeps every column, so the source map stays right.
writeFileSync(outfile, readFileSync(outfile, 'utf8').replace(/[^\x00-\x7f]/g, '?'));
console.log(`${path.relative(root, outfile)}: ${(statSync(outfile).size / 1024 / 1024).toFixed(1)} MiB`);

// The device dashboard beside the bundle (gateway/http/static.ts: `dashboards/gateway/` next to it).
const dashboardOut = mkdtempSync(path.join(tmpdir(), 'siem-dashboards-'));
const dashboardFiles = (await buildDashboards(dashboardOut)).filter((f) => f.dashboard === 'gateway');
const dashboard = path.join(dist, 'gateway', 'dashboards', 'gateway');
rmSync(dashboard, { recursive: true, force: true });
cpSync(path.join(dashboardOut, 'gateway'), dashboard, { recursive: true });
rmSync(dashboardOut, { recursive: true, force: true });
if (!existsSync(path.join(dashboard, 'index.html'))) throw new Error(`no dashboard built in ${dashboard}`);
for (const f of dashboardFiles.filter((x) => /\.(js|css)$/.test(x.file))) {
  console.log(
    `${path.relative(root, path.join(dashboard, f.file))}: ${(f.bytes / 1024).toFixed(1)} KiB, ${(f.gzip_bytes / 1024).toFixed(1)} KiB gzip`,
  );
}
if (values['no-pack']) process.exit(0);

/** The package directories a native module needs at run time, by walking `dependencies`. */
function closure(names: string[]): string[] {
  const seen = new Map<string, string>();
  const visit = (name: string, from: string) => {
    if (seen.has(name)) return;
    const req = createRequire(path.join(from, 'package.json'));
    let manifest: string;
    try {
      manifest = req.resolve(`${name}/package.json`);
    } catch {
      return; // optional and absent
    }
    const dir = path.dirname(manifest);
    seen.set(name, dir);
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir);
  };
  for (const name of names) visit(name, root);
  return [...seen.values()];
}

const packages = closure(NATIVE);
for (const target of targets) {
  const name = `siem-gateway-${version}-${target}`;
  const stage = path.join(dist, 'stage', name);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(path.join(stage, 'node_modules'), { recursive: true });
  cpSync(outfile, path.join(stage, 'siem-gateway.mjs'));
  cpSync(dashboard, path.join(stage, 'dashboards', 'gateway'), { recursive: true });
  for (const dir of packages) {
    const rel = path.relative(path.join(root, 'node_modules'), dir);
    cpSync(dir, path.join(stage, 'node_modules', rel), {
      recursive: true,
      // Only this target's prebuilt binary; no sources, tests or other platforms.
      filter: (src) => {
        const inside = path.relative(dir, src);
        const parts = inside.split(path.sep);
        if (parts[0] === 'prebuilds' && parts.length > 1 && parts[1] !== TARGETS[target]) return false;
        return (
          !['src', 'deps', 'test', 'tests', 'docs', 'build'].includes(parts[0] ?? '') || parts.length === 0
        );
      },
    });
  }
  for (const file of ['install.sh', 'siem-gateway.service', 'siem-gateway']) {
    cpSync(path.join(root, 'firmware-shims', 'install', file), path.join(stage, file));
  }
  chmodSync(path.join(stage, 'install.sh'), 0o755);
  chmodSync(path.join(stage, 'siem-gateway'), 0o755);
  cpSync(path.join(root, 'gateway', 'config', 'example.yaml'), path.join(stage, 'gateway.example.yaml'));
  writeFileSync(path.join(stage, 'VERSION'), `${version}\n`);
  const tarball = path.join(dist, `${name}.tar.gz`);
  execFileSync('tar', ['-C', path.join(dist, 'stage'), '-czf', tarball, name]);
  const size = statSync(tarball).size;
  console.log(`${path.relative(root, tarball)}: ${(size / 1024 / 1024).toFixed(2)} MiB`);
  if (!existsSync(tarball)) throw new Error(`${tarball} was not written`);
}
rmSync(path.join(dist, 'stage'), { recursive: true, force: true });
