/**
 * `npm run build:gateway`: bundles the gateway into one ES module, dist/gateway/siem-gateway.mjs,
 * with esbuild. Native modules (LevelDB, serial port) stay external and load their prebuilt
 * binaries from node_modules. No TypeScript compiler at run time: a smaller, faster-starting
 * process than running the sources through tsx.
 */
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outfile = path.join(root, 'dist', 'gateway', 'siem-gateway.mjs');
const result = await build({
  entryPoints: [path.join(root, 'gateway', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  external: ['classic-level', 'serialport', '@serialport/*'],
  // Some bundled CommonJS dependencies call require(); give the ES module one.
  banner: {
    js: "import { createRequire as __siemRequire } from 'node:module'; const require = __siemRequire(import.meta.url);",
  },
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`${path.relative(root, outfile)}: ${(bytes / 1024 / 1024).toFixed(1)} MiB (with source map)`);
