/**
 * Loading rule directories: every `*.yml`/`*.yaml` under the given directories (recursively),
 * merged into one engine. A thin I/O adapter over the pure loader, shared by the gateway (edge
 * rules) and central (cross-gateway rules). Unreadable directories and refused rules are reported,
 * never thrown: the rest still runs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { EventSource } from '../event/schema.ts';
import { createSigmaEngine, type SigmaEngine } from './engine.ts';
import { loadSigma, mergeLoadResults } from './load.ts';
import type { SigmaError } from './types.ts';

export interface RuleDirectoryOptions {
  rulesDirs: readonly string[];
  fieldMap?: Record<string, string>;
  logsources?: Record<string, EventSource[]>;
  alertWindowMs?: number;
}

export interface LoadedRules {
  engine: SigmaEngine;
  files: string[];
  /** Rules and files refused, each with the reason. */
  errors: Array<{ file?: string; message: string }>;
}

const RULE_FILE = /\.ya?ml$/i;

function ruleFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...ruleFiles(full));
    else if (RULE_FILE.test(entry.name)) out.push(full);
  }
  return out.sort();
}

export function loadRuleDirectories(options: RuleDirectoryOptions): LoadedRules {
  const errors: LoadedRules['errors'] = [];
  const files: string[] = [];
  for (const dir of options.rulesDirs) {
    try {
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      files.push(...ruleFiles(dir));
    } catch (error) {
      errors.push({ file: dir, message: `cannot read rules directory: ${(error as Error).message}` });
    }
  }
  const merged = mergeLoadResults(
    files.map((file) => loadSigma(readFileSync(file, 'utf8'), { source: file })),
  );
  const engine = createSigmaEngine(merged, {
    fieldMap: options.fieldMap,
    // The gateway's and central's own events (new devices, evictions, refusals) have logsources too.
    logsources: { 'product:gateway': ['gateway'], 'product:central': ['central'], ...options.logsources },
    alertWindowMs: options.alertWindowMs,
  });
  const describe = (e: SigmaError) => ({
    file: e.document !== undefined ? String(e.document) : undefined,
    message: `${e.rule ? `${e.rule}: ` : ''}${e.message}`,
  });
  errors.push(...merged.errors.map(describe), ...engine.errors.map(describe));
  return { engine, files, errors };
}
