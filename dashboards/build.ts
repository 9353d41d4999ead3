/**
 * Builds the two dashboards into static files the servers serve as they are: one bundled,
 * minified JavaScript file per page set (Preact, uPlot), the HTML shell and the CSS, with no
 * asset from the internet. `buildDashboards()` is called by `npm start`, by the test runner and
 * by the gateway artefact build; `npx tsx dashboards/build.ts` runs it by hand and prints each
 * file's gzip size.
 */
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const DASHBOARDS = ['central', 'gateway'] as const;
export type DashboardName = (typeof DASHBOARDS)[number];
/** Where the built dashboards land (served from here unless config says otherwise). */
export const DEFAULT_DASHBOARD_OUT = path.resolve(HERE, '..', 'dist', 'dashboards');

export interface DashboardFile {
  dashboard: DashboardName;
  file: string;
  bytes: number;
  gzip_bytes: number;
}

export async function buildDashboards(outDir = DEFAULT_DASHBOARD_OUT): Promise<DashboardFile[]> {
  const files: DashboardFile[] = [];
  for (const name of DASHBOARDS) {
    const src = path.join(HERE, name);
    const out = path.join(outDir, name);
    mkdirSync(out, { recursive: true });
    if (!existsSync(path.join(src, 'src', 'main.tsx'))) continue;
    await build({
      entryPoints: [path.join(src, 'src', 'main.tsx')],
      outfile: path.join(out, 'app.js'),
      bundle: true,
      minify: true,
      format: 'esm',
      target: 'es2020',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      tsconfig: path.join(HERE, 'tsconfig.json'),
      logLevel: 'warning',
      legalComments: 'none',
    });
    // Static files (index.html, CSS, icons) are copied as they are.
    for (const dir of [path.join(HERE, 'shared', 'static'), path.join(src, 'static')]) {
      if (!existsSync(dir)) continue;
      for (const entry of readdirSync(dir)) copyFileSync(path.join(dir, entry), path.join(out, entry));
    }
    for (const entry of readdirSync(out)) {
      const full = path.join(out, entry);
      if (!statSync(full).isFile()) continue;
      const body = readFileSync(full);
      files.push({ dashboard: name, file: entry, bytes: body.length, gzip_bytes: gzipSync(body).length });
    }
  }
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = await buildDashboards(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  for (const f of files) console.log(`${f.dashboard}/${f.file}\t${f.bytes} B\t${f.gzip_bytes} B gzip`);
}
